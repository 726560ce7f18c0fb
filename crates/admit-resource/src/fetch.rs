//! Bounded JSON requests (discovery metadata, JWKS, introspection): a timeout, a
//! body size cap, and nothing but `200` with a JSON content type.

use std::time::Duration;

use http::StatusCode;
use http::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{Client, RequestBuilder, Url};
use serde::de::DeserializeOwned;
use thiserror::Error;

/// Covers connecting, the headers and the whole body.
pub(crate) const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// A JWKS with a dozen RSA keys is about 10 KiB; anything near this is not one.
pub(crate) const MAX_BODY: usize = 256 * 1024;

/// Why discovery metadata, a JWKS, an introspection answer or the revocation stream
/// could not be had.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FetchError {
    /// Connection, TLS or timeout failure.
    #[error("{url}: {source}")]
    Http {
        url: Url,
        #[source]
        source: reqwest::Error,
    },
    /// Any status but 200, redirects included.
    #[error("{url}: status {status}, expected 200")]
    Status { url: Url, status: u16 },
    #[error("{url}: content type {content_type:?} is not JSON")]
    NotJson { url: Url, content_type: String },
    #[error("{url}: body is larger than {MAX_BODY} bytes")]
    TooLarge { url: Url },
    /// The answer is not what the endpoint should send: JSON but not the document
    /// expected, or an event stream that broke its contract.
    #[error("{url}: {reason}")]
    Invalid { url: Url, reason: String },
}

/// The client used when the caller gives none. Redirects are not followed: key
/// material comes from exactly the URL that was configured or discovered.
pub(crate) fn default_client() -> Result<Client, reqwest::Error> {
    Client::builder()
        .timeout(FETCH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

pub(crate) async fn get_json<T: DeserializeOwned>(
    client: &Client,
    url: &Url,
) -> Result<T, FetchError> {
    let request = client
        .get(url.clone())
        .header(ACCEPT, "application/json, application/jwk-set+json");
    send_for_json(request, url).await
}

/// Sends `request` (to `url`, named in errors) and reads a bounded JSON answer.
pub(crate) async fn send_for_json<T: DeserializeOwned>(
    request: RequestBuilder,
    url: &Url,
) -> Result<T, FetchError> {
    let http = |source: reqwest::Error| FetchError::Http {
        url: url.clone(),
        source: source.without_url(),
    };
    let mut response = request.timeout(FETCH_TIMEOUT).send().await.map_err(http)?;
    if response.status() != StatusCode::OK {
        return Err(FetchError::Status {
            url: url.clone(),
            status: response.status().as_u16(),
        });
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !is_json(content_type) {
        return Err(FetchError::NotJson {
            url: url.clone(),
            content_type: content_type.chars().take(64).collect(),
        });
    }
    let too_large = || FetchError::TooLarge { url: url.clone() };
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY as u64)
    {
        return Err(too_large());
    }
    // Content-Length may be absent or wrong: count what actually arrives.
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(http)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    serde_json::from_slice(&body).map_err(|e| FetchError::Invalid {
        url: url.clone(),
        reason: e.to_string(),
    })
}

/// `application/json`, or a `+json` structured syntax suffix (RFC 6839 §3.1) such
/// as `application/jwk-set+json` (RFC 7517 §8.5), parameters ignored.
fn is_json(content_type: &str) -> bool {
    let essence = essence(content_type);
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The media type without its parameters, lowercased (RFC 9110 §8.3.1).
pub(crate) fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn json_content_types() {
        for ok in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/jwk-set+json",
        ] {
            assert!(is_json(ok), "{ok}");
        }
        for bad in [
            "",
            "text/html",
            "text/json+html",
            "application/jsonp",
            "text/plain+json",
        ] {
            assert!(!is_json(bad), "{bad}");
        }
    }
}
