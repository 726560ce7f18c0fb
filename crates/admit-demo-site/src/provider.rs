//! What the site knows about admit: its discovery document, and the openidconnect
//! client built from it.

use anyhow::{Context, anyhow};
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClient, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, EndpointNotSet, EndpointSet, LogoutProviderMetadata,
    ProviderMetadata, TokenUrl, UserInfoUrl,
};
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::recorder::{Exchange, Recording};

/// RFC 9207 metadata, which openidconnect does not model.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct IssParameterMetadata {
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: Option<bool>,
}

impl AdditionalProviderMetadata for IssParameterMetadata {}

/// OpenID Connect Discovery metadata, with RP-initiated logout and RFC 9207.
pub type Metadata = ProviderMetadata<
    LogoutProviderMetadata<IssParameterMetadata>,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// An openidconnect client with the authorization, token and UserInfo endpoints set.
pub type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
    EndpointSet,
>;

/// admit as the site discovered it at start-up.
pub struct Provider {
    pub metadata: Metadata,
    pub token_url: TokenUrl,
    pub userinfo_url: UserInfoUrl,
    /// The discovery and JWKS exchanges, shown on the page.
    pub discovery: Vec<Exchange>,
}

impl Provider {
    /// Fetches `{issuer}/.well-known/openid-configuration` (openidconnect checks that
    /// it names the same issuer) and the JWKS it points to.
    pub async fn discover(settings: &Settings, http: &reqwest::Client) -> anyhow::Result<Provider> {
        let recording = Recording::new(http);
        let metadata = Metadata::discover_async(settings.issuer.clone(), &recording)
            .await
            .map_err(|error| anyhow!("{}", crate::flow::describe(&error)))
            .with_context(|| {
                format!(
                    "OpenID Connect discovery at {} failed",
                    settings.issuer.as_str()
                )
            })?;
        let token_url = metadata
            .token_endpoint()
            .cloned()
            .context("the discovery document has no token_endpoint")?;
        let userinfo_url = metadata
            .userinfo_endpoint()
            .cloned()
            .context("the discovery document has no userinfo_endpoint")?;
        Ok(Provider {
            metadata,
            token_url,
            userinfo_url,
            discovery: recording.take(),
        })
    }

    /// A client that checks ID tokens against `jwks`.
    pub fn client(&self, settings: &Settings, jwks: CoreJsonWebKeySet) -> Client {
        let mut metadata = self.metadata.clone();
        metadata = metadata.set_jwks(jwks);
        CoreClient::from_provider_metadata(
            metadata,
            settings.client_id.clone(),
            Some(settings.client_secret.clone()),
        )
        .set_token_uri(self.token_url.clone())
        .set_user_info_url(self.userinfo_url.clone())
        .set_redirect_uri(settings.redirect_uri.clone())
    }

    /// Whether admit promised an `iss` parameter in every authorization response,
    /// in which case a response without one must be refused (RFC 9207 §2.4).
    pub fn requires_iss(&self) -> bool {
        self.metadata
            .additional_metadata()
            .additional_metadata
            .authorization_response_iss_parameter_supported
            == Some(true)
    }
}
