//! Reading requests: form bodies and single-valued headers.

use admit_oauth::OAuthError;
use admit_oauth::form::Params;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};

use crate::error::ApiError;

/// Form requests are small; anything bigger is refused before parsing.
const MAX_BODY: usize = 16 * 1024;

/// Reads an `application/x-www-form-urlencoded` body (RFC 6749 §3.2) within the size cap.
pub async fn read_form(headers: &HeaderMap, body: Body) -> Result<Params, ApiError> {
    let content_type = single_header(headers, header::CONTENT_TYPE)?.unwrap_or_default();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if !media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        )
        .into());
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::TooLarge(StatusCode::PAYLOAD_TOO_LARGE))?;
    Ok(Params::parse(&bytes)?)
}

/// A header that may appear at most once, as text.
pub fn single_header(
    headers: &HeaderMap,
    name: header::HeaderName,
) -> Result<Option<&str>, ApiError> {
    let mut values = headers.get_all(&name).iter();
    match (values.next(), values.next()) {
        (None, _) => Ok(None),
        (Some(v), None) => v.to_str().map(Some).map_err(|_| {
            OAuthError::invalid_request(format!("the {name} header is not valid text")).into()
        }),
        (Some(_), Some(_)) => {
            Err(OAuthError::invalid_request(format!("the {name} header is repeated")).into())
        }
    }
}
