//! Several instances over one PostgreSQL database, and the single-instance rules
//! that go with it: exactly-once refresh, readiness, outages, one server per SQLite file.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use admit_server::{Server, Settings};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::browser::{Browser, param};
use crate::code_flow::{CB, CHALLENGE, VERIFIER, urlencode};
use crate::harness::{PASSWORD, eventually, printed_secret, provisioned, run_admit, start_with};
use crate::postgres::{drop_database, fresh_database};

/// The public URL all instances share, as behind a load balancer.
const ISSUER: &str = "http://admit.test";

struct Cluster {
    instances: Vec<Server>,
    database_url: String,
    database: String,
    master_key: String,
    _dirs: Vec<tempfile::TempDir>,
}

impl Cluster {
    /// `n` instances started at the same moment on one fresh database (their
    /// migrations run once, under sqlx's advisory lock), sharing the master key.
    /// `database_url` may point at a proxy in front of the real server.
    async fn start(n: usize, database: (String, String), via: Option<String>) -> Cluster {
        let master_key = admit_server::random_token::<32>();
        let url = via.unwrap_or_else(|| database.0.clone());
        let dirs: Vec<_> = (0..n).map(|_| tempfile::tempdir().unwrap()).collect();
        let starts = dirs.iter().map(|dir| {
            let mut s = Settings::new("127.0.0.1:0".parse().unwrap(), dir.path().to_path_buf());
            s.issuer = ISSUER.to_owned();
            s.audience = ISSUER.to_owned();
            s.database_url = url.clone();
            s.master_key = Some(master_key.clone());
            s.password_hash_concurrency = 1;
            s.key_reload_interval = 1;
            admit_server::spawn(s)
        });
        let instances = futures::future::try_join_all(starts).await.unwrap();
        Cluster {
            instances,
            database_url: database.0,
            database: database.1,
            master_key,
            _dirs: dirs,
        }
    }

    fn url(&self, i: usize) -> String {
        format!("http://{}", self.instances[i % self.instances.len()].addr)
    }

    fn cli(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = run_admit(&self.database_url, args, stdin);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// alice, and a client `app` with the password and refresh grants; returns its secret.
    fn provision_app(&self) -> String {
        self.cli(
            &["user", "add", "alice", "--password-stdin"],
            Some(PASSWORD),
        );
        printed_secret(&self.cli(
            &[
                "client",
                "add",
                "app",
                "--grant",
                "password",
                "--grant",
                "refresh_token",
            ],
            None,
        ))
    }

    async fn stop(self) {
        for server in self.instances {
            server.shutdown().await;
        }
        drop_database(&self.database).await;
    }
}

async fn token(
    http: &reqwest::Client,
    at: &str,
    client: (&str, &str),
    form: &[(&str, &str)],
) -> (u16, Value) {
    let response = http
        .post(format!("{at}/oauth2/token"))
        .basic_auth(client.0, Some(client.1))
        .form(form)
        .send()
        .await
        .unwrap();
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_sessions_and_removals_cross_instances() {
    let Some(database) = fresh_database().await else {
        return;
    };
    let c = Cluster::start(3, database, None).await;
    c.cli(
        &["user", "add", "alice", "--password-stdin"],
        Some(PASSWORD),
    );
    let secret = printed_secret(&c.cli(
        &[
            "client",
            "add",
            "site",
            "--redirect-uri",
            CB,
            "--scope",
            "openid",
            "--skip-consent",
        ],
        None,
    ));
    let authorize = |at: String| {
        format!(
            "{at}/oauth2/authorize?response_type=code&client_id=site&redirect_uri={}&scope=openid&state=s&code_challenge={CHALLENGE}&code_challenge_method=S256",
            urlencode(CB)
        )
    };
    // Log in at instance 0.
    let mut browser = Browser::new();
    let page = browser.get(&authorize(c.url(0))).await;
    let form = [
        ("interaction", page.field("interaction")),
        ("csrf", page.field("csrf")),
        ("username", "alice".into()),
        ("password", PASSWORD.into()),
    ];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = browser.post(&format!("{}/login", c.url(0)), &form).await;
    let code = param(&done.location(), "code").unwrap();
    // The code issued by instance 0 is redeemed once at instance 1, never at 2.
    let http = reqwest::Client::new();
    let redeem = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("code_verifier", VERIFIER),
    ];
    assert_eq!(
        token(&http, &c.url(1), ("site", &secret), &redeem).await.0,
        200
    );
    assert_eq!(
        token(&http, &c.url(2), ("site", &secret), &redeem).await.0,
        400
    );
    // The session started at instance 0 is honoured at instance 2: no login page.
    let page = browser.get(&authorize(c.url(2))).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(param(&page.location(), "code").is_some());
    // A client removed at one place is gone everywhere within its cache's second.
    c.cli(&["client", "remove", "site"], None);
    for i in 0..3 {
        eventually("the removed client is refused everywhere", || async {
            token(&http, &c.url(i), ("site", &secret), &redeem).await.0 == 401
        })
        .await;
    }
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_storm_across_instances_rotates_exactly_once() {
    let Some(database) = fresh_database().await else {
        return;
    };
    let c = Cluster::start(3, database, None).await;
    let secret = c.provision_app();
    let http = reqwest::Client::new();
    let (_, login) = token(
        &http,
        &c.url(0),
        ("app", &secret),
        &[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", PASSWORD),
        ],
    )
    .await;
    let refresh = login["refresh_token"].as_str().unwrap().to_owned();
    // 150 identical requests at the same moment, spread over the instances.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let storm = (0..150).map(|i| {
        let (http, at, secret) = (http.clone(), c.url(i), secret.clone());
        async move { token(&http, &at, ("app", &secret), &form).await }
    });
    let answers = futures::future::join_all(storm).await;
    assert!(
        answers.iter().all(|(status, _)| *status == 200),
        "no 500 and no logout: {:?}",
        answers.iter().map(|a| a.0).collect::<Vec<_>>()
    );
    let successors: std::collections::BTreeSet<&str> = answers
        .iter()
        .map(|(_, b)| b["refresh_token"].as_str().unwrap())
        .collect();
    assert_eq!(successors.len(), 1, "exactly one rotation happened");
    // The family lives on: the one successor refreshes normally.
    let next = *successors.iter().next().unwrap();
    let (status, _) = token(
        &http,
        &c.url(2),
        ("app", &secret),
        &[("grant_type", "refresh_token"), ("refresh_token", next)],
    )
    .await;
    assert_eq!(status, 200);
    c.stop().await;
}

/// A TCP proxy the test controls, standing between the instances and PostgreSQL.
struct Proxy {
    addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(upstream: std::net::SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (up, links) = (
            Arc::new(AtomicBool::new(true)),
            Arc::new(Mutex::new(Vec::new())),
        );
        let proxy = Proxy {
            addr: listener.local_addr().unwrap(),
            up: up.clone(),
            links: links.clone(),
        };
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up.load(Ordering::SeqCst) {
                    continue; // dropped: the database is "down"
                }
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                links.lock().await.push(link);
            }
        });
        proxy
    }

    async fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for link in self.links.lock().await.drain(..) {
            link.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_and_recovers_by_itself() {
    let Some(database) = fresh_database().await else {
        return;
    };
    let real = url::Url::parse(&database.0).unwrap();
    let upstream = format!(
        "{}:{}",
        real.host_str().unwrap(),
        real.port().unwrap_or(5432)
    )
    .parse()
    .unwrap();
    let proxy = Proxy::start(upstream).await;
    let mut via = real.clone();
    via.set_host(Some("127.0.0.1")).unwrap();
    via.set_port(Some(proxy.addr.port())).unwrap();
    let c = Cluster::start(2, database, Some(via.to_string())).await;
    let secret = c.provision_app();
    let http = reqwest::Client::new();
    let login = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", PASSWORD),
    ];
    let (_, before) = token(&http, &c.url(0), ("app", &secret), &login).await;
    let access = before["access_token"].as_str().unwrap().to_owned();
    let verifier = admit_resource::Verifier::builder(ISSUER, ISSUER)
        .jwks_uri(format!("{}/.well-known/jwks.json", c.url(0)))
        .build()
        .await
        .unwrap();

    proxy.cut().await;
    let started = std::time::Instant::now();
    let response = http
        .post(format!("{}/oauth2/token", c.url(1)))
        .basic_auth("app", Some(&secret))
        .form(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503, "the database is needed and gone");
    assert!(response.headers().contains_key("retry-after"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "no request hangs: the pool has a timeout"
    );
    let ready = http
        .get(format!("{}/health/ready", c.url(0)))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    assert_eq!(
        http.get(format!("{}/health/live", c.url(0)))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Resource servers need no database: tokens keep verifying.
    verifier.verify(&access).await.unwrap();

    proxy.restore();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (status, _) = token(&http, &c.url(1), ("app", &secret), &login).await;
        if status == 200 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no recovery within 20 s (last status {status})"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert_eq!(
        http.get(format!("{}/health/ready", c.url(0)))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // Nothing written before the outage was lost.
    let (status, _) = token(
        &http,
        &c.url(0),
        ("app", &secret),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", before["refresh_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(status, 200);
    c.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeat_within_the_grace_window_gets_the_same_answer() {
    let t = start_with(|s| s.refresh_grace = 5).await;
    t.add_user("alice", PASSWORD);
    let secret = t.add_client("app", &["--grant", "password", "--grant", "refresh_token"]);
    let other = t.add_client("other", &["--grant", "refresh_token"]);
    let login = [
        ("grant_type", "password"),
        ("username", "alice"),
        ("password", PASSWORD),
    ];
    let (_, _, first) = t.token(Some(("app", &secret)), &login).await;
    let r1 = first["refresh_token"].as_str().unwrap();
    let form = [("grant_type", "refresh_token"), ("refresh_token", r1)];
    let (_, _, a) = t.token(Some(("app", &secret)), &form).await;
    let (status, _, b) = t.token(Some(("app", &secret)), &form).await;
    assert_eq!(status, 200);
    assert_eq!(a, b, "the same token pair, not a second rotation");
    // From another client it is not a repeat.
    let (status, _, _) = t.token(Some(("other", &other)), &form).await;
    assert_eq!(status, 400);
    // After the window, it is reuse: the family ends.
    let (_, _, second) = t.token(Some(("app", &secret)), &login).await;
    let r = second["refresh_token"].as_str().unwrap();
    let form = [("grant_type", "refresh_token"), ("refresh_token", r)];
    let (_, _, rotated) = t.token(Some(("app", &secret)), &form).await;
    std::thread::sleep(std::time::Duration::from_millis(5200));
    let (status, _, body) = t.token(Some(("app", &secret)), &form).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, _) = t
        .token(
            Some(("app", &secret)),
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", rotated["refresh_token"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(status, 400, "reuse after the window revoked the family");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_server_per_sqlite_file_and_health_endpoints() {
    let p = provisioned().await;
    let mut second = Settings::new("127.0.0.1:0".parse().unwrap(), p.t.dir.path().to_path_buf());
    second.password_hash_concurrency = 1;
    let err = admit_server::spawn(second)
        .await
        .err()
        .expect("a second server on the same SQLite file is refused");
    assert!(
        format!("{err:#}").contains("already serving this SQLite database"),
        "{err:#}"
    );
    let live: Value = p.t.get_json("/health/live").await;
    assert_eq!(live["status"], "live");
    let ready =
        p.t.http
            .get(format!("{}/health/ready", p.t.base))
            .send()
            .await
            .unwrap();
    assert_eq!(ready.status(), 200);
    // The CLI still works beside the running server.
    p.t.admit_ok(&["user", "list"], None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_rotation_across_instances_under_load() {
    let Some(database) = fresh_database().await else {
        return;
    };
    let c = Cluster::start(3, database, None).await;
    let secret = printed_secret(&c.cli(
        &["client", "add", "svc", "--grant", "client_credentials"],
        None,
    ));
    let verifier = admit_resource::Verifier::builder(ISSUER, ISSUER)
        .jwks_uri(format!("{}/.well-known/jwks.json", c.url(2)))
        .build()
        .await
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let load = {
        let (stop, verifier, secret) = (stop.clone(), verifier.clone(), secret.clone());
        let urls: Vec<String> = (0..3).map(|i| c.url(i)).collect();
        tokio::spawn(async move {
            let (http, mut kids, mut failures, mut i) = (
                reqwest::Client::new(),
                std::collections::BTreeSet::new(),
                0,
                0,
            );
            while !stop.load(Ordering::Relaxed) {
                let (_, body) = token(
                    &http,
                    &urls[i % 3],
                    ("svc", &secret),
                    &[("grant_type", "client_credentials")],
                )
                .await;
                let jwt = body["access_token"].as_str().unwrap();
                kids.insert(
                    admit_jose::UnverifiedJwt::parse(jwt)
                        .unwrap()
                        .header()
                        .kid
                        .clone()
                        .unwrap(),
                );
                failures += usize::from(verifier.verify(jwt).await.is_err());
                i += 1;
                tokio::time::sleep(std::time::Duration::from_millis(15)).await;
            }
            (kids, failures, i)
        })
    };
    // Rotate at "instance 0" (the library, as `admit keys rotate` does), twice.
    let store = admit_store::Store::connect(&c.database_url).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let master =
        admit_server::master_key::MasterKey::load(Some(&c.master_key), dir.path()).unwrap();
    for _ in 0..2 {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        admit_server::keyring::rotate(
            &store,
            &master,
            admit_jose::Algorithm::EdDSA,
            true,
            admit_server::now(),
        )
        .await
        .unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    stop.store(true, Ordering::Relaxed);
    let (kids, failures, requests) = load.await.unwrap();
    assert_eq!(
        failures, 0,
        "no verification failed across {requests} requests"
    );
    assert_eq!(kids.len(), 3, "three successive keys signed: {kids:?}");
    store.close().await;
    c.stop().await;
}
