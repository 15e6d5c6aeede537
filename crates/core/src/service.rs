//! Service requests: feedback, questions and complaints, from opening to resolution.
//!
//! `open → responded → resolved`, with `resolved → open` when a request is reopened.
//! Responding again to a responded request is allowed and recorded (a conversation has
//! many replies); the first response time is the first one. Resolving a request that had
//! no response counts the resolution as its first response, because the customer got an
//! answer then. Reopening clears the resolution time, so the resolution time measures to
//! the final resolution. Times never go back.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, ValidationError};
use crate::ids::{CustomerId, DealId, RequestId};
use crate::lifecycle::TransitionError;
use crate::names::named_enum;
use crate::text::{ERASED_LABEL, FreeText, Label};

named_enum! {
    /// What a service request is.
    pub enum RequestKind as "request kind" {
        /// Feedback, praise or a suggestion.
        Feedback = "feedback",
        /// A question.
        Question = "question",
        /// A complaint.
        Complaint = "complaint",
    }
}

pub use crate::stages::RequestStatus;

named_enum! {
    /// A step in a service request's history.
    pub enum RequestEventKind as "request event" {
        /// Opened.
        Opened = "opened",
        /// A response was given.
        Responded = "responded",
        /// Resolved.
        Resolved = "resolved",
        /// Reopened after resolution.
        Reopened = "reopened",
    }
}

/// One step of a service request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestEvent {
    /// What happened.
    pub kind: RequestEventKind,
    /// When.
    pub at: DateTime<Utc>,
}

/// A service request to be opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewServiceRequest {
    /// The customer.
    pub customer: CustomerId,
    /// What kind.
    pub kind: RequestKind,
    /// A one-line subject.
    pub subject: Label,
    /// The full text.
    pub description: FreeText,
    /// When it was opened.
    pub opened_at: DateTime<Utc>,
    /// The won deal this request follows from (after-sales).
    pub deal: Option<DealId>,
}

/// A service request with its history.
///
/// Deserialising replays the events through the rules ([`ServiceRequest::replay`]):
/// they must start with `opened` at the opening time, every step must be allowed and in
/// time order, and the status and response and resolution times must be what the
/// events give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "ServiceRequestRepr", into = "ServiceRequestRepr")]
pub struct ServiceRequest {
    id: RequestId,
    customer: CustomerId,
    kind: RequestKind,
    subject: Label,
    description: FreeText,
    deal: Option<DealId>,
    status: RequestStatus,
    opened_at: DateTime<Utc>,
    first_response_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
    events: Vec<RequestEvent>,
}

impl ServiceRequest {
    /// A newly opened request stored under `id`. For store implementations.
    pub fn open(id: RequestId, new: NewServiceRequest) -> Self {
        ServiceRequest {
            id,
            customer: new.customer,
            kind: new.kind,
            subject: new.subject,
            description: new.description,
            deal: new.deal,
            status: RequestStatus::Open,
            opened_at: new.opened_at,
            first_response_at: None,
            resolved_at: None,
            events: vec![RequestEvent {
                kind: RequestEventKind::Opened,
                at: new.opened_at,
            }],
        }
    }

    /// Rebuilds a request from its opening and its later events, replaying each through
    /// the rules. The `Opened` event itself is not part of `events`. For store
    /// implementations.
    ///
    /// # Errors
    ///
    /// The first step the rules refuse.
    pub fn replay(
        id: RequestId,
        new: NewServiceRequest,
        events: impl IntoIterator<Item = RequestEvent>,
    ) -> Result<Self, DomainError> {
        let mut r = ServiceRequest::open(id, new);
        for e in events {
            r.apply(e.kind, e.at)?;
        }
        Ok(r)
    }

    /// The id.
    pub fn id(&self) -> RequestId {
        self.id
    }
    /// The customer.
    pub fn customer(&self) -> CustomerId {
        self.customer
    }
    /// What kind.
    pub fn kind(&self) -> RequestKind {
        self.kind
    }
    /// The subject.
    pub fn subject(&self) -> &Label {
        &self.subject
    }
    /// The full text.
    pub fn description(&self) -> &FreeText {
        &self.description
    }
    /// The deal it follows from.
    pub fn deal(&self) -> Option<DealId> {
        self.deal
    }
    /// The status.
    pub fn status(&self) -> RequestStatus {
        self.status
    }
    /// When it was opened.
    pub fn opened_at(&self) -> DateTime<Utc> {
        self.opened_at
    }
    /// When it was first answered.
    pub fn first_response_at(&self) -> Option<DateTime<Utc>> {
        self.first_response_at
    }
    /// When it was resolved (cleared by a reopen).
    pub fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.resolved_at
    }
    /// Every step, oldest first, starting with `Opened`.
    pub fn events(&self) -> &[RequestEvent] {
        &self.events
    }
    /// True unless resolved.
    pub fn is_open(&self) -> bool {
        self.status != RequestStatus::Resolved
    }

    /// Applies one step: respond, resolve or reopen.
    ///
    /// # Errors
    ///
    /// [`TransitionError::Request`] for a step the status does not allow (opening
    /// twice, responding to or resolving a resolved request, reopening an open one);
    /// [`ValidationError::TimeOrder`] if `at` is before the previous step.
    pub fn apply(&mut self, kind: RequestEventKind, at: DateTime<Utc>) -> Result<(), DomainError> {
        use RequestStatus as S;
        let refuse = |action| TransitionError::Request {
            status: self.status,
            action,
        };
        let next = match (kind, self.status) {
            (RequestEventKind::Responded, S::Open | S::Responded) => S::Responded,
            (RequestEventKind::Resolved, S::Open | S::Responded) => S::Resolved,
            (RequestEventKind::Reopened, S::Resolved) => S::Open,
            (RequestEventKind::Responded, _) => return Err(refuse("respond to").into()),
            (RequestEventKind::Resolved, _) => return Err(refuse("resolve").into()),
            (RequestEventKind::Reopened, _) => return Err(refuse("reopen").into()),
            (RequestEventKind::Opened, _) => return Err(refuse("open again").into()),
        };
        let last = self.events.last().map_or(self.opened_at, |e| e.at);
        if at < last {
            return Err(ValidationError::TimeOrder {
                field: "service request step",
                at,
                earlier_field: "the previous step",
                earlier: last,
            }
            .into());
        }
        match kind {
            RequestEventKind::Responded | RequestEventKind::Resolved => {
                self.first_response_at.get_or_insert(at);
            }
            _ => {}
        }
        self.resolved_at = (next == S::Resolved).then_some(at);
        self.status = next;
        self.events.push(RequestEvent { kind, at });
        Ok(())
    }

    /// Replaces subject and description with placeholders (privacy erase).
    pub fn erase_text(&mut self) {
        self.subject = Label::placeholder(ERASED_LABEL);
        self.description = FreeText::empty();
    }
}

/// The serialised form of a [`ServiceRequest`]: the same fields, checked on the way in.
#[derive(Serialize, Deserialize)]
struct ServiceRequestRepr {
    id: RequestId,
    customer: CustomerId,
    kind: RequestKind,
    subject: Label,
    description: FreeText,
    deal: Option<DealId>,
    status: RequestStatus,
    opened_at: DateTime<Utc>,
    first_response_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
    events: Vec<RequestEvent>,
}

impl From<ServiceRequest> for ServiceRequestRepr {
    fn from(r: ServiceRequest) -> Self {
        ServiceRequestRepr {
            id: r.id,
            customer: r.customer,
            kind: r.kind,
            subject: r.subject,
            description: r.description,
            deal: r.deal,
            status: r.status,
            opened_at: r.opened_at,
            first_response_at: r.first_response_at,
            resolved_at: r.resolved_at,
            events: r.events,
        }
    }
}

impl TryFrom<ServiceRequestRepr> for ServiceRequest {
    type Error = DomainError;
    fn try_from(r: ServiceRequestRepr) -> Result<Self, DomainError> {
        let inconsistent = |detail: String| ValidationError::Inconsistent {
            record: format!("service request {}", r.id),
            detail,
        };
        let mut events = r.events.into_iter();
        match events.next() {
            Some(RequestEvent {
                kind: RequestEventKind::Opened,
                at,
            }) if at == r.opened_at => {}
            _ => {
                return Err(inconsistent(format!(
                    "events must start with opened at {}, the opening time",
                    r.opened_at
                ))
                .into());
            }
        }
        let new = NewServiceRequest {
            customer: r.customer,
            kind: r.kind,
            subject: r.subject,
            description: r.description,
            opened_at: r.opened_at,
            deal: r.deal,
        };
        let rebuilt = ServiceRequest::replay(r.id, new, events)?;
        let show =
            |t: Option<DateTime<Utc>>| t.map_or_else(|| "none".to_owned(), |t| t.to_string());
        if rebuilt.status != r.status {
            return Err(inconsistent(format!(
                "status is {} but the events leave it {}",
                r.status, rebuilt.status
            ))
            .into());
        }
        if rebuilt.first_response_at != r.first_response_at {
            return Err(inconsistent(format!(
                "first response time is {} but the events give {}",
                show(r.first_response_at),
                show(rebuilt.first_response_at)
            ))
            .into());
        }
        if rebuilt.resolved_at != r.resolved_at {
            return Err(inconsistent(format!(
                "resolution time is {} but the events give {}",
                show(r.resolved_at),
                show(rebuilt.resolved_at)
            ))
            .into());
        }
        Ok(rebuilt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, h, 0, 0)
            .single()
            .expect("valid")
    }

    fn complaint() -> ServiceRequest {
        ServiceRequest::open(
            RequestId::new(1),
            NewServiceRequest {
                customer: CustomerId::new(1),
                kind: RequestKind::Complaint,
                subject: Label::parse("late delivery").expect("valid"),
                description: FreeText::empty(),
                opened_at: at(8),
                deal: None,
            },
        )
    }

    #[test]
    fn open_respond_resolve_reopen_resolve() {
        let mut r = complaint();
        r.apply(RequestEventKind::Responded, at(9)).expect("ok");
        r.apply(RequestEventKind::Resolved, at(10)).expect("ok");
        assert_eq!(
            (r.first_response_at(), r.resolved_at()),
            (Some(at(9)), Some(at(10)))
        );
        r.apply(RequestEventKind::Reopened, at(11)).expect("ok");
        assert_eq!(r.resolved_at(), None);
        assert!(r.is_open());
        r.apply(RequestEventKind::Resolved, at(12)).expect("ok");
        assert_eq!(
            (r.first_response_at(), r.resolved_at()),
            (Some(at(9)), Some(at(12)))
        );
        assert_eq!(r.events().len(), 5);
    }

    #[test]
    fn resolving_without_a_response_counts_as_the_first_response() {
        let mut r = complaint();
        r.apply(RequestEventKind::Resolved, at(9)).expect("ok");
        assert_eq!(r.first_response_at(), Some(at(9)));
    }

    #[test]
    fn forbidden_steps_name_the_status() {
        let mut r = complaint();
        let err = r.apply(RequestEventKind::Reopened, at(9)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot reopen a service request that is open"
        );
        r.apply(RequestEventKind::Resolved, at(9)).expect("ok");
        assert!(r.apply(RequestEventKind::Responded, at(10)).is_err());
        assert!(matches!(
            r.apply(RequestEventKind::Reopened, at(7)),
            Err(DomainError::Validation(ValidationError::TimeOrder { .. }))
        ));
    }
}
