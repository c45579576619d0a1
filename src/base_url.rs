//! A vendor API base URL.

use serde::{Deserialize, Serialize};

/// A vendor API base URL: `http` or `https`, a host, an optional path prefix, no trailing slash,
/// no query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BaseUrl(String);

impl BaseUrl {
    /// Parses and normalises (drops one trailing slash).
    pub fn parse(s: &str) -> Result<Self, String> {
        let trimmed = s.strip_suffix('/').unwrap_or(s);
        if !trimmed.starts_with("http://") && !trimmed.starts_with("https://") {
            return Err(format!("\"{s}\" must start with http:// or https://"));
        }
        if !crate::validate::is_http_url(trimmed) || trimmed.contains(['?', '#']) {
            return Err(format!("\"{s}\" must be a URL with a host and no query"));
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `self` followed by `path` (which starts with `/`).
    pub fn join(&self, path: &str) -> String {
        let mut url = String::with_capacity(self.0.len() + path.len());
        url.push_str(&self.0);
        url.push_str(path);
        url
    }
}

impl TryFrom<String> for BaseUrl {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<BaseUrl> for String {
    fn from(b: BaseUrl) -> String {
        b.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_normalises_and_rejects() {
        assert_eq!(
            BaseUrl::parse("https://memoio.com/").unwrap().as_str(),
            "https://memoio.com"
        );
        assert_eq!(
            BaseUrl::parse("http://127.0.0.1:9/x").unwrap().join("/api"),
            "http://127.0.0.1:9/x/api"
        );
        for bad in ["", "memoio.com", "ftp://x", "https://x/?a=1", "https://"] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad:?}");
        }
    }
}
