//! Replies over real HTTP (DESIGN.md, "Replies"): relay processes in sandbox mode, webhooks
//! posted as the vendors post them (signed by this test with the configured secrets, or by the
//! simulated vendors through `POST /v1/sandbox/replies`), streams read as Server-Sent Events.

#[path = "support/process.rs"]
mod process;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use process::{free_port, listening, redis_server, relay_cmd, write_config, Proc};
use serde_json::{json, Value};

const HOOK: &str = "test-livedesk-hook-secret-0123456789abcdef";
const SIGNING: &str = "test-livedesk-signing-secret";
const MLUVII_HOOK: &str = "test-mluvii-hook-secret-0123456789abcdef0";

/// `[replies]` with fixed secrets, so this test can deliver as LiveDesk and mluvii do.
fn replies_toml() -> String {
    format!(
        "[replies.livedesk]\nhook_secret = {{ value = \"{HOOK}\" }}\nsigning_secret = {{ value = \"{SIGNING}\" }}\n\
         [replies.mluvii]\nhook_secret = {{ value = \"{MLUVII_HOOK}\" }}\nbasic_user = \"mluvii\"\nbasic_password = {{ value = \"pw\" }}\n"
    )
}

fn relay(name: &str, config: &str) -> (Proc, String) {
    let path = write_config(&format!("replies-{name}.toml"), config);
    listening(
        relay_cmd()
            .args(["--sandbox", "--listen", "127.0.0.1:0", "--config"])
            .arg(&path)
            .env("RUST_LOG", "warn"),
    )
}

/// A LiveDesk conversation started through `relay`: its id and the answer's `replies`.
async fn start(http: &reqwest::Client, relay: &str, who: &str) -> (u64, Value) {
    let answer: Value = http
        .post(format!("{relay}/v1/livedesk/start-conversation"))
        .header("idempotency-key", format!("start-{who}"))
        .json(&json!({"inboxId": 407, "contact": {"name": who, "email": format!("{who}@example.com")}, "content": "Hello"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let conversation = answer["data"]["conversation"]["id"].as_u64().unwrap();
    assert!(answer["replies"]["token"].is_string(), "{answer}");
    (conversation, answer["replies"].clone())
}

fn signed(body: &str, ts: u64, secret: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{ts}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// LiveDesk's `message_created` for an agent's message `id` in `conversation`.
fn agent_message(conversation: u64, id: u64, text: &str, private: bool) -> String {
    json!({"event": "message_created", "id": id, "content": text, "created_at": "2026-12-07T10:00:00Z",
           "message_type": "outgoing", "private": private, "sender": {"id": 1, "type": "user"},
           "conversation": {"id": conversation}, "account": {"id": 1}})
    .to_string()
}

/// Posts a LiveDesk delivery to `relay`'s intake at `path_secret`, signed at `ts` with `secret`
/// (`None`: unsigned); the status.
async fn deliver(
    http: &reqwest::Client,
    relay: &str,
    path_secret: &str,
    body: &str,
    signature: Option<(u64, &str)>,
    delivery: &str,
) -> u16 {
    let mut request = http
        .post(format!("{relay}/v1/hooks/livedesk/{path_secret}"))
        .header("content-type", "application/json")
        .header("x-chatwoot-delivery", delivery)
        .body(body.to_owned());
    if let Some((ts, secret)) = signature {
        request = request
            .header("x-chatwoot-timestamp", ts.to_string())
            .header("x-chatwoot-signature", signed(body, ts, secret));
    }
    request.send().await.unwrap().status().as_u16()
}

/// The events of the stream `replies` on `relay` after `last` that arrive within `wait`
/// (the stream stays open: what came by then is what there is).
async fn events(
    http: &reqwest::Client,
    relay: &str,
    replies: &Value,
    last: Option<u64>,
    wait: Duration,
) -> Vec<Value> {
    let mut request = http
        .get(format!("{relay}{}", replies["url"].as_str().unwrap()))
        .header(
            "authorization",
            format!("Bearer {}", replies["token"].as_str().unwrap()),
        )
        .header("accept", "text/event-stream");
    if let Some(last) = last {
        request = request.header("last-event-id", last.to_string());
    }
    let mut response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let mut text = String::new();
    let until = Instant::now() + wait;
    while let Ok(Ok(Some(chunk))) = tokio::time::timeout(
        until.saturating_duration_since(Instant::now()),
        response.chunk(),
    )
    .await
    {
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let events: Vec<Value> = text
        .split("\n\n")
        .filter_map(|block| {
            let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
            let id = block.lines().find_map(|l| l.strip_prefix("id: "))?;
            let event: Value = serde_json::from_str(data).ok()?;
            assert_eq!(event["seq"].as_u64(), id.parse().ok(), "id is seq: {block}");
            Some(event)
        })
        .collect();
    events
}

fn texts(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["text"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn a_forged_or_replayed_webhook_is_refused_and_stores_nothing() {
    let (_p, relay) = relay("forged", &replies_toml());
    let http = reqwest::Client::new();
    let (conversation, replies) = start(&http, &relay, "forged").await;
    let body = agent_message(conversation, 9001, "forged", false);
    let t = now();
    // A wrong path secret, no signature, a wrong one, one over another body, a stale one.
    assert_eq!(
        deliver(
            &http,
            &relay,
            "wrong-secret",
            &body,
            Some((t, SIGNING)),
            "d1"
        )
        .await,
        404
    );
    assert_eq!(deliver(&http, &relay, HOOK, &body, None, "d2").await, 401);
    assert_eq!(
        deliver(
            &http,
            &relay,
            HOOK,
            &body,
            Some((t, "not-the-secret")),
            "d3"
        )
        .await,
        401
    );
    let other = agent_message(conversation, 9001, "other", false);
    let mut request = http
        .post(format!("{relay}/v1/hooks/livedesk/{HOOK}"))
        .header("x-chatwoot-timestamp", t.to_string())
        .header("x-chatwoot-signature", signed(&other, t, SIGNING))
        .body(body.clone());
    request = request.header("x-chatwoot-delivery", "d4");
    assert_eq!(request.send().await.unwrap().status(), 401);
    assert_eq!(
        deliver(&http, &relay, HOOK, &body, Some((t - 600, SIGNING)), "d5").await,
        401
    );
    // A genuine one goes through, once: the refused ones left nothing behind (not even as
    // "seen", which would have swallowed it).
    let genuine = agent_message(conversation, 9001, "genuine", false);
    assert_eq!(
        deliver(&http, &relay, HOOK, &genuine, Some((t, SIGNING)), "d6").await,
        200
    );
    let got = events(&http, &relay, &replies, None, Duration::from_millis(800)).await;
    assert_eq!(texts(&got), ["genuine"]);
    assert_eq!(
        (got[0]["author"].as_str(), got[0]["kind"].as_str()),
        (Some("agent"), Some("message"))
    );
    // mluvii: HTTP Basic is required where configured.
    let mluvii = json!({"eventType": "SessionActivityChatMessage", "data": {"sessionId": 5, "activityId": 6, "client": "User", "text": "x"}}).to_string();
    let url = format!("{relay}/v1/hooks/mluvii/{MLUVII_HOOK}");
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(
        status(http.post(&url).body(mluvii.clone()).send().await.unwrap()),
        401
    );
    assert_eq!(
        status(
            http.post(&url)
                .basic_auth("mluvii", Some("no"))
                .body(mluvii.clone())
                .send()
                .await
                .unwrap()
        ),
        401
    );
    assert_eq!(
        status(
            http.post(&url)
                .basic_auth("mluvii", Some("pw"))
                .body(mluvii)
                .send()
                .await
                .unwrap()
        ),
        200
    );
}

#[tokio::test]
async fn duplicates_private_notes_echoes_and_the_visitors_own_words_reach_no_stream() {
    let (_p, relay) = relay("filters", &replies_toml());
    let http = reqwest::Client::new();
    let (conversation, replies) = start(&http, &relay, "filters").await;
    let agent = |content: &str, private: bool, delivery: &str| {
        let http = http.clone();
        let relay = relay.clone();
        let body = json!({"vendor": "livedesk", "conversationId": conversation, "content": content,
                          "private": private, "delivery": delivery});
        async move {
            let r: Value = http
                .post(format!("{relay}/v1/sandbox/replies"))
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            r
        }
    };
    let dup = agent("delivered twice", false, "duplicate").await;
    assert_eq!(dup["deliveries"], json!([200, 200]), "{dup}");
    agent("an internal note", true, "once").await;
    // The company sends as an agent through Hail: its webhook echo is no reply.
    let sent: Value = http
        .post(format!("{relay}/v1/livedesk/send-message"))
        .header("idempotency-key", "echo-1")
        .json(&json!({"conversationId": conversation, "content": "sent through Hail", "messageType": "outgoing"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(sent["data"]["id"].is_u64(), "{sent}");
    // The visitor's follow-up (incoming) comes back as a webhook too.
    let follow: Value = http
        .post(format!(
            "{relay}{}/messages",
            replies["url"].as_str().unwrap()
        ))
        .bearer_auth(replies["token"].as_str().unwrap())
        .header("idempotency-key", "follow-1")
        .json(&json!({"content": "thanks"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(follow["data"]["messageType"], json!(0), "{follow}");
    agent("the last one", false, "once").await;
    // The webhooks of sends leave after their answers (as Chatwoot's job does).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = events(&http, &relay, &replies, None, Duration::from_millis(800)).await;
    assert_eq!(texts(&got), ["delivered twice", "the last one"]);
    assert_eq!(
        got.iter()
            .map(|e| e["seq"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [1, 2]
    );
    let metrics = http
        .get(format!("{relay}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for outcome in ["duplicate", "hidden", "echo"] {
        assert!(
            metrics.contains(&format!("vendor=\"livedesk\",outcome=\"{outcome}\"")),
            "{outcome} missing from {metrics}"
        );
    }
    // The follow-up was sent once, as the visitor, into that conversation; its key replays.
    let again: Value = http
        .post(format!(
            "{relay}{}/messages",
            replies["url"].as_str().unwrap()
        ))
        .bearer_auth(replies["token"].as_str().unwrap())
        .header("idempotency-key", "follow-1")
        .json(&json!({"content": "thanks"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["data"]["id"], follow["data"]["id"]);
    let outbox: Value = http
        .get(format!("{relay}/v1/sandbox/outbox"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let thanks = outbox["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| {
            let body: Value = serde_json::from_str(e["body"].as_str()?).ok()?;
            (body["content"] == "thanks")
                .then(|| (body, e["url"].as_str().unwrap_or_default().to_owned()))
        })
        .collect::<Vec<_>>();
    assert_eq!(thanks.len(), 1, "{outbox}");
    assert_eq!(thanks[0].0["message_type"], "incoming");
    assert!(thanks[0]
        .1
        .ends_with(&format!("/conversations/{conversation}/messages")));
}

#[tokio::test]
async fn one_visitors_token_opens_no_other_stream() {
    let (_p, relay) = relay("tokens", &replies_toml());
    let http = reqwest::Client::new();
    let (_, a) = start(&http, &relay, "visitor-a").await;
    let (_, b) = start(&http, &relay, "visitor-b").await;
    let url_a = format!("{relay}{}", a["url"].as_str().unwrap());
    let code = |v: Value| v["code"].as_str().unwrap_or_default().to_owned();
    let open = |token: Option<String>| {
        let mut r = http.get(&url_a).header("accept", "text/event-stream");
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        async move {
            let response = r.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or_default())
        }
    };
    let (status, body) = open(Some(b["token"].as_str().unwrap().to_owned())).await;
    assert_eq!((status, code(body)), (403, "replies_refused".to_owned()));
    let (status, body) = open(Some("0".repeat(64))).await;
    assert_eq!((status, code(body)), (403, "replies_refused".to_owned()));
    let (status, body) = open(None).await;
    assert_eq!((status, code(body)), (401, "unauthenticated".to_owned()));
    // Nor may B send into A's conversation.
    let response = http
        .post(format!("{url_a}/messages"))
        .bearer_auth(b["token"].as_str().unwrap())
        .header("idempotency-key", "b-into-a")
        .json(&json!({"content": "hijack"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    // A revoked stream: its open connection ends, its token opens nothing more.
    let mut open_a = http
        .get(&url_a)
        .bearer_auth(a["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(open_a.status(), 200);
    let revoked = http
        .delete(&url_a)
        .bearer_auth(b["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 403, "B may not revoke A's stream");
    let revoked = http
        .delete(&url_a)
        .bearer_auth(a["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 204);
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Ok(Some(_)) = open_a.chunk().await {}
    })
    .await;
    assert!(ended.is_ok(), "the open stream did not end");
    let (status, body) = open(Some(a["token"].as_str().unwrap().to_owned())).await;
    assert_eq!((status, code(body)), (403, "replies_refused".to_owned()));
    // A stream that does not exist answers as a wrong token does.
    let response = http
        .get(format!(
            "{relay}/v1/replies/00000000000000000000000000000000"
        ))
        .bearer_auth(a["token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn after_sigkill_between_two_replies_a_resumed_stream_gets_each_once() {
    let dir = std::env::temp_dir().join(format!("hail-replies-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = format!(
        "store = \"embedded\"\ndata_dir = \"{}\"\n{}",
        dir.display(),
        replies_toml()
    );
    let http = reqwest::Client::new();
    let (first, relay) = relay("kill", &config);
    let (conversation, replies) = start(&http, &relay, "kill").await;
    let one = agent_message(conversation, 7001, "before the crash", false);
    assert_eq!(
        deliver(&http, &relay, HOOK, &one, Some((now(), SIGNING)), "k1").await,
        200
    );
    let got = events(&http, &relay, &replies, None, Duration::from_millis(500)).await;
    assert_eq!(texts(&got), ["before the crash"]);
    // Acknowledged means kept: SIGKILL now (Proc's drop kills with SIGKILL).
    drop(first);
    let (_second, relay) = relay_again("kill", &config);
    let two = agent_message(conversation, 7002, "after the restart", false);
    assert_eq!(
        deliver(&http, &relay, HOOK, &two, Some((now(), SIGNING)), "k2").await,
        200
    );
    // LiveDesk redelivers the first (its retry after the crash): nothing new.
    assert_eq!(
        deliver(&http, &relay, HOOK, &one, Some((now(), SIGNING)), "k1").await,
        200
    );
    let resumed = events(&http, &relay, &replies, Some(1), Duration::from_millis(500)).await;
    assert_eq!(texts(&resumed), ["after the restart"]);
    assert_eq!(resumed[0]["seq"], 2);
    let all = events(&http, &relay, &replies, Some(0), Duration::from_millis(500)).await;
    assert_eq!(texts(&all), ["before the crash", "after the restart"]);
    let _ = std::fs::remove_dir_all(&dir);
}

fn relay_again(name: &str, config: &str) -> (Proc, String) {
    relay(&format!("{name}-again"), config)
}

#[tokio::test]
async fn a_webhook_to_relay_a_reaches_a_page_streaming_from_relay_b() {
    let port = free_port();
    let _redis = redis_server(port, &[]);
    let config = format!(
        "store = {{ redis = \"redis://127.0.0.1:{port}\", timeout_ms = 500 }}\n{}",
        replies_toml()
    );
    let (_a, a) = relay("redis-a", &config);
    let (_b, b) = relay("redis-b", &config);
    let http = reqwest::Client::new();
    let (conversation, replies) = start(&http, &a, "two-relays").await;
    // The page streams from B, and stays connected while the webhook reaches A.
    let reading = {
        let (http, b, replies) = (http.clone(), b.clone(), replies.clone());
        tokio::spawn(async move { events(&http, &b, &replies, None, Duration::from_secs(3)).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let body = agent_message(conversation, 8001, "via relay A", false);
    assert_eq!(
        deliver(&http, &a, HOOK, &body, Some((now(), SIGNING)), "r1").await,
        200
    );
    // The same delivery at B (a load balancer's choice on the vendor's retry): one event.
    assert_eq!(
        deliver(&http, &b, HOOK, &body, Some((now(), SIGNING)), "r1").await,
        200
    );
    let got = reading.await.unwrap();
    assert_eq!(texts(&got), ["via relay A"]);
}

#[tokio::test]
async fn a_reply_whose_webhook_never_came_is_filled_from_livedesks_list_once() {
    let (_p, relay) = relay("gap", &replies_toml());
    let http = reqwest::Client::new();
    let (conversation, replies) = start(&http, &relay, "gap").await;
    let agent = |content: &str, delivery: &str| {
        http.post(format!("{relay}/v1/sandbox/replies"))
            .json(&json!({"vendor": "livedesk", "conversationId": conversation, "content": content, "delivery": delivery}))
            .send()
    };
    let answer: Value = agent("delivered", "once")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["deliveries"], json!([200]));
    // LiveDesk gave up on this one (the relay was down past its retries).
    let answer: Value = agent("never delivered", "dropped")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["deliveries"], json!([]));
    let got = events(&http, &relay, &replies, None, Duration::from_millis(800)).await;
    assert_eq!(texts(&got), ["delivered", "never delivered"]);
    // Opening again finds nothing new to add: each message once.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let again = events(&http, &relay, &replies, Some(0), Duration::from_millis(500)).await;
    assert_eq!(texts(&again), ["delivered", "never delivered"]);
}

#[tokio::test]
async fn registering_at_mluvii_twice_updates_the_webhook_already_there() {
    // The relay that runs the command calls relay A's simulated mluvii, whose outbox shows it.
    let (_a, a) = relay("register-vendor", "");
    let http = reqwest::Client::new();
    let caps: Value = http
        .get(format!("{a}/v1/capabilities"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let root = caps["chaynsUserApi"]
        .as_str()
        .unwrap()
        .trim_end_matches("/chayns-user")
        .to_owned();
    let config = write_config(
        "replies-register.toml",
        &format!("[vendors.mluvii]\nbase_url = \"{root}/mluvii\"\n"),
    );
    let url = "https://hail:pw@relay.example.com/v1/hooks/mluvii/0123456789abcdef0123456789abcdef";
    let register = || {
        relay_cmd()
            .args(["--sandbox", "--config"])
            .arg(&config)
            .args(["webhooks", "register", "mluvii", "--url", url])
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let first = register();
    let said = String::from_utf8_lossy(&first.stdout).into_owned();
    assert!(
        first.status.success() && said.contains("webhook registered"),
        "{said}"
    );
    let second = register();
    let said = String::from_utf8_lossy(&second.stdout).into_owned();
    assert!(
        second.status.success() && said.contains("registered already"),
        "{said}"
    );
    let outbox: Value = http
        .get(format!("{a}/v1/sandbox/outbox"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let calls: Vec<(String, u64)> = outbox["entries"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|e| {
            let path = e["url"]
                .as_str()
                .unwrap()
                .rsplit("/api/v1/")
                .next()
                .unwrap()
                .to_owned();
            (
                format!("{} {path}", e["method"].as_str().unwrap()),
                e["status"].as_u64().unwrap(),
            )
        })
        .collect();
    let id = calls
        .last()
        .unwrap()
        .0
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        calls,
        [
            ("POST Webhooks".to_owned(), 200),
            ("POST Webhooks".to_owned(), 409),
            (format!("PUT Webhooks/{id}"), 200)
        ]
    );
    // LiveDesk has no such API: said, and refused.
    let livedesk = relay_cmd()
        .args([
            "--sandbox",
            "webhooks",
            "register",
            "livedesk",
            "--url",
            url,
        ])
        .output()
        .unwrap();
    assert_eq!(livedesk.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&livedesk.stderr).contains("console"));
}

#[test]
fn a_guessable_hook_secret_is_refused_naming_the_setting() {
    let config = write_config(
        "replies-short.toml",
        "[replies.livedesk]\nhook_secret = { value = \"short\" }\n",
    );
    let out = relay_cmd()
        .args(["--sandbox", "--check-config", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("replies.livedesk.hook_secret: must be at least 32"),
        "{said}"
    );
    assert!(!said.contains("short\""), "{said}");
}
