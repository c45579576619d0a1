//! Every operation Hail offers, visited generically: the relay registers a route per operation,
//! the SDK dispatches `call(id, …)` and `validate(id, …)` — without either naming a vendor.

use crate::operation::Operation;
use crate::vendors::memoio;

/// Something that does one thing per operation type.
pub trait Visitor {
    /// Called once per operation.
    fn visit<Op: Operation>(&mut self);
}

/// Calls `visitor.visit::<Op>()` for every operation, in DESIGN.md's order.
pub fn visit_all<V: Visitor>(visitor: &mut V) {
    visitor.visit::<memoio::start_conversation::StartConversation>();
}

/// The ids of every operation.
pub fn ids() -> Vec<&'static str> {
    struct Ids(Vec<&'static str>);
    impl Visitor for Ids {
        fn visit<Op: Operation>(&mut self) {
            self.0.push(Op::ID);
        }
    }
    let mut ids = Ids(Vec::new());
    visit_all(&mut ids);
    ids.0
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_unique_and_vendor_prefixed() {
        let ids = super::ids();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), ids.len());
        assert!(ids.iter().all(|id| id.split_once('/').is_some()));
    }
}
