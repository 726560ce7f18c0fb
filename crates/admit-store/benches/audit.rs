//! What a token's audit record costs in the embedded database: `Store::append_audit`
//! of a writer's batch of token events, as shipped and without the `audit_log_at`
//! index (the store's WAL checkpoints run on another thread, so are not in these
//! times); then the same events by a bare prepared statement, as the shipped row and
//! as a slimmer one (the hash as 32 bytes, `prev_hash` NULL, no index): about the least
//! a record of the same facts can cost in SQLite. Per element: time per record.
//!
//! `cargo bench -p admit-store --bench audit` (results in BENCHMARKS.md, "Audit row
//! pass").

use admit_store::{AuditEvent, GENESIS, Store, chain_hash};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rusqlite::types::Value;
use rusqlite::{Connection, TransactionBehavior, params};

/// Events per batch: about what the writer gathers in its 10 ms under load.
const BATCH: usize = 256;

/// A client-credentials token's event, as `routes/token/issue.rs` records it.
fn token_event(i: usize) -> AuditEvent {
    AuditEvent {
        at: 1_765_000_000,
        event: "token".to_owned(),
        actor: "client:svc".to_owned(),
        subject: Some("svc".to_owned()),
        client_id: Some("svc".to_owned()),
        address: None,
        outcome: "success".to_owned(),
        detail: format!(
            r#"{{"grant_type":"client_credentials","jti":"XUJbXW6eQTCSn-Qc7k_{i:06}","scope":"read"}}"#
        ),
    }
}

fn append(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let batch: Vec<AuditEvent> = (0..BATCH).map(token_event).collect();
    let mut group = c.benchmark_group(format!("audit append, {BATCH} token events per batch"));
    group.throughput(Throughput::Elements(BATCH as u64));

    for (name, drop_index) in [("as shipped", false), ("without the at index", true)] {
        let path = dir.path().join(format!("{drop_index}.db"));
        let store = runtime
            .block_on(Store::connect(&format!("sqlite://{}", path.display())))
            .unwrap();
        if drop_index {
            Connection::open(&path)
                .unwrap()
                .execute_batch("DROP INDEX audit_log_at")
                .unwrap();
        }
        group.bench_function(name, |b| {
            b.iter(|| runtime.block_on(store.append_audit(&batch)).unwrap())
        });
    }

    // Bare statements, each on a connection set up as the store's direct one but
    // checkpointing on the calling thread (SQLite's default), so the two differ in the
    // row alone: the shipped table as the migrations make it, and a slim one whose
    // `prev_hash` stays NULL (one byte of the record's header).
    let shipped = dir.path().join("bare-shipped.db");
    runtime
        .block_on(Store::connect(&format!("sqlite://{}", shipped.display())))
        .unwrap();
    let slim = dir.path().join("bare-slim.db");
    Connection::open(&slim)
        .unwrap()
        .execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE audit_log (seq INTEGER NOT NULL PRIMARY KEY, at INTEGER NOT NULL,
               event TEXT NOT NULL, actor TEXT NOT NULL, subject TEXT, client_id TEXT,
               address TEXT, outcome TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT,
               hash BLOB NOT NULL);",
        )
        .unwrap();
    for (name, path, slim) in [
        ("shipped row, bare statement", shipped, false),
        ("slim row, bare statement", slim, true),
    ] {
        let mut conn = Connection::open(path).unwrap();
        conn.pragma_update(None, "synchronous", "NORMAL").unwrap();
        let mut head = (0i64, GENESIS.to_owned());
        group.bench_function(name, |b| {
            b.iter(|| {
                let tx = conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .unwrap();
                let mut insert = tx
                    .prepare_cached(
                        "INSERT INTO audit_log (seq, at, event, actor, subject, client_id, \
                         address, outcome, detail, prev_hash, hash) \
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    )
                    .unwrap();
                for e in &batch {
                    let seq = head.0 + 1;
                    let hash = chain_hash(&head.1, seq, e);
                    // The slim row keeps the hash's 32 bytes and no `prev_hash`.
                    let (prev, stored) = if slim {
                        let bytes = (0..32)
                            .map(|i| u8::from_str_radix(&hash[2 * i..2 * i + 2], 16).unwrap())
                            .collect();
                        (None, Value::Blob(bytes))
                    } else {
                        (Some(&head.1), Value::Text(hash.clone()))
                    };
                    insert
                        .execute(params![
                            seq,
                            e.at,
                            e.event,
                            e.actor,
                            e.subject,
                            e.client_id,
                            e.address,
                            e.outcome,
                            e.detail,
                            prev,
                            stored
                        ])
                        .unwrap();
                    head = (seq, hash);
                }
                drop(insert);
                tx.commit().unwrap();
            })
        });
    }
    group.finish();
}

criterion_group!(benches, append);
criterion_main!(benches);
