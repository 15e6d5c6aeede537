//! The lifecycle policy: which stage a customer *should* be in, as of a date, and why.
//!
//! The policy is pure: it looks at the customer's current stage, the UTC dates of their
//! purchases up to `as_of`, and their latest satisfaction answers, and returns a
//! suggestion. Applying it (moving the customer through the state machine, one recorded
//! step at a time) is the caller's decision; see
//! [`Suggestion::path`].
//!
//! # Rules, in order
//!
//! Let *silence* be the whole days from the last purchase day to `as_of`, and the
//! customer's *rhythm* the median gap in days between consecutive purchase days.
//!
//! 1. No purchase yet: no opinion (prospects and leads move by hand).
//! 2. Currently `Churned`: `WonBack` ([`PolicyRule::PurchaseAfterChurn`]) if they bought
//!    on a day after they were churned (when that day is unknown: if their last
//!    purchase is within the churn horizon); otherwise they stay `Churned`. A churned
//!    customer is never walked back through the table without a new purchase.
//! 3. Silence beyond the churn horizon: `Churned` ([`PolicyRule::Silent`]).
//! 4. Silence beyond the overdue threshold: `AtRisk` ([`PolicyRule::Overdue`]). The
//!    threshold is `overdue_factor × rhythm`, clamped to
//!    `[min_overdue_days, max_overdue_days]`; a customer with a single purchase day has
//!    no rhythm yet and gets `max_overdue_days`.
//! 5. At least `loyal_min_purchases` purchase days and satisfied (the latest NPS answer
//!    is a promoter's, 9–10, or the latest CSAT answer is at least
//!    `loyal_min_csat`): `Loyal` ([`PolicyRule::LoyalBehaviour`]).
//! 6. Two or more purchase days: `Active` ([`PolicyRule::RepeatPurchase`]).
//! 7. One purchase day: `New` ([`PolicyRule::FirstPurchase`]).
//!
//! Purchases on the same UTC day count as one visit: a basket split into two orders is
//! not a repeat purchase.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::lifecycle::{LifecycleStage, PolicyRule};

/// The tunable numbers of the lifecycle policy. Deserialising checks them
/// ([`LifecyclePolicy::validate`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PolicyRepr")]
pub struct LifecyclePolicy {
    /// How many of their own median gaps a customer may be silent before being at risk,
    /// in tenths (20 = 2.0 ×). Default 2.0: twice the usual gap is a clear break in the
    /// pattern while one ordinary late order is not.
    pub overdue_factor_tenths: u32,
    /// The least overdue threshold in days. Default 30: a weekly buyer is not at risk
    /// after two quiet weeks.
    pub min_overdue_days: u32,
    /// The largest overdue threshold in days, and the threshold of one-time buyers.
    /// Default 180: half a year of silence is worth a call whatever the rhythm.
    pub max_overdue_days: u32,
    /// Silence in days after which a customer is churned. Default 365: a full year
    /// covers yearly buyers and seasonal businesses.
    pub churn_after_days: u32,
    /// Purchase days needed to be loyal. Default 5.
    pub loyal_min_purchases: u32,
    /// The least CSAT score that counts as satisfied. Default 4 (the CSAT convention:
    /// 4 and 5 are satisfied).
    pub loyal_min_csat: u8,
}

/// The serde form of [`LifecyclePolicy`], checked on the way in.
#[derive(Deserialize)]
struct PolicyRepr {
    overdue_factor_tenths: u32,
    min_overdue_days: u32,
    max_overdue_days: u32,
    churn_after_days: u32,
    loyal_min_purchases: u32,
    loyal_min_csat: u8,
}

impl TryFrom<PolicyRepr> for LifecyclePolicy {
    type Error = ValidationError;

    fn try_from(r: PolicyRepr) -> Result<Self, ValidationError> {
        let policy = LifecyclePolicy {
            overdue_factor_tenths: r.overdue_factor_tenths,
            min_overdue_days: r.min_overdue_days,
            max_overdue_days: r.max_overdue_days,
            churn_after_days: r.churn_after_days,
            loyal_min_purchases: r.loyal_min_purchases,
            loyal_min_csat: r.loyal_min_csat,
        };
        policy.validate()?;
        Ok(policy)
    }
}

impl Default for LifecyclePolicy {
    fn default() -> Self {
        LifecyclePolicy {
            overdue_factor_tenths: 20,
            min_overdue_days: 30,
            max_overdue_days: 180,
            churn_after_days: 365,
            loyal_min_purchases: 5,
            loyal_min_csat: 4,
        }
    }
}

/// What the policy looks at.
#[derive(Debug, Clone, Copy)]
pub struct Behaviour<'a> {
    /// The current stage.
    pub stage: LifecycleStage,
    /// UTC dates of the purchases up to `as_of`, in any order, duplicates allowed.
    pub purchase_days: &'a [NaiveDate],
    /// The latest NPS score up to `as_of`.
    pub latest_nps: Option<u8>,
    /// The latest CSAT score up to `as_of`.
    pub latest_csat: Option<u8>,
    /// When the stage is `Churned`: the UTC day of the last move to `Churned`, if known.
    pub churned_on: Option<NaiveDate>,
}

/// The facts behind a suggestion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// Distinct purchase days.
    pub purchase_days: u32,
    /// Whole days since the last purchase day.
    pub days_since_last_purchase: i64,
    /// The median gap between purchase days, if there are two or more.
    pub median_gap_days: Option<i64>,
    /// The overdue threshold that applied.
    pub overdue_after_days: i64,
}

/// What the policy thinks of a customer: the stage they belong in and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// The stage the rules point to.
    pub target: LifecycleStage,
    /// The rule that decided.
    pub rule: PolicyRule,
    /// The facts.
    pub evidence: Evidence,
}

/// A move the policy suggests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    /// The current stage.
    pub from: LifecycleStage,
    /// The assessment.
    pub assessment: Assessment,
    /// The allowed moves that lead from `from` to the target, in order, each to be
    /// recorded with the assessment's rule.
    pub path: Vec<LifecycleStage>,
}

impl Suggestion {
    /// A one-line reason a person can read, e.g. `overdue: 95 days since the last
    /// purchase, threshold 60 (2.0 × median gap 30)`.
    pub fn reason(&self) -> String {
        let e = &self.assessment.evidence;
        match self.assessment.rule {
            PolicyRule::Overdue => match e.median_gap_days {
                Some(g) => format!(
                    "overdue: {} days since the last purchase, threshold {} (median gap {g} days)",
                    e.days_since_last_purchase, e.overdue_after_days
                ),
                None => format!(
                    "overdue: {} days since the only purchase, threshold {}",
                    e.days_since_last_purchase, e.overdue_after_days
                ),
            },
            PolicyRule::Silent => format!("silent for {} days", e.days_since_last_purchase),
            PolicyRule::PurchaseAfterChurn => format!(
                "bought again {} days ago after churning",
                e.days_since_last_purchase
            ),
            PolicyRule::LoyalBehaviour => {
                format!("{} purchase days and satisfied", e.purchase_days)
            }
            PolicyRule::RepeatPurchase => format!("{} purchase days, on rhythm", e.purchase_days),
            PolicyRule::FirstPurchase => "first purchase".to_owned(),
        }
    }
}

impl LifecyclePolicy {
    /// Checks the numbers are consistent.
    ///
    /// # Errors
    ///
    /// [`ValidationError::Config`] if a threshold is zero, the floor exceeds the
    /// ceiling, the ceiling reaches the churn horizon, or loyalty needs fewer than two
    /// purchases, or the loyalty CSAT is outside 1–5.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let fail = |m: &str| Err(ValidationError::Config(m.to_owned()));
        if self.overdue_factor_tenths == 0 || self.min_overdue_days == 0 {
            return fail("the overdue factor and the least overdue threshold must be above zero");
        }
        if self.min_overdue_days > self.max_overdue_days {
            return fail("the least overdue threshold must not exceed the largest");
        }
        if self.max_overdue_days >= self.churn_after_days {
            return fail("the largest overdue threshold must be below the churn horizon");
        }
        if self.loyal_min_purchases < 2 {
            return fail("loyalty needs at least two purchases");
        }
        if !(1..=5).contains(&self.loyal_min_csat) {
            return fail("the least CSAT score for loyalty must be between 1 and 5");
        }
        Ok(())
    }

    /// The stage `behaviour` points to on `as_of`, or `None` before the first purchase.
    pub fn assess(&self, behaviour: &Behaviour<'_>, as_of: NaiveDate) -> Option<Assessment> {
        // The days up to `as_of`, ascending: the given slice itself when it is already
        // in order (a purchase log read by customer gives them so), else a sorted copy.
        let sorted;
        let days: &[NaiveDate] = if behaviour.purchase_days.is_sorted() {
            let end = behaviour.purchase_days.partition_point(|d| *d <= as_of);
            &behaviour.purchase_days[..end]
        } else {
            let mut copy: Vec<NaiveDate> = behaviour
                .purchase_days
                .iter()
                .copied()
                .filter(|d| *d <= as_of)
                .collect();
            copy.sort_unstable();
            sorted = copy;
            &sorted
        };
        // The distinct days and the gaps between them, in one pass.
        let mut distinct = 0usize;
        let mut previous: Option<NaiveDate> = None;
        let mut gaps: Vec<i64> = Vec::new();
        for &d in days {
            if previous == Some(d) {
                continue;
            }
            if let Some(p) = previous {
                gaps.push((d - p).num_days());
            }
            distinct += 1;
            previous = Some(d);
        }
        let last = previous?;
        let silence = (as_of - last).num_days();
        let median_gap = median(&mut gaps);
        let overdue_after = match median_gap {
            // Ceiling division: k × median rounded up to whole days.
            Some(g) => (g * i64::from(self.overdue_factor_tenths) + 9) / 10,
            None => i64::from(self.max_overdue_days),
        }
        .clamp(
            i64::from(self.min_overdue_days),
            i64::from(self.max_overdue_days),
        );
        let evidence = Evidence {
            purchase_days: u32::try_from(distinct).unwrap_or(u32::MAX),
            days_since_last_purchase: silence,
            median_gap_days: median_gap,
            overdue_after_days: overdue_after,
        };
        let churned = silence > i64::from(self.churn_after_days);
        let satisfied = behaviour.latest_nps.is_some_and(|s| s >= 9)
            || behaviour
                .latest_csat
                .is_some_and(|s| s >= self.loyal_min_csat);
        let bought_after_churn = match behaviour.churned_on {
            Some(day) => last > day,
            None => !churned,
        };
        let (target, rule) = if behaviour.stage == LifecycleStage::Churned {
            if bought_after_churn && !churned {
                (LifecycleStage::WonBack, PolicyRule::PurchaseAfterChurn)
            } else {
                (LifecycleStage::Churned, PolicyRule::Silent)
            }
        } else if churned {
            (LifecycleStage::Churned, PolicyRule::Silent)
        } else if silence > overdue_after {
            (LifecycleStage::AtRisk, PolicyRule::Overdue)
        } else if evidence.purchase_days >= self.loyal_min_purchases && satisfied {
            (LifecycleStage::Loyal, PolicyRule::LoyalBehaviour)
        } else if distinct >= 2 {
            (LifecycleStage::Active, PolicyRule::RepeatPurchase)
        } else {
            (LifecycleStage::New, PolicyRule::FirstPurchase)
        };
        Some(Assessment {
            target,
            rule,
            evidence,
        })
    }

    /// The move the policy suggests, or `None` when the customer is where they belong
    /// (or has not bought yet, or the target cannot be reached through the table).
    ///
    /// The path is the shortest the stage table allows, except that a customer found
    /// silent long enough to churn goes through `at_risk` first when the table allows
    /// it and the policy makes them overdue before it churns them: the silence passed
    /// the overdue mark first, so a catch-up records what daily reassessments would.
    pub fn suggest(&self, behaviour: &Behaviour<'_>, as_of: NaiveDate) -> Option<Suggestion> {
        let assessment = self.assess(behaviour, as_of)?;
        if assessment.target == behaviour.stage {
            return None;
        }
        let mut path = behaviour.stage.path_to(assessment.target)?;
        // A silence long enough to churn was long enough to be overdue first: a
        // customer who could be at risk passes through it, as reassessing every day
        // would have moved them (each step is dated when it arose).
        let (at_risk, churned) = (LifecycleStage::AtRisk, LifecycleStage::Churned);
        if assessment.rule == PolicyRule::Silent
            && path == [churned]
            && behaviour.stage.can_move_to(at_risk)
            && at_risk.can_move_to(churned)
            && assessment.evidence.overdue_after_days < i64::from(self.churn_after_days)
        {
            path = vec![at_risk, churned];
        }
        Some(Suggestion {
            from: behaviour.stage,
            assessment,
            path,
        })
    }
}

/// The median of whole days (the lower middle value's mean with the upper, rounded
/// down), or `None` for no values. Sorts `values`.
fn median(values: &mut [i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    Some(if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]).div_euclid(2)
    })
}

/// A customer the policy would move at `as_of` but whose stage history already holds a
/// change dated after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FutureDated {
    /// The customer.
    pub customer: crate::CustomerId,
    /// Their latest stage change, dated after `as_of`.
    pub change: crate::StageChange,
    /// The move the policy would have suggested.
    pub suggestion: Suggestion,
}

/// What [`Reader::reassess_all`](crate::ops::Reader::reassess_all) found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reassessment {
    /// The moves to apply, ascending by customer id. Each can be applied at `as_of`.
    pub suggestions: Vec<(crate::CustomerId, Suggestion)>,
    /// Customers left out because their latest stage change is dated after `as_of`
    /// (e.g. a typo such as `2205-01-01`), ascending by customer id.
    pub future_dated: Vec<FutureDated>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use LifecycleStage::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("valid date")
    }

    fn check(
        stage: LifecycleStage,
        days: &[&str],
        nps: Option<u8>,
        as_of: &str,
        want: Option<(LifecycleStage, PolicyRule)>,
    ) {
        let days: Vec<NaiveDate> = days.iter().map(|s| d(s)).collect();
        let b = Behaviour {
            stage,
            purchase_days: &days,
            latest_nps: nps,
            latest_csat: None,
            churned_on: None,
        };
        let got = LifecyclePolicy::default()
            .suggest(&b, d(as_of))
            .map(|s| (s.assessment.target, s.assessment.rule));
        assert_eq!(got, want);
    }

    /// The assessment the obvious way: the days up to `as_of`, sorted, deduplicated,
    /// their gaps; what [`LifecyclePolicy::assess`] computes without copying sorted
    /// input.
    fn reference(
        policy: &LifecyclePolicy,
        b: &Behaviour<'_>,
        as_of: NaiveDate,
    ) -> Option<Assessment> {
        let mut days: Vec<NaiveDate> = b
            .purchase_days
            .iter()
            .copied()
            .filter(|d| *d <= as_of)
            .collect();
        days.sort_unstable();
        days.dedup();
        let mut sorted = *b;
        sorted.purchase_days = &days;
        let got = policy.assess(&sorted, as_of)?;
        let mut gaps: Vec<i64> = days.windows(2).map(|w| (w[1] - w[0]).num_days()).collect();
        assert_eq!(got.evidence.median_gap_days, median(&mut gaps));
        assert_eq!(got.evidence.purchase_days as usize, days.len());
        Some(got)
    }

    proptest::proptest! {
        /// Days in any order, repeated or after `as_of`, give the assessment of their
        /// sorted distinct days up to `as_of`.
        #[test]
        fn the_order_and_repeats_of_the_days_change_nothing(
            offsets in proptest::collection::vec(0i64..400, 0..12),
            as_of in 0i64..420,
            stage in 0usize..8,
            nps in proptest::option::of(0u8..=10),
        ) {
            let base = d("2025-01-01");
            let days: Vec<NaiveDate> =
                offsets.iter().map(|&o| base + chrono::Duration::days(o)).collect();
            let mut ascending = days.clone();
            ascending.sort_unstable();
            let stages = [Prospect, Lead, New, Active, Loyal, AtRisk, Churned, WonBack];
            let policy = LifecyclePolicy::default();
            let as_of = base + chrono::Duration::days(as_of);
            for given in [&days, &ascending] {
                let b = Behaviour {
                    stage: stages[stage],
                    purchase_days: given,
                    latest_nps: nps,
                    latest_csat: None,
                    churned_on: None,
                };
                proptest::prop_assert_eq!(policy.assess(&b, as_of), reference(&policy, &b, as_of));
            }
        }
    }

    #[test]
    fn the_rules_in_order() {
        check(Prospect, &[], None, "2026-01-01", None);
        check(
            Prospect,
            &["2026-01-01"],
            None,
            "2026-01-02",
            Some((New, PolicyRule::FirstPurchase)),
        );
        check(
            New,
            &["2026-01-01", "2026-01-20"],
            None,
            "2026-01-25",
            Some((Active, PolicyRule::RepeatPurchase)),
        );
        // Monthly buyer: threshold 2 × 30 = 60 days; 61 days of silence is overdue.
        let monthly = ["2026-01-01", "2026-01-31", "2026-03-02"];
        check(Active, &monthly, None, "2026-05-01", None);
        check(
            Active,
            &monthly,
            None,
            "2026-05-02",
            Some((AtRisk, PolicyRule::Overdue)),
        );
        check(
            AtRisk,
            &monthly,
            None,
            "2027-03-10",
            Some((Churned, PolicyRule::Silent)),
        );
        check(
            Churned,
            &["2025-01-01", "2026-06-01"],
            None,
            "2026-06-02",
            Some((WonBack, PolicyRule::PurchaseAfterChurn)),
        );
        let five = [
            "2026-01-01",
            "2026-01-08",
            "2026-01-15",
            "2026-01-22",
            "2026-01-29",
        ];
        check(
            Active,
            &five,
            Some(10),
            "2026-02-01",
            Some((Loyal, PolicyRule::LoyalBehaviour)),
        );
        check(Active, &five, Some(6), "2026-02-01", None);
    }

    #[test]
    fn purchases_on_the_same_day_are_one_visit_and_future_purchases_are_ignored() {
        check(
            Prospect,
            &["2026-01-01", "2026-01-01", "2026-09-01"],
            None,
            "2026-01-02",
            Some((New, PolicyRule::FirstPurchase)),
        );
    }

    #[test]
    fn a_churned_customer_is_won_back_only_by_a_purchase_after_the_churn() {
        let days = [d("2026-01-01"), d("2026-03-01")];
        let churned = |on: &str| Behaviour {
            stage: Churned,
            purchase_days: &days,
            latest_nps: None,
            latest_csat: None,
            churned_on: Some(d(on)),
        };
        let policy = LifecyclePolicy::default();
        // Churned by hand on April 1, after the last purchase: they stay churned.
        assert_eq!(
            policy.suggest(&churned("2026-04-01"), d("2026-04-10")),
            None
        );
        let a = policy
            .assess(&churned("2026-04-01"), d("2026-04-10"))
            .expect("bought");
        assert_eq!((a.target, a.rule), (Churned, PolicyRule::Silent));
        // Churned on February 1, then bought on March 1: won back.
        let s = policy
            .suggest(&churned("2026-02-01"), d("2026-04-10"))
            .expect("moves");
        assert_eq!(
            (s.assessment.target, s.path.clone()),
            (WonBack, vec![WonBack])
        );
    }

    #[test]
    fn a_one_time_buyer_is_at_risk_after_the_ceiling() {
        check(New, &["2026-01-01"], None, "2026-06-30", None);
        check(
            New,
            &["2026-01-01"],
            None,
            "2026-07-01",
            Some((AtRisk, PolicyRule::Overdue)),
        );
    }

    #[test]
    fn the_default_policy_is_valid_and_bad_ones_are_refused() {
        assert_eq!(LifecyclePolicy::default().validate(), Ok(()));
        let bad = LifecyclePolicy {
            max_overdue_days: 400,
            ..LifecyclePolicy::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn suggestions_read_well() {
        let days = [d("2026-01-01"), d("2026-01-31"), d("2026-03-02")];
        let b = Behaviour {
            stage: Active,
            purchase_days: &days,
            latest_nps: None,
            latest_csat: None,
            churned_on: None,
        };
        let s = LifecyclePolicy::default()
            .suggest(&b, d("2026-05-10"))
            .expect("overdue");
        assert_eq!(
            s.reason(),
            "overdue: 69 days since the last purchase, threshold 60 (median gap 30 days)"
        );
        assert_eq!(s.path, vec![AtRisk]);
    }
}
