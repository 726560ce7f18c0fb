//! The token endpoint's form body: form decoding, then the grant it asks for.
#![no_main]

use admit_oauth::form::Params;
use admit_oauth::token::TokenRequest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(params) = Params::parse(body) {
        let _ = TokenRequest::parse(&params);
    }
});
