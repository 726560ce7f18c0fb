//! Running admit: Prometheus metrics, request ids, one log line per request, draining
//! on SIGTERM and reloading on SIGHUP.

use std::collections::HashMap;

use crate::harness::{PASSWORD, add_client_at, provisioned, run_admit, start_with};
use crate::serve_binary::serve_env;

/// `name{labels} value` lines of a scrape, by everything before the value.
fn scrape(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' '))
        .map(|(k, v)| (k.to_owned(), v.parse().unwrap()))
        .collect()
}

async fn metrics(http: &reqwest::Client, url: &str) -> HashMap<String, f64> {
    let response = http.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("application/openmetrics-text"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");
    scrape(&text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_tokens_logins_and_subscribers() {
    let p = provisioned().await;
    let t = &p.t;
    let url = format!("{}/metrics", t.base);
    let before = metrics(&t.http, &url).await;
    let get = |m: &HashMap<String, f64>, k: &str| m.get(k).copied().unwrap_or(0.0);

    for _ in 0..3 {
        let (status, _, _) = t
            .token(
                Some(("app", &p.secret)),
                &[("grant_type", "client_credentials")],
            )
            .await;
        assert_eq!(status, 200);
    }
    assert_eq!(p.login("read").await.0, 200);
    let (status, _, _) = t
        .token(
            Some(("app", &p.secret)),
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "nope"),
            ],
        )
        .await;
    assert_eq!(status, 400);
    t.get_json("/.well-known/jwks.json").await;
    let resource = t.add_client("rs", &["--grant", "client_credentials", "--introspect"]);
    let stream = t
        .http
        .get(format!("{}/oauth2/revocations", t.base))
        .basic_auth("rs", Some(&resource))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    // A made-up method adds no series of its own (unbounded label values).
    let made_up = reqwest::Method::from_bytes(b"BREW").unwrap();
    let response = t
        .http
        .request(made_up, format!("{}/oauth2/token", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    // A path no route matches is counted as `unmatched`, never under its raw path.
    let response = t
        .http
        .get(format!("{}/no/such/path", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    let after = metrics(&t.http, &url).await;
    let delta = |k: &str| get(&after, k) - get(&before, k);
    assert_eq!(
        delta(r#"admit_tokens_issued_total{grant_type="client_credentials",alg="EdDSA"}"#),
        3.0
    );
    assert_eq!(
        delta(r#"admit_tokens_issued_total{grant_type="password",alg="EdDSA"}"#),
        1.0
    );
    assert_eq!(delta(r#"admit_logins_total{outcome="success"}"#), 1.0);
    assert_eq!(delta(r#"admit_logins_total{outcome="failure"}"#), 1.0);
    assert_eq!(delta("admit_jwks_fetches_total"), 1.0);
    let token_2xx = r#"{route="/oauth2/token",method="POST",outcome="2xx"}"#;
    assert_eq!(delta(&format!("admit_http_requests_total{token_2xx}")), 4.0);
    assert_eq!(
        delta(r#"admit_http_requests_total{route="/oauth2/token",method="POST",outcome="4xx"}"#),
        1.0
    );
    assert_eq!(
        delta(&format!(
            "admit_http_request_duration_seconds_count{token_2xx}"
        )),
        4.0
    );
    assert_eq!(
        delta(r#"admit_http_requests_total{route="/oauth2/token",method="other",outcome="4xx"}"#),
        1.0
    );
    assert!(!after.keys().any(|k| k.contains("BREW")));
    assert_eq!(
        delta(r#"admit_http_requests_total{route="unmatched",method="GET",outcome="4xx"}"#),
        1.0
    );
    assert!(!after.keys().any(|k| k.contains("/no/such/path")));
    assert_eq!(get(&after, "admit_revocation_stream_subscribers"), 1.0);
    assert_eq!(get(&after, "admit_password_checks_in_flight"), 0.0);
    assert!(after.contains_key(r#"admit_database_connections{state="idle"}"#));
    assert_eq!(get(&after, r#"admit_build_info{version="0.1.0"}"#), 1.0);

    let url = &url;
    let drops_to_zero = |gauge: &'static str| {
        crate::harness::eventually(gauge, move || async move {
            metrics(&t.http, url).await.get(gauge) == Some(&0.0)
        })
    };
    // Argon2id memory kept after the two password checks is given back a second later.
    assert!(after.contains_key("admit_password_memory_bytes"));
    drops_to_zero("admit_password_memory_bytes").await;
    drop(stream);
    drops_to_zero("admit_revocation_stream_subscribers").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_have_a_listener_of_their_own() {
    let t = start_with(|s| s.metrics_listen = Some("127.0.0.1:0".parse().unwrap())).await;
    let main = t
        .http
        .get(format!("{}/metrics", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(main.status(), 404);
    let own = format!("http://{}/metrics", t.server.metrics_addr.unwrap());
    metrics(&t.http, &own).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_a_request_id_and_error_pages_show_it() {
    let t = start_with(|_| {}).await;
    let get = |id: Option<&'static str>| {
        let mut request = t
            .http
            .get(format!("{}/oauth2/authorize?client_id=nobody", t.base));
        if let Some(id) = id {
            request = request.header("x-request-id", id);
        }
        request.send()
    };
    let page = get(None).await.unwrap();
    let id = page.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(id.len() >= 16, "{id}");
    let body = page.text().await.unwrap();
    assert!(
        body.contains(&format!("<code id=\"request-id\">{id}</code>")),
        "{body}"
    );

    let kept = get(Some("trace-42.a_b")).await.unwrap();
    assert_eq!(kept.headers()["x-request-id"], "trace-42.a_b");
    let replaced = get(Some("bad id <script>")).await.unwrap();
    assert_ne!(replaced.headers()["x-request-id"], "bad id <script>");
    let unrouted = t
        .http
        .get(format!("{}/nowhere", t.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unrouted.status(), 404);
    assert!(unrouted.headers().contains_key("x-request-id"));
}

/// A config file for `admit serve --config`.
fn write_config(dir: &std::path::Path, body: &str) -> String {
    let path = dir.join("admit.toml");
    std::fs::write(&path, body).unwrap();
    path.to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_json_log_line_per_request_and_sighup_reloads_lifetimes_log_level_and_clients() {
    const SECRET: &str = "a-declared-secret-of-some-length";
    let client = |id: &str| {
        format!(
            "[clients.{id}]\nsecret = {{ env = \"SVC_SECRET\" }}\ngrants = [\"client_credentials\"]\n"
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        &format!("access_token_ttl = 600\nlog = \"info\"\n{}", client("svc")),
    );
    let running = serve_env(
        dir.path(),
        &["--config", &config, "--log-format", "json"],
        &[("ADMIT_LOG", ""), ("SVC_SECRET", SECRET)],
    );
    let http = reqwest::Client::new();
    let token = |client_id: &'static str, request_id: &'static str| {
        http.post(format!("{}/oauth2/token", running.base))
            .basic_auth(client_id, Some(SECRET))
            .header("x-request-id", request_id)
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    // The file's client was applied at start.
    let body: serde_json::Value = token("svc", "before-reload")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["expires_in"], 600, "{body}");
    assert_eq!(token("late", "x").await.unwrap().status(), 401);

    let reloaded = format!(
        "access_token_ttl = 120\nlog = \"warn\"\n{}{}",
        client("svc"),
        client("late")
    );
    write_config(dir.path(), &reloaded);
    running.signal("HUP");
    crate::harness::eventually("the new lifetime and client apply", || async {
        let response = token("late", "after-reload").await.unwrap();
        let body: serde_json::Value = response.json().await.unwrap();
        body["expires_in"] == 120
    })
    .await;
    token("svc", "reloaded").await.unwrap();

    let (ok, logs) = running.stop();
    assert!(ok, "{logs}");
    let line: serde_json::Value = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["fields"]["request_id"] == "before-reload")
        .unwrap_or_else(|| panic!("no line for the request:\n{logs}"));
    let fields = &line["fields"];
    assert_eq!(line["level"], "INFO");
    assert_eq!(fields["method"], "POST");
    assert_eq!(fields["route"], "/oauth2/token");
    assert_eq!(fields["status"], 200);
    assert_eq!(fields["client_id"], "svc");
    assert!(fields["latency_ms"].as_f64().is_some(), "{line}");
    assert!(!logs.contains(SECRET), "the client secret reached the log");
    assert!(
        !logs.contains("\"reloaded\""),
        "log = \"warn\" took effect: no request lines after the reload\n{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_logins_and_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let running = serve_env(dir.path(), &["--shutdown-timeout", "20"], &[]);
    let db = format!("sqlite://{}", dir.path().join("admit.db").display());
    // A costlier hash than the default, so the logins are still running at SIGTERM.
    let out = run_admit(
        &db,
        &[
            "user",
            "add",
            "alice",
            "--password-stdin",
            "--password-hash-memory-kib",
            "65536",
            "--password-hash-iterations",
            "4",
        ],
        Some(PASSWORD),
    );
    assert!(out.status.success());
    let secret = add_client_at(&db, &["app", "--grant", "password"]);
    let http = reqwest::Client::new();
    let logins: Vec<_> = (0..6)
        .map(|_| {
            let request = http
                .post(format!("{}/oauth2/token", running.base))
                .basic_auth("app", Some(&secret))
                .form(&[
                    ("grant_type", "password"),
                    ("username", "alice"),
                    ("password", PASSWORD),
                ])
                .send();
            tokio::spawn(request)
        })
        .collect();
    let url = format!("{}/metrics", running.base);
    crate::harness::eventually("the logins are in flight", || async {
        metrics(&http, &url)
            .await
            .get("admit_password_checks_in_flight")
            >= Some(&3.0)
    })
    .await;
    running.signal("TERM");
    for login in logins {
        let response = login
            .await
            .unwrap()
            .expect("an in-flight request is answered");
        assert_eq!(response.status(), 200);
    }
    let (ok, logs) = running.stop();
    assert!(ok, "exit status 0 after draining:\n{logs}");
    assert!(logs.contains("stopped"), "{logs}");
}

/// Built with `--features otel` (as `.ci/run` does): spans reach an OTLP/HTTP collector,
/// here a stand-in that keeps what it is sent.
#[cfg(feature = "otel")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traces_are_exported_over_otlp() {
    use std::sync::{Arc, Mutex};
    let received: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let keep = received.clone();
    let collector = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| async move {
            keep.lock().unwrap().push(body.to_vec());
            ""
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, collector).await });

    let dir = tempfile::tempdir().unwrap();
    let running = serve_env(dir.path(), &["--otlp-endpoint", &endpoint], &[]);
    let response = reqwest::get(format!("{}/.well-known/jwks.json", running.base))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (ok, logs) = running.stop();
    assert!(ok, "{logs}");
    // Protobuf keeps strings as UTF-8 bytes: the service and the span name show.
    let sent = received.lock().unwrap().concat();
    let has = |needle: &[u8]| sent.windows(needle.len()).any(|w| w == needle);
    assert!(
        has(b"admit") && has(b"request"),
        "no request span exported: {} bytes",
        sent.len()
    );
}

/// Without trace export the request span is off (a tenth of a token's CPU), so a
/// warning within a request names the request's id itself: here, refresh-token reuse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warning_within_a_request_carries_its_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let running = serve_env(
        dir.path(),
        &["--log-format", "json", "--refresh-grace", "0"],
        &[("ADMIT_LOG", "")],
    );
    let db = format!("sqlite://{}", dir.path().join("admit.db").display());
    let out = run_admit(
        &db,
        &["user", "add", "alice", "--password-stdin"],
        Some(PASSWORD),
    );
    assert!(out.status.success());
    let secret = add_client_at(
        &db,
        &["app", "--grant", "password", "--grant", "refresh_token"],
    );
    let http = reqwest::Client::new();
    let token = |form: Vec<(&'static str, String)>, request_id: &'static str| {
        http.post(format!("{}/oauth2/token", running.base))
            .basic_auth("app", Some(&secret))
            .header("x-request-id", request_id)
            .form(&form)
            .send()
    };
    let login: serde_json::Value = token(
        vec![
            ("grant_type", "password".into()),
            ("username", "alice".into()),
            ("password", PASSWORD.into()),
        ],
        "login",
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let refresh = login["refresh_token"].as_str().unwrap().to_owned();
    let again = || {
        vec![
            ("grant_type", "refresh_token".into()),
            ("refresh_token", refresh.clone()),
        ]
    };
    assert_eq!(token(again(), "rotate").await.unwrap().status(), 200);
    assert_eq!(token(again(), "reuse").await.unwrap().status(), 400);

    let (ok, logs) = running.stop();
    assert!(ok, "{logs}");
    let warning = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["level"] == "WARN" && l["fields"]["request_id"] == "reuse")
        .unwrap_or_else(|| panic!("no warning names the request:\n{logs}"));
    assert!(
        warning["fields"]["message"]
            .as_str()
            .unwrap()
            .contains("reuse"),
        "{warning}"
    );
}
