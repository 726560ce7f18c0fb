//! Scopes (RFC 6749 §3.3): a set of space-separated tokens.

use std::collections::BTreeSet;
use std::fmt;

use crate::{ErrorCode, OAuthError};

/// A parsed scope: distinct tokens, kept sorted so equal sets print equally.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope(BTreeSet<String>);

impl Scope {
    /// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`, separated by single spaces.
    pub fn parse(text: &str) -> Result<Scope, OAuthError> {
        let mut tokens = BTreeSet::new();
        for token in text.split(' ') {
            let valid = !token.is_empty()
                && token
                    .bytes()
                    .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b));
            if !valid {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "scope must be space-separated tokens of printable ASCII without quotes or backslashes",
                ));
            }
            tokens.insert(token.to_owned());
        }
        Ok(Scope(tokens))
    }

    pub fn from_tokens<I: IntoIterator<Item = S>, S: Into<String>>(tokens: I) -> Scope {
        Scope(tokens.into_iter().map(Into::into).collect())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, token: &str) -> bool {
        self.0.contains(token)
    }

    pub fn is_subset(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// The scope to grant: what was requested, if all of it is allowed; what is
    /// allowed, if nothing was requested (RFC 6749 §3.3 lets the server pick a default).
    pub fn grant(requested: Option<&str>, allowed: &Scope) -> Result<Scope, OAuthError> {
        let Some(requested) = requested else {
            return Ok(allowed.clone());
        };
        let requested = Scope::parse(requested)?;
        if requested.is_subset(allowed) {
            Ok(requested)
        } else {
            Err(OAuthError::new(
                ErrorCode::InvalidScope,
                "the requested scope exceeds what this client may ask for",
            ))
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for token in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(token)?;
            first = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_print() {
        assert_eq!(Scope::parse("b a b").unwrap().to_string(), "a b");
        for bad in ["", "a  b", " a", "a\"", "a\\b", "é", "a\tb"] {
            assert!(Scope::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn grant_is_a_subset_of_allowed_or_the_default() {
        let allowed = Scope::parse("read write").unwrap();
        assert_eq!(Scope::grant(None, &allowed).unwrap(), allowed);
        assert_eq!(
            Scope::grant(Some("read"), &allowed).unwrap().to_string(),
            "read"
        );
        let err = Scope::grant(Some("read admin"), &allowed).unwrap_err();
        assert_eq!(err.error, ErrorCode::InvalidScope);
    }
}
