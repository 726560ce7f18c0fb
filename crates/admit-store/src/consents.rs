//! Consents: the `consents` table, one row per (user, client) holding the
//! scopes the user agreed to give that client, so the consent page is shown
//! only when a client asks for more. Deleting the user or the client deletes
//! the row (see users.rs and clients.rs).

use crate::{Store, StoreError};

/// The scopes a user has granted a client.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Consent {
    pub user_id: String,
    pub client_id: String,
    /// Space-separated scope values, as in RFC 6749 §3.3.
    pub scope: String,
    /// When the user first consented to this client.
    pub granted_at: i64,
    /// When the scope last changed.
    pub updated_at: i64,
}

const COLUMNS: &str = "user_id, client_id, scope, granted_at, updated_at";

impl Store {
    pub async fn consent(
        &self,
        user_id: &str,
        client_id: &str,
    ) -> Result<Option<Consent>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM consents WHERE user_id = $1 AND client_id = $2");
        Ok(on_pool!(self, p => sqlx::query_as(&sql)
            .bind(user_id)
            .bind(client_id)
            .fetch_optional(p)
            .await)?)
    }

    /// Records a consent, or replaces the scope and `updated_at` of an
    /// existing one; its original `granted_at` is kept. One statement, so two
    /// concurrent consents for the same pair cannot conflict.
    pub async fn upsert_consent(&self, consent: &Consent) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO consents ({COLUMNS}) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (user_id, client_id) \
             DO UPDATE SET scope = excluded.scope, updated_at = excluded.updated_at"
        );
        on_pool!(self, p => sqlx::query(&sql)
            .bind(&consent.user_id)
            .bind(&consent.client_id)
            .bind(&consent.scope)
            .bind(consent.granted_at)
            .bind(consent.updated_at)
            .execute(p)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Forgets a consent. Returns whether there was one.
    pub async fn revoke_consent(&self, user_id: &str, client_id: &str) -> Result<bool, StoreError> {
        let deleted = on_pool!(self, p => sqlx::query(
            "DELETE FROM consents WHERE user_id = $1 AND client_id = $2",
        )
        .bind(user_id)
        .bind(client_id)
        .execute(p)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(deleted == 1)
    }

    /// A user's consents, ordered by client_id.
    pub async fn list_consents(&self, user_id: &str) -> Result<Vec<Consent>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM consents WHERE user_id = $1 ORDER BY client_id");
        Ok(on_pool!(self, p => sqlx::query_as(&sql).bind(user_id).fetch_all(p).await)?)
    }
}
