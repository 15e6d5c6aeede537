//! The customer lifecycle: stages, the table of allowed transitions, and the record of
//! every change.
//!
//! ```text
//!  Prospect ⇄ Lead
//!     │        │
//!     └──► New ◄┘
//!          │ └──────────────┐
//!          ▼                ▼
//!        Active ⇄ Loyal     │
//!          ▲  ╲    ╱ ▲      │
//!          │   ▼  ▼  │      │
//!          └── AtRisk ┘     │
//!                │          │
//!                ▼          ▼
//!             Churned ◄─────┘ (from New, Active, Loyal, AtRisk, WonBack)
//!                │
//!                ▼
//!             WonBack ──► Active, Loyal, AtRisk, Churned
//! ```
//!
//! A win-back is a stage of its own ([`LifecycleStage::WonBack`]) rather than a silent
//! return to `Active`: a person reading the stage counts sees how many lapsed customers
//! came back, and the history keeps the moment. From `WonBack` a customer moves on like
//! an active one.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::ids::CustomerId;
use crate::names::named_enum;
use crate::text::Label;

named_enum! {
    /// Where a customer stands in their relationship with the business.
    pub enum LifecycleStage as "lifecycle stage" {
        /// Someone who might need what the business offers; no contact yet.
        Prospect = "prospect",
        /// A prospect who showed interest (asked, replied, signed up).
        Lead = "lead",
        /// Bought once.
        New = "new",
        /// Buys repeatedly and on rhythm.
        Active = "active",
        /// Buys often and is satisfied: a promoter of the business.
        Loyal = "loyal",
        /// Overdue against their own buying rhythm.
        AtRisk = "at_risk",
        /// Silent beyond the churn horizon: lost.
        Churned = "churned",
        /// Came back after churning.
        WonBack = "won_back",
    }
}

use LifecycleStage::{Active, AtRisk, Churned, Lead, Loyal, New, Prospect, WonBack};

/// The allowed transitions, one row per stage. This table is the whole state machine;
/// `docs/architecture.md` shows the same table.
const TRANSITIONS: &[(LifecycleStage, &[LifecycleStage])] = &[
    (Prospect, &[Lead, New]),
    (Lead, &[Prospect, New]),
    (New, &[Active, Loyal, AtRisk, Churned]),
    (Active, &[Loyal, AtRisk, Churned]),
    (Loyal, &[Active, AtRisk, Churned]),
    (AtRisk, &[Active, Loyal, Churned]),
    (Churned, &[WonBack]),
    (WonBack, &[Active, Loyal, AtRisk, Churned]),
];

impl LifecycleStage {
    /// The stages this stage may move to directly.
    pub fn successors(self) -> &'static [LifecycleStage] {
        TRANSITIONS
            .iter()
            .find(|(from, _)| *from == self)
            .map_or(&[], |(_, to)| to)
    }

    /// True if the table allows `self → to` directly. A stage never moves to itself.
    pub fn can_move_to(self, to: LifecycleStage) -> bool {
        self.successors().contains(&to)
    }

    /// Checks the move `self → to`.
    ///
    /// # Errors
    ///
    /// [`TransitionError::Lifecycle`] naming both stages.
    pub fn check_move(self, to: LifecycleStage) -> Result<(), TransitionError> {
        if self.can_move_to(to) {
            Ok(())
        } else {
            Err(TransitionError::Lifecycle { from: self, to })
        }
    }

    /// The shortest chain of allowed moves from `self` to `to`, excluding `self` and
    /// ending with `to`; empty when `self == to`, `None` when `to` cannot be reached.
    ///
    /// ```
    /// use solocrm_core::LifecycleStage::*;
    /// assert_eq!(Prospect.path_to(Active), Some(vec![New, Active]));
    /// assert_eq!(Churned.path_to(Prospect), None);
    /// ```
    pub fn path_to(self, to: LifecycleStage) -> Option<Vec<LifecycleStage>> {
        if self == to {
            return Some(Vec::new());
        }
        // Breadth-first search over eight stages; `came_from` doubles as the visited set.
        let mut came_from: Vec<(LifecycleStage, LifecycleStage)> = Vec::new();
        let mut frontier = vec![self];
        while !frontier.is_empty() {
            let mut next = Vec::new();
            for stage in frontier {
                for &succ in stage.successors() {
                    if succ == self || came_from.iter().any(|(s, _)| *s == succ) {
                        continue;
                    }
                    came_from.push((succ, stage));
                    if succ == to {
                        let mut path = vec![to];
                        let mut cur = to;
                        while let Some(&(_, prev)) = came_from.iter().find(|(s, _)| *s == cur) {
                            if prev == self {
                                break;
                            }
                            path.push(prev);
                            cur = prev;
                        }
                        path.reverse();
                        return Some(path);
                    }
                    next.push(succ);
                }
            }
            frontier = next;
        }
        None
    }

    /// True for the stages of someone who has bought (everything after `Lead`).
    pub fn is_customer(self) -> bool {
        !matches!(self, Prospect | Lead)
    }
}

/// A move the rules do not allow.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TransitionError {
    /// A forbidden lifecycle transition.
    #[error("cannot move a customer from {from} to {to}; from {from} the allowed stages are: {}", list(from.successors()))]
    Lifecycle {
        /// The current stage.
        from: LifecycleStage,
        /// The requested stage.
        to: LifecycleStage,
    },
    /// A forbidden move of a deal through the pipeline.
    #[error("cannot move a deal from {from} to {to}: {why}")]
    Deal {
        /// The deal's current stage.
        from: crate::stages::DealStage,
        /// The requested stage.
        to: crate::stages::DealStage,
        /// Why it is forbidden.
        why: &'static str,
    },
    /// A forbidden step of a service request.
    #[error("cannot {action} a service request that is {status}")]
    Request {
        /// The request's current status.
        status: crate::stages::RequestStatus,
        /// The requested step, e.g. `"reopen"`.
        action: &'static str,
    },
}

fn list(stages: &[LifecycleStage]) -> String {
    if stages.is_empty() {
        return "none".to_owned();
    }
    stages
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

named_enum! {
    /// The rules of [`LifecyclePolicy`](crate::LifecyclePolicy) that can move a customer.
    pub enum PolicyRule as "policy rule" {
        /// First purchase: `New`.
        FirstPurchase = "first_purchase",
        /// A repeat purchase within the rhythm: `Active`.
        RepeatPurchase = "repeat_purchase",
        /// Enough purchases and good satisfaction: `Loyal`.
        LoyalBehaviour = "loyal_behaviour",
        /// Overdue against the customer's own rhythm: `AtRisk`.
        Overdue = "overdue",
        /// Silent beyond the churn horizon: `Churned`.
        Silent = "silent",
        /// Bought again after churning: `WonBack`.
        PurchaseAfterChurn = "purchase_after_churn",
    }
}

impl PolicyRule {
    /// The rule whose move reaches `stage`: each step of a multi-step move is recorded
    /// with the rule of its own target (`prospect → new` because of the first
    /// purchase, then `new → at_risk` because overdue). `None` for the stages no rule
    /// moves to (`prospect`, `lead`).
    pub fn reaching(stage: LifecycleStage) -> Option<PolicyRule> {
        Some(match stage {
            LifecycleStage::New => PolicyRule::FirstPurchase,
            LifecycleStage::Active => PolicyRule::RepeatPurchase,
            LifecycleStage::Loyal => PolicyRule::LoyalBehaviour,
            LifecycleStage::AtRisk => PolicyRule::Overdue,
            LifecycleStage::Churned => PolicyRule::Silent,
            LifecycleStage::WonBack => PolicyRule::PurchaseAfterChurn,
            LifecycleStage::Prospect | LifecycleStage::Lead => return None,
        })
    }

    /// True for the rules that behaviour (a purchase, a survey answer) triggers, as
    /// opposed to silence (`overdue`, `silent`), which only time triggers.
    pub fn is_behaviour(self) -> bool {
        !matches!(self, PolicyRule::Overdue | PolicyRule::Silent)
    }
}

/// Why a stage changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StageReason {
    /// A person decided, optionally saying why.
    Manual {
        /// The person's note.
        note: Option<Label>,
    },
    /// A policy rule decided.
    Rule {
        /// The rule.
        rule: PolicyRule,
    },
}

impl StageReason {
    /// A manual change without a note.
    pub fn manual() -> Self {
        StageReason::Manual { note: None }
    }
}

/// One recorded change of a customer's lifecycle stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageChange {
    /// The customer.
    pub customer: CustomerId,
    /// The stage before.
    pub from: LifecycleStage,
    /// The stage after.
    pub to: LifecycleStage,
    /// When it changed.
    pub at: DateTime<Utc>,
    /// Why it changed.
    pub reason: StageReason,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_stage_has_a_row_and_no_stage_moves_to_itself() {
        for &stage in LifecycleStage::ALL {
            assert!(TRANSITIONS.iter().any(|(s, _)| *s == stage), "{stage}");
            assert!(!stage.can_move_to(stage), "{stage}");
        }
    }

    #[test]
    fn a_forbidden_transition_names_both_stages() {
        let err = Churned.check_move(Loyal).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot move a customer from churned to loyal; from churned the allowed stages are: won_back"
        );
    }

    #[test]
    fn every_stage_after_prospect_is_reachable_and_churn_is_reachable_from_every_customer_stage() {
        for &to in LifecycleStage::ALL {
            if to != Prospect {
                assert!(Prospect.path_to(to).is_some(), "{to}");
            }
        }
        for &from in LifecycleStage::ALL.iter().filter(|s| s.is_customer()) {
            if from != Churned {
                assert_eq!(from.path_to(Churned), Some(vec![Churned]), "{from}");
            }
        }
    }

    #[test]
    fn stage_names_parse_forgivingly() {
        assert_eq!(LifecycleStage::parse("At-Risk"), Ok(AtRisk));
        assert_eq!(LifecycleStage::parse("won back"), Ok(WonBack));
        assert!(matches!(
            LifecycleStage::parse("vip"),
            Err(crate::ValidationError::UnknownName { .. })
        ));
    }

    fn any_stage() -> impl Strategy<Value = LifecycleStage> {
        prop::sample::select(LifecycleStage::ALL)
    }

    proptest! {
        /// Applying random requested moves, accepting only those `check_move` allows,
        /// never leaves the table.
        #[test]
        fn the_state_machine_never_reaches_a_stage_outside_the_table(
            start in any_stage(),
            requests in prop::collection::vec(any_stage(), 0..64),
        ) {
            let mut stage = start;
            for to in requests {
                let before = stage;
                if stage.check_move(to).is_ok() {
                    stage = to;
                    prop_assert!(TRANSITIONS.iter().any(|(f, t)| *f == before && t.contains(&to)));
                } else {
                    prop_assert!(!before.successors().contains(&to));
                }
            }
        }

        /// Every step of a path is an allowed move.
        #[test]
        fn paths_consist_of_allowed_moves(from in any_stage(), to in any_stage()) {
            if let Some(path) = from.path_to(to) {
                let mut cur = from;
                for step in &path {
                    prop_assert!(cur.can_move_to(*step));
                    cur = *step;
                }
                prop_assert_eq!(cur, to);
            }
        }
    }
}
