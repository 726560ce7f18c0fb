//! Signing keys and their lifecycle: *next* (published in the JWKS, not signing yet),
//! *current* (signing), *retired* (published until every token it signed has expired,
//! then deleted). Publishing a key before it signs means a resource server with a
//! cached JWKS never meets an unknown `kid`. Keys live in the database, private parts
//! encrypted under the master key, so every instance shares one key set.

use std::collections::HashMap;

use admit_jose::{Algorithm, JwkSet, KeySet, SigningKey, VerifyingKey};
use admit_store::Store;
use anyhow::{Context, bail};

use crate::master_key::MasterKey;
use crate::revocation::MAX_ACCESS_TOKEN_TTL;

/// The algorithms admit always holds keys for, and what ID tokens may use. RS256 is
/// among them because OpenID Connect Core §15.1 requires it for ID tokens.
pub const ASYMMETRIC: [Algorithm; 3] = [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256];

/// How long a JWKS response may be cached (`Cache-Control: max-age`).
pub const JWKS_MAX_AGE: i64 = 300;

/// How often each instance re-reads the key set from the database.
pub const RELOAD_INTERVAL: i64 = 10;

/// A next key must have been published this long before it may sign: every cached
/// JWKS has then been refreshed and holds it.
pub const MIN_NEXT_AGE: i64 = JWKS_MAX_AGE + RELOAD_INTERVAL;

/// The keys this instance signs with, the keys it accepts, and the JWKS it publishes.
pub struct Keyring {
    signing: HashMap<Algorithm, SigningKey>,
    access_alg: Algorithm,
    verifying: KeySet,
    jwks: JwkSet,
    /// The JWKS serialised once per load.
    pub jwks_json: String,
    /// (kid, state) of every stored key it was built from: a re-read that finds the
    /// same set keeps this keyring instead of decrypting and parsing it all again.
    fingerprint: Vec<(String, String)>,
}

impl Keyring {
    /// Generates the keys of `wanted` (algorithm, "current" or "next") that the
    /// database lacks, side by side on blocking threads, so the requests admit
    /// already answers are not held up.
    pub async fn ensure(
        store: &Store,
        master: &MasterKey,
        wanted: &[(Algorithm, &'static str)],
        now: i64,
    ) -> anyhow::Result<()> {
        let stored = store.list_keys().await?;
        let missing: Vec<_> = wanted
            .iter()
            .copied()
            .filter(|(alg, state)| {
                !stored
                    .iter()
                    .any(|k| k.alg == alg.name() && k.state == *state)
            })
            .collect();
        let generated = tokio::task::spawn_blocking(move || {
            std::thread::scope(|scope| {
                let threads: Vec<_> = missing
                    .into_iter()
                    .map(|(alg, state)| scope.spawn(move || (SigningKey::generate(alg), state)))
                    .collect();
                threads
                    .into_iter()
                    .map(|t| t.join().expect("key generation does not panic"))
                    .collect::<Vec<_>>()
            })
        })
        .await?;
        for (key, state) in generated {
            let (key, private) = key?;
            let record = record(master, &key, &private, state, now)?;
            store.insert_key(&record).await?;
            tracing::info!(kid = %record.kid, alg = %record.alg, state = %record.state, "generated a signing key");
        }
        Ok(())
    }

    /// Loads the key set. With an HS256 secret, access tokens are signed with it
    /// instead; that secret is never stored or published.
    pub async fn load(
        store: &Store,
        master: &MasterKey,
        access_alg: Algorithm,
        hs256_secret: Option<&[u8]>,
    ) -> anyhow::Result<Keyring> {
        Self::from_records(&store.list_keys().await?, master, access_alg, hs256_secret)
    }

    /// Builds the keyring from stored key records (oldest first, as the store lists them).
    pub fn from_records(
        stored: &[admit_store::SigningKey],
        master: &MasterKey,
        access_alg: Algorithm,
        hs256_secret: Option<&[u8]>,
    ) -> anyhow::Result<Keyring> {
        let mut signing = HashMap::new();
        let mut verifying = Vec::new();
        let mut jwks = JwkSet::default();
        for record in stored {
            let alg: Algorithm = record.alg.parse()?;
            if let Some(jwk) = &record.public_jwk {
                let jwk: admit_jose::Jwk = serde_json::from_str(jwk)?;
                verifying.push(VerifyingKey::from_jwk(&jwk)?);
                jwks.keys.push(jwk);
            }
            // Records come oldest first: if two instances ever raced, the oldest current key wins.
            if record.state == "current" && !signing.contains_key(&alg) {
                let private = master.open(&record.kid, &record.private_key_enc)?;
                signing.insert(
                    alg,
                    SigningKey::from_private(alg, &private, Some(record.kid.clone()))?,
                );
            }
        }
        if access_alg == Algorithm::HS256 {
            let secret = hs256_secret
                .context("HS256 access tokens need a shared secret (--hs256-secret-file)")?;
            let key = SigningKey::from_private(Algorithm::HS256, secret, None)?;
            verifying.push(key.verifying_key()?);
            signing.insert(Algorithm::HS256, key);
        }
        if !signing.contains_key(&access_alg) {
            bail!("no current {access_alg} key: run `admit serve` once to generate keys");
        }
        Ok(Keyring {
            jwks_json: serde_json::to_string(&jwks)?,
            signing,
            access_alg,
            verifying: KeySet::new(verifying),
            jwks,
            fingerprint: fingerprint(stored),
        })
    }

    /// Whether `stored` is the key set this keyring was built from.
    pub fn built_from(&self, stored: &[admit_store::SigningKey]) -> bool {
        self.fingerprint == fingerprint(stored)
    }

    /// The key access tokens are signed with.
    pub fn access_token_key(&self) -> &SigningKey {
        &self.signing[&self.access_alg]
    }

    /// The current key for `alg`, if admit holds one.
    pub fn signing_key(&self, alg: Algorithm) -> Option<&SigningKey> {
        self.signing.get(&alg)
    }

    /// Every key whose tokens admit still accepts: for reading its own tokens back.
    pub fn verifying_keys(&self) -> &KeySet {
        &self.verifying
    }

    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// Whether admit holds a current key for every asymmetric algorithm. Only on a
    /// first start, for its first moments, does it not (see `app::spawn`).
    pub fn is_complete(&self) -> bool {
        ASYMMETRIC.iter().all(|alg| self.signing.contains_key(alg))
    }
}

fn fingerprint(stored: &[admit_store::SigningKey]) -> Vec<(String, String)> {
    stored
        .iter()
        .map(|k| (k.kid.clone(), k.state.clone()))
        .collect()
}

fn generate(
    master: &MasterKey,
    alg: Algorithm,
    state: &str,
    now: i64,
) -> anyhow::Result<admit_store::SigningKey> {
    let (key, private) = SigningKey::generate(alg)?;
    record(master, &key, &private, state, now)
}

fn record(
    master: &MasterKey,
    key: &SigningKey,
    private: &[u8],
    state: &str,
    now: i64,
) -> anyhow::Result<admit_store::SigningKey> {
    Ok(admit_store::SigningKey {
        kid: key.kid().to_owned(),
        alg: key.alg().name().to_owned(),
        state: state.to_owned(),
        private_key_enc: master.seal(key.kid(), private)?,
        public_jwk: Some(serde_json::to_string(&key.public_jwk())?),
        created_at: now,
        activated_at: (state == "current").then_some(now),
        retired_at: None,
    })
}

/// Why a rotation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error(
        "the next {alg} key was published {age} s ago; wait until it is {MIN_NEXT_AGE} s old so every cached JWKS holds it (or force)"
    )]
    NextTooYoung { alg: &'static str, age: i64 },
    #[error("there is no next {0} key to promote: start `admit serve` once")]
    NoNext(&'static str),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Promotes the next key of `alg` to current, retires the current one, and publishes
/// a new next key. Refuses while the next key is younger than [`MIN_NEXT_AGE`] unless
/// `force`. Returns the new current kid.
pub async fn rotate(
    store: &Store,
    master: &MasterKey,
    alg: Algorithm,
    force: bool,
    now: i64,
) -> Result<String, RotateError> {
    let stored = store.list_keys().await.map_err(anyhow::Error::from)?;
    let next = stored
        .iter()
        .find(|k| k.alg == alg.name() && k.state == "next")
        .ok_or(RotateError::NoNext(alg.name()))?;
    let age = now - next.created_at;
    if age < MIN_NEXT_AGE && !force {
        return Err(RotateError::NextTooYoung {
            alg: alg.name(),
            age,
        });
    }
    let promoted = next.kid.clone();
    let new_next = generate(master, alg, "next", now)?;
    if !store
        .rotate_keys(alg.name(), &new_next, now)
        .await
        .map_err(anyhow::Error::from)?
    {
        return Err(RotateError::NoNext(alg.name()));
    }
    tracing::info!(alg = alg.name(), kid = %promoted, "rotated signing key");
    Ok(promoted)
}

/// Stores an imported private key (a private JWK) as the next key of its algorithm,
/// replacing nothing: the next rotation promotes it. Returns its kid.
pub async fn import(
    store: &Store,
    master: &MasterKey,
    private_jwk: &serde_json::Value,
    now: i64,
) -> anyhow::Result<String> {
    let (alg, der) = admit_jose::pkcs8_from_private_jwk(private_jwk)?;
    let key = SigningKey::from_private(alg, &der, None)?;
    anyhow::ensure!(
        ASYMMETRIC.contains(&key.alg()),
        "only EdDSA, ES256 and RS256 keys can be imported"
    );
    let stored = store.list_keys().await?;
    if let Some(old) = stored
        .iter()
        .find(|k| k.alg == key.alg().name() && k.state == "next")
    {
        // The generated next key never signed anything: it can simply go.
        store.delete_unused_key(&old.kid).await?;
    }
    store
        .insert_key(&record(master, &key, &der, "next", now)?)
        .await?;
    Ok(key.kid().to_owned())
}

/// Deletes retired keys once no token they signed can still be valid.
pub async fn delete_expired(store: &Store, now: i64) -> anyhow::Result<u64> {
    Ok(store
        .delete_keys_retired_before(now - MAX_ACCESS_TOKEN_TTL)
        .await?)
}
