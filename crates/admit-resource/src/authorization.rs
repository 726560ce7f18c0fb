//! Reading the bearer token from the `Authorization` header (RFC 6750 §2.1).

use http::HeaderMap;
use http::header::AUTHORIZATION;

use crate::BearerError;

/// The token of `Authorization: Bearer <b64token>`; the scheme is case-insensitive
/// (RFC 9110 §11.1). Tokens elsewhere (body, query) are not looked for.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Result<&str, BearerError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(BearerError::MissingToken);
    };
    if values.next().is_some() {
        // Two credentials: which one is meant is anyone's guess, so refuse both.
        return Err(BearerError::InvalidRequest(
            "more than one Authorization header",
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| BearerError::InvalidRequest("the Authorization header is not ASCII"))?;
    // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("Bearer") {
        return Err(BearerError::InvalidRequest(
            "the Authorization scheme is not Bearer",
        ));
    }
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err(BearerError::InvalidRequest(
            "the Bearer credentials have no token",
        ));
    }
    if !is_b64token(token) {
        return Err(BearerError::InvalidRequest(
            "the bearer token is not a b64token",
        ));
    }
    Ok(token)
}

/// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
fn is_b64token(token: &str) -> bool {
    let body = token.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn check(values: &[&str], expected: Result<&str, BearerError>) {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        assert_eq!(bearer_token(&headers), expected, "{values:?}");
    }

    fn invalid(values: &[&str]) {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        assert!(
            matches!(bearer_token(&headers), Err(BearerError::InvalidRequest(_))),
            "{values:?}"
        );
    }

    #[test]
    fn accepts_bearer_in_any_case() {
        check(&["Bearer abc.def-_~+/=="], Ok("abc.def-_~+/=="));
        check(&["bearer x"], Ok("x"));
        check(&["BEARER  x"], Ok("x"));
    }

    #[test]
    fn missing_header() {
        check(&[], Err(BearerError::MissingToken));
    }

    #[test]
    fn refuses_what_is_not_one_bearer_token() {
        invalid(&["Basic xyz"]);
        invalid(&["Bearer"]);
        invalid(&["Bearer "]);
        invalid(&["Bearer a b"]);
        invalid(&["Bearer a\tb"]);
        invalid(&["Bearer a,b"]);
        invalid(&["Bearer ==="]);
        invalid(&["Bearer a=b"]);
        invalid(&["Bearerx abc"]);
        invalid(&["Bearer a", "Bearer a"]);
    }
}
