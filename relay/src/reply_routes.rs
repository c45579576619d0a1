//! The HTTP side of replies (see `replies`): the vendors' webhook intakes and the pages' streams.
//! Apart from `replies` so that the state, which holds `Replies`, is not imported by it.

mod backfill;
mod intake;
mod stream;

pub use intake::intake;
pub use stream::{open, revoke};
