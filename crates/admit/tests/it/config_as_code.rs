//! Configuration as code: `admit config plan|apply|diff` with the real binary against
//! a running server's database, and the declared clients used over HTTP.

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::harness::{TestServer, eventually, start, start_with};
use crate::postgres::{drop_database, fresh_database};

const SECRET_1: &str = "first-secret-aaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const SECRET_2: &str = "second-secret-bbbbbbbbbbbbbbbbbbbbbbbbbbb";
const RS_SECRET: &str = "resource-server-secret-cccccccccccccccccc";

/// A server, and a config file beside its database.
struct Setup {
    t: TestServer,
    config: PathBuf,
}

impl Setup {
    async fn new() -> Setup {
        Setup::on(start().await)
    }

    fn on(t: TestServer) -> Setup {
        let config = t.dir.path().join("admit.toml");
        std::fs::write(t.dir.path().join("rs-secret"), format!("{RS_SECRET}\n")).unwrap();
        std::fs::write(t.dir.path().join("alice-pw"), "correct horse battery\n").unwrap();
        Setup { t, config }
    }

    /// Writes the config file: `body` after the resource server every case declares.
    fn write(&self, body: &str) {
        let dir = self.t.dir.path().display();
        let text = format!(
            "scopes = [\"openid\", \"api:read\", \"api:write\"]\n{body}\n\
             [clients.rs]\nsecret = {{ file = \"{dir}/rs-secret\" }}\n\
             grants = [\"client_credentials\"]\nintrospect = true\n"
        );
        std::fs::write(&self.config, text).unwrap();
    }

    /// Runs `admit --config FILE args...` with `APP_SECRET` set to `secret`.
    fn admit(&self, args: &[&str], secret: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_admit"))
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .env("ADMIT_DATABASE_URL", self.t.database_url())
            .env("ADMIT_DATA_DIR", self.t.dir.path())
            .env("APP_SECRET", secret)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// Runs the command, checks its exit code, returns standard output.
    fn run(&self, args: &[&str], secret: &str, code: i32) -> String {
        let out = self.admit(args, secret);
        let stdout = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "admit {args:?}\n{stdout}\n{stderr}"
        );
        for secret in [SECRET_1, SECRET_2, RS_SECRET, "correct horse"] {
            assert!(
                !stdout.contains(secret) && !stderr.contains(secret),
                "secret printed"
            );
        }
        stdout
    }

    async fn client_credentials(&self, id: &str, secret: &str) -> (u16, Value) {
        let (status, _, body) = self
            .t
            .token(Some((id, secret)), &[("grant_type", "client_credentials")])
            .await;
        (status, body)
    }
}

const SVC: &str = "[clients.svc]\nname = \"Service\"\nsecret = { env = \"APP_SECRET\" }\n\
     grants = [\"client_credentials\"]\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_apply_diff_round_trip() {
    let s = Setup::new().await;
    let dir = s.t.dir.path().display().to_string();
    s.write(&format!(
        "{SVC}scopes = [\"api:read\"]\nredirect_uris = [\"https://svc.example/cb\"]\n\
         [users.Alice]\npassword = {{ file = \"{dir}/alice-pw\" }}\nemail = \"alice@example.com\"\n"
    ));

    let plan = s.run(&["config", "plan"], SECRET_1, 0);
    for line in [
        "+ client rs: to add",
        "+ client svc: to add",
        "+ user alice: to add",
        "Plan: 3 to add, 0 to change, 0 to remove.",
    ] {
        assert!(plan.contains(line), "{plan}");
    }
    let json: Value =
        serde_json::from_str(&s.run(&["config", "plan", "--json"], SECRET_1, 0)).unwrap();
    assert_eq!(json["changes"].as_array().unwrap().len(), 3, "{json}");
    assert_eq!(json["changes"][0]["action"], "add");
    s.run(&["config", "diff"], SECRET_1, 2);

    let applied = s.run(&["config", "apply"], SECRET_1, 0);
    assert!(
        applied.contains("Applied: 3 added, 0 changed, 0 removed."),
        "{applied}"
    );
    let plan = s.run(&["config", "plan"], SECRET_1, 0);
    assert!(plan.contains("No changes"), "{plan}");
    s.run(&["config", "diff"], SECRET_1, 0);
    let again = s.run(&["config", "apply"], SECRET_1, 0);
    assert!(again.contains("Nothing to change"), "{again}");

    let (status, body) = s.client_credentials("svc", SECRET_1).await;
    assert_eq!(status, 200, "{body}");
    let users = s.t.admit_ok(&["user", "list"], None);
    assert!(
        users.contains("alice") && users.contains("alice@example.com"),
        "{users}"
    );

    // A new redirect URI, one more scope, and a new secret behind the same variable.
    s.write(&format!(
        "{SVC}scopes = [\"api:read\", \"api:write\"]\nredirect_uris = [\"https://svc.example/new\"]\n\
         [users.alice]\npassword = {{ file = \"{dir}/alice-pw\" }}\nemail = \"alice@example.com\"\n"
    ));
    let diff = s.run(&["config", "diff"], SECRET_2, 2);
    let expected =
        "~ client svc: differs (secret: changed, redirect_uris: changed, scopes: changed)";
    assert!(diff.contains(expected), "{diff}");
    let plan = s.run(&["config", "plan"], SECRET_2, 0);
    assert!(
        plan.contains("~ client svc: to change (secret: changed"),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 0 to add, 1 to change, 0 to remove."),
        "{plan}"
    );
    let json: Value =
        serde_json::from_str(&s.run(&["config", "diff", "--json"], SECRET_2, 2)).unwrap();
    assert_eq!(
        json["changes"],
        serde_json::json!([{ "kind": "client", "id": "svc", "action": "change",
            "fields": ["secret", "redirect_uris", "scopes"] }])
    );

    let applied = s.run(&["config", "apply"], SECRET_2, 0);
    assert!(
        applied.contains("Applied: 0 added, 1 changed, 0 removed."),
        "{applied}"
    );
    s.run(&["config", "diff"], SECRET_2, 0);
    let shown: Value =
        serde_json::from_str(&s.t.admit_ok(&["client", "show", "svc"], None)).unwrap();
    assert_eq!(
        shown["redirect_uris"],
        serde_json::json!(["https://svc.example/new"])
    );
    assert_eq!(
        shown["scopes"],
        serde_json::json!(["api:read", "api:write"])
    );

    // The server caches an authenticated client for a second.
    eventually("the old secret is refused", || async {
        s.client_credentials("svc", SECRET_1).await.0 == 401
    })
    .await;
    let (status, body) = s.client_credentials("svc", SECRET_2).await;
    assert_eq!(status, 200, "{body}");

    // Each change has its audit record, and the chain still verifies.
    let records = s.t.admit_ok(
        &["audit", "search", "--event", "client.change", "--json"],
        None,
    );
    assert!(
        records.contains("svc") && records.contains("config"),
        "{records}"
    );
    s.t.admit_ok(&["audit", "verify"], None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_literal_secret_is_refused_by_every_command() {
    let s = Setup::new().await;
    s.write("[clients.svc]\nsecret = \"literal-secret-dddddddddddddddddddddddddd\"\n");
    for args in [
        &["config", "plan"][..],
        &["config", "apply"],
        &["client", "list"],
    ] {
        let out = s.admit(args, SECRET_1);
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            stderr.contains("clients.svc.secret") && stderr.contains("must be a reference"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("literal-secret"),
            "the secret is echoed: {stderr}"
        );
    }
    assert!(!s.t.admit_ok(&["client", "list"], None).contains("svc"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removal_needs_the_opt_in_and_ends_the_tokens() {
    let s = Setup::new().await;
    let legacy = s.t.add_client("legacy", &["--grant", "client_credentials"]);
    s.write("");
    let plan = s.run(&["config", "plan"], SECRET_1, 0);
    assert!(
        plan.contains("= client legacy: not in the file, kept"),
        "{plan}"
    );
    assert!(
        plan.contains("Plan: 1 to add, 0 to change, 0 to remove."),
        "{plan}"
    );
    s.run(&["config", "apply"], SECRET_1, 0);
    let (status, body) = s.client_credentials("legacy", &legacy).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    let introspect = || async {
        let response =
            s.t.http
                .post(format!("{}/oauth2/introspect", s.t.base))
                .basic_auth("rs", Some(RS_SECRET))
                .form(&[("token", token.as_str())])
                .send()
                .await
                .unwrap();
        assert_eq!(response.status(), 200);
        response.json::<Value>().await.unwrap()["active"] == true
    };
    assert!(introspect().await);

    s.write("[manage]\nclients = true\n");
    let plan = s.run(&["config", "plan"], SECRET_1, 0);
    assert!(
        plan.contains("- client legacy: to remove, its tokens revoked"),
        "{plan}"
    );
    let applied = s.run(&["config", "apply"], SECRET_1, 0);
    assert!(applied.contains("- client legacy: removed"), "{applied}");
    assert!(
        applied.contains("Applied: 0 added, 0 changed, 1 removed."),
        "{applied}"
    );

    assert!(!introspect().await, "the removed client's token is revoked");
    eventually("the removed client cannot authenticate", || async {
        s.client_credentials("legacy", &legacy).await.0 == 401
    })
    .await;
    s.run(&["config", "diff"], SECRET_1, 0);

    // Users likewise: kept until the file manages them. A file that neither declares
    // nor manages users leaves them out of the plan (and never reads them all).
    s.t.add_user("bob", "correct horse battery");
    assert!(!s.run(&["config", "plan"], SECRET_1, 0).contains("user bob"));
    s.write("[manage]\nclients = true\nusers = true\n");
    s.run(&["config", "diff"], SECRET_1, 2);
    let applied = s.run(&["config", "apply"], SECRET_1, 0);
    assert!(applied.contains("- user bob: removed"), "{applied}");
    assert!(!s.t.admit_ok(&["user", "list"], None).contains("bob"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_apply_changes_nothing() {
    let s = Setup::new().await;
    let dir = s.t.dir.path().display().to_string();
    let clients = s.t.admit_ok(&["client", "list"], None);

    // Refused before any write: a username with a space.
    s.write(&format!(
        "{SVC}[users.\"bad name\"]\npassword = {{ file = \"{dir}/alice-pw\" }}\n"
    ));
    let out = s.admit(&["config", "apply"], SECRET_1);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("users.bad name: a username may not contain spaces"),
        "{stderr}"
    );
    assert_eq!(s.t.admit_ok(&["client", "list"], None), clients);

    // Refused by the database part-way: a trigger rejects the second client inserted
    // (clients are applied in name order: rs, then svc), after the first succeeded.
    let pool = sqlx::SqlitePool::connect(&s.t.database_url())
        .await
        .unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse_svc BEFORE INSERT ON clients WHEN NEW.client_id = 'svc' \
         BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    s.write(&format!(
        "{SVC}[users.carol]\npassword = {{ file = \"{dir}/alice-pw\" }}\n"
    ));
    let out = s.admit(&["config", "apply"], SECRET_1);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("nothing was changed"), "{stderr}");
    assert_eq!(
        s.t.admit_ok(&["client", "list"], None),
        clients,
        "rs was not kept"
    );
    assert!(!s.t.admit_ok(&["user", "list"], None).contains("carol"));
    let plan = s.run(&["config", "plan"], SECRET_1, 0);
    assert!(plan.contains("Plan: 3 to add"), "{plan}");
}

/// The round trip and an apply refused part-way, over PostgreSQL.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_over_postgres_is_one_transaction() {
    let Some((database_url, name)) = fresh_database().await else {
        return;
    };
    let s = Setup::on(start_with(|c| c.database_url = database_url.clone()).await);
    s.write(SVC);
    s.run(&["config", "diff"], SECRET_1, 2);
    s.run(&["config", "apply"], SECRET_1, 0);
    s.run(&["config", "diff"], SECRET_1, 0);
    assert_eq!(s.client_credentials("svc", SECRET_1).await.0, 200);

    // A new secret for svc, then a new client zz the database refuses: svc's update
    // was written in the transaction before zz's insert failed.
    let mut db = <sqlx::PgConnection as sqlx::Connection>::connect(&database_url)
        .await
        .unwrap();
    for sql in [
        "CREATE FUNCTION refuse_zz() RETURNS trigger AS $$ BEGIN \
         RAISE EXCEPTION 'refused by the test'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_zz BEFORE INSERT ON clients FOR EACH ROW \
         WHEN (NEW.client_id = 'zz') EXECUTE FUNCTION refuse_zz()",
    ] {
        sqlx::query(sql).execute(&mut db).await.unwrap();
    }
    let clients = s.t.admit_ok(&["client", "list"], None);
    s.write(&format!("{SVC}[clients.zz]\npublic = true\n"));
    let out = s.admit(&["config", "apply"], SECRET_2);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing was changed"));
    assert_eq!(s.t.admit_ok(&["client", "list"], None), clients);
    assert_eq!(
        s.client_credentials("svc", SECRET_1).await.0,
        200,
        "svc's secret kept"
    );
    let plan = s.run(&["config", "plan"], SECRET_2, 0);
    assert!(
        plan.contains("Plan: 1 to add, 1 to change, 0 to remove."),
        "{plan}"
    );

    drop(s);
    drop_database(&name).await;
}
