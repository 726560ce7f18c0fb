//! `/admin/users`: resource owners, as `admit user` manages them. Passwords go in
//! bodies only, are hashed with the server's Argon2id parameters, and never come
//! back out; changing one or removing the user revokes their sessions and tokens.

use admit_store::{StoreError, User};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::auth::Admin;
use super::extract::{Json, Path, Query};
use super::page::{self, Page, PageQuery};
use super::problem::{AdminError, Problem};
use super::{etag, path_segment};
use crate::rules;
use crate::state::AppState;
use crate::{now, password, random_token, revocation};

/// A user as the admin API shows it: never the password hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    /// The user's stable id, the `sub` of their tokens.
    pub id: String,
    /// The canonical (NFKC, lowercase) username.
    pub username: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub name: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id.clone(),
            username: u.username.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            name: u.name.clone(),
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// Every stored field, the password hash included: a new password is a new version.
fn tag(u: &User) -> String {
    etag::of(&json!([
        u.id,
        u.username,
        u.password_hash,
        u.email,
        u.email_verified,
        u.name,
        u.created_at,
        u.updated_at
    ]))
}

fn with_tag(status: StatusCode, user: &User) -> Response {
    etag::respond(status, &tag(user), UserView::from(user))
}

/// List users, ordered by username.
#[utoipa::path(get, path = "/users", operation_id = "list_users", tag = "users", params(PageQuery),
    responses((status = 200, description = "A page of users", body = Page<UserView>,
        headers(("Link" = String, description = "The next page, when there is one")))))]
pub async fn list(
    _: Admin,
    State(state): State<AppState>,
    uri: Uri,
    Query(q): Query<PageQuery>,
) -> Result<Response, AdminError> {
    let limit = page::limit(q.limit)?;
    let after = page::decode(q.cursor.as_deref())?;
    let rows = state.store.users_after(after.as_deref(), limit + 1).await?;
    Ok(Page::from_rows(rows, limit, |u| u.username.clone(), |u| UserView::from(&u)).respond(&uri))
}

/// A new user.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Stored in canonical form (NFKC, lowercase); 1 to 64 characters, without
    /// spaces, control characters or ':'.
    #[schema(min_length = 1, max_length = 64)]
    pub username: String,
    /// 8 to 1024 characters (NIST SP 800-63B §5.1.1.2).
    #[schema(min_length = 8, max_length = 1024, write_only)]
    pub password: String,
    #[schema(max_length = 254)]
    pub email: Option<String>,
    pub name: Option<String>,
}

/// Create a user.
#[utoipa::path(post, path = "/users", operation_id = "create_user",
    tag = "users", request_body = NewUser,
    responses(
        (status = 201, description = "Created", body = UserView,
            headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "The username is taken", body = Problem,
            content_type = "application/problem+json")))]
pub async fn create(
    admin: Admin,
    State(state): State<AppState>,
    Json(new): Json<NewUser>,
) -> Result<Response, AdminError> {
    let username = admit_oauth::username::canonical(&new.username);
    admit_oauth::username::check(&username).map_err(AdminError::bad_request)?;
    if let Some(email) = &new.email {
        rules::email(email).map_err(AdminError::bad_request)?;
    }
    rules::password(&new.password).map_err(AdminError::bad_request)?;
    let now = now();
    let user = User {
        id: random_token::<16>(),
        username: username.clone(),
        password_hash: hash(&state, new.password).await?,
        email: new.email,
        email_verified: false,
        name: new.name,
        created_at: now,
        updated_at: now,
    };
    match state.store.insert_user(&user).await {
        Err(StoreError::Conflict) => {
            return Err(AdminError::Conflict(format!(
                "user {username:?} already exists"
            )));
        }
        other => other?,
    }
    state.audit.record(
        admin
            .event("user.add", &user.id)
            .detail(json!({ "username": username })),
    );
    let mut response = with_tag(StatusCode::CREATED, &user);
    if let Ok(location) = format!("/admin/users/{}", path_segment(&username)).parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Show one user.
#[utoipa::path(get, path = "/users/{username}", operation_id = "get_user", tag = "users",
    params(("username" = String, Path, description = "The username, in any spelling that canonicalises to it")),
    responses(
        (status = 200, description = "The user", body = UserView, headers(("ETag" = String))),
        (status = 304, description = "Not modified since the If-None-Match tag"),
        (status = 404, description = "No such user", body = Problem,
            content_type = "application/problem+json")))]
pub async fn get(
    _: Admin,
    State(state): State<AppState>,
    Path(username): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AdminError> {
    let user = load(&state, &username).await?;
    Ok(etag::respond_to_get(
        &headers,
        &tag(&user),
        UserView::from(&user),
    ))
}

/// Remove a user; their sessions, refresh tokens and consents end at once.
#[utoipa::path(delete, path = "/users/{username}", operation_id = "delete_user", tag = "users",
    params(("username" = String, Path),
        ("If-Match" = Option<String>, Header, description = "Remove only this version")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such user", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The user changed", body = Problem,
            content_type = "application/problem+json")))]
pub async fn delete(
    admin: Admin,
    State(state): State<AppState>,
    Path(username): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, AdminError> {
    let user = load(&state, &username).await?;
    etag::check_if_match(&headers, &tag(&user))?;
    let now = now();
    if !state.store.delete_user_if(&user, now).await? {
        return Err(AdminError::PreconditionFailed);
    }
    // The store ended the user's sessions and refresh tokens; the event ends their
    // access tokens at resource servers that follow the revocation stream.
    revocation::user(&state.store, &user.id, now).await?;
    state.audit.record(
        admin
            .event("user.remove", &user.id)
            .detail(json!({ "username": user.username })),
    );
    Ok(StatusCode::NO_CONTENT)
}

/// A new password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPassword {
    /// 8 to 1024 characters.
    #[schema(min_length = 8, max_length = 1024, write_only)]
    pub password: String,
}

/// Change a user's password; their sessions and tokens are revoked.
#[utoipa::path(put, path = "/users/{username}/password", operation_id = "set_user_password",
    tag = "users",
    params(("username" = String, Path),
        ("If-Match" = Option<String>, Header, description = "Change only this version of the user")),
    request_body = NewPassword,
    responses(
        (status = 204, description = "Changed", headers(("ETag" = String, description = "The user's new version"))),
        (status = 404, description = "No such user", body = Problem,
            content_type = "application/problem+json"),
        (status = 412, description = "The user changed", body = Problem,
            content_type = "application/problem+json")))]
pub async fn set_password(
    admin: Admin,
    State(state): State<AppState>,
    Path(username): Path<String>,
    headers: HeaderMap,
    Json(body): Json<NewPassword>,
) -> Result<Response, AdminError> {
    rules::password(&body.password).map_err(AdminError::bad_request)?;
    let user = load(&state, &username).await?;
    etag::check_if_match(&headers, &tag(&user))?;
    let hash = hash(&state, body.password).await?;
    let now = now();
    if !state.store.set_password_if(&user, &hash, now).await? {
        return Err(AdminError::PreconditionFailed);
    }
    revocation::user(&state.store, &user.id, now).await?;
    state.audit.record(
        admin
            .event("user.passwd", &user.id)
            .detail(json!({ "username": user.username })),
    );
    let changed = User {
        password_hash: hash,
        updated_at: now,
        ..user
    };
    let tag = [(header::ETAG, etag::header_value(&tag(&changed)))];
    Ok((StatusCode::NO_CONTENT, tag).into_response())
}

/// Whether failed logins were forgotten.
#[derive(Serialize, ToSchema)]
pub struct Unlocked {
    pub cleared: bool,
}

/// Lift the login lock and back-off of a username (known or not).
#[utoipa::path(post, path = "/users/{username}/unlock", operation_id = "unlock_user", tag = "users",
    params(("username" = String, Path)),
    responses((status = 200, description = "Unlocked", body = Unlocked)))]
pub async fn unlock(
    admin: Admin,
    State(state): State<AppState>,
    Path(username): Path<String>,
) -> Result<axum::Json<Unlocked>, AdminError> {
    // The key login.rs counts failures under.
    let key = format!("user:{}", admit_oauth::username::canonical(&username));
    let cleared = state.store.clear_login_failures(&key).await?;
    state.audit.record(
        admin
            .event("login.unlock", &key)
            .detail(json!({ "cleared": cleared })),
    );
    Ok(axum::Json(Unlocked { cleared }))
}

/// Lift the login lock and back-off of a client address (IPv4 or IPv6).
#[utoipa::path(post, path = "/addresses/{address}/unlock", operation_id = "unlock_address",
    tag = "users",
    params(("address" = String, Path, description = "An IPv4 or IPv6 address")),
    responses((status = 200, description = "Unlocked", body = Unlocked)))]
pub async fn unlock_address(
    admin: Admin,
    State(state): State<AppState>,
    Path(address): Path<String>,
) -> Result<axum::Json<Unlocked>, AdminError> {
    let address: std::net::IpAddr = address
        .parse()
        .map_err(|_| AdminError::bad_request("not an IPv4 or IPv6 address"))?;
    // The key login.rs counts failures under.
    let key = format!("addr:{address}");
    let cleared = state.store.clear_login_failures(&key).await?;
    state.audit.record(
        admin
            .event("login.unlock", &key)
            .detail(json!({ "cleared": cleared })),
    );
    Ok(axum::Json(Unlocked { cleared }))
}

/// The user a path names, in any spelling of the username.
pub async fn load(state: &AppState, username: &str) -> Result<User, AdminError> {
    let canonical = admit_oauth::username::canonical(username);
    state
        .store
        .user_by_username(&canonical)
        .await?
        .ok_or_else(|| AdminError::not_found(format!("no user {canonical:?}")))
}

/// Argon2id off the async threads: it takes tens of milliseconds of CPU.
async fn hash(state: &AppState, password: String) -> Result<String, AdminError> {
    let params = state.settings().password_hash;
    tokio::task::spawn_blocking(move || password::hash_with(&password, params))
        .await
        .map_err(|e| AdminError::Internal(e.into()))
}
