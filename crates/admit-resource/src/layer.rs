//! The tower Layer and Service that guard a router: read the bearer token, verify
//! it, check scopes, and hand the claims on in the request extensions.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use admit_jose::AccessTokenClaims;
use axum_core::response::Response;
use http::{HeaderMap, Request};
use tower::{Layer, Service};

use crate::authorization::bearer_token;
use crate::{BearerError, Verifier};

/// Refuses requests without a valid access token (and the required scopes) before
/// they reach the inner service, which finds the [`AccessTokenClaims`] in the
/// request extensions (see [`Authenticated`](crate::Authenticated)).
#[derive(Clone)]
pub struct BearerLayer {
    verifier: Verifier,
    required: Arc<[String]>,
    realm: Arc<str>,
}

impl BearerLayer {
    /// Any valid token; the challenge's realm is the verifier's audience.
    pub fn new(verifier: Verifier) -> BearerLayer {
        BearerLayer {
            realm: verifier.audience().into(),
            verifier,
            required: Arc::new([]),
        }
    }

    /// Every one of these scopes must be in the token's `scope`.
    ///
    /// # Panics
    ///
    /// When a scope is not a scope-token (RFC 6749 §3.3): empty, or with a space,
    /// `"` or `\`. That is a programming error, found the first time the code runs.
    pub fn require_scopes<I>(mut self, scopes: I) -> BearerLayer
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let scopes: Vec<String> = scopes.into_iter().map(Into::into).collect();
        for scope in &scopes {
            let scope_token =
                |b: u8| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b);
            assert!(
                !scope.is_empty() && scope.bytes().all(scope_token),
                "{scope:?} is not a scope-token (RFC 6749 §3.3)"
            );
        }
        self.required = scopes.into();
        self
    }

    /// The `realm` of the `WWW-Authenticate` challenge (RFC 6750 §3).
    pub fn realm(mut self, realm: impl Into<String>) -> BearerLayer {
        self.realm = realm.into().into();
        self
    }

    async fn authorize(&self, headers: &HeaderMap) -> Result<Arc<AccessTokenClaims>, BearerError> {
        let token = bearer_token(headers)?;
        let claims = self.verifier.verify(token).await?;
        if !self.required.iter().all(|scope| claims.has_scope(scope)) {
            // RFC 6750 §3: `scope` lists what the resource needs, not what is missing.
            return Err(BearerError::InsufficientScope {
                required: self.required.join(" "),
            });
        }
        Ok(claims)
    }
}

impl<S> Layer<S> for BearerLayer {
    type Service = BearerService<S>;

    fn layer(&self, inner: S) -> BearerService<S> {
        BearerService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service made by [`BearerLayer`].
#[derive(Clone)]
pub struct BearerService<S> {
    inner: S,
    layer: BearerLayer,
}

impl<S, B> Service<Request<B>> for BearerService<S>
where
    S: Service<Request<B>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The service that was polled ready is the one to call; leave a clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let layer = self.layer.clone();
        Box::pin(async move {
            match layer.authorize(request.headers()).await {
                Ok(claims) => {
                    request.extensions_mut().insert(claims);
                    inner.call(request).await
                }
                Err(error) => {
                    // The error names the reason, never the token.
                    tracing::debug!(%error, "bearer request refused");
                    Ok(error.to_response(&layer.realm))
                }
            }
        })
    }
}
