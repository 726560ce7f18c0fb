//! Finding the issuer's endpoints from its published metadata (OpenID Connect
//! Discovery 1.0 §4, RFC 8414 §3): the `jwks_uri`, and for the revocation modes the
//! `introspection_endpoint` (RFC 8414 §2) and admit's `revocation_stream_endpoint`.

use reqwest::{Client, Url};
use serde::Deserialize;

use crate::SetupError;
use crate::fetch::get_json;

/// The members we read; the rest of the metadata is ignored.
#[derive(Deserialize)]
pub(crate) struct Metadata {
    issuer: String,
    jwks_uri: Option<String>,
    introspection_endpoint: Option<String>,
    /// admit's own member: the Server-Sent Events stream of revocations.
    revocation_stream_endpoint: Option<String>,
}

impl Metadata {
    pub fn jwks_uri(&self) -> Result<Url, SetupError> {
        let jwks_uri = self.jwks_uri.as_deref().ok_or(SetupError::NoJwksUri)?;
        Url::parse(jwks_uri).map_err(|_| SetupError::InvalidUrl(jwks_uri.to_owned()))
    }

    pub fn introspection_endpoint(&self) -> Result<Url, SetupError> {
        endpoint(
            self.introspection_endpoint.as_deref(),
            "introspection_endpoint",
        )
    }

    pub fn revocation_stream_endpoint(&self) -> Result<Url, SetupError> {
        endpoint(
            self.revocation_stream_endpoint.as_deref(),
            "revocation_stream_endpoint",
        )
    }
}

fn endpoint(value: Option<&str>, name: &'static str) -> Result<Url, SetupError> {
    let value = value.ok_or(SetupError::NoEndpoint(name))?;
    Url::parse(value).map_err(|_| SetupError::InvalidUrl(value.to_owned()))
}

/// Fetches the OpenID Connect metadata, falling back to the OAuth 2.0 one. The
/// metadata must name exactly `issuer`.
pub(crate) async fn metadata(client: &Client, issuer: &str) -> Result<Metadata, SetupError> {
    let mut failure = None;
    for url in well_known_urls(issuer)? {
        let metadata: Metadata = match get_json(client, &url).await {
            Ok(metadata) => metadata,
            Err(e) => {
                tracing::debug!(error = %e, "no authorization server metadata here");
                failure = Some(e);
                continue;
            }
        };
        // RFC 8414 §3.3, OpenID Connect Discovery §4.3: exactly the issuer we were
        // configured with, or an attacker-controlled document could name other keys
        // (or collect our client secret). A mismatch is final: falling back would
        // only hide it.
        if metadata.issuer != issuer {
            return Err(SetupError::IssuerMismatch {
                expected: issuer.to_owned(),
                found: metadata.issuer.chars().take(200).collect(),
            });
        }
        return Ok(metadata);
    }
    Err(SetupError::Discovery(
        failure.expect("there is always a well-known URL to try"),
    ))
}

/// OpenID Connect appends its path to the issuer (Discovery §4.1); RFC 8414 §3.1
/// inserts its own between the host and the issuer's path. Without a path the two
/// differ only in the last segment.
fn well_known_urls(issuer: &str) -> Result<[Url; 2], SetupError> {
    let invalid = || SetupError::InvalidUrl(issuer.to_owned());
    let base = Url::parse(issuer).map_err(|_| invalid())?;
    // RFC 8414 §2: an issuer has no query and no fragment.
    if base.query().is_some() || base.fragment().is_some() || base.cannot_be_a_base() {
        return Err(invalid());
    }
    let path = base.path().trim_end_matches('/').to_owned();
    let mut openid = base.clone();
    openid.set_path(&format!("{path}/.well-known/openid-configuration"));
    let mut oauth = base;
    oauth.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    Ok([openid, oauth])
}

#[cfg(test)]
mod tests {
    use super::well_known_urls;

    fn check(issuer: &str, expected: [&str; 2]) {
        let urls = well_known_urls(issuer).unwrap();
        assert_eq!(urls.map(|u| u.to_string()), expected);
    }

    #[test]
    fn well_known_without_path() {
        check(
            "https://id.example",
            [
                "https://id.example/.well-known/openid-configuration",
                "https://id.example/.well-known/oauth-authorization-server",
            ],
        );
    }

    #[test]
    fn well_known_with_path() {
        check(
            "https://id.example/tenant/",
            [
                "https://id.example/tenant/.well-known/openid-configuration",
                "https://id.example/.well-known/oauth-authorization-server/tenant",
            ],
        );
    }

    #[test]
    fn issuer_with_query_is_refused() {
        assert!(well_known_urls("https://id.example/?a=b").is_err());
        assert!(well_known_urls("not a url").is_err());
    }
}
