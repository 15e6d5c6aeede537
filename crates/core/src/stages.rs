//! The states of the pipeline and of a service request, as plain names.
//!
//! They live below [`crate::lifecycle`] so that its
//! [`TransitionError`](crate::TransitionError) can name them while the deal and service
//! modules, which enforce those machines, return it. Re-exported from [`crate::deal`] and
//! [`crate::service`].

use crate::names::named_enum;

named_enum! {
    /// A stage of the sales pipeline.
    pub enum DealStage as "deal stage" {
        /// The customer has a need the business can meet.
        NeedIdentified = "need_identified",
        /// First contact made.
        Contacted = "contacted",
        /// Product shown.
        Demo = "demo",
        /// Offer sent.
        Proposal = "proposal",
        /// Terms being negotiated.
        Negotiation = "negotiation",
        /// Contract won.
        Won = "won",
        /// Contract lost.
        Lost = "lost",
    }
}

impl DealStage {
    /// The open stages, in pipeline order.
    pub const OPEN: [DealStage; 5] = [
        DealStage::NeedIdentified,
        DealStage::Contacted,
        DealStage::Demo,
        DealStage::Proposal,
        DealStage::Negotiation,
    ];

    /// True for won and lost.
    pub fn is_closed(self) -> bool {
        matches!(self, DealStage::Won | DealStage::Lost)
    }
}

named_enum! {
    /// Where a service request stands.
    pub enum RequestStatus as "request status" {
        /// Waiting for a first response.
        Open = "open",
        /// Answered, not yet resolved.
        Responded = "responded",
        /// Resolved.
        Resolved = "resolved",
    }
}
