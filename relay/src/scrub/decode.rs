//! Decoded views of vendor text, for the scrubber: a vendor may echo a credential JSON-escaped
//! (`\u00XX`, PHP's `\/`), with hex escapes (`\x2f`), percent-encoded in any spelling (either
//! hex case, RFC 3986's unreserved or encodeURIComponent's `!*'()` left as they are, `+` for a
//! space), or as HTML entities (`&#47;`, `&#x2F;`, `&sol;`, `&amp;`…), and layered (`&amp;#47;`).
//! Matching bytes alone misses all of these; matching every spelling a secret could take is
//! endless. So the text is decoded instead, keeping for every decoded byte the range of the
//! original text it came from: a secret found in the decoded text is redacted in the original,
//! over the whole run that encodes it.

/// Most decoding rounds (each undoes one layer of encoding).
const MAX_ROUNDS: usize = 4;
/// Longest HTML entity name looked at (`&CounterClockwiseContourIntegral;` is 33 bytes).
const MAX_ENTITY_BYTES: usize = 40;

/// Decoded text: its bytes, and for each the `[start, end)` of the original text it came from.
pub struct View {
    pub bytes: Vec<u8>,
    pub origin: Vec<(usize, usize)>,
}

impl View {
    fn identity(text: &str) -> Self {
        Self {
            bytes: text.as_bytes().to_vec(),
            origin: (0..text.len()).map(|i| (i, i + 1)).collect(),
        }
    }

    /// The original range of decoded bytes `[start, end)` (non-empty).
    pub fn span(&self, start: usize, end: usize) -> Option<(usize, usize)> {
        let first = self.origin.get(start)?;
        let last = self.origin.get(end.checked_sub(1)?)?;
        Some((first.0, last.1))
    }
}

/// Whether `text` holds anything [`views`] would decode (the fast path skips it otherwise).
pub fn may_be_encoded(text: &[u8]) -> bool {
    text.iter().any(|b| matches!(b, b'\\' | b'%' | b'&' | b'+'))
}

/// Every decoded view of `text` that differs from it: each decoding round of the previous,
/// once with `+` as a space (form encoding) and once with `+` kept (a `+` of the secret itself,
/// as RFC 3986 and base64 leave it).
pub fn views(text: &str) -> Vec<View> {
    let mut out = Vec::new();
    if !may_be_encoded(text.as_bytes()) {
        return out;
    }
    for plus_is_space in [false, true] {
        let mut view = View::identity(text);
        for _ in 0..MAX_ROUNDS {
            let Some(next) = round(&view, plus_is_space) else {
                break;
            };
            view = next;
            if out.iter().any(|v: &View| v.bytes == view.bytes) {
                break;
            }
            out.push(View {
                bytes: view.bytes.clone(),
                origin: view.origin.clone(),
            });
        }
    }
    out
}

/// One decoding round of `view`, or `None` if nothing in it was decoded.
fn round(view: &View, plus_is_space: bool) -> Option<View> {
    let src = &view.bytes;
    let mut out = View {
        bytes: Vec::with_capacity(src.len()),
        origin: Vec::with_capacity(src.len()),
    };
    let mut changed = false;
    let mut i = 0;
    while i < src.len() {
        let decoded = match src[i] {
            b'\\' => backslash(src, i),
            b'%' => hex_at(src, i + 1, 2).map(|b| (vec![b as u8], 3)),
            b'+' if plus_is_space => Some((vec![b' '], 1)),
            b'&' => entity(src, i),
            _ => None,
        };
        match decoded {
            Some((bytes, used)) => {
                let used = used.min(src.len() - i).max(1);
                let start = view.origin[i].0;
                let end = view.origin[i + used - 1].1;
                for b in bytes {
                    out.bytes.push(b);
                    out.origin.push((start, end));
                }
                changed = true;
                i += used;
            }
            None => {
                out.bytes.push(src[i]);
                out.origin.push(view.origin[i]);
                i += 1;
            }
        }
    }
    changed.then_some(out)
}

/// `n` hex digits at `at`, as a number.
fn hex_at(src: &[u8], at: usize, n: usize) -> Option<u32> {
    let digits = src.get(at..at + n)?;
    let text = std::str::from_utf8(digits).ok()?;
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

fn utf8(c: char) -> Vec<u8> {
    let mut buf = [0u8; 4];
    c.encode_utf8(&mut buf).as_bytes().to_vec()
}

/// A backslash escape at `i`: `\uXXXX` (surrogate pairs joined), `\xXX`, or JSON's and
/// C's one-character escapes (`\/` included).
fn backslash(src: &[u8], i: usize) -> Option<(Vec<u8>, usize)> {
    match src.get(i + 1)? {
        b'u' | b'U' => {
            let unit = hex_at(src, i + 2, 4)?;
            if (0xD800..0xDC00).contains(&unit) && matches!(src.get(i + 7), Some(b'u' | b'U')) {
                if let Some(low) = hex_at(src, i + 8, 4).filter(|l| (0xDC00..0xE000).contains(l)) {
                    let c = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                    return Some((utf8(char::from_u32(c)?), 12));
                }
            }
            Some((utf8(char::from_u32(unit).unwrap_or('\u{FFFD}')), 6))
        }
        b'x' | b'X' => hex_at(src, i + 2, 2).map(|b| (vec![b as u8], 4)),
        c => {
            let b = match c {
                b'/' | b'\\' | b'"' | b'\'' => *c,
                b'b' => 0x08,
                b'f' => 0x0C,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                _ => return None,
            };
            Some((vec![b], 2))
        }
    }
}

/// An HTML character reference at `i`: numeric (`&#47;`, `&#x2F;`, the `;` optional as
/// browsers read it) or named (`&sol;`, every HTML5 name).
fn entity(src: &[u8], i: usize) -> Option<(Vec<u8>, usize)> {
    if src.get(i + 1) == Some(&b'#') {
        let (radix, from) = match src.get(i + 2) {
            Some(b'x' | b'X') => (16, i + 3),
            _ => (10, i + 2),
        };
        let len = src[from..]
            .iter()
            .take(8)
            .take_while(|b| b.is_ascii_hexdigit() && (radix == 16 || b.is_ascii_digit()))
            .count();
        if len == 0 {
            return None;
        }
        let digits = std::str::from_utf8(&src[from..from + len]).ok()?;
        let c = u32::from_str_radix(digits, radix)
            .ok()
            .and_then(char::from_u32)
            .unwrap_or('\u{FFFD}');
        let semi = usize::from(src.get(from + len) == Some(&b';'));
        return Some((utf8(c), from + len + semi - i));
    }
    let name_len = src[i + 1..]
        .iter()
        .take(MAX_ENTITY_BYTES)
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let end = i + 1 + name_len;
    if name_len == 0 || src.get(end) != Some(&b';') {
        return None;
    }
    let reference = std::str::from_utf8(&src[i..=end]).ok()?;
    match html_escape::decode_html_entities(reference) {
        std::borrow::Cow::Owned(decoded) => Some((decoded.into_bytes(), end + 1 - i)),
        std::borrow::Cow::Borrowed(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(text: &str) -> Vec<String> {
        views(text)
            .into_iter()
            .map(|v| String::from_utf8_lossy(&v.bytes).into_owned())
            .collect()
    }

    #[test]
    fn every_encoding_decodes() {
        for (encoded, plain) in [
            (r"a\u002fb\/c", "a/b/c"),
            (r"\x2f\X2F", "//"),
            ("a%2fb%2Fc~!*'()", "a/b/c~!*'()"),
            ("&#47;&#x2F;&sol;&amp;&#47", "///&/"),
            ("&amp;#47;", "/"),
            (r"\ud83d\ude00", "😀"),
        ] {
            assert!(
                decoded(encoded).iter().any(|d| d == plain),
                "{encoded}: {:?}",
                decoded(encoded)
            );
        }
        assert!(decoded("a+b").iter().any(|d| d == "a b"));
        assert!(views("plain text").is_empty());
    }

    #[test]
    fn decoded_bytes_point_back_to_their_source() {
        let text = "x &#47;y%2F z";
        let view = views(text).into_iter().next().unwrap();
        let at = view.bytes.iter().position(|b| *b == b'/').unwrap();
        assert_eq!(view.span(at, at + 1), Some((2, 7)));
        let (s, e) = view.span(at, at + 3).unwrap();
        assert_eq!(&text[s..e], "&#47;y%2F");
    }

    #[test]
    fn broken_escapes_are_left_alone() {
        for text in [
            "%",
            "%g1",
            "\\",
            "\\u12",
            "&",
            "&#;",
            "&nosuchentity;",
            "\\q",
        ] {
            assert!(
                views(text).iter().all(|v| v.bytes == text.as_bytes()) || views(text).is_empty()
            );
        }
    }
}
