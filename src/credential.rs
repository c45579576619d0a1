//! How the relay comes by vendor credentials: built from the vendor's config section (plain
//! settings and secrets by name), or issued by a token endpoint in exchange for another
//! credential (OAuth client credentials). Each vendor's credential types say which; the relay
//! stays generic.

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::SecretString;

use crate::operation::{Endpoint, Vendor};

/// What is wrong with a vendor's config section; each names the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SectionError {
    #[error("{0} is missing")]
    Missing(String),
    #[error(
        "{0} is a secret: give it as {{ env = \"NAME\" }} or {{ file = \"path\" }}, not inline"
    )]
    InlineSecret(String),
    #[error("{0} must be a positive integer")]
    NotAnId(String),
}

/// A vendor's config section as the relay read it: plain settings, and secrets that came from
/// the environment or a file (never inline, outside the sandbox).
#[derive(Default, Clone)]
pub struct Section {
    settings: BTreeMap<String, String>,
    secrets: BTreeMap<String, SecretString>,
}

impl Section {
    /// An empty section.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a plain setting.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.settings.insert(name.into(), value.into());
        self
    }

    /// Adds a secret.
    pub fn set_secret(&mut self, name: impl Into<String>, value: SecretString) -> &mut Self {
        self.secrets.insert(name.into(), value);
        self
    }

    /// A required secret.
    pub fn secret(&self, name: &str) -> Result<SecretString, SectionError> {
        if let Some(s) = self.secrets.get(name) {
            return Ok(s.clone());
        }
        if self.settings.contains_key(name) {
            return Err(SectionError::InlineSecret(name.to_owned()));
        }
        Err(SectionError::Missing(name.to_owned()))
    }

    /// A required plain setting.
    pub fn setting(&self, name: &str) -> Result<&str, SectionError> {
        self.settings
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| SectionError::Missing(name.to_owned()))
    }

    /// A required id setting (a positive integer).
    pub fn id(&self, name: &str) -> Result<u64, SectionError> {
        self.setting(name)?
            .parse::<u64>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| SectionError::NotAnId(name.to_owned()))
    }

    /// `other`'s entries replace these.
    pub fn overlay(&mut self, other: Section) {
        for (k, v) in other.settings {
            self.secrets.remove(&k);
            self.settings.insert(k, v);
        }
        for (k, v) in other.secrets {
            self.settings.remove(&k);
            self.secrets.insert(k, v);
        }
    }

    /// Whether any of `names` is present (as setting or secret).
    pub fn has_any(&self, names: &[&str]) -> bool {
        names
            .iter()
            .any(|n| self.settings.contains_key(*n) || self.secrets.contains_key(*n))
    }
}

/// A credential the relay builds from its vendor's config section.
pub trait Credential: Sized + Send + Sync + 'static {
    /// The vendor whose section holds it.
    type Vendor: Vendor;
    /// The keys it reads (settings and secrets), for errors and `--check-config`.
    const KEYS: &'static [&'static str];
    /// Builds it; `Err` names what is missing or wrong.
    fn from_section(section: &Section) -> Result<Self, SectionError>;
}

/// A credential issued by a token endpoint, to be cached and refreshed before it expires.
pub trait Issued: Clone + Send + Sync + 'static {
    /// The token request; its credential is what the relay is configured with.
    type Request: Endpoint<Output = Issue<Self>> + Default;
    /// The secret it carries (the relay redacts it from every vendor text a caller sees).
    fn secret(&self) -> &secrecy::SecretString;
}

/// An issued credential and how long it lives.
#[derive(Debug)]
pub struct Issue<T> {
    /// The credential.
    pub token: T,
    /// How long it is valid from now.
    pub lifetime: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn secrets_are_never_taken_from_plain_settings() {
        let mut s = Section::new();
        s.set("tapp_id", "12").set("secret", "inline");
        s.set_secret("key", SecretString::from("k"));
        assert_eq!(s.id("tapp_id"), Ok(12));
        assert_eq!(s.secret("key").unwrap().expose_secret(), "k");
        let inline = s.secret("secret").unwrap_err();
        assert_eq!(inline, SectionError::InlineSecret("secret".into()));
        assert!(inline.to_string().contains("not inline"));
        assert_eq!(
            s.secret("nope").unwrap_err(),
            SectionError::Missing("nope".into())
        );
        assert_eq!(
            s.set("zero", "0").id("zero"),
            Err(SectionError::NotAnId("zero".into()))
        );
    }
}
