//! Clients as the token, introspection and revocation endpoints authenticate them,
//! kept for [`TTL`] so a busy client costs no database query per request.
//!
//! A copy may outlive a change made elsewhere (the CLI, another instance) by up to
//! [`TTL`]. Removal allows for it: the revocation it records reaches [`TTL`] into the
//! future (see `revocation::client`). Unknown client ids are never cached, so a new
//! client works at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a copy is used before the database is asked again.
pub const TTL: Duration = Duration::from_secs(1);

/// Past this many clients, expired copies are dropped; if all are fresh, new ones
/// are not kept (a flood of distinct ids cannot grow memory).
const CAPACITY: usize = 10_000;

pub struct ClientCache<V> {
    entries: Mutex<HashMap<String, (Instant, Arc<V>)>>,
}

impl<V> Default for ClientCache<V> {
    fn default() -> Self {
        ClientCache {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<V> ClientCache<V> {
    /// The copy of `client_id` fetched less than [`TTL`] ago.
    pub fn get(&self, client_id: &str) -> Option<Arc<V>> {
        let entries = self.entries.lock().expect("never poisoned");
        let (fetched, value) = entries.get(client_id)?;
        (fetched.elapsed() < TTL).then(|| value.clone())
    }

    pub fn put(&self, client_id: &str, value: Arc<V>) {
        let mut entries = self.entries.lock().expect("never poisoned");
        if entries.len() >= CAPACITY && !entries.contains_key(client_id) {
            entries.retain(|_, (fetched, _)| fetched.elapsed() < TTL);
            if entries.len() >= CAPACITY {
                return;
            }
        }
        entries.insert(client_id.to_owned(), (Instant::now(), value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_expire_and_capacity_is_bounded() {
        let cache = ClientCache::default();
        cache.put("app", Arc::new(1));
        assert_eq!(cache.get("app").as_deref(), Some(&1));
        assert!(cache.get("other").is_none());

        let stale = Instant::now() - TTL;
        cache
            .entries
            .lock()
            .unwrap()
            .insert("old".into(), (stale, Arc::new(2)));
        assert!(cache.get("old").is_none(), "an expired copy is not used");

        for i in 0..CAPACITY {
            cache.put(&format!("c{i}"), Arc::new(i));
        }
        let len = cache.entries.lock().unwrap().len();
        assert_eq!(
            len, CAPACITY,
            "the expired copy made room, then the cache stopped growing"
        );
        assert!(cache.get(&format!("c{}", CAPACITY - 1)).is_none());
    }
}
