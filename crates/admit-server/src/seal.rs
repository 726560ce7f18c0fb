//! Values the browser carries between admit's pages, protected by keys derived from
//! the master key: the pending authorization request, sealed with AES-256-GCM so it
//! can be neither read nor altered, and CSRF tokens, an HMAC binding a form to the
//! browser's own cookie (so a cross-site form post cannot forge one).

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::master_key::MasterKey;

pub struct Sealer {
    aead: LessSafeKey,
    csrf: hmac::Key,
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    exp: i64,
    value: T,
}

impl Sealer {
    pub fn new(master: &MasterKey) -> Sealer {
        let aead = UnboundKey::new(&AES_256_GCM, &master.derive("interaction-seal"))
            .expect("a 32-byte key is valid for AES-256-GCM");
        Sealer {
            aead: LessSafeKey::new(aead),
            csrf: hmac::Key::new(hmac::HMAC_SHA256, &master.derive("csrf")),
        }
    }

    pub fn seal<T: Serialize>(&self, value: T, expires_at: i64) -> String {
        let mut buf = serde_json::to_vec(&Envelope {
            exp: expires_at,
            value,
        })
        .expect("serialisable");
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the system random source failed");
        self.aead
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut buf)
            .expect("sealing a small value cannot fail");
        URL_SAFE_NO_PAD.encode([&nonce[..], &buf].concat())
    }

    /// The value, if `sealed` was made by [`Sealer::seal`] and has not expired.
    pub fn open<T: DeserializeOwned>(&self, sealed: &str, now: i64) -> Option<T> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let mut buf = ciphertext.to_vec();
        let plain = self
            .aead
            .open_in_place(
                Nonce::try_assume_unique_for_key(nonce).ok()?,
                Aad::empty(),
                &mut buf,
            )
            .ok()?;
        let envelope: Envelope<T> = serde_json::from_slice(plain).ok()?;
        (now < envelope.exp).then_some(envelope.value)
    }

    /// The CSRF token for a form carrying `sealed`, in the browser holding `browser`.
    pub fn csrf_token(&self, browser: &str, sealed: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.csrf, &Self::csrf_input(browser, sealed)))
    }

    /// Constant-time check of a CSRF token.
    pub fn check_csrf(&self, browser: &str, sealed: &str, token: &str) -> bool {
        URL_SAFE_NO_PAD.decode(token).is_ok_and(|tag| {
            hmac::verify(&self.csrf, &Self::csrf_input(browser, sealed), &tag).is_ok()
        })
    }

    fn csrf_input(browser: &str, sealed: &str) -> Vec<u8> {
        [browser.as_bytes(), b"\0", sealed.as_bytes()].concat()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer() -> Sealer {
        let dir = std::env::temp_dir().join(format!("admit-seal-{}", crate::random_token::<6>()));
        std::fs::create_dir_all(&dir).unwrap();
        Sealer::new(&MasterKey::load_or_create(None, &dir).unwrap().0)
    }

    #[test]
    fn sealed_values_round_trip_until_they_expire() {
        let s = sealer();
        let sealed = s.seal("hello", 100);
        assert_eq!(s.open::<String>(&sealed, 99).as_deref(), Some("hello"));
        assert_eq!(s.open::<String>(&sealed, 100), None);
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            s.open::<String>(std::str::from_utf8(&tampered).unwrap(), 1),
            None
        );
        assert_eq!(
            sealer().open::<String>(&sealed, 1),
            None,
            "another master key cannot open it"
        );
    }

    #[test]
    fn csrf_tokens_bind_browser_and_form() {
        let s = sealer();
        let token = s.csrf_token("browser-a", "form-1");
        assert!(s.check_csrf("browser-a", "form-1", &token));
        assert!(!s.check_csrf("browser-b", "form-1", &token));
        assert!(!s.check_csrf("browser-a", "form-2", &token));
        assert!(!s.check_csrf("browser-a", "form-1", "garbage!"));
    }
}
