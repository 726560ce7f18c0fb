//! Push mode: the verifier follows the mock's revocation stream (Server-Sent Events)
//! and refuses revoked tokens; it resumes with `Last-Event-ID` and fails closed or
//! open once the stream is silent past the bound.

use std::time::Duration;

use admit_resource::{FailMode, FetchError, SetupError, Verifier};
use serde_json::{Value, json};

use crate::warnings::Warnings;
use crate::{
    AUD, Answer, CLIENT_ID, CLIENT_SECRET, MockIssuer, claims_with, eventually, now, sign,
    spawn_api,
};

/// Generous: a revocation normally takes a few milliseconds to arrive.
const PROPAGATION: Duration = Duration::from_secs(3);
/// Covers the reconnection backoff (at most 5 s) once the mock is back.
const RECONNECTION: Duration = Duration::from_secs(8);

struct Push {
    issuer: MockIssuer,
    verifier: Verifier,
    api: String,
}

/// A mock issuer, a verifier in push mode (default failure handling unless
/// `failure`), and the API.
async fn push(failure: Option<(FailMode, Duration)>) -> Push {
    push_to(MockIssuer::start().await, failure).await
}

async fn push_to(issuer: MockIssuer, failure: Option<(FailMode, Duration)>) -> Push {
    let mut builder =
        Verifier::builder(&issuer.url, AUD).revocation_stream(CLIENT_ID, CLIENT_SECRET);
    if let Some((mode, bound)) = failure {
        builder = builder.stream_failure(mode, bound);
    }
    let verifier = builder.build().await.unwrap();
    let api = spawn_api(verifier.clone()).await;
    Push {
        issuer,
        verifier,
        api,
    }
}

impl Push {
    /// GET /me with a token of the default claims changed by `changes`.
    async fn get_me(&self, changes: &Value) -> Answer {
        let token = sign(
            &self.issuer.key,
            &claims_with(&self.issuer.url, changes.clone()),
        );
        crate::get(&format!("{}/me", self.api), &[&format!("Bearer {token}")]).await
    }

    async fn wait_until_revoked(&self, changes: &Value, limit: Duration) {
        eventually("the token is refused", limit, async || {
            self.get_me(changes).await.status == 401
        })
        .await;
        self.get_me(changes).await.assert_revoked();
    }
}

/// Pushes one revocation: a token with `revoked` claims must soon be refused, one
/// with `kept` claims still accepted.
async fn check(entry: (&str, &str, i64), revoked: Value, kept: Value) {
    let push = push(None).await;
    push.get_me(&revoked).await.assert_ok_for("alice");
    let (kind, value, revoked_at) = entry;
    push.issuer.revoke(kind, value, revoked_at);
    push.wait_until_revoked(&revoked, PROPAGATION).await;
    let sub = kept["sub"].as_str().unwrap_or("alice").to_owned();
    push.get_me(&kept).await.assert_ok_for(&sub);
}

#[tokio::test]
async fn revoked_by_jti() {
    check(("jti", "j1", now()), json!({}), json!({"jti": "j2"})).await;
}

#[tokio::test]
async fn revoked_by_session() {
    check(
        ("sid", "s1", now()),
        json!({"sid": "s1"}),
        json!({"sid": "s2"}),
    )
    .await;
}

#[tokio::test]
async fn revoked_by_grant() {
    check(
        ("grant", "g1", now()),
        json!({"gid": "g1"}),
        json!({"gid": "g2"}),
    )
    .await;
}

/// A client's tokens issued up to the revocation, not the ones issued after it.
#[tokio::test]
async fn revoked_by_client_up_to_revoked_at() {
    let t = now();
    check(
        ("client", "app", t - 60),
        json!({"iat": t - 120}),
        json!({"iat": t - 59}),
    )
    .await;
    check(
        ("client", "app", t - 60),
        json!({"iat": t - 60}),
        json!({"iat": t - 120, "client_id": "other-app"}),
    )
    .await;
}

#[tokio::test]
async fn revoked_by_sub_up_to_revoked_at() {
    let t = now();
    check(
        ("sub", "alice", t - 60),
        json!({"iat": t - 60}),
        json!({"iat": t}),
    )
    .await;
    check(
        ("sub", "alice", t),
        json!({"iat": t - 1}),
        json!({"sub": "bob", "iat": t - 1}),
    )
    .await;
}

/// Revocations made before the verifier started come in the snapshot, which
/// `build` waits for: refused from the first request, no polling.
#[tokio::test]
async fn the_snapshot_comes_first() {
    let issuer = MockIssuer::start().await;
    issuer.revoke("jti", "j1", now());
    issuer.revoke("sub", "bob", now());
    let push = push_to(issuer, None).await;

    push.get_me(&json!({})).await.assert_revoked();
    push.get_me(&json!({"sub": "bob", "jti": "j2"}))
        .await
        .assert_revoked();
    push.get_me(&json!({"jti": "j2"}))
        .await
        .assert_ok_for("alice");
    let status = push.verifier.revocation_status().unwrap();
    assert!(status.connected, "{status:?}");
    assert_eq!((status.last_event_id, status.entries), (2, 2), "{status:?}");
    assert!(status.since_contact < Duration::from_secs(5), "{status:?}");
    assert_eq!(push.issuer.last_event_ids(), [None]);
}

/// The stream ends (admit closes it); what is revoked meanwhile is not lost.
#[tokio::test]
async fn resumes_with_last_event_id_after_the_stream_ends() {
    let push = push(None).await;
    push.issuer.revoke("jti", "j1", now());
    push.wait_until_revoked(&json!({}), PROPAGATION).await;

    push.issuer.drop_streams();
    push.issuer.revoke("jti", "j2", now());
    push.wait_until_revoked(&json!({"jti": "j2"}), RECONNECTION)
        .await;
    assert_eq!(push.issuer.last_event_ids(), [None, Some("1".into())]);
    push.get_me(&json!({"jti": "j3"}))
        .await
        .assert_ok_for("alice");
}

/// admit restarts on the same port; revocations made while it was down arrive when
/// the verifier reconnects.
#[tokio::test]
async fn catches_up_after_a_restart() {
    let push = push(None).await;
    push.issuer.revoke("jti", "j1", now());
    push.wait_until_revoked(&json!({}), PROPAGATION).await;

    push.issuer.stop().await;
    eventually("the verifier notices", PROPAGATION, async || {
        !push.verifier.revocation_status().unwrap().connected
    })
    .await;
    push.issuer.revoke("jti", "j2", now());
    push.issuer.revoke("sid", "s9", now());
    // Within the 30 s bound: checks go on with what the verifier knows.
    push.get_me(&json!({"jti": "j3"}))
        .await
        .assert_ok_for("alice");

    push.issuer.restart().await;
    push.wait_until_revoked(&json!({"jti": "j2"}), RECONNECTION)
        .await;
    push.wait_until_revoked(&json!({"jti": "j3", "sid": "s9"}), PROPAGATION)
        .await;
    assert_eq!(push.issuer.last_event_ids().last(), Some(&Some("1".into())));
    let status = push.verifier.revocation_status().unwrap();
    assert!(status.connected, "{status:?}");
    assert_eq!((status.last_event_id, status.entries), (3, 3), "{status:?}");
}

#[tokio::test]
async fn fails_closed_past_the_bound_and_recovers() {
    let bound = Duration::from_millis(500);
    let push = push(Some((FailMode::Closed, bound))).await;
    push.issuer.revoke("jti", "j1", now());
    push.wait_until_revoked(&json!({}), PROPAGATION).await;
    let fresh = json!({"jti": "j2"});
    push.get_me(&fresh).await.assert_ok_for("alice");

    push.issuer.stop().await;
    eventually("the verifier fails closed", PROPAGATION, async || {
        push.get_me(&fresh).await.status == 503
    })
    .await;
    let answer = push.get_me(&fresh).await;
    answer.assert_revocation_unknown();
    assert_eq!(answer.challenge, None, "{answer:?}");
    let status = push.verifier.revocation_status().unwrap();
    assert!(
        !status.connected && status.since_contact > bound,
        "{status:?}"
    );
    // What is known to be revoked is still refused as such.
    push.get_me(&json!({})).await.assert_revoked();

    push.issuer.restart().await;
    eventually("the verifier recovers", RECONNECTION, async || {
        push.get_me(&fresh).await.status == 200
    })
    .await;
    assert!(push.verifier.revocation_status().unwrap().connected);
}

/// The trade-off of failing open: during the outage a token revoked meanwhile works.
#[tokio::test]
async fn fails_open_past_the_bound_when_asked() {
    let bound = Duration::from_millis(300);
    let push = push(Some((FailMode::Open, bound))).await;
    push.issuer.revoke("jti", "j1", now());
    push.wait_until_revoked(&json!({}), PROPAGATION).await;

    push.issuer.stop().await;
    push.issuer.revoke("jti", "j2", now());
    eventually(
        "the stream is silent past the bound",
        PROPAGATION,
        async || push.verifier.revocation_status().unwrap().since_contact > bound,
    )
    .await;
    push.get_me(&json!({"jti": "j2"}))
        .await
        .assert_ok_for("alice");
    push.get_me(&json!({})).await.assert_revoked();
}

/// Once per outage, not once per request, and again for the next outage.
#[tokio::test]
async fn an_outage_past_the_bound_is_reported_once() {
    let (warnings, _guard) = Warnings::capture();
    let bound = Duration::from_millis(300);
    let push = push(Some((FailMode::Closed, bound))).await;
    let silent = "silent for longer than the bound";
    for outage in 1..=2 {
        push.issuer.stop().await;
        eventually("the verifier fails closed", PROPAGATION, async || {
            push.get_me(&json!({})).await.status == 503
        })
        .await;
        for _ in 0..10 {
            push.get_me(&json!({})).await.assert_revocation_unknown();
        }
        assert_eq!(warnings.count(silent), outage);
        push.issuer.restart().await;
        eventually("the verifier recovers", RECONNECTION, async || {
            push.get_me(&json!({})).await.status == 200
        })
        .await;
    }
}

#[tokio::test]
async fn a_stream_that_refuses_the_client_fails_the_build() {
    let issuer = MockIssuer::start().await;
    let build = |secret: &str| {
        Verifier::builder(&issuer.url, AUD)
            .revocation_stream(CLIENT_ID, secret)
            .build()
    };
    let error = build("wrong").await.unwrap_err();
    assert!(
        matches!(
            error,
            SetupError::RevocationStream(FetchError::Status { status: 401, .. })
        ),
        "{error}"
    );
    issuer.forbid_stream();
    let error = build(CLIENT_SECRET).await.unwrap_err();
    assert!(
        matches!(
            error,
            SetupError::RevocationStream(FetchError::Status { status: 403, .. })
        ),
        "{error}"
    );
}

#[tokio::test]
async fn revocation_options_that_make_no_sense_fail_the_build() {
    let issuer = MockIssuer::start().await;
    let builder = || Verifier::builder(&issuer.url, AUD);
    let cases = [
        builder().stream_failure(FailMode::Open, Duration::from_secs(5)),
        builder()
            .revocation_stream(CLIENT_ID, CLIENT_SECRET)
            .introspection(CLIENT_ID, CLIENT_SECRET, Duration::ZERO),
        builder()
            .revocation_stream(CLIENT_ID, CLIENT_SECRET)
            .stream_failure(FailMode::Closed, Duration::ZERO),
    ];
    for builder in cases {
        let error = builder.build().await.unwrap_err();
        assert!(matches!(error, SetupError::Config(_)), "{error}");
    }
    issuer.without_revocation_endpoints();
    let error = builder()
        .revocation_stream(CLIENT_ID, CLIENT_SECRET)
        .build()
        .await
        .unwrap_err();
    assert!(
        matches!(error, SetupError::NoEndpoint("revocation_stream_endpoint")),
        "{error}"
    );
}

#[tokio::test]
async fn local_mode_has_no_revocation_status() {
    let issuer = MockIssuer::start().await;
    let verifier = Verifier::builder(&issuer.url, AUD).build().await.unwrap();
    assert_eq!(verifier.revocation_status(), None);
}
