//! The verifier: how it is configured, and how a token becomes trusted claims (and,
//! in the revocation modes, is checked against admit's revocations).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use admit_jose::{AccessTokenClaims, Algorithm, JoseError, KeySet, UnverifiedJwt, Validation};
use reqwest::Url;
use serde_json::Value;

use crate::answer_cache::{TokenDigest, token_digest};
use crate::credentials::ClientCredentials;
use crate::discovery::Metadata;
use crate::introspect::Introspector;
use crate::jwks::{Keys, RemoteKeys, Snapshot};
use crate::stream::RevocationStream;
use crate::token_cache::{self, TokenCache};
use crate::{BearerError, FailMode, RevocationStatus, SetupError, discovery, fetch};

/// Push mode's default: fail closed after 30 s without contact.
const DEFAULT_STREAM_FAILURE: (FailMode, Duration) = (FailMode::Closed, Duration::from_secs(30));

/// Checks admit's access tokens locally with the issuer's keys, and with one of the
/// revocation modes, whether they were revoked (see the
/// [crate documentation](crate#revocation)).
///
/// Cheap to clone: clones share the keys, their cache and the revocation state. In
/// push mode the task that follows the stream ends with the last clone.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    validation: Validation,
    keys: Keys,
    /// Tokens that verified; saves the signature and claim checks, not revocation.
    cache: TokenCache,
    revocation: Revocation,
}

/// How revocation is checked once a token verified.
enum Revocation {
    Local,
    Push(RevocationStream),
    Introspection(Box<Introspector>),
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
    token_cache: usize,
    client: Option<reqwest::Client>,
    revocation: RevocationMode,
    stream_failure: Option<(FailMode, Duration)>,
    /// Both revocation modes were asked for.
    conflicting_modes: bool,
}

enum RevocationMode {
    Local,
    Stream(ClientCredentials),
    Introspection(ClientCredentials, Duration),
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
    /// when older than 5 min, 10 000 verified tokens remembered, local revocation
    /// mode (no revocation check).
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
            token_cache: token_cache::DEFAULT_CAPACITY,
            client: None,
            revocation: RevocationMode::Local,
            stream_failure: None,
            conflicting_modes: false,
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
    /// Then, in a revocation mode, whether the token was revoked:
    /// [`BearerError::Revoked`] if so, [`BearerError::RevocationUnknown`] when that
    /// cannot be known and the mode fails closed.
    pub async fn verify(&self, token: &str) -> Result<Arc<AccessTokenClaims>, BearerError> {
        // The verified-token cache and the introspection answers are both keyed by it.
        let digest = token_digest(token);
        let claims = self.verify_locally(token, digest).await?;
        match &self.inner.revocation {
            Revocation::Local => {}
            Revocation::Push(stream) => stream.check(&claims)?,
            Revocation::Introspection(introspector) => {
                introspector.check(token, digest, claims.exp).await?;
            }
        }
        Ok(claims)
    }

    /// In push mode, the state of the revocation stream; `None` in the other modes.
    pub fn revocation_status(&self) -> Option<RevocationStatus> {
        match &self.inner.revocation {
            Revocation::Push(stream) => Some(stream.status()),
            Revocation::Local | Revocation::Introspection(_) => None,
        }
    }

    async fn verify_locally(
        &self,
        token: &str,
        digest: TokenDigest,
    ) -> Result<Arc<AccessTokenClaims>, BearerError> {
        // First, so that keys too old are refreshed and a changed JWKS voids the cache
        // even for tokens that hit it.
        let keys = self.inner.keys.current().await;
        let cache = &self.inner.cache;
        let digest = cache.enabled().then_some(digest);
        if let Some(digest) = &digest
            && let Some(claims) = cache.get(digest, keys.revision, unix_now())
        {
            return Ok(claims);
        }
        self.verify_in_full(token, keys, digest).await
    }

    /// Signature, header and claims with `keys` (refetched once on an unknown `kid`);
    /// a success is remembered under `digest`, a failure never.
    async fn verify_in_full(
        &self,
        token: &str,
        mut keys: Snapshot,
        digest: Option<TokenDigest>,
    ) -> Result<Arc<AccessTokenClaims>, BearerError> {
        let validation = &self.inner.validation;
        let jwt = UnverifiedJwt::parse(token)?;
        // Checked again by `Validation::verify`; here so that a token with a refused
        // algorithm and an unknown `kid` cannot trigger a JWKS fetch.
        if !validation.algorithms.contains(&jwt.alg()) {
            return Err(JoseError::AlgorithmNotAllowed(jwt.alg().name()).into());
        }
        if let Err(JoseError::UnknownKey(_)) = keys.keys.find(&jwt) {
            // The issuer may have rotated its keys since we fetched them.
            keys = self.inner.keys.refetch(&keys).await;
            if keys.unavailable() {
                return Err(BearerError::KeysUnavailable);
            }
        }
        let key = keys.keys.find(&jwt)?;
        let now = unix_now();
        let claims = validation.verify(&jwt, key, now)?;
        // RFC 9068 §2.2: the required claims `Validation` does not check itself.
        if let Some(name) = ["sub", "client_id", "iat", "jti"]
            .into_iter()
            .find(|c| !claims.contains_key(*c))
        {
            return Err(JoseError::MissingClaim(name).into());
        }
        let claims = serde_json::from_value::<AccessTokenClaims>(Value::Object(claims))
            .map(Arc::new)
            .map_err(|_| JoseError::Malformed("the claims are not those of an access token"))?;
        if let Some(digest) = digest {
            self.inner
                .cache
                .insert(digest, claims.clone(), keys.revision, now);
        }
        Ok(claims)
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let validation = &self.inner.validation;
        let revocation = match &self.inner.revocation {
            Revocation::Local => "local",
            Revocation::Push(stream) => match stream.fail_mode() {
                FailMode::Closed => "push (fail closed)",
                FailMode::Open => "push (fail open)",
            },
            Revocation::Introspection(_) => "introspection",
        };
        f.debug_struct("Verifier")
            .field("issuer", &validation.issuer)
            .field("audience", &validation.audience)
            .field("algorithms", &validation.algorithms)
            .field("token_cache", &self.inner.cache.capacity())
            .field("revocation", &revocation)
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

    /// How many verified tokens to remember (default 10 000; 0 remembers none). A
    /// token seen again skips its signature and claim checks while a fresh check
    /// would still accept it (its `exp` plus the leeway) and the issuer's JWKS is
    /// unchanged; the revocation mode still checks it on every request. Typical
    /// claims take well under 1 KiB per token.
    pub fn token_cache(mut self, capacity: usize) -> Self {
        self.token_cache = capacity;
        self
    }

    /// The client for discovery, JWKS fetches, introspection and the revocation
    /// stream. Each request but the stream still has a 5 s timeout; the default
    /// client also refuses redirects. The stream needs a client without a read
    /// timeout shorter than admit's heartbeat (10 s).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Push mode: follow admit's revocation stream (its metadata's
    /// `revocation_stream_endpoint`) as this confidential client, and refuse tokens
    /// a revocation matches. Checks stay local; a revocation takes effect within a
    /// second or two. [`build`](Self::build) waits for the snapshot of current
    /// revocations, and fails if the stream cannot be followed (wrong credentials,
    /// or a client admit does not let follow it).
    pub fn revocation_stream(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.conflicting_modes |= matches!(self.revocation, RevocationMode::Introspection(..));
        self.revocation = RevocationMode::Stream(ClientCredentials::new(client_id, client_secret));
        self
    }

    /// In push mode, what to do once the stream has been silent (no event, no
    /// heartbeat) for longer than `bound`. Default: [`FailMode::Closed`] after 30 s.
    pub fn stream_failure(mut self, mode: FailMode, bound: Duration) -> Self {
        self.stream_failure = Some((mode, bound));
        self
    }

    /// Introspection mode: after a token verified locally, ask admit's
    /// `introspection_endpoint` (RFC 7662) as this confidential client whether it is
    /// still active. An answer is remembered for `cache_ttl` at most and never past
    /// the token's `exp` (`Duration::ZERO`: ask every time), for up to 10 000 tokens.
    /// An endpoint that does not answer fails closed (503). [`build`](Self::build)
    /// asks once about a made-up token, so wrong credentials fail at start-up.
    ///
    /// The client must be one admit lets introspect other clients' tokens (a
    /// resource server): about a token it may not see, admit answers
    /// `active: false`, and every request would be refused as revoked.
    pub fn introspection(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
        cache_ttl: Duration,
    ) -> Self {
        self.conflicting_modes |= matches!(self.revocation, RevocationMode::Stream(_));
        let credentials = ClientCredentials::new(client_id, client_secret);
        self.revocation = RevocationMode::Introspection(credentials, cache_ttl);
        self
    }

    /// Checks the configuration and loads the keys: discovery, the first JWKS
    /// fetch, and the first contact with the revocation stream or the introspection
    /// endpoint happen here, so a misconfigured API fails at start-up.
    pub async fn build(self) -> Result<Verifier, SetupError> {
        let mut validation = Validation::access_token(self.issuer, self.audience);
        if self.algorithms.is_empty() {
            return Err(SetupError::Config("no algorithm is allowed"));
        }
        if self.conflicting_modes {
            return Err(SetupError::Config(
                "revocation_stream() and introspection() are two modes: choose one",
            ));
        }
        match (&self.revocation, self.stream_failure) {
            (RevocationMode::Stream(_), Some((_, bound))) if bound.is_zero() => {
                return Err(SetupError::Config("the stream failure bound is zero"));
            }
            (RevocationMode::Stream(_), _) | (_, None) => {}
            (_, Some(_)) => {
                return Err(SetupError::Config(
                    "stream_failure() applies to revocation_stream() only",
                ));
            }
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

        let mut http = Http {
            issuer: &validation.issuer,
            client: self.client,
            metadata: None,
        };
        let keys = match self.source {
            Source::Keys(keys) if keys.keys().is_empty() => {
                return Err(SetupError::Config("the key set is empty"));
            }
            Source::Keys(keys) => Keys::fixed(keys),
            source => {
                let jwks_uri = match source {
                    Source::JwksUri(url) => {
                        Url::parse(&url).map_err(|_| SetupError::InvalidUrl(url))?
                    }
                    _ => http.metadata().await?.jwks_uri()?,
                };
                let client = http.client()?.clone();
                let remote =
                    RemoteKeys::start(jwks_uri, client, self.refetch_floor, self.jwks_max_age)
                        .await
                        .map_err(SetupError::Jwks)?;
                Keys::Remote(Box::new(remote))
            }
        };
        let revocation = match self.revocation {
            RevocationMode::Local => Revocation::Local,
            RevocationMode::Stream(credentials) => {
                let url = http.metadata().await?.revocation_stream_endpoint()?;
                let client = http.client()?.clone();
                let failure = self.stream_failure.unwrap_or(DEFAULT_STREAM_FAILURE);
                let leeway = validation.leeway;
                let stream = RevocationStream::start(client, url, credentials, failure, leeway)
                    .await
                    .map_err(SetupError::RevocationStream)?;
                Revocation::Push(stream)
            }
            RevocationMode::Introspection(credentials, cache_ttl) => {
                let url = http.metadata().await?.introspection_endpoint()?;
                let client = http.client()?.clone();
                let introspector = Introspector::start(client, url, credentials, cache_ttl)
                    .await
                    .map_err(SetupError::Introspection)?;
                Revocation::Introspection(Box::new(introspector))
            }
        };
        Ok(Verifier {
            inner: Arc::new(Inner {
                cache: TokenCache::new(self.token_cache, validation.leeway),
                validation,
                keys,
                revocation,
            }),
        })
    }
}

/// What `build` needs over HTTP, each made or fetched at most once and only if needed:
/// fixed keys in local mode need neither.
struct Http<'a> {
    issuer: &'a str,
    client: Option<reqwest::Client>,
    metadata: Option<Metadata>,
}

impl Http<'_> {
    fn client(&mut self) -> Result<&reqwest::Client, SetupError> {
        let client = match self.client.take() {
            Some(client) => client,
            None => fetch::default_client().map_err(SetupError::HttpClient)?,
        };
        Ok(self.client.insert(client))
    }

    /// Every endpoint but a configured `jwks_uri` comes from the issuer's metadata.
    async fn metadata(&mut self) -> Result<&Metadata, SetupError> {
        let metadata = match self.metadata.take() {
            Some(metadata) => metadata,
            None => {
                let issuer = self.issuer;
                discovery::metadata(self.client()?, issuer).await?
            }
        };
        Ok(self.metadata.insert(metadata))
    }
}

/// Seconds since the Unix epoch. admit-jose never reads the clock; this crate does.
pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
