//! Why a key or a token was refused. Messages never contain key material or whole tokens.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum JoseError {
    /// Not a compact JWS of three base64url parts with JSON header and payload.
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    /// Longer than the configured maximum; refused before decoding.
    #[error("token is too large")]
    TooLarge,
    /// The `alg` is not one admit implements (this includes `none`).
    #[error("unsupported algorithm {0:?}")]
    UnsupportedAlgorithm(String),
    /// The `alg` is implemented but not in the caller's allow-list.
    #[error("algorithm {0} is not allowed here")]
    AlgorithmNotAllowed(&'static str),
    /// No key with this `kid` (or no `kid` and no single candidate).
    #[error("no key for kid {0:?}")]
    UnknownKey(String),
    /// The key found is for another algorithm than the header names (RFC 8725 §3.1).
    #[error("key {kid:?} is for {key_alg}, not {token_alg}")]
    KeyAlgorithmMismatch {
        kid: String,
        key_alg: &'static str,
        token_alg: &'static str,
    },
    #[error("signature does not verify")]
    BadSignature,
    /// The header lists an extension in `crit` that admit does not understand (RFC 7515 §4.1.11).
    #[error("unknown critical header parameter {0:?}")]
    UnknownCritical(String),
    #[error("token type is {found:?}, expected {expected:?}")]
    WrongType {
        expected: String,
        found: Option<String>,
    },
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token was issued by {0:?}, which is not the expected issuer")]
    WrongIssuer(String),
    #[error("token is not meant for this audience")]
    WrongAudience,
    #[error("required claim {0:?} is missing or has the wrong type")]
    MissingClaim(&'static str),
    /// A key that cannot be used: malformed JWK, weak RSA modulus, short HMAC secret.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The crypto library failed to generate or use a key.
    #[error("cryptographic operation failed")]
    Crypto,
}
