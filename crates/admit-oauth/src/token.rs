//! The token endpoint's requests and responses (RFC 6749 §3.2, §4.3, §4.4, §5, §6)
//! and the claims of the access tokens it issues (RFC 9068 §2).

use admit_jose::{AccessTokenClaims, Audience};
use serde::Serialize;

use crate::client::{Client, GrantType};
use crate::form::Params;
use crate::scope::Scope;
use crate::{ErrorCode, OAuthError};

/// A parsed token request. Secrets stay in here only as long as the request lives.
pub enum Grant {
    AuthorizationCode {
        code: String,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
    },
    Password {
        username: String,
        password: String,
    },
    RefreshToken {
        refresh_token: String,
    },
    ClientCredentials,
}

impl Grant {
    pub fn grant_type(&self) -> GrantType {
        match self {
            Grant::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            Grant::Password { .. } => GrantType::Password,
            Grant::RefreshToken { .. } => GrantType::RefreshToken,
            Grant::ClientCredentials => GrantType::ClientCredentials,
        }
    }
}

pub struct TokenRequest {
    pub grant: Grant,
    /// The raw `scope` parameter; validated against what may be granted later.
    pub scope: Option<String>,
}

impl TokenRequest {
    pub fn parse(params: &Params) -> Result<TokenRequest, OAuthError> {
        let grant = match params.require("grant_type")? {
            "authorization_code" => Grant::AuthorizationCode {
                code: params.require("code")?.to_owned(),
                redirect_uri: params.get("redirect_uri").map(str::to_owned),
                code_verifier: params.get("code_verifier").map(str::to_owned),
            },
            "password" => Grant::Password {
                username: params.require("username")?.to_owned(),
                password: params.require("password")?.to_owned(),
            },
            "refresh_token" => Grant::RefreshToken {
                refresh_token: params.require("refresh_token")?.to_owned(),
            },
            "client_credentials" => Grant::ClientCredentials,
            _ => {
                return Err(OAuthError::new(
                    ErrorCode::UnsupportedGrantType,
                    "this grant type is not supported",
                ));
            }
        };
        let scope = params.get("scope").map(str::to_owned);
        if let Some(scope) = &scope {
            Scope::parse(scope)?;
        }
        Ok(TokenRequest { grant, scope })
    }
}

/// RFC 6749 §5.2 `unauthorized_client`: the client may not use this grant type.
pub fn check_grant_allowed(client: &Client, grant: GrantType) -> Result<(), OAuthError> {
    if client.may_use(grant) {
        Ok(())
    } else {
        Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            format!("this client may not use the {grant} grant"),
        ))
    }
}

/// Everything that goes into one access token, decided by the grant.
pub struct AccessTokenGrant<'a> {
    pub issuer: &'a str,
    pub audience: &'a str,
    pub client_id: &'a str,
    /// The user, or the client itself for client credentials (RFC 9068 §2.2).
    pub subject: &'a str,
    pub scope: &'a Scope,
    pub auth_time: Option<i64>,
    pub lifetime: i64,
    /// A fresh random identifier, supplied by the caller.
    pub jti: String,
    /// The SSO session the token descends from: revoking the session revokes the token.
    pub session_id: Option<&'a str>,
    /// The refresh-token family (grant) the token descends from, likewise.
    pub grant_id: Option<&'a str>,
}

impl AccessTokenGrant<'_> {
    pub fn claims(&self, now: i64) -> AccessTokenClaims {
        AccessTokenClaims {
            iss: self.issuer.to_owned(),
            sub: self.subject.to_owned(),
            aud: Audience::One(self.audience.to_owned()),
            exp: now + self.lifetime,
            iat: now,
            jti: self.jti.clone(),
            client_id: self.client_id.to_owned(),
            scope: self.scope.to_string(),
            auth_time: self.auth_time,
            nbf: None,
            extra: [("sid", self.session_id), ("gid", self.grant_id)]
                .into_iter()
                .filter_map(|(name, value)| {
                    Some((name.to_owned(), serde_json::Value::from(value?)))
                })
                .collect(),
        }
    }
}

/// RFC 6749 §5.1 successful response. Deserialisable too: a refresh answered once is
/// kept (sealed) for a short grace window and answered again to an identical repeat.
#[derive(Serialize, serde::Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: String,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// OpenID Connect Core §3.1.3.3, when `openid` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

impl TokenResponse {
    pub fn bearer(access_token: String, expires_in: i64, scope: &Scope) -> TokenResponse {
        TokenResponse {
            access_token,
            token_type: "Bearer".to_owned(),
            expires_in,
            refresh_token: None,
            scope: (!scope.is_empty()).then(|| scope.to_string()),
            id_token: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<TokenRequest, OAuthError> {
        TokenRequest::parse(&Params::parse(body.as_bytes()).unwrap())
    }

    #[test]
    fn grant_types_and_their_parameters() {
        assert!(matches!(
            parse("grant_type=password&username=a&password=b")
                .unwrap()
                .grant,
            Grant::Password { .. }
        ));
        assert!(matches!(
            parse("grant_type=client_credentials&scope=x")
                .unwrap()
                .grant,
            Grant::ClientCredentials
        ));
        let missing = |body| parse(body).err().map(|e| e.error);
        assert_eq!(
            missing("grant_type=password&username=a"),
            Some(ErrorCode::InvalidRequest)
        );
        assert_eq!(missing("username=a"), Some(ErrorCode::InvalidRequest));
        assert_eq!(
            missing("grant_type=refresh_token"),
            Some(ErrorCode::InvalidRequest)
        );
        assert_eq!(
            missing("grant_type=implicit"),
            Some(ErrorCode::UnsupportedGrantType)
        );
        assert_eq!(
            missing("grant_type=client_credentials&scope=a%20%20b"),
            Some(ErrorCode::InvalidScope)
        );
    }
}
