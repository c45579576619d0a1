//! The JavaScript API of the npm package `hail-sdk` (wasm32 + feature `web` only).
//!
//! Every function is panic-free on any JS input: a panic in WebAssembly would kill the SDK for
//! the rest of the page's life. Failures become `HailError` objects (see `error`).

mod call;
#[cfg(feature = "chayns")]
mod chayns_host;
#[cfg(feature = "chayns")]
mod chayns_user;
mod error;
mod js;
mod relay_client;
#[cfg(any(feature = "livedesk", feature = "mluvii"))]
mod replies;
mod transport;
mod validate;

#[cfg(feature = "chayns")]
pub use chayns_user::{
    create_chayns_user_client, from_chayns_api, from_chayns_env, ChaynsUserClient,
};
pub use error::is_hail_error;
pub use relay_client::{create_relay_client, RelayClient};
pub use validate::validate;
