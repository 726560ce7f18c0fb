//! Signing keys: generated on first start, stored encrypted under the master key,
//! loaded and kept parsed in memory, published as a JWKS.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use admit_jose::{Algorithm, JwkSet, SigningKey};
use admit_store::Store;
use anyhow::{Context, bail};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The algorithms admit always holds a key for. RS256 is among them because OpenID
/// Connect Core §15.1 requires it for ID tokens.
pub const ASYMMETRIC: [Algorithm; 3] = [Algorithm::EdDSA, Algorithm::ES256, Algorithm::RS256];

const MASTER_KEY_FILE: &str = "master.key";

/// AES-256-GCM key that encrypts private signing keys at rest, and the root from
/// which every other server-side secret is derived (so instances sharing the master
/// key share them too).
pub struct MasterKey {
    aead: LessSafeKey,
    bytes: [u8; 32],
}

impl MasterKey {
    /// The configured key (base64url of 32 bytes), else `data_dir/master.key`, created
    /// with mode 0600 when missing. Returns whether a new key file was created.
    pub fn load_or_create(
        configured: Option<&str>,
        data_dir: &Path,
    ) -> anyhow::Result<(MasterKey, bool)> {
        if let Some(text) = configured {
            return Ok((Self::from_text(text).context("ADMIT_MASTER_KEY")?, false));
        }
        let path = data_dir.join(MASTER_KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok((
                Self::from_text(text.trim()).with_context(|| path.display().to_string())?,
                false,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 32];
                SystemRandom::new()
                    .fill(&mut bytes)
                    .map_err(|_| anyhow::anyhow!("random source failed"))?;
                write_private_file(&path, URL_SAFE_NO_PAD.encode(bytes).as_bytes())?;
                Ok((Self::from_bytes(&bytes)?, true))
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    fn from_text(text: &str) -> anyhow::Result<MasterKey> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .context("master key is not base64url")?;
        Self::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8]) -> anyhow::Result<MasterKey> {
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| anyhow::anyhow!("master key must be 32 bytes"))?;
        let key =
            UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| anyhow::anyhow!("bad master key"))?;
        Ok(MasterKey {
            aead: LessSafeKey::new(key),
            bytes,
        })
    }

    /// A 32-byte key for one purpose, derived with HKDF-SHA256 (RFC 5869), so the
    /// master key itself is used for nothing but key encryption.
    pub fn derive(&self, purpose: &'static str) -> [u8; 32] {
        use aws_lc_rs::hkdf::{HKDF_SHA256, Salt};
        let info = [purpose.as_bytes()];
        let mut out = [0u8; 32];
        Salt::new(HKDF_SHA256, b"admit")
            .extract(&self.bytes)
            .expand(&info, HKDF_SHA256)
            .and_then(|okm| okm.fill(&mut out))
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        out
    }

    /// `nonce || ciphertext || tag`, with `kid` as associated data so a ciphertext
    /// cannot be moved to another key's row.
    fn seal(&self, kid: &str, plaintext: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| anyhow::anyhow!("random source failed"))?;
        let mut buf = plaintext.to_vec();
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut buf,
            )
            .map_err(|_| anyhow::anyhow!("encryption failed"))?;
        Ok([&nonce[..], &buf].concat())
    }

    fn open(&self, kid: &str, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            bail!("key {kid}: ciphertext too short");
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| anyhow::anyhow!("bad nonce"))?;
        let mut buf = ciphertext.to_vec();
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut buf)
            .map_err(|_| anyhow::anyhow!("key {kid} cannot be decrypted: wrong master key?"))?;
        Ok(plain.to_vec())
    }
}

fn write_private_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents)?;
    Ok(())
}

/// The keys this instance signs with, and the JWKS it publishes.
pub struct Keyring {
    signing: HashMap<Algorithm, Arc<SigningKey>>,
    access_alg: Algorithm,
    jwks: JwkSet,
}

impl Keyring {
    /// Loads the current key for each asymmetric algorithm, generating and storing any
    /// that is missing. With an HS256 secret, access tokens are signed with it instead;
    /// the secret is never stored or published.
    pub async fn load(
        store: &Store,
        master: &MasterKey,
        access_alg: Algorithm,
        hs256_secret: Option<&[u8]>,
        now: i64,
    ) -> anyhow::Result<Keyring> {
        let mut stored = store.list_keys().await?;
        for alg in ASYMMETRIC {
            if !stored
                .iter()
                .any(|k| k.alg == alg.name() && k.state == "current")
            {
                let (key, private) = SigningKey::generate(alg)?;
                let record = admit_store::SigningKey {
                    kid: key.kid().to_owned(),
                    alg: alg.name().to_owned(),
                    state: "current".to_owned(),
                    private_key_enc: master.seal(key.kid(), &private)?,
                    public_jwk: Some(serde_json::to_string(&key.public_jwk())?),
                    created_at: now,
                };
                store.insert_key(&record).await?;
                tracing::info!(kid = key.kid(), alg = alg.name(), "generated a signing key");
            }
        }
        // Re-read: another instance may have generated keys at the same moment; the
        // oldest current key of each algorithm wins everywhere.
        stored = store.list_keys().await?;
        let mut signing = HashMap::new();
        let mut jwks = JwkSet::default();
        for record in &stored {
            let alg: Algorithm = record.alg.parse()?;
            if let Some(jwk) = &record.public_jwk {
                jwks.keys.push(serde_json::from_str(jwk)?);
            }
            if record.state == "current" && !signing.contains_key(&alg) {
                let private = master.open(&record.kid, &record.private_key_enc)?;
                let key = SigningKey::from_private(alg, &private, Some(record.kid.clone()))?;
                signing.insert(alg, Arc::new(key));
            }
        }
        if access_alg == Algorithm::HS256 {
            let secret = hs256_secret
                .context("HS256 access tokens need a shared secret (--hs256-secret-file)")?;
            signing.insert(
                Algorithm::HS256,
                Arc::new(SigningKey::from_private(Algorithm::HS256, secret, None)?),
            );
        }
        Ok(Keyring {
            signing,
            access_alg,
            jwks,
        })
    }

    /// The key access tokens are signed with.
    pub fn access_token_key(&self) -> &SigningKey {
        &self.signing[&self.access_alg]
    }

    /// The current key for `alg`, if admit holds one.
    pub fn signing_key(&self, alg: Algorithm) -> Option<&SigningKey> {
        self.signing.get(&alg).map(|k| &**k)
    }

    /// Keys that verify what this instance signs: for reading its own tokens back.
    pub fn verifying_keys(&self) -> anyhow::Result<admit_jose::KeySet> {
        let keys = self
            .signing
            .values()
            .map(|k| k.verifying_key())
            .collect::<Result<_, _>>()?;
        Ok(admit_jose::KeySet::new(keys))
    }

    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }

    /// The asymmetric algorithms admit signs with: what ID tokens may use.
    pub fn algorithms(&self) -> Vec<&'static str> {
        let mut algs: Vec<_> = self
            .signing
            .keys()
            .filter(|a| !a.is_symmetric())
            .map(|a| a.name())
            .collect();
        algs.sort_unstable();
        algs
    }
}
