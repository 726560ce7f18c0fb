//! The axum extractor that hands a handler the claims [`BearerLayer`](crate::BearerLayer)
//! verified.

use std::ops::Deref;
use std::sync::Arc;

use admit_jose::AccessTokenClaims;
use axum_core::body::Body;
use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::request::Parts;
use http::{HeaderValue, StatusCode};

/// The verified claims of the request's access token.
///
/// Only valid behind a [`BearerLayer`](crate::BearerLayer): the extractor does not
/// verify anything itself, it reads what the layer put in the request extensions.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Arc<AccessTokenClaims>);

impl Deref for Authenticated {
    type Target = AccessTokenClaims;

    fn deref(&self) -> &AccessTokenClaims {
        &self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = MissingBearerLayer;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, MissingBearerLayer> {
        match parts.extensions.get::<Arc<AccessTokenClaims>>() {
            Some(claims) => Ok(Authenticated(claims.clone())),
            None => {
                tracing::error!(
                    path = parts.uri.path(),
                    "a handler takes Authenticated but no BearerLayer guards its route"
                );
                Err(MissingBearerLayer)
            }
        }
    }
}

/// The rejection of [`Authenticated`] on a route without a [`BearerLayer`](crate::BearerLayer):
/// a programming error, answered with 500.
#[derive(Debug, Clone, Copy)]
pub struct MissingBearerLayer;

impl IntoResponse for MissingBearerLayer {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": "server_error",
            "error_description": "the BearerLayer is missing on this route: the handler cannot trust any token",
        });
        let mut response = Response::new(Body::from(body.to_string()));
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}
