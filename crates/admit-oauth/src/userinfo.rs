//! Which user claims each scope releases (OpenID Connect Core §5.4).

use serde_json::{Map, Value, json};

use crate::scope::Scope;

/// What admit knows about a user.
pub struct UserProfile<'a> {
    pub sub: &'a str,
    pub username: &'a str,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub email_verified: bool,
    pub updated_at: i64,
}

/// `openid` gives `sub`; `profile` gives `name`, `preferred_username`, `updated_at`;
/// `email` gives `email`, `email_verified`. Claims admit does not hold are omitted
/// rather than sent empty (§5.3.2).
pub fn claims(user: &UserProfile<'_>, scope: &Scope) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("sub".into(), json!(user.sub));
    if scope.contains("profile") {
        claims.insert("preferred_username".into(), json!(user.username));
        claims.insert("updated_at".into(), json!(user.updated_at));
        if let Some(name) = user.name {
            claims.insert("name".into(), json!(name));
        }
    }
    if scope.contains("email")
        && let Some(email) = user.email
    {
        claims.insert("email".into(), json!(email));
        claims.insert("email_verified".into(), json!(user.email_verified));
    }
    claims
}
