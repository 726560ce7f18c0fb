//! Named locks, for the few operations that must read, decide and write with
//! no other instance doing the same in between: key rotation (two rotations
//! must not each promote a key) and appending to the revocation feed (seq
//! order must be commit order). Plain conditional UPDATEs cannot guard these:
//! on PostgreSQL a statement sees only rows committed before it began, so a
//! rotation racing another would not see the key the other just promoted.

/// Takes the lock named `$1` until the enclosing transaction ends: it writes
/// the `store_locks` row of that name, so PostgreSQL makes every other writer
/// of the row wait on its row lock, and SQLite takes its single writer lock at
/// once. Run it as the transaction's first statement, so that on PostgreSQL
/// every later statement sees what the previous holder committed.
pub(crate) const TAKE_LOCK: &str = "INSERT INTO store_locks (name) VALUES ($1) \
     ON CONFLICT (name) DO UPDATE SET name = excluded.name";
