//! Claim checks after the signature (RFC 7519 §4.1, RFC 8725 §3.8-3.11, RFC 9068 §4).

use serde_json::{Map, Value};

use crate::{Algorithm, Audience, JoseError, UnverifiedJwt, VerifyingKey};

/// What a token must satisfy. Issuer and audience are required by construction:
/// there is no way to forget them (a gap `jsonwebtoken` leaves to its caller).
#[derive(Debug, Clone)]
pub struct Validation {
    pub issuer: String,
    pub audience: String,
    /// Required `typ` header, compared case-insensitively without an `application/`
    /// prefix (RFC 7515 §4.1.9). `None` skips the check.
    pub typ: Option<String>,
    pub algorithms: Vec<Algorithm>,
    /// Allowed clock skew in seconds for `exp`, `nbf` and `iat`.
    pub leeway: i64,
}

impl Validation {
    /// Access-token checks per RFC 9068 §4: `typ` must be `at+jwt`, asymmetric
    /// algorithms only, 30 s of leeway.
    pub fn access_token(issuer: impl Into<String>, audience: impl Into<String>) -> Validation {
        Validation {
            issuer: issuer.into(),
            audience: audience.into(),
            typ: Some(crate::ACCESS_TOKEN_TYP.to_owned()),
            algorithms: vec![Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256],
            leeway: 30,
        }
    }

    /// Verifies the signature with `key`, then the header type and the claims at `now`.
    pub fn verify(
        &self,
        jwt: &UnverifiedJwt<'_>,
        key: &VerifyingKey,
        now: i64,
    ) -> Result<Map<String, Value>, JoseError> {
        let claims = jwt.verify(key, &self.algorithms)?;
        self.check_typ(jwt.header().typ.as_deref())?;
        self.check_claims(&claims, now)?;
        Ok(claims)
    }

    fn check_typ(&self, found: Option<&str>) -> Result<(), JoseError> {
        let Some(expected) = &self.typ else {
            return Ok(());
        };
        let normalise = |t: &str| {
            let t = t.to_ascii_lowercase();
            t.strip_prefix("application/")
                .map(str::to_owned)
                .unwrap_or(t)
        };
        if found.map(normalise) == Some(normalise(expected)) {
            Ok(())
        } else {
            Err(JoseError::WrongType {
                expected: expected.clone(),
                found: found.map(|t| t.chars().take(64).collect()),
            })
        }
    }

    /// `exp` is required; `nbf` and `iat` are checked where present.
    pub fn check_claims(&self, claims: &Map<String, Value>, now: i64) -> Result<(), JoseError> {
        let number = |name: &'static str| match claims.get(name) {
            None => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or(JoseError::MissingClaim(name)),
        };
        let exp = number("exp")?.ok_or(JoseError::MissingClaim("exp"))?;
        if now > exp.saturating_add(self.leeway) {
            return Err(JoseError::Expired);
        }
        // A token issued in the future is as suspicious as one not valid yet.
        for name in ["nbf", "iat"] {
            if number(name)?.is_some_and(|t| now.saturating_add(self.leeway) < t) {
                return Err(JoseError::NotYetValid);
            }
        }
        match claims.get("iss").and_then(Value::as_str) {
            Some(iss) if iss == self.issuer => {}
            Some(iss) => return Err(JoseError::WrongIssuer(iss.chars().take(200).collect())),
            None => return Err(JoseError::MissingClaim("iss")),
        }
        let aud: Audience = claims
            .get("aud")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .ok_or(JoseError::MissingClaim("aud"))?;
        if !aud.contains(&self.audience) {
            return Err(JoseError::WrongAudience);
        }
        Ok(())
    }
}
