//! One module per vendor; one file per endpoint. Each behind its feature (all four by default):
//! a single-vendor wasm carries that vendor's definitions only.

#[cfg(feature = "chayns")]
pub mod chayns;
#[cfg(feature = "livedesk")]
pub mod livedesk;
#[cfg(feature = "memoio")]
pub mod memoio;
#[cfg(feature = "mluvii")]
pub mod mluvii;
