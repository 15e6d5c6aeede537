//! What the CLI's `offer` commands and the web workspace's `/offers` page share: an
//! offer's benefit and audience read from what was typed, and its status on a day.

use solocrm_core::offer::{Benefit, Offer};
use solocrm_core::{Currency, Label, Money, Predicate, Tag};

/// The kinds of benefit, as typed: `percent`, `amount`, `gift`.
pub const KINDS: [&str; 3] = ["percent", "amount", "gift"];

/// Why a typed benefit or audience is refused, in English (the frontends say which
/// field it belongs to).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// The benefit of kind `kind` ([`KINDS`]) with value `value`: a percentage, an amount
/// in `currency`, or a gift's description. The range of a percentage is the core's
/// check when the offer is added.
///
/// ```
/// use solocrm_app::offers::benefit;
/// use solocrm_core::Currency;
/// assert!(benefit("percent", "10", Currency::CNY).is_ok());
/// assert!(benefit("gift", "茶杯一只", Currency::CNY).is_ok());
/// assert!(benefit("amount", "ten", Currency::CNY).is_err());
/// assert!(benefit("free", "1", Currency::CNY).is_err());
/// ```
///
/// # Errors
///
/// [`Refused`] for an unknown kind or a value that does not parse as the kind's.
pub fn benefit(kind: &str, value: &str, currency: Currency) -> Result<Benefit, Refused> {
    let bad = |e: &dyn std::fmt::Display| Refused(e.to_string());
    match kind.trim() {
        "percent" => solocrm_core::money::parse_plain_decimal(value)
            .map(Benefit::Percent)
            .map_err(|e| bad(&e)),
        "amount" => Money::parse(value, currency)
            .map(Benefit::Amount)
            .map_err(|e| bad(&e)),
        "gift" => Label::parse(value).map(Benefit::Gift).map_err(|e| bad(&e)),
        other => Err(Refused(format!(
            "unknown offer kind '{other}'; expected one of: {}",
            KINDS.join(", ")
        ))),
    }
}

/// The audience of an offer: a segment expression, or a tier of the points program,
/// or everyone (both `None`). Giving both is refused.
///
/// # Errors
///
/// [`Refused`] for both given, an expression that does not parse, or a bad tier name.
pub fn audience(segment: Option<&str>, tier: Option<&str>) -> Result<Option<Predicate>, Refused> {
    match (segment, tier) {
        (Some(_), Some(_)) => Err(Refused("give a segment or a tier, not both".to_owned())),
        (Some(expr), None) => Predicate::parse(expr)
            .map(Some)
            .map_err(|e| Refused(format!("'{expr}' does not parse: {e}"))),
        (None, Some(t)) => Tag::parse(t)
            .map(|t| Some(Predicate::Tier(t)))
            .map_err(|e| Refused(e.to_string())),
        (None, None) => Ok(None),
    }
}

/// Where an offer stands on a business day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferStatus {
    /// Ended by hand: it may no longer be used.
    Ended,
    /// Its first day is still to come.
    Upcoming,
    /// Its last day is past.
    Expired,
    /// It may be used today.
    Active,
}

impl OfferStatus {
    /// `ended`, `upcoming`, `expired` or `active`.
    pub fn as_str(self) -> &'static str {
        match self {
            OfferStatus::Ended => "ended",
            OfferStatus::Upcoming => "upcoming",
            OfferStatus::Expired => "expired",
            OfferStatus::Active => "active",
        }
    }
}

/// The status of `offer` on business day `today`: ended first, then before its first
/// day, after its last, else active.
pub fn status(offer: &Offer, today: chrono::NaiveDate) -> OfferStatus {
    if offer.ended_at.is_some() {
        OfferStatus::Ended
    } else if today < offer.valid_from {
        OfferStatus::Upcoming
    } else if today > offer.valid_until {
        OfferStatus::Expired
    } else {
        OfferStatus::Active
    }
}

/// The value as shown: `10%`, the amount, or the gift.
pub fn value_of(b: &Benefit) -> String {
    match b {
        Benefit::Percent(p) => format!("{p}%"),
        Benefit::Amount(m) => m.to_string(),
        Benefit::Gift(g) => g.to_string(),
    }
}

/// `per customer / in all`, `-` for no limit.
pub fn limits(o: &Offer) -> String {
    let n = |l: Option<u32>| l.map_or_else(|| "-".to_owned(), |v| v.to_string());
    format!("{}/{}", n(o.per_customer), n(o.total))
}
