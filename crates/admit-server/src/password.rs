//! Password hashing with Argon2id at OWASP's recommended parameters
//! (m = 19 MiB, t = 2, p = 1), on a fixed set of threads with a bounded queue, so a
//! login storm neither exhausts memory nor waits without end.

use std::sync::{Arc, Mutex, mpsc};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::{Semaphore, oneshot};

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

/// How many checks may wait per hashing thread.
const QUEUE_PER_THREAD: usize = 32;

/// Too many password checks are waiting; try again shortly.
#[derive(Debug)]
pub struct Busy;

/// A check for a hashing thread: the password, the stored hash, where to answer.
type Job = (String, String, oneshot::Sender<bool>);

/// Verifies passwords on `concurrency` dedicated threads, with at most
/// [`QUEUE_PER_THREAD`] × `concurrency` checks waiting: past that a login storm is
/// refused (503) instead of queueing without end. Dedicated threads (rather than
/// tokio's blocking pool, which starts new threads freely) keep memory flat: each
/// reuses its own 19 MiB of Argon2 memory from the allocator.
#[derive(Clone)]
pub struct Verifier {
    jobs: mpsc::Sender<Job>,
    waiting: Arc<Semaphore>,
    /// Checked against when the user does not exist, so an unknown user costs the
    /// same Argon2id work as a known one and answers in the same time.
    dummy: Arc<str>,
}

impl Verifier {
    pub fn new(concurrency: usize) -> Verifier {
        let concurrency = concurrency.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..concurrency {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("admit-argon2-{i}"))
                .spawn(move || {
                    // Ends when every sender is gone: the server has stopped.
                    loop {
                        let job = queue.lock().map(|q| q.recv());
                        let Ok(Ok((password, phc, reply))) = job else {
                            break;
                        };
                        let _ = reply.send(verify(&password, &phc));
                    }
                })
                .expect("starting a password-hashing thread");
        }
        Verifier {
            jobs,
            waiting: Arc::new(Semaphore::new(concurrency * (QUEUE_PER_THREAD + 1))),
            dummy: hash(&crate::random_token(16)).into(),
        }
    }

    /// `phc` is `None` for an unknown user: the work is done anyway and fails.
    /// `Err(Busy)` when too many checks are already waiting.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<bool, Busy> {
        let _slot = self.waiting.try_acquire().map_err(|_| Busy)?;
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy.to_string());
        let (reply, answer) = oneshot::channel();
        if self.jobs.send((password, phc, reply)).is_err() {
            return Ok(false);
        }
        Ok(answer.await.unwrap_or(false) && known)
    }
}
