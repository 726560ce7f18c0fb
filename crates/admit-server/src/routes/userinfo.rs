//! `GET|POST /oauth2/userinfo` (OpenID Connect Core §5.3): the claims the access
//! token's scopes allow, for the user it was issued for.

use admit_oauth::scope::Scope;
use admit_oauth::userinfo::{UserProfile, claims};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::form::single_header;
use crate::error::ApiError;
use crate::now;
use crate::state::AppState;

pub async fn userinfo(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let unauthorized = |e, d| ApiError::Bearer(StatusCode::UNAUTHORIZED, e, d);
    // RFC 6750 §2.1: the token comes in the Authorization header.
    let token = match single_header(&headers, header::AUTHORIZATION)? {
        None => return Err(unauthorized(None, "an access token is required")),
        Some(value) => match value.split_once(' ') {
            Some((scheme, token))
                if scheme.eq_ignore_ascii_case("bearer")
                    && !token.is_empty()
                    && !token.contains(' ') =>
            {
                token
            }
            // Another scheme carries no Bearer token at all (RFC 6750 §3.1).
            Some((scheme, _)) if !scheme.eq_ignore_ascii_case("bearer") => {
                return Err(unauthorized(None, "an access token is required"));
            }
            _ => {
                return Err(ApiError::Bearer(
                    StatusCode::BAD_REQUEST,
                    Some("invalid_request"),
                    "use Authorization: Bearer <token>",
                ));
            }
        },
    };
    let claims_in = crate::own_tokens::live_access_token(&state, token, now())
        .await?
        .ok_or_else(|| {
            unauthorized(
                Some("invalid_token"),
                "the access token is invalid, expired or revoked",
            )
        })?;
    let scope = Scope::from_tokens(claims_in.scopes());
    if !scope.contains("openid") {
        return Err(ApiError::Bearer(
            StatusCode::FORBIDDEN,
            Some("insufficient_scope"),
            "the openid scope is required",
        ));
    }
    let Some(user) = state.store.user_by_id(&claims_in.sub).await? else {
        return Err(unauthorized(
            Some("invalid_token"),
            "the user no longer exists",
        ));
    };
    let profile = UserProfile {
        sub: &user.id,
        username: &user.username,
        name: user.name.as_deref(),
        email: user.email.as_deref(),
        email_verified: user.email_verified,
        updated_at: user.updated_at,
    };
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        Json(claims(&profile, &scope)),
    )
        .into_response())
}
