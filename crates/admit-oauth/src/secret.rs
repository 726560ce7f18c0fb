//! Hashing and comparing high-entropy secrets: client secrets and refresh tokens.
//!
//! These are 256-bit random values, so a fast hash is sound: brute force over 2^256
//! inputs is out of reach whatever the hash speed, and a stolen table reveals nothing
//! usable. Passwords, which people choose, use Argon2id instead (in the server).

use aws_lc_rs::digest;
use subtle::ConstantTimeEq;

/// SHA-256 of the secret as presented.
pub fn hash(secret: &str) -> Vec<u8> {
    digest::digest(&digest::SHA256, secret.as_bytes())
        .as_ref()
        .to_vec()
}

/// Whether `presented` hashes to `stored`, compared in constant time.
pub fn matches(presented: &str, stored: &[u8]) -> bool {
    hash(presented).ct_eq(stored).into()
}

/// RFC 7636 §4.6 `BASE64URL-ENCODE(SHA256(ASCII(code_verifier)))`.
pub fn s256(verifier: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash(verifier))
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc7636_appendix_b() {
        assert_eq!(
            super::s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn matches_only_the_same_secret() {
        let stored = super::hash("s3cret");
        assert!(super::matches("s3cret", &stored));
        assert!(!super::matches("s3creT", &stored));
        assert!(!super::matches("s3cret", &stored[..31]));
    }
}
