//! The redirect-URI matcher: a registered URI and a requested one, separated by the
//! first newline. A match must be the same string, or (for a public client, RFC 8252
//! §7.3) both http loopback URIs differing at most in the port.
#![no_main]

use admit_oauth::authorize;
use admit_oauth::client::{Client, GrantType};
use admit_oauth::form::Params;
use admit_oauth::scope::Scope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &str| {
    let Some((registered, requested)) = input.split_once('\n') else {
        return;
    };
    let query = format!("redirect_uri={}", urlencode(requested));
    let Ok(params) = Params::parse(query.as_bytes()) else {
        return;
    };
    for public in [false, true] {
        let client = Client {
            client_id: "app".into(),
            secret_hash: (!public).then(|| admit_oauth::secret::hash("s3cret")),
            grant_types: vec![GrantType::AuthorizationCode],
            scopes: Scope::default(),
            redirect_uris: vec![registered.to_owned()],
        };
        if authorize::target(&params, Some(&client)).is_ok() && requested != registered {
            assert!(
                public,
                "a confidential client matched {requested:?} to {registered:?}"
            );
            let loopback = [
                "http://127.0.0.1:",
                "http://127.0.0.1/",
                "http://[::1]:",
                "http://[::1]/",
            ];
            assert!(
                loopback.iter().any(|p| requested.starts_with(p)),
                "{requested:?} matched {registered:?}"
            );
            let authority = requested["http://".len()..].split(['/', '?', '#']).next();
            assert!(
                !requested.contains('#') && !authority.unwrap_or("").contains('@'),
                "{requested:?} matched {registered:?}"
            );
        }
    }
});

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}
