//! OAuth clients: the `clients` table. Lists are stored as text: grant types
//! and scopes space-separated (neither may contain a space, per RFC 6749),
//! redirect URIs as a JSON array so no URI is ever split or joined wrongly.
//! Deleting a client revokes its refresh families and deletes the consents
//! given to it, in the same transaction.

use crate::refresh::REVOKE_FAMILIES_OF_CLIENT;
use crate::{Store, StoreError};

/// A registered client.
#[derive(Clone, PartialEq, Eq)]
pub struct Client {
    pub client_id: String,
    /// SHA-256 of the client secret; `None` for public clients.
    pub secret_hash: Option<Vec<u8>>,
    pub public: bool,
    pub name: Option<String>,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub skip_consent: bool,
    pub require_pkce: bool,
    /// The JWS algorithm the client asked its ID tokens to be signed with
    /// (`id_token_signed_response_alg`); `None` means the server's default.
    pub id_token_alg: Option<String>,
    /// Lifetime of its access tokens in seconds; `None` means the server's default.
    pub access_token_ttl: Option<i64>,
    /// Absolute lifetime of a refresh family from its creation, in seconds;
    /// `None` means the server's default.
    pub refresh_token_ttl: Option<i64>,
    /// Seconds a refresh token may go unused before it expires; `None` means
    /// the server's default.
    pub refresh_idle_ttl: Option<i64>,
    /// Lifetime of this client's authorization codes, in seconds.
    pub code_ttl: Option<i64>,
    /// Oldest SSO session (seconds since its login) this client accepts without a
    /// new login.
    pub session_ttl: Option<i64>,
    /// A resource server allowed to introspect any token and follow the
    /// revocation feed.
    pub may_introspect: bool,
    pub created_at: i64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("client_id", &self.client_id)
            .field(
                "secret_hash",
                &self.secret_hash.as_ref().map(|_| "<redacted>"),
            )
            .field("public", &self.public)
            .field("name", &self.name)
            .field("grant_types", &self.grant_types)
            .field("redirect_uris", &self.redirect_uris)
            .field("post_logout_redirect_uris", &self.post_logout_redirect_uris)
            .field("scopes", &self.scopes)
            .field("skip_consent", &self.skip_consent)
            .field("require_pkce", &self.require_pkce)
            .field("id_token_alg", &self.id_token_alg)
            .field("access_token_ttl", &self.access_token_ttl)
            .field("refresh_token_ttl", &self.refresh_token_ttl)
            .field("refresh_idle_ttl", &self.refresh_idle_ttl)
            .field("code_ttl", &self.code_ttl)
            .field("session_ttl", &self.session_ttl)
            .field("may_introspect", &self.may_introspect)
            .field("created_at", &self.created_at)
            .finish()
    }
}

/// A `clients` row as stored, lists still encoded.
#[derive(sqlx::FromRow)]
struct ClientRow {
    client_id: String,
    secret_hash: Option<Vec<u8>>,
    public: bool,
    name: Option<String>,
    grant_types: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    scopes: String,
    skip_consent: bool,
    require_pkce: bool,
    id_token_alg: Option<String>,
    access_token_ttl: Option<i64>,
    refresh_token_ttl: Option<i64>,
    refresh_idle_ttl: Option<i64>,
    code_ttl: Option<i64>,
    session_ttl: Option<i64>,
    may_introspect: bool,
    created_at: i64,
}

impl TryFrom<ClientRow> for Client {
    type Error = StoreError;

    fn try_from(row: ClientRow) -> Result<Self, StoreError> {
        Ok(Client {
            client_id: row.client_id,
            secret_hash: row.secret_hash,
            public: row.public,
            name: row.name,
            grant_types: split_words(&row.grant_types),
            redirect_uris: from_json(&row.redirect_uris)?,
            post_logout_redirect_uris: from_json(&row.post_logout_redirect_uris)?,
            scopes: split_words(&row.scopes),
            skip_consent: row.skip_consent,
            require_pkce: row.require_pkce,
            id_token_alg: row.id_token_alg,
            access_token_ttl: row.access_token_ttl,
            refresh_token_ttl: row.refresh_token_ttl,
            refresh_idle_ttl: row.refresh_idle_ttl,
            code_ttl: row.code_ttl,
            session_ttl: row.session_ttl,
            may_introspect: row.may_introspect,
            created_at: row.created_at,
        })
    }
}

fn split_words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

pub(crate) fn to_json(v: &[String]) -> String {
    serde_json::to_string(v).expect("a list of strings always serializes")
}

/// A malformed list means the row was written by something other than this
/// store: report it as a decode error rather than guessing.
fn from_json(s: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
}

const COLUMNS: &str = "client_id, secret_hash, public, name, grant_types, redirect_uris, \
     post_logout_redirect_uris, scopes, skip_consent, require_pkce, id_token_alg, \
     access_token_ttl, refresh_token_ttl, refresh_idle_ttl, may_introspect, created_at, code_ttl, session_ttl";

impl Store {
    /// Inserts a client; [`StoreError::Conflict`] if the client_id is taken.
    pub async fn insert_client(&self, client: &Client) -> Result<(), StoreError> {
        let grant_types = client.grant_types.join(" ");
        let redirect_uris = to_json(&client.redirect_uris);
        let post_logout = to_json(&client.post_logout_redirect_uris);
        let scopes = client.scopes.join(" ");
        let sql = format!(
            "INSERT INTO clients ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)"
        );
        on_pool!(self, p => sqlx::query(&sql)
            .bind(&client.client_id)
            .bind(&client.secret_hash)
            .bind(client.public)
            .bind(&client.name)
            .bind(&grant_types)
            .bind(&redirect_uris)
            .bind(&post_logout)
            .bind(&scopes)
            .bind(client.skip_consent)
            .bind(client.require_pkce)
            .bind(&client.id_token_alg)
            .bind(client.access_token_ttl)
            .bind(client.refresh_token_ttl)
            .bind(client.refresh_idle_ttl)
            .bind(client.may_introspect)
            .bind(client.created_at)
            .bind(client.code_ttl)
            .bind(client.session_ttl)
            .execute(p)
            .await
            .map(drop))?;
        Ok(())
    }

    pub async fn client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM clients WHERE client_id = $1");
        let row: Option<ClientRow> =
            on_pool!(self, p => sqlx::query_as(&sql).bind(client_id).fetch_optional(p).await)?;
        row.map(Client::try_from).transpose()
    }

    /// All clients, ordered by client_id.
    pub async fn list_clients(&self) -> Result<Vec<Client>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM clients ORDER BY client_id");
        let rows: Vec<ClientRow> = on_pool!(self, p => sqlx::query_as(&sql).fetch_all(p).await)?;
        rows.into_iter().map(Client::try_from).collect()
    }

    /// Deletes a client, revokes (at `now`) every refresh family issued to
    /// it and deletes the consents given to it. Returns whether the client
    /// existed.
    pub async fn delete_client(&self, client_id: &str, now: i64) -> Result<bool, StoreError> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let deleted = sqlx::query("DELETE FROM clients WHERE client_id = $1")
                .bind(client_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(REVOKE_FAMILIES_OF_CLIENT)
                .bind(client_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM consents WHERE client_id = $1")
                .bind(client_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(deleted == 1)
        })
    }
}

/// Paging and conditional writes for the admin API: a write happens only while the
/// row still holds exactly what the caller read (the admin API's ETag is a digest of
/// it), checked by the write statement itself, so two concurrent edits cannot both
/// pass.
impl Store {
    /// Up to `limit` clients whose client_id sorts after `after`, ordered by client_id.
    pub async fn clients_after(
        &self,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Client>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM clients WHERE ($1 IS NULL OR client_id > $1) \
             ORDER BY client_id LIMIT $2"
        );
        let rows: Vec<ClientRow> = on_pool!(self, p => sqlx::query_as(&sql)
            .bind(after)
            .bind(limit.max(0))
            .fetch_all(p)
            .await)?;
        rows.into_iter().map(Client::try_from).collect()
    }

    /// Replaces the client `seen` (same client_id) by `new`, only while its row
    /// equals `seen`. Returns whether it changed anything.
    pub async fn update_client_if(&self, seen: &Client, new: &Client) -> Result<bool, StoreError> {
        if seen.client_id != new.client_id {
            return Ok(false);
        }
        let columns: Vec<&str> = COLUMNS.split(',').map(str::trim).collect();
        let n = columns.len();
        let set: Vec<String> = (0..n)
            .map(|i| format!("{} = ${}", columns[i], n + i + 1))
            .collect();
        let sql = format!(
            "UPDATE clients SET {} WHERE client_id = $1 AND {CLIENT_UNCHANGED}",
            set.join(", ")
        );
        let (old, next) = (Encoded::of(seen), Encoded::of(new));
        let updated = on_pool!(self, p => {
            let query = bind_client(sqlx::query(&sql), seen, &old);
            bind_client(query, new, &next)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(updated == 1)
    }

    /// [`Store::delete_client`], only while the client's row equals `seen`.
    /// Returns whether it deleted the client.
    pub async fn delete_client_if(&self, seen: &Client, now: i64) -> Result<bool, StoreError> {
        let sql = format!("DELETE FROM clients WHERE client_id = $1 AND {CLIENT_UNCHANGED}");
        let old = Encoded::of(seen);
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            if bind_client(sqlx::query(&sql), seen, &old)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                != 1
            {
                return Ok(false);
            }
            sqlx::query(REVOKE_FAMILIES_OF_CLIENT)
                .bind(&seen.client_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM consents WHERE client_id = $1")
                .bind(&seen.client_id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(true)
        })
    }
}

/// Every column, in [`COLUMNS`] order as `$1`..`$18`, still holds what was read.
/// `IS NOT DISTINCT FROM` compares NULLs as equal on both backends.
const CLIENT_UNCHANGED: &str = "client_id IS NOT DISTINCT FROM $1 \
     AND secret_hash IS NOT DISTINCT FROM $2 AND public = $3 \
     AND name IS NOT DISTINCT FROM $4 AND grant_types = $5 AND redirect_uris = $6 \
     AND post_logout_redirect_uris = $7 AND scopes = $8 AND skip_consent = $9 \
     AND require_pkce = $10 AND id_token_alg IS NOT DISTINCT FROM $11 \
     AND access_token_ttl IS NOT DISTINCT FROM $12 \
     AND refresh_token_ttl IS NOT DISTINCT FROM $13 \
     AND refresh_idle_ttl IS NOT DISTINCT FROM $14 AND may_introspect = $15 \
     AND created_at = $16 AND code_ttl IS NOT DISTINCT FROM $17 \
     AND session_ttl IS NOT DISTINCT FROM $18";

/// A client's lists as stored.
struct Encoded {
    grant_types: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    scopes: String,
}

impl Encoded {
    fn of(c: &Client) -> Encoded {
        Encoded {
            grant_types: c.grant_types.join(" "),
            redirect_uris: to_json(&c.redirect_uris),
            post_logout_redirect_uris: to_json(&c.post_logout_redirect_uris),
            scopes: c.scopes.join(" "),
        }
    }
}

/// Binds every column of `c`, in [`COLUMNS`] order.
fn bind_client<'q, DB: sqlx::Database>(
    query: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    c: &'q Client,
    e: &'q Encoded,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<String>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<Vec<u8>>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    bool: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    query
        .bind(&c.client_id)
        .bind(&c.secret_hash)
        .bind(c.public)
        .bind(&c.name)
        .bind(&e.grant_types)
        .bind(&e.redirect_uris)
        .bind(&e.post_logout_redirect_uris)
        .bind(&e.scopes)
        .bind(c.skip_consent)
        .bind(c.require_pkce)
        .bind(&c.id_token_alg)
        .bind(c.access_token_ttl)
        .bind(c.refresh_token_ttl)
        .bind(c.refresh_idle_ttl)
        .bind(c.may_introspect)
        .bind(c.created_at)
        .bind(c.code_ttl)
        .bind(c.session_ttl)
}
