//! The revocation stream (Server-Sent Events) and signing-key rotation, as resource
//! servers meet them.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::provisioned;
use crate::lifecycle::post;

/// Reads SSE events from a streaming response until `until` returns true or 10 s pass.
pub async fn read_events(
    response: &mut reqwest::Response,
    mut until: impl FnMut(&[(String, String, String)]) -> bool,
) -> Vec<(String, String, String)> {
    let (mut buffer, mut events) = (String::new(), Vec::new());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !until(&events) {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, response.chunk())
            .await
            .expect("events in time")
            .unwrap()
            .expect("the stream stays open");
        buffer.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            };
            if block.lines().any(|l| l.starts_with("event:")) {
                events.push((field("event:"), field("id:"), field("data:")));
            }
        }
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_sends_a_snapshot_then_live_revocations_and_resumes() {
    let p = provisioned().await;
    let app = ("app", p.secret.as_str());
    let rs =
        p.t.add_client("api", &["--grant", "client_credentials", "--introspect"]);
    let (_, old) = p.login("read").await;
    post(
        &p.t,
        "/oauth2/revoke",
        app,
        &[("token", old["access_token"].as_str().unwrap())],
    )
    .await;

    let url = format!("{}/oauth2/revocations", p.t.base);
    let mut stream =
        p.t.http
            .get(&url)
            .basic_auth("api", Some(&rs))
            .send()
            .await
            .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let snapshot = read_events(&mut stream, |e| {
        e.iter().any(|(kind, _, _)| kind == "ready")
    })
    .await;
    assert_eq!(snapshot[0].0, "revocation");
    let first: Value = serde_json::from_str(&snapshot[0].2).unwrap();
    assert_eq!(first["kind"], "jti");

    // Live: a revocation made now arrives on the open stream.
    let (_, new) = p.login("read").await;
    post(
        &p.t,
        "/oauth2/revoke",
        app,
        &[("token", new["refresh_token"].as_str().unwrap())],
    )
    .await;
    let live = read_events(&mut stream, |e| {
        e.iter().any(|(_, _, data)| data.contains("\"grant\""))
    })
    .await;
    let last_id = live.last().unwrap().1.clone();

    // Resume: after Last-Event-ID, only what came later.
    p.t.admit_ok(
        &["user", "passwd", "alice", "--password-stdin"],
        Some("a fresh good password"),
    );
    let mut resumed =
        p.t.http
            .get(&url)
            .basic_auth("api", Some(&rs))
            .header("last-event-id", &last_id)
            .send()
            .await
            .unwrap();
    let events = read_events(&mut resumed, |e| {
        e.iter().any(|(kind, _, _)| kind == "ready")
    })
    .await;
    let kinds: Vec<String> = events
        .iter()
        .filter(|e| e.0 == "revocation")
        .map(|e| {
            serde_json::from_str::<Value>(&e.2).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        ["sub"],
        "only the password change came after {last_id}"
    );

    // Only registered resource servers may follow it.
    assert_eq!(
        p.t.http
            .get(&url)
            .basic_auth("app", Some(&p.secret))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        p.t.http
            .get(&url)
            .basic_auth("api", Some("wrong"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
}
