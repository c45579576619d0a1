//! One module per vendor; one file per endpoint.

pub mod chayns;
pub mod livedesk;
pub mod memoio;
pub mod mluvii;
