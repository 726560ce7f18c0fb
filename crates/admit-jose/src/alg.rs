//! The JWS algorithms admit implements (RFC 7518 §3, RFC 8037 §3.1).

use std::fmt;
use std::str::FromStr;

use crate::JoseError;

/// A JWS signing algorithm. `none` is deliberately absent (RFC 8725 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// Ed25519 (RFC 8037).
    EdDSA,
    /// ECDSA with P-256 and SHA-256.
    ES256,
    /// RSASSA-PKCS1-v1_5 with SHA-256; OpenID Connect requires it for ID tokens.
    RS256,
    /// HMAC with SHA-256: a shared secret, for a single service that both issues and checks.
    HS256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 4] = [Self::EdDSA, Self::ES256, Self::RS256, Self::HS256];

    pub fn name(self) -> &'static str {
        match self {
            Self::EdDSA => "EdDSA",
            Self::ES256 => "ES256",
            Self::RS256 => "RS256",
            Self::HS256 => "HS256",
        }
    }

    /// Whether the key is a shared secret rather than a public/private pair.
    pub fn is_symmetric(self) -> bool {
        self == Self::HS256
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = JoseError;

    /// Exact, case-sensitive match: "none", "hs256" or "Ed25519" are not algorithms.
    fn from_str(s: &str) -> Result<Self, JoseError> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| JoseError::UnsupportedAlgorithm(s.chars().take(32).collect()))
    }
}
