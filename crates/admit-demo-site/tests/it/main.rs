//! The site driven end to end against a fake authorization server, over real HTTP
//! on ephemeral ports, redirects followed by hand so every `Location` is checked.
//! (Tests against the real admit server live with admit's own integration tests.)

mod fake_admit;
mod login;

use admit_demo_site::SiteConfig;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};

use fake_admit::FakeAdmit;

/// Starts the site on `127.0.0.1:0` against `admit` and returns its base URL.
async fn spawn_site(admit: &FakeAdmit) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let config = SiteConfig {
        issuer: admit.issuer.clone(),
        client_id: fake_admit::CLIENT_ID.into(),
        client_secret: fake_admit::CLIENT_SECRET.into(),
        redirect_uri: format!("{base}/callback"),
        post_logout_redirect_uri: format!("{base}/"),
        api_url: format!("{}/api/me", admit.issuer),
        scopes: vec!["openid".into(), "profile".into(), "email".into()],
    };
    let app = admit_demo_site::router(config).await.unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

/// A browser with one cookie (the site's) and no automatic redirects.
struct Browser {
    http: reqwest::Client,
    cookie: Option<String>,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> String {
        self.headers[LOCATION].to_str().unwrap().to_owned()
    }
}

impl Browser {
    fn new() -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookie: None,
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let request = match &self.cookie {
            Some(cookie) => request.header("cookie", cookie),
            None => request,
        };
        let response = request.send().await.unwrap();
        if let Some(set) = response.headers().get(SET_COOKIE) {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            self.cookie = Some(pair);
        }
        Answer {
            status: response.status(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    async fn get(&mut self, url: &str) -> Answer {
        let request = self.http.get(url);
        self.send(request).await
    }

    async fn post(&mut self, url: &str, form: &[(&str, &str)]) -> Answer {
        let request = self.http.post(url).form(form);
        self.send(request).await
    }
}

/// The CSRF token of the page's forms.
fn csrf_of(page: &str) -> String {
    let start =
        page.find(r#"name="csrf" value=""#).expect("a form") + r#"name="csrf" value=""#.len();
    page[start..].split('"').next().unwrap().to_owned()
}
