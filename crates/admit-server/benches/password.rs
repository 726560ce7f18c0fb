//! Argon2id at the parameters admit uses by default (OWASP: m = 19 MiB, t = 2, p = 1):
//! the cost of one login, which bounds logins per second per core. "reused memory" is
//! what the server's hashing threads do; the plain one allocates the 19 MiB per check.
//! `admit calibrate` measures the same on any machine, at stronger settings too.
//!
//! `cargo bench -p admit-server` (results and machine in BENCHMARKS.md).

use admit_server::password::{self, Memory};
use criterion::{Criterion, criterion_group, criterion_main};

const PASSWORD: &str = "correct horse battery staple";

fn argon2id(c: &mut Criterion) {
    let phc = password::hash(PASSWORD);
    let mut group = c.benchmark_group("Argon2id");
    group.sample_size(20);
    group.bench_function("verify a password", |b| {
        b.iter(|| assert!(password::verify(PASSWORD, &phc)))
    });
    let mut memory = Memory::new();
    group.bench_function("verify a password (reused memory)", |b| {
        b.iter(|| assert!(memory.verify(PASSWORD, &phc)))
    });
    group.finish();
}

criterion_group!(benches, argon2id);
criterion_main!(benches);
