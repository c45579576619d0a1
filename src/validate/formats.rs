//! Syntax checks of the formats vendors take: e-mail, phone, GUID, URL, language, date-time.

use super::{EMAIL_LOCAL_MAX_BYTES, EMAIL_MAX_BYTES, URL_MAX_BYTES};

/// A pragmatic e-mail syntax check: `local@domain`, the domain made of dot-separated labels of
/// letters, digits and inner hyphens, with at least one dot; no whitespace or control characters.
/// It rejects what a vendor would surely reject, not every address RFC 5322 forbids.
pub fn is_email(value: &str) -> bool {
    if value.len() > EMAIL_MAX_BYTES {
        return false;
    }
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= EMAIL_LOCAL_MAX_BYTES
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.as_bytes().windows(2).any(|w| w == b"..")
        && local.chars().all(|c| {
            let special = c.is_ascii() && b"@<>()[]\\,;:\"".contains(&(c as u8));
            !(c.is_whitespace() || c.is_control() || special)
        });
    let labels_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            // Letters of other scripts (IDN) pass as they are: Unicode's letter tables would
            // add kilobytes to the browser SDK for a check the mail server makes anyway.
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || (!c.is_ascii() && !c.is_whitespace() && !c.is_control()))
    });
    local_ok && labels_ok && domain.bytes().any(|b| b == b'.')
}

/// A phone number in international (E.164) format: `+`, then 7 to 15 digits, the first not 0.
pub fn is_phone(value: &str) -> bool {
    let Some(digits) = value.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// A GUID in its 8-4-4-4-12 hex form, optionally in braces.
pub fn is_guid(value: &str) -> bool {
    let v = value
        .strip_prefix('{')
        .and_then(|v| v.strip_suffix('}'))
        .unwrap_or(value);
    let groups: Vec<&str> = v.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// An absolute `http(s)` URL: a host (name, IPv4 or bracketed IPv6) with an optional numeric
/// port, and only characters RFC 3986 allows unencoded (visible ASCII without `"<>\^`{|}`).
pub fn is_http_url(value: &str) -> bool {
    const UNSAFE: &[u8] = b"\"<>\\^`{|}";
    if value.len() > URL_MAX_BYTES
        || !value
            .bytes()
            .all(|b| b.is_ascii_graphic() && !UNSAFE.contains(&b))
    {
        return false;
    }
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    let Some(rest) = rest else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let (host, port) = match host_port.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((ip, port))
                if ip
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') =>
            {
                (
                    ip,
                    port.strip_prefix(':').or((!port.is_empty()).then_some("x")),
                )
            }
            _ => return false,
        },
        None => match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%:".contains(&b));
    let port_ok =
        port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

/// A language code: 2–3 letters, optionally followed by `_` or `-` and 2–8 letters or digits.
pub fn is_language(value: &str) -> bool {
    let mut parts = value.split(['_', '-']);
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_alphabetic())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// An RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, fields in range.
pub fn is_rfc3339(value: &str) -> bool {
    rfc3339_unix_seconds(value).is_some()
}

/// Seconds since the Unix epoch of an RFC 3339 date-time (fraction dropped), or `None`.
pub fn rfc3339_unix_seconds(value: &str) -> Option<i64> {
    let b = value.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = value.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())
            .flatten()
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, min, sec) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut rest = value.get(19..)?;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = frac.get(n..)?;
    }
    let offset = match rest.as_bytes() {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2]
            if [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()) =>
        {
            let h = i64::from(h1 - b'0') * 10 + i64::from(h2 - b'0');
            let m = i64::from(m1 - b'0') * 10 + i64::from(m2 - b'0');
            if h > 23 || m > 59 {
                return None;
            }
            if *sign == b'+' {
                h * 3600 + m * 60
            } else {
                -(h * 3600 + m * 60)
            }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hour * 3600 + min * 60 + sec - offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        for ok in ["+420123456789", "+4915112345678", "+1234567"] {
            assert!(is_phone(ok), "{ok}");
        }
        for bad in [
            "420123456789",
            "+0123456789",
            "+12 345 678",
            "+123456",
            "+1234567890123456",
            "+",
        ] {
            assert!(!is_phone(bad), "{bad}");
        }
        assert!(is_guid("3f2504e0-4f89-11d3-9a0c-0305e82c3301"));
        assert!(is_guid("{3F2504E0-4F89-11D3-9A0C-0305E82C3301}"));
        for bad in [
            "",
            "3f2504e0-4f89-11d3-9a0c-0305e82c330",
            "3f2504e04f8911d39a0c0305e82c3301",
            "3f2504e0-4f89-11d3-9a0c-0305e82c330g",
        ] {
            assert!(!is_guid(bad), "{bad}");
        }
        for ok in [
            "https://tsimg.space/v1/Images/a.jpg",
            "http://127.0.0.1:8080/x?y=1",
            "https://[::1]:443/a%20b.png#top",
            "https://user@cdn.example.com/a.png",
        ] {
            assert!(is_http_url(ok), "{ok}");
        }
        for bad in [
            "",
            "ftp://x/y",
            "https://",
            "https:// x.jpg",
            "javascript:alert(1)",
            "//x.com/a",
            "https://a.com/\n",
            "https://a.com/ü.png",
            "https://a.com:80x/a",
            "https://a.com:/a",
            "https://[::1]x/a",
            "https://a b.com/",
            "https://a.com/<script>",
            "https://:80/a",
        ] {
            assert!(!is_http_url(bad), "{bad:?}");
        }
        for ok in ["cs", "en_US", "pt-BR", "ces"] {
            assert!(is_language(ok), "{ok}");
        }
        for bad in ["", "c", "english", "en__US", "e1"] {
            assert!(!is_language(bad), "{bad}");
        }
        for ok in [
            "2026-01-31T12:00:00Z",
            "2026-01-31T12:00:00.123+01:00",
            "2026-12-01t00:00:00z",
        ] {
            assert!(is_rfc3339(ok), "{ok}");
        }
        for bad in [
            "",
            "2026-01-31",
            "2026-13-01T00:00:00Z",
            "2026-01-31 12:00:00Z",
            "2026-01-31T12:00:00",
            "2026-01-31T12:00:00.Z",
            "2026-01-31T12:00:00+1:00",
        ] {
            assert!(!is_rfc3339(bad), "{bad}");
        }
    }

    #[test]
    fn rfc3339_to_unix_seconds() {
        assert_eq!(rfc3339_unix_seconds("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            rfc3339_unix_seconds("2026-11-21T05:26:00Z"),
            Some(1_795_238_760)
        );
        assert_eq!(
            rfc3339_unix_seconds("2026-11-21T06:26:00.5+01:00"),
            Some(1_795_238_760)
        );
        assert_eq!(
            rfc3339_unix_seconds("2000-02-29T12:00:00Z"),
            Some(951_825_600)
        );
    }

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in [
            "anna@example.com",
            "a.b+tag@sub.example.co",
            "jürgen@müller.de",
            "x@a-b.io",
        ] {
            assert!(is_email(ok), "{ok}");
        }
    }

    #[test]
    fn rejects_broken_addresses() {
        for bad in [
            "",
            "anna",
            "anna@",
            "@example.com",
            "anna@example",
            "anna@@example.com",
            "an na@example.com",
            "anna@exa mple.com",
            "anna@-example.com",
            "anna@example..com",
            ".anna@example.com",
            "anna\n@example.com",
            "a,b@example.com",
        ] {
            assert!(!is_email(bad), "{bad:?}");
        }
        assert!(!is_email(&format!("{}@example.com", "a".repeat(65))));
    }
}
