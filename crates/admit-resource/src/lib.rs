//! Protect a Rust API with admit's access tokens (RFC 9068 JWTs sent as
//! `Authorization: Bearer`, RFC 6750).
//!
//! A [`Verifier`] holds the issuer's keys (discovered, from a `jwks_uri`, or given)
//! and checks tokens locally: no call to the authorization server per request. A
//! token seen again is not verified again while it is valid and the keys are
//! unchanged ([`VerifierBuilder::token_cache`]); revocation is checked every time.
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
//!     .route("/me", get(|Authenticated(claims): Authenticated| async move { claims.sub.clone() }))
//!     .route_layer(BearerLayer::new(verifier).require_scopes(["read"]));
//! # Ok(api) }
//! ```
//!
//! Only the `Authorization` header is read: tokens in a form body or the query
//! string (RFC 6750 §2.2, §2.3) are not accepted.
//!
//! # Revocation
//!
//! A JWT checked locally says nothing of a revocation made after it was issued. The
//! verifier has three modes; after a token verifies, a revoked one is refused with
//! 401 `invalid_token` ([`BearerError::Revoked`]).
//!
//! | mode | a revoked token stops working | per request | when admit is unreachable |
//! |---|---|---|---|
//! | local (default) | at its `exp` | nothing | tokens keep working |
//! | push | within a second or two | a hash lookup | after the bound: 503, or open |
//! | introspection | within `cache_ttl` | one call per token and `cache_ttl` | 503 |
//!
//! - **Local only**, the default: the fastest and the most available; nothing runs
//!   in the background and admit may be down. A revoked token is accepted until it
//!   expires, so keep access tokens short-lived.
//! - **Push**, [`VerifierBuilder::revocation_stream`]: a background task follows
//!   admit's revocation stream (Server-Sent Events) and keeps a set of revocations:
//!   by token (`jti`), session (`sid`), grant (`gid`), and every token of a client or
//!   a user issued up to the revocation. Checks stay local and admit's load does not
//!   grow with traffic; the cost is one long-lived connection per verifier and
//!   memory for the revocations still live (each is dropped after the tokens it can
//!   match have expired). After a disconnect the verifier resumes with
//!   `Last-Event-ID`, so revocations made meanwhile are caught up. While the stream
//!   has been silent for longer than a bound ([`VerifierBuilder::stream_failure`],
//!   30 s by default), the verifier either fails closed ([`FailMode::Closed`], the
//!   default: 503 with `Retry-After`, so a revoked token never gets through but the
//!   API is down with the stream) or stays open ([`FailMode::Open`]: local mode
//!   until the stream returns). Either way it logs one warning per outage, and
//!   [`Verifier::revocation_status`] tells metrics where it stands.
//! - **Introspection**, [`VerifierBuilder::introspection`]: after local
//!   verification, asks admit's introspection endpoint (RFC 7662) whether the token
//!   is still active, and caches the answer per token. The most authoritative, and
//!   the simplest to operate (no background task), but a token's first request
//!   waits for a round trip, admit's load grows with the number of distinct tokens,
//!   a revocation takes up to `cache_ttl` to be seen, and the API fails closed (503)
//!   whenever the endpoint does not answer.
//!
//! Both remote modes need a confidential client registered with admit, and take
//! their endpoint from the issuer's metadata, even when the keys come from
//! [`VerifierBuilder::jwks_uri`] or [`VerifierBuilder::keys`].
//!
//! Invariants: a whole token is never logged, nor kept by a verifier (the
//! introspection cache and the cache of verified tokens hold SHA-256 digests); a
//! client secret never prints itself; HS256 is only ever accepted with a secret
//! given to [`VerifierBuilder::keys`] and named in [`VerifierBuilder::algorithms`];
//! a failed JWKS refresh never drops known keys; a revocation mode never lets a
//! token through that local verification refused; the cache of verified tokens
//! never serves a token a fresh verification would refuse.

mod answer_cache;
mod authorization;
mod credentials;
mod discovery;
mod error;
mod extract;
mod fetch;
mod introspect;
mod jwks;
mod layer;
mod revocation;
mod sse;
mod stream;
mod token_cache;
mod verifier;

pub use admit_jose::{AccessTokenClaims, Algorithm, Audience, JoseError, KeySet, VerifyingKey};
pub use error::{BearerError, SetupError};
pub use extract::{Authenticated, MissingBearerLayer};
pub use fetch::FetchError;
pub use layer::{BearerLayer, BearerService};
pub use stream::{FailMode, RevocationStatus};
pub use verifier::{Verifier, VerifierBuilder};
