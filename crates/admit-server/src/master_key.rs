//! The master key: it encrypts private signing keys at rest, and every other
//! server-side secret is derived from it.

use std::path::Path;

use anyhow::{Context, bail};
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

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

    /// The configured key, else the existing `data_dir/master.key`; never creates one
    /// (for the CLI: a new key could not read the keys already stored).
    pub fn load(configured: Option<&str>, data_dir: &Path) -> anyhow::Result<MasterKey> {
        if let Some(text) = configured {
            return Self::from_text(text).context("ADMIT_MASTER_KEY");
        }
        let path = data_dir.join(MASTER_KEY_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "no master key: set ADMIT_MASTER_KEY or keep {} (made by `admit serve`)",
                path.display()
            )
        })?;
        Self::from_text(text.trim()).with_context(|| path.display().to_string())
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
    pub(crate) fn seal(&self, kid: &str, plaintext: &[u8]) -> anyhow::Result<Vec<u8>> {
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

    pub(crate) fn open(&self, kid: &str, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
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
