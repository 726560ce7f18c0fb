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
    // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token. Read as bytes: the token
    // is checked byte by byte anyway, and a b64token is ASCII.
    let value = value.as_bytes();
    let space = value.iter().position(|&b| b == b' ').unwrap_or(value.len());
    let (scheme, rest) = value.split_at(space);
    if !scheme.eq_ignore_ascii_case(b"Bearer") {
        return Err(BearerError::InvalidRequest(
            "the Authorization scheme is not Bearer",
        ));
    }
    let token = &rest[rest.iter().take_while(|&&b| b == b' ').count()..];
    if token.is_empty() {
        return Err(BearerError::InvalidRequest(
            "the Bearer credentials have no token",
        ));
    }
    // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    let body = &token[..token.len() - token.iter().rev().take_while(|&&b| b == b'=').count()];
    let not_b64token = BearerError::InvalidRequest("the bearer token is not a b64token");
    if body.is_empty() || !body.iter().all(|&b| B64TOKEN_CHAR[usize::from(b)]) {
        return Err(not_b64token);
    }
    // Only ASCII is left, so this does not fail.
    std::str::from_utf8(token).map_err(|_| not_b64token)
}

/// The characters of a b64token before its padding, as a table: the check runs on
/// every byte of every token.
const B64TOKEN_CHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] =
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        b += 1;
    }
    table
};

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
        invalid(&["Bearer ab\u{fc}c"]);
        invalid(&["B\u{e9}arer abc"]);
        invalid(&["Bearer ==="]);
        invalid(&["Bearer a=b"]);
        invalid(&["Bearerx abc"]);
        invalid(&["Bearer a", "Bearer a"]);
    }
}
