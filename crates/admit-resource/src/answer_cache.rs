//! The bounded cache of introspection answers. Keys are SHA-256 digests of tokens,
//! so the cache never holds a token; each answer has its own deadline; when full,
//! the oldest answer goes first. No I/O, no clock: `now` is passed in.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use aws_lc_rs::digest;

/// How many answers a verifier remembers at most.
pub(crate) const CAPACITY: usize = 10_000;

pub(crate) type TokenDigest = [u8; 32];

pub(crate) fn token_digest(token: &str) -> TokenDigest {
    let digest = digest::digest(&digest::SHA256, token.as_bytes());
    digest
        .as_ref()
        .try_into()
        .expect("SHA-256 is 32 bytes long")
}

struct Answer {
    active: bool,
    until: Instant,
    /// Which insertion this is, to tell it from an older one of the same token in `order`.
    seq: u64,
}

pub(crate) struct AnswerCache {
    capacity: usize,
    answers: HashMap<TokenDigest, Answer>,
    /// Insertions, oldest first. May hold stale pairs (the token was answered again
    /// since, or removed); they are skipped, and compacted away when they pile up.
    order: VecDeque<(TokenDigest, u64)>,
    next_seq: u64,
}

impl AnswerCache {
    pub fn new(capacity: usize) -> AnswerCache {
        AnswerCache {
            capacity,
            answers: HashMap::new(),
            order: VecDeque::new(),
            next_seq: 0,
        }
    }

    /// The answer for this token, unless there is none or it is past its deadline.
    pub fn get(&mut self, key: &TokenDigest, now: Instant) -> Option<bool> {
        let answer = self.answers.get(key)?;
        if answer.until > now {
            return Some(answer.active);
        }
        self.answers.remove(key);
        None
    }

    /// Remembers `active` for this token until `until`, evicting the oldest answers
    /// if the cache is full.
    pub fn insert(&mut self, key: TokenDigest, active: bool, until: Instant) {
        self.next_seq += 1;
        let seq = self.next_seq;
        self.answers.insert(key, Answer { active, until, seq });
        self.order.push_back((key, seq));
        while self.answers.len() > self.capacity {
            let Some((oldest, seq)) = self.order.pop_front() else {
                break;
            };
            if self.answers.get(&oldest).is_some_and(|a| a.seq == seq) {
                self.answers.remove(&oldest);
            }
        }
        if self.order.len() > 2 * self.capacity {
            let answers = &self.answers;
            self.order
                .retain(|(key, seq)| answers.get(key).is_some_and(|a| a.seq == *seq));
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.answers.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn key(n: u8) -> TokenDigest {
        [n; 32]
    }

    #[test]
    fn answers_last_until_their_deadline() {
        let now = Instant::now();
        let mut cache = AnswerCache::new(10);
        cache.insert(key(1), true, now + Duration::from_secs(5));
        cache.insert(key(2), false, now + Duration::from_secs(5));
        assert_eq!(cache.get(&key(1), now), Some(true));
        assert_eq!(cache.get(&key(2), now), Some(false));
        assert_eq!(cache.get(&key(3), now), None);
        assert_eq!(cache.get(&key(1), now + Duration::from_secs(5)), None);
        assert_eq!(cache.len(), 1, "an expired answer is dropped when met");
    }

    #[test]
    fn a_full_cache_evicts_the_oldest() {
        let now = Instant::now();
        let later = now + Duration::from_secs(60);
        let mut cache = AnswerCache::new(3);
        for n in 1..=3 {
            cache.insert(key(n), true, later);
        }
        // Answered again: now the newest, so 2 is the oldest.
        cache.insert(key(1), true, later);
        cache.insert(key(4), true, later);
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get(&key(2), now), None);
        for n in [1, 3, 4] {
            assert_eq!(cache.get(&key(n), now), Some(true), "{n}");
        }
    }

    /// Regression guard: one token answered again and again must not grow `order`.
    #[test]
    fn the_insertion_order_stays_bounded() {
        let now = Instant::now();
        let mut cache = AnswerCache::new(4);
        for _ in 0..100 {
            cache.insert(key(1), true, now);
        }
        assert!(cache.order.len() <= 8, "{}", cache.order.len());
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn digests_are_sha256() {
        let digest = token_digest("abc");
        assert_eq!(
            digest[..4],
            [0xba, 0x78, 0x16, 0xbf],
            "FIPS 180-2 test vector"
        );
    }
}
