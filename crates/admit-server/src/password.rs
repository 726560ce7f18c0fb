//! Password hashing with Argon2id, at OWASP's minimum parameters (m = 19 MiB, t = 2,
//! p = 1) unless configured stronger, on a fixed set of threads with a bounded queue,
//! so a login storm neither exhausts memory nor waits without end.
//!
//! A check reads its parameters from the stored PHC string, so hashes made under other
//! settings keep verifying after the settings change.

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use argon2::password_hash::{Output, PasswordHash, PasswordHasher, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{Semaphore, oneshot};

/// OWASP's minimum Argon2id memory, in KiB (19 MiB): no hash is made with less.
pub const MIN_MEMORY_KIB: u32 = 19 * 1024;
/// OWASP's minimum Argon2id iterations at [`MIN_MEMORY_KIB`].
pub const MIN_ITERATIONS: u32 = 2;
/// The most memory one check may take, in KiB (4 GiB): a bound against a typo in the
/// settings (bytes for KiB), and against a stored hash asking for absurd memory.
pub const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;

/// The cost of new password hashes. Always at least OWASP's minimum; parallelism is
/// always 1 (admit runs one check per core already).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    memory_kib: u32,
    iterations: u32,
}

/// Parameters refused by [`HashParams::new`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParamsError {
    #[error(
        "the password-hash memory must be at least {MIN_MEMORY_KIB} KiB (OWASP's minimum) and at most {MAX_MEMORY_KIB} KiB, not {0}"
    )]
    Memory(u32),
    #[error(
        "the password-hash iterations must be at least {MIN_ITERATIONS} (OWASP's minimum), not {0}"
    )]
    Iterations(u32),
}

impl HashParams {
    /// OWASP's minimum for Argon2id: m = 19 MiB, t = 2, p = 1. The default.
    pub const OWASP: HashParams = HashParams {
        memory_kib: MIN_MEMORY_KIB,
        iterations: MIN_ITERATIONS,
    };

    /// Refuses anything below OWASP's minimum.
    pub fn new(memory_kib: u32, iterations: u32) -> Result<HashParams, ParamsError> {
        if !(MIN_MEMORY_KIB..=MAX_MEMORY_KIB).contains(&memory_kib) {
            return Err(ParamsError::Memory(memory_kib));
        }
        if iterations < MIN_ITERATIONS || Params::new(memory_kib, iterations, 1, None).is_err() {
            return Err(ParamsError::Iterations(iterations));
        }
        Ok(HashParams {
            memory_kib,
            iterations,
        })
    }

    pub fn memory_kib(self) -> u32 {
        self.memory_kib
    }

    pub fn iterations(self) -> u32 {
        self.iterations
    }

    fn argon2(self) -> Argon2<'static> {
        let params = Params::new(self.memory_kib, self.iterations, 1, None)
            .expect("HashParams::new checked the parameters");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
}

impl Default for HashParams {
    fn default() -> HashParams {
        HashParams::OWASP
    }
}

/// Hashes a password at OWASP's parameters into a PHC string
/// (`$argon2id$v=19$m=19456,t=2,p=1$...`).
pub fn hash(password: &str) -> String {
    hash_with(password, HashParams::OWASP)
}

/// Hashes a password at `params` into a PHC string.
pub fn hash_with(password: &str, params: HashParams) -> String {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    params
        .argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("Argon2 hashing with valid parameters cannot fail")
        .to_string()
}

/// A PHC string with `params`, a random salt and a random hash: checking a password
/// against it costs what checking a real hash does, and never matches. Nothing is
/// hashed to make it, so start-up does not wait for Argon2id.
fn dummy_phc(params: HashParams) -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let salt = SaltString::generate(&mut OsRng);
    let mut hash = [0u8; 32];
    OsRng.fill_bytes(&mut hash);
    let hash = Output::new(&hash).expect("32 bytes is a valid Argon2 output");
    format!(
        "$argon2id$v=19$m={},t={},p=1${}${hash}",
        params.memory_kib,
        params.iterations,
        salt.as_str()
    )
}

/// Whether `password` matches `phc`. A malformed stored hash never matches. Allocates
/// the Argon2 memory for this one check; the server's threads keep a [`Memory`] instead.
pub fn verify(password: &str, phc: &str) -> bool {
    Memory::new().verify(password, phc)
}

/// Argon2 working memory kept from one check to the next. Allocating and freeing
/// 19 MiB per check lets the allocator keep many such blocks around (glibc's dynamic
/// mmap threshold and per-thread arenas); one buffer per hashing thread in use keeps
/// memory at threads × the largest hash's memory.
#[derive(Default)]
pub struct Memory {
    blocks: Vec<Block>,
}

impl Memory {
    /// Empty: the first check allocates what its hash needs.
    pub fn new() -> Memory {
        Memory::default()
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.blocks.len() * Block::SIZE
    }

    /// Whether `password` matches `phc`, with the algorithm variant, version and
    /// parameters the PHC string names. A malformed stored hash never matches.
    pub fn verify(&mut self, password: &str, phc: &str) -> bool {
        self.check(password.as_bytes(), phc).unwrap_or(false)
    }

    fn check(&mut self, password: &[u8], phc: &str) -> Option<bool> {
        let stored = PasswordHash::new(phc).ok()?;
        let algorithm = Algorithm::try_from(stored.algorithm).ok()?;
        let version = match stored.version {
            Some(v) => Version::try_from(v).ok()?,
            None => Version::default(),
        };
        // m, t, p (and keyid/data) from the string; the output length from the hash.
        let params = Params::try_from(&stored).ok()?;
        if params.m_cost() > MAX_MEMORY_KIB {
            return None;
        }
        let expected = stored.hash?;
        let mut salt = [0u8; Salt::MAX_LENGTH];
        let salt = stored.salt?.decode_b64(&mut salt).ok()?;

        let blocks = params.block_count();
        if self.blocks.len() < blocks {
            // Grown once to the largest hash seen, then reused; a failed allocation is
            // a failed check, not an abort.
            self.blocks
                .try_reserve_exact(blocks - self.blocks.len())
                .ok()?;
            self.blocks.resize(blocks, Block::new());
        }
        let mut out = [0u8; Output::MAX_LENGTH];
        let out = out.get_mut(..expected.len())?;
        Argon2::new(algorithm, version, params)
            .hash_password_into_with_memory(password, salt, out, &mut self.blocks[..blocks])
            .ok()?;
        // `Output`'s equality is constant-time.
        Some(Output::new(out).ok()? == expected)
    }
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
/// tokio's blocking pool, which starts new threads freely), each using one [`Memory`]
/// at a time, keep memory flat: threads × one hash's memory. When no check has
/// arrived for [`IDLE`], that memory is given back, so a login storm does not leave
/// tens of MiB behind.
#[derive(Clone)]
pub struct Verifier {
    jobs: mpsc::Sender<Job>,
    waiting: Arc<Semaphore>,
    capacity: usize,
    /// Memory no thread is using now, kept for the next check until [`IDLE`] passes.
    spare: Arc<Mutex<Vec<Memory>>>,
    /// Checked against when the user does not exist, so an unknown user costs the
    /// same Argon2id work as a known one (at the configured parameters) and answers
    /// in the same time.
    dummy: Arc<str>,
}

/// How long the hashing threads keep their memory without a check to run.
const IDLE: Duration = Duration::from_secs(1);

impl Verifier {
    /// `params` are those new hashes are made with: the dummy hash uses them.
    pub fn new(concurrency: usize, params: HashParams) -> Verifier {
        let concurrency = concurrency.max(1);
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let spare = Arc::new(Mutex::new(Vec::new()));
        for i in 0..concurrency {
            let queue = queue.clone();
            let spare = spare.clone();
            std::thread::Builder::new()
                .name(format!("admit-argon2-{i}"))
                .spawn(move || hash_thread(&queue, &spare))
                .expect("starting a password-hashing thread");
        }
        let capacity = concurrency * (QUEUE_PER_THREAD + 1);
        Verifier {
            jobs,
            capacity,
            waiting: Arc::new(Semaphore::new(capacity)),
            spare,
            dummy: dummy_phc(params).into(),
        }
    }

    /// Argon2 memory kept between checks now (none after [`IDLE`] without one).
    pub fn kept_bytes(&self) -> usize {
        lock(&self.spare).iter().map(Memory::bytes).sum()
    }

    /// Checks running or waiting now.
    pub fn in_flight(&self) -> usize {
        self.capacity - self.waiting.available_permits()
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

/// One hashing thread: takes a check from the queue and runs it with spare memory.
/// Ends when every sender is gone: the server has stopped.
fn hash_thread(queue: &Mutex<mpsc::Receiver<Job>>, spare: &Mutex<Vec<Memory>>) {
    loop {
        // Only the thread holding the queue waits on it, so whichever thread times
        // out frees all the spare memory, its own and that of the threads behind it.
        let job = lock(queue).recv_timeout(IDLE);
        match job {
            Ok((password, phc, reply)) => {
                let mut memory = lock(spare).pop().unwrap_or_default();
                let matched = memory.verify(&password, &phc);
                lock(spare).push(memory);
                let _ = reply.send(matched);
            }
            // Blocks of 1 MiB or more are mapped on their own (see `tune_malloc` in
            // the admit binary), so dropping them returns them to the system.
            Err(mpsc::RecvTimeoutError::Timeout) => lock(spare).clear(),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
}

/// No code panics while holding these locks; if one did, the data is still whole.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: &str = "correct horse battery staple";

    #[test]
    fn the_dummy_hash_has_the_configured_cost_and_matches_nothing() {
        let params = HashParams::new(MIN_MEMORY_KIB + 1024, 3).unwrap();
        let dummy = dummy_phc(params);
        let real = hash_with(PASSWORD, params);
        let cost = |phc: &str| Params::try_from(&PasswordHash::new(phc).unwrap()).unwrap();
        assert_eq!(cost(&dummy), cost(&real));
        assert_eq!(dummy.len(), real.len());
        assert!(!verify(PASSWORD, &dummy) && !verify("", &dummy));
    }

    /// A hash made outside admit's own floor, as an older admit or another tool would.
    fn hash_at(algorithm: Algorithm, m: u32, t: u32, p: u32) -> String {
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        Argon2::new(
            algorithm,
            Version::V0x13,
            Params::new(m, t, p, None).unwrap(),
        )
        .hash_password(PASSWORD.as_bytes(), &salt)
        .unwrap()
        .to_string()
    }

    #[test]
    fn the_right_password_matches_and_a_wrong_one_does_not() {
        let phc = hash(PASSWORD);
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        let mut memory = Memory::new();
        assert!(memory.verify(PASSWORD, &phc));
        assert!(!memory.verify("correct horse battery stapl", &phc));
        assert!(!memory.verify("", &phc));
        // The free function agrees.
        assert!(verify(PASSWORD, &phc));
        assert!(!verify("Correct horse battery staple", &phc));
    }

    #[test]
    fn the_memory_is_allocated_once_and_reused() {
        let phc = hash(PASSWORD);
        let mut memory = Memory::new();
        assert_eq!(memory.bytes(), 0);
        assert!(memory.verify(PASSWORD, &phc));
        let at = memory.blocks.as_ptr();
        assert_eq!(memory.bytes(), 19 * 1024 * 1024);
        assert!(!memory.verify("wrong", &phc));
        assert!(memory.verify(PASSWORD, &phc));
        assert_eq!(memory.blocks.as_ptr(), at, "the buffer was reallocated");
        assert_eq!(memory.bytes(), 19 * 1024 * 1024);
    }

    #[test]
    fn hashes_with_other_parameters_still_verify() {
        let mut memory = Memory::new();
        // Smaller (8 MiB), in a buffer already bigger: its prefix is used.
        assert!(memory.verify(PASSWORD, &hash(PASSWORD)));
        let small = hash_at(Algorithm::Argon2id, 8 * 1024, 3, 1);
        assert!(memory.verify(PASSWORD, &small));
        assert!(!memory.verify("wrong", &small));
        assert_eq!(memory.bytes(), 19 * 1024 * 1024);
        // Larger: the buffer grows to it.
        let large = hash_at(Algorithm::Argon2id, 24 * 1024, 1, 1);
        assert!(memory.verify(PASSWORD, &large));
        assert_eq!(memory.bytes(), 24 * 1024 * 1024);
        // Two lanes, and the other Argon2 variants.
        assert!(memory.verify(PASSWORD, &hash_at(Algorithm::Argon2id, 8 * 1024, 2, 2)));
        assert!(memory.verify(PASSWORD, &hash_at(Algorithm::Argon2i, 8 * 1024, 2, 1)));
        assert!(!memory.verify("wrong", &hash_at(Algorithm::Argon2d, 8 * 1024, 2, 1)));
        // Configured stronger parameters.
        let strong = hash_with(PASSWORD, HashParams::new(32 * 1024, 3).unwrap());
        assert!(
            strong.starts_with("$argon2id$v=19$m=32768,t=3,p=1$"),
            "{strong}"
        );
        assert!(memory.verify(PASSWORD, &strong));
        assert!(verify(PASSWORD, &strong));
    }

    #[test]
    fn a_malformed_stored_hash_never_matches() {
        let good = hash_at(Algorithm::Argon2id, 8 * 1024, 1, 1);
        let (head, output) = good.rsplit_once('$').unwrap();
        let salt = head.rsplit_once('$').unwrap().1;
        let malformed = [
            String::new(),
            "not a hash".to_owned(),
            PASSWORD.to_owned(),
            // No output, no salt.
            head.to_owned(),
            "$argon2id$v=19$m=8192,t=1,p=1".to_owned(),
            // Output cut short, or with a changed character.
            format!("{head}${}", &output[..output.len() - 4]),
            format!(
                "{head}${}{}",
                if output.starts_with('A') { 'B' } else { 'A' },
                &output[1..]
            ),
            // Unknown algorithm, version, or parameter.
            good.replace("$argon2id$", "$argon2x$"),
            good.replace("$argon2id$", "$pbkdf2-sha256$"),
            good.replace("v=19", "v=42"),
            good.replace("p=1", "p=1,z=3"),
            // Parameters Argon2 refuses, or that would ask for absurd memory.
            good.replace("t=1", "t=0"),
            good.replace("m=8192", "m=1"),
            good.replace("m=8192", "m=4294967295"),
            // A salt too short.
            good.replace(salt, "c2FsdA"),
            format!("$2b$12${salt}{output}"),
        ];
        let mut memory = Memory::new();
        assert!(memory.verify(PASSWORD, &good));
        for phc in &malformed {
            assert!(!memory.verify(PASSWORD, phc), "{phc:?} matched");
            assert!(!verify(PASSWORD, phc), "{phc:?} matched");
        }
    }

    #[test]
    fn parameters_below_owasp_minimum_are_refused() {
        assert_eq!(HashParams::default(), HashParams::OWASP);
        assert_eq!(HashParams::new(19 * 1024, 2), Ok(HashParams::OWASP));
        assert_eq!(
            HashParams::new(19 * 1024 - 1, 2),
            Err(ParamsError::Memory(19 * 1024 - 1))
        );
        assert_eq!(
            HashParams::new(64 * 1024, 1),
            Err(ParamsError::Iterations(1))
        );
        assert!(HashParams::new(MAX_MEMORY_KIB + 1, 2).is_err());
        let strong = HashParams::new(64 * 1024, 3).unwrap();
        assert_eq!((strong.memory_kib(), strong.iterations()), (65536, 3));
    }

    #[tokio::test]
    async fn the_verifier_answers_and_an_unknown_user_never_matches() {
        let verifier = Verifier::new(2, HashParams::OWASP);
        let phc = hash(PASSWORD);
        assert!(
            verifier
                .verify(PASSWORD.into(), Some(phc.clone()))
                .await
                .unwrap()
        );
        assert!(!verifier.verify("wrong".into(), Some(phc)).await.unwrap());
        assert!(!verifier.verify(PASSWORD.into(), None).await.unwrap());
        assert!(
            !verifier
                .verify(PASSWORD.into(), Some("junk".into()))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn the_memory_is_kept_through_a_storm_and_given_back_when_idle() {
        let verifier = Verifier::new(2, HashParams::OWASP);
        let phc = hash(PASSWORD);
        let checks = (0..4).map(|_| verifier.verify(PASSWORD.into(), Some(phc.clone())));
        for matched in futures_util::future::join_all(checks).await {
            assert!(matched.unwrap());
        }
        let one_hash = 19 * 1024 * 1024;
        let kept = verifier.kept_bytes();
        assert!(kept == one_hash || kept == 2 * one_hash, "{kept}");
        // Given back IDLE after the last check (polled, with a generous bound).
        let deadline = std::time::Instant::now() + 20 * IDLE;
        while verifier.kept_bytes() > 0 {
            assert!(std::time::Instant::now() < deadline, "memory still kept");
            tokio::time::sleep(IDLE / 10).await;
        }
        // And taken again for the next check.
        assert!(verifier.verify(PASSWORD.into(), Some(phc)).await.unwrap());
        assert_eq!(verifier.kept_bytes(), one_hash);
    }
}
