//! The recording HTTP client, and the masking that makes its records safe to show.
//!
//! Every back-channel request the site makes (discovery, JWKS, the token endpoint,
//! UserInfo, the demo API) goes through [`Recording::send`]: openidconnect is given a
//! closure over it as its async HTTP client, so the timeline shows each exchange as
//! it was sent and answered. Only masked copies are kept: no client secret,
//! authorization code, `code_verifier` or token is ever stored in a record.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};
use serde_json::Value;
use url::form_urlencoded;

/// Parameter and JSON member names whose values are secrets. `state`, `nonce` and
/// `code_challenge` are not: they travel through the browser anyway.
const SENSITIVE: &[&str] = &[
    "access_token",
    "assertion",
    "client_assertion",
    "client_secret",
    "code",
    "code_verifier",
    "device_code",
    "id_token",
    "id_token_hint",
    "password",
    "refresh_token",
    "token",
];

/// The most of a response body the site reads (discovery documents and tokens are
/// far smaller).
const MAX_BODY: usize = 1024 * 1024;
/// The most of a body a record keeps for display.
const MAX_SHOWN: usize = 8 * 1024;

/// One HTTP request and its answer, masked.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub request: RecordedRequest,
    /// The response, or why there was none (connection refused, time-out...).
    pub response: Result<RecordedResponse, String>,
}

#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Clone, Debug)]
pub struct RecordedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// Why the recording client could not get a response.
#[derive(Debug)]
pub struct SendError(String);

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SendError {}

/// The site's one reqwest client: no redirects followed (a redirect from an
/// identity provider's back channel is never expected, and following one invites
/// SSRF), and a time-out so a stalled server cannot hang a page.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()?)
}

/// The exchanges of one flow (one callback or button press). It is the async HTTP
/// client handed to openidconnect (see the [`AsyncHttpClient`] impl below).
pub struct Recording<'a> {
    client: &'a reqwest::Client,
    exchanges: Mutex<Vec<Exchange>>,
}

impl<'a> Recording<'a> {
    pub fn new(client: &'a reqwest::Client) -> Self {
        Recording {
            client,
            exchanges: Mutex::new(Vec::new()),
        }
    }

    /// Sends `request` with reqwest and keeps a masked record of it. This is the
    /// function given to openidconnect as its HTTP client.
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse, SendError> {
        let recorded = record_request(&request);
        let result = self.execute(request).await;
        let response = match &result {
            Ok(response) => Ok(record_response(response)),
            Err(error) => Err(error.to_string()),
        };
        self.exchanges
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(Exchange {
                request: recorded,
                response,
            });
        result
    }

    async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, SendError> {
        let request = reqwest::Request::try_from(request)
            .map_err(|e| SendError(format!("could not build the request: {e}")))?;
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(|e| SendError(describe_reqwest_error(&e)))?;
        let mut builder = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| SendError(describe_reqwest_error(&e)))?
        {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(SendError("the response body is larger than 1 MiB".into()));
            }
            body.extend_from_slice(&chunk);
        }
        builder
            .body(body)
            .map_err(|e| SendError(format!("bad response: {e}")))
    }

    /// The exchanges recorded so far, oldest first, leaving none behind.
    pub fn take(&self) -> Vec<Exchange> {
        std::mem::take(
            &mut *self
                .exchanges
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

/// openidconnect's HTTP client: every request it makes goes through
/// [`Recording::send`]. (A closure would do as well, were it not that axum needs
/// the handler futures to be `Send` for every lifetime, which a boxed future
/// proves and a closure's opaque one does not.)
impl<'c> AsyncHttpClient<'c> for Recording<'_> {
    type Error = SendError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, SendError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

fn describe_reqwest_error(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn record_request(request: &HttpRequest) -> RecordedRequest {
    let content_type = header(request.headers(), http::header::CONTENT_TYPE);
    RecordedRequest {
        method: request.method().to_string(),
        url: mask_url(&request.uri().to_string()),
        headers: mask_headers(request.headers()),
        body: mask_body(request.body(), content_type.as_deref()),
    }
}

fn record_response(response: &HttpResponse) -> RecordedResponse {
    let content_type = header(response.headers(), http::header::CONTENT_TYPE);
    RecordedResponse {
        status: response.status().as_u16(),
        headers: mask_headers(response.headers()),
        body: mask_body(response.body(), content_type.as_deref()),
    }
}

fn header(headers: &http::HeaderMap, name: http::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// Hides a secret but keeps enough to tell two apart: the first and last four
/// characters of a long value (the first four of a shorter one), and its length.
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let n = chars.len();
    let start: String = chars.iter().take(4).collect();
    match n {
        32.. => {
            let end: String = chars[n - 4..].iter().collect();
            format!("{start}…{end} [{n} chars, masked]")
        }
        20.. => format!("{start}… [{n} chars, masked]"),
        _ => format!("[{n} chars, masked]"),
    }
}

fn is_sensitive(name: &str) -> bool {
    SENSITIVE.contains(&name)
}

/// An `Authorization` header value, masked: the scheme stays, the credentials go.
/// For `Basic` the client_id stays visible, since it is not a secret.
pub fn mask_authorization(value: &str) -> String {
    let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        let client_id = STANDARD
            .decode(credentials.trim())
            .ok()
            .and_then(|decoded| String::from_utf8(decoded).ok())
            .and_then(|decoded| decoded.split_once(':').map(|(id, _)| id.to_owned()));
        // RFC 6749 §2.3.1: the client_id is form-urlencoded before base64.
        let client_id = client_id.and_then(|id| {
            form_urlencoded::parse(id.as_bytes())
                .next()
                .map(|(id, _)| id.into_owned())
        });
        return match client_id {
            Some(id) => format!("Basic [base64 of \"{id}:<client_secret, masked>\"]"),
            None => "Basic [masked]".to_owned(),
        };
    }
    format!("{scheme} {}", mask(credentials.trim()))
}

fn mask_headers(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let text = value.to_str().unwrap_or("[not text]");
            let shown = match name.as_str() {
                "authorization" | "proxy-authorization" => mask_authorization(text),
                "cookie" | "set-cookie" => "[masked]".to_owned(),
                _ => text.to_owned(),
            };
            (name.as_str().to_owned(), shown)
        })
        .collect()
}

/// `key=value` pairs with sensitive values masked. Values that stay are
/// re-encoded; masked ones are left readable.
pub fn mask_form(form: &str) -> String {
    form_urlencoded::parse(form.as_bytes())
        .map(|(key, value)| {
            let shown = if is_sensitive(&key) {
                mask(&value)
            } else {
                form_urlencoded::byte_serialize(value.as_bytes()).collect()
            };
            let key: String = form_urlencoded::byte_serialize(key.as_bytes()).collect();
            format!("{key}={shown}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A URL with the sensitive query parameters masked (for example the `code` in the
/// callback URL, or the `id_token_hint` of a logout).
pub fn mask_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, query)) => {
            let (query, fragment) = match query.split_once('#') {
                Some((query, fragment)) => (query, Some(fragment)),
                None => (query, None),
            };
            let mut masked = format!("{base}?{}", mask_form(query));
            if let Some(fragment) = fragment {
                masked.push('#');
                masked.push_str(&mask_form(fragment));
            }
            masked
        }
        None => url.to_owned(),
    }
}

/// A JSON value with every sensitive member masked, at any depth.
pub fn mask_json(value: &mut Value) {
    match value {
        Value::Object(members) => {
            for (name, member) in members.iter_mut() {
                match member {
                    Value::String(secret) if is_sensitive(name) => *secret = mask(secret),
                    other => mask_json(other),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_json),
        _ => {}
    }
}

/// A body as text, masked according to its content type, at most 8 KiB.
pub fn mask_body(body: &[u8], content_type: Option<&str>) -> String {
    if body.is_empty() {
        return String::new();
    }
    let media_type = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|ct| ct.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let Ok(text) = std::str::from_utf8(body) else {
        return format!("[{} bytes of binary data]", body.len());
    };
    let shown = if media_type == "application/x-www-form-urlencoded" {
        mask_form(text)
    } else if let Ok(mut json) = serde_json::from_str::<Value>(text) {
        mask_json(&mut json);
        serde_json::to_string_pretty(&json).unwrap_or_default()
    } else if media_type == "application/jwt" || looks_like_jwt(text) {
        mask(text.trim())
    } else {
        text.to_owned()
    };
    truncate(shown)
}

fn looks_like_jwt(text: &str) -> bool {
    let text = text.trim();
    text.starts_with("eyJ") && text.matches('.').count() >= 2 && !text.contains(char::is_whitespace)
}

fn truncate(mut text: String) -> String {
    if text.len() > MAX_SHOWN {
        let mut end = MAX_SHOWN;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        text.push_str("\n[… cut]");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t-client-secret-value";
    const CODE: &str = "SplxlOBeZQQYbYS6WxSbIA-authorization-code";
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const TOKEN: &str =
        "eyJhbGciOiJSUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl";
    const REFRESH: &str = "8xLOxBtZp8-refresh-token-opaque-value";

    fn assert_no_secret(shown: &str) {
        for secret in [SECRET, CODE, VERIFIER, TOKEN, REFRESH] {
            assert!(!shown.contains(secret), "{secret} survived in {shown}");
        }
    }

    #[test]
    fn mask_keeps_a_short_prefix_and_the_length_only() {
        assert_eq!(
            mask(TOKEN),
            format!("eyJh…dXJl [{} chars, masked]", TOKEN.len())
        );
        assert_eq!(mask("twenty-four-characters!!"), "twen… [24 chars, masked]");
        assert_eq!(mask("short"), "[5 chars, masked]");
        assert_no_secret(&mask(CODE));
    }

    #[test]
    fn token_request_body_is_masked() {
        let body = format!(
            "grant_type=authorization_code&code={CODE}&code_verifier={VERIFIER}\
             &redirect_uri=http%3A%2F%2F127.0.0.1%3A8082%2Fcallback&client_secret={SECRET}"
        );
        let shown = mask_body(body.as_bytes(), Some("application/x-www-form-urlencoded"));
        assert_no_secret(&shown);
        assert!(shown.contains("grant_type=authorization_code"));
        assert!(shown.contains("redirect_uri=http%3A%2F%2F127.0.0.1%3A8082%2Fcallback"));
        assert!(shown.contains("code=Splx…"));
    }

    #[test]
    fn refresh_request_body_is_masked() {
        let body = format!("grant_type=refresh_token&refresh_token={REFRESH}");
        let shown = mask_form(&body);
        assert_no_secret(&shown);
        assert!(shown.starts_with("grant_type=refresh_token&refresh_token=8xLO…"));
    }

    #[test]
    fn token_response_json_is_masked_at_any_depth() {
        let body = serde_json::json!({
            "access_token": TOKEN,
            "id_token": TOKEN,
            "refresh_token": REFRESH,
            "token_type": "Bearer",
            "expires_in": 300,
            "nested": [{"code": CODE}],
        })
        .to_string();
        let shown = mask_body(body.as_bytes(), Some("application/json; charset=utf-8"));
        assert_no_secret(&shown);
        assert!(shown.contains("\"token_type\": \"Bearer\""));
        assert!(shown.contains("\"expires_in\": 300"));
    }

    #[test]
    fn a_bare_jwt_body_is_masked() {
        assert_no_secret(&mask_body(TOKEN.as_bytes(), Some("application/jwt")));
        assert_no_secret(&mask_body(TOKEN.as_bytes(), None));
    }

    #[test]
    fn callback_and_logout_urls_are_masked() {
        let callback = format!(
            "http://127.0.0.1:8082/callback?code={CODE}&state=xyz&iss=http%3A%2F%2F127.0.0.1%3A8080"
        );
        let shown = mask_url(&callback);
        assert_no_secret(&shown);
        assert!(shown.contains("state=xyz"));
        assert!(shown.contains("iss=http%3A%2F%2F127.0.0.1%3A8080"));
        let logout = format!("http://127.0.0.1:8080/oauth2/logout?id_token_hint={TOKEN}&state=abc");
        assert_no_secret(&mask_url(&logout));
        assert_eq!(mask_url("http://x/y"), "http://x/y");
    }

    #[test]
    fn authorization_headers_are_masked() {
        let basic = STANDARD.encode(format!("demo-site:{SECRET}"));
        let shown = mask_authorization(&format!("Basic {basic}"));
        assert_no_secret(&shown);
        assert!(!shown.contains(&basic));
        assert!(shown.contains("demo-site"));
        let shown = mask_authorization(&format!("Bearer {TOKEN}"));
        assert_no_secret(&shown);
        assert!(shown.starts_with("Bearer eyJh…"));
        assert_eq!(mask_authorization("Basic !!!"), "Basic [masked]");
    }

    #[test]
    fn recorded_requests_mask_headers_and_body() {
        let request = http::Request::builder()
            .method("POST")
            .uri("http://127.0.0.1:8080/oauth2/token")
            .header(
                "authorization",
                format!("Basic {}", STANDARD.encode(format!("site:{SECRET}"))),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .header("cookie", "admit_session=abc")
            .body(
                format!("grant_type=authorization_code&code={CODE}&code_verifier={VERIFIER}")
                    .into_bytes(),
            )
            .unwrap();
        let recorded = record_request(&request);
        let all = format!("{recorded:?}");
        assert_no_secret(&all);
        assert!(!all.contains("admit_session=abc"));
        assert_eq!(recorded.method, "POST");
    }
}
