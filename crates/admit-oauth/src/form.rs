//! `application/x-www-form-urlencoded` request parameters with OAuth's rules.

use std::collections::HashMap;

use crate::OAuthError;

/// The parameters of one request. RFC 6749 §3.1: parameters sent without a value
/// are treated as omitted, and no parameter may appear more than once.
#[derive(Debug, Default)]
pub struct Params {
    values: HashMap<String, String>,
}

/// Refuse forms with absurd numbers of parameters before building a map.
const MAX_PARAMS: usize = 64;

impl Params {
    pub fn parse(body: &[u8]) -> Result<Params, OAuthError> {
        let mut values = HashMap::new();
        for (i, (name, value)) in url::form_urlencoded::parse(body).enumerate() {
            if i >= MAX_PARAMS {
                return Err(OAuthError::invalid_request("too many parameters"));
            }
            // A NUL is never meaningful in OAuth parameters, and some databases refuse it.
            if name.contains('\0') || value.contains('\0') {
                return Err(OAuthError::invalid_request(
                    "parameters may not contain NUL characters",
                ));
            }
            if value.is_empty() {
                continue;
            }
            if values
                .insert(name.to_string(), value.into_owned())
                .is_some()
            {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {} is repeated",
                    printable(&name)
                )));
            }
        }
        Ok(Params { values })
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn require(&self, name: &'static str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("missing parameter {name}")))
    }
}

/// A parameter name safe to echo in an error description: printable ASCII, bounded.
fn printable(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(40)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_values_are_omitted_and_repeats_refused() {
        let p = Params::parse(b"a=1&b=&c=%20x").unwrap();
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None);
        assert_eq!(p.get("c"), Some(" x"));
        assert!(Params::parse(b"a=1&a=2").is_err());
        assert!(Params::parse(b"a=1&a=").is_ok());
        assert!(Params::parse("x=1&".repeat(70).as_bytes()).is_err());
        assert!(Params::parse(b"client_id=a%00b").is_err());
        assert!(Params::parse(b"a%00=1").is_err());
    }
}
