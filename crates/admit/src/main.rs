//! The `admit` binary: `admit serve` runs the authorization server; the other
//! commands manage the same database, also while the server runs.

mod cli;
mod config;
mod declared;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    tune_malloc();
    let args = cli::Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) => {
            // One line with the whole cause chain, never a backtrace.
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Two glibc defaults hold memory that admit no longer uses (BENCHMARKS.md has the
/// numbers): each thread that allocates concurrently gets its own arena (up to eight
/// per core), and memory freed in one is not reused by another; and after the first
/// large block is freed, glibc raises its mmap threshold, so later Argon2id buffers
/// (19 MiB) come from the heap and stay there when freed. Two arenas, and blocks of
/// 1 MiB or more always mapped (and unmapped when freed), at no cost in throughput.
/// Called before any thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    // SAFETY: mallopt only sets allocator parameters; no other thread exists yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}
