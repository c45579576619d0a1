//! Who may call: access modes (disabled, public, jwt, chayns), pin and bind, rate limits.

#[path = "support/harness.rs"]
mod harness;

use harness::{marker, memoio, sandbox};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::json;

const OP: &str = "memoio/start-conversation";
const HS_SECRET: &str = "test-jwt-secret-0123456789abcdef-0123456789";
/// A test-only Ed25519 key pair.
const ED_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIE9flixCD+t9GvrT3oahdTeiUx8rBrsU+xQIbel4a1+0\n-----END PRIVATE KEY-----\n";
const ED_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA2C8HsXncvXxTTX3MAU+b2XhT/HFY1VSCaTfCSsBXXns=\n-----END PUBLIC KEY-----\n";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn hs256(claims: serde_json::Value) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(HS_SECRET.as_bytes()),
    )
    .unwrap()
}

fn claims(sub: &str, email: &str) -> serde_json::Value {
    json!({"sub": sub, "email": email, "aud": "hail-relay", "iss": "https://shop.example", "exp": now() + 300})
}

fn jwt_config(extra: &str) -> String {
    format!(
        "[jwt]\nalgorithm = \"HS256\"\nsecret = {{ value = \"{HS_SECRET}\" }}\naudience = \"hail-relay\"\n\
         issuer = \"https://shop.example\"\n\n[operations.\"{OP}\"]\naccess = \"jwt\"\n{extra}"
    )
}

#[tokio::test]
async fn jwt_callers_need_a_valid_token() {
    let relay = sandbox(&jwt_config("")).await;
    let body = memoio(&marker("jwt"));
    let send = |token: Option<String>, key: &'static str| {
        let mut h = vec![("idempotency-key".to_owned(), key.to_owned())];
        if let Some(t) = token {
            h.push(("authorization".to_owned(), format!("Bearer {t}")));
        }
        let relay = &relay;
        let body = body.clone();
        async move {
            let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            relay.post_with(OP, &h, &body).await
        }
    };
    let none = send(None, "a").await;
    assert_eq!(
        (none.status.as_u16(), none.code()),
        (401, "unauthenticated")
    );
    let mut expired = claims("u1", "anna@example.com");
    expired["exp"] = json!(now() - 3600);
    let wrong_aud =
        json!({"sub": "u1", "aud": "other", "iss": "https://shop.example", "exp": now() + 300});
    let wrong_iss = json!({"sub": "u1", "aud": "hail-relay", "iss": "https://evil.example", "exp": now() + 300});
    let forged = encode(
        &Header::new(Algorithm::HS256),
        &claims("u1", "a@b.co"),
        &EncodingKey::from_secret(b"another-secret-another-secret-another"),
    )
    .unwrap();
    for (token, why) in [
        (hs256(expired), "expired"),
        (hs256(wrong_aud), "audience"),
        (hs256(wrong_iss), "issuer"),
        (forged, "signature"),
        ("not.a.jwt".to_owned(), "malformed"),
    ] {
        let a = send(Some(token), "b").await;
        assert_eq!(
            (a.status.as_u16(), a.code()),
            (401, "unauthenticated"),
            "{why}: {}",
            a.text
        );
        assert!(
            a.body["detail"].as_str().unwrap().contains(why)
                || why == "signature" && a.text.contains("bad signature"),
            "{}",
            a.text
        );
    }
    let ok = send(Some(hs256(claims("u1", "anna@example.com"))), "c").await;
    assert_eq!(ok.status, 200, "{}", ok.text);
}

#[tokio::test]
async fn eddsa_tokens_are_checked_with_the_public_key() {
    let config = format!(
        "[jwt]\nalgorithm = \"EdDSA\"\npublic_key = {{ value = \"\"\"{ED_PUBLIC}\"\"\" }}\naudience = \"hail-relay\"\n\
         issuer = \"https://shop.example\"\n\n[operations.\"{OP}\"]\naccess = \"jwt\"\n"
    );
    let relay = sandbox(&config).await;
    let token = encode(
        &Header::new(Algorithm::EdDSA),
        &claims("u9", "a@b.co"),
        &EncodingKey::from_ed_pem(ED_PRIVATE.as_bytes()).unwrap(),
    )
    .unwrap();
    let a = relay
        .post_with(
            OP,
            &[
                ("idempotency-key", "e"),
                ("authorization", &format!("Bearer {token}")),
            ],
            &memoio("ed"),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let hs = hs256(claims("u9", "a@b.co"));
    let a = relay
        .post_with(
            OP,
            &[
                ("idempotency-key", "f"),
                ("authorization", &format!("Bearer {hs}")),
            ],
            &memoio("ed"),
        )
        .await;
    assert_eq!(a.code(), "unauthenticated");
}

#[tokio::test]
async fn bind_ties_a_field_to_the_callers_claim() {
    let relay = sandbox(&jwt_config("bind = { receiver = \"email\" }")).await;
    let token = format!("Bearer {}", hs256(claims("u2", "anna@example.com")));
    let mark = marker("bind");
    let own = json!({"message": mark, "channel": "sales"}).to_string();
    let a = relay
        .post_with(
            OP,
            &[("idempotency-key", "1"), ("authorization", &token)],
            &own,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(relay.deliveries("memoio", "receiver=anna%40example.com"), 1);
    let other =
        json!({"receiver": "mallory@example.com", "message": "x", "channel": "sales"}).to_string();
    let a = relay
        .post_with(
            OP,
            &[("idempotency-key", "2"), ("authorization", &token)],
            &other,
        )
        .await;
    assert_eq!(
        (a.status.as_u16(), a.code(), a.body["field"].as_str()),
        (403, "forbidden", Some("receiver"))
    );
}

#[tokio::test]
async fn pin_fixes_a_field() {
    let relay = sandbox(&format!(
        "[operations.\"{OP}\"]\naccess = \"public\"\npin = {{ channel = \"sales\" }}"
    ))
    .await;
    let mark = marker("pin");
    let a = relay
        .post(
            OP,
            "1",
            &json!({"receiver": "a@b.co", "message": mark}).to_string(),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        relay.deliveries("memoio", &format!("{mark}&channel=sales")),
        1
    );
    let a = relay
        .post(
            OP,
            "2",
            &json!({"receiver": "a@b.co", "message": "x", "channel": "support"}).to_string(),
        )
        .await;
    assert_eq!(
        (a.status.as_u16(), a.code(), a.body["field"].as_str()),
        (403, "forbidden", Some("channel"))
    );
    let caps = relay.get("/v1/capabilities").await;
    let op = caps.body["operations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == OP)
        .unwrap()
        .clone();
    assert_eq!(op["pinned"], json!(["channel"]));
}

#[tokio::test]
async fn chayns_callers_are_verified_online_and_may_send_as_themselves() {
    let relay = sandbox("[operations.\"chayns/intercom\"]\naccess = \"chayns\"").await;
    let user = hail_relay::sandbox::CHAYNS_USERS[0].0;
    let mark = marker("caller");
    let body = json!({"message": mark, "asCaller": true}).to_string();
    let a = relay.post("chayns/intercom", "1", &body).await;
    assert_eq!((a.status.as_u16(), a.code()), (401, "unauthenticated"));
    let a = relay
        .post_with(
            "chayns/intercom",
            &[("idempotency-key", "2"), ("authorization", "Bearer forged")],
            &body,
        )
        .await;
    assert_eq!(
        (a.status.as_u16(), a.code()),
        (401, "unauthenticated"),
        "{}",
        a.text
    );
    let bearer = format!("Bearer {user}");
    let a = relay
        .post_with(
            "chayns/intercom",
            &[("idempotency-key", "3"), ("authorization", &bearer)],
            &body,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let entries = relay.state.sandbox.as_ref().unwrap().outbox.list();
    let sent = entries
        .iter()
        .find(|e| e.body.contains(&mark))
        .expect("delivered");
    // chayns accepted the token as UserAccessToken (the simulation checks it); the outbox
    // shows it redacted.
    assert_eq!(sent.status, 201);
    assert!(
        sent.body.contains(r#""UserAccessToken":"<redacted>""#),
        "{}",
        sent.body
    );
    assert!(!a.text.contains(user), "the token never comes back");
}

#[tokio::test]
async fn as_caller_is_forbidden_without_chayns_access() {
    let relay = sandbox("").await;
    let a = relay
        .post(
            "chayns/intercom",
            "1",
            &json!({"message": "m", "asCaller": true}).to_string(),
        )
        .await;
    assert_eq!((a.status.as_u16(), a.code()), (403, "forbidden"));
}

#[tokio::test]
async fn disabled_operations_are_refused_before_anything_else() {
    let relay = sandbox("[operations.\"livedesk/send-message\"]\naccess = \"disabled\"").await;
    let a = relay
        .post_with("livedesk/send-message", &[], "not even json")
        .await;
    assert_eq!((a.status.as_u16(), a.code()), (403, "operation_disabled"));
    let caps = relay.get("/v1/capabilities").await;
    assert!(!caps.text.contains("livedesk/send-message"));
}

#[tokio::test]
async fn rate_limits_are_per_caller_with_retry_after() {
    let relay = sandbox(&format!(
        "{}\n[rate_limit]\nper_minute = 60\nburst = 2",
        jwt_config("")
    ))
    .await;
    let anna = format!("Bearer {}", hs256(claims("anna", "a@b.co")));
    let ben = format!("Bearer {}", hs256(claims("ben", "b@b.co")));
    for i in 0..2 {
        let a = relay
            .post_with(
                OP,
                &[
                    ("idempotency-key", &format!("a{i}")),
                    ("authorization", &anna),
                ],
                &memoio("rl"),
            )
            .await;
        assert_eq!(a.status, 200, "{}", a.text);
    }
    let limited = relay
        .post_with(
            OP,
            &[("idempotency-key", "a2"), ("authorization", &anna)],
            &memoio("rl"),
        )
        .await;
    assert_eq!(
        (limited.status.as_u16(), limited.code()),
        (429, "rate_limited")
    );
    let wait: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&wait), "{wait}");
    assert_eq!(limited.body["retryable"], true);
    let other = relay
        .post_with(
            OP,
            &[("idempotency-key", "b0"), ("authorization", &ben)],
            &memoio("rl"),
        )
        .await;
    assert_eq!(other.status, 200, "another caller has its own budget");
}
