//! Background upkeep each instance runs: the key lifecycle (scheduled rotation,
//! deleting keys no token can need, re-reading the key set) and purging expired rows.

use std::time::Duration;

use admit_store::Store;

use crate::keyring::{self, Keyring};
use crate::state::AppState;

/// Every few seconds: rotate on schedule, drop keys no token can need, and re-read the
/// key set, so rotations by the CLI or another instance reach this one.
pub async fn keep_keys(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(state.settings().key_reload_interval));
    loop {
        tick.tick().await;
        if let Err(e) = keys_upkeep(&state).await {
            tracing::warn!(error = %format!("{e:#}"), "key upkeep failed; keeping the current key set");
        }
    }
}

async fn keys_upkeep(state: &AppState) -> anyhow::Result<()> {
    let now = crate::now();
    if let Some(interval) = state.settings().key_rotation_interval {
        for record in state.store.list_keys().await? {
            let due = record.state == "current"
                && record.activated_at.unwrap_or(record.created_at) + interval <= now;
            if due && let Ok(alg) = record.alg.parse() {
                match keyring::rotate(&state.store, &state.master, alg, false, now).await {
                    Ok(_) | Err(keyring::RotateError::NextTooYoung { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    keyring::delete_expired(&state.store, now).await?;
    // Answers kept for the refresh grace window are useless after it: drop them soon.
    state
        .store
        .forget_successors(now - state.settings().refresh_grace)
        .await?;
    reload_keys(state).await
}

/// Re-reads the key set, and swaps in a new keyring when it changed.
pub async fn reload_keys(state: &AppState) -> anyhow::Result<()> {
    let stored = state.store.list_keys().await?;
    if state.keys().built_from(&stored) {
        return Ok(());
    }
    let settings = state.settings();
    let fresh = Keyring::from_records(
        &stored,
        &state.master,
        settings.access_token_alg,
        settings.hs256_secret.as_deref(),
    )?;
    state.set_keys(fresh);
    Ok(())
}

/// How often expired refresh tokens are deleted.
const PURGE_INTERVAL: Duration = Duration::from_secs(600);

/// Deletes expired rows now and then; a failure is logged and retried next time.
pub async fn purge_expired(store: Store, limits: crate::login::LoginLimits) {
    let mut tick = tokio::time::interval(PURGE_INTERVAL);
    loop {
        tick.tick().await;
        let now = crate::now();
        if let Err(e) = store.purge_login_failures(now - limits.window()).await {
            tracing::warn!(error = %e, "purging lapsed login failures failed");
        }
        match store.purge_expired(now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(rows = n, "purged expired refresh tokens"),
            Err(e) => tracing::warn!(error = %e, "purging expired rows failed"),
        }
    }
}
