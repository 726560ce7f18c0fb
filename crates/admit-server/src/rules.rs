//! What a user or client may hold, as pure functions over the record: the one set of
//! rules behind `admit user add` and `admit client add`, `admit config apply` and the
//! admin API. Messages name the field, not a flag or a key: callers add those.

use admit_oauth::client::GrantType;
use admit_oauth::scope::Scope;
use admit_store::Client;

use crate::revocation::MAX_ACCESS_TOKEN_TTL;

/// NIST SP 800-63B §5.1.1.2: at least 8 characters; a generous maximum bounds hashing work.
pub fn password(password: &str) -> Result<(), &'static str> {
    match password.chars().count() {
        8..=1024 => Ok(()),
        _ => Err("a password has 8 to 1024 characters"),
    }
}

pub fn email(email: &str) -> Result<(), &'static str> {
    match email.contains('@') && email.len() <= 254 {
        true => Ok(()),
        false => Err("email is not an email address"),
    }
}

/// A client secret a caller chose: long, and in characters every client library
/// sends the same way in Basic credentials (RFC 3986 §2.3 unreserved).
pub fn client_secret(secret: &str) -> Result<(), &'static str> {
    if secret.len() < 32 {
        return Err("a client secret needs at least 32 characters");
    }
    if !secret
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    {
        return Err("a client secret may contain only letters, digits and - . _ ~");
    }
    Ok(())
}

/// Checks a whole client record (new, or after a change) and puts its grant types
/// and scopes in their one spelling.
pub fn client(c: &mut Client) -> Result<(), String> {
    if c.client_id.is_empty()
        || c.client_id.len() > 128
        || !c
            .client_id
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b':')
    {
        return Err("a client id has 1 to 128 printable ASCII characters, without ':'".into());
    }
    let mut grants: Vec<GrantType> = Vec::new();
    for name in &c.grant_types {
        let grant: GrantType = name.parse()?;
        if !grants.contains(&grant) {
            grants.push(grant);
        }
    }
    if grants.is_empty() {
        return Err("a client needs at least one grant type".into());
    }
    // RFC 6749 §4.4: client credentials need a client that can keep a secret.
    if c.public && grants.contains(&GrantType::ClientCredentials) {
        return Err("a public client cannot use client_credentials".into());
    }
    // A public client proves nothing about itself: it must use PKCE and may not
    // introspect.
    if c.public && !c.require_pkce {
        return Err("a public client must use PKCE".into());
    }
    if c.public && c.may_introspect {
        return Err("a public client cannot be a resource server (may_introspect)".into());
    }
    c.grant_types = grants.iter().map(|g| g.as_str().to_owned()).collect();
    for uri in c.redirect_uris.iter().chain(&c.post_logout_redirect_uris) {
        redirect_uri(uri)?;
    }
    let scopes = c.scopes.join(" ");
    c.scopes = match scopes.is_empty() {
        true => vec![],
        false => Scope::parse(&scopes)
            .map_err(|e| format!("scopes: {}", e.error_description))?
            .iter()
            .map(str::to_owned)
            .collect(),
    };
    for (name, ttl) in [
        ("access_token_ttl", c.access_token_ttl),
        ("refresh_token_ttl", c.refresh_token_ttl),
        ("refresh_idle_ttl", c.refresh_idle_ttl),
        ("code_ttl", c.code_ttl),
        ("session_ttl", c.session_ttl),
    ] {
        if ttl.is_some_and(|t| t <= 0) {
            return Err(format!("{name} must be a positive number of seconds"));
        }
    }
    if c.access_token_ttl.is_some_and(|t| t > MAX_ACCESS_TOKEN_TTL) {
        return Err(format!(
            "access_token_ttl may be at most {MAX_ACCESS_TOKEN_TTL} seconds"
        ));
    }
    // RFC 6749 §4.1.2: codes live ten minutes at most.
    if c.code_ttl.is_some_and(|t| t > 600) {
        return Err("code_ttl may be at most 600 seconds".into());
    }
    if c.id_token_alg
        .as_deref()
        .is_some_and(|alg| !["RS256", "ES256", "EdDSA"].contains(&alg))
    {
        return Err("id_token_alg must be RS256, ES256 or EdDSA".into());
    }
    Ok(())
}

/// RFC 6749 §3.1.2: an absolute URI without a fragment.
fn redirect_uri(uri: &str) -> Result<(), String> {
    let parsed = url::Url::parse(uri).map_err(|e| format!("redirect URI {uri:?}: {e}"))?;
    if parsed.fragment().is_some() {
        return Err(format!("redirect URI {uri:?} must not have a fragment"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client {
            client_id: "app".into(),
            secret_hash: Some(vec![0; 32]),
            public: false,
            name: None,
            grant_types: vec!["client_credentials".into(), "client_credentials".into()],
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            scopes: vec!["b".into(), "a b".into()],
            skip_consent: false,
            require_pkce: true,
            id_token_alg: None,
            access_token_ttl: None,
            refresh_token_ttl: None,
            refresh_idle_ttl: None,
            code_ttl: None,
            session_ttl: None,
            may_introspect: false,
            created_at: 0,
        }
    }

    fn check(change: impl FnOnce(&mut Client)) -> Result<Client, String> {
        let mut c = client();
        change(&mut c);
        super::client(&mut c).map(|()| c)
    }

    #[test]
    fn a_client_is_normalised() {
        let c = check(|_| {}).unwrap();
        assert_eq!(c.grant_types, ["client_credentials"]);
        assert_eq!(c.scopes.len(), 2);
    }

    #[test]
    fn bad_clients_are_refused() {
        for change in [
            (|c: &mut Client| c.client_id = "a:b".into()) as fn(&mut Client),
            |c| c.client_id = String::new(),
            |c| c.grant_types = vec!["implicit".into()],
            |c| c.grant_types = vec![],
            |c| c.public = true,
            |c| c.redirect_uris = vec!["/relative".into()],
            |c| c.redirect_uris = vec!["https://a.example/#f".into()],
            |c| c.scopes = vec!["bad\"scope".into()],
            |c| c.access_token_ttl = Some(0),
            |c| c.access_token_ttl = Some(MAX_ACCESS_TOKEN_TTL + 1),
            |c| c.code_ttl = Some(601),
            |c| c.id_token_alg = Some("none".into()),
        ] {
            assert!(check(change).is_err());
        }
    }

    #[test]
    fn passwords_secrets_and_emails() {
        assert!(password("1234567").is_err());
        assert!(password("12345678").is_ok());
        assert!(password(&"x".repeat(1025)).is_err());
        assert!(client_secret(&"a".repeat(31)).is_err());
        assert!(client_secret(&format!("{}+", "a".repeat(32))).is_err());
        assert!(client_secret(&"a-._~".repeat(8)).is_ok());
        assert!(email("a@b").is_ok());
        assert!(email("ab").is_err());
    }
}
