//! Token introspection (RFC 7662) and revocation (RFC 7009): who may ask about which
//! token, and the shape of the answer.

use serde::Serialize;

/// RFC 7662 §2.2. An inactive token is answered with `{"active": false}` and nothing
/// else, whatever the reason (§2.2: no hint why, to leak nothing).
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl Introspection {
    pub fn inactive() -> Introspection {
        Introspection::default()
    }
}

/// RFC 7662 §4 leaves to the server which tokens a client may learn about. admit's
/// rule: a client may introspect the tokens issued to it; a resource server registered
/// with the introspection permission may introspect any token.
pub fn may_introspect(asking_client: &str, may_introspect_any: bool, token_client: &str) -> bool {
    may_introspect_any || asking_client == token_client
}

/// RFC 7009 §2.1: the server verifies that the token was issued to the client asking
/// to revoke it.
pub fn may_revoke(asking_client: &str, token_client: &str) -> bool {
    asking_client == token_client
}

/// `token_type_hint` (RFC 7009 §2.1, RFC 7662 §2.1). A hint only orders the lookups;
/// an unknown hint is ignored (RFC 7662) rather than refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    AccessToken,
    RefreshToken,
    None,
}

impl Hint {
    pub fn parse(hint: Option<&str>) -> Hint {
        match hint {
            Some("access_token") => Hint::AccessToken,
            Some("refresh_token") => Hint::RefreshToken,
            _ => Hint::None,
        }
    }

    /// Whether to try the token as a refresh token first. Admit's access tokens are
    /// JWTs and its refresh tokens are not, so the shape decides when the hint is absent.
    pub fn refresh_first(self, token: &str) -> bool {
        match self {
            Hint::RefreshToken => true,
            Hint::AccessToken => false,
            Hint::None => token.matches('.').count() != 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inactive_is_only_active_false() {
        assert_eq!(
            serde_json::to_string(&Introspection::inactive()).unwrap(),
            r#"{"active":false}"#
        );
    }

    #[test]
    fn who_may_ask() {
        assert!(may_introspect("a", false, "a"));
        assert!(!may_introspect("b", false, "a"));
        assert!(may_introspect("rs", true, "a"));
        assert!(may_revoke("a", "a") && !may_revoke("b", "a"));
    }

    #[test]
    fn hints_order_lookups_but_are_not_trusted() {
        assert!(Hint::parse(Some("refresh_token")).refresh_first("a.b.c"));
        assert!(!Hint::parse(Some("access_token")).refresh_first("opaque"));
        assert!(Hint::parse(Some("bogus")).refresh_first("opaque"));
        assert!(!Hint::parse(None).refresh_first("a.b.c"));
    }
}
