//! The admin API's one error type, mapped once to RFC 9457 problem details
//! (`application/problem+json`). Authentication failures keep their RFC 6750 §3
//! challenge in `WWW-Authenticate`. Unexpected errors become a bare 500 problem,
//! logged once, with no detail sent out.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;

/// The media type of every admin error body (RFC 9457 §3).
pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug)]
pub enum AdminError {
    /// No bearer token was sent (RFC 6750 §3.1: the challenge names no error).
    NoToken,
    /// The Authorization header is malformed or repeated.
    BadAuthorization(&'static str),
    /// The token is invalid, expired or revoked.
    InvalidToken,
    /// A valid token that may not use the admin API.
    InsufficientScope(&'static str),
    BadRequest(String),
    NotFound(String),
    /// The method is not one the path allows; carries the `Allow` value.
    MethodNotAllowed(Option<HeaderValue>),
    Conflict(String),
    /// `If-Match` names another version, or the resource changed meanwhile.
    PreconditionFailed,
    TooLarge,
    UnsupportedMediaType,
    Unavailable,
    Internal(anyhow::Error),
}

/// An RFC 9457 problem details object.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `about:blank`: the status code says what kind of problem it is.
    #[serde(rename = "type")]
    #[schema(example = "about:blank")]
    pub kind: String,
    /// The status code's reason phrase.
    #[schema(example = "Not Found")]
    pub title: String,
    pub status: u16,
    /// What went wrong with this request.
    #[schema(example = "no user \"alice\"")]
    pub detail: String,
}

impl AdminError {
    pub fn bad_request(detail: impl Into<String>) -> AdminError {
        AdminError::BadRequest(detail.into())
    }

    pub fn not_found(detail: impl Into<String>) -> AdminError {
        AdminError::NotFound(detail.into())
    }

    fn parts(&self) -> (StatusCode, String, Option<String>) {
        const REALM: &str = "Bearer realm=\"admit\"";
        let challenge = |error: &str, detail: &str| {
            Some(format!(
                "{REALM}, error=\"{error}\", error_description=\"{detail}\""
            ))
        };
        match self {
            AdminError::NoToken => (
                StatusCode::UNAUTHORIZED,
                "an access token with the admin scope is required".into(),
                Some(REALM.into()),
            ),
            AdminError::BadAuthorization(detail) => (
                StatusCode::BAD_REQUEST,
                (*detail).into(),
                challenge("invalid_request", detail),
            ),
            AdminError::InvalidToken => {
                let detail = "the access token is invalid, expired or revoked";
                (
                    StatusCode::UNAUTHORIZED,
                    detail.into(),
                    challenge("invalid_token", detail),
                )
            }
            AdminError::InsufficientScope(detail) => (
                StatusCode::FORBIDDEN,
                (*detail).into(),
                challenge("insufficient_scope", detail).map(|c| c + ", scope=\"admin\""),
            ),
            AdminError::BadRequest(detail) => (StatusCode::BAD_REQUEST, detail.clone(), None),
            AdminError::NotFound(detail) => (StatusCode::NOT_FOUND, detail.clone(), None),
            AdminError::MethodNotAllowed(_) => (
                StatusCode::METHOD_NOT_ALLOWED,
                "this method is not allowed here".into(),
                None,
            ),
            AdminError::Conflict(detail) => (StatusCode::CONFLICT, detail.clone(), None),
            AdminError::PreconditionFailed => (
                StatusCode::PRECONDITION_FAILED,
                "the resource is not at the version If-Match names: read it again".into(),
                None,
            ),
            AdminError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large".into(),
                None,
            ),
            AdminError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the body must be application/json".into(),
                None,
            ),
            AdminError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "the service is briefly unavailable; try again".into(),
                None,
            ),
            AdminError::Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "an unexpected error occurred".into(),
                None,
            ),
        }
    }
}

impl From<admit_store::StoreError> for AdminError {
    fn from(e: admit_store::StoreError) -> Self {
        match ApiError::from(e) {
            ApiError::Unavailable => AdminError::Unavailable,
            ApiError::Internal(e) => AdminError::Internal(e),
            other => AdminError::Internal(anyhow::anyhow!("{other:?}")),
        }
    }
}

impl From<ApiError> for AdminError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::Unavailable => AdminError::Unavailable,
            ApiError::Internal(e) => AdminError::Internal(e),
            other => AdminError::Internal(anyhow::anyhow!("{other:?}")),
        }
    }
}

impl From<anyhow::Error> for AdminError {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast::<admit_store::StoreError>() {
            Ok(store) => store.into(),
            Err(e) => AdminError::Internal(e),
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, detail, challenge) = self.parts();
        match &self {
            AdminError::Internal(e) => {
                tracing::error!(request_id = crate::observe::request_id().as_deref(), error = %format!("{e:#}"), "internal error")
            }
            AdminError::Unavailable => {
                tracing::warn!(
                    request_id = crate::observe::request_id().as_deref(),
                    "database unavailable"
                )
            }
            _ => {}
        }
        let problem = Problem {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail,
        };
        let mut response = (status, Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(challenge) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        if let AdminError::MethodNotAllowed(Some(allow)) = self {
            headers.insert(header::ALLOW, allow);
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

/// Turns axum's own bare answers on admin paths (405 with `Allow`) into problems.
pub async fn problems_only(response: Response) -> Response {
    let bare = response.headers().get(header::CONTENT_TYPE).is_none();
    if response.status() == StatusCode::METHOD_NOT_ALLOWED && bare {
        let allow = response.headers().get(header::ALLOW).cloned();
        return AdminError::MethodNotAllowed(allow).into_response();
    }
    response
}

/// Unknown paths under `/admin`.
pub async fn not_found() -> AdminError {
    AdminError::not_found("no such admin resource")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_status_keeps_its_challenge() {
        let (status, _, challenge) = AdminError::NoToken.parts();
        assert_eq!(status, 401);
        assert_eq!(challenge.as_deref(), Some("Bearer realm=\"admit\""));
        let (status, _, challenge) = AdminError::InvalidToken.parts();
        assert_eq!(status, 401);
        assert!(challenge.unwrap().contains("error=\"invalid_token\""));
        let (status, _, challenge) = AdminError::InsufficientScope("x").parts();
        assert_eq!(status, 403);
        assert!(challenge.unwrap().contains("error=\"insufficient_scope\""));
        let (status, _, challenge) = AdminError::PreconditionFailed.parts();
        assert_eq!(status, 412);
        assert!(challenge.is_none());
    }
}
