//! Entity tags for single resources (RFC 9110 §8.8.3): a digest of every stored
//! field, secrets' hashes included, so any change (from this API, the CLI or a
//! config apply) changes the tag. Writes check `If-Match` (§13.1.1), and the store
//! then writes only while the row still equals what was read (`*_if` methods), so
//! the check and the write are one step.

use aws_lc_rs::digest;
use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::problem::AdminError;

/// A strong entity tag over `fields` (a JSON value gives every field a boundary).
pub fn of(fields: &serde_json::Value) -> String {
    let sum = digest::digest(&digest::SHA256, fields.to_string().as_bytes());
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(&sum.as_ref()[..18]))
}

/// Refuses with 412 when `If-Match` is present and names neither `*` nor `current`
/// (strong comparison: a weak tag never matches).
pub fn check_if_match(headers: &HeaderMap, current: &str) -> Result<(), AdminError> {
    let mut present = false;
    for value in headers.get_all(header::IF_MATCH) {
        present = true;
        let Ok(text) = value.to_str() else { continue };
        if text
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag == current)
        {
            return Ok(());
        }
    }
    if present {
        Err(AdminError::PreconditionFailed)
    } else {
        Ok(())
    }
}

/// Whether `If-None-Match` names `current` (weak comparison, §13.1.2): a GET then
/// answers 304.
fn not_modified(headers: &HeaderMap, current: &str) -> bool {
    let bare = current.trim_start_matches("W/");
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == bare)
}

/// `body` as JSON with `status` and the `ETag` of `tag`.
pub fn respond(
    status: axum::http::StatusCode,
    tag: &str,
    body: impl serde::Serialize,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let mut response = (status, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert(axum::http::header::ETAG, header_value(tag));
    response
}

/// A GET's answer: 304 with the tag when `If-None-Match` names it, else `body` with it.
pub fn respond_to_get(
    headers: &HeaderMap,
    tag: &str,
    body: impl serde::Serialize,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if not_modified(headers, tag) {
        let etag = [(header::ETAG, header_value(tag))];
        return (axum::http::StatusCode::NOT_MODIFIED, etag).into_response();
    }
    respond(axum::http::StatusCode::OK, tag, body)
}

pub fn header_value(tag: &str) -> HeaderValue {
    HeaderValue::from_str(tag).expect("a tag is base64url in quotes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: header::HeaderName, v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn if_match_compares_strongly() {
        let tag = of(&serde_json::json!(["a", 1]));
        assert_ne!(tag, of(&serde_json::json!(["a", 2])));
        assert!(check_if_match(&HeaderMap::new(), &tag).is_ok());
        assert!(check_if_match(&with(header::IF_MATCH, "*"), &tag).is_ok());
        assert!(check_if_match(&with(header::IF_MATCH, "\"other\""), &tag).is_err());
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_MATCH,
            HeaderValue::from_str(&format!("\"x\", {tag}")).unwrap(),
        );
        assert!(check_if_match(&h, &tag).is_ok());
        h.insert(
            header::IF_MATCH,
            HeaderValue::from_str(&format!("W/{tag}")).unwrap(),
        );
        assert!(check_if_match(&h, &tag).is_err());
    }

    #[test]
    fn if_none_match_compares_weakly() {
        let tag = of(&serde_json::json!(1));
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&format!("W/{tag}")).unwrap(),
        );
        assert!(not_modified(&h, &tag));
        assert!(!not_modified(&HeaderMap::new(), &tag));
    }
}
