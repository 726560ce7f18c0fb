//! Splitting a JWT into its three parts and explaining each claim in one sentence.
//!
//! This is the seed's point 3 made visible: `[header].[payload].[signature]`, the
//! header naming the type and algorithm, the payload carrying name: value pairs.
//! Decoding here is for display only; the ID token's signature was already checked
//! by openidconnect, and the access token is checked by the API, not by this site.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::DateTime;
use serde_json::Value;

/// Which token a claim sits in: the same name can mean something different.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Id,
    Access,
}

/// A compact JWS split at its dots, with the JSON of header and payload decoded.
#[derive(Clone, Debug)]
pub struct SplitJwt {
    pub header_b64: String,
    pub payload_b64: String,
    pub signature_b64: String,
    pub header: Value,
    pub payload: Value,
}

/// One row of the explanation table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimLine {
    pub name: String,
    /// The value as compact JSON (strings without quotes).
    pub value: String,
    /// For times: the date in UTC and how long ago or ahead it is.
    pub when: Option<String>,
    pub explanation: String,
}

/// Splits `token` into header, payload and signature. `None` when it is not a JWS
/// in compact form (three base64url segments, the first two JSON objects): such a
/// token is opaque, and only its issuer can tell what it means.
pub fn split(token: &str) -> Option<SplitJwt> {
    let mut parts = token.split('.');
    let (header_b64, payload_b64, signature_b64) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let decode = |segment: &str| -> Option<Value> {
        let bytes = URL_SAFE_NO_PAD.decode(segment).ok()?;
        let value: Value = serde_json::from_slice(&bytes).ok()?;
        value.is_object().then_some(value)
    };
    Some(SplitJwt {
        header: decode(header_b64)?,
        payload: decode(payload_b64)?,
        header_b64: header_b64.to_owned(),
        payload_b64: payload_b64.to_owned(),
        signature_b64: signature_b64.to_owned(),
    })
}

/// The header's members, explained.
pub fn explain_header(header: &Value, kind: TokenKind) -> Vec<ClaimLine> {
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    lines(
        header,
        |name| match name {
            "alg" => alg_explanation(alg),
            _ => header_explanation(name, kind),
        },
        None,
    )
}

fn alg_explanation(alg: &str) -> String {
    let how = match alg {
        "RS256" => "RS256: an RSA signature over a SHA-256 digest",
        "PS256" => "PS256: an RSA-PSS signature over a SHA-256 digest",
        "ES256" => "ES256: an ECDSA signature on the P-256 curve over a SHA-256 digest",
        "EdDSA" => "EdDSA: an Ed25519 signature",
        "HS256" => "HS256: an HMAC with a secret shared by issuer and verifier",
        _ => "an algorithm this page has no note for",
    };
    format!(
        "Algorithm: how the signature was made ({how}); a verifier accepts only the \
         algorithms it chose in advance, never whatever the token claims."
    )
}

/// The payload's claims, explained; times are related to `now` (Unix seconds).
pub fn explain_payload(payload: &Value, kind: TokenKind, now: i64) -> Vec<ClaimLine> {
    lines(payload, |name| claim_explanation(name, kind), Some(now))
}

fn lines(object: &Value, explain: impl Fn(&str) -> String, now: Option<i64>) -> Vec<ClaimLine> {
    let Some(members) = object.as_object() else {
        return Vec::new();
    };
    members
        .iter()
        .map(|(name, value)| ClaimLine {
            name: name.clone(),
            value: match value {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            },
            when: now
                .filter(|_| is_time_claim(name))
                .and_then(|now| Some(describe_time(value.as_i64()?, now))),
            explanation: explain(name),
        })
        .collect()
}

fn is_time_claim(name: &str) -> bool {
    matches!(name, "exp" | "iat" | "nbf" | "auth_time" | "updated_at")
}

/// `2025-01-02 03:04:05 UTC (in 5 min)`, from Unix seconds.
pub fn describe_time(at: i64, now: i64) -> String {
    let date = DateTime::from_timestamp(at, 0)
        .map(|date| date.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_else(|| "out of range".to_owned());
    let delta = at - now;
    let span = human_span(delta.unsigned_abs());
    let relative = match delta {
        0 => "now".to_owned(),
        d if d > 0 => format!("in {span}"),
        _ => format!("{span} ago"),
    };
    format!("{date} ({relative})")
}

fn human_span(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 2 * 3600 => format!("{} min", s / 60),
        s if s < 2 * 86400 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86400),
    }
}

fn header_explanation(name: &str, kind: TokenKind) -> String {
    match (name, kind) {
        ("typ", TokenKind::Access) => "Type: at+jwt marks an OAuth access token (RFC 9068), so it can never be mistaken for an ID token.",
        ("typ", TokenKind::Id) => "Type: a plain JWT; an ID token is for this site to read, not for an API.",
        ("kid", _) => "Key ID: which of admit's published keys (its JWKS) signed this, so a verifier can pick the right public key.",
        ("jku" | "x5u" | "jwk", _) => "A pointer to a key; verifiers must ignore it and use only the issuer's own JWKS.",
        ("cty", _) => "Content type of the payload (for nested tokens).",
        _ => "A header member this page has no note for.",
    }
    .to_owned()
}

fn claim_explanation(name: &str, kind: TokenKind) -> String {
    use TokenKind::{Access, Id};
    match (name, kind) {
        ("iss", _) => "Issuer: who made and signed the token (admit); it must be exactly the issuer the site discovered.",
        ("sub", _) => "Subject: admit's stable identifier for the user; a site keys its accounts on iss + sub, never on the e-mail address.",
        ("aud", Id) => "Audience: who the token is for, here this site's client_id; a site refuses an ID token made for someone else.",
        ("aud", Access) => "Audience: the API(s) this token may be used at; each API checks that it is named here.",
        ("exp", _) => "Expires: after this moment nobody may accept the token.",
        ("iat", _) => "Issued at: when admit created the token.",
        ("nbf", _) => "Not before: the token is not valid before this moment.",
        ("auth_time", _) => "Authentication time: when the user last actually typed the password at admit (a refresh does not change it).",
        ("nonce", _) => "Nonce: the random value this site put in the authorize URL; seeing it back proves the token answers this very login, not a replayed one.",
        ("at_hash", _) => "Access token hash: half of the SHA-256 of the access token; it ties the two tokens together so nobody can swap in another access token.",
        ("c_hash", _) => "Code hash: ties the token to the authorization code it came from.",
        ("azp", _) => "Authorized party: the client the token was issued to.",
        ("sid", _) => "Session ID: the user's login session at admit; logout uses it to end the right session.",
        ("jti", _) => "JWT ID: a unique identifier for this token, so it can be told apart (or revoked) individually.",
        ("client_id", _) => "Client ID: the application (this site) that asked for the token.",
        ("scope", _) => "Scope: what the token allows, space-separated; the API checks it before answering.",
        ("acr", _) => "Authentication context class: how strong the login was.",
        ("amr", _) => "Authentication methods: how the user proved who they are (pwd = password).",
        ("name", _) => "The user's full name (profile scope).",
        ("given_name", _) => "The user's given name (profile scope).",
        ("family_name", _) => "The user's family name (profile scope).",
        ("preferred_username", _) => "The name the user goes by at admit (profile scope); not unique, not a key.",
        ("email", _) => "The user's e-mail address (email scope).",
        ("email_verified", _) => "Whether admit checked that the user owns that e-mail address.",
        ("updated_at", _) => "When the user's profile last changed.",
        ("roles" | "groups", _) => "Groups or roles the user holds at admit.",
        _ => "A claim this page has no note for: admit added it, and the spec leaves its meaning to the issuer.",
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jwt(header: &Value, payload: &Value) -> String {
        format!(
            "{}.{}.c2lnbmF0dXJl",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        )
    }

    fn check(name: &str, kind: TokenKind, expected_start: &str) {
        let explanation = claim_explanation(name, kind);
        assert!(
            explanation.starts_with(expected_start),
            "{name}: {explanation}"
        );
    }

    #[test]
    fn splits_a_jwt_into_its_three_parts() {
        let header = json!({"alg": "RS256", "typ": "at+jwt", "kid": "k1"});
        let payload = json!({"iss": "http://127.0.0.1:8080", "sub": "alice", "exp": 1000});
        let token = jwt(&header, &payload);
        let split = split(&token).unwrap();
        assert_eq!(split.header, header);
        assert_eq!(split.payload, payload);
        assert_eq!(split.signature_b64, "c2lnbmF0dXJl");
        assert_eq!(
            format!(
                "{}.{}.{}",
                split.header_b64, split.payload_b64, split.signature_b64
            ),
            token
        );
    }

    #[test]
    fn opaque_or_malformed_tokens_do_not_split() {
        assert!(split("8xLOxBtZp8").is_none());
        assert!(split("a.b").is_none());
        assert!(split("a.b.c.d").is_none());
        assert!(split("!!!.e30.sig").is_none());
        // Valid base64url but not a JSON object.
        let number = URL_SAFE_NO_PAD.encode("42");
        assert!(split(&format!("{number}.{number}.sig")).is_none());
    }

    #[test]
    fn every_standard_claim_has_its_own_sentence() {
        check("iss", TokenKind::Id, "Issuer");
        check("sub", TokenKind::Id, "Subject");
        check(
            "aud",
            TokenKind::Id,
            "Audience: who the token is for, here this site",
        );
        check("aud", TokenKind::Access, "Audience: the API");
        check("exp", TokenKind::Id, "Expires");
        check("iat", TokenKind::Id, "Issued at");
        check("auth_time", TokenKind::Id, "Authentication time");
        check("nonce", TokenKind::Id, "Nonce");
        check("at_hash", TokenKind::Id, "Access token hash");
        check("azp", TokenKind::Id, "Authorized party");
        check("sid", TokenKind::Id, "Session ID");
        check("jti", TokenKind::Access, "JWT ID");
        check("client_id", TokenKind::Access, "Client ID");
        check("scope", TokenKind::Access, "Scope");
        check(
            "something_else",
            TokenKind::Access,
            "A claim this page has no note for",
        );
        for (name, start) in [("kid", "Key ID"), ("typ", "Type")] {
            assert!(header_explanation(name, TokenKind::Access).starts_with(start));
        }
        let header = serde_json::json!({"alg": "EdDSA", "typ": "at+jwt"});
        let lines = explain_header(&header, TokenKind::Access);
        assert!(lines[0].explanation.starts_with("Algorithm"));
        assert!(
            lines[0].explanation.contains("Ed25519"),
            "{}",
            lines[0].explanation
        );
        assert!(header_explanation("typ", TokenKind::Access).contains("at+jwt"));
    }

    #[test]
    fn payload_lines_show_values_and_times() {
        let payload = json!({"sub": "alice", "exp": 1_700_000_300, "aud": ["a", "b"], "email_verified": true});
        let lines = explain_payload(&payload, TokenKind::Id, 1_700_000_000);
        let line = |name: &str| lines.iter().find(|line| line.name == name).unwrap();
        assert_eq!(line("sub").value, "alice");
        assert_eq!(line("sub").when, None);
        assert_eq!(line("aud").value, r#"["a","b"]"#);
        assert_eq!(line("email_verified").value, "true");
        assert_eq!(
            line("exp").when.as_deref(),
            Some("2023-11-14 22:18:20 UTC (in 5 min)")
        );
    }

    #[test]
    fn times_read_naturally() {
        assert_eq!(describe_time(0, 0), "1970-01-01 00:00:00 UTC (now)");
        assert_eq!(describe_time(0, 30), "1970-01-01 00:00:00 UTC (30 s ago)");
        assert_eq!(describe_time(7200, 0), "1970-01-01 02:00:00 UTC (in 2 h)");
        assert_eq!(
            describe_time(0, 3 * 86400),
            "1970-01-01 00:00:00 UTC (3 days ago)"
        );
    }
}
