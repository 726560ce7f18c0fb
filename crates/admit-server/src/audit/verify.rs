//! `admit audit verify`: walks the chain from the first record, then checks every
//! anchor's signature against admit's own keys, opened with the master key, so a
//! key row written by someone without the master key proves nothing.

use std::collections::HashMap;

use admit_jose::SigningKey;
use admit_jose::UnverifiedJwt;
use admit_store::{AuditAnchor, GENESIS, Store, chain_hash};
use serde::Serialize;

use super::{ANCHOR_TYP, AnchorClaims};
use crate::master_key::MasterKey;

/// Records read per query while walking the chain.
const PAGE: i64 = 1000;

/// What [`verify`] found.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    /// Records checked, from seq 1 to the first break or the end.
    pub records: i64,
    /// The first place the chain or an anchor fails; `None` when all holds.
    pub broken: Option<Break>,
    /// Anchors whose signature and hash hold.
    pub anchors_verified: usize,
    /// Anchors signed by a key that has since been deleted: they prove nothing,
    /// but later anchors cover the same records.
    pub anchors_unverifiable: Vec<i64>,
    /// Records after the newest verified anchor: their chain holds, but a tail
    /// deleted from there would not show.
    pub unanchored: i64,
}

#[derive(Debug, Serialize)]
pub struct Break {
    pub seq: i64,
    pub reason: String,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.broken.is_none()
    }

    fn break_at(&mut self, seq: i64, reason: impl Into<String>) {
        if self.broken.as_ref().is_none_or(|b| seq < b.seq) {
            self.broken = Some(Break {
                seq,
                reason: reason.into(),
            });
        }
    }
}

pub async fn verify(store: &Store, master: &MasterKey) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let anchors = store.audit_anchors().await?;
    let mut hash_at: HashMap<i64, String> =
        anchors.iter().map(|a| (a.seq, String::new())).collect();

    // The chain: contiguous seqs, each prev_hash the hash before, each hash recomputed.
    let (mut seq, mut prev) = (0, GENESIS.to_owned());
    'walk: loop {
        let page = store.audit_after(seq, PAGE).await?;
        for r in &page {
            if r.seq != seq + 1 {
                report.break_at(seq + 1, format!("record {} is missing", seq + 1));
                break 'walk;
            }
            if r.prev_hash != prev {
                report.break_at(r.seq, "its prev_hash is not the previous record's hash");
                break 'walk;
            }
            if r.hash != chain_hash(&prev, r.seq, &r.event()) {
                report.break_at(r.seq, "its contents do not match its hash: it was altered");
                break 'walk;
            }
            if let Some(h) = hash_at.get_mut(&r.seq) {
                h.clone_from(&r.hash);
            }
            seq = r.seq;
            prev.clone_from(&r.hash);
            report.records += 1;
        }
        if page.len() < PAGE as usize {
            break;
        }
    }

    // The anchors: each signed by admit, each naming the hash the chain has there.
    let keys: HashMap<_, _> = store
        .list_keys()
        .await?
        .into_iter()
        .map(|k| (k.kid.clone(), k))
        .collect();
    let mut anchored = 0;
    for anchor in &anchors {
        let chained = hash_at.get(&anchor.seq).filter(|h| !h.is_empty());
        match check_anchor(anchor, &keys, master)? {
            AnchorCheck::KeyGone => report.anchors_unverifiable.push(anchor.seq),
            AnchorCheck::Invalid(why) => report.break_at(anchor.seq, why),
            AnchorCheck::Signed if report.broken.as_ref().is_some_and(|b| b.seq <= anchor.seq) => {}
            AnchorCheck::Signed => match chained {
                None if anchor.seq > seq => report.break_at(
                    seq + 1,
                    format!(
                        "anchor {} signs a record that is gone: records were deleted",
                        anchor.seq
                    ),
                ),
                Some(h) if *h == anchor.hash => {
                    report.anchors_verified += 1;
                    anchored = anchored.max(anchor.seq);
                }
                _ => report.break_at(
                    anchor.seq,
                    format!(
                        "anchor {} signs another hash: the chain was rewritten",
                        anchor.seq
                    ),
                ),
            },
        }
    }
    report.unanchored = seq - anchored;
    Ok(report)
}

enum AnchorCheck {
    Signed,
    KeyGone,
    Invalid(String),
}

fn check_anchor(
    anchor: &AuditAnchor,
    keys: &HashMap<String, admit_store::SigningKey>,
    master: &MasterKey,
) -> anyhow::Result<AnchorCheck> {
    let invalid = |why: &str| {
        Ok(AnchorCheck::Invalid(format!(
            "anchor {}: {why}",
            anchor.seq
        )))
    };
    let Ok(jwt) = UnverifiedJwt::parse(&anchor.jws) else {
        return invalid("not a JWS");
    };
    let Some(record) = jwt.header().kid.as_ref().and_then(|kid| keys.get(kid)) else {
        return Ok(AnchorCheck::KeyGone);
    };
    // The key as admit made it: the private half opens under the master key (the
    // kid is its associated data), and the public half is derived from it.
    let Ok(private) = master.open(&record.kid, &record.private_key_enc) else {
        return invalid("its key does not open with the master key");
    };
    let alg = record.alg.parse()?;
    let key = SigningKey::from_private(alg, &private, Some(record.kid.clone()))?.verifying_key()?;
    let Ok(claims) = jwt.verify(&key, &[alg]) else {
        return invalid("the signature does not verify");
    };
    let claims: AnchorClaims = serde_json::from_value(claims.into())?;
    if jwt.header().typ.as_deref() != Some(ANCHOR_TYP)
        || claims.seq != anchor.seq
        || claims.hash != anchor.hash
    {
        return invalid("the signed seq or hash differs from the anchor's");
    }
    Ok(AnchorCheck::Signed)
}
