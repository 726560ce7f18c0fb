//! `admit audit ...`: read the audit log and check that it has not been altered.

use std::process::ExitCode;

use admit_store::{AuditFilter, AuditRecord, Store};
use anyhow::{Context, bail};
use clap::Subcommand;

use super::keys::MasterKeySource;

#[derive(Subcommand)]
pub enum Command {
    /// Check the hash chain and the signed anchors; exits 1 and says where the log
    /// breaks if a record was altered, deleted or inserted
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// The newest records, oldest first
    Tail {
        /// How many records
        #[arg(short = 'n', long, default_value_t = 20)]
        lines: i64,
        #[arg(long)]
        json: bool,
    },
    /// Records matching every filter given, newest first
    Search {
        /// A username or user id: records about the user or made by them
        #[arg(long)]
        user: Option<String>,
        #[arg(long = "client")]
        client_id: Option<String>,
        /// An event name, e.g. login, token, consent.grant, login.lock
        #[arg(long)]
        event: Option<String>,
        /// Unix seconds, or an age such as 90s, 15m, 2h, 7d
        #[arg(long)]
        since: Option<String>,
        /// Unix seconds, or an age such as 90s, 15m, 2h, 7d
        #[arg(long)]
        until: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(
    cmd: Command,
    store: &Store,
    master: MasterKeySource<'_>,
) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Verify { json } => {
            let report = admit_server::audit::verify(store, &master.load()?).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                match &report.broken {
                    Some(b) => println!("BROKEN at record {}: {}", b.seq, b.reason),
                    None => println!("the audit log holds: {} records", report.records),
                }
                println!(
                    "{} anchors verified, {} unverifiable (their key was deleted), {} records after the newest anchor",
                    report.anchors_verified,
                    report.anchors_unverifiable.len(),
                    report.unanchored
                );
            }
            return Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            });
        }
        Command::Tail { lines, json } => {
            let mut records = store.audit_search(&AuditFilter::default(), lines).await?;
            records.reverse();
            print(&records, json)?;
        }
        Command::Search {
            user,
            client_id,
            event,
            since,
            until,
            limit,
            json,
        } => {
            let now = admit_server::now();
            let user = match user {
                Some(u) => Some(
                    match store
                        .user_by_username(&admit_oauth::username::canonical(&u))
                        .await?
                    {
                        Some(found) => found.id,
                        None => u,
                    },
                ),
                None => None,
            };
            let filter = AuditFilter {
                user,
                client_id,
                event,
                since: since.map(|s| when(&s, now)).transpose()?,
                until: until.map(|s| when(&s, now)).transpose()?,
            };
            print(&store.audit_search(&filter, limit).await?, json)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print(records: &[AuditRecord], json: bool) -> anyhow::Result<()> {
    if json {
        // One JSON object per line, for jq and log shippers.
        for r in records {
            println!("{}", serde_json::to_string(r)?);
        }
        return Ok(());
    }
    for r in records {
        let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
        println!(
            "{:>6} {} {:<16} {:<9} actor={} subject={} client={} address={} {}",
            r.seq,
            r.at,
            r.event,
            r.outcome,
            r.actor,
            or_dash(&r.subject),
            or_dash(&r.client_id),
            or_dash(&r.address),
            r.detail
        );
    }
    Ok(())
}

/// Unix seconds, or an age before `now` (`90s`, `15m`, `2h`, `7d`).
fn when(text: &str, now: i64) -> anyhow::Result<i64> {
    if let Ok(seconds) = text.parse() {
        return Ok(seconds);
    }
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let n: i64 = number
        .parse()
        .with_context(|| format!("{text:?} is neither unix seconds nor an age like 15m"))?;
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => bail!("{text:?}: an age ends in s, m, h or d"),
    };
    Ok(now - n * scale)
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_are_unix_seconds_or_ages() {
        assert_eq!(super::when("1700000000", 0).unwrap(), 1_700_000_000);
        assert_eq!(super::when("15m", 1000).unwrap(), 100);
        assert_eq!(super::when("2d", 200_000).unwrap(), 200_000 - 172_800);
        assert!(super::when("15x", 0).is_err());
        assert!(super::when("m", 0).is_err());
    }
}
