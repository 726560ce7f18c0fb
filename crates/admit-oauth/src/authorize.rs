//! The authorization endpoint (RFC 6749 §3.1, §4.1.1; OpenID Connect Core §3.1.2).
//!
//! Validation has two phases. Until the client and its `redirect_uri` are known to be
//! good, an error must be shown to the user and never redirected (RFC 6749 §4.1.2.1,
//! RFC 9700 §4.11: no open redirector). After that, errors go back to the client.

use crate::client::{Client, GrantType};
use crate::form::Params;
use crate::scope::Scope;
use crate::{ErrorCode, OAuthError};

/// An error shown on admit's own page: the client or redirect URI cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError(pub &'static str);

/// A validated authorization request: everything later steps need, and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
}

/// OpenID Connect Core §3.1.2.1 `prompt`, as the combinations admit accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// Where the client must be sent back, once it is trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub redirect_uri: String,
    pub state: Option<String>,
}

/// Phase one: the client exists and the `redirect_uri` is one of its registered URIs,
/// compared as exact strings (RFC 9700 §2.1). For public clients an `http` loopback
/// URI may use any port (RFC 8252 §7.3). `redirect_uri` is required: OpenID Connect
/// makes it so, and it removes any doubt about where a code goes.
pub fn target(params: &Params, client: Option<&Client>) -> Result<Target, PageError> {
    let client = client.ok_or(PageError("This application is not registered with admit."))?;
    let redirect_uri = params.get("redirect_uri").ok_or(PageError(
        "The application did not say where to return (redirect_uri is missing).",
    ))?;
    let registered = client
        .redirect_uris
        .iter()
        .any(|r| r == redirect_uri || (client.is_public() && loopback_match(r, redirect_uri)));
    if !registered {
        return Err(PageError(
            "The return address (redirect_uri) is not registered for this application.",
        ));
    }
    Ok(Target {
        redirect_uri: redirect_uri.to_owned(),
        state: params.get("state").map(str::to_owned),
    })
}

/// RFC 8252 §7.3: `http://127.0.0.1:PORT/path` or `http://[::1]:PORT/path` matches the
/// registered loopback URI whatever the port; everything else must be identical. The
/// requested URI must be written as the parser writes it, so spellings it would
/// normalise (case, `127.1`, hex, dot segments) are not "the same but for the port".
fn loopback_match(registered: &str, requested: &str) -> bool {
    let (Ok(a), Ok(b)) = (url::Url::parse(registered), url::Url::parse(requested)) else {
        return false;
    };
    if b.as_str() != requested {
        return false;
    }
    let loopback = |u: &url::Url| {
        u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1") | Some("[::1]"))
    };
    loopback(&a)
        && loopback(&b)
        && a.host_str() == b.host_str()
        && a.path() == b.path()
        && a.query() == b.query()
        && b.fragment().is_none()
        && b.username().is_empty()
        && b.password().is_none()
}

/// Phase two: the rest of the request, with errors for the client (RFC 6749 §4.1.2.1).
pub fn validate(
    params: &Params,
    client: &Client,
    require_pkce: bool,
) -> Result<AuthorizeRequest, OAuthError> {
    let invalid = |d: &'static str| OAuthError::invalid_request(d);
    if params.get("request").is_some() {
        return Err(OAuthError::new(
            ErrorCode::RequestNotSupported,
            "request objects are not supported",
        ));
    }
    if params.get("request_uri").is_some() {
        return Err(OAuthError::new(
            ErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        ));
    }
    match params.get("response_type") {
        None => return Err(invalid("response_type is missing")),
        Some("code") => {}
        Some(_) => {
            return Err(OAuthError::new(
                ErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
    }
    if params.get("response_mode").is_some_and(|m| m != "query") {
        return Err(invalid("only response_mode=query is supported"));
    }
    if !client.may_use(GrantType::AuthorizationCode) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "this client may not use the authorization code grant",
        ));
    }
    let scope = Scope::grant(params.get("scope"), &client.scopes)?;

    // RFC 7636 §4.3 and RFC 9700 §2.1.1: S256 only, required for public clients.
    let code_challenge = match (
        params.get("code_challenge"),
        params.get("code_challenge_method"),
    ) {
        (None, None) if require_pkce || client.is_public() => {
            return Err(invalid(
                "PKCE is required: send code_challenge with code_challenge_method=S256",
            ));
        }
        (None, None) => None,
        (None, Some(_)) => return Err(invalid("code_challenge_method without code_challenge")),
        (Some(_), None | Some("plain")) => {
            return Err(invalid(
                "code_challenge_method must be S256 (plain is not accepted)",
            ));
        }
        (Some(_), Some(m)) if m != "S256" => {
            return Err(invalid("code_challenge_method must be S256"));
        }
        (Some(c), Some(_)) => {
            // §4.2: BASE64URL(SHA256(verifier)) is always 43 characters.
            if c.len() != 43
                || !c
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(invalid("code_challenge is not a base64url SHA-256 value"));
            }
            Some(c.to_owned())
        }
    };

    let prompt = parse_prompt(params.get("prompt"))?;
    let max_age = match params.get("max_age") {
        None => None,
        Some(text) => Some(
            text.parse::<i64>()
                .ok()
                .filter(|v| *v >= 0)
                .ok_or_else(|| invalid("max_age must be a non-negative integer"))?,
        ),
    };
    Ok(AuthorizeRequest {
        client_id: client.client_id.clone(),
        redirect_uri: params.require("redirect_uri")?.to_owned(),
        scope: scope.to_string(),
        state: params.get("state").map(str::to_owned),
        nonce: params.get("nonce").map(str::to_owned),
        code_challenge,
        prompt,
        max_age,
        login_hint: params
            .get("login_hint")
            .map(|h| h.chars().take(128).collect()),
    })
}

/// OpenID Connect Core §3.1.2.1: space-separated; `none` stands alone.
fn parse_prompt(text: Option<&str>) -> Result<Prompt, OAuthError> {
    let mut prompt = Prompt::default();
    for value in text
        .unwrap_or_default()
        .split(' ')
        .filter(|v| !v.is_empty())
    {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            // select_account: admit has one account per session, so there is nothing to select.
            "select_account" => {}
            _ => return Err(OAuthError::invalid_request("unknown prompt value")),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err(OAuthError::invalid_request(
            "prompt=none cannot be combined with other values",
        ));
    }
    Ok(prompt)
}

/// The SSO session the browser brings, as far as the decision needs it.
pub struct SessionView<'a> {
    pub user_id: &'a str,
    pub auth_time: i64,
}

/// What happens next for an authorization request.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Show the login page.
    Login,
    /// Show the consent page for these scopes.
    Consent,
    /// Issue a code now.
    Issue,
}

/// OpenID Connect Core §3.1.2.1 and §3.1.2.3. `logged_in_now` is true right after the
/// user authenticated in this very interaction, which satisfies `prompt=login` and
/// `max_age`. `consented` is the scope already granted to this client by this user.
pub fn next(
    request: &AuthorizeRequest,
    session: Option<&SessionView<'_>>,
    logged_in_now: bool,
    consented: Option<&Scope>,
    skip_consent: bool,
    now: i64,
) -> Result<Next, OAuthError> {
    let fresh_enough =
        |s: &SessionView<'_>| request.max_age.is_none_or(|max| now - s.auth_time <= max);
    let must_log_in = match session {
        None => true,
        Some(_) if logged_in_now => false,
        Some(s) => request.prompt.login || !fresh_enough(s),
    };
    if must_log_in {
        return if request.prompt.none {
            Err(OAuthError::new(
                ErrorCode::LoginRequired,
                "the user is not logged in",
            ))
        } else {
            Ok(Next::Login)
        };
    }
    let requested = Scope::parse(&request.scope).unwrap_or_default();
    let covered = consented.is_some_and(|c| requested.is_subset(c));
    if request.prompt.consent || (!skip_consent && !covered) {
        return if request.prompt.none {
            Err(OAuthError::new(
                ErrorCode::ConsentRequired,
                "the user has not consented",
            ))
        } else {
            Ok(Next::Consent)
        };
    }
    Ok(Next::Issue)
}

#[cfg(test)]
mod tests;
