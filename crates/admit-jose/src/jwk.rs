//! JSON Web Keys (RFC 7517) for the public half of admit's keys, and thumbprints (RFC 7638).

use serde::{Deserialize, Serialize};

use crate::{JoseError, b64};

/// A public JWK. Private members (`d`, `p`, ...) are not modelled, so they can never
/// be published by accident; unknown members are ignored when reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
}

/// A JWK Set (RFC 7517 §5), as served at the `jwks_uri`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

impl Jwk {
    fn empty(kty: &str) -> Jwk {
        Jwk {
            kty: kty.to_owned(),
            kid: None,
            alg: None,
            use_: None,
            crv: None,
            x: None,
            y: None,
            n: None,
            e: None,
        }
    }

    pub(crate) fn okp_ed25519(public: &[u8]) -> Jwk {
        Jwk {
            crv: Some("Ed25519".into()),
            x: Some(b64::encode(public)),
            ..Jwk::empty("OKP")
        }
    }

    /// From an uncompressed SEC1 point (0x04 || x || y).
    pub(crate) fn ec_p256(point: &[u8]) -> Option<Jwk> {
        let (tag, xy) = point.split_first()?;
        if *tag != 4 || xy.len() != 64 {
            return None;
        }
        Some(Jwk {
            crv: Some("P-256".into()),
            x: Some(b64::encode(&xy[..32])),
            y: Some(b64::encode(&xy[32..])),
            ..Jwk::empty("EC")
        })
    }

    pub(crate) fn rsa(n: &[u8], e: &[u8]) -> Jwk {
        Jwk {
            n: Some(b64::encode(n)),
            e: Some(b64::encode(e)),
            ..Jwk::empty("RSA")
        }
    }

    /// The RFC 7638 thumbprint: SHA-256 over the required members in lexicographic
    /// order, with no white space (§3.2), base64url-encoded. admit uses it as `kid`.
    pub fn thumbprint(&self) -> Result<String, JoseError> {
        let need = |v: &Option<String>, name: &str| {
            v.clone()
                .ok_or_else(|| JoseError::InvalidKey(format!("{} key without {name}", self.kty)))
        };
        // serde_json::json! keeps keys sorted (BTreeMap) and to_string emits no white space.
        let members = match self.kty.as_str() {
            "RSA" => {
                serde_json::json!({"e": need(&self.e, "e")?, "kty": "RSA", "n": need(&self.n, "n")?})
            }
            "EC" => serde_json::json!({
                "crv": need(&self.crv, "crv")?, "kty": "EC",
                "x": need(&self.x, "x")?, "y": need(&self.y, "y")?,
            }),
            "OKP" => {
                serde_json::json!({"crv": need(&self.crv, "crv")?, "kty": "OKP", "x": need(&self.x, "x")?})
            }
            other => return Err(JoseError::InvalidKey(format!("unknown kty {other:?}"))),
        };
        let digest =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, members.to_string().as_bytes());
        Ok(b64::encode(digest))
    }
}
