//! `admit calibrate`: what this machine can do. Times one Argon2id password check at
//! OWASP's minimum and at stronger settings, proposes the strongest parameters within
//! a target time per login (never below the minimum), and times JWT signing and
//! verification for each algorithm admit offers; then prints the capacity per core.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use admit_jose::{Algorithm, KeySet, SigningKey, Validation, sign};
use admit_server::password::{self, HashParams, MIN_ITERATIONS, MIN_MEMORY_KIB};
use anyhow::{Context, ensure};
use serde::Serialize;
use serde_json::json;

#[derive(clap::Args)]
pub struct Args {
    /// Time one login's password check may take on one core, in milliseconds. The
    /// default, 50, keeps a login well under the ~100 ms a person notices and allows at
    /// least 20 logins per second per core; since the login form is open to anyone,
    /// this is also the CPU an attacker can make admit spend per request
    #[arg(long, default_value_t = 50)]
    target_ms: u32,
    /// The most memory to propose for one check, in MiB: admit holds this much per
    /// core under a login storm (19 at least)
    #[arg(long, default_value_t = 64)]
    max_memory_mib: u32,
    /// Timed checks per Argon2id setting, of which the median counts [default: 5, 1 with --quick]
    #[arg(long)]
    samples: Option<u32>,
    /// A fast, rough run: one sample per setting and short JWT timings
    #[arg(long)]
    quick: bool,
    /// Print the results as JSON, for scripts
    #[arg(long)]
    json: bool,
}

/// No search goes past this many iterations.
const MAX_ITERATIONS: u32 = 16;
const PASSWORD: &str = "calibration password, never stored";

#[derive(Serialize, Clone, Copy)]
struct Setting {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    /// Median time of one check, in milliseconds.
    ms: f64,
}

#[derive(Serialize)]
struct JwtCost {
    alg: &'static str,
    sign_us: f64,
    verify_us: f64,
    signed_per_second_per_core: f64,
    verified_per_second_per_core: f64,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let samples = args.samples.unwrap_or(if args.quick { 1 } else { 5 });
    ensure!(samples >= 1, "--samples must be at least 1");
    ensure!(args.target_ms >= 1, "--target-ms must be at least 1");
    let max_memory_kib = args
        .max_memory_mib
        .checked_mul(1024)
        .filter(|kib| (MIN_MEMORY_KIB..=password::MAX_MEMORY_KIB).contains(kib))
        .with_context(|| {
            format!(
                "--max-memory-mib must be between 19 (OWASP's minimum) and {}",
                password::MAX_MEMORY_KIB / 1024
            )
        })?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if !args.json {
        println!(
            "admit calibrate: {cores} core(s); each figure is one core, so other load on the machine lowers it"
        );
        println!();
    }

    let target = f64::from(args.target_ms);
    let mut timer = Argon2Timer {
        memory: password::Memory::new(),
        samples,
        measured: Vec::new(),
    };
    let (proposed, floor) = propose(&mut timer, target, max_memory_kib)?;
    let jwt_budget = Duration::from_millis(if args.quick { 20 } else { 300 });
    let jwt: Vec<JwtCost> = Algorithm::ALL
        .into_iter()
        .map(|alg| jwt_cost(alg, jwt_budget))
        .collect::<anyhow::Result<_>>()?;

    let per_core = 1000.0 / proposed.ms;
    let peak_mib = cores as u64 * u64::from(proposed.memory_kib) / 1024;
    let (m, t) = (proposed.memory_kib, proposed.iterations);
    let flags = format!("--password-hash-memory-kib {m} --password-hash-iterations {t}");
    let env = format!("ADMIT_PASSWORD_HASH_MEMORY_KIB={m} ADMIT_PASSWORD_HASH_ITERATIONS={t}");
    let toml = format!("password_hash_memory_kib = {m}\npassword_hash_iterations = {t}");

    if args.json {
        let report = json!({
            "cores": cores,
            "target_ms": args.target_ms,
            "samples": samples,
            "argon2id": {
                "floor": floor,
                "measured": timer.measured,
                "proposed": proposed,
                "within_target": proposed.ms <= target,
                "logins_per_second_per_core": round(per_core),
                "logins_per_second": round(per_core * cores as f64),
                "peak_memory_mib": peak_mib,
            },
            "jwt": jwt,
            "config": { "flags": flags, "env": env, "toml": toml },
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }

    println!("Argon2id, one password check (median of {samples}):");
    for s in &timer.measured {
        let note = if (s.memory_kib, s.iterations) == (MIN_MEMORY_KIB, MIN_ITERATIONS) {
            "  OWASP's minimum"
        } else {
            ""
        };
        println!(
            "  m={:<5} KiB ({:>4} MiB)  t={:<2} p=1  {:>8.1} ms{note}",
            s.memory_kib,
            s.memory_kib / 1024,
            s.iterations,
            s.ms
        );
    }
    println!();
    if proposed.ms > target {
        println!(
            "Even OWASP's minimum takes {:.1} ms here, over the {} ms target: proposing the minimum, never less.",
            floor.ms, args.target_ms
        );
    } else {
        println!(
            "Proposed for {} ms per login (at most {} MiB): m={m} KiB ({} MiB), t={t}, p=1: {:.1} ms",
            args.target_ms,
            args.max_memory_mib,
            m / 1024,
            proposed.ms
        );
    }
    println!(
        "  logins per second: {per_core:.0} per core, about {:.0} on {cores} core(s) (OWASP's minimum: {:.0} per core)",
        per_core * cores as f64,
        1000.0 / floor.ms
    );
    println!(
        "  memory under a login storm: {cores} hashing thread(s) × {} MiB = {peak_mib} MiB",
        m / 1024
    );
    println!("  to hash new passwords so (stored hashes keep theirs until the password changes),");
    println!("  give `admit serve` and `admit user add|passwd` one of:");
    println!("    flags:          {flags}");
    println!("    variables:      {env}");
    for (i, line) in toml.lines().enumerate() {
        let label = if i == 0 { "--config file:" } else { "" };
        println!("    {label:<15} {line}");
    }
    println!();
    println!("JWT, per core          sign                    verify (signature and claims)");
    for c in &jwt {
        println!(
            "  {:<6}  {:>9.1} µs {:>9.0}/s      {:>9.1} µs {:>9.0}/s",
            c.alg,
            c.sign_us,
            c.signed_per_second_per_core,
            c.verify_us,
            c.verified_per_second_per_core
        );
    }
    println!("  (HS256 is the shared-secret mode; signing keys are EdDSA, ES256 and RS256)");
    Ok(ExitCode::SUCCESS)
}

struct Argon2Timer {
    /// Reused across checks, as on the server's hashing threads.
    memory: password::Memory,
    samples: u32,
    measured: Vec<Setting>,
}

impl Argon2Timer {
    /// The median time of one check at `params`, recorded in `measured`.
    fn measure(&mut self, params: HashParams) -> anyhow::Result<Setting> {
        let phc = password::hash_with(PASSWORD, params);
        if self.memory.bytes() < params.memory_kib() as usize * 1024 {
            // Untimed: the first check at a larger size grows (and touches) the memory.
            self.memory.verify(PASSWORD, &phc);
        }
        let mut times = Vec::with_capacity(self.samples as usize);
        for _ in 0..self.samples {
            let started = Instant::now();
            let matched = self.memory.verify(PASSWORD, &phc);
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            ensure!(matched, "the calibration hash did not verify");
        }
        times.sort_by(f64::total_cmp);
        let setting = Setting {
            memory_kib: params.memory_kib(),
            iterations: params.iterations(),
            parallelism: 1,
            ms: round(times[times.len() / 2]),
        };
        self.measured.push(setting);
        Ok(setting)
    }
}

/// Memory steps tried after the floor, in MiB: about ×1.5 each, up to the maximum.
fn memory_steps(max_kib: u32) -> Vec<u32> {
    let mut steps: Vec<u32> = [32u32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536]
        .into_iter()
        .chain((1..=4).map(|gib| gib * 2048))
        .map(|mib| mib * 1024)
        .filter(|&kib| kib < max_kib)
        .collect();
    if max_kib > MIN_MEMORY_KIB {
        steps.push(max_kib);
    }
    steps
}

/// The strongest setting within `target` ms: memory first (it is what makes guessing
/// costly on GPUs), then iterations. Never below OWASP's minimum, which is returned
/// (with the floor's time) even when it is over the target. Past the floor, at least
/// one stronger setting is always measured, to show what it would cost.
fn propose(
    timer: &mut Argon2Timer,
    target: f64,
    max_memory_kib: u32,
) -> anyhow::Result<(Setting, Setting)> {
    let floor = timer.measure(HashParams::OWASP)?;
    let mut best = floor;
    for memory_kib in memory_steps(max_memory_kib) {
        let s = timer.measure(HashParams::new(memory_kib, MIN_ITERATIONS)?)?;
        if s.ms > target || floor.ms > target {
            break;
        }
        best = s;
    }
    if best.ms <= target {
        for iterations in MIN_ITERATIONS + 1..=MAX_ITERATIONS {
            let s = timer.measure(HashParams::new(best.memory_kib, iterations)?)?;
            if s.ms > target {
                break;
            }
            best = s;
        }
    }
    Ok((best, floor))
}

/// Signing and verifying an access token (RFC 9068 claims, `typ` at+jwt) with a fresh
/// key, each timed for about `budget`.
fn jwt_cost(alg: Algorithm, budget: Duration) -> anyhow::Result<JwtCost> {
    const NOW: i64 = 1_700_000_000;
    const ISSUER: &str = "https://id.example.com";
    let (key, _) = SigningKey::generate(alg).with_context(|| format!("generating a {alg} key"))?;
    let claims = json!({
        "iss": ISSUER, "sub": "S9p0R4UbAC6TnWAMW9jjEA", "aud": ISSUER,
        "exp": NOW + 600, "iat": NOW, "jti": "XUJbXW6eQTCSn-Qc7k_EnA",
        "client_id": "app", "scope": "read write",
    });
    let keys = KeySet::new(vec![key.verifying_key()?]);
    let mut validation = Validation::access_token(ISSUER, ISSUER);
    validation.algorithms = vec![alg];
    let token = sign(&key, "at+jwt", &claims)?;
    keys.verify(&token, &validation, NOW)
        .with_context(|| format!("verifying a {alg} token"))?;

    let sign_us = time_per_op(budget, || {
        sign(&key, "at+jwt", &claims).expect("signing a token");
    });
    let verify_us = time_per_op(budget, || {
        keys.verify(&token, &validation, NOW)
            .expect("verifying a token");
    });
    Ok(JwtCost {
        alg: alg.name(),
        sign_us: round(sign_us),
        verify_us: round(verify_us),
        signed_per_second_per_core: round(1e6 / sign_us),
        verified_per_second_per_core: round(1e6 / verify_us),
    })
}

/// Three decimals are more than the measurement's precision.
fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Microseconds per call of `op`, run in growing batches for about `budget` after an
/// untimed warm-up.
fn time_per_op(budget: Duration, mut op: impl FnMut()) -> f64 {
    op();
    let started = Instant::now();
    let mut done: u64 = 0;
    let mut batch: u64 = 1;
    while started.elapsed() < budget {
        for _ in 0..batch {
            op();
        }
        done += batch;
        batch = (batch * 2).min(1024);
    }
    started.elapsed().as_secs_f64() * 1e6 / done as f64
}
