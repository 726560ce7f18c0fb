//! Rebuilds the crate when a migration file changes: `sqlx::migrate!` embeds
//! the folders at compile time but stable Rust cannot track them itself.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
