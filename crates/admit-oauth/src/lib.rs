//! The OAuth 2.0 / OpenID Connect protocol core of admit.
//!
//! Modules are named after the spec. Each function takes the request, the records
//! already loaded and `now`, and returns a decision or an [`OAuthError`].
//!
//! Invariants: no HTTP types, no SQL, no clock, no randomness; the server crate
//! loads records, supplies `now` and fresh random values, and stores the results.

pub mod authorize;
pub mod client;
pub mod client_auth;
pub mod code;
mod error;
pub mod form;
pub mod id_token;
pub mod introspect;
pub mod metadata;
pub mod refresh;
pub mod scope;
pub mod secret;
pub mod token;
pub mod userinfo;
pub mod username;

pub use error::{ErrorCode, OAuthError};
