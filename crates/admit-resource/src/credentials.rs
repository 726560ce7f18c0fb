//! The client credentials a verifier presents to admit's introspection endpoint and
//! revocation stream, and how: `client_secret_basic` (RFC 6749 §2.3.1).

use std::fmt;

use reqwest::RequestBuilder;
use url::form_urlencoded;

/// A confidential client's id and secret. The secret never prints itself.
#[derive(Clone)]
pub(crate) struct ClientCredentials {
    id: String,
    secret: String,
}

impl ClientCredentials {
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> ClientCredentials {
        ClientCredentials {
            id: id.into(),
            secret: secret.into(),
        }
    }

    /// Adds `Authorization: Basic`, which reqwest marks sensitive. RFC 6749 §2.3.1
    /// form-urlencodes the id and the secret before they are joined with `:` and
    /// base64-encoded (RFC 7617), so a `:` in either survives.
    pub fn authorize(&self, request: RequestBuilder) -> RequestBuilder {
        request.basic_auth(form_encode(&self.id), Some(form_encode(&self.secret)))
    }
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

fn form_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use http::header::AUTHORIZATION;

    use super::*;

    #[test]
    fn id_and_secret_are_form_encoded_then_base64() {
        let credentials = ClientCredentials::new("api:1", "s3cret é+/");
        let request = credentials
            .authorize(reqwest::Client::new().get("http://127.0.0.1/"))
            .build()
            .unwrap();
        let value = request.headers().get(AUTHORIZATION).unwrap();
        assert!(value.is_sensitive());
        // base64("api%3A1:s3cret+%C3%A9%2B%2F")
        assert_eq!(value, "Basic YXBpJTNBMTpzM2NyZXQrJUMzJUE5JTJCJTJG");
    }

    #[test]
    fn the_secret_does_not_print() {
        let printed = format!("{:?}", ClientCredentials::new("api", "hunter2"));
        assert!(
            printed.contains("api") && !printed.contains("hunter2"),
            "{printed}"
        );
    }
}
