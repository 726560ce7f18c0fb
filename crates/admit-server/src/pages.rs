//! admit's own HTML pages (askama templates in `templates/`, escaped by default) and
//! the headers every page carries.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Template)]
#[template(path = "login.html")]
pub struct Login<'a> {
    /// The application asking, or `None` on the login to the account page.
    pub client_name: Option<&'a str>,
    /// Where the form posts: `/login` or `/account/login`.
    pub action: &'a str,
    pub interaction: &'a str,
    pub csrf: &'a str,
    pub username: &'a str,
    pub error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "consent.html")]
pub struct Consent<'a> {
    pub client_name: &'a str,
    pub username: &'a str,
    /// Each scope with a sentence saying what it allows.
    pub scopes: Vec<(String, String)>,
    pub interaction: &'a str,
    pub csrf: &'a str,
}

#[derive(Template)]
#[template(path = "account.html")]
pub struct Account<'a> {
    pub username: &'a str,
    /// (client id, client name, granted scope, withdraw-form CSRF token).
    pub consents: Vec<(String, String, String, String)>,
    /// The sealed marker the withdraw forms carry.
    pub form: &'a str,
}

#[derive(Template)]
#[template(path = "message.html")]
pub struct Message<'a> {
    pub title: &'a str,
    pub id: &'a str,
    pub message: &'a str,
    /// A logout confirmation form: (sealed request, CSRF token).
    pub logout_form: Option<(String, String)>,
    /// Shown on error pages, so a user's report can be matched to the log line.
    pub request_id: Option<String>,
}

/// What a scope lets the application do, in words, for the consent page.
pub fn describe_scope(scope: &str) -> String {
    match scope {
        "openid" => "confirm who you are (your admit account id)".into(),
        "profile" => "see your name and username".into(),
        "email" => "see your email address".into(),
        "offline_access" => "stay connected when you are away".into(),
        other => format!("use \u{201c}{other}\u{201d} on your behalf"),
    }
}

/// Renders a page with the headers every admit page carries: no framing (clickjacking),
/// no inline script or style, no caching, no Referer (codes must not leak).
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => {
            let mut response = (status, html).into_response();
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            secure_page_headers(h);
            response
        }
        Err(e) => {
            tracing::error!(request_id = crate::observe::request_id().as_deref(), error = %e, "rendering a page failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub fn secure_page_headers(h: &mut axum::http::HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// An error page: the request cannot be sent back to the client.
pub fn error(status: StatusCode, message: &str) -> Response {
    render(
        status,
        &Message {
            title: "Something is wrong",
            id: "error",
            message,
            logout_form: None,
            request_id: crate::observe::request_id(),
        },
    )
}

pub async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../assets/admit.css"),
    )
}
