//! The verifier: how it is configured, and how a token becomes trusted claims.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use admit_jose::{AccessTokenClaims, Algorithm, JoseError, KeySet, UnverifiedJwt, Validation};
use reqwest::Url;
use serde_json::Value;

use crate::jwks::{Keys, RemoteKeys};
use crate::{BearerError, SetupError, discovery, fetch};

/// Checks admit's access tokens locally with the issuer's keys.
///
/// Cheap to clone: clones share the keys and their cache.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    validation: Validation,
    keys: Keys,
}

/// Configures a [`Verifier`]; see [`Verifier::builder`].
#[must_use]
pub struct VerifierBuilder {
    issuer: String,
    audience: String,
    source: Source,
    algorithms: Vec<Algorithm>,
    leeway: u32,
    refetch_floor: Duration,
    jwks_max_age: Duration,
    client: Option<reqwest::Client>,
}

enum Source {
    Discover,
    JwksUri(String),
    Keys(KeySet),
}

impl Verifier {
    /// Starts a verifier for tokens from `issuer` (compared exactly with `iss`)
    /// meant for `audience` (one of `aud`).
    ///
    /// Defaults: keys from discovery, algorithms EdDSA, ES256 and RS256, 30 s of
    /// leeway, a 30 s floor between refetches for unknown `kid`s, keys refreshed
    /// when older than 5 min.
    pub fn builder(issuer: impl Into<String>, audience: impl Into<String>) -> VerifierBuilder {
        VerifierBuilder {
            issuer: issuer.into(),
            audience: audience.into(),
            source: Source::Discover,
            // RFC 9068 §4 and RFC 8725 §3.1: asymmetric only, unless told otherwise.
            algorithms: vec![Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256],
            leeway: 30,
            refetch_floor: Duration::from_secs(30),
            jwks_max_age: Duration::from_secs(5 * 60),
            client: None,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.inner.validation.issuer
    }

    pub fn audience(&self) -> &str {
        &self.inner.validation.audience
    }

    /// Verifies an access token (the bare token, without `Bearer `) and returns its
    /// claims: signature with the issuer's key named by `kid`, `typ` `at+jwt`,
    /// an allowed algorithm, `iss`, `aud`, `exp`, `nbf` and `iat` (RFC 9068 §4).
    pub async fn verify(&self, token: &str) -> Result<AccessTokenClaims, BearerError> {
        let validation = &self.inner.validation;
        let jwt = UnverifiedJwt::parse(token)?;
        // Checked again by `Validation::verify`; here so that a token with a refused
        // algorithm and an unknown `kid` cannot trigger a JWKS fetch.
        if !validation.algorithms.contains(&jwt.alg()) {
            return Err(JoseError::AlgorithmNotAllowed(jwt.alg().name()).into());
        }
        let mut keys = self.inner.keys.current().await;
        if let Err(JoseError::UnknownKey(_)) = keys.keys.find(&jwt) {
            // The issuer may have rotated its keys since we fetched them.
            keys = self.inner.keys.refetch(&keys).await;
            if keys.unavailable() {
                return Err(BearerError::KeysUnavailable);
            }
        }
        let key = keys.keys.find(&jwt)?;
        let claims = validation.verify(&jwt, key, unix_now())?;
        // RFC 9068 §2.2: the required claims `Validation` does not check itself.
        if let Some(name) = ["sub", "client_id", "iat", "jti"]
            .into_iter()
            .find(|c| !claims.contains_key(*c))
        {
            return Err(JoseError::MissingClaim(name).into());
        }
        serde_json::from_value(Value::Object(claims))
            .map_err(|_| JoseError::Malformed("the claims are not those of an access token").into())
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let validation = &self.inner.validation;
        f.debug_struct("Verifier")
            .field("issuer", &validation.issuer)
            .field("audience", &validation.audience)
            .field("algorithms", &validation.algorithms)
            .finish_non_exhaustive()
    }
}

impl VerifierBuilder {
    /// Keys from the issuer's metadata: `{issuer}/.well-known/openid-configuration`,
    /// else the RFC 8414 `oauth-authorization-server` document. The default.
    pub fn discover(mut self) -> Self {
        self.source = Source::Discover;
        self
    }

    /// Keys from this JWKS URL, without discovery.
    pub fn jwks_uri(mut self, url: impl Into<String>) -> Self {
        self.source = Source::JwksUri(url.into());
        self
    }

    /// These keys and no others, never refreshed. The only way to use an HS256
    /// shared secret ([`VerifyingKey::hmac`](admit_jose::VerifyingKey::hmac)), which
    /// must then also be named in [`algorithms`](Self::algorithms).
    pub fn keys(mut self, keys: KeySet) -> Self {
        self.source = Source::Keys(keys);
        self
    }

    /// The algorithms a token may use (RFC 8725 §3.1). `none` does not exist.
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = algorithms.into_iter().collect();
        self
    }

    /// Allowed clock skew for `exp`, `nbf` and `iat`, in seconds.
    pub fn leeway(mut self, seconds: u32) -> Self {
        self.leeway = seconds;
        self
    }

    /// The least time between two JWKS fetches caused by unknown `kid`s.
    pub fn refetch_floor(mut self, floor: Duration) -> Self {
        self.refetch_floor = floor;
        self
    }

    /// Keys older than this are refreshed by the next request that uses them.
    pub fn jwks_max_age(mut self, max_age: Duration) -> Self {
        self.jwks_max_age = max_age;
        self
    }

    /// The client for discovery and JWKS fetches. Each fetch still has a 5 s
    /// timeout; the default client also refuses redirects.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Checks the configuration and loads the keys: discovery and the first JWKS
    /// fetch happen here, so a misconfigured API fails at start-up.
    pub async fn build(self) -> Result<Verifier, SetupError> {
        let mut validation = Validation::access_token(self.issuer, self.audience);
        if self.algorithms.is_empty() {
            return Err(SetupError::Config("no algorithm is allowed"));
        }
        let remote = !matches!(self.source, Source::Keys(_));
        if remote && self.algorithms.iter().any(|a| a.is_symmetric()) {
            // A JWKS never holds a shared secret, so HS256 would be dead weight at
            // best and an algorithm-confusion opening at worst (RFC 8725 §2.1).
            return Err(SetupError::Config(
                "HS256 needs a shared secret given with keys()",
            ));
        }
        validation.algorithms = self.algorithms;
        validation.leeway = i64::from(self.leeway);

        let keys = match self.source {
            Source::Keys(keys) if keys.keys().is_empty() => {
                return Err(SetupError::Config("the key set is empty"));
            }
            Source::Keys(keys) => Keys::fixed(keys),
            source => {
                let client = match self.client {
                    Some(client) => client,
                    None => fetch::default_client().map_err(SetupError::HttpClient)?,
                };
                let jwks_uri = match source {
                    Source::JwksUri(url) => {
                        Url::parse(&url).map_err(|_| SetupError::InvalidUrl(url))?
                    }
                    _ => discovery::jwks_uri(&client, &validation.issuer).await?,
                };
                let remote =
                    RemoteKeys::start(jwks_uri, client, self.refetch_floor, self.jwks_max_age)
                        .await
                        .map_err(SetupError::Jwks)?;
                Keys::Remote(Box::new(remote))
            }
        };
        Ok(Verifier {
            inner: Arc::new(Inner { validation, keys }),
        })
    }
}

/// Seconds since the Unix epoch. admit-jose never reads the clock; this crate does.
fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
