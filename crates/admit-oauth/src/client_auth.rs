//! Client authentication at the token endpoint (RFC 6749 §2.3.1):
//! `client_secret_basic`, `client_secret_post`, and `none` for public clients.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::client::Client;
use crate::form::Params;
use crate::{OAuthError, secret};

/// How the client presented itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// HTTP Basic with the form-urlencoded id and secret.
    SecretBasic,
    /// `client_id` and `client_secret` in the body.
    SecretPost,
    /// `client_id` alone: a public client.
    None,
}

/// Credentials as presented, before they are checked.
pub struct Presented {
    pub client_id: String,
    pub secret: Option<String>,
    pub method: Method,
}

impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presented")
            .field("client_id", &self.client_id)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

/// Reads the credentials from the `Authorization` header value (if any) and the body.
/// A request may use only one method (RFC 6749 §2.3).
pub fn presented(authorization: Option<&str>, params: &Params) -> Result<Presented, OAuthError> {
    let body_id = params.get("client_id");
    let body_secret = params.get("client_secret");
    if let Some(header) = authorization {
        if body_secret.is_some() {
            return Err(OAuthError::invalid_request(
                "use one client authentication method, not both Basic and client_secret",
            ));
        }
        let (client_id, secret) = parse_basic(header).ok_or_else(OAuthError::invalid_client)?;
        // RFC 6749 §2.3.1 allows client_id in the body too, but then it must agree.
        if body_id.is_some_and(|id| id != client_id) {
            return Err(OAuthError::invalid_request(
                "client_id does not match the Authorization header",
            ));
        }
        return Ok(Presented {
            client_id,
            secret: Some(secret),
            method: Method::SecretBasic,
        });
    }
    let client_id = body_id
        .ok_or_else(|| OAuthError::invalid_request("missing client authentication"))?
        .to_owned();
    Ok(match body_secret {
        Some(secret) => Presented {
            client_id,
            secret: Some(secret.to_owned()),
            method: Method::SecretPost,
        },
        None => Presented {
            client_id,
            secret: None,
            method: Method::None,
        },
    })
}

/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1, RFC 7617).
fn parse_basic(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |s: &str| -> Option<String> {
        // Most ids and secrets have nothing to decode.
        if !s.contains(['%', '+']) {
            return Some(s.to_owned());
        }
        let bytes: Vec<u8> = url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned().into_bytes())?;
        String::from_utf8(bytes).ok()
    };
    let (id, secret) = (unescape(id)?, unescape(secret)?);
    (!id.is_empty() && !id.contains('\0') && !secret.contains('\0')).then_some((id, secret))
}

/// Checks presented credentials against the registered client (`None` when the id
/// is unknown). Confidential clients must present their secret; public clients must
/// not claim one. Every failure is the same `invalid_client`.
pub fn authenticate(presented: &Presented, client: Option<&Client>) -> Result<(), OAuthError> {
    let client = client.ok_or_else(OAuthError::invalid_client)?;
    match (&client.secret_hash, &presented.secret) {
        (Some(stored), Some(secret)) if secret::matches(secret, stored) => Ok(()),
        (None, None) => Ok(()),
        _ => Err(OAuthError::invalid_client()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::GrantType;
    use crate::scope::Scope;

    fn basic(id: &str, secret: &str) -> String {
        format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
    }

    fn client(secret: Option<&str>) -> Client {
        Client {
            client_id: "app".into(),
            secret_hash: secret.map(secret::hash),
            grant_types: vec![GrantType::Password],
            scopes: Scope::default(),
            redirect_uris: vec![],
        }
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let p = presented(Some(&basic("my%20app", "a%3Ab+c")), &Params::default()).unwrap();
        assert_eq!(p.client_id, "my app");
        assert_eq!(p.secret.as_deref(), Some("a:b c"));
        assert_eq!(p.method, Method::SecretBasic);
    }

    #[test]
    fn one_method_only() {
        let params = Params::parse(b"client_id=app&client_secret=x").unwrap();
        assert!(presented(Some(&basic("app", "x")), &params).is_err());
        let params = Params::parse(b"client_id=other").unwrap();
        assert!(presented(Some(&basic("app", "x")), &params).is_err());
    }

    #[test]
    fn secrets_must_match_and_public_clients_have_none() {
        let confidential = client(Some("s"));
        let ok = presented(Some(&basic("app", "s")), &Params::default()).unwrap();
        assert!(authenticate(&ok, Some(&confidential)).is_ok());
        let wrong = presented(Some(&basic("app", "t")), &Params::default()).unwrap();
        assert!(authenticate(&wrong, Some(&confidential)).is_err());
        let none = presented(None, &Params::parse(b"client_id=app").unwrap()).unwrap();
        assert!(authenticate(&none, Some(&confidential)).is_err());
        assert!(authenticate(&none, Some(&client(None))).is_ok());
        assert!(authenticate(&ok, Some(&client(None))).is_err());
        assert!(authenticate(&ok, None).is_err());
        for garbage in [
            "Basic",
            "Basic !!!",
            "Bearer abc",
            &basic("", "x"),
            "Basic YWJj",
        ] {
            assert!(
                presented(Some(garbage), &Params::default()).is_err(),
                "{garbage}"
            );
        }
    }
}
