//! Usernames compare in one canonical form, so that spellings which look alike cannot
//! name two accounts, nor reach one account two ways: Unicode NFKC (compatibility
//! characters such as fullwidth letters, ligatures and superscripts become the plain
//! ones), then lowercase (usernames are case-insensitive), then NFKC again, since
//! lowercasing can leave a string unnormalised. This is RFC 8265 §3.3
//! (UsernameCaseMapped: width mapping, lowercase, NFC) with NFKC, which folds more
//! look-alikes than width mapping alone. Accounts store the canonical form; every
//! lookup canonicalises what was typed.

use unicode_normalization::UnicodeNormalization;

/// The form a username is stored and compared in.
pub fn canonical(username: &str) -> String {
    let lowered = username.nfkc().collect::<String>().to_lowercase();
    lowered.nfkc().collect()
}

/// Why a new username (in canonical form) is refused, if it is.
pub fn check(canonical: &str) -> Result<(), &'static str> {
    if canonical.is_empty() || canonical.chars().count() > 64 {
        return Err("a username has 1 to 64 characters");
    }
    if canonical
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ':')
    {
        return Err("a username may not contain spaces, control characters or ':'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alikes_meet_in_one_form() {
        for spelling in ["alice", "Alice", "ALICE", "ＡＬＩＣＥ", "ａｌｉｃｅ"] {
            assert_eq!(canonical(spelling), "alice", "{spelling}");
        }
        assert_eq!(canonical("ﬁnn"), "finn"); // the fi ligature
        assert_eq!(canonical("x²"), "x2");
        // é precomposed and as e + combining acute are one username.
        assert_eq!(canonical("Jos\u{e9}"), canonical("Jose\u{301}"));
        // Different letters stay different, even when they look alike (Cyrillic а).
        assert_ne!(canonical("\u{430}lice"), "alice");
        assert_eq!(
            canonical(&canonical("ＪＯＳＥ\u{301}")),
            canonical("ＪＯＳＥ\u{301}")
        );
    }

    #[test]
    fn new_usernames_are_checked() {
        assert!(check("alice").is_ok());
        assert!(check("").is_err());
        assert!(check(&"a".repeat(65)).is_err());
        for bad in ["a b", "a:b", "a\u{7}b", "a\u{3000}b"] {
            assert!(check(&canonical(bad)).is_err(), "{bad:?}");
        }
    }
}
