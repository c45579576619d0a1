//! `hail-relay webhooks register <vendor> --url <intake URL>`: registers the relay's intake as
//! the vendor's webhook through the vendor's API (`hail::inbound::Registration`; mluvii's), with
//! the configured account. A URL registered already (409) is updated instead, so running it
//! again is safe. LiveDesk has no such API: its URL is pasted into its console.

use std::time::{Duration, Instant};

use hail::inbound::{visit_registrations, Registered, Registration, RegistrationVisitor};

use crate::state::AppState;

/// What registering at one vendor comes to.
type Registering<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<String, String>> + 'a>>;

/// How long the whole registration may take.
const WAIT: Duration = Duration::from_secs(30);

/// Registers `url` at `vendor`; what happened, for the operator.
pub async fn register(state: &AppState, vendor: &str, url: &str) -> Result<String, String> {
    struct Find<'a> {
        state: &'a AppState,
        vendor: &'a str,
        url: &'a str,
        task: Option<Registering<'a>>,
    }
    impl<'a> RegistrationVisitor for Find<'a> {
        fn visit<R: Registration>(&mut self) {
            if R::VENDOR == self.vendor {
                self.task = Some(Box::pin(with::<R>(self.state, self.url)));
            }
        }
    }
    let mut find = Find {
        state,
        vendor,
        url,
        task: None,
    };
    visit_registrations(&mut find);
    match find.task {
        Some(task) => task.await,
        None => Err(format!(
            "{vendor} has no API to register webhooks: give it the URL in its console (`--check-config` shows it)"
        )),
    }
}

async fn with<R: Registration>(state: &AppState, url: &str) -> Result<String, String> {
    let vendor = R::VENDOR;
    let deadline = Instant::now() + WAIT;
    let account = state
        .vendors
        .accounts
        .get::<R::Credential>()
        .ok_or_else(|| format!("vendors.{vendor}: not configured"))?;
    let credential = account
        .credential(deadline)
        .await
        .map_err(|e| format!("{vendor}: no access token: {}", e.detail))?;
    let base = &account.api.base;
    let call = |request: Option<http::Request<Vec<u8>>>| async move {
        let request = request.ok_or_else(|| format!("{vendor}: the URL makes no valid request"))?;
        let (status, body) =
            crate::upstream::exchange(&account.api, request, deadline, "webhooks/register")
                .await
                .map_err(|e| format!("{vendor}: {e}"))?;
        Ok::<_, String>(R::registered(status, &body))
    };
    match call(R::register(base, &credential, url)).await? {
        Registered::Done(id) => Ok(format!(
            "{vendor}: webhook registered{}",
            id.map(|id| format!(" (id {id})")).unwrap_or_default()
        )),
        Registered::Exists(id) => match call(R::update(base, &credential, &id, url)).await? {
            Registered::Done(_) => Ok(format!(
                "{vendor}: the URL was registered already (id {id}); updated"
            )),
            Registered::Exists(_) | Registered::Refused(_) => {
                Err(format!("{vendor}: updating webhook {id} was refused"))
            }
        },
        Registered::Refused(status) => {
            Err(format!("{vendor}: registering was refused (HTTP {status})"))
        }
    }
}
