//! `/admin/clients`: OAuth clients, as `admit client` manages them. A generated
//! secret is returned once, in the creation response; admit keeps its SHA-256 only.
//! Changes are JSON merge patches (RFC 7396) checked by the same rules as a new
//! client, written only while the client is still the version read.

use admit_oauth::secret;
use admit_store::{Client, StoreError};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::auth::Admin;
use super::extract::{Json, Path, Query};
use super::page::{self, Page, PageQuery};
use super::problem::{AdminError, Problem};
use super::{etag, path_segment};
use crate::rules;
use crate::state::AppState;
use crate::{now, random_token, revocation};

/// A client as the admin API shows it: never its secret or the secret's hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub name: Option<String>,
    /// `public` (no secret) or `confidential`.
    #[serde(rename = "type")]
    #[schema(example = "confidential")]
    pub kind: &'static str,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
    pub skip_consent: bool,
    pub require_pkce: bool,
    pub id_token_alg: Option<String>,
    pub may_introspect: bool,
    pub access_token_ttl: Option<i64>,
    pub refresh_token_ttl: Option<i64>,
    pub refresh_idle_ttl: Option<i64>,
    pub code_ttl: Option<i64>,
    pub session_ttl: Option<i64>,
    /// Unix seconds.
    pub created_at: i64,
}

impl From<&Client> for ClientView {
    fn from(c: &Client) -> Self {
        ClientView {
            client_id: c.client_id.clone(),
            name: c.name.clone(),
            kind: if c.public { "public" } else { "confidential" },
            grant_types: c.grant_types.clone(),
            redirect_uris: c.redirect_uris.clone(),
            post_logout_redirect_uris: c.post_logout_redirect_uris.clone(),
            scopes: c.scopes.clone(),
            skip_consent: c.skip_consent,
            require_pkce: c.require_pkce,
            id_token_alg: c.id_token_alg.clone(),
            may_introspect: c.may_introspect,
            access_token_ttl: c.access_token_ttl,
            refresh_token_ttl: c.refresh_token_ttl,
            refresh_idle_ttl: c.refresh_idle_ttl,
            code_ttl: c.code_ttl,
            session_ttl: c.session_ttl,
            created_at: c.created_at,
        }
    }
}

/// Every stored field, the secret's hash included: a new secret is a new version.
fn tag(c: &Client) -> String {
    let secret_hash = c
        .secret_hash
        .as_deref()
        .map(|h| h.iter().map(|b| format!("{b:02x}")).collect::<String>());
    etag::of(&json!([ClientView::from(c), secret_hash]))
}

fn with_tag(status: StatusCode, client: &Client, body: impl Serialize) -> Response {
    etag::respond(status, &tag(client), body)
}

/// List clients, ordered by client_id.
#[utoipa::path(get, path = "/clients", operation_id = "list_clients",
    tag = "clients", params(PageQuery),
    responses((status = 200, description = "A page of clients", body = Page<ClientView>,
        headers(("Link" = String, description = "The next page, when there is one")))))]
pub async fn list(
    _: Admin,
    State(state): State<AppState>,
    uri: Uri,
    Query(q): Query<PageQuery>,
) -> Result<Response, AdminError> {
    let limit = page::limit(q.limit)?;
    let after = page::decode(q.cursor.as_deref())?;
    let rows = state
        .store
        .clients_after(after.as_deref(), limit + 1)
        .await?;
    let page = Page::from_rows(
        rows,
        limit,
        |c| c.client_id.clone(),
        |c| ClientView::from(&c),
    );
    Ok(page.respond(&uri))
}

/// A client to register. Omitted fields take the CLI's defaults.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    /// 1 to 128 printable ASCII characters, without ':'.
    #[schema(min_length = 1, max_length = 128)]
    pub client_id: String,
    /// A public client (no secret): a browser or native app that cannot keep one.
    #[serde(default)]
    pub public: bool,
    /// Default: `authorization_code` and `refresh_token`.
    #[schema(value_type = Option<Vec<GrantTypeName>>)]
    pub grant_types: Option<Vec<String>>,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// The scopes it may ask for.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// A first-party client: users are not asked for consent.
    #[serde(default)]
    pub skip_consent: bool,
    /// Default `true`; only a confidential client may turn PKCE off.
    pub require_pkce: Option<bool>,
    /// RS256 (default), ES256 or EdDSA.
    #[schema(value_type = Option<IdTokenAlg>)]
    pub id_token_alg: Option<String>,
    /// A resource server: may introspect any token and follow the revocation stream.
    #[serde(default)]
    pub may_introspect: bool,
    /// Seconds, at most 86400 [default: the server's].
    #[schema(minimum = 1, maximum = 86400)]
    pub access_token_ttl: Option<i64>,
    #[schema(minimum = 1)]
    pub refresh_token_ttl: Option<i64>,
    #[schema(minimum = 1)]
    pub refresh_idle_ttl: Option<i64>,
    /// Seconds, at most 600 [default: the server's].
    #[schema(minimum = 1, maximum = 600)]
    pub code_ttl: Option<i64>,
    #[schema(minimum = 1)]
    pub session_ttl: Option<i64>,
    pub name: Option<String>,
    /// A secret of your own (at least 32 of A-Z a-z 0-9 - . _ ~); by default one is
    /// generated and returned once.
    #[schema(write_only)]
    pub client_secret: Option<String>,
}

/// The grant types admit implements (documentation only: `rules` parses them).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum GrantTypeName {
    AuthorizationCode,
    RefreshToken,
    ClientCredentials,
    Password,
}

/// The algorithms of ID tokens (documentation only: `rules` checks them).
#[derive(ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms)]
pub enum IdTokenAlg {
    RS256,
    ES256,
    EdDSA,
}

/// The new client, and its generated secret: shown this once.
#[derive(Serialize, ToSchema)]
pub struct CreatedClient {
    pub client: ClientView,
    /// Present when admit generated the secret; admit keeps only a hash of it.
    pub client_secret: Option<String>,
}

/// Register a client.
#[utoipa::path(post, path = "/clients", operation_id = "create_client",
    tag = "clients", request_body = NewClient,
    responses(
        (status = 201, description = "Created", body = CreatedClient,
            headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "The client_id is taken", body = Problem,
            content_type = "application/problem+json")))]
pub async fn create(
    admin: Admin,
    State(state): State<AppState>,
    Json(new): Json<NewClient>,
) -> Result<Response, AdminError> {
    let generated = match (new.public, new.client_secret) {
        (true, Some(_)) => {
            return Err(AdminError::bad_request(
                "a public client has no client_secret",
            ));
        }
        (true, None) => None,
        (false, Some(chosen)) => {
            rules::client_secret(&chosen).map_err(AdminError::bad_request)?;
            Some((chosen, false))
        }
        (false, None) => Some((random_token::<32>(), true)),
    };
    let mut client = Client {
        client_id: new.client_id,
        secret_hash: generated.as_ref().map(|(s, _)| secret::hash(s)),
        public: new.public,
        name: new.name,
        grant_types: new
            .grant_types
            .unwrap_or_else(|| vec!["authorization_code".into(), "refresh_token".into()]),
        redirect_uris: new.redirect_uris,
        post_logout_redirect_uris: new.post_logout_redirect_uris,
        scopes: new.scopes,
        skip_consent: new.skip_consent,
        require_pkce: new.require_pkce.unwrap_or(true),
        id_token_alg: new.id_token_alg,
        access_token_ttl: new.access_token_ttl,
        refresh_token_ttl: new.refresh_token_ttl,
        refresh_idle_ttl: new.refresh_idle_ttl,
        may_introspect: new.may_introspect,
        code_ttl: new.code_ttl,
        session_ttl: new.session_ttl,
        created_at: now(),
    };
    rules::client(&mut client).map_err(AdminError::BadRequest)?;
    match state.store.insert_client(&client).await {
        Err(StoreError::Conflict) => {
            return Err(AdminError::Conflict(format!(
                "client {:?} already exists",
                client.client_id
            )));
        }
        other => other?,
    }
    // Tried a moment ago, the id may be cached as unknown: it works at once here.
    state.unknown_clients.forget(&client.client_id);
    state.audit.record(
        admin
            .event("client.add", &client.client_id)
            .detail(json!({})),
    );
    let body = CreatedClient {
        client: ClientView::from(&client),
        client_secret: generated.and_then(|(s, shown)| shown.then_some(s)),
    };
    let mut response = with_tag(StatusCode::CREATED, &client, body);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, "no-store".parse().expect("static"));
    if let Ok(location) = format!("/admin/clients/{}", path_segment(&client.client_id)).parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Show one client.
#[utoipa::path(get, path = "/clients/{client_id}", operation_id = "get_client", tag = "clients",
    params(("client_id" = String, Path)),
    responses(
        (status = 200, description = "The client", body = ClientView, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the If-None-Match tag"),
        (status = 404, description = "No such client", body = Problem,
            content_type = "application/problem+json")))]
pub async fn get(
    _: Admin,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AdminError> {
    let client = load(&state, &client_id).await?;
    Ok(etag::respond_to_get(
        &headers,
        &tag(&client),
        ClientView::from(&client),
    ))
}

/// A JSON merge patch (RFC 7396) of a client: fields left out stay as they are;
/// `null` clears a nullable field. The client_id, type and secret cannot change here.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientPatch {
    pub grant_types: Option<Vec<String>>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub skip_consent: Option<bool>,
    pub require_pkce: Option<bool>,
    pub may_introspect: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub id_token_alg: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub access_token_ttl: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub refresh_token_ttl: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub refresh_idle_ttl: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub code_ttl: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub session_ttl: Option<Option<i64>>,
}

/// A member that is present, `null` or not: `Some(None)` clears the field.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl ClientPatch {
    fn apply(self, mut c: Client) -> Client {
        fn set<T>(field: &mut T, value: Option<T>) {
            if let Some(v) = value {
                *field = v;
            }
        }
        set(&mut c.grant_types, self.grant_types);
        set(&mut c.redirect_uris, self.redirect_uris);
        set(
            &mut c.post_logout_redirect_uris,
            self.post_logout_redirect_uris,
        );
        set(&mut c.scopes, self.scopes);
        set(&mut c.skip_consent, self.skip_consent);
        set(&mut c.require_pkce, self.require_pkce);
        set(&mut c.may_introspect, self.may_introspect);
        set(&mut c.name, self.name);
        set(&mut c.id_token_alg, self.id_token_alg);
        set(&mut c.access_token_ttl, self.access_token_ttl);
        set(&mut c.refresh_token_ttl, self.refresh_token_ttl);
        set(&mut c.refresh_idle_ttl, self.refresh_idle_ttl);
        set(&mut c.code_ttl, self.code_ttl);
        set(&mut c.session_ttl, self.session_ttl);
        c
    }
}

/// Change a client. Tokens already issued keep what they were issued with; copies
/// of the client cached by other requests live a second more.
#[utoipa::path(patch, path = "/clients/{client_id}", operation_id = "update_client",
    tag = "clients",
    params(("client_id" = String, Path),
        ("If-Match" = Option<String>, Header, description = "Change only this version")),
    request_body(content = ClientPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed client", body = ClientView, headers(("ETag" = String))),
        (status = 404, description = "No such client", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The client changed", body = Problem,
            content_type = "application/problem+json")))]
pub async fn update(
    admin: Admin,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    Json(patch): Json<ClientPatch>,
) -> Result<Response, AdminError> {
    let seen = load(&state, &client_id).await?;
    let mut changed = patch.apply(seen.clone());
    rules::client(&mut changed).map_err(AdminError::BadRequest)?;
    etag::check_if_match(&headers, &tag(&seen))?;
    // Without If-Match the caller asked for no version; a change that lands between
    // our read and write still fails rather than being overwritten unseen.
    if !state.store.update_client_if(&seen, &changed).await? {
        return Err(AdminError::PreconditionFailed);
    }
    // Which fields changed, by name: values may be long, and the record needs none.
    let (before, after) = (
        json!(ClientView::from(&seen)),
        json!(ClientView::from(&changed)),
    );
    let fields: Vec<&String> = after
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, value)| before.get(name.as_str()) != Some(value))
        .map(|(name, _)| name)
        .collect();
    state.audit.record(
        admin
            .event("client.update", &client_id)
            .detail(json!({ "changed": fields })),
    );
    Ok(with_tag(
        StatusCode::OK,
        &changed,
        ClientView::from(&changed),
    ))
}

/// Remove a client; its refresh tokens stop working at once, its access tokens
/// wherever the revocation stream is followed.
#[utoipa::path(delete, path = "/clients/{client_id}", operation_id = "delete_client",
    tag = "clients",
    params(("client_id" = String, Path),
        ("If-Match" = Option<String>, Header, description = "Remove only this version")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such client", body = Problem,
            content_type = "application/problem+json"),
        (status = 409, description = "The caller's own client", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The client changed", body = Problem,
            content_type = "application/problem+json")))]
pub async fn delete(
    admin: Admin,
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, AdminError> {
    // A caller removing itself would lock itself out mid-task: another admin client
    // or the CLI can do it.
    if client_id == admin.client_id {
        return Err(AdminError::Conflict(
            "an admin client cannot remove itself".into(),
        ));
    }
    let seen = load(&state, &client_id).await?;
    etag::check_if_match(&headers, &tag(&seen))?;
    let now = now();
    if !state.store.delete_client_if(&seen, now).await? {
        return Err(AdminError::PreconditionFailed);
    }
    // The store ended its refresh tokens; the event ends its access tokens, and
    // whatever a cached copy of it issues in its last second.
    revocation::client(&state.store, &client_id, now).await?;
    state
        .audit
        .record(admin.event("client.remove", &client_id).detail(json!({})));
    Ok(StatusCode::NO_CONTENT)
}

async fn load(state: &AppState, client_id: &str) -> Result<Client, AdminError> {
    state
        .store
        .client(client_id)
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no client {client_id:?}")))
}
