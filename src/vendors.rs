//! One module per vendor; one file per endpoint.

pub mod chayns;
pub mod memoio;
