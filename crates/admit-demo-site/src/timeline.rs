//! The timeline: every HTTP exchange of the flow, numbered as the seed numbers its
//! five steps, with what each one means.
//!
//! Steps 1-5 are the login itself (authorize redirect, login at admit, code back,
//! code for tokens, API call); JWKS, UserInfo, refreshes and logout are extra
//! entries between and after them.

use crate::recorder::Exchange;

/// The seed's step number, or an extra exchange around them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Seed(u8),
    Extra,
}

/// What the timeline can show of an exchange.
#[derive(Clone, Debug)]
pub enum Detail {
    /// A browser navigation: the URL (masked where it carries a secret).
    Url(String),
    /// A request from this site's server, and its answer.
    Exchange(Exchange),
    /// Something the site cannot see.
    Unseen,
}

#[derive(Clone, Debug)]
pub struct TimelineEntry {
    pub step: Step,
    pub title: &'static str,
    /// Who talks to whom.
    pub route: &'static str,
    pub explanation: String,
    pub detail: Detail,
    /// Unix seconds.
    pub at: i64,
}

fn entry(
    step: Step,
    title: &'static str,
    route: &'static str,
    explanation: String,
    detail: Detail,
    at: i64,
) -> TimelineEntry {
    TimelineEntry {
        step,
        title,
        route,
        explanation,
        detail,
        at,
    }
}

pub fn authorize_redirect(url: &str, scope: &str, at: i64) -> TimelineEntry {
    entry(
        Step::Seed(1),
        "The site sends your browser to admit",
        "this site → your browser → admit",
        format!(
            "The site answered /login with a 303 redirect to admit's authorization endpoint: \
             response_type=code, scope={scope}, a random state (so the answer can be tied to this \
             browser: CSRF protection), a random nonce (to be found again inside the ID token) and \
             code_challenge, the SHA-256 of a secret code_verifier that only this site's server \
             knows (PKCE). No secret is in this URL: it passes through the browser."
        ),
        Detail::Url(url.to_owned()),
        at,
    )
}

pub fn login_at_admit(at: i64) -> TimelineEntry {
    entry(
        Step::Seed(2),
        "You log in at admit, not here",
        "your browser ↔ admit",
        "This site cannot see this step. You typed your password into admit's own page, on \
         admit's origin: the password never reached this site. admit checked it, may have asked \
         you to approve what this site asked for, and, on your behalf (you are the resource owner), granted this site (the client) access, or not: \
         the site learns which only from step 3."
            .to_owned(),
        Detail::Unseen,
        at,
    )
}

pub fn callback(
    masked_url: &str,
    error: Option<&str>,
    iss: Option<&str>,
    at: i64,
) -> TimelineEntry {
    let answer = match error {
        Some(error) => format!("an error (error={error}) instead of a code"),
        None => "a one-time authorization code (masked here)".to_owned(),
    };
    let iss = match iss {
        Some(_) => {
            "and iss (checked against admit's issuer identifier, RFC 9207, so the answer is known to come from the server the site asked)"
        }
        None => "and no iss parameter",
    };
    entry(
        Step::Seed(3),
        "admit sends your browser back to the site",
        "admit → your browser → this site",
        format!(
            "admit redirected your browser to the registered redirect_uri with {answer}, the \
             state the site sent (checked against this browser's session), {iss}. A stolen code \
             is useless: redeeming it needs the client_secret and the code_verifier."
        ),
        Detail::Url(masked_url.to_owned()),
        at,
    )
}

pub fn jwks(exchange: Exchange, at: i64) -> TimelineEntry {
    entry(
        Step::Extra,
        "The site fetches admit's public keys (JWKS)",
        "this site → admit",
        "To check the signature of the ID token it is about to receive, the site fetches the \
         public keys admit publishes at its jwks_uri. A public key can verify a signature but \
         never make one."
            .to_owned(),
        Detail::Exchange(exchange),
        at,
    )
}

pub fn token_exchange(exchange: Exchange, at: i64) -> TimelineEntry {
    entry(
        Step::Seed(4),
        "The site trades the code for tokens",
        "this site → admit (server to server)",
        "A direct POST to the token endpoint, never through the browser: \
         grant_type=authorization_code, the code, the same redirect_uri and the code_verifier \
         whose hash admit saw in step 1. The site proves who it is with its client_secret \
         (HTTP Basic). admit answers with an access token, an ID token and a refresh token; the \
         site then checks the ID token's signature, issuer, audience, expiry and nonce."
            .to_owned(),
        Detail::Exchange(exchange),
        at,
    )
}

pub fn userinfo(exchange: Exchange, at: i64) -> TimelineEntry {
    entry(
        Step::Extra,
        "The site asks admit who you are (UserInfo)",
        "this site → admit",
        "With the access token in the Authorization header, the site asks admit's UserInfo \
         endpoint for your profile: the scopes you granted decide which claims come back."
            .to_owned(),
        Detail::Exchange(exchange),
        at,
    )
}

pub fn api_call(exchange: Exchange, after_refresh: bool, at: i64) -> TimelineEntry {
    let (step, title) = if after_refresh {
        (
            Step::Extra,
            "The site calls the demo API with the new access token",
        )
    } else {
        (
            Step::Seed(5),
            "The site calls the demo API with the access token",
        )
    };
    entry(
        step,
        title,
        "this site → demo API",
        "The access token goes in the Authorization: Bearer header. The API (the resource \
         server) checks the JWT's signature with admit's public keys, then its issuer, audience, \
         expiry and scope, and answers, all without asking admit."
            .to_owned(),
        Detail::Exchange(exchange),
        at,
    )
}

pub fn refresh(exchange: Exchange, at: i64) -> TimelineEntry {
    entry(
        Step::Extra,
        "The site trades the refresh token for new tokens",
        "this site → admit (server to server)",
        "grant_type=refresh_token: new tokens without you typing anything. admit rotates \
         refresh tokens, so the one sent here is now spent and the answer carries its successor \
         (a spent one presented again is a sign of theft, RFC 9700 §4.14.2)."
            .to_owned(),
        Detail::Exchange(exchange),
        at,
    )
}

pub fn logout(masked_url: &str, at: i64) -> TimelineEntry {
    entry(
        Step::Extra,
        "The site logs you out, and sends your browser to admit to do the same",
        "this site → your browser → admit",
        "The site forgot your tokens (its own session is gone) and redirected your browser to \
         admit's end_session_endpoint with id_token_hint (masked here: it says which login to \
         end), post_logout_redirect_uri and a state, so that admit ends its session too and sends \
         you back here."
            .to_owned(),
        Detail::Url(masked_url.to_owned()),
        at,
    )
}
