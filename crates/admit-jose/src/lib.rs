//! JOSE for admit: signing keys, JWS compact serialisation, JWT validation and JWKS.
//!
//! Invariants: no I/O, no clock (`now` is always passed in), no cryptographic
//! primitive of our own (every signature and MAC is computed by `aws-lc-rs`).
//! The caller always names the algorithms it accepts; `none` is not an algorithm here.

mod alg;
mod b64;
mod claims;
mod error;
mod jwk;
mod jws;
mod keys;
mod keyset;
mod validation;

pub use alg::Algorithm;
pub use claims::{AccessTokenClaims, Audience};
pub use error::JoseError;
pub use jwk::{Jwk, JwkSet};
pub use jws::{Header, UnverifiedJwt, sign};
pub use keys::{MIN_HMAC_SECRET_LEN, SigningKey, VerifyingKey, pkcs8_from_private_jwk};
pub use keyset::KeySet;
pub use validation::Validation;

/// Media type of an RFC 9068 access token, as carried in the `typ` header.
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// Tokens longer than this are refused before any decoding (RFC 8725 §3.1 spirit:
/// bound the work an attacker can cause). Real access tokens are well under 2 KiB.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
