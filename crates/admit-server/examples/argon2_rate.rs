//! The Argon2id-only rate that password logins are compared with: THREADS threads
//! checking a password against a hash made at admit's default parameters (OWASP's
//! minimum) for SECONDS, with the same reused working memory as the server's hashing
//! threads. Prints checks per CPU-second of this process. `bench/load.sh` runs it with
//! one thread per core, as the server hashes.
//!
//! `cargo run --release -p admit-server --example argon2_rate -- 2 5`

use std::time::{Duration, Instant};

use admit_server::password::{HashParams, Memory, hash_with};

fn main() {
    let mut args = std::env::args().skip(1);
    let threads: usize = args.next().map_or(1, |a| a.parse().expect("THREADS"));
    let seconds: u64 = args.next().map_or(5, |a| a.parse().expect("SECONDS"));
    let phc = hash_with("correct horse battery staple", HashParams::default());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let checks: usize = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut memory = Memory::new();
                    let mut n = 0;
                    while Instant::now() < deadline {
                        assert!(memory.verify("correct horse battery staple", &phc));
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).sum()
    });
    println!("{:.1}", checks as f64 / cpu_seconds());
}

/// User and system time of this process so far, from /proc (in USER_HZ, 100 per
/// second on Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("reading /proc/self/stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}
