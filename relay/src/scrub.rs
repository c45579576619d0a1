//! Redaction of credentials from text that reaches a caller.
//!
//! Vendor answers are untrusted: a vendor (or a proxy in front of it) may echo the request,
//! headers included, in an error body. Every secret the relay reads from its configuration is
//! registered here once, when it is read ([`register`]); every token the relay is issued is
//! registered when it arrives ([`register_issued`]). Every problem the relay answers passes
//! [`detail`] (see `problem::stored_problem`), and every success body [`json_body`], before it
//! is stored or sent.
//!
//! A secret is searched for in the forms it travels in: as is, URL-encoded (form and path
//! style), JSON-escaped, and inside base64 — the last without knowing what was encoded with it
//! (`Basic base64(user:secret)` embeds the secret at any of three byte alignments; for each, the
//! base64 characters that depend on the secret's bytes alone are a fixed string). Matching is
//! ASCII case-insensitive (percent-encoding may use either case) and a match is widened to the
//! whole token around it (`Basic <redacted>`, not half a base64 string).
//!
//! Those forms are searched for in the text as it is and in every decoded view of it
//! ([`decode`]: JSON and hex escapes, percent-encoding, HTML entities, layered): spellings are
//! endless, the decoded text is one. A secret found in a decoded view is redacted in the original
//! text over the whole run around it (up to whitespace, quotes or tags), never re-encoded in part.

use std::borrow::Cow;
use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use base64::Engine as _;
use bytes::Bytes;
use secrecy::{ExposeSecret, SecretString};

mod decode;

/// What a credential is replaced with.
pub const REDACTED: &str = "<redacted>";
/// Longest `detail` a caller gets, in bytes (vendor text is cut after redaction).
pub const DETAIL_MAX_BYTES: usize = 1024;
/// Shorter secrets are searched for as they are only (their encodings would match too much).
/// They are still searched for: a short secret over-redacts vendor text, which is harmless.
const MIN_SECRET_BYTES: usize = 4;
/// Shortest base64 fragment searched for (36 bits: chance matches are negligible).
const MIN_BASE64_CHARS: usize = 6;
/// Shortest piece of a secret recognised at the very start or end of a cut text.
const MIN_PARTIAL_BYTES: usize = 4;
/// Issued tokens remembered (the current ones and a few predecessors).
const ISSUED_KEPT: usize = 16;

/// A set of secrets, compiled for search.
#[derive(Default)]
pub struct Redactor {
    /// The search forms of every secret (lower-cased, for the partial checks).
    patterns: Vec<Vec<u8>>,
    matcher: Option<AhoCorasick>,
}

impl Redactor {
    /// A redactor for `secrets`.
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Self {
        let mut forms = BTreeSet::new();
        for secret in secrets {
            forms_of(secret, &mut forms);
        }
        let patterns: Vec<Vec<u8>> = forms.into_iter().collect();
        let matcher = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            .build(&patterns)
            .ok()
            .filter(|_| !patterns.is_empty());
        Self { patterns, matcher }
    }

    /// Whether `bytes` may contain a secret: a form of one as they are, or anything encoded
    /// (which [`Self::scrub`] decodes before it looks).
    pub fn may_find(&self, bytes: &[u8]) -> bool {
        self.matcher
            .as_ref()
            .is_some_and(|m| m.is_match(bytes) || decode::may_be_encoded(bytes))
    }

    /// `text` with every secret (and the token it sits in) replaced by [`REDACTED`]; a token at
    /// the very start or end that is a cut piece of a secret is replaced too.
    pub fn scrub<'t>(&self, text: &'t str) -> Cow<'t, str> {
        let Some(matcher) = &self.matcher else {
            return Cow::Borrowed(text);
        };
        let bytes = text.as_bytes();
        let mut spans: Vec<(usize, usize)> = matcher
            .find_iter(bytes)
            .map(|m| widen(bytes, m.start(), m.end()))
            .collect();
        let first = widen(bytes, 0, 0);
        if first.1 > 0 && self.is_cut_piece(&bytes[..first.1], false) {
            spans.push(first);
        }
        let last = widen(bytes, bytes.len(), bytes.len());
        if last.0 < bytes.len() && self.is_cut_piece(&bytes[last.0..], true) {
            spans.push(last);
        }
        for view in decode::views(text) {
            self.decoded_spans(&view, bytes, matcher, &mut spans);
        }
        if spans.is_empty() {
            return Cow::Borrowed(text);
        }
        spans.sort_unstable();
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (start, end) in spans {
            if end <= at {
                continue;
            }
            // Spans start and end at ASCII token characters or the text's ends: char boundaries.
            out.push_str(text.get(at..start.max(at)).unwrap_or_default());
            out.push_str(REDACTED);
            at = end;
        }
        out.push_str(text.get(at..).unwrap_or_default());
        Cow::Owned(out)
    }

    /// The spans of `original` whose decoded `view` holds a secret, whole or cut at an end.
    fn decoded_spans(
        &self,
        view: &decode::View,
        original: &[u8],
        matcher: &AhoCorasick,
        spans: &mut Vec<(usize, usize)>,
    ) {
        let d = &view.bytes;
        for m in matcher.find_iter(d) {
            if let Some((s, e)) = view.span(m.start(), m.end()) {
                spans.push(widen_decoded(original, s, e));
            }
        }
        let first = d
            .iter()
            .position(u8::is_ascii_whitespace)
            .unwrap_or(d.len());
        if first > 0 && self.is_cut_piece(&d[..first], false) {
            if let Some((_, e)) = view.span(0, first) {
                spans.push(widen_decoded(original, 0, e));
            }
        }
        let last = d
            .iter()
            .rposition(u8::is_ascii_whitespace)
            .map_or(0, |p| p + 1);
        if last < d.len() && self.is_cut_piece(&d[last..], true) {
            if let Some((s, _)) = view.span(last, d.len()) {
                spans.push(widen_decoded(original, s, original.len()));
            }
        }
    }

    /// Whether `token` (at the text's end if `at_end`, else at its start) ends with the
    /// beginning of a secret form (or starts with the end of one): what a cut leaves behind.
    fn is_cut_piece(&self, token: &[u8], at_end: bool) -> bool {
        let token = token.to_ascii_lowercase();
        self.patterns.iter().any(|p| {
            (MIN_PARTIAL_BYTES..p.len().min(token.len() + 1)).any(|n| {
                if at_end {
                    p.starts_with(&token[token.len() - n..])
                } else {
                    p.ends_with(&token[..n])
                }
            })
        })
    }
}

/// Characters a credential token is made of: base64 (both alphabets), percent-encoding, and
/// the usual token punctuation.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"+/=_-%.~".contains(&b)
}

/// `[start, end)` widened to the whole run of token characters around it.
fn widen(bytes: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start > 0 && is_token_byte(bytes[start - 1]) {
        start -= 1;
    }
    while end < bytes.len() && is_token_byte(bytes[end]) {
        end += 1;
    }
    (start, end)
}

/// `[start, end)` widened to the whole run around it that is not whitespace, a quote or a tag
/// bracket: an encoded secret may sit amid escapes and punctuation that are no token bytes, and
/// none of it is left behind half-encoded. Ends at ASCII bytes or the text's ends (char
/// boundaries).
fn widen_decoded(bytes: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    let inside = |b: u8| !(b.is_ascii_whitespace() || b"\"<>`".contains(&b));
    while start > 0 && inside(bytes[start - 1]) {
        start -= 1;
    }
    while end < bytes.len() && inside(bytes[end]) {
        end += 1;
    }
    (start, end)
}

/// Every form `secret` is searched in (lower-cased: the search ignores ASCII case).
fn forms_of(secret: &str, out: &mut BTreeSet<Vec<u8>>) {
    let raw = secret.as_bytes();
    if raw.is_empty() {
        return;
    }
    let mut add = |form: &[u8]| {
        if !form.is_empty() {
            out.insert(form.to_ascii_lowercase());
        }
    };
    add(raw);
    if raw.len() < MIN_SECRET_BYTES {
        return;
    }
    add(form_urlencoded::byte_serialize(raw)
        .collect::<String>()
        .as_bytes());
    add(
        percent_encoding::percent_encode(raw, percent_encoding::NON_ALPHANUMERIC)
            .to_string()
            .as_bytes(),
    );
    if let Ok(json) = serde_json::to_string(secret) {
        add(json.trim_matches('"').as_bytes());
    }
    for engine in [
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ] {
        for align in 0..3usize {
            let mut plain = vec![0u8; align];
            plain.extend_from_slice(raw);
            let encoded = engine.encode(&plain);
            // Character i encodes bits [6i, 6i + 6); keep those inside the secret's bits.
            let first = (8 * align).div_ceil(6);
            let last = 8 * (align + raw.len()) / 6;
            if let Some(core) = encoded.as_bytes().get(first..last) {
                if core.len() >= MIN_BASE64_CHARS {
                    add(core);
                }
            }
        }
    }
}

/// The secrets of this process: read from the configuration, and issued by vendors.
#[derive(Default)]
struct Registry {
    configured: BTreeSet<String>,
    issued: VecDeque<String>,
    redactor: Arc<Redactor>,
}

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(RwLock::default);

fn rebuild(r: &mut Registry) {
    r.redactor = Arc::new(Redactor::new(
        r.configured
            .iter()
            .chain(r.issued.iter())
            .map(String::as_str),
    ));
}

/// Registers a secret read from the configuration (kept for the life of the process).
pub fn register(secret: &SecretString) {
    let value = secret.expose_secret();
    let mut r = REGISTRY.write().unwrap_or_else(PoisonError::into_inner);
    if value.is_empty() || r.configured.contains(value) {
        return;
    }
    r.configured.insert(value.to_owned());
    rebuild(&mut r);
}

/// Registers a token issued to the relay; the oldest of many are forgotten (they expired).
pub fn register_issued(token: &SecretString) {
    let value = token.expose_secret();
    let mut r = REGISTRY.write().unwrap_or_else(PoisonError::into_inner);
    if value.is_empty() || r.issued.iter().any(|t| t == value) {
        return;
    }
    if r.issued.len() >= ISSUED_KEPT {
        r.issued.pop_front();
    }
    r.issued.push_back(value.to_owned());
    rebuild(&mut r);
}

/// The current redactor.
pub fn current() -> Arc<Redactor> {
    REGISTRY
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .redactor
        .clone()
}

/// A problem `detail`: redacted, then cut to [`DETAIL_MAX_BYTES`] at a char boundary.
pub fn detail(text: &str) -> String {
    let scrubbed = current().scrub(text).into_owned();
    bound(scrubbed, DETAIL_MAX_BYTES)
}

/// `text` cut to at most `max` bytes (plus an ellipsis) at a char boundary.
pub fn bound(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text.push('…');
    text
}

/// A JSON success body with every string (and key) redacted, if any secret occurs in it. The
/// body is parsed, so each string is scrubbed after JSON unescaping (and then decoded further
/// by [`Redactor::scrub`]).
pub fn json_body(body: Bytes) -> Bytes {
    let redactor = current();
    if !redactor.may_find(&body) {
        return body;
    }
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&body) else {
        // Not JSON (never the case for the relay's own envelope): nothing of it is passed on.
        return Bytes::from_static(br#"{"data":null}"#);
    };
    scrub_value(&redactor, &mut value);
    serde_json::to_vec(&value).map_or_else(|_| Bytes::from_static(br#"{"data":null}"#), Bytes::from)
}

fn scrub_value(redactor: &Redactor, value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            if let Cow::Owned(clean) = redactor.scrub(s) {
                *s = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| scrub_value(redactor, v)),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (k, mut v) in entries {
                scrub_value(redactor, &mut v);
                map.insert(redactor.scrub(&k).into_owned(), v);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "canary-Key_0123456789";

    fn r() -> Redactor {
        Redactor::new([KEY, "tapp-secret-987"])
    }

    fn clean(text: &str) {
        let out = r().scrub(text).into_owned();
        for needle in ["canary", "0123456789", "tapp-secret", "987"] {
            assert!(
                !out.contains(needle),
                "{needle} survived in {out:?} (from {text:?})"
            );
        }
    }

    #[test]
    fn every_form_is_redacted() {
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        clean(&format!("echo: Authorization: {KEY}"));
        clean(&format!("echo: authorization: {}", KEY.to_uppercase()));
        clean(&format!(
            "Authorization: Basic {}",
            b64(&format!("4242:{}", "tapp-secret-987"))
        ));
        clean(&format!(
            "Authorization: Basic {}",
            b64(&format!("x:{KEY}"))
        ));
        clean(&format!(
            "Authorization: Basic {}",
            b64(&format!("xy:{KEY}"))
        ));
        clean(&format!(
            "Authorization: Basic {}",
            b64(&format!("{KEY}:tapp-secret-987"))
        ));
        clean(&format!("Bearer {KEY}."));
        clean(&format!(
            "client_secret={}&x=1",
            form_urlencoded::byte_serialize(KEY.as_bytes()).collect::<String>()
        ));
        clean("client_secret=canary%2DKey%5F0123456789");
        clean(&format!("{{\"key\":\"{KEY}\"}}"));
        // Cut by a vendor's or the SDK's length limit: the start of the secret still goes.
        clean("... Authorization: canary-Key_01234");
        clean("y_0123456789 was the tail");
        let out = r().scrub(&format!("key {KEY} here")).into_owned();
        assert_eq!(out, "key <redacted> here");
    }

    #[test]
    fn decoded_forms_are_redacted() {
        let secret = "sl/ash~t!l*d'e(x) y+z";
        let r = Redactor::new([secret]);
        let json_all: String = secret
            .chars()
            .map(|c| format!("\\u{:04x}", c as u32))
            .collect();
        for text in [
            json_all,
            r"sl\/ash~t!l*d'e(x) y+z".to_owned(),
            "sl%2fash~t!l*d'e(x)+y%2Bz".to_owned(),
            "sl%2Fash%7Et%21l%2Ad%27e%28x%29%20y%2bz".to_owned(),
            r"sl\x2fash\x7et\x21l\x2ad\x27e\x28x\x29\x20y\x2bz".to_owned(),
            "sl&#47;ash&#x7E;t&excl;l&ast;d&apos;e&lpar;x&rpar;&#32;y&plus;z".to_owned(),
            "sl&amp;#47;ash~t!l*d'e(x) y+z".to_owned(),
        ] {
            let out = r.scrub(&format!("echo: {text} end")).into_owned();
            assert_eq!(out, "echo: <redacted> end", "{text}");
        }
        let out = r
            .scrub("<p>key=sl&sol;ash~t!l*d&#39;e(x)&#32;y+z</p>")
            .into_owned();
        assert_eq!(out, "<p><redacted></p>");
    }

    #[test]
    fn text_without_secrets_is_left_alone() {
        let r = r();
        assert!(matches!(r.scrub("Inbox 12 not found"), Cow::Borrowed(_)));
        assert_eq!(r.scrub("Inbox not found: ä ü"), "Inbox not found: ä ü");
        assert_eq!(Redactor::default().scrub("anything"), "anything");
    }

    #[test]
    fn details_are_bounded_at_a_char_boundary() {
        let long = "ü".repeat(DETAIL_MAX_BYTES);
        let cut = bound(long, DETAIL_MAX_BYTES);
        assert!(cut.len() <= DETAIL_MAX_BYTES + '…'.len_utf8());
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn registered_secrets_leave_json_bodies() {
        register(&SecretString::from("registered-canary-77".to_owned()));
        let body = Bytes::from(r#"{"data":{"echo":"Bearer registered-canary-77","n":1}}"#);
        let out = json_body(body);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["data"]["echo"], "Bearer <redacted>");
        assert_eq!(v["data"]["n"], 1);
        assert!(detail("x registered-canary-77 y").contains(REDACTED));
    }
}
