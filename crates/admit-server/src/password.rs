//! Password hashing with Argon2id at OWASP's recommended parameters
//! (m = 19 MiB, t = 2, p = 1), on a bounded number of blocking threads so a login
//! storm queues instead of exhausting memory.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`).
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 hashing with valid parameters cannot fail")
        .to_string()
}

/// Whether `password` matches `phc`. A malformed stored hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// How many checks may wait per running one.
const QUEUE_PER_PERMIT: usize = 32;

/// Too many password checks are waiting; try again shortly.
#[derive(Debug)]
pub struct Busy;

/// Verifies passwords off the async threads, at most `concurrency` at a time, with at
/// most [`QUEUE_PER_PERMIT`] × `concurrency` more waiting: past that a login storm is
/// refused (503) instead of queueing without end.
#[derive(Clone)]
pub struct Verifier {
    permits: Arc<Semaphore>,
    waiting: Arc<Semaphore>,
    /// Checked against when the user does not exist, so an unknown user costs the
    /// same Argon2id work as a known one and answers in the same time.
    dummy: Arc<str>,
}

impl Verifier {
    pub fn new(concurrency: usize) -> Verifier {
        let concurrency = concurrency.max(1);
        Verifier {
            permits: Arc::new(Semaphore::new(concurrency)),
            waiting: Arc::new(Semaphore::new(concurrency * QUEUE_PER_PERMIT)),
            dummy: hash(&crate::random_token(16)).into(),
        }
    }

    /// `phc` is `None` for an unknown user: the work is done anyway and fails.
    /// `Err(Busy)` when too many checks are already waiting.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, Busy> {
        let _queued = self.waiting.try_acquire().map_err(|_| Busy)?;
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("semaphore never closed");
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy.to_string());
        let ok = tokio::task::spawn_blocking(move || verify(&password, &phc))
            .await
            .unwrap_or(false);
        Ok(ok && known)
    }
}
