//! Configuration as code: clients and users declared in the TOML file, and the
//! plan that brings the database in line with them (`admit config plan|apply|diff`,
//! and the server's reload). Three steps, only the outer two doing I/O:
//! `resolve` checks the file and reads its secret references, `plan` (pure)
//! compares with the live state, `apply` writes the plan in one transaction.

mod apply;
mod file;
mod plan;
mod resolve;

pub use apply::{apply, kind_name, plan_file};
pub use file::{ClientDecl, Manage, UserDecl};
pub use plan::{Action, Plan};
pub use resolve::refuse_literals;

#[cfg(test)]
mod tests;
