//! Redeeming an authorization code at the token endpoint (RFC 6749 §4.1.3,
//! RFC 7636 §4.6, RFC 9700 §2.1.1 and §4.8).

use subtle::ConstantTimeEq;

use crate::{OAuthError, secret};

/// Codes live at most this long (RFC 6749 §4.1.2 recommends ten minutes at most;
/// admit's users need only the seconds a redirect takes).
pub const CODE_LIFETIME: i64 = 60;

/// What was stored when the code was issued.
pub struct IssuedCode<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub code_challenge: Option<&'a str>,
    pub expires_at: i64,
}

/// What the client sends with the code.
pub struct Redemption<'a> {
    pub client_id: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
}

/// Checks a code that was just marked used (the store guarantees only one caller
/// gets here per code). Every failure is `invalid_grant` with a safe description.
pub fn check(
    code: &IssuedCode<'_>,
    redemption: &Redemption<'_>,
    now: i64,
) -> Result<(), OAuthError> {
    let invalid = OAuthError::invalid_grant;
    if code.client_id != redemption.client_id {
        return Err(invalid("the code was issued to another client"));
    }
    if now >= code.expires_at {
        return Err(invalid("the code has expired"));
    }
    // §4.1.3: the redirect_uri must be identical to the one in the authorization request.
    if redemption.redirect_uri != Some(code.redirect_uri) {
        return Err(invalid(
            "redirect_uri does not match the authorization request",
        ));
    }
    match (code.code_challenge, redemption.code_verifier) {
        (Some(challenge), Some(verifier)) => {
            // RFC 7636 §4.1: 43-128 unreserved characters.
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            let matches: bool = secret::s256(verifier)
                .as_bytes()
                .ct_eq(challenge.as_bytes())
                .into();
            if well_formed && matches {
                Ok(())
            } else {
                Err(invalid("code_verifier does not match the code_challenge"))
            }
        }
        (Some(_), None) => Err(invalid("code_verifier is missing")),
        // RFC 9700 §2.1.1: a verifier for a code issued without a challenge is a downgrade attempt.
        (None, Some(_)) => Err(invalid("code_verifier sent for a code issued without PKCE")),
        (None, None) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn issued(challenge: Option<&'static str>) -> IssuedCode<'static> {
        IssuedCode {
            client_id: "site",
            redirect_uri: "https://site.example/cb",
            code_challenge: challenge,
            expires_at: 100,
        }
    }

    fn redeem<'a>(
        client_id: &'a str,
        redirect_uri: Option<&'a str>,
        verifier: Option<&'a str>,
    ) -> Redemption<'a> {
        Redemption {
            client_id,
            redirect_uri,
            code_verifier: verifier,
        }
    }

    #[test]
    fn every_binding_is_checked() {
        let cb = Some("https://site.example/cb");
        assert!(
            check(
                &issued(Some(CHALLENGE)),
                &redeem("site", cb, Some(VERIFIER)),
                50
            )
            .is_ok()
        );
        assert!(
            check(
                &issued(Some(CHALLENGE)),
                &redeem("other", cb, Some(VERIFIER)),
                50
            )
            .is_err()
        );
        assert!(
            check(
                &issued(Some(CHALLENGE)),
                &redeem("site", cb, Some(VERIFIER)),
                100
            )
            .is_err()
        );
        assert!(
            check(
                &issued(Some(CHALLENGE)),
                &redeem("site", Some("https://site.example/cb/"), Some(VERIFIER)),
                50
            )
            .is_err()
        );
        assert!(
            check(
                &issued(Some(CHALLENGE)),
                &redeem("site", None, Some(VERIFIER)),
                50
            )
            .is_err()
        );
        assert!(check(&issued(Some(CHALLENGE)), &redeem("site", cb, None), 50).is_err());
        assert!(
            check(
                &issued(Some(CHALLENGE)),
                &redeem("site", cb, Some(&VERIFIER.replace('d', "e"))),
                50
            )
            .is_err()
        );
        assert!(
            check(
                &issued(Some(CHALLENGE)),
                &redeem("site", cb, Some(CHALLENGE)),
                50
            )
            .is_err(),
            "the challenge is not the verifier"
        );
        assert!(
            check(&issued(None), &redeem("site", cb, Some(VERIFIER)), 50).is_err(),
            "PKCE downgrade"
        );
        assert!(check(&issued(None), &redeem("site", cb, None), 50).is_ok());
    }
}
