//! `admit config plan|apply|diff`: the clients and users declared in the `--config`
//! file against the database (declared/). Output names fields, never a secret.

use std::path::Path;
use std::process::ExitCode;

use admit_store::Store;
use clap::Subcommand;

use super::PasswordHashArgs;
use crate::config::FileConfig;
use crate::declared::{self, Action, Plan};

/// `diff`'s exit code when the database differs from the file (1 is an error).
pub const DRIFT: u8 = 2;

#[derive(Subcommand)]
pub enum Command {
    /// Show what `apply` would change in the database to match the file; writes nothing
    Plan {
        /// Print the plan as JSON
        #[arg(long)]
        json: bool,
    },
    /// Make the database match the file, all changes in one transaction
    Apply {
        /// Print what was changed as JSON
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        hashing: PasswordHashArgs,
    },
    /// Report drift between the file and the database: exits 0 when they match, 2 when
    /// they differ, 1 on an error
    Diff {
        /// Print the drift as JSON
        #[arg(long)]
        json: bool,
    },
}

/// `admit config` compares against a file, so one must be given.
pub fn require_file(path: Option<&Path>) -> anyhow::Result<()> {
    anyhow::ensure!(
        path.is_some(),
        "admit config needs the file: --config FILE (or ADMIT_CONFIG)"
    );
    Ok(())
}

pub async fn run(cmd: Command, store: &Store, file: &FileConfig) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Plan { json } => {
            let plan = declared::plan_file(store, file).await?;
            print(&plan, json, Tense::Plan)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Apply { json, hashing } => {
            let params = hashing.resolve(file)?;
            let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
            let plan = declared::apply(store, file, params, &format!("cli:{user}")).await?;
            print(&plan, json, Tense::Applied)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Diff { json } => {
            let plan = declared::plan_file(store, file).await?;
            print(&plan, json, Tense::Drift)?;
            Ok(match plan.is_empty() {
                true => ExitCode::SUCCESS,
                false => ExitCode::from(DRIFT),
            })
        }
    }
}

#[derive(Clone, Copy)]
enum Tense {
    Plan,
    Applied,
    Drift,
}

fn print(plan: &Plan, json: bool, tense: Tense) -> anyhow::Result<()> {
    match json {
        true => println!("{}", serde_json::to_string_pretty(plan)?),
        false => print!("{}", render(plan, tense)),
    }
    Ok(())
}

/// The human form: one line per change, `+` add, `~` change, `-` remove.
fn render(plan: &Plan, tense: Tense) -> String {
    let mut out = String::new();
    for c in &plan.changes {
        let kind = declared::kind_name(c.kind);
        let line = match (c.action, tense) {
            (Action::Add, Tense::Applied) => format!("+ {kind} {}: added", c.id),
            (Action::Add, Tense::Drift) => format!("+ {kind} {}: in the file only", c.id),
            (Action::Add, Tense::Plan) => format!("+ {kind} {}: to add", c.id),
            (Action::Remove, Tense::Applied) => {
                format!("- {kind} {}: removed, its tokens revoked", c.id)
            }
            (Action::Remove, Tense::Drift) => format!("- {kind} {}: in the database only", c.id),
            (Action::Remove, Tense::Plan) => {
                format!("- {kind} {}: to remove, its tokens revoked", c.id)
            }
            (Action::Change, tense) => {
                let fields: Vec<String> =
                    c.fields.iter().map(|f| format!("{f}: changed")).collect();
                let verb = match tense {
                    Tense::Applied => "updated",
                    Tense::Drift => "differs",
                    Tense::Plan => "to change",
                };
                format!("~ {kind} {}: {verb} ({})", c.id, fields.join(", "))
            }
        };
        out.push_str(&line);
        out.push('\n');
    }
    for k in &plan.kept {
        let kind = declared::kind_name(k.kind);
        out.push_str(&format!(
            "= {kind} {}: not in the file, kept ([manage] {kind}s = true would remove it)\n",
            k.id
        ));
    }
    let count = |a| plan.changes.iter().filter(|c| c.action == a).count();
    let (add, change, remove) = (
        count(Action::Add),
        count(Action::Change),
        count(Action::Remove),
    );
    out.push_str(&match (plan.is_empty(), tense) {
        (true, Tense::Applied) => "Nothing to change: the database already matches the file.\n".to_owned(),
        (true, _) => "No changes: the database matches the file.\n".to_owned(),
        (false, Tense::Applied) => {
            format!("Applied: {add} added, {change} changed, {remove} removed.\n")
        }
        (false, Tense::Drift) => {
            format!("Drift: {add} only in the file, {change} different, {remove} only in the database.\n")
        }
        (false, Tense::Plan) => format!(
            "Plan: {add} to add, {change} to change, {remove} to remove. Run `admit config apply`.\n"
        ),
    });
    out
}
