//! The revocation set that push mode keeps: the entries of admit's revocation
//! stream, which tokens each one matches, and when it can be forgotten. No I/O, no
//! clock: `now` is passed in.

use std::collections::HashMap;

use admit_jose::AccessTokenClaims;
use serde::Deserialize;

/// One revocation, as the `data` of a `revocation` event carries it.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Entry {
    pub kind: String,
    pub value: String,
    /// Unix seconds. For `client` and `sub`: tokens issued at or before it are revoked.
    pub revoked_at: i64,
    /// Unix seconds after which no token the entry could match is still valid.
    pub expires_at: i64,
}

/// When a `client` or `sub` entry stops applying, and to which tokens.
#[derive(Debug, Clone, Copy)]
struct Cutoff {
    revoked_at: i64,
    expires_at: i64,
}

/// Every live entry, indexed by what it matches: a check is five hash lookups.
#[derive(Debug, Default)]
pub(crate) struct RevocationSet {
    /// `jti` -> `expires_at`.
    jti: HashMap<String, i64>,
    /// The `sid` claim (the login session) -> `expires_at`.
    sid: HashMap<String, i64>,
    /// The `gid` claim (the grant, i.e. the refresh-token family) -> `expires_at`.
    gid: HashMap<String, i64>,
    client: HashMap<String, Cutoff>,
    sub: HashMap<String, Cutoff>,
}

impl RevocationSet {
    /// Adds `entry`; an entry of a kind this crate does not know is returned as an
    /// error for the caller to log, and changes nothing.
    pub fn insert(&mut self, entry: Entry) -> Result<(), Entry> {
        let by_id = match entry.kind.as_str() {
            "jti" => &mut self.jti,
            "sid" => &mut self.sid,
            "grant" => &mut self.gid,
            "client" | "sub" => {
                let map = if entry.kind == "client" {
                    &mut self.client
                } else {
                    &mut self.sub
                };
                // Two revocations of the same client or user: the later cut-off covers
                // every token the earlier one did, for at least as long.
                let cutoff = map.entry(entry.value).or_insert(Cutoff {
                    revoked_at: entry.revoked_at,
                    expires_at: entry.expires_at,
                });
                cutoff.revoked_at = cutoff.revoked_at.max(entry.revoked_at);
                cutoff.expires_at = cutoff.expires_at.max(entry.expires_at);
                return Ok(());
            }
            _ => return Err(entry),
        };
        let expires_at = by_id.entry(entry.value).or_insert(entry.expires_at);
        *expires_at = (*expires_at).max(entry.expires_at);
        Ok(())
    }

    /// Whether an entry revokes the token with these (already verified) claims.
    pub fn is_revoked(&self, claims: &AccessTokenClaims) -> bool {
        let extra = |name: &str| claims.extra.get(name).and_then(|v| v.as_str());
        let issued_before =
            |cutoff: Option<&Cutoff>| cutoff.is_some_and(|c| claims.iat <= c.revoked_at);
        self.jti.contains_key(&claims.jti)
            || extra("sid").is_some_and(|sid| self.sid.contains_key(sid))
            || extra("gid").is_some_and(|gid| self.gid.contains_key(gid))
            || issued_before(self.client.get(&claims.client_id))
            || issued_before(self.sub.get(&claims.sub))
    }

    /// Forgets the entries no token can match any more. A verifier accepts a token
    /// for `leeway` seconds past its `exp`, so an entry is kept that much longer.
    pub fn prune(&mut self, now: i64, leeway: i64) {
        let live = |expires_at: i64| expires_at.saturating_add(leeway) >= now;
        self.jti.retain(|_, e| live(*e));
        self.sid.retain(|_, e| live(*e));
        self.gid.retain(|_, e| live(*e));
        self.client.retain(|_, c| live(c.expires_at));
        self.sub.retain(|_, c| live(c.expires_at));
    }

    pub fn len(&self) -> usize {
        self.jti.len() + self.sid.len() + self.gid.len() + self.client.len() + self.sub.len()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn entry(kind: &str, value: &str, revoked_at: i64) -> Entry {
        Entry {
            kind: kind.into(),
            value: value.into(),
            revoked_at,
            expires_at: NOW + 600,
        }
    }

    /// A token of client `app` for `alice`, issued at `iat`, in session `s1` of grant `g1`.
    fn token(jti: &str, iat: i64) -> AccessTokenClaims {
        serde_json::from_value(json!({
            "iss": "https://id.example", "sub": "alice", "aud": "api", "exp": NOW + 300,
            "iat": iat, "jti": jti, "client_id": "app", "sid": "s1", "gid": "g1",
        }))
        .unwrap()
    }

    fn check(entry: Entry, revoked: bool) {
        let mut set = RevocationSet::default();
        set.insert(entry.clone()).unwrap();
        assert_eq!(set.is_revoked(&token("j1", NOW)), revoked, "{entry:?}");
    }

    #[test]
    fn each_kind_matches_its_claim() {
        check(entry("jti", "j1", NOW), true);
        check(entry("jti", "j2", NOW), false);
        check(entry("sid", "s1", NOW), true);
        check(entry("sid", "s2", NOW), false);
        check(entry("grant", "g1", NOW), true);
        check(entry("grant", "j1", NOW), false);
        check(entry("client", "app", NOW), true);
        check(entry("client", "other", NOW), false);
        check(entry("sub", "alice", NOW), true);
        check(entry("sub", "app", NOW), false);
    }

    /// A client or user revoked at `revoked_at` may get new tokens right after.
    #[test]
    fn client_and_sub_spare_tokens_issued_after_the_revocation() {
        check(entry("client", "app", NOW - 1), false);
        check(entry("sub", "alice", NOW - 1), false);
        let mut set = RevocationSet::default();
        set.insert(entry("sub", "alice", NOW - 1)).unwrap();
        set.insert(entry("sub", "alice", NOW - 100)).unwrap();
        assert!(
            !set.is_revoked(&token("j1", NOW)),
            "an older entry cannot widen"
        );
        set.insert(entry("sub", "alice", NOW)).unwrap();
        assert!(set.is_revoked(&token("j1", NOW)));
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn a_token_without_sid_or_gid_is_not_matched_by_them() {
        let mut set = RevocationSet::default();
        set.insert(entry("sid", "s1", NOW)).unwrap();
        set.insert(entry("grant", "g1", NOW)).unwrap();
        let mut claims = token("j1", NOW);
        claims.extra.clear();
        assert!(!set.is_revoked(&claims));
    }

    #[test]
    fn unknown_kinds_are_handed_back() {
        let mut set = RevocationSet::default();
        assert!(set.insert(entry("device", "d1", NOW)).is_err());
        assert_eq!(set.len(), 0);
    }

    #[test]
    fn entries_are_forgotten_after_expiry_and_leeway() {
        let mut set = RevocationSet::default();
        for kind in ["jti", "sid", "grant", "client", "sub"] {
            set.insert(entry(kind, "x", NOW)).unwrap();
        }
        assert_eq!(set.len(), 5);
        set.prune(NOW + 600 + 30, 30);
        assert_eq!(
            set.len(),
            5,
            "a token may still be accepted within the leeway"
        );
        set.prune(NOW + 600 + 31, 30);
        assert_eq!(set.len(), 0);
    }
}
