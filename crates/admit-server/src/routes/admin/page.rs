//! Pagination: `?limit=&cursor=`. A page holds at most `limit` items and, when more
//! follow, an opaque `next_cursor` (also sent as a `Link: <?...>; rel="next"`
//! header, a reference relative to the request's own path). Cursors are keyset
//! positions (the last key seen, base64url), so paging is stable while rows are
//! added or removed.

use axum::Json;
use axum::http::{HeaderValue, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::problem::AdminError;

/// The query of a list with nothing to filter by.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Items per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The page size asked for, within 1..=[`MAX_LIMIT`].
pub fn limit(asked: Option<i64>) -> Result<i64, AdminError> {
    match asked {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(AdminError::bad_request(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        ))),
    }
}

/// The key a cursor holds.
pub fn decode(cursor: Option<&str>) -> Result<Option<String>, AdminError> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .map(Some)
        .ok_or_else(|| AdminError::bad_request("the cursor is not one this API gave out"))
}

pub fn encode(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(key)
}

impl<T> Page<T> {
    /// A page from `rows`, fetched with `limit + 1` so a further row shows that more
    /// follow; `key` names a row's position for the next cursor.
    pub fn from_rows<R>(
        mut rows: Vec<R>,
        limit: i64,
        key: impl Fn(&R) -> String,
        view: impl FnMut(R) -> T,
    ) -> Page<T> {
        let limit = usize::try_from(limit).unwrap_or(0);
        let next_cursor = (rows.len() > limit)
            .then(|| {
                rows.truncate(limit);
                rows.last().map(|r| encode(&key(r)))
            })
            .flatten();
        Page {
            items: rows.into_iter().map(view).collect(),
            next_cursor,
        }
    }
}

impl<T: Serialize> Page<T> {
    /// The JSON page, with a `Link` header to the next one built from `uri`.
    pub fn respond(self, uri: &Uri) -> Response {
        let link = self.next_cursor.as_deref().map(|c| next_link(uri, c));
        let mut response = Json(self).into_response();
        if let Some(link) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
            response.headers_mut().insert(header::LINK, link);
        }
        response
    }
}

/// `<?query>; rel="next"`: the request's query with `cursor` replaced.
fn next_link(uri: &Uri, cursor: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        if name != "cursor" {
            query.append_pair(&name, &value);
        }
    }
    query.append_pair("cursor", cursor);
    format!("<?{}>; rel=\"next\"", query.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_end_with_no_cursor() {
        let page = Page::from_rows(vec!["a", "b", "c"], 2, |r| r.to_string(), |r| r);
        assert_eq!(page.items, ["a", "b"]);
        assert_eq!(decode(page.next_cursor.as_deref()).unwrap().unwrap(), "b");
        let last = Page::from_rows(vec!["c"], 2, |r| r.to_string(), |r| r);
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn limits_and_cursors_are_checked() {
        assert_eq!(limit(None).unwrap(), DEFAULT_LIMIT);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(MAX_LIMIT + 1)).is_err());
        assert!(decode(Some("!!")).is_err());
        assert_eq!(decode(Some(&encode("alice"))).unwrap().unwrap(), "alice");
    }

    #[test]
    fn next_link_keeps_filters() {
        let uri: Uri = "/admin/sessions?user=bob&limit=2&cursor=old"
            .parse()
            .unwrap();
        assert_eq!(
            next_link(&uri, "new"),
            "<?user=bob&limit=2&cursor=new>; rel=\"next\""
        );
    }
}
