//! Replies (DESIGN.md, "Replies"): an agent's answer, delivered by the vendor's webhook, to the
//! page that started the conversation, and the page's follow-ups back. The relay's part:
//! - intake (`reply_routes`): `POST /v1/hooks/{vendor}/{secret}`: verified, read by `hail::vendors::…::webhook`,
//!   stored, then acknowledged;
//! - `bind`: a send whose result opens a conversation (`Operation::thread`) gets a stream;
//! - streams (`reply_routes`): `GET /v1/replies/{stream}`, Server-Sent Events with `Last-Event-ID` resume;
//! - the visitor's follow-up, `POST /v1/replies/{stream}/messages`, is a send: `forward::follow_up`;
//! - `log`: where streams and events live (memory, SQLite, Redis, after `store`).
//!
//! It knows no vendor: which webhook format a vendor speaks comes from `hail`.

mod access;
mod bind;
pub mod log;
pub mod settings;
pub mod token;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub use bind::bind;
pub use settings::Hook;

use crate::config::RepliesConfig;
pub use access::{authorize, query_value};

use log::ReplyLog;

/// The replies' part of the relay's state.
pub struct Replies {
    /// Intakes by vendor name; a vendor without one gets no streams.
    pub hooks: HashMap<&'static str, Hook>,
    /// Where streams and events live.
    pub log: Arc<dyn ReplyLog>,
    /// Ids of streams with new events, for the open streams of this relay.
    pub hub: broadcast::Sender<Arc<str>>,
    /// How long a token works.
    pub token_ttl: Duration,
    /// Between heartbeats.
    pub heartbeat: Duration,
    /// Most open streams per client address.
    pub max_open_per_address: usize,
    /// Open streams per client address.
    open: Mutex<HashMap<IpAddr, usize>>,
    /// Cancelled when the relay shuts down: open streams end, so the drain is not held up.
    pub closing: CancellationToken,
    /// The relay's public root, for the hook URLs shown by `--check-config`.
    pub public_url: Option<String>,
    /// When each stream's gap was last filled (see `reply_routes::backfill`).
    filled: Mutex<HashMap<String, std::time::Instant>>,
    /// Where other relays announce their appends (the Redis log's).
    pub announcements: Option<redis::Client>,
}

/// Shortest time between two gap fills of one stream.
const FILL_EVERY: Duration = Duration::from_secs(10);
/// Streams remembered as filled before the expired ones are forgotten.
const FILLED_MAX: usize = 10_000;

/// Events on the hub a slow stream may fall behind by before it re-reads the log (it never
/// misses one: the hub only says where to look).
const HUB_CAPACITY: usize = 1024;

impl Replies {
    /// The replies' state.
    pub fn new(
        config: &RepliesConfig,
        hooks: HashMap<&'static str, Hook>,
        log: Arc<dyn ReplyLog>,
    ) -> Self {
        Self {
            hooks,
            log,
            hub: broadcast::channel(HUB_CAPACITY).0,
            token_ttl: Duration::from_secs(config.token_ttl_hours.clamp(1, 24 * 365) * 3600),
            heartbeat: Duration::from_secs(config.heartbeat_seconds.clamp(1, 300)),
            max_open_per_address: config.max_open_per_address.max(1),
            open: Mutex::new(HashMap::new()),
            closing: CancellationToken::new(),
            public_url: config.public_url.clone(),
            announcements: None,
            filled: Mutex::new(HashMap::new()),
        }
    }

    /// Whether stream `id`'s gap may be filled now: at most once per [`FILL_EVERY`], so a page
    /// reconnecting in a loop does not become a loop of vendor calls.
    pub fn backfill_due(&self, id: &str) -> bool {
        let now = std::time::Instant::now();
        let mut filled = self.filled.lock().unwrap_or_else(|p| p.into_inner());
        if filled.len() > FILLED_MAX {
            filled.retain(|_, at| now.duration_since(*at) < FILL_EVERY);
        }
        match filled.get(id) {
            Some(at) if now.duration_since(*at) < FILL_EVERY => false,
            _ => {
                filled.insert(id.to_owned(), now);
                true
            }
        }
    }

    /// Whether vendor `name` delivers replies here.
    pub fn takes(&self, vendor: &str) -> bool {
        self.hooks.contains_key(vendor)
    }

    /// Counts one more open stream from `ip`, unless it has its most already.
    pub(crate) fn open_one(self: &Arc<Self>, ip: IpAddr) -> Option<OpenGuard> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(ip).or_default();
        if *n >= self.max_open_per_address {
            return None;
        }
        *n += 1;
        Some(OpenGuard {
            replies: self.clone(),
            ip,
        })
    }

    /// The hook URLs to give the vendors, their secret segment named, not shown: the operator
    /// set it, and `--check-config` output lands in terminals and CI logs.
    pub fn hook_urls(&self) -> Vec<String> {
        let root = self
            .public_url
            .as_deref()
            .unwrap_or("https://YOUR-RELAY")
            .trim_end_matches('/');
        let mut out: Vec<_> = self
            .hooks
            .iter()
            .map(|(vendor, hook)| {
                if hook.generated {
                    return format!("{vendor}: the simulated {vendor} (secrets made up at start)");
                }
                let mut line =
                    format!("{vendor}: {root}/v1/hooks/{vendor}/<replies.{vendor}.hook_secret>");
                if hook.signing.is_some() {
                    line.push_str(" (signed)");
                }
                if let Some((user, _)) = &hook.basic {
                    line.push_str(&format!(" (HTTP Basic as {user})"));
                }
                line
            })
            .collect();
        out.sort();
        out
    }

    /// Starts what runs beside the server: another relay's appends handed to this relay's open
    /// streams where the log is shared, and the end of every stream at `shutdown`.
    pub fn start(self: &Arc<Self>, shutdown: CancellationToken) {
        let closing = self.closing.clone();
        tokio::spawn(async move {
            shutdown.cancelled().await;
            closing.cancel();
        });
        if let Some(client) = &self.announcements {
            self.subscribe(client.clone());
        }
    }

    /// Starts handing another relay's appends to this relay's open streams, where the log is
    /// shared (Redis): one subscription per relay, reconnecting after a failure.
    fn subscribe(self: &Arc<Self>, client: redis::Client) {
        let replies = self.clone();
        tokio::spawn(async move {
            use futures_util::StreamExt as _;
            loop {
                match client.get_async_pubsub().await {
                    Ok(mut pubsub) => {
                        if pubsub.subscribe(log::redis::CHANNEL).await.is_ok() {
                            let mut messages = pubsub.on_message();
                            loop {
                                tokio::select! {
                                    () = replies.closing.cancelled() => return,
                                    m = messages.next() => match m {
                                        Some(m) => {
                                            if let Ok(id) = m.get_payload::<String>() {
                                                let _ = replies.hub.send(Arc::from(id));
                                            }
                                        }
                                        None => break,
                                    },
                                }
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "replies: cannot subscribe to Redis; streams poll it meanwhile")
                    }
                }
                tokio::select! {
                    () = replies.closing.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        });
    }
}

/// `path` as logs may show it: a hook URL's secret segment left out.
pub fn loggable(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/v1/hooks/") {
        Some(rest) => {
            let vendor = rest.split('/').next().unwrap_or_default();
            format!("/v1/hooks/{vendor}/…").into()
        }
        None => path.into(),
    }
}

/// One open stream, counted until dropped.
pub(crate) struct OpenGuard {
    replies: Arc<Replies>,
    ip: IpAddr,
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        let mut open = self.replies.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}
