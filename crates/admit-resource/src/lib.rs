//! Protect a Rust API with admit's access tokens (RFC 9068 JWTs sent as
//! `Authorization: Bearer`, RFC 6750).
//!
//! A [`Verifier`] holds the issuer's keys (discovered, from a `jwks_uri`, or given)
//! and checks tokens locally: no call to the authorization server per request.
//! [`BearerLayer`] puts it in front of a router and [`Authenticated`] hands the
//! verified claims to a handler.
//!
//! ```no_run
//! use admit_resource::{Authenticated, BearerLayer, Verifier};
//! use axum::{Router, routing::get};
//!
//! # async fn app() -> Result<Router, admit_resource::SetupError> {
//! let verifier = Verifier::builder("https://id.example", "https://api.example").discover().build().await?;
//! let api = Router::new()
//!     .route("/me", get(|Authenticated(claims): Authenticated| async move { claims.sub }))
//!     .route_layer(BearerLayer::new(verifier).require_scopes(["read"]));
//! # Ok(api) }
//! ```
//!
//! Only the `Authorization` header is read: tokens in a form body or the query
//! string (RFC 6750 §2.2, §2.3) are not accepted.
//!
//! Invariants: a whole token is never logged; HS256 is only ever accepted with a
//! secret given to [`VerifierBuilder::keys`] and named in
//! [`VerifierBuilder::algorithms`]; a failed JWKS refresh never drops known keys.

mod authorization;
mod discovery;
mod error;
mod extract;
mod fetch;
mod jwks;
mod layer;
mod verifier;

pub use admit_jose::{AccessTokenClaims, Algorithm, Audience, JoseError, KeySet, VerifyingKey};
pub use error::{BearerError, SetupError};
pub use extract::{Authenticated, MissingBearerLayer};
pub use fetch::FetchError;
pub use layer::{BearerLayer, BearerService};
pub use verifier::{Verifier, VerifierBuilder};
