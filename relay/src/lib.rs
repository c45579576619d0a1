//! hail-relay: keeps company secrets off the browser.
//!
//! It re-validates every request with the `hail` crate's definitions, adds the vendor credential
//! and forwards to the vendor. `--sandbox` points it at simulated vendors on loopback.

pub mod accounts;
pub mod app;
pub mod caller;
pub mod cli;
pub mod config;
pub mod failpoint;
pub mod forward;
pub mod gate;
pub mod idempotency;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod policy;
pub mod problem;
pub mod rate_limit;
pub mod register;
pub mod replies;
pub mod reply_routes;
pub mod request_id;
pub mod sandbox;
pub mod scrub;
pub mod server;
pub mod serving;
pub mod startup_error;
pub mod state;
pub mod store;
pub mod upstream;
pub mod www;
