//! The HTTP server: hyper's HTTP/1 connection with a header read timeout and a bounded read
//! buffer, at most `max_connections` connections at once (and `max_connections_per_address`
//! from one client), and a graceful shutdown with a deadline.
//!
//! Thread per core ([`serve_threads`]): `http.workers` threads (one per core by default), each
//! a single-threaded tokio runtime accepting on its own handle of one exclusively bound
//! listener (a second relay on the same address fails at start), and a request lives on one
//! thread from accept to answer, its vendor call included (each thread has its own vendor
//! connection pools, see `upstream`): no work-stealing, no cross-thread wake-ups, no shared
//! scheduler queues. Measured under `cargo xtask bench` against the same code on one
//! multi-threaded runtime: ×1.40 requests/s, CPU per request 83 against 111 µs (BENCHMARKS.md;
//! measured with per-thread `SO_REUSEPORT` listeners, before the listener became exclusive). The state (stores,
//! rate limits, metrics, connection limits) is shared by all threads and thread-safe.
//!
//! Beyond a limit a new connection is closed at once, before anything is read from it: a file
//! descriptor is what is scarce, and a flood is best answered cheaply. On shutdown the listener
//! closes, idle connections close, open requests may finish for `shutdown_grace_ms`; then the
//! remaining connections are closed, and the vendor calls already under way (which run in their
//! own tasks) still complete and store their outcome before the process exits.
//!
//! What the serving threads share with the rest of the relay (their number, which one runs a
//! task, their limits) is in [`crate::serving`], so that nothing else needs this module.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;

use crate::app::Front;
use crate::caller::caller_address;
use crate::serving::{ServerLimits, WORKER};
use crate::startup_error::StartupError;

/// The connection limits, shared by every serving thread.
#[derive(Clone)]
pub struct Connections {
    total: Arc<Semaphore>,
    per_address: PerAddress,
}

impl Connections {
    /// Empty, for `limits`.
    pub fn new(limits: &ServerLimits) -> Self {
        Self {
            total: Arc::new(Semaphore::new(limits.max_connections)),
            per_address: PerAddress::default(),
        }
    }
}

/// One listening socket on `listen`, bound exclusively, and `count` handles of it (`dup`s of
/// one socket), one per serving thread. Exclusive on purpose: with `SO_REUSEPORT` a second
/// relay on the same address started silently and the kernel split the traffic between the
/// two (DESIGN.md, "Reliability rules": one relay per listening address). Each thread registers
/// its handle with its own runtime, so the threads still accept in parallel; whichever is
/// free takes the next connection.
pub fn listeners(
    listen: SocketAddr,
    count: usize,
) -> Result<Vec<std::net::TcpListener>, StartupError> {
    use socket2::{Domain, Protocol, Socket, Type};
    let failed = |source| StartupError::Listen {
        addr: listen,
        source,
    };
    let socket = Socket::new(
        Domain::for_address(listen),
        Type::STREAM,
        Some(Protocol::TCP),
    )
    .map_err(failed)?;
    // `SO_REUSEADDR` only lets a restarted relay bind while old connections are in TIME_WAIT;
    // on Linux it never lets two sockets listen on one address.
    socket
        .set_reuse_address(true)
        .and_then(|()| socket.set_nonblocking(true))
        .and_then(|()| socket.bind(&listen.into()))
        .and_then(|()| socket.listen(1024))
        .map_err(failed)?;
    let first = std::net::TcpListener::from(socket);
    let mut out = Vec::with_capacity(count.max(1));
    for _ in 1..count.max(1) {
        out.push(first.try_clone().map_err(failed)?);
    }
    out.insert(0, first);
    Ok(out)
}

/// Serves `app` on `listeners`, one thread each with its own single-threaded runtime, until
/// `shutdown` is cancelled; returns when every thread has shut down as [`serve`] describes.
pub async fn serve_threads(
    listeners: Vec<std::net::TcpListener>,
    app: Front,
    limits: ServerLimits,
    vendor_calls: TaskTracker,
    shutdown: CancellationToken,
) -> Result<(), String> {
    let connections = Connections::new(&limits);
    let mut done = Vec::with_capacity(listeners.len());
    for (i, listener) in listeners.into_iter().enumerate() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("starting serving thread {i}: {e}"))?;
        let (app, connections, vendor_calls, shutdown) = (
            app.clone(),
            connections.clone(),
            vendor_calls.clone(),
            shutdown.clone(),
        );
        let (finished, wait) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name(format!("hail-relay-{}", i + 1))
            .spawn(move || {
                WORKER.with(|w| w.set(i + 1));
                runtime.block_on(async move {
                    match TcpListener::from_std(listener) {
                        Ok(listener) => {
                            serve_shared(
                                listener,
                                app,
                                connections,
                                limits,
                                vendor_calls,
                                shutdown.cancelled_owned(),
                            )
                            .await;
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "a serving thread could not listen");
                            shutdown.cancel();
                        }
                    }
                });
                let _ = finished.send(());
            })
            .map_err(|e| format!("starting serving thread {i}: {e}"))?;
        done.push(wait);
    }
    for wait in done {
        // An error is a thread that ended without saying so (a panic): nothing left to wait for.
        let _ = wait.await;
    }
    Ok(())
}

/// Connections per client address; a slot gives its place back when dropped.
#[derive(Default, Clone)]
struct PerAddress(Arc<Mutex<HashMap<IpAddr, usize>>>);

struct Slot {
    table: PerAddress,
    address: IpAddr,
}

impl PerAddress {
    fn take(&self, address: IpAddr, max: usize) -> Option<Slot> {
        let mut table = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let open = table.entry(address).or_insert(0);
        if *open >= max {
            return None;
        }
        *open += 1;
        Some(Slot {
            table: self.clone(),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut table = self.table.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(open) = table.get_mut(&self.address) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                table.remove(&self.address);
            }
        }
    }
}

/// Connections closed over a limit, logged at most once a second (a flood must not become a
/// flood of log lines).
#[derive(Default)]
struct Refusals {
    since_report: u64,
    reported: Option<std::time::Instant>,
}

impl Refusals {
    fn count(&mut self, why: &'static str) {
        self.since_report += 1;
        if self
            .reported
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
        {
            tracing::warn!(closed = self.since_report, "{why}: connections closed");
            self.since_report = 0;
            self.reported = Some(std::time::Instant::now());
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then shuts down as described above.
pub async fn serve(
    listener: TcpListener,
    app: Front,
    limits: ServerLimits,
    vendor_calls: TaskTracker,
    shutdown: impl Future<Output = ()>,
) {
    let connections = Connections::new(&limits);
    serve_shared(listener, app, connections, limits, vendor_calls, shutdown).await;
}

/// [`serve`], with connection limits shared with other serving threads.
async fn serve_shared(
    listener: TcpListener,
    app: Front,
    connections_open: Connections,
    limits: ServerLimits,
    vendor_calls: TaskTracker,
    shutdown: impl Future<Output = ()>,
) {
    let Connections { total, per_address } = connections_open;
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();
    let mut refused = Refusals::default();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.read_buffer);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, typically: give connections time to close.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = total.clone().try_acquire_owned() else {
            refused.count("connection limit reached");
            continue;
        };
        let address = caller_address(peer.ip(), limits.ipv6_prefix_len);
        let Some(slot) = per_address.take(address, limits.max_connections_per_address) else {
            refused.count("connection limit per address reached");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |request: http::Request<Incoming>| {
                let mut request = request.map(axum::body::Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = graceful
            .watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
        connections.spawn(async move {
            // An error here is the client's (reset, timeout, malformed request).
            let _ = connection.await;
            drop((permit, slot));
        });
    }
    drop(listener);
    tracing::info!(
        open = connections.len(),
        "shutting down: finishing open requests"
    );
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!(open = connections.len(), "shutdown deadline: closing the remaining connections");
            connections.abort_all();
        }
    }
    vendor_calls.close();
    if tokio::time::timeout(limits.vendor_calls_drain, vendor_calls.wait())
        .await
        .is_err()
    {
        tracing::error!(
            running = vendor_calls.len(),
            "vendor calls still running at exit"
        );
    }
}
