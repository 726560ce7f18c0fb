//! Failed client authentications at the token, introspection and revocation
//! endpoints, counted per client id and per address in fixed one-minute windows,
//! in this instance's memory (a failure costs no database write).
//!
//! Past a limit, a failure is answered 429 with `Retry-After` instead of 401: a
//! misconfigured or hostile caller is told to stop. Correct credentials are never
//! refused: refusing them would let anyone who knows a client id, or shares an
//! address, lock a working client out, and admit's client secrets are 256-bit random
//! values that no number of guesses recovers.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// The window failures are counted in, in seconds.
pub const WINDOW: i64 = 60;
/// Failures per client id per window before 429.
pub const PER_CLIENT: u32 = 20;
/// Failures per address per window before 429.
pub const PER_ADDRESS: u32 = 50;
/// Past this many counters, lapsed ones are dropped; if none lapsed, new keys are
/// not counted (a flood of distinct ids cannot grow memory).
const CAPACITY: usize = 100_000;

/// A failure past a limit: how long to wait, and whether it is the first refusal of
/// its window (the one worth an audit record).
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal {
    pub wait: i64,
    pub first: bool,
}

#[derive(Default)]
pub struct ClientLimits {
    /// Key -> (window start, failures in it).
    counts: Mutex<HashMap<String, (i64, u32)>>,
}

impl ClientLimits {
    /// Counts a failure for `client_id` from `address` at `now`; `None` while within
    /// both limits.
    pub fn failed(&self, client_id: &str, address: Option<IpAddr>, now: i64) -> Option<Refusal> {
        let mut counts = self.counts.lock().expect("never poisoned");
        let mut refusal: Option<Refusal> = None;
        let keys = std::iter::once((format!("client:{client_id}"), PER_CLIENT))
            .chain(address.map(|a| (format!("addr:{a}"), PER_ADDRESS)));
        for (key, limit) in keys {
            if counts.len() >= CAPACITY && !counts.contains_key(&key) {
                counts.retain(|_, (start, _)| *start > now - WINDOW);
                if counts.len() >= CAPACITY {
                    continue;
                }
            }
            let (start, failures) = counts.entry(key).or_insert((now, 0));
            if *start <= now - WINDOW {
                (*start, *failures) = (now, 0);
            }
            *failures += 1;
            if *failures > limit {
                let wait = *start + WINDOW - now;
                let first = *failures == limit + 1;
                refusal = Some(match refusal {
                    Some(r) => Refusal {
                        wait: r.wait.max(wait),
                        first: r.first || first,
                    },
                    None => Refusal { wait, first },
                });
            }
        }
        refusal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_per_client_and_per_address_and_lapses() {
        let limits = ClientLimits::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..PER_CLIENT {
            assert_eq!(limits.failed("app", Some(a), 100), None);
        }
        let refused = |wait, first| Some(Refusal { wait, first });
        assert_eq!(limits.failed("app", Some(a), 110), refused(50, true));
        assert_eq!(limits.failed("app", Some(a), 111), refused(49, false));
        assert_eq!(
            limits.failed("other", None, 110),
            None,
            "another client is not limited"
        );
        assert_eq!(
            limits.failed("app", Some(a), 160),
            None,
            "a new window starts afresh"
        );

        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let waits: Vec<_> = (0..=PER_ADDRESS)
            .map(|i| limits.failed(&format!("c{i}"), Some(b), 200))
            .collect();
        assert!(waits[..PER_ADDRESS as usize].iter().all(Option::is_none));
        assert_eq!(waits[PER_ADDRESS as usize], refused(WINDOW, true));
    }
}
