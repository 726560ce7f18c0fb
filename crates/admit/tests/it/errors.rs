//! Bad input at the token endpoint: each gets its RFC 6749 §5.2 error, never a 500.

use crate::harness::{PASSWORD, provisioned};

/// One bad request: what is sent, and the status and `error` expected.
struct Case {
    name: &'static str,
    content_type: &'static str,
    basic: Option<(&'static str, &'static str)>,
    body: String,
    status: u16,
    error: &'static str,
}

fn case(
    name: &'static str,
    basic: Option<(&'static str, &'static str)>,
    body: &str,
    status: u16,
    error: &'static str,
) -> Case {
    Case {
        name,
        content_type: "application/x-www-form-urlencoded",
        basic,
        body: body.to_owned(),
        status,
        error,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_request_gets_its_spec_error() {
    let p = provisioned().await;
    p.t.admit_ok(&["client", "add", "web", "--scope", "read"], None);
    let good = format!(
        "grant_type=password&username=alice&password={}",
        PASSWORD.replace(' ', "+")
    );
    let secret: &'static str = Box::leak(p.secret.clone().into_boxed_str());
    let app = Some(("app", secret));
    let cases = vec![
        Case {
            content_type: "application/json",
            ..case(
                "JSON body",
                app,
                "{\"grant_type\":\"password\"}",
                400,
                "invalid_request",
            )
        },
        Case {
            content_type: "text/plain",
            ..case("text body", app, &good, 400, "invalid_request")
        },
        case(
            "missing grant_type",
            app,
            "username=alice",
            400,
            "invalid_request",
        ),
        case(
            "repeated parameter",
            app,
            &format!("{good}&username=bob"),
            400,
            "invalid_request",
        ),
        case(
            "unknown grant type",
            app,
            "grant_type=urn:example:magic",
            400,
            "unsupported_grant_type",
        ),
        case(
            "implicit is not a grant",
            app,
            "grant_type=implicit",
            400,
            "unsupported_grant_type",
        ),
        case(
            "missing password",
            app,
            "grant_type=password&username=alice",
            400,
            "invalid_request",
        ),
        case(
            "wrong password",
            app,
            "grant_type=password&username=alice&password=nope-nope",
            400,
            "invalid_grant",
        ),
        case(
            "unknown user",
            app,
            "grant_type=password&username=mallory&password=nope-nope",
            400,
            "invalid_grant",
        ),
        case(
            "unknown client",
            Some(("ghost", "whatever")),
            &good,
            401,
            "invalid_client",
        ),
        case(
            "wrong secret",
            Some(("app", "not-the-secret")),
            &good,
            401,
            "invalid_client",
        ),
        case(
            "confidential client without secret",
            None,
            &format!("{good}&client_id=app"),
            401,
            "invalid_client",
        ),
        case("no client at all", None, &good, 400, "invalid_request"),
        case(
            "two auth methods",
            app,
            &format!("{good}&client_secret={secret}"),
            400,
            "invalid_request",
        ),
        case(
            "scope not allowed",
            app,
            &format!("{good}&scope=read+superuser"),
            400,
            "invalid_scope",
        ),
        case(
            "malformed scope",
            app,
            &format!("{good}&scope=read%22"),
            400,
            "invalid_scope",
        ),
        case(
            "unknown refresh token",
            app,
            "grant_type=refresh_token&refresh_token=forged",
            400,
            "invalid_grant",
        ),
        case("garbage body", app, "%%%&&&===", 400, "invalid_request"),
        case(
            "oversized body",
            app,
            &format!("{good}&pad={}", "x".repeat(20_000)),
            413,
            "invalid_request",
        ),
    ];
    for c in &cases {
        let mut request =
            p.t.http
                .post(format!("{}/oauth2/token", p.t.base))
                .header("content-type", c.content_type)
                .body(c.body.clone());
        if let Some((id, s)) = c.basic {
            request = request.basic_auth(id, Some(s));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        assert_eq!(
            (status, body["error"].as_str()),
            (c.status, Some(c.error)),
            "{}: {body}",
            c.name
        );
        assert!(body["error_description"].is_string(), "{}", c.name);
        assert_eq!(headers["cache-control"], "no-store", "{}", c.name);
        if c.error == "invalid_client" {
            assert!(
                headers["www-authenticate"]
                    .to_str()
                    .unwrap()
                    .starts_with("Basic"),
                "{}",
                c.name
            );
        }
    }

    // Not given the password grant: unauthorized_client.
    let web_secret = p.t.add_client("web2", &["--scope", "read"]);
    let (status, _, body) =
        p.t.token(
            Some(("web2", &web_secret)),
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );

    // An unknown user and a wrong password get the very same answer.
    let (_, _, unknown) =
        p.t.token(
            app,
            &[
                ("grant_type", "password"),
                ("username", "nobody"),
                ("password", "x-x-x-x-x"),
            ],
        )
        .await;
    let (_, _, wrong) =
        p.t.token(
            app,
            &[
                ("grant_type", "password"),
                ("username", "alice"),
                ("password", "x-x-x-x-x"),
            ],
        )
        .await;
    assert_eq!(unknown, wrong);

    // The server still works after all of that.
    assert_eq!(p.login("read").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_headers_and_repeated_authorization_are_refused() {
    let p = provisioned().await;
    let response =
        p.t.http
            .post(format!("{}/oauth2/token", p.t.base))
            .header("x-padding", "y".repeat(20_000))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
    assert_eq!(response.status(), 431);
    let response =
        p.t.http
            .post(format!("{}/oauth2/token", p.t.base))
            .header("authorization", "Basic YXBwOng=")
            .header("authorization", "Basic YXBwOnk=")
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    // Wrong method and unknown path are not 500s either.
    let get =
        p.t.http
            .get(format!("{}/oauth2/token", p.t.base))
            .send()
            .await
            .unwrap();
    assert_eq!(get.status(), 405);
    let missing =
        p.t.http
            .get(format!("{}/nope", p.t.base))
            .send()
            .await
            .unwrap();
    assert_eq!(missing.status(), 404);
}
