//! Why a request or a set-up was refused, and the one place a [`BearerError`]
//! becomes an HTTP answer (RFC 6750 §3).

use std::borrow::Cow;

use admit_jose::JoseError;
use axum_core::body::Body;
use axum_core::response::Response;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, StatusCode};
use thiserror::Error;

use crate::FetchError;

/// Why a protected request was refused. Turn it into an answer with
/// [`BearerError::to_response`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BearerError {
    /// No `Authorization` header: 401 with a challenge and no error code
    /// (RFC 6750 §3.1).
    #[error("the request has no access token")]
    MissingToken,
    /// An `Authorization` header that is not one `Bearer <b64token>`: 400
    /// `invalid_request` (RFC 6750 §3.1).
    #[error("malformed Authorization header: {0}")]
    InvalidRequest(&'static str),
    /// The token was refused (signature, key, type, issuer, audience, time): 401
    /// `invalid_token`.
    #[error("invalid access token: {0}")]
    InvalidToken(#[from] JoseError),
    /// A valid token without every scope the resource requires: 403
    /// `insufficient_scope` with the required scopes, space-separated.
    #[error("the access token lacks a required scope (needs {required:?})")]
    InsufficientScope { required: String },
    /// The issuer's keys could not be fetched and none are known: 503.
    #[error("the issuer's keys are unavailable")]
    KeysUnavailable,
    /// The token verifies but the issuer has revoked it: an entry of the revocation
    /// stream matches it, or introspection answered `active: false` (RFC 7662 §2.2).
    /// 401 `invalid_token`, like any other token that is no longer good.
    #[error("the access token has been revoked")]
    Revoked,
    /// Revocation is checked and whether this token is revoked cannot be known now:
    /// the revocation stream has been silent for longer than the bound (with
    /// [`FailMode::Closed`](crate::FailMode::Closed)), or the introspection endpoint
    /// did not answer. 503 with `Retry-After` (RFC 9110 §10.2.3).
    #[error("the token's revocation state is unknown")]
    RevocationUnknown,
}

/// Why a [`Verifier`](crate::Verifier) could not be built.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SetupError {
    /// Neither well-known metadata document could be fetched; the error is the last one.
    #[error("issuer discovery failed: {0}")]
    Discovery(#[source] FetchError),
    /// The metadata names another issuer than the one configured (RFC 8414 §3.3).
    #[error("the metadata is for issuer {found:?}, not {expected:?}")]
    IssuerMismatch { expected: String, found: String },
    #[error("the issuer metadata has no jwks_uri")]
    NoJwksUri,
    /// The metadata lacks the endpoint the chosen revocation mode needs
    /// (`introspection_endpoint` or `revocation_stream_endpoint`).
    #[error("the issuer metadata has no {0}")]
    NoEndpoint(&'static str),
    #[error("{0:?} is not a usable URL")]
    InvalidUrl(String),
    #[error("fetching the JWKS failed: {0}")]
    Jwks(#[source] FetchError),
    #[error("could not create the HTTP client: {0}")]
    HttpClient(#[source] reqwest::Error),
    /// The revocation stream could not be followed up to its `ready` event: bad
    /// client credentials (401), a client not allowed to follow it (403), or admit
    /// unreachable.
    #[error("following the revocation stream failed: {0}")]
    RevocationStream(#[source] FetchError),
    /// The introspection endpoint did not answer the start-up probe, or refused the
    /// client's credentials (401).
    #[error("the introspection endpoint failed: {0}")]
    Introspection(#[source] FetchError),
    /// The builder's options contradict each other.
    #[error("invalid verifier configuration: {0}")]
    Config(&'static str),
}

/// Seconds a client should wait after a 503: the revocation stream's longest
/// reconnection delay, and a reasonable pause for an introspection endpoint.
const RETRY_AFTER_SECONDS: &str = "5";

impl BearerError {
    /// The HTTP answer, with `realm` in the challenge. Every answer has a JSON body
    /// `{"error", "error_description"}` and `Cache-Control: no-store`.
    pub fn to_response(&self, realm: &str) -> Response {
        let (status, code) = match self {
            // RFC 6750 §3.1: no error code when the request lacks credentials.
            Self::MissingToken => (StatusCode::UNAUTHORIZED, None),
            Self::InvalidRequest(_) => (StatusCode::BAD_REQUEST, Some("invalid_request")),
            Self::InvalidToken(_) => (StatusCode::UNAUTHORIZED, Some("invalid_token")),
            Self::InsufficientScope { .. } => (StatusCode::FORBIDDEN, Some("insufficient_scope")),
            Self::KeysUnavailable | Self::RevocationUnknown => {
                (StatusCode::SERVICE_UNAVAILABLE, None)
            }
            Self::Revoked => (StatusCode::UNAUTHORIZED, Some("invalid_token")),
        };
        let description = self.description();
        let body_code = match self {
            Self::MissingToken => "unauthorized",
            Self::KeysUnavailable | Self::RevocationUnknown => "temporarily_unavailable",
            _ => code.unwrap_or_default(),
        };
        let body = serde_json::json!({"error": body_code, "error_description": description});

        let mut response = Response::new(Body::from(body.to_string()));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Self::RevocationUnknown = self {
            headers.insert(RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECONDS));
        }
        if status != StatusCode::SERVICE_UNAVAILABLE {
            // RFC 6750 §3: the challenge, with attributes as quoted strings.
            let mut challenge = format!("Bearer realm=\"{}\"", quotable(realm));
            if let Some(code) = code {
                challenge += &format!(
                    ", error=\"{code}\", error_description=\"{}\"",
                    quotable(&description)
                );
            }
            if let Self::InsufficientScope { required } = self {
                challenge += &format!(", scope=\"{}\"", quotable(required));
            }
            let challenge =
                HeaderValue::from_str(&challenge).unwrap_or(HeaderValue::from_static("Bearer"));
            headers.insert(WWW_AUTHENTICATE, challenge);
        }
        response
    }

    /// Short and safe to show the client: fixed texts, never a token, a key or a
    /// value taken from the token.
    fn description(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Self::MissingToken => "this resource needs an access token in Authorization: Bearer",
            Self::InvalidRequest(why) => why,
            Self::InvalidToken(e) => return jose_description(e),
            Self::InsufficientScope { .. } => {
                "the access token does not grant the scope this resource requires"
            }
            Self::KeysUnavailable => "the issuer's keys could not be fetched; try again later",
            Self::Revoked => "the access token has been revoked",
            Self::RevocationUnknown => {
                "whether the access token has been revoked cannot be checked now; try again later"
            }
        })
    }
}

fn jose_description(error: &JoseError) -> Cow<'static, str> {
    Cow::Borrowed(match error {
        JoseError::Malformed(_) | JoseError::TooLarge => "the access token is malformed",
        JoseError::UnsupportedAlgorithm(_)
        | JoseError::AlgorithmNotAllowed(_)
        | JoseError::KeyAlgorithmMismatch { .. } => "the token's signing algorithm is not accepted",
        JoseError::UnknownKey(_) => "the token is signed with an unknown key",
        JoseError::BadSignature => "the token's signature does not verify",
        JoseError::UnknownCritical(_) => "the token has an unsupported critical header",
        JoseError::WrongType { .. } => "the token is not an access token (typ must be at+jwt)",
        JoseError::Expired => "the access token has expired",
        JoseError::NotYetValid => "the access token is not valid yet",
        JoseError::WrongIssuer(_) => "the token is from another issuer",
        JoseError::WrongAudience => "the token is not meant for this resource",
        JoseError::MissingClaim(name) => {
            return Cow::Owned(format!("the token lacks the {name} claim"));
        }
        _ => "the access token could not be verified",
    })
}

/// What may stand inside a quoted `error_description` or `scope`: RFC 6750 §3 allows
/// %x20-21 / %x23-5B / %x5D-7E, so no `"`, no `\` and nothing outside printable
/// ASCII. Anything else becomes `?`; escaping is not an option the RFC leaves open.
fn quotable(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' => c,
            _ => '?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge(error: BearerError, realm: &str) -> (u16, String) {
        let response = error.to_response(realm);
        let header = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap().to_owned());
        (response.status().as_u16(), header.unwrap_or_default())
    }

    #[test]
    fn missing_token_has_no_error_code() {
        assert_eq!(
            challenge(BearerError::MissingToken, "api"),
            (401, r#"Bearer realm="api""#.into())
        );
    }

    #[test]
    fn insufficient_scope_names_the_scope() {
        let error = BearerError::InsufficientScope {
            required: "admin write".into(),
        };
        assert_eq!(
            challenge(error, "api"),
            (
                403,
                r#"Bearer realm="api", error="insufficient_scope", error_description="the access token does not grant the scope this resource requires", scope="admin write""#.into()
            )
        );
    }

    #[test]
    fn quoted_values_cannot_break_out() {
        assert_eq!(quotable(r#"a"b\c"#), "a?b?c");
        assert_eq!(quotable("é\r\n\t"), "????");
        let (_, header) = challenge(BearerError::MissingToken, "my \"realm\"");
        assert_eq!(header, r#"Bearer realm="my ?realm?""#);
    }

    #[test]
    fn keys_unavailable_is_503_without_challenge() {
        assert_eq!(
            challenge(BearerError::KeysUnavailable, "api"),
            (503, String::new())
        );
    }

    #[test]
    fn revoked_is_invalid_token() {
        let (status, header) = challenge(BearerError::Revoked, "api");
        assert_eq!(status, 401);
        assert!(header.contains(r#"error="invalid_token""#), "{header}");
        assert!(header.contains("revoked"), "{header}");
    }

    #[test]
    fn unknown_revocation_state_is_503_with_retry_after() {
        let response = BearerError::RevocationUnknown.to_response("api");
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()[RETRY_AFTER], RETRY_AFTER_SECONDS);
        assert!(response.headers().get(WWW_AUTHENTICATE).is_none());
    }
}
