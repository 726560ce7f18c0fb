//! ID tokens (OpenID Connect Core §2, §3.1.3.6).

use admit_jose::Algorithm;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// §3.1.3.6: the left half of the hash of the access token.
    pub at_hash: String,
    /// The party the token was issued to: the client, which is also the only audience.
    pub azp: String,
    /// OpenID Connect Front-Channel/Back-Channel Logout `sid`: the SSO session.
    pub sid: String,
}

/// `at_hash`: the left-most half of the hash of the access token, base64url-encoded,
/// with the hash of the ID token's JWS algorithm (SHA-256 for RS256/ES256/HS256; for
/// EdDSA with Ed25519, SHA-512, as certified OpenID providers and clients do).
pub fn at_hash(access_token: &str, alg: Algorithm) -> String {
    use aws_lc_rs::digest;
    let algorithm = match alg {
        Algorithm::EdDSA => &digest::SHA512,
        Algorithm::ES256 | Algorithm::RS256 | Algorithm::HS256 => &digest::SHA256,
    };
    let hash = digest::digest(algorithm, access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&hash.as_ref()[..hash.as_ref().len() / 2])
}

#[cfg(test)]
mod tests {
    #[test]
    fn at_hash_is_the_left_half() {
        // OpenID Connect Core §A.3/A.4 example: access token and its at_hash (RS256).
        assert_eq!(
            super::at_hash(
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y",
                admit_jose::Algorithm::RS256
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
    }
}
