//! Signing keys (private, held by the issuer) and verifying keys (public, or the
//! shared HMAC secret). Keys are parsed once and kept parsed: re-parsing a private
//! key on every signature costs more than the signature itself for RSA.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, ParsedPublicKey, RsaKeyPair,
    RsaPublicKeyComponents,
};
use aws_lc_rs::{hmac, rsa};

use serde_json::Value;

use crate::jwk::Jwk;
use crate::{Algorithm, JoseError, b64};

/// HMAC secrets shorter than the hash output are refused (RFC 7518 §3.2).
pub const MIN_HMAC_SECRET_LEN: usize = 32;

/// A private key able to sign JWS for one algorithm, with its `kid`.
pub struct SigningKey {
    kid: String,
    inner: Signer,
}

// Few keys exist at once; boxing them would only add an indirection per signature.
#[allow(clippy::large_enum_variant)]
enum Signer {
    Ed25519(Ed25519KeyPair),
    Es256(EcdsaKeyPair),
    Rs256(RsaKeyPair),
    Hs256(hmac::Key, Vec<u8>),
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh key. Returns it with its private form for storage: PKCS#8 DER
    /// for the asymmetric algorithms, the raw secret for HS256.
    pub fn generate(alg: Algorithm) -> Result<(SigningKey, Vec<u8>), JoseError> {
        let rng = SystemRandom::new();
        let private = match alg {
            Algorithm::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng)
                .map_err(|_| JoseError::Crypto)?
                .as_ref()
                .to_vec(),
            Algorithm::ES256 => {
                EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| JoseError::Crypto)?
                    .as_ref()
                    .to_vec()
            }
            Algorithm::RS256 => RsaKeyPair::generate(rsa::KeySize::Rsa2048)
                .and_then(|k| k.as_der())
                .map_err(|_| JoseError::Crypto)?
                .as_ref()
                .to_vec(),
            Algorithm::HS256 => {
                let mut secret = vec![0u8; 32];
                rng.fill(&mut secret).map_err(|_| JoseError::Crypto)?;
                secret
            }
        };
        Ok((Self::from_private(alg, &private, None)?, private))
    }

    /// Loads a key from its private form (see [`SigningKey::generate`]). The `kid`
    /// defaults to the RFC 7638 thumbprint of the public key; HS256 keys need one given.
    pub fn from_private(
        alg: Algorithm,
        private: &[u8],
        kid: Option<String>,
    ) -> Result<SigningKey, JoseError> {
        let bad = |e: aws_lc_rs::error::KeyRejected| JoseError::InvalidKey(e.to_string());
        let inner = match alg {
            Algorithm::EdDSA => Signer::Ed25519(Ed25519KeyPair::from_pkcs8(private).map_err(bad)?),
            Algorithm::ES256 => Signer::Es256(
                EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, private)
                    .map_err(bad)?,
            ),
            Algorithm::RS256 => Signer::Rs256(RsaKeyPair::from_pkcs8(private).map_err(bad)?),
            Algorithm::HS256 => {
                check_hmac_secret(private)?;
                Signer::Hs256(
                    hmac::Key::new(hmac::HMAC_SHA256, private),
                    thumbprint_of_secret(private),
                )
            }
        };
        let mut key = SigningKey {
            kid: String::new(),
            inner,
        };
        key.kid = match (kid, key.public_jwk()) {
            (Some(kid), _) => kid,
            (None, Some(jwk)) => jwk.thumbprint()?,
            (None, None) => match &key.inner {
                Signer::Hs256(_, id) => b64::encode(id),
                _ => unreachable!("only HS256 keys lack a public JWK"),
            },
        };
        Ok(key)
    }

    /// Loads a private JWK (RFC 7518 §6: RSA `n e d p q dp dq qi`, EC P-256 `x y d`,
    /// RFC 8037 OKP Ed25519 `x d`): for keys imported from elsewhere and for test vectors.
    pub fn from_private_jwk(jwk: &Value, kid: Option<String>) -> Result<SigningKey, JoseError> {
        let (alg, der) = pkcs8_from_private_jwk(jwk)?;
        Self::from_private(alg, &der, kid)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> Algorithm {
        match self.inner {
            Signer::Ed25519(_) => Algorithm::EdDSA,
            Signer::Es256(_) => Algorithm::ES256,
            Signer::Rs256(_) => Algorithm::RS256,
            Signer::Hs256(..) => Algorithm::HS256,
        }
    }

    /// Signs the JWS signing input.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, JoseError> {
        let rng = SystemRandom::new();
        match &self.inner {
            Signer::Ed25519(k) => Ok(k.sign(message).as_ref().to_vec()),
            Signer::Es256(k) => k
                .sign(&rng, message)
                .map(|s| s.as_ref().to_vec())
                .map_err(|_| JoseError::Crypto),
            Signer::Rs256(k) => {
                let mut out = vec![0; k.public_modulus_len()];
                k.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut out)
                    .map_err(|_| JoseError::Crypto)?;
                Ok(out)
            }
            Signer::Hs256(k, _) => Ok(hmac::sign(k, message).as_ref().to_vec()),
        }
    }

    /// The public key as a JWK with `kid`, `alg` and `use: sig`; `None` for HS256,
    /// whose secret must never be published.
    pub fn public_jwk(&self) -> Option<Jwk> {
        let mut jwk = match &self.inner {
            Signer::Ed25519(k) => Jwk::okp_ed25519(k.public_key().as_ref()),
            Signer::Es256(k) => Jwk::ec_p256(k.public_key().as_ref())?,
            Signer::Rs256(k) => {
                let public = k.public_key();
                Jwk::rsa(
                    public.modulus().big_endian_without_leading_zero(),
                    public.exponent().big_endian_without_leading_zero(),
                )
            }
            Signer::Hs256(..) => return None,
        };
        jwk.alg = Some(self.alg().name().to_owned());
        jwk.use_ = Some("sig".to_owned());
        if !self.kid.is_empty() {
            jwk.kid = Some(self.kid.clone());
        }
        Some(jwk)
    }

    /// The key that verifies this key's signatures.
    pub fn verifying_key(&self) -> Result<VerifyingKey, JoseError> {
        match &self.inner {
            Signer::Hs256(k, _) => Ok(VerifyingKey {
                kid: self.kid.clone(),
                alg: Algorithm::HS256,
                inner: Verifier::Hmac(k.clone()),
            }),
            _ => VerifyingKey::from_jwk(&self.public_jwk().ok_or(JoseError::Crypto)?),
        }
    }
}

/// A key that checks signatures for exactly one algorithm.
#[derive(Clone)]
pub struct VerifyingKey {
    kid: String,
    alg: Algorithm,
    inner: Verifier,
}

#[derive(Clone)]
#[allow(clippy::large_enum_variant)]
enum Verifier {
    Public(ParsedPublicKey),
    Hmac(hmac::Key),
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    /// Parses a public JWK. A JWK can never yield an HMAC key, so a public key can
    /// never be used as an HMAC secret (the RFC 8725 §2.1 algorithm-confusion attack).
    /// Where `alg` is present it must agree with the key type; RSA moduli under
    /// 2048 bits are refused.
    pub fn from_jwk(jwk: &Jwk) -> Result<VerifyingKey, JoseError> {
        let bad = |what: &str| JoseError::InvalidKey(what.to_owned());
        let field = |v: &Option<String>, name: &str| {
            v.as_deref()
                .and_then(b64::decode)
                .ok_or_else(|| bad(&format!("{name} is missing or not base64url")))
        };
        let (alg, parsed) = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
            ("OKP", Some("Ed25519")) => {
                let x = field(&jwk.x, "x")?;
                (
                    Algorithm::EdDSA,
                    ParsedPublicKey::new(&signature::ED25519, x),
                )
            }
            ("EC", Some("P-256")) => {
                let (x, y) = (field(&jwk.x, "x")?, field(&jwk.y, "y")?);
                if x.len() != 32 || y.len() != 32 {
                    return Err(bad("P-256 coordinates must be 32 bytes"));
                }
                let point = [&[4u8][..], &x, &y].concat();
                (
                    Algorithm::ES256,
                    ParsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point),
                )
            }
            ("RSA", _) => {
                let (n, e) = (field(&jwk.n, "n")?, field(&jwk.e, "e")?);
                // RFC 7518 §3.3: 2048 bits or more. Checked here because the parsed key
                // would only refuse a short modulus when first used.
                let bits = n.iter().skip_while(|b| **b == 0).count() * 8;
                if bits < 2048 {
                    return Err(bad(&format!("RSA modulus of {bits} bits is under 2048")));
                }
                let parsed = RsaPublicKeyComponents {
                    n: &n[..],
                    e: &e[..],
                }
                .to_parsed_public_key(&signature::RSA_PKCS1_2048_8192_SHA256);
                (Algorithm::RS256, parsed)
            }
            (kty, crv) => {
                return Err(bad(&format!(
                    "unsupported key type {kty:?} / curve {crv:?}"
                )));
            }
        };
        if let Some(named) = &jwk.alg
            && named != alg.name()
        {
            return Err(bad(&format!(
                "alg {named:?} does not fit a {} key",
                jwk.kty
            )));
        }
        if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            return Err(bad("key is not for signatures"));
        }
        let parsed = parsed.map_err(|e| JoseError::InvalidKey(e.to_string()))?;
        Ok(VerifyingKey {
            kid: jwk.kid.clone().unwrap_or_default(),
            alg,
            inner: Verifier::Public(parsed),
        })
    }

    /// A shared HMAC secret for HS256. Only ever built from explicit configuration.
    pub fn hmac(secret: &[u8], kid: Option<String>) -> Result<VerifyingKey, JoseError> {
        check_hmac_secret(secret)?;
        Ok(VerifyingKey {
            kid: kid.unwrap_or_else(|| b64::encode(thumbprint_of_secret(secret))),
            alg: Algorithm::HS256,
            inner: Verifier::Hmac(hmac::Key::new(hmac::HMAC_SHA256, secret)),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> Algorithm {
        self.alg
    }

    /// Checks `signature` over `message`. The MAC comparison is constant-time (aws-lc-rs).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), JoseError> {
        let ok = match &self.inner {
            Verifier::Public(k) => k.verify_sig(message, signature).is_ok(),
            Verifier::Hmac(k) => hmac::verify(k, message, signature).is_ok(),
        };
        if ok {
            Ok(())
        } else {
            Err(JoseError::BadSignature)
        }
    }
}

/// A private JWK as the algorithm and PKCS#8 DER that [`SigningKey::from_private`] takes
/// (the form admit stores keys in).
pub fn pkcs8_from_private_jwk(jwk: &Value) -> Result<(Algorithm, Vec<u8>), JoseError> {
    let member = |name: &str| {
        jwk.get(name)
            .and_then(Value::as_str)
            .and_then(b64::decode)
            .ok_or_else(|| JoseError::InvalidKey(format!("private JWK without a valid {name:?}")))
    };
    let rejected = |e: aws_lc_rs::error::KeyRejected| JoseError::InvalidKey(e.to_string());
    let crv = jwk.get("crv").and_then(Value::as_str);
    let (alg, der) = match (jwk.get("kty").and_then(Value::as_str), crv) {
        (Some("RSA"), _) => {
            let [n, e, d, p, q, dp, dq, qi] =
                ["n", "e", "d", "p", "q", "dp", "dq", "qi"].map(member);
            let (n, e, d, p, q, dp, dq, qi) = (n?, e?, d?, p?, q?, dp?, dq?, qi?);
            let components = rsa::KeyPairComponents {
                public_key: RsaPublicKeyComponents {
                    n: &n[..],
                    e: &e[..],
                },
                d: &d[..],
                p: &p[..],
                q: &q[..],
                dP: &dp[..],
                dQ: &dq[..],
                qInv: &qi[..],
            };
            let pair = RsaKeyPair::from_components(&components).map_err(rejected)?;
            let der = pair.as_der().map_err(|_| JoseError::Crypto)?;
            (Algorithm::RS256, der.as_ref().to_vec())
        }
        (Some("OKP"), Some("Ed25519")) => {
            let pair = Ed25519KeyPair::from_seed_and_public_key(&member("d")?, &member("x")?)
                .map_err(rejected)?;
            let der = pair.to_pkcs8().map_err(|_| JoseError::Crypto)?;
            (Algorithm::EdDSA, der.as_ref().to_vec())
        }
        (Some("EC"), Some("P-256")) => {
            let point = [&[4u8][..], &member("x")?, &member("y")?].concat();
            let pair = EcdsaKeyPair::from_private_key_and_public_key(
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &member("d")?,
                &point,
            )
            .map_err(rejected)?;
            let der = pair.to_pkcs8v1().map_err(|_| JoseError::Crypto)?;
            (Algorithm::ES256, der.as_ref().to_vec())
        }
        _ => return Err(JoseError::InvalidKey("unsupported private JWK type".into())),
    };
    Ok((alg, der))
}

fn check_hmac_secret(secret: &[u8]) -> Result<(), JoseError> {
    if secret.len() < MIN_HMAC_SECRET_LEN {
        return Err(JoseError::InvalidKey(format!(
            "an HS256 secret needs at least {MIN_HMAC_SECRET_LEN} bytes"
        )));
    }
    Ok(())
}

/// A stable, non-reversible id for an HMAC secret: the first 12 bytes of its SHA-256.
/// A secret's `kid` must not reveal the secret.
fn thumbprint_of_secret(secret: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret).as_ref()[..12].to_vec()
}
