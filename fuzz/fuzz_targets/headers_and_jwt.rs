//! Any `Idempotency-Key`, any `Authorization` header, any token handed to the JWT verifier:
//! typed refusals, never a panic.
#![no_main]

use std::sync::OnceLock;

use hail_relay::caller::{bearer, JwtVerifier};
use hail_relay::config::Config;
use libfuzzer_sys::fuzz_target;

fn verifier() -> &'static JwtVerifier {
    static V: OnceLock<JwtVerifier> = OnceLock::new();
    V.get_or_init(|| {
        let config = Config::parse(
            "[jwt]\nalgorithm = \"HS256\"\nsecret = { value = \"fuzz-secret-fuzz-secret-fuzz-secret-0123\" }\n\
             audience = \"a\"\nissuer = \"i\"\n",
        )
        .expect("config");
        JwtVerifier::new(config.jwt.as_ref().expect("jwt"), true).expect("verifier")
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = hail::protocol::is_valid_idempotency_key(data);
    if let Ok(value) = http::HeaderValue::from_bytes(data) {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, value);
        let _ = bearer(&headers);
    }
    if let Ok(token) = std::str::from_utf8(data) {
        let _ = verifier().verify(token);
    }
});
