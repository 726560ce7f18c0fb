//! Start a server on 127.0.0.1:0 in a fresh directory, run the CLI against its
//! database, and make token requests.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use admit_server::{Server, Settings};
use serde_json::Value;

pub struct TestServer {
    /// Set when the test chose its own database instead of the SQLite default.
    pub database_url_override: Option<String>,
    pub server: Server,
    pub base: String,
    pub http: reqwest::Client,
    pub dir: tempfile::TempDir,
}

pub async fn start() -> TestServer {
    start_with(|_| {}).await
}

pub async fn start_with(configure: impl FnOnce(&mut Settings)) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::new("127.0.0.1:0".parse().unwrap(), dir.path().to_path_buf());
    settings.password_hash_concurrency = 2;
    // Most tests present a rotated refresh token at once and expect reuse detection;
    // the grace window has tests of its own (scale_out.rs).
    settings.refresh_grace = 0;
    let default_url = settings.database_url.clone();
    configure(&mut settings);
    let database_url_override =
        (settings.database_url != default_url).then(|| settings.database_url.clone());
    let server = admit_server::spawn(settings).await.unwrap();
    let base = server.issuer.clone();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestServer {
        database_url_override,
        server,
        base,
        http,
        dir,
    }
}

impl TestServer {
    pub fn database_url(&self) -> String {
        self.database_url_override
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.dir.path().join("admit.db").display()))
    }

    /// Runs the `admit` binary against this server's database.
    pub fn admit(&self, args: &[&str], stdin: Option<&str>) -> Output {
        admit_command(&self.database_url(), Some(self.dir.path()), args, stdin)
    }

    /// Runs the CLI and insists it succeeds; returns its standard output.
    pub fn admit_ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.admit(args, stdin);
        assert!(
            out.status.success(),
            "admit {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn add_user(&self, username: &str, password: &str) {
        self.admit_ok(
            &[
                "user",
                "add",
                username,
                "--password-stdin",
                "--email",
                "a@example.com",
            ],
            Some(password),
        );
    }

    /// Registers a confidential client and returns its generated secret.
    pub fn add_client(&self, client_id: &str, extra: &[&str]) -> String {
        let mut args = vec!["client", "add", client_id];
        args.extend_from_slice(extra);
        printed_secret(&self.admit_ok(&args, None))
    }

    /// POSTs a form to the token endpoint, with optional Basic credentials.
    pub async fn token(
        &self,
        basic: Option<(&str, &str)>,
        form: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut request = self
            .http
            .post(format!("{}/oauth2/token", self.base))
            .form(form);
        if let Some((id, secret)) = basic {
            request = request.basic_auth(id, Some(secret));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, headers, body)
    }

    /// GETs `url` with `Authorization: Bearer token` and reads the JSON answer.
    pub async fn bearer_json(&self, url: impl reqwest::IntoUrl, token: &str) -> Value {
        self.http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub async fn get_json(&self, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// The client secret `admit client add` prints once.
pub fn printed_secret(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("client_secret: "))
        .expect("a generated secret is printed")
        .to_owned()
}

/// Registers a client in the database at `database_url`; returns its secret.
pub fn add_client_at(database_url: &str, args: &[&str]) -> String {
    let out = run_admit(database_url, &[&["client", "add"][..], args].concat(), None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    printed_secret(&String::from_utf8(out.stdout).unwrap())
}

pub fn run_admit(database_url: &str, args: &[&str], stdin: Option<&str>) -> Output {
    admit_command(database_url, None, args, stdin)
}

/// Runs the `admit` binary on a database, with the data directory (and so the master
/// key) of a test server when given.
fn admit_command(
    database_url: &str,
    data_dir: Option<&std::path::Path>,
    args: &[&str],
    stdin: Option<&str>,
) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_admit"));
    if let Some(dir) = data_dir {
        command.env("ADMIT_DATA_DIR", dir);
    }
    let mut child = command
        .args(args)
        .env("ADMIT_DATABASE_URL", database_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{input}\n").as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

/// A user and a password-grant client, ready for token requests.
pub struct Provisioned {
    pub t: TestServer,
    pub secret: String,
}

pub const PASSWORD: &str = "correct horse battery staple";

pub async fn provisioned() -> Provisioned {
    let t = start().await;
    t.add_user("alice", PASSWORD);
    let secret = t.add_client(
        "app",
        &[
            "--grant",
            "password",
            "--grant",
            "refresh_token",
            "--grant",
            "client_credentials",
            "--scope",
            "read",
            "--scope",
            "write",
            "--scope",
            "admin",
        ],
    );
    Provisioned { t, secret }
}

impl Provisioned {
    pub async fn login(&self, scope: &str) -> (u16, Value) {
        let (status, _, body) = self
            .t
            .token(
                Some(("app", &self.secret)),
                &[
                    ("grant_type", "password"),
                    ("username", "alice"),
                    ("password", PASSWORD),
                    ("scope", scope),
                ],
            )
            .await;
        (status, body)
    }
}

/// Polls `check` every 50 ms until it holds, failing with `what` after 5 s: for changes
/// that reach the server within a bound (a cached client lives one second).
pub async fn eventually<F: std::future::Future<Output = bool>>(
    what: &str,
    mut check: impl FnMut() -> F,
) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
