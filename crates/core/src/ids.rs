//! Identifiers. Stores assign them; they are plain numbers so that a person can type
//! them (`solocrm customer show 42`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

macro_rules! id_type {
    ($(#[$meta:meta])* $ty:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $ty(u64);

        impl $ty {
            /// Wraps a raw id. Any number is a well-formed id; whether it exists is for
            /// the store to say.
            pub const fn new(raw: u64) -> Self {
                $ty(raw)
            }

            /// The raw number.
            pub const fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $ty {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse::<u64>().map($ty).map_err(|_| ValidationError::UnknownName {
                    field: $what,
                    input: s.to_owned(),
                    expected: crate::names::NameList(&["a whole number"]),
                })
            }
        }

        impl From<$ty> for u64 {
            fn from(id: $ty) -> u64 {
                id.0
            }
        }
    };
}

id_type!(/// Identifies a customer.
    CustomerId, "customer id");
id_type!(/// Identifies an interaction.
    InteractionId, "interaction id");
id_type!(/// Identifies a purchase.
    PurchaseId, "purchase id");
id_type!(/// Identifies a refund.
    RefundId, "refund id");
id_type!(/// Identifies a deal in the sales pipeline.
    DealId, "deal id");
id_type!(/// Identifies a survey response.
    SurveyId, "survey id");
id_type!(/// Identifies a service request.
    RequestId, "request id");
id_type!(/// Identifies a task or reminder.
    TaskId, "task id");
id_type!(/// Identifies an entry of the loyalty points ledger.
    PointsEntryId, "points entry id");
id_type!(/// Identifies an entry of the audit log.
    AuditId, "audit id");
id_type!(/// Identifies a recorded cost (marketing, tools, other spend).
    CostId, "cost id");
id_type!(/// Identifies a need or pain point ([`crate::need::Need`]).
    NeedId, "need id");
id_type!(/// Identifies a marketing campaign.
    CampaignId, "campaign id");
