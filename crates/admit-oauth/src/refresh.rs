//! Refresh-token rotation and reuse detection (RFC 6749 §6, RFC 9700 §4.14.2).
//!
//! Every refresh returns a new refresh token and retires the old one. A retired token
//! presented again means it was copied: the whole family (every token descended from
//! the same grant) is revoked, so both the thief and the victim must log in again.

use crate::scope::Scope;
use crate::{ErrorCode, OAuthError};

/// What the store knows about a presented refresh token.
pub struct StoredRefresh<'a> {
    pub client_id: &'a str,
    pub scope: Scope,
    pub expires_at: i64,
    pub rotated: bool,
    pub family_revoked: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Issue new tokens with this scope and retire the presented token.
    Rotate { scope: Scope },
    /// The token was already rotated: revoke its family, then answer `invalid_grant`.
    Reuse,
}

pub fn judge(
    stored: Option<&StoredRefresh<'_>>,
    client_id: &str,
    requested_scope: Option<&str>,
    now: i64,
) -> Result<Decision, OAuthError> {
    let invalid = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
    let stored = stored.ok_or_else(invalid)?;
    // §6: the token must have been issued to the authenticated client.
    if stored.client_id != client_id || stored.family_revoked {
        return Err(invalid());
    }
    if stored.rotated {
        return Ok(Decision::Reuse);
    }
    if now >= stored.expires_at {
        return Err(invalid());
    }
    // §6: the new scope must not include any scope not originally granted.
    let scope = match requested_scope {
        None => stored.scope.clone(),
        Some(requested) => {
            let requested = Scope::parse(requested)?;
            if !requested.is_subset(&stored.scope) {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "a refresh cannot widen the scope originally granted",
                ));
            }
            requested
        }
    };
    Ok(Decision::Rotate { scope })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(rotated: bool, revoked: bool) -> StoredRefresh<'static> {
        StoredRefresh {
            client_id: "app",
            scope: Scope::parse("a b").unwrap(),
            expires_at: 100,
            rotated,
            family_revoked: revoked,
        }
    }

    #[test]
    fn decisions() {
        let s = stored(false, false);
        assert_eq!(
            judge(Some(&s), "app", None, 10).unwrap(),
            Decision::Rotate {
                scope: s.scope.clone()
            }
        );
        assert_eq!(
            judge(Some(&s), "app", Some("a"), 10).unwrap(),
            Decision::Rotate {
                scope: Scope::parse("a").unwrap()
            }
        );
        assert_eq!(
            judge(Some(&s), "app", Some("a c"), 10).unwrap_err().error,
            ErrorCode::InvalidScope
        );
        assert_eq!(
            judge(Some(&s), "other", None, 10).unwrap_err().error,
            ErrorCode::InvalidGrant
        );
        assert_eq!(
            judge(Some(&s), "app", None, 100).unwrap_err().error,
            ErrorCode::InvalidGrant
        );
        assert_eq!(
            judge(Some(&stored(true, false)), "app", None, 10).unwrap(),
            Decision::Reuse
        );
        assert_eq!(
            judge(Some(&stored(true, true)), "app", None, 10)
                .unwrap_err()
                .error,
            ErrorCode::InvalidGrant
        );
        assert_eq!(
            judge(None, "app", None, 10).unwrap_err().error,
            ErrorCode::InvalidGrant
        );
    }
}
