//! JWS compact serialisation (RFC 7515 §7.1): making signed tokens and taking them apart.
//!
//! Parsing is split from verifying so that a caller can look up the key named by
//! `kid` (and re-fetch a JWKS when it is unknown) between the two steps.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::{Algorithm, JoseError, MAX_TOKEN_LEN, SigningKey, VerifyingKey, b64};

/// The protected header members admit reads. Everything else is ignored, in
/// particular `jku`, `jwk`, `x5u` and `x5c`: a token never chooses its own key
/// (RFC 8725 §3.10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crit: Option<Vec<String>>,
}

/// Signs `claims` as a compact JWS with `typ` and the key's `alg` and `kid`.
pub fn sign(key: &SigningKey, typ: &str, claims: &impl Serialize) -> Result<String, JoseError> {
    let header = Header {
        alg: key.alg().name().to_owned(),
        typ: Some(typ.to_owned()),
        kid: Some(key.kid().to_owned()),
        crit: None,
    };
    let header = serde_json::to_vec(&header).map_err(|_| JoseError::Crypto)?;
    let payload = serde_json::to_vec(claims).map_err(|_| JoseError::Malformed("claims"))?;
    let mut token = format!("{}.{}", b64::encode(header), b64::encode(payload));
    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&b64::encode(signature));
    Ok(token)
}

/// A compact JWS whose structure has been checked but whose signature has not.
/// Nothing in it may be trusted until [`UnverifiedJwt::verify`] succeeds.
#[derive(Debug)]
pub struct UnverifiedJwt<'a> {
    header: Header,
    alg: Algorithm,
    signing_input: &'a str,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl<'a> UnverifiedJwt<'a> {
    /// Splits and decodes a compact JWS. Refuses: oversized input, anything but
    /// three strict base64url parts, a header that is not a JSON object with a
    /// known `alg`, and any `crit` (admit understands no extension, RFC 7515 §4.1.11).
    pub fn parse(token: &'a str) -> Result<Self, JoseError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(JoseError::TooLarge);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JoseError::Malformed("a JWS has exactly three parts"));
        };
        let header_json = b64::decode(h).ok_or(JoseError::Malformed("header is not base64url"))?;
        let payload = b64::decode(p).ok_or(JoseError::Malformed("payload is not base64url"))?;
        let signature = b64::decode(s).ok_or(JoseError::Malformed("signature is not base64url"))?;
        let header: Header = serde_json::from_slice(&header_json)
            .map_err(|_| JoseError::Malformed("header is not a JSON object with alg"))?;
        if let Some(crit) = &header.crit {
            // An empty list is itself invalid; any named extension is one we don't implement.
            return Err(JoseError::UnknownCritical(
                crit.first().cloned().unwrap_or_default(),
            ));
        }
        let alg = header.alg.parse()?;
        Ok(UnverifiedJwt {
            header,
            alg,
            signing_input: &token[..h.len() + 1 + p.len()],
            payload,
            signature,
        })
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// The payload decoded as JSON, unverified: for display (`admit token decode`) only.
    pub fn insecure_payload(&self) -> Result<Value, JoseError> {
        serde_json::from_slice(&self.payload)
            .map_err(|_| JoseError::Malformed("payload is not JSON"))
    }

    /// The raw signature bytes, for display.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Verifies the signature with `key` and returns the claims. The algorithm must
    /// be in `allowed` and must be the key's own algorithm (RFC 8725 §3.1), so a
    /// token cannot pick how it is checked.
    pub fn verify(
        &self,
        key: &VerifyingKey,
        allowed: &[Algorithm],
    ) -> Result<Map<String, Value>, JoseError> {
        if !allowed.contains(&self.alg) {
            return Err(JoseError::AlgorithmNotAllowed(self.alg.name()));
        }
        if key.alg() != self.alg {
            return Err(JoseError::KeyAlgorithmMismatch {
                kid: key.kid().to_owned(),
                key_alg: key.alg().name(),
                token_alg: self.alg.name(),
            });
        }
        key.verify(self.signing_input.as_bytes(), &self.signature)?;
        match serde_json::from_slice(&self.payload) {
            Ok(Value::Object(claims)) => Ok(claims),
            _ => Err(JoseError::Malformed("payload is not a JSON object")),
        }
    }
}
