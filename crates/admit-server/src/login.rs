//! Password logins, shared by the login form and the password grant: back-off and
//! temporary locks per account and per client address, the Argon2id check, and the
//! audit record.
//!
//! Counts live in the database, so they hold across instances. Unknown usernames are
//! counted and locked exactly like real ones: a lock says nothing about whether an
//! account exists. A successful login does not clear a count (an attacker's failures
//! must not be wiped by the owner logging in elsewhere); counts lapse after the
//! policy's window, or `admit user unlock` clears them.

use std::net::IpAddr;

use admit_store::{LoginFailures, User};

use crate::audit::Event;
use crate::error::ApiError;
use crate::state::AppState;

/// How many failures a key may collect before it must wait, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Failures with no wait at all: typos.
    pub free: i64,
    /// At this many failures the key is locked for `lock` seconds.
    pub lock_after: i64,
    pub lock: i64,
    /// The longest back-off between `free` and `lock_after`, in seconds.
    pub max_backoff: i64,
}

/// The policies in force; [`LoginLimits::DEFAULT`] unless a test asks otherwise.
#[derive(Debug, Clone, Copy)]
pub struct LoginLimits {
    pub account: Policy,
    pub address: Policy,
}

impl LoginLimits {
    pub const DEFAULT: LoginLimits = LoginLimits {
        account: ACCOUNT,
        address: ADDRESS,
    };

    /// The longest any count matters.
    pub fn window(&self) -> i64 {
        self.account.window().max(self.address.window())
    }
}

/// Per account: five tries, then 1, 2, 4, 8 s apart, then locked for 15 minutes.
pub const ACCOUNT: Policy = Policy {
    free: 5,
    lock_after: 10,
    lock: 15 * 60,
    max_backoff: 60,
};

/// Per client address: looser, since many people can share one (a NAT, an office).
pub const ADDRESS: Policy = Policy {
    free: 20,
    lock_after: 100,
    lock: 15 * 60,
    max_backoff: 60,
};

impl Policy {
    /// A count lapses this long after its latest failure: a lock ends, and the next
    /// failure counts from one again.
    pub fn window(&self) -> i64 {
        self.lock
    }

    /// Until when the key must wait, or `None` when it may try now.
    pub fn blocked_until(&self, f: LoginFailures, now: i64) -> Option<i64> {
        if f.last_at < now - self.window() {
            return None;
        }
        let until = if f.failures >= self.lock_after {
            f.last_at + self.lock
        } else if f.failures >= self.free {
            // 1, 2, 4, ... seconds after the latest failure.
            let doubling = (f.failures - self.free).min(30) as u32;
            f.last_at + (1i64 << doubling).min(self.max_backoff)
        } else {
            return None;
        };
        (until > now).then_some(until)
    }
}

/// How a password check ended.
pub enum Checked {
    User(User),
    /// Wrong username or password: one answer for both.
    Wrong,
    /// Refused without checking; try again after this many seconds.
    Throttled(i64),
}

/// Checks `password` for `username` within the limits, counts a failure, and records
/// the attempt in the audit log.
pub async fn check_password(
    state: &AppState,
    username: &str,
    password: String,
    address: Option<IpAddr>,
    client_id: Option<&str>,
) -> Result<Checked, ApiError> {
    let username = admit_oauth::username::canonical(username);
    let account_key = format!("user:{username}");
    let address_key = address.map(|a| format!("addr:{a}"));
    let limits = state.settings().login_limits;
    let keys: Vec<(&str, Policy)> = std::iter::once((account_key.as_str(), limits.account))
        .chain(address_key.as_deref().map(|k| (k, limits.address)))
        .collect();
    let event = |outcome: &str| {
        let e = Event::new("login", outcome).address(address);
        match client_id {
            Some(c) => e.client(c),
            None => e,
        }
    };

    let now = crate::now();
    let names: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
    let counted = state.store.login_failures(&names).await?;
    let wait = counted
        .iter()
        .filter_map(|(key, f)| {
            let policy = keys.iter().find(|(k, _)| k == key)?.1;
            policy.blocked_until(*f, now)
        })
        .max();
    let user = state.store.user_by_username(&username).await?;
    let subject = |e: Event| match &user {
        Some(u) => e.subject(u.id.clone()),
        None => e,
    };
    if let Some(until) = wait {
        state.metrics.login("throttled");
        state.audit.record(subject(event("throttled")));
        return Ok(Checked::Throttled(until - now));
    }

    // Unknown users are checked against a dummy hash: same work, same answer.
    let phc = user.as_ref().map(|u| u.password_hash.clone());
    if state.passwords.verify(password, phc).await? {
        let user = user.expect("verified users exist");
        state.metrics.login("success");
        state
            .audit
            .record(event("success").subject(user.id.clone()));
        return Ok(Checked::User(user));
    }
    state.metrics.login("failure");
    state.audit.record(subject(event("failure")));
    for (key, policy) in keys {
        let f = state
            .store
            .count_login_failure(key, now, policy.window())
            .await?;
        if f.failures == policy.lock_after {
            let lock = Event::new("login.lock", "locked")
                .address(address)
                .detail(serde_json::json!({ "key": key, "seconds": policy.lock }));
            state.audit.record(subject(lock));
        }
    }
    Ok(Checked::Wrong)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(failures: i64, last_at: i64) -> LoginFailures {
        LoginFailures { failures, last_at }
    }

    #[test]
    fn typos_are_free_then_waits_double_then_the_key_locks() {
        let p = ACCOUNT;
        assert_eq!(p.blocked_until(at(4, 100), 100), None);
        assert_eq!(p.blocked_until(at(5, 100), 100), Some(101));
        assert_eq!(p.blocked_until(at(6, 100), 100), Some(102));
        assert_eq!(p.blocked_until(at(9, 100), 100), Some(116));
        assert_eq!(p.blocked_until(at(9, 100), 116), None);
        assert_eq!(p.blocked_until(at(10, 100), 100), Some(100 + 900));
        assert_eq!(p.blocked_until(at(10, 100), 999), Some(1000));
        assert_eq!(p.blocked_until(at(10, 100), 1000), None);
    }

    #[test]
    fn back_off_is_capped_and_counts_lapse() {
        let p = Policy {
            free: 1,
            lock_after: 100,
            lock: 600,
            max_backoff: 60,
        };
        assert_eq!(p.blocked_until(at(50, 0), 0), Some(60));
        assert_eq!(p.blocked_until(at(50, 0), 601), None);
    }
}
