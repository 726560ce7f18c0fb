//! Clients as the token, introspection and revocation endpoints authenticate them,
//! kept for [`TTL`] so a busy client costs no database query per request; and, apart
//! from them, client ids the database did not hold, so a caller repeating an unknown
//! id (a misconfigured client, or someone probing) costs none either.
//!
//! A copy may outlive a change made elsewhere (the CLI, another instance) by up to
//! [`TTL`]. Removal allows for it: the revocation it records reaches [`TTL`] into the
//! future (see `revocation::client`). A client added elsewhere may be refused for up
//! to [`TTL`] if its id was tried just before; one added through this instance's
//! admin API is forgotten as unknown at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a copy is used before the database is asked again.
pub const TTL: Duration = Duration::from_secs(1);

/// How many known clients are kept.
pub const KNOWN: usize = 10_000;
/// How many unknown ids are kept: fewer, and in a cache of their own, so a flood of
/// made-up ids cannot take the places of real clients.
pub const UNKNOWN: usize = 1_000;

pub struct ClientCache<V> {
    entries: Mutex<HashMap<String, (Instant, V)>>,
    /// Past this many entries, expired ones are dropped; if all are fresh, new ones
    /// are not kept (a flood of distinct ids cannot grow memory).
    capacity: usize,
}

impl<V: Clone> ClientCache<V> {
    pub fn new(capacity: usize) -> Self {
        ClientCache {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The copy of `client_id` fetched less than [`TTL`] ago.
    pub fn get(&self, client_id: &str) -> Option<V> {
        let entries = self.entries.lock().expect("never poisoned");
        let (fetched, value) = entries.get(client_id)?;
        (fetched.elapsed() < TTL).then(|| value.clone())
    }

    pub fn put(&self, client_id: &str, value: V) {
        let mut entries = self.entries.lock().expect("never poisoned");
        if entries.len() >= self.capacity && !entries.contains_key(client_id) {
            entries.retain(|_, (fetched, _)| fetched.elapsed() < TTL);
            if entries.len() >= self.capacity {
                return;
            }
        }
        entries.insert(client_id.to_owned(), (Instant::now(), value));
    }

    pub fn forget(&self, client_id: &str) {
        self.entries
            .lock()
            .expect("never poisoned")
            .remove(client_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_expire_and_capacity_is_bounded() {
        let cache = ClientCache::new(KNOWN);
        cache.put("app", 1);
        assert_eq!(cache.get("app"), Some(1));
        assert!(cache.get("other").is_none());
        cache.put("gone", 3);
        cache.forget("gone");
        assert!(cache.get("gone").is_none(), "a forgotten copy is gone");

        let stale = Instant::now() - TTL;
        cache
            .entries
            .lock()
            .unwrap()
            .insert("old".into(), (stale, 2));
        assert!(cache.get("old").is_none(), "an expired copy is not used");

        for i in 0..KNOWN {
            cache.put(&format!("c{i}"), i);
        }
        let len = cache.entries.lock().unwrap().len();
        assert_eq!(
            len, KNOWN,
            "the expired copy made room, then the cache stopped growing"
        );
        assert!(cache.get(&format!("c{}", KNOWN - 1)).is_none());
    }
}
