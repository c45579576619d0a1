//! One module per vendor; one file per endpoint.

pub mod memoio;
