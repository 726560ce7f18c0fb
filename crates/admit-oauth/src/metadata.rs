//! Authorization server metadata (RFC 8414 §2, OpenID Connect Discovery §3): exactly
//! what admit implements, nothing more.

use serde::Serialize;

use crate::client::GrantType;

/// Client authentication at the token, introspection and revocation endpoints.
const AUTH_METHODS: [&str; 3] = ["client_secret_basic", "client_secret_post", "none"];

#[derive(Debug, Serialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    pub end_session_endpoint: String,
    pub introspection_endpoint: String,
    pub revocation_endpoint: String,
    /// admit's own extension: Server-Sent Events of revocations, for resource servers
    /// that verify tokens locally (see `admit-resource`).
    pub revocation_stream_endpoint: String,
    pub scopes_supported: Vec<String>,
    pub response_types_supported: Vec<&'static str>,
    pub response_modes_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub claims_supported: Vec<&'static str>,
    pub code_challenge_methods_supported: Vec<&'static str>,
    pub prompt_values_supported: Vec<&'static str>,
    /// RFC 9207: every authorization response carries `iss`.
    pub authorization_response_iss_parameter_supported: bool,
    pub request_parameter_supported: bool,
    pub request_uri_parameter_supported: bool,
    pub claims_parameter_supported: bool,
}

impl Metadata {
    /// `id_token_algs` are the algorithms admit holds asymmetric keys for.
    pub fn new(issuer: &str, id_token_algs: Vec<&'static str>, scopes: Vec<String>) -> Metadata {
        Metadata {
            issuer: issuer.to_owned(),
            authorization_endpoint: format!("{issuer}/oauth2/authorize"),
            token_endpoint: format!("{issuer}/oauth2/token"),
            userinfo_endpoint: format!("{issuer}/oauth2/userinfo"),
            jwks_uri: format!("{issuer}/.well-known/jwks.json"),
            end_session_endpoint: format!("{issuer}/oauth2/logout"),
            introspection_endpoint: format!("{issuer}/oauth2/introspect"),
            revocation_endpoint: format!("{issuer}/oauth2/revoke"),
            revocation_stream_endpoint: format!("{issuer}/oauth2/revocations"),
            scopes_supported: scopes,
            response_types_supported: vec!["code"],
            response_modes_supported: vec!["query"],
            grant_types_supported: GrantType::ALL.map(GrantType::as_str).to_vec(),
            subject_types_supported: vec!["public"],
            id_token_signing_alg_values_supported: id_token_algs,
            token_endpoint_auth_methods_supported: AUTH_METHODS.to_vec(),
            introspection_endpoint_auth_methods_supported: AUTH_METHODS.to_vec(),
            revocation_endpoint_auth_methods_supported: AUTH_METHODS.to_vec(),
            claims_supported: vec![
                "iss",
                "sub",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "at_hash",
                "azp",
                "sid",
                "name",
                "preferred_username",
                "updated_at",
                "email",
                "email_verified",
            ],
            code_challenge_methods_supported: vec!["S256"],
            prompt_values_supported: vec!["none", "login", "consent"],
            authorization_response_iss_parameter_supported: true,
            request_parameter_supported: false,
            request_uri_parameter_supported: false,
            claims_parameter_supported: false,
        }
    }
}
