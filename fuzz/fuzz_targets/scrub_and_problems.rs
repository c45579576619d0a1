//! Any secret and any vendor text: redaction never panics, leaves no secret made of token
//! characters behind (as is, in any ASCII case), and every problem built from the text is a
//! problem document with a relay code and a bounded `detail`.
#![no_main]

use hail::protocol::Problem;
use hail::ErrorCode;
use hail_relay::problem::stored_problem;
use hail_relay::scrub::{Redactor, DETAIL_MAX_BYTES};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let (head, rest) = data.split_at(1);
    let split = usize::from(head[0]).min(rest.len());
    let (secret, text) = rest.split_at(split);
    let (Ok(secret), Ok(text)) = (std::str::from_utf8(secret), std::str::from_utf8(text)) else {
        return;
    };
    let clean = Redactor::new([secret]).scrub(text).into_owned();
    let token = |b: u8| b.is_ascii_alphanumeric() || b"+/=_-%.~".contains(&b);
    if !secret.is_empty() && secret.bytes().all(token) {
        // (A secret that is part of the word "redacted" is found in the marker itself.)
        let left = clean.replace(hail_relay::scrub::REDACTED, "<>");
        assert!(
            !left.to_ascii_lowercase().contains(&secret.to_ascii_lowercase()),
            "{secret:?} left in {clean:?}"
        );
    }
    let code = ErrorCode::ALL[usize::from(head[0]) % ErrorCode::ALL.len()];
    let stored = stored_problem(Problem::new(code, text, "fuzz"));
    let body: serde_json::Value = serde_json::from_slice(&stored.body).expect("a JSON body");
    let code = body["code"].as_str().and_then(ErrorCode::parse).expect("a code");
    assert!(!matches!(
        code,
        ErrorCode::NetworkError | ErrorCode::Timeout | ErrorCode::Aborted | ErrorCode::InvalidResponse
    ));
    assert_eq!(body["status"], stored.status);
    let detail = body["detail"].as_str().expect("a detail");
    assert!(detail.len() <= DETAIL_MAX_BYTES + '…'.len_utf8());
});
