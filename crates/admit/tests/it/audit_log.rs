//! The audit log: security events from the pages, the token endpoint and the CLI are
//! recorded without secrets, found again with `admit audit search|tail`, and any edit,
//! deletion or rewrite of the records is caught by `admit audit verify`.

use admit_store::{AuditRecord, chain_hash};
use serde_json::Value;
use sqlx::{Connection, SqliteConnection};

use crate::code_flow::setup_with;
use crate::harness::{PASSWORD, TestServer, eventually};

async fn exec(db: &mut SqliteConnection, sql: &str) {
    sqlx::raw_sql(sql).execute(db).await.unwrap();
}

fn json_lines(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `admit audit verify --json`: the exit status and the report.
fn verify(t: &TestServer) -> (bool, Value) {
    let out = t.admit(&["audit", "verify", "--json"], None);
    (
        out.status.success(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

/// Waits until the newest record is covered by a signed anchor.
async fn anchored(t: &TestServer) {
    eventually("the chain head is signed", || async {
        let (ok, report) = verify(t);
        ok && report["unanchored"] == 0 && report["records"].as_i64() > Some(0)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_events_are_recorded_without_secrets_and_searchable() {
    let mut f = setup_with(|s| s.audit_anchor_interval = 1).await;
    let code = f.code("").await;
    let (status, tokens) = f.exchange(&code, crate::code_flow::VERIFIER).await;
    assert_eq!(status, 200);
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let access = tokens["access_token"].as_str().unwrap();
    let payload = access.split('.').nth(1).unwrap();
    let access_claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    let form = [("grant_type", "refresh_token"), ("refresh_token", &refresh)];
    let rotate = || f.t.token(Some(("site", &f.secret)), &form);
    assert_eq!(rotate().await.0, 200);
    assert_eq!(rotate().await.0, 400, "reuse");
    let mut page = f
        .browser
        .get(&crate::code_flow::authorize_url(
            &f.t.base,
            "site",
            "&prompt=login",
        ))
        .await;
    page = f.login(&page, "alice", "not the password").await;
    assert_eq!(page.status, 401);
    anchored(&f.t).await;

    let t = &f.t;
    let all = t.admit_ok(&["audit", "tail", "-n", "100", "--json"], None);
    for secret in [PASSWORD, "not the password", &f.secret, &refresh, &code] {
        assert!(
            !all.contains(secret),
            "a secret reached the audit log: {all}"
        );
    }
    let records = json_lines(&all);
    let seqs: Vec<i64> = records.iter().map(|r| r["seq"].as_i64().unwrap()).collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "tail is oldest first: {seqs:?}"
    );
    let events: Vec<(&str, &str)> = records
        .iter()
        .map(|r| (r["event"].as_str().unwrap(), r["outcome"].as_str().unwrap()))
        .collect();
    for expected in [
        ("user.add", "success"),
        ("client.add", "success"),
        ("login", "success"),
        ("consent.grant", "success"),
        ("token", "success"),
        ("refresh.reuse", "revoked"),
        ("revoke", "success"),
        ("login", "failure"),
    ] {
        assert!(
            events.contains(&expected),
            "{expected:?} missing from {events:?}"
        );
    }
    let cli = records.iter().find(|r| r["event"] == "user.add").unwrap();
    assert!(cli["actor"].as_str().unwrap().starts_with("cli:"), "{cli}");

    // Search: by user name (resolved to the subject), by event and client, by time.
    let alice = json_lines(&t.admit_ok(&["audit", "search", "--user", "alice", "--json"], None));
    assert!(alice.iter().any(|r| r["event"] == "consent.grant"));
    assert!(alice.iter().all(|r| r["event"] != "client.add"));
    let tokens = json_lines(&t.admit_ok(
        &[
            "audit", "search", "--event", "token", "--client", "site", "--json",
        ],
        None,
    ));
    let details: Vec<Value> = tokens
        .iter()
        .map(|r| serde_json::from_str(r["detail"].as_str().unwrap()).unwrap())
        .collect();
    let grants: Vec<&str> = details
        .iter()
        .map(|d| d["grant_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        grants,
        ["refresh_token", "authorization_code"],
        "newest first"
    );
    // The record names the token it issued, by its jti, and the scope it carries.
    assert_eq!(details[1]["jti"], access_claims["jti"]);
    assert_eq!(details[1]["scope"], access_claims["scope"]);
    let login =
        &json_lines(&t.admit_ok(&["audit", "search", "--event", "login", "--json"], None))[0];
    assert_eq!(login["outcome"], "failure");
    assert_eq!(login["address"], "127.0.0.1");
    let ancient = json_lines(&t.admit_ok(&["audit", "search", "--until", "1000", "--json"], None));
    assert!(ancient.is_empty(), "nothing was recorded in 1970");
    let text = t.admit_ok(&["audit", "search", "--since", "1h"], None);
    assert!(
        text.contains("consent.grant") && text.contains("client=site"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn editing_deleting_or_rewriting_records_is_detected() {
    let f = setup_with(|s| s.audit_anchor_interval = 1).await;
    let t = &f.t;
    for _ in 0..3 {
        t.token(
            Some(("site", "wrong")),
            &[("grant_type", "client_credentials")],
        )
        .await;
        t.admit_ok(&["user", "unlock", "alice"], None);
    }
    anchored(t).await;
    let (_, report) = verify(t);
    let head = report["records"].as_i64().unwrap();
    assert!(head >= 5, "{report}");
    let mut db = SqliteConnection::connect(&t.database_url()).await.unwrap();

    // An edited field.
    exec(
        &mut db,
        "UPDATE audit_log SET actor = 'cli:nobody' WHERE seq = 3",
    )
    .await;
    let out = t.admit(&["audit", "verify"], None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains("BROKEN at record 3") && stdout.contains("altered"),
        "{stdout}"
    );

    // The same edit with every later hash recomputed: the chain holds, the anchor does not.
    let rows: Vec<AuditRecord> = sqlx::query_as("SELECT * FROM audit_log ORDER BY seq")
        .fetch_all(&mut db)
        .await
        .unwrap();
    let mut prev = admit_store::GENESIS.to_owned();
    for r in rows {
        let hash = chain_hash(&prev, r.seq, &r.event());
        sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3")
            .bind(&prev)
            .bind(&hash)
            .bind(r.seq)
            .execute(&mut db)
            .await
            .unwrap();
        prev = hash;
    }
    let (ok, report) = verify(t);
    assert!(!ok);
    let reason = report["broken"]["reason"].as_str().unwrap();
    assert!(reason.contains("rewritten"), "{report}");

    // A deleted record in the middle, and a deleted tail.
    exec(
        &mut db,
        &format!("DELETE FROM audit_log WHERE seq = {}", head - 1),
    )
    .await;
    let (ok, report) = verify(t);
    assert!(!ok);
    assert_eq!(report["broken"]["seq"], head - 1, "{report}");
    assert!(
        report["broken"]["reason"]
            .as_str()
            .unwrap()
            .contains("missing")
    );
    exec(
        &mut db,
        &format!("DELETE FROM audit_log WHERE seq >= {}", head - 2),
    )
    .await;
    let (ok, report) = verify(t);
    assert!(!ok, "{report}");
    assert!(
        report["broken"]["reason"]
            .as_str()
            .unwrap()
            .contains("gone"),
        "{report}"
    );
}
