//! hail-relay: keeps company secrets off the browser.
//!
//! It re-validates every request with the `hail` crate's definitions, adds the vendor credential
//! and forwards to the vendor. `--sandbox` points it at simulated vendors on loopback.

pub mod app;
pub mod cli;
pub mod forward;
pub mod problem;
pub mod sandbox;
pub mod vendors;
