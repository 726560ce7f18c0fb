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
        ApiError::Internal(e.into())
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
            ApiError::OAuth(e) => {
                let status = match e.error {
                    ErrorCode::InvalidClient => StatusCode::UNAUTHORIZED,
                    _ => StatusCode::BAD_REQUEST,
                };
                (status, e)
            }
            ApiError::TooLarge(status) => {
                (status, OAuthError::invalid_request("request too large"))
            }
            ApiError::Internal(e) => {
                tracing::error!(error = %format!("{e:#}"), "internal error");
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
