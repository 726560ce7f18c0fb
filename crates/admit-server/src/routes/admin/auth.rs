//! Who may call the admin API: a bearer access token that admit itself issued to a
//! client through client credentials, carrying the `admin` scope.
//!
//! The token is checked by `own_tokens::live_access_token`, the code UserInfo and
//! introspection use (signature against admit's own key set, `iss`, `aud`, `typ`,
//! expiry, then the revocation events), not by the `admit-resource` crate: that
//! crate fetches the JWKS over HTTP, which for the server itself would be a call to
//! its own public URL, while the server already holds the keys.

use std::net::IpAddr;

use admit_jose::AccessTokenClaims;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::problem::AdminError;
use crate::address::ClientAddress;
use crate::audit::Event;
use crate::state::AppState;

/// The scope an admin token carries.
pub const ADMIN_SCOPE: &str = "admin";

/// An authenticated admin caller: the client its token was issued to.
#[derive(Debug, Clone)]
pub struct Admin {
    pub client_id: String,
    pub address: Option<IpAddr>,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AdminError> {
        let token = bearer_token(&parts.headers)?;
        let claims = crate::own_tokens::live_access_token(state, token, crate::now())
            .await?
            .ok_or(AdminError::InvalidToken)?;
        authorize(&claims)?;
        let Ok(ClientAddress(address)) = ClientAddress::from_request_parts(parts, state).await;
        Ok(Admin {
            client_id: claims.client_id,
            address,
        })
    }
}

impl Admin {
    /// An audit event of a change this caller made: actor `client:<client_id>`.
    pub fn event(&self, name: &str, subject: &str) -> Event {
        Event::new(name, "success")
            .actor(format!("client:{}", self.client_id))
            .client(&self.client_id)
            .address(self.address)
            .subject(subject)
    }
}

/// The token of `Authorization: Bearer <token>` (RFC 6750 §2.1). Another scheme
/// carries no bearer token at all (§3.1: 401 without an error code).
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, AdminError> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let value = match (values.next(), values.next()) {
        (None, _) => return Err(AdminError::NoToken),
        (Some(v), None) => v
            .to_str()
            .map_err(|_| AdminError::BadAuthorization("the Authorization header is not text"))?,
        (Some(_), Some(_)) => {
            return Err(AdminError::BadAuthorization(
                "the Authorization header is repeated",
            ));
        }
    };
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer")
                && !token.is_empty()
                && !token.contains(' ') =>
        {
            Ok(token)
        }
        Some((scheme, _)) if !scheme.eq_ignore_ascii_case("bearer") => Err(AdminError::NoToken),
        None if !value.eq_ignore_ascii_case("bearer") => Err(AdminError::NoToken),
        _ => Err(AdminError::BadAuthorization(
            "use Authorization: Bearer <token>",
        )),
    }
}

/// A live token may use the admin API when it carries the admin scope and was
/// issued to a client for itself (client credentials: `sub` is the client), not
/// to a client acting for a user.
pub fn authorize(claims: &AccessTokenClaims) -> Result<(), AdminError> {
    if !claims.has_scope(ADMIN_SCOPE) {
        return Err(AdminError::InsufficientScope("the admin scope is required"));
    }
    if claims.sub != claims.client_id {
        return Err(AdminError::InsufficientScope(
            "the admin API takes client-credentials tokens, not a user's",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn token_of(values: &[&'static str]) -> Result<String, u16> {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(header::AUTHORIZATION, HeaderValue::from_static(v));
        }
        bearer_token(&headers)
            .map(str::to_owned)
            .map_err(|e| match e {
                AdminError::NoToken => 401,
                AdminError::BadAuthorization(_) => 400,
                _ => 0,
            })
    }

    #[test]
    fn bearer_header_forms() {
        assert_eq!(token_of(&["Bearer abc"]), Ok("abc".into()));
        assert_eq!(token_of(&["bearer abc"]), Ok("abc".into()));
        assert_eq!(token_of(&[]), Err(401));
        assert_eq!(token_of(&["Basic YTpi"]), Err(401));
        assert_eq!(token_of(&["Bearer"]), Err(400));
        assert_eq!(token_of(&["Bearer a b"]), Err(400));
        assert_eq!(token_of(&["Bearer a", "Bearer b"]), Err(400));
    }

    fn claims(sub: &str, scope: &str) -> AccessTokenClaims {
        serde_json::from_value(serde_json::json!({
            "iss": "https://admit.test", "sub": sub, "aud": "api", "exp": 2, "iat": 1,
            "jti": "j", "client_id": "ops", "scope": scope,
        }))
        .unwrap()
    }

    #[test]
    fn admin_needs_the_scope_and_a_client_token() {
        assert!(authorize(&claims("ops", "admin")).is_ok());
        assert!(authorize(&claims("ops", "read admin")).is_ok());
        assert!(matches!(
            authorize(&claims("ops", "read")),
            Err(AdminError::InsufficientScope(_))
        ));
        assert!(matches!(
            authorize(&claims("user-id", "admin")),
            Err(AdminError::InsufficientScope(_))
        ));
    }
}
