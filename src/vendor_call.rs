//! One vendor HTTP call as data: its method and its path template, declared once beside the
//! endpoint that makes it (ruma's `metadata!` is the model). From the declaration come the
//! request's URL ([`VendorCall::url`]), the operation's "Vendor call" text in its JSDoc and
//! OpenAPI summary (`#[operation(calls = […])]`), the read-back requests and the sandbox's routes
//! (a template's `{name}` is also the syntax axum's router reads).

use crate::base_url::BaseUrl;
use crate::encode::{path_segment, EncodeError};

/// A vendor call: `method` and `path`, where `{name}` marks a path field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VendorCall {
    /// `GET`, `POST` or `PUT`.
    pub method: &'static str,
    /// The path below the vendor's base URL, e.g. `/api/v2/accounts/conversations/{id}/messages`.
    pub path: &'static str,
}

impl VendorCall {
    /// `GET path`.
    pub const fn get(path: &'static str) -> Self {
        Self {
            method: "GET",
            path,
        }
    }

    /// `POST path`.
    pub const fn post(path: &'static str) -> Self {
        Self {
            method: "POST",
            path,
        }
    }

    /// `PUT path`.
    pub const fn put(path: &'static str) -> Self {
        Self {
            method: "PUT",
            path,
        }
    }

    /// The HTTP method.
    pub fn http_method(&self) -> http::Method {
        match self.method {
            "GET" => http::Method::GET,
            "PUT" => http::Method::PUT,
            _ => http::Method::POST,
        }
    }

    /// `base` + the path with its one path field (a number) filled in: what the browser's chayns
    /// user calls need, without the escaping machinery a text field would pull into the module.
    pub fn url_with_id(&self, base: &BaseUrl, id: u64) -> String {
        let (head, tail) = self.path.split_once('{').unwrap_or((self.path, ""));
        let tail = tail.split_once('}').map_or("", |(_, after)| after);
        let mut url = base.join(head);
        crate::encode::push_decimal(&mut url, id);
        url.push_str(tail);
        url
    }

    /// The names of the path fields, in order.
    pub fn fields(&self) -> impl Iterator<Item = &'static str> {
        self.path
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
    }

    /// `base` + the path with every `{name}` replaced by its value from `fields` (escaped as one
    /// path segment) + `?query` when `query` is not empty. A field the template names but
    /// `fields` lacks is an error, never an empty segment.
    pub fn url(
        &self,
        base: &BaseUrl,
        fields: &[(&str, &str)],
        query: &str,
    ) -> Result<String, EncodeError> {
        let mut path = String::with_capacity(self.path.len() + 16);
        let mut rest = self.path;
        while let Some((head, tail)) = rest.split_once('{') {
            path.push_str(head);
            let (name, after) = tail
                .split_once('}')
                .ok_or(EncodeError("a vendor path template is not closed"))?;
            let value = fields
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v)
                .ok_or(EncodeError("a vendor path field has no value"))?;
            path.push_str(&path_segment(value));
            rest = after;
        }
        path.push_str(rest);
        if !query.is_empty() {
            path.push('?');
            path.push_str(query);
        }
        Ok(base.join(&path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_fill_escaped_and_refuse_missing_fields() {
        let call = VendorCall::post("/a/{id}/b/{name}");
        let base = BaseUrl::parse("https://x.io/p").unwrap();
        assert_eq!(call.fields().collect::<Vec<_>>(), ["id", "name"]);
        assert_eq!(
            call.url(&base, &[("name", "a/b"), ("id", "7")], "q=1")
                .unwrap(),
            "https://x.io/p/a/7/b/a%2Fb?q=1"
        );
        assert!(call.url(&base, &[("id", "7")], "").is_err());
        assert_eq!(
            VendorCall::get("/plain").url(&base, &[], "").unwrap(),
            "https://x.io/p/plain"
        );
        assert_eq!(call.http_method(), http::Method::POST);
        assert_eq!(
            VendorCall::post("/u/{id}/m").url_with_id(&base, 42),
            "https://x.io/p/u/42/m"
        );
    }
}
