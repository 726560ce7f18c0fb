//! The one place errors become HTTP responses.
//!
//! At the token endpoint the form is RFC 6749 §5.2: a JSON body with `error` and
//! `error_description`, 400, or 401 with `WWW-Authenticate` for `invalid_client`.
//! Anything unexpected becomes a bare 500, logged once, with no detail sent out.

use admit_oauth::{ErrorCode, OAuthError};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug)]
pub enum ApiError {
    /// A protocol error the client should see.
    OAuth(OAuthError),
    /// A resource-server error at UserInfo (RFC 6750 §3.1): `invalid_request`,
    /// `invalid_token` or `insufficient_scope`, or `None` when no token was sent.
    Bearer(StatusCode, Option<&'static str>, &'static str),
    /// An authenticated client asking for something it is not allowed (403).
    Forbidden(OAuthError),
    /// The database cannot be reached: try again shortly (503 with `Retry-After`).
    Unavailable,
    /// Too many failures: wait this many seconds (429 with `Retry-After`).
    Throttled(OAuthError, i64),
    /// The request body or headers exceed admit's limits.
    TooLarge(StatusCode),
    Internal(anyhow::Error),
}

impl From<OAuthError> for ApiError {
    fn from(e: OAuthError) -> Self {
        ApiError::OAuth(e)
    }
}

impl From<admit_store::StoreError> for ApiError {
    fn from(e: admit_store::StoreError) -> Self {
        crate::metrics::DATABASE_ERRORS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if e.is_unavailable() {
            tracing::warn!(request_id = crate::observe::request_id().as_deref(), error = %e, "database unavailable");
            ApiError::Unavailable
        } else {
            ApiError::Internal(e.into())
        }
    }
}

impl From<crate::password::Busy> for ApiError {
    fn from(_: crate::password::Busy) -> Self {
        tracing::warn!(
            request_id = crate::observe::request_id().as_deref(),
            "password checks are saturated: refusing a login"
        );
        ApiError::Unavailable
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        ApiError::Internal(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, body) = match self {
            ApiError::Bearer(status, error, description) => {
                // RFC 6750 §3: the challenge carries the error; without a token, no error code.
                let challenge = match error {
                    Some(e) => format!(
                        "Bearer realm=\"admit\", error=\"{e}\", error_description=\"{description}\""
                    ),
                    None => "Bearer realm=\"admit\"".to_owned(),
                };
                let body = match error {
                    Some(e) => serde_json::json!({"error": e, "error_description": description}),
                    None => serde_json::json!({"error_description": description}),
                };
                let mut response = (status, Json(body)).into_response();
                let h = response.headers_mut();
                h.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_str(&challenge).expect("ASCII challenge"),
                );
                h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                return response;
            }
            ApiError::OAuth(e) => {
                let status = match e.error {
                    ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
                    _ => StatusCode::BAD_REQUEST,
                };
                (status, e)
            }
            ApiError::Forbidden(e) => (StatusCode::FORBIDDEN, e),
            ApiError::Unavailable => {
                let body = serde_json::json!({
                    "error": "temporarily_unavailable",
                    "error_description": "the service is briefly unavailable; try again",
                });
                let headers = [
                    (header::RETRY_AFTER, "5"),
                    (header::CACHE_CONTROL, "no-store"),
                ];
                return (StatusCode::SERVICE_UNAVAILABLE, headers, Json(body)).into_response();
            }
            ApiError::Throttled(e, seconds) => {
                let mut response = (StatusCode::TOO_MANY_REQUESTS, Json(&e)).into_response();
                let h = response.headers_mut();
                h.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
                h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                return response;
            }
            ApiError::TooLarge(status) => {
                (status, OAuthError::invalid_request("request too large"))
            }
            ApiError::Internal(e) => {
                tracing::error!(request_id = crate::observe::request_id().as_deref(), error = %format!("{e:#}"), "internal error");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    [(header::CACHE_CONTROL, "no-store")],
                )
                    .into_response();
            }
        };
        let mut response = (status, Json(&body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if body.error == ErrorCode::InvalidClient {
            // RFC 6749 §5.2: 401 names the scheme the client can authenticate with.
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"admit\""),
            );
        }
        response
    }
}
