//! The `Authorization: Basic` header of client authentication (RFC 6749 §2.3.1).
#![no_main]

use admit_oauth::client_auth;
use admit_oauth::form::Params;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|header: &str| {
    let _ = client_auth::presented(Some(header), &Params::default());
});
