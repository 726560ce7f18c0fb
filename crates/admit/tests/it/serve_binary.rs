//! `admit serve` as a user runs it: the real binary, its flags, its logs, SIGTERM.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

use crate::harness::{PASSWORD, add_client_at, run_admit};

pub struct Running {
    child: Child,
    pub base: String,
    pub first_lines: Vec<String>,
    /// The rest of standard output, delivered when the process closes it.
    rest: std::sync::mpsc::Receiver<String>,
}

fn serve(dir: &std::path::Path, extra: &[&str]) -> Running {
    serve_env(dir, extra, &[])
}

pub fn serve_env(dir: &std::path::Path, extra: &[&str], env: &[(&str, &str)]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_admit"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            dir.to_str().unwrap(),
        ])
        .args(extra)
        .env("ADMIT_LOG", "debug")
        .envs(env.iter().copied())
        .env_remove("ADMIT_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut first_lines = Vec::new();
    // With --demo, the demo's lines (its URLs and the demo user) follow the server's.
    let last_line = if extra.contains(&"--demo") {
        "  demo user:"
    } else {
        "admit is serving "
    };
    let mut base = String::new();
    loop {
        let mut line = String::new();
        assert!(
            reader.read_line(&mut line).unwrap() > 0,
            "admit serve exited early: {first_lines:?}"
        );
        first_lines.push(line.clone());
        if let Some(rest) = line.strip_prefix("admit is serving ") {
            base = format!("http://{}", rest.split_whitespace().next().unwrap());
        }
        if line.starts_with(last_line) {
            break;
        }
    }
    // Keep draining stdout so the server never blocks on a full pipe.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = reader.read_to_string(&mut rest);
        let _ = tx.send(rest);
    });
    Running {
        child,
        base,
        first_lines,
        rest: rx,
    }
}

impl Running {
    /// Sends `signal` (`HUP`, `TERM`, ...) to the server.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status();
        assert!(status.unwrap().success());
    }

    /// SIGTERM, then everything the process wrote.
    pub fn stop(mut self) -> (bool, String) {
        Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        let mut stderr = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let stdout = self.rest.recv().unwrap_or_default();
        (
            status.success(),
            format!("{}{stdout}{stderr}", self.first_lines.concat()),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_starts_on_a_fresh_directory_and_logs_no_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let running = serve(dir.path(), &[]);
    let db = format!("sqlite://{}", dir.path().join("admit.db").display());
    assert!(
        running.first_lines.concat().contains("master key"),
        "first start says it generated a master key"
    );

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
    let tokens: serde_json::Value = http
        .post(format!("{}/oauth2/token", running.base))
        .basic_auth("app", Some(&secret))
        .form(&[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().expect("a token").to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let _ = http
        .post(format!("{}/oauth2/token", running.base))
        .basic_auth("app", Some("wrong-secret"))
        .form(&[
            ("grant_type", "password"),
            ("username", "alice"),
            ("password", "guess-guess"),
        ])
        .send()
        .await
        .unwrap();

    // Queries carry codes, state and hints: only the path is logged.
    let _ = http
        .get(format!(
            "{}/oauth2/authorize?client_id=app&state=QUERYSECRET123",
            running.base
        ))
        .send()
        .await
        .unwrap();
    let (graceful, logs) = running.stop();
    assert!(graceful, "SIGTERM ends the server with exit 0:\n{logs}");
    assert!(
        logs.contains("/oauth2/token"),
        "requests are logged at debug:\n{logs}"
    );
    assert!(
        logs.contains("/oauth2/authorize") && !logs.contains("QUERYSECRET123"),
        "{logs}"
    );
    for secret_value in [
        PASSWORD,
        "guess-guess",
        &secret,
        &access,
        &refresh,
        access.split('.').nth(2).unwrap(),
    ] {
        assert!(
            !logs.contains(secret_value),
            "a secret reached the log:\n{logs}"
        );
    }
    // Without the Authorization header value either.
    assert!(!logs.contains("Basic "), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_start_answers_at_once_and_its_first_jwks_is_whole() {
    // On a fresh database admit answers before its RS256 key exists; the JWKS waits
    // for it, so the first JWKS a client caches holds every algorithm discovery names.
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_admit"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("ADMIT_LOG", "info")
        .env_remove("ADMIT_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // The server's own log line, written as it starts to serve (the CLI's banner
    // follows only once every key is published).
    let addr = loop {
        let line = lines.next().expect("admit serve exited early").unwrap();
        if let Some(rest) = line.split("admit is serving addr=").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    let http = reqwest::Client::new();
    let get = |path: &str| {
        let request = http.get(format!("http://{addr}{path}")).send();
        async {
            request
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let (metadata, jwks) = tokio::join!(
        get("/.well-known/openid-configuration"),
        get("/.well-known/jwks.json")
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let published: Vec<_> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["alg"].as_str().unwrap())
        .collect();
    let algs = metadata["id_token_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert_eq!(algs.len(), 3, "{metadata}");
    for alg in algs {
        assert!(published.contains(&alg.as_str().unwrap()), "{alg}: {jwks}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_and_hs256_mode() {
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("hs256.secret");
    std::fs::write(&secret_file, "0123456789abcdef0123456789abcdef-shared").unwrap();
    let running = serve(
        dir.path(),
        &[
            "--log-format",
            "json",
            "--access-token-alg",
            "HS256",
            "--hs256-secret-file",
            secret_file.to_str().unwrap(),
        ],
    );
    let db = format!("sqlite://{}", dir.path().join("admit.db").display());
    let secret = add_client_at(&db, &["svc", "--grant", "client_credentials"]);
    let body: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/oauth2/token", running.base))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "svc"),
            ("client_secret", &secret),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = body["access_token"].as_str().unwrap();
    let header = token.split('.').next().unwrap();
    use base64::Engine;
    let header: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "HS256");
    // The shared secret is never published.
    let jwks: serde_json::Value = reqwest::get(format!("{}/.well-known/jwks.json", running.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["alg"] != "HS256" && k.get("k").is_none())
    );
    // A service holding the same secret verifies it.
    let key = admit_jose::VerifyingKey::hmac(
        b"0123456789abcdef0123456789abcdef-shared",
        Some(header["kid"].as_str().unwrap().into()),
    )
    .unwrap();
    let mut validation = admit_jose::Validation::access_token(&running.base, &running.base);
    validation.algorithms = vec![admit_jose::Algorithm::HS256];
    admit_jose::KeySet::new(vec![key])
        .verify(token, &validation, admit_server::now())
        .unwrap();

    let (_, logs) = running.stop();
    let json_lines = logs.lines().filter(|l| l.starts_with('{')).count();
    assert!(json_lines > 0, "JSON log lines expected:\n{logs}");
}

#[test]
fn serve_refuses_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    for (args, reason) in [
        (vec!["--access-token-alg", "none"], "unknown algorithm"),
        (vec!["--access-token-alg", "HS256"], "hs256-secret-file"),
        (vec!["--issuer", "ftp://x"], "issuer"),
        (vec!["--access-token-ttl=-5"], "positive"),
        (vec!["--log-format", "xml"], "log format"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_admit"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--data-dir",
                dir.path().to_str().unwrap(),
            ])
            .args(&args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(reason), "{args:?}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_come_from_flags_then_environment_then_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("admit.db").display());
    let config = dir.path().join("admit.toml");
    std::fs::write(
        &config,
        "access_token_ttl = 120\nrefresh_token_ttl = 3600\n",
    )
    .unwrap();
    let config = ["--config", config.to_str().unwrap()];
    let env = [("ADMIT_ACCESS_TOKEN_TTL", "130")];
    let flag = [&config[..], &["--access-token-ttl", "140"]].concat();
    for (n, (args, env, expected)) in [
        (&config[..], &[][..], 120),
        (&config[..], &env[..], 130),
        (&flag[..], &env[..], 140),
    ]
    .into_iter()
    .enumerate()
    {
        let running = serve_env(dir.path(), args, env);
        let client_id = format!("svc{n}");
        let secret = add_client_at(&db, &[&client_id, "--grant", "client_credentials"]);
        let body: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/oauth2/token", running.base))
            .basic_auth(&client_id, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            body["expires_in"], expected,
            "file < environment < flag, case {n}"
        );
        running.stop();
    }
}
