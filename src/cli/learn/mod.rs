//! Learner aids: examples, --explain, hints, the short help and its order.

pub mod examples;
pub mod explain;
pub mod explain_text;
pub mod help_order;
pub mod hints;
pub mod ping_explain;
pub mod short_help;
