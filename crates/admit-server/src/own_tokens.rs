//! Reading back the access tokens admit itself issued (UserInfo, introspection,
//! revocation): the signature and claims, then the revocation events.

use admit_jose::{AccessTokenClaims, Algorithm, Validation};

use crate::error::ApiError;
use crate::state::AppState;

/// The claims of a live access token, or `None` when it is invalid, expired or revoked.
pub async fn live_access_token(
    state: &AppState,
    token: &str,
    now: i64,
) -> Result<Option<AccessTokenClaims>, ApiError> {
    let Some(claims) = valid_access_token(state, token, now) else {
        return Ok(None);
    };
    let text = |name: &str| claims.extra.get(name).and_then(|v| v.as_str());
    let revoked = state
        .store
        .is_revoked(
            &claims.jti,
            text("sid"),
            text("gid"),
            &claims.client_id,
            &claims.sub,
            claims.iat,
            now,
        )
        .await?;
    Ok((!revoked).then_some(claims))
}

/// Signature, issuer, audience, type and time, without asking the database.
fn valid_access_token(state: &AppState, token: &str, now: i64) -> Option<AccessTokenClaims> {
    let mut validation =
        Validation::access_token(&state.settings().issuer, &state.settings().audience);
    // admit reads its own clock for its own tokens: no skew to allow for (RFC 7662 §2.2).
    validation.leeway = 0;
    // Only admit's own keys are in this set: an HS256 key is there only when configured.
    validation.algorithms.push(Algorithm::HS256);
    let claims = state
        .keys()
        .verifying_keys()
        .verify(token, &validation, now)
        .ok()?;
    serde_json::from_value(serde_json::Value::Object(claims)).ok()
}
