//! Authorization server metadata (RFC 8414 §2, OpenID Connect Discovery §3): exactly
//! what admit implements, nothing more.

use serde::Serialize;

use crate::client::GrantType;

#[derive(Debug, Serialize)]
pub struct Metadata {
    pub issuer: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub grant_types_supported: Vec<&'static str>,
    /// RFC 8414 §2 REQUIRED. Empty until the authorization endpoint exists: no
    /// response type is implemented yet.
    pub response_types_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub scopes_supported: Vec<String>,
    pub subject_types_supported: Vec<&'static str>,
    /// Algorithms of the keys in the JWKS: what access tokens may be signed with.
    pub access_token_signing_alg_values_supported: Vec<&'static str>,
}

impl Metadata {
    pub fn new(issuer: &str, signing_algs: Vec<&'static str>, scopes: Vec<String>) -> Metadata {
        Metadata {
            issuer: issuer.to_owned(),
            token_endpoint: format!("{issuer}/oauth2/token"),
            jwks_uri: format!("{issuer}/.well-known/jwks.json"),
            grant_types_supported: [
                GrantType::Password,
                GrantType::RefreshToken,
                GrantType::ClientCredentials,
            ]
            .map(GrantType::as_str)
            .to_vec(),
            response_types_supported: vec![],
            token_endpoint_auth_methods_supported: vec![
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            scopes_supported: scopes,
            subject_types_supported: vec!["public"],
            access_token_signing_alg_values_supported: signing_algs,
        }
    }
}
