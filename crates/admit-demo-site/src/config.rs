//! What the site is told ([`SiteConfig`]) and the checked form it runs on ([`Settings`]).

use anyhow::{Context, bail};
use openidconnect::{ClientId, ClientSecret, IssuerUrl, PostLogoutRedirectUrl, RedirectUrl, Scope};
use url::Url;

/// The site's fixed routes, which the redirect URIs must not take over.
const RESERVED_PATHS: &[&str] = &["/", "/login", "/refresh", "/logout", "/style.css"];

/// How the demo site is registered at admit. The caller registers a confidential
/// client with exactly this `client_id`, `client_secret`, `redirect_uri` and
/// `post_logout_redirect_uri`, allowing the `authorization_code` and
/// `refresh_token` grants.
#[derive(Clone)]
pub struct SiteConfig {
    /// admit's issuer identifier, e.g. `http://127.0.0.1:8080`.
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// Where admit sends the browser back with the code, e.g.
    /// `http://127.0.0.1:8082/callback`. Its path is the route the site serves.
    pub redirect_uri: String,
    /// Where admit sends the browser after logout, e.g. `http://127.0.0.1:8082/`.
    pub post_logout_redirect_uri: String,
    /// The demo protected API, e.g. `http://127.0.0.1:8081/api/me`.
    pub api_url: String,
    /// The scopes to ask for, e.g. `openid profile email`; `openid` is always sent.
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for SiteConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SiteConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("redirect_uri", &self.redirect_uri)
            .field("post_logout_redirect_uri", &self.post_logout_redirect_uri)
            .field("api_url", &self.api_url)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// [`SiteConfig`] parsed into the types openidconnect works with.
#[derive(Clone, Debug)]
pub struct Settings {
    pub issuer: IssuerUrl,
    pub client_id: ClientId,
    pub client_secret: ClientSecret,
    pub redirect_uri: RedirectUrl,
    pub post_logout_redirect_uri: PostLogoutRedirectUrl,
    pub api_url: Url,
    /// Without `openid`, which openidconnect adds itself.
    pub scopes: Vec<Scope>,
    /// The path of `redirect_uri`: the callback route.
    pub callback_path: String,
    /// The path of `post_logout_redirect_uri`, served like `/`.
    pub post_logout_path: String,
    /// Whether the site is reached over HTTPS, so its cookie gets `Secure`.
    pub secure_cookie: bool,
}

impl Settings {
    pub fn parse(config: &SiteConfig) -> anyhow::Result<Settings> {
        let issuer = IssuerUrl::new(config.issuer.clone()).context("issuer is not a URL")?;
        let redirect = Url::parse(&config.redirect_uri).context("redirect_uri is not a URL")?;
        let post_logout = Url::parse(&config.post_logout_redirect_uri)
            .context("post_logout_redirect_uri is not a URL")?;
        let api_url = Url::parse(&config.api_url).context("api_url is not a URL")?;
        for (name, url) in [
            ("redirect_uri", &redirect),
            ("post_logout_redirect_uri", &post_logout),
        ] {
            if !matches!(url.scheme(), "http" | "https") || url.fragment().is_some() {
                bail!("{name} must be an http(s) URL without a fragment");
            }
        }
        if redirect.origin() != post_logout.origin() {
            bail!("redirect_uri and post_logout_redirect_uri must be on the site's own origin");
        }
        if redirect.path() == post_logout.path() {
            bail!("redirect_uri and post_logout_redirect_uri need different paths");
        }
        for (name, path) in [
            ("redirect_uri", redirect.path()),
            ("post_logout_redirect_uri", post_logout.path()),
        ] {
            if RESERVED_PATHS.contains(&path)
                && !(name == "post_logout_redirect_uri" && path == "/")
            {
                bail!("the path of {name} ({path}) is one of the site's own routes");
            }
            if path.contains(['{', '}', '*']) {
                bail!("the path of {name} must not contain '{{', '}}' or '*'");
            }
        }
        Ok(Settings {
            issuer,
            client_id: ClientId::new(config.client_id.clone()),
            client_secret: ClientSecret::new(config.client_secret.clone()),
            callback_path: redirect.path().to_owned(),
            post_logout_path: post_logout.path().to_owned(),
            secure_cookie: redirect.scheme() == "https",
            redirect_uri: RedirectUrl::from_url(redirect),
            post_logout_redirect_uri: PostLogoutRedirectUrl::from_url(post_logout),
            api_url,
            scopes: config
                .scopes
                .iter()
                .flat_map(|scope| scope.split_whitespace())
                .filter(|scope| *scope != "openid")
                .map(|scope| Scope::new(scope.to_owned()))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn config() -> SiteConfig {
        SiteConfig {
            issuer: "http://127.0.0.1:8080".into(),
            client_id: "demo-site".into(),
            client_secret: "top-secret-value".into(),
            redirect_uri: "http://127.0.0.1:8082/callback".into(),
            post_logout_redirect_uri: "http://127.0.0.1:8082/".into(),
            api_url: "http://127.0.0.1:8081/api/me".into(),
            scopes: vec!["openid profile".into(), "email".into()],
        }
    }

    #[test]
    fn parses_paths_and_scopes() {
        let settings = Settings::parse(&config()).unwrap();
        assert_eq!(settings.callback_path, "/callback");
        assert_eq!(settings.post_logout_path, "/");
        assert!(!settings.secure_cookie);
        let scopes: Vec<_> = settings.scopes.iter().map(|s| s.as_str()).collect();
        assert_eq!(scopes, ["profile", "email"]);
    }

    #[test]
    fn debug_hides_the_client_secret() {
        assert!(!format!("{:?}", config()).contains("top-secret-value"));
        let settings = Settings::parse(&config()).unwrap();
        assert!(!format!("{settings:?}").contains("top-secret-value"));
    }

    #[test]
    fn refuses_redirects_on_another_origin() {
        let mut bad = config();
        bad.post_logout_redirect_uri = "http://127.0.0.1:9999/".into();
        assert!(Settings::parse(&bad).is_err());
        let mut bad = config();
        bad.redirect_uri = "http://127.0.0.1:8082/".into();
        assert!(Settings::parse(&bad).is_err());
        let mut bad = config();
        bad.redirect_uri = "http://127.0.0.1:8082/login".into();
        assert!(Settings::parse(&bad).is_err());
        let mut bad = config();
        bad.post_logout_redirect_uri = "http://127.0.0.1:8082/a*b".into();
        assert!(Settings::parse(&bad).is_err());
    }
}
