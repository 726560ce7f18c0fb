//! An authorization request's query, both phases, for a confidential and a public
//! client.
#![no_main]

use admit_oauth::authorize;
use admit_oauth::client::{Client, GrantType};
use admit_oauth::form::Params;
use admit_oauth::scope::Scope;
use libfuzzer_sys::fuzz_target;

fn client(secret: bool) -> Client {
    Client {
        client_id: "app".into(),
        secret_hash: secret.then(|| admit_oauth::secret::hash("s3cret")),
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        scopes: Scope::parse("openid profile email read").unwrap(),
        redirect_uris: vec![
            "https://app.example/cb".into(),
            "http://127.0.0.1/cb".into(),
        ],
    }
}

fuzz_target!(|query: &[u8]| {
    let Ok(params) = Params::parse(query) else {
        return;
    };
    for client in [client(true), client(false)] {
        if authorize::target(&params, Some(&client)).is_ok() {
            let _ = authorize::validate(&params, &client, true);
        }
    }
});
