//! What the serving threads share with the rest of the relay: how many there are, which one runs
//! the current task (each has its own vendor connection pool, see `upstream`), and the server's
//! limits. A leaf module: the upstream client and the relay's state read it without knowing the
//! server.

use std::cell::Cell;
use std::time::Duration;

use crate::config::HttpConfig;

/// hyper's smallest read buffer.
const MIN_READ_BUFFER: usize = 8192;

/// The server's limits (see `[http]` in relay.example.toml).
#[derive(Debug, Clone, Copy)]
pub struct ServerLimits {
    /// Longest wait for a request's headers.
    pub header_read_timeout: Duration,
    /// hyper's read buffer: a request head larger than this is refused by hyper itself.
    pub read_buffer: usize,
    /// Connections at once.
    pub max_connections: usize,
    /// Connections at once per client address.
    pub max_connections_per_address: usize,
    /// Open requests' time to finish after SIGTERM.
    pub shutdown_grace: Duration,
    /// Longest the vendor calls under way are waited for after that.
    pub vendor_calls_drain: Duration,
    /// IPv6 clients are grouped by networks of this many bits.
    pub ipv6_prefix_len: u8,
    /// Serving threads.
    pub workers: usize,
}

impl ServerLimits {
    /// From `[http]`.
    pub fn from_config(http: &HttpConfig) -> Self {
        Self {
            header_read_timeout: Duration::from_millis(http.header_read_timeout_ms.max(1)),
            // Room above `max_header_bytes`, so that a head somewhat over it still reaches the
            // relay and gets a problem body (only a far larger one meets hyper's bare 431).
            read_buffer: http
                .max_header_bytes
                .saturating_mul(4)
                .max(MIN_READ_BUFFER * 8),
            max_connections: http.max_connections.max(1),
            max_connections_per_address: http.max_connections_per_address.max(1),
            shutdown_grace: Duration::from_millis(http.shutdown_grace_ms),
            vendor_calls_drain: Duration::from_millis(http.request_timeout_ms.max(1))
                + Duration::from_secs(5),
            ipv6_prefix_len: http.ipv6_prefix_len.min(128),
            workers: workers(http.workers),
        }
    }
}

/// `http.workers`, 0 meaning one per core.
pub fn workers(configured: usize) -> usize {
    match configured {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

thread_local! {
    /// Which serving thread this is: 1..=workers; 0 on any other thread (set by the server).
    pub(crate) static WORKER: Cell<usize> = const { Cell::new(0) };
}

/// Which serving thread runs this (1..=workers), 0 on any other thread: picks the thread's
/// own vendor connection pool.
pub fn worker() -> usize {
    WORKER.with(Cell::get)
}
