//! Argon2id at the parameters admit uses (OWASP: m = 19 MiB, t = 2, p = 1): the cost
//! of one login, which bounds logins per second per core.
//!
//! `cargo bench -p admit-server` (results and machine in BENCHMARKS.md).

use criterion::{Criterion, criterion_group, criterion_main};

fn argon2id(c: &mut Criterion) {
    let phc = admit_server::password::hash("correct horse battery staple");
    let mut group = c.benchmark_group("Argon2id");
    group.sample_size(20);
    group.bench_function("verify a password", |b| {
        b.iter(|| {
            assert!(admit_server::password::verify(
                "correct horse battery staple",
                &phc
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, argon2id);
criterion_main!(benches);
