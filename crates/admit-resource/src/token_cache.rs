//! The bounded cache of verified tokens: a token seen again skips its signature and
//! claim checks, never the revocation check, which the verifier runs on every request.
//!
//! Keys are SHA-256 digests of the whole token, so a hit is for exactly the bytes that
//! verified (RFC 8725 §3.3: every cryptographic operation is validated) and the cache
//! never holds a token. Only successes are inserted, so a forged token cannot fill it.
//! Every entry belongs to the key-set revision it verified under: a new revision (the
//! issuer's JWKS changed) makes every entry a miss and the next insertion empties the
//! cache. No I/O, no clock: `now` is passed in.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use admit_jose::AccessTokenClaims;

use crate::answer_cache::TokenDigest;

/// How many verified tokens a verifier remembers unless told otherwise.
pub(crate) const DEFAULT_CAPACITY: usize = 10_000;

struct Entry {
    /// Shared with every request the token authorizes: a hit copies nothing.
    claims: Arc<AccessTokenClaims>,
    /// Unix seconds: the last second at which verification itself accepts the token.
    valid_until: i64,
}

struct Entries {
    /// The key-set revision every entry verified under.
    revision: u64,
    map: HashMap<TokenDigest, Entry>,
}

/// Read on every request (a shared lock, no write), written only after a full
/// verification, which costs far more than the lock.
pub(crate) struct TokenCache {
    capacity: usize,
    /// The verifier's leeway, so that an entry lasts exactly as long as a fresh
    /// verification would accept the token.
    leeway: i64,
    entries: RwLock<Entries>,
}

impl TokenCache {
    /// A cache of `capacity` tokens; 0 disables it.
    pub fn new(capacity: usize, leeway: i64) -> TokenCache {
        TokenCache {
            capacity,
            leeway,
            entries: RwLock::new(Entries {
                revision: 0,
                map: HashMap::new(),
            }),
        }
    }

    pub fn enabled(&self) -> bool {
        self.capacity > 0
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The claims of a token that verified under key-set `revision`, if it is still
    /// valid at `now`.
    pub fn get(
        &self,
        key: &TokenDigest,
        revision: u64,
        now: i64,
    ) -> Option<Arc<AccessTokenClaims>> {
        let entries = self.read();
        if entries.revision != revision {
            return None;
        }
        let entry = entries.map.get(key)?;
        // The same rule as `Validation::check_claims` (RFC 7519 §4.1.4 with leeway),
        // checked again on every hit.
        (now <= entry.valid_until).then(|| entry.claims.clone())
    }

    /// Remembers `claims`, which just verified in full at `now` under key-set `revision`.
    pub fn insert(
        &self,
        key: TokenDigest,
        claims: Arc<AccessTokenClaims>,
        revision: u64,
        now: i64,
    ) {
        if self.capacity == 0 {
            return;
        }
        // Accepted only thanks to the leeway on `nbf` or `iat` (RFC 7519 §4.1.5):
        // such a token verifies in full each time until it is valid by our clock.
        if claims.nbf.is_some_and(|nbf| nbf > now) || claims.iat > now {
            return;
        }
        let valid_until = claims.exp.saturating_add(self.leeway);
        if now > valid_until {
            return;
        }
        let mut entries = self.write();
        if revision < entries.revision {
            // Verified with keys that have been replaced meanwhile.
            return;
        }
        if revision > entries.revision {
            entries.map.clear();
            entries.revision = revision;
        }
        if entries.map.len() >= self.capacity && !entries.map.contains_key(&key) {
            make_room(&mut entries.map, self.capacity, now);
        }
        entries.map.insert(
            key,
            Entry {
                claims,
                valid_until,
            },
        );
    }

    fn read(&self) -> RwLockReadGuard<'_, Entries> {
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Entries> {
        self.entries.write().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.read().map.len()
    }
}

/// A full cache drops its expired entries and, if that frees less than a tenth of it,
/// live ones down to nine tenths, in the map's iteration order (arbitrary: the hasher
/// is randomly keyed). One pass per tenth of the capacity keeps insertion O(1)
/// amortised; which live token goes matters little, since it just verifies in full
/// once more.
fn make_room(map: &mut HashMap<TokenDigest, Entry>, capacity: usize, now: i64) {
    let keep = capacity - (capacity / 10).max(1);
    let mut kept = 0;
    map.retain(|_, entry| {
        if now > entry.valid_until {
            return false;
        }
        kept += 1;
        kept <= keep
    });
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_700_000_000;
    const LEEWAY: i64 = 30;

    fn key(n: u8) -> TokenDigest {
        [n; 32]
    }

    fn claims(exp: i64, nbf: Option<i64>) -> Arc<AccessTokenClaims> {
        serde_json::from_value::<AccessTokenClaims>(json!({
            "iss": "https://id.example", "sub": "alice", "aud": "api", "exp": exp,
            "iat": NOW - 10, "nbf": nbf, "jti": "j1", "client_id": "app",
        }))
        .map(Arc::new)
        .unwrap()
    }

    #[test]
    fn an_entry_lasts_until_exp_plus_the_leeway() {
        let cache = TokenCache::new(10, LEEWAY);
        let claims = claims(NOW + 60, None);
        cache.insert(key(1), claims.clone(), 0, NOW);
        assert_eq!(cache.get(&key(1), 0, NOW), Some(claims.clone()));
        assert_eq!(cache.get(&key(2), 0, NOW), None);
        // `Validation` accepts while now <= exp + leeway, and so does the cache.
        assert!(cache.get(&key(1), 0, NOW + 60 + LEEWAY).is_some());
        assert_eq!(cache.get(&key(1), 0, NOW + 60 + LEEWAY + 1), None);
    }

    #[test]
    fn a_hit_shares_the_claims_it_verified() {
        let cache = TokenCache::new(10, LEEWAY);
        let claims = claims(NOW + 60, None);
        cache.insert(key(1), claims.clone(), 0, NOW);
        let hit = cache.get(&key(1), 0, NOW).unwrap();
        assert!(Arc::ptr_eq(&hit, &claims), "a hit copied the claims");
    }

    #[test]
    fn a_token_not_yet_valid_is_not_cached() {
        let cache = TokenCache::new(10, LEEWAY);
        cache.insert(key(1), claims(NOW + 60, Some(NOW + 5)), 0, NOW);
        let mut issued_ahead = claims(NOW + 60, None);
        Arc::make_mut(&mut issued_ahead).iat = NOW + 5;
        cache.insert(key(2), issued_ahead, 0, NOW);
        assert_eq!(cache.len(), 0);
        cache.insert(key(1), claims(NOW + 60, Some(NOW)), 0, NOW);
        assert_eq!(cache.len(), 1, "valid from now on: cached");
    }

    #[test]
    fn a_new_key_set_revision_empties_it() {
        let cache = TokenCache::new(10, LEEWAY);
        let claims = claims(NOW + 60, None);
        cache.insert(key(1), claims.clone(), 3, NOW);
        assert_eq!(cache.get(&key(1), 4, NOW), None, "a miss at once");
        cache.insert(key(2), claims.clone(), 4, NOW);
        assert_eq!(cache.len(), 1, "emptied by the first insertion");
        assert!(cache.get(&key(2), 4, NOW).is_some());
        // A request that verified with the replaced keys does not bring them back.
        cache.insert(key(1), claims.clone(), 3, NOW);
        assert_eq!(cache.get(&key(1), 3, NOW), None);
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn it_stays_within_its_capacity() {
        let cache = TokenCache::new(10, LEEWAY);
        for n in 0..100 {
            cache.insert(key(n), claims(NOW + 60, None), 0, NOW);
            assert!(cache.len() <= 10, "{}", cache.len());
        }
        assert!(cache.get(&key(99), 0, NOW).is_some(), "the newest is kept");
    }

    #[test]
    fn a_full_cache_drops_expired_entries_first() {
        let cache = TokenCache::new(4, 0);
        cache.insert(key(1), claims(NOW + 1, None), 0, NOW);
        cache.insert(key(2), claims(NOW + 1, None), 0, NOW);
        cache.insert(key(3), claims(NOW + 60, None), 0, NOW);
        cache.insert(key(4), claims(NOW + 60, None), 0, NOW);
        cache.insert(key(5), claims(NOW + 60, None), 0, NOW + 10);
        assert_eq!(cache.len(), 3);
        for n in 3..=5 {
            assert!(cache.get(&key(n), 0, NOW + 10).is_some(), "{n}");
        }
    }

    #[test]
    fn capacity_zero_caches_nothing() {
        let cache = TokenCache::new(0, LEEWAY);
        assert!(!cache.enabled());
        cache.insert(key(1), claims(NOW + 60, None), 0, NOW);
        assert_eq!(cache.get(&key(1), 0, NOW), None);
    }
}
