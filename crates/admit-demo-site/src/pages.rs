//! The HTML: one page, server-rendered with maud, which escapes every value it
//! prints. No JavaScript, no inline style (the CSP forbids both).

use maud::{DOCTYPE, Markup, html};
use serde_json::Value;

use crate::config::Settings;
use crate::explain::{self, ClaimLine, TokenKind};
use crate::provider::Provider;
use crate::recorder::{Exchange, mask};
use crate::session::{Login, Session};
use crate::timeline::{Detail, Step, TimelineEntry};

/// Everything one page view shows.
pub struct View<'a> {
    pub settings: &'a Settings,
    pub provider: &'a Provider,
    pub session: Option<&'a Session>,
    pub error: Option<&'a str>,
    pub notice: Option<&'a str>,
    /// Unix seconds, for "expires in 5 min".
    pub now: i64,
}

pub fn home(view: &View<'_>) -> Markup {
    let login = view.session.and_then(|session| session.login.as_ref());
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Our website: log in with admit" }
                link rel="stylesheet" href="/style.css";
            }
            body {
                header.site {
                    h1 { "Our website" }
                    p.tagline {
                        "A separate site that logs you in with admit, the way a site logs you in \
                         with Google, and shows you every step."
                    }
                }
                main {
                    @if let Some(notice) = view.notice { p #notice .notice { (notice) } }
                    @if let Some(error) = view.error {
                        section #error .error role="alert" {
                            h2 { "That did not work" }
                            p { (error) }
                            p { a href="/login" { "Start again" } }
                        }
                    }
                    @match login {
                        Some(login) => (logged_in(view, login)),
                        None => (logged_out(view)),
                    }
                    @if let Some(session) = view.session {
                        @if !session.timeline.is_empty() { (timeline(&session.timeline)) }
                    }
                    (discovery(view))
                }
                footer { p { "admit demo site. Tokens on this page are real: it is sent with Cache-Control: no-store." } }
            }
        }
    }
}

fn cast(view: &View<'_>) -> Markup {
    html! {
        dl.cast {
            dt { "You" } dd { "the " b { "resource owner" } ": the information about you is yours." }
            dt { "This site" } dd { "the " b { "client" } " (client_id " code { (view.settings.client_id.as_str()) } ")." }
            dt { "admit" } dd { "the " b { "authorization server" } " at " code { (view.settings.issuer.as_str()) } "." }
            dt { "The demo API" } dd { "a " b { "resource server" } " at " code { (view.settings.api_url.as_str()) } "." }
        }
    }
}

fn logged_out(view: &View<'_>) -> Markup {
    html! {
        section.intro {
            h2 { "Who is who" }
            (cast(view))
            p {
                "This site never sees your password. It sends you to admit, you log in there, and \
                 admit sends you back with a code that this site trades for tokens."
            }
            p.actions { a #login .button href="/login" { "Log in with admit" } }
        }
    }
}

fn logged_in(view: &View<'_>, login: &Login) -> Markup {
    let csrf = view
        .session
        .map(|s| s.csrf_token.as_str())
        .unwrap_or_default();
    let who = login.userinfo.as_ref().ok().and_then(|claims| {
        ["name", "preferred_username", "email"]
            .iter()
            .find_map(|name| claims.get(*name).and_then(Value::as_str))
    });
    html! {
        section.welcome {
            h2 { "You are logged in as " (who.unwrap_or(&login.subject)) }
            p {
                "This site's session (a random cookie) now holds your tokens on its server. "
                @if let Some(expires_in) = login.expires_in { "The access token lives " (expires_in) " s. " }
                @if let Some(scope) = &login.scope { "Granted scope: " code { (scope) } ". " }
                @if login.refreshes > 0 { "Refreshed " (login.refreshes) " time(s)." }
            }
            div.actions {
                form method="post" action="/refresh" {
                    input type="hidden" name="csrf" value=(csrf);
                    button #refresh type="submit" disabled[login.refresh_token.is_none()] { "Refresh tokens" }
                }
                form method="post" action="/logout" {
                    input type="hidden" name="csrf" value=(csrf);
                    button #logout .secondary type="submit" { "Log out" }
                }
            }
            @match &login.refresh_token {
                Some(token) => p.small { "Refresh token (opaque, kept on this site's server): " code { (mask(token.secret())) } },
                None => p.small { "admit sent no refresh token." },
            }
        }
        (userinfo(login))
        (token_section("id-token", "The ID token", TokenKind::Id, &login.id_token, &login.checks, view.now))
        (token_section("access-token", "The access token", TokenKind::Access, login.access_token.secret(), &[], view.now))
        (api_call(view, login))
    }
}

fn userinfo(login: &Login) -> Markup {
    html! {
        section #userinfo {
            h2 { "Who you are, according to admit (UserInfo)" }
            @match &login.userinfo {
                Ok(claims) => {
                    table.claims {
                        thead { tr { th { "Claim" } th { "Value" } } }
                        tbody {
                            @for (name, value) in claims.as_object().into_iter().flatten() {
                                tr { th { code { (name) } } td { (json_text(value)) } }
                            }
                        }
                    }
                }
                Err(error) => p.problem { (error) },
            }
        }
    }
}

fn json_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn token_section(
    id: &str,
    title: &str,
    kind: TokenKind,
    token: &str,
    checks: &[String],
    now: i64,
) -> Markup {
    let lead = match kind {
        TokenKind::Id => {
            "For this site: signed proof of who logged in, when and how. The site reads it and never sends it to an API."
        }
        TokenKind::Access => {
            "For the API: the site should treat it as opaque and just send it along. It is decoded here only to learn from it."
        }
    };
    html! {
        section id=(id) .token {
            h2 { (title) }
            p.lead { (lead) }
            @match explain::split(token) {
                Some(jwt) => {
                    p.jwt {
                        span.jwt-header { (jwt.header_b64) } "." wbr;
                        span.jwt-payload { (jwt.payload_b64) } "." wbr;
                        span.jwt-signature { (jwt.signature_b64) }
                    }
                    div.parts {
                        div.part.header {
                            h3 { "Header" }
                            (claims_table(&explain::explain_header(&jwt.header, kind)))
                        }
                        div.part.payload {
                            h3 { "Payload" }
                            (claims_table(&explain::explain_payload(&jwt.payload, kind, now)))
                        }
                        div.part.signature {
                            h3 { "Signature" }
                            p {
                                "admit's private key signed the first two parts exactly as written \
                                 (header, a dot, payload). Anyone with admit's public key can check \
                                 it; changing one character of header or payload breaks it."
                            }
                        }
                    }
                }
                None => p { "Not a JWT: an opaque token (" (mask(token)) "). Only admit can tell what it means." },
            }
            @if !checks.is_empty() {
                h3 { "What this site checked (with openidconnect)" }
                ul.checks { @for check in checks { li { (check) } } }
            }
        }
    }
}

fn claims_table(lines: &[ClaimLine]) -> Markup {
    html! {
        table.claims {
            tbody {
                @for line in lines {
                    tr {
                        th { code { (line.name) } }
                        td {
                            span.value { (line.value) }
                            @if let Some(when) = &line.when { br; span.when { (when) } }
                            br;
                            span.meaning { (line.explanation) }
                        }
                    }
                }
            }
        }
    }
}

fn api_call(view: &View<'_>, login: &Login) -> Markup {
    html! {
        section #api-call {
            h2 { "Calling the demo API with the access token" }
            p {
                "The site sends the access token in the " code { "Authorization" } " header. The API \
                 verifies it on its own, with admit's public keys, and answers."
            }
            @match &login.api_call {
                Some(exchange) => (exchange_view(exchange, true)),
                None => p { "Not called yet (" (view.settings.api_url.as_str()) ")." },
            }
        }
    }
}

/// A request and its answer as raw HTTP. `brief` shows only the headers that
/// matter for the API call.
fn exchange_view(exchange: &Exchange, brief: bool) -> Markup {
    let request = &exchange.request;
    let headers = request
        .headers
        .iter()
        .filter(|(name, _)| !brief || name == "authorization" || name == "accept");
    html! {
        div.exchange {
            div.request {
                h4 { "Request" }
                pre {
                    (request.method) " " (request.url) "\n"
                    @for (name, value) in headers { (name) ": " (value) "\n" }
                    @if !request.body.is_empty() { "\n" (request.body) }
                }
            }
            div.response {
                h4 { "Response" }
                @match &exchange.response {
                    Ok(response) => pre {
                        "HTTP " (response.status) " " (reason(response.status)) "\n"
                        @for (name, value) in &response.headers {
                            @if !brief || name == "content-type" || name == "www-authenticate" { (name) ": " (value) "\n" }
                        }
                        @if !response.body.is_empty() { "\n" (response.body) }
                    },
                    Err(error) => p.problem { "No response: " (error) },
                }
            }
        }
    }
}

fn reason(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|status| status.canonical_reason())
        .unwrap_or("")
}

fn timeline(entries: &[TimelineEntry]) -> Markup {
    html! {
        section.timeline-section {
            h2 { "Timeline: every HTTP exchange of the flow" }
            p {
                "Numbered as the seed numbers its steps; " span.extra-mark { "+" }
                " marks extra exchanges around them. Secrets (client_secret, code, code_verifier, \
                 tokens) are masked here."
            }
            ol #timeline {
                @for entry in entries {
                    @let (class, label) = match entry.step {
                        Step::Seed(n) => ("step", n.to_string()),
                        Step::Extra => ("extra", "+".to_owned()),
                    };
                    li class=(class) data-step=(label) {
                        span.step-label { (label) }
                        div.step-body {
                            h3 { (entry.title) }
                            p.route { (entry.route) " · " (clock(entry.at)) }
                            p { (entry.explanation) }
                            @match &entry.detail {
                                Detail::Url(url) => pre.url { (url) },
                                Detail::Exchange(exchange) => (exchange_view(exchange, false)),
                                Detail::Unseen => p.unseen { "(Between your browser and admit: invisible to this site.)" },
                            }
                        }
                    }
                }
            }
        }
    }
}

fn clock(at: i64) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .map(|time| time.format("%H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

fn discovery(view: &View<'_>) -> Markup {
    let metadata = &view.provider.metadata;
    let end_session = metadata.additional_metadata().end_session_endpoint.as_ref();
    html! {
        details #discovery {
            summary { "How this site found admit (OpenID Connect Discovery)" }
            p {
                "At start-up the site read " code { (view.settings.issuer.as_str()) "/.well-known/openid-configuration" }
                " and learnt every endpoint from it; nothing else about admit is configured."
            }
            dl.endpoints {
                dt { "authorization_endpoint" } dd { code { (metadata.authorization_endpoint().as_str()) } }
                dt { "token_endpoint" } dd { code { (view.provider.token_url.as_str()) } }
                dt { "userinfo_endpoint" } dd { code { (view.provider.userinfo_url.as_str()) } }
                dt { "jwks_uri" } dd { code { (metadata.jwks_uri().as_str()) } }
                dt { "end_session_endpoint" } dd { code { (end_session.map(|url| url.as_str()).unwrap_or("(none)")) } }
            }
            @for exchange in &view.provider.discovery { (exchange_view(exchange, false)) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::{RecordedRequest, RecordedResponse, mask_authorization};
    use crate::timeline;

    #[test]
    fn maud_escapes_what_it_prints() {
        let hostile = r#"<script>alert("x")</script>&"#;
        let markup = html! { p title=(hostile) { (hostile) } }.into_string();
        assert!(!markup.contains("<script>"));
        assert!(markup.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;"));
    }

    #[test]
    fn claims_from_a_token_are_escaped() {
        let lines = vec![ClaimLine {
            name: "<b>".into(),
            value: "<img src=x onerror=alert(1)>".into(),
            when: None,
            explanation: "x".into(),
        }];
        let markup = claims_table(&lines).into_string();
        assert!(!markup.contains("<img"));
        assert!(!markup.contains("<b>"));
        assert!(markup.contains("&lt;img src=x onerror=alert(1)&gt;"));
    }

    #[test]
    fn exchanges_and_timeline_are_escaped() {
        let exchange = Exchange {
            request: RecordedRequest {
                method: "GET".into(),
                url: "http://x/?q=<script>".into(),
                headers: vec![(
                    "authorization".into(),
                    mask_authorization("Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig-sig-sig"),
                )],
                body: String::new(),
            },
            response: Ok(RecordedResponse {
                status: 401,
                headers: vec![(
                    "www-authenticate".into(),
                    r#"Bearer error="invalid_token""#.into(),
                )],
                body: r#"{"message": "</pre><script>"}"#.into(),
            }),
        };
        let markup = timeline(&[timeline::api_call(exchange, false, 0)]).into_string();
        assert!(!markup.contains("<script>"));
        assert!(markup.contains("HTTP 401 Unauthorized"));
        assert!(markup.contains(r#"<li class="step" data-step="5">"#));
        assert!(!markup.contains("sig-sig-sig"));
    }
}
