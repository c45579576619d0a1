//! Hail: one typed, validated, sans-IO definition of every customer-messaging vendor request.
//!
//! The same definitions serve two sides:
//! - the browser SDK (feature `web`, wasm32 only), which validates input before any network call and
//!   talks to the relay (or, for chayns user messages, to chayns directly);
//! - the relay (`hail-relay`, built with `default-features = false`), which re-validates with the same
//!   code, adds the company secret and forwards the encoded request to the vendor.
//!
//! Nothing in this crate outside `web` does I/O.

pub mod base_url;
pub mod catalog;
pub mod credential;
pub mod encode;
pub mod error;
pub mod id;
/// Vendor webhooks read as reply events (feature `inbound`, the relay's).
#[cfg(feature = "inbound")]
pub mod inbound;
pub mod operation;
pub mod protocol;
pub mod read;
pub mod reply;
pub mod validate;
pub mod vendor_call;
pub mod vendors;

/// The JavaScript API (npm package `hail-sdk`).
#[cfg(all(feature = "web", target_arch = "wasm32"))]
pub mod web;

pub use error::{ErrorCode, Rule, Violation};

// Talc instead of the default dlmalloc: the same job in a fraction of the module size.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();
pub use base_url::BaseUrl;
pub use operation::{Endpoint, Metadata, Operation, SingleCall, Thread, Vendor};
pub use reply::UpstreamError;
pub use validate::Validate;
pub use vendor_call::VendorCall;
