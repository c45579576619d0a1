//! A hostile vendor that echoes the credentials it received, encoded as vendors and their
//! frameworks do (JSON `\u00XX` and PHP's `\/`, percent-encoding in three spellings, hex
//! escapes, HTML entities), in error pages and in success bodies: the real `hail-relay` binary
//! in front of it must never let a caller see any form of any secret, neither in its answer
//! nor in the replay of a stored one.

#[path = "support/process.rs"]
mod process;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use process::{listening, write_config, Proc, BIN};
use serde_json::{json, Value};

// Secrets with the characters the encodings differ on.
const MEMOIO_KEY: &str = "canary/memoio~key!4711(x)";
const TAPP_SECRET: &str = "canary tapp*secret'0815/y";
const LIVEDESK_KEY: &str = "canary~ldk/key+1234";
const LIVEDESK_SECRET: &str = "canary&lds/secret~5678";
const MLUVII_SECRET: &str = "canary mls/secret+9999!";
const MLUVII_ISSUED: &str = "canary/issued~token+abcdef";

/// How a vendor spells a credential.
type Encoding = fn(&str) -> String;

fn json_u(s: &str) -> String {
    s.chars().map(|c| format!("\\u{:04x}", c as u32)).collect()
}
fn json_php(s: &str) -> String {
    serde_json::to_string(s)
        .unwrap()
        .trim_matches('"')
        .replace('/', "\\/")
}
/// Percent-encoding leaving `keep` (and ASCII letters and digits) as it is.
fn percent(s: &str, keep: &str, lower: bool, plus: bool) -> String {
    s.bytes()
        .map(|b| match b {
            b' ' if plus => "+".to_owned(),
            b if b.is_ascii_alphanumeric() || keep.as_bytes().contains(&b) => {
                (b as char).to_string()
            }
            b if lower => format!("%{b:02x}"),
            b => format!("%{b:02X}"),
        })
        .collect()
}
fn rfc3986(s: &str) -> String {
    percent(s, "-._~", false, false)
}
fn uri_component(s: &str) -> String {
    percent(s, "-_.!~*'()", true, false)
}
fn form_lower(s: &str) -> String {
    percent(s, "-._~", true, true)
}
fn hex_escapes(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() => c.to_string(),
            c => format!("\\x{:02x}", c as u32),
        })
        .collect()
}
fn entity_dec(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() => c.to_string(),
            c => format!("&#{};", c as u32),
        })
        .collect()
}
fn entity_hex(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            c if c.is_ascii_alphanumeric() => c.to_string(),
            c => format!("&#x{:X};", c as u32),
        })
        .collect()
}
fn entity_named(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '/' => "&sol;".to_owned(),
            '&' => "&amp;".to_owned(),
            '!' => "&excl;".to_owned(),
            '*' => "&ast;".to_owned(),
            '\'' => "&apos;".to_owned(),
            '(' => "&lpar;".to_owned(),
            ')' => "&rpar;".to_owned(),
            '+' => "&plus;".to_owned(),
            ':' => "&colon;".to_owned(),
            c if c.is_ascii_alphanumeric() => c.to_string(),
            c => format!("&#{};", c as u32),
        })
        .collect()
}

const ENCODINGS: [(&str, Encoding); 9] = [
    ("json-u", json_u),
    ("json-php", json_php),
    ("rfc3986", rfc3986),
    ("uri-component", uri_component),
    ("form-lower", form_lower),
    ("hex-escapes", hex_escapes),
    ("entity-dec", entity_dec),
    ("entity-hex", entity_hex),
    ("entity-named", entity_named),
];

struct Vendor {
    /// The index into [`ENCODINGS`] and the status of the next echo.
    mode: Mutex<(usize, u16)>,
    /// The mluvii client secret, as the token call carried it.
    seen_client_secret: Mutex<String>,
    calls: AtomicUsize,
}

/// The credentials a request carried, as the vendor can read them.
fn credentials(v: &Vendor, headers: &HeaderMap) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(auth) = headers.get("authorization").and_then(|h| h.to_str().ok()) {
        found.push(auth.to_owned());
        if let Some(b64) = auth.strip_prefix("Basic ") {
            let plain = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap();
            let plain = String::from_utf8(plain).unwrap();
            if let Some((_, secret)) = plain.split_once(':') {
                found.push(secret.to_owned());
            }
            found.push(plain);
        }
        if let Some(token) = auth.strip_prefix("Bearer ") {
            found.push(token.to_owned());
            found.push(v.seen_client_secret.lock().unwrap().clone());
        }
    }
    found
}

async fn answer(
    State(v): State<Arc<Vendor>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if uri.path().ends_with("/login/connect/token") {
        let secret = form_urlencoded::parse(&body)
            .find(|(k, _)| k == "client_secret")
            .map(|(_, s)| s.into_owned())
            .unwrap_or_default();
        *v.seen_client_secret.lock().unwrap() = secret;
        return axum::Json(json!({"access_token": MLUVII_ISSUED, "expires_in": 3600}))
            .into_response();
    }
    v.calls.fetch_add(1, Ordering::SeqCst);
    let (encoding, status) = *v.mode.lock().unwrap();
    let encode = ENCODINGS[encoding].1;
    let creds = credentials(&v, &headers);
    let lines: Vec<String> = creds
        .iter()
        .map(|c| format!("seen: {}", encode(c)))
        .collect();
    if status == 200 {
        // The echo as text inside a JSON string, and once more JSON-escaped on the wire, in
        // every string field a caller gets: LiveDesk's contact name and source id, its
        // conversation's uuid and status, its message's type (one body answers all three
        // calls of a start); mluvii's subscriptions and sent templates.
        let wire = creds
            .iter()
            .map(|c| json_u(c))
            .collect::<Vec<_>>()
            .join(" ");
        let echo = serde_json::to_string(&lines.join("\n")).unwrap();
        let body = if uri.path().contains("/WhatsApp") {
            format!(r#"[{{"id":{echo},"name":"{wire}","phoneNumber":{echo},"state":{echo}}}]"#)
        } else {
            format!(
                r#"{{"echo":{echo},"wire":"{wire}","payload":{{"contact":{{"id":1,"name":{echo}}},"contact_inbox":{{"source_id":"{wire}"}}}},"id":2,"uuid":{echo},"status":"{wire}","message_type":{echo},"data":[{{"success":true,"note":{echo}}}]}}"#
            )
        };
        return ([("content-type", "application/json")], body).into_response();
    }
    let page = format!("<html><body><pre>{}</pre></body></html>", lines.join("\n"));
    let status = StatusCode::from_u16(status).unwrap();
    (status, [("content-type", "text/html")], page).into_response()
}

async fn fake_vendor() -> (String, Arc<Vendor>) {
    let vendor = Arc::new(Vendor {
        mode: Mutex::new((0, 400)),
        seen_client_secret: Mutex::new(String::new()),
        calls: AtomicUsize::new(0),
    });
    let app = axum::Router::new()
        .fallback(answer)
        .with_state(vendor.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, vendor)
}

fn relay(vendor: &str) -> (Proc, String) {
    let config = format!(
        "store = \"memory\"\n[rate_limit]\nper_minute = 6000\nburst = 1000\n\
         [upstream]\ntimeout_ms = 3000\nconnect_timeout_ms = 500\nretries = 0\n\
         [vendors.memoio]\nbase_url = \"{vendor}/memoio\"\nsecret_key = {{ env = \"T_MEMOIO\" }}\n\
         [vendors.chayns]\nbase_url = \"{vendor}/chayns\"\nlocation_id = 77\ntapp_id = 42\ntapp_secret = {{ env = \"T_TAPP\" }}\n\
         [vendors.livedesk]\nbase_url = \"{vendor}/livedesk\"\napi_key = {{ env = \"T_LDK\" }}\napi_secret = {{ env = \"T_LDS\" }}\n\
         [vendors.mluvii]\nbase_url = \"{vendor}/mluvii\"\nclient_id = \"hail\"\nclient_secret = {{ env = \"T_MLS\" }}\n\
         [operations.\"memoio/start-conversation\"]\naccess = \"public\"\n\
         [operations.\"chayns/intercom\"]\naccess = \"public\"\n\
         [operations.\"livedesk/start-conversation\"]\naccess = \"public\"\n\
         [operations.\"mluvii/whatsapp-subscriptions\"]\naccess = \"public\"\n\
         [operations.\"mluvii/whatsapp-sent-templates\"]\naccess = \"public\"\n"
    );
    let path = write_config("echo-encodings.toml", &config);
    listening(
        std::process::Command::new(BIN)
            .args(["--listen", "127.0.0.1:0", "--config"])
            .arg(&path)
            .env("T_MEMOIO", MEMOIO_KEY)
            .env("T_TAPP", TAPP_SECRET)
            .env("T_LDK", LIVEDESK_KEY)
            .env("T_LDS", LIVEDESK_SECRET)
            .env("T_MLS", MLUVII_SECRET)
            .stderr(std::process::Stdio::null()),
    )
}

/// Every string a caller could read in `text`: the bytes, and each JSON string unescaped.
fn readable(text: &str) -> Vec<String> {
    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(items) => items.iter().for_each(|i| strings(i, out)),
            Value::Object(map) => map.iter().for_each(|(k, v)| {
                out.push(k.clone());
                strings(v, out);
            }),
            _ => {}
        }
    }
    let mut out = vec![text.to_owned()];
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        strings(&v, &mut out);
    }
    out
}

/// Every secret, and how the vendor saw it (inside `Basic`, with its user).
fn secrets() -> Vec<String> {
    let b64 = |s: String| base64::engine::general_purpose::STANDARD.encode(s);
    vec![
        MEMOIO_KEY.to_owned(),
        TAPP_SECRET.to_owned(),
        format!("42:{TAPP_SECRET}"),
        b64(format!("42:{TAPP_SECRET}")),
        LIVEDESK_KEY.to_owned(),
        LIVEDESK_SECRET.to_owned(),
        format!("{LIVEDESK_KEY}:{LIVEDESK_SECRET}"),
        b64(format!("{LIVEDESK_KEY}:{LIVEDESK_SECRET}")),
        MLUVII_SECRET.to_owned(),
        MLUVII_ISSUED.to_owned(),
    ]
}

fn assert_clean(what: &str, text: &str) {
    for view in readable(text) {
        for secret in secrets() {
            for (name, encode) in ENCODINGS
                .iter()
                .chain([("raw", (|s: &str| s.to_owned()) as Encoding)].iter())
            {
                let form = encode(&secret);
                // Any middle part of the form: a cut or widened echo leaks no part either.
                let middle = &form[4..form.len() - 4];
                assert!(
                    !view.contains(middle),
                    "{what}: {secret:?} leaked {name}-encoded as {middle:?} in {view:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn no_encoding_of_a_credential_reaches_the_caller() {
    let (vendor_url, vendor) = fake_vendor().await;
    let (_proc, url) = relay(&vendor_url);
    let http = reqwest::Client::new();
    let calls = [
        (
            "memoio/start-conversation",
            json!({"receiver": "anna@example.com", "message": "Hello", "channel": "sales"}),
        ),
        ("chayns/intercom", json!({"message": "m", "userIds": [1]})),
        (
            "livedesk/start-conversation",
            json!({"inboxId": 1, "contact": {"name": "A"}, "content": "m"}),
        ),
        ("mluvii/whatsapp-subscriptions", json!({})),
        (
            "mluvii/whatsapp-sent-templates",
            json!({"subscriptionId": "6f9619ff-8b86-d011-b42d-00c04fc964ff"}),
        ),
    ];
    let mut n = 0;
    for (index, (name, _)) in ENCODINGS.iter().enumerate() {
        for status in [400, 200] {
            *vendor.mode.lock().unwrap() = (index, status);
            for (op, body) in &calls {
                n += 1;
                let key = format!("echo-{n}");
                let what = format!("{op} {status} {name}");
                let send = || {
                    http.post(format!("{url}/v1/{op}"))
                        .header("idempotency-key", &key)
                        .json(body)
                        .send()
                };
                let first = send().await.unwrap();
                let first_status = first.status().as_u16();
                let text = first.text().await.unwrap();
                if status == 200 && *op == "chayns/intercom" {
                    // A typed answer (`{success}`): no vendor text reaches the caller at all.
                    assert!(!text.contains("seen"), "{what}: {text}");
                } else {
                    // The echo came through (the vendor's text reaches the caller) ...
                    assert!(text.contains("<redacted>"), "{what}: {text}");
                }
                // ... without any credential, in any form.
                assert_clean(&what, &text);
                if status == 200 {
                    assert_eq!(first_status, 200, "{what}: {text}");
                }
                // The stored answer, replayed to the retry, is the scrubbed one.
                let calls_before = vendor.calls.load(Ordering::SeqCst);
                let again = send().await.unwrap();
                if status == 200 && Sends::of(op) {
                    assert_eq!(again.headers()["idempotent-replayed"], "true", "{what}");
                }
                let replayed = again.text().await.unwrap();
                assert_clean(&format!("{what} (replay)"), &replayed);
                if status == 200 && Sends::of(op) {
                    assert_eq!(vendor.calls.load(Ordering::SeqCst), calls_before, "{what}");
                }
            }
        }
    }
}

/// Whether an operation sends (and so has its answer stored and replayed).
struct Sends;

impl Sends {
    fn of(op: &str) -> bool {
        !op.starts_with("mluvii/whatsapp-s") || op == "mluvii/whatsapp-send-templates"
    }
}
