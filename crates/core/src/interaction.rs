//! Interactions: every contact with a customer, on any channel.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{CustomerId, InteractionId};
use crate::names::named_enum;
use crate::text::FreeText;
use crate::void::Void;

named_enum! {
    /// The channel of an interaction.
    pub enum Channel as "channel" {
        /// A phone call.
        Phone = "phone",
        /// An email.
        Email = "email",
        /// Social media.
        Social = "social",
        /// A chat or messenger.
        Chat = "chat",
        /// WeChat (微信), where much of a Chinese business talks to its customers.
        WeChat = "wechat",
        /// Face to face.
        InPerson = "in_person",
        /// Anything else (a letter, a fair).
        Other = "other",
    }
}

named_enum! {
    /// Who started the interaction.
    pub enum Direction as "direction" {
        /// The customer reached out.
        Inbound = "inbound",
        /// The business reached out.
        Outbound = "outbound",
    }
}

named_enum! {
    /// The tone of an interaction, as the person logging it judged it.
    pub enum Sentiment as "sentiment" {
        /// Unhappy.
        Negative = "negative",
        /// Neither.
        Neutral = "neutral",
        /// Happy.
        Positive = "positive",
    }
}

/// An interaction to be logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewInteraction {
    /// The customer.
    pub customer: CustomerId,
    /// The channel.
    pub channel: Channel,
    /// Who started it.
    pub direction: Direction,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What was said or done.
    pub summary: FreeText,
    /// The tone, if judged.
    pub sentiment: Option<Sentiment>,
}

/// A logged interaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interaction {
    id: InteractionId,
    #[serde(flatten)]
    fields: NewInteraction,
    /// Boxed, as a purchase's: few interactions are voided (issue 14).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    void: Option<Box<Void>>,
}

/// A change to a logged interaction: each field given replaces the stored one; `None`
/// keeps it (the sentiment takes `Some(None)` to clear it).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionEdit {
    /// A new summary.
    pub summary: Option<FreeText>,
    /// A new channel.
    pub channel: Option<Channel>,
    /// A new direction.
    pub direction: Option<Direction>,
    /// A new sentiment, or `Some(None)` to clear it.
    pub sentiment: Option<Option<Sentiment>>,
    /// A new time.
    pub at: Option<DateTime<Utc>>,
}

impl InteractionEdit {
    /// True if the edit changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == InteractionEdit::default()
    }

    /// `fields` with the edit applied.
    pub fn apply(&self, mut fields: NewInteraction) -> NewInteraction {
        if let Some(s) = &self.summary {
            fields.summary = s.clone();
        }
        if let Some(c) = self.channel {
            fields.channel = c;
        }
        if let Some(d) = self.direction {
            fields.direction = d;
        }
        if let Some(s) = self.sentiment {
            fields.sentiment = s;
        }
        if let Some(at) = self.at {
            fields.at = at;
        }
        fields
    }
}

impl Interaction {
    /// The interaction `fields` stored under `id`. For store implementations.
    pub fn new(id: InteractionId, fields: NewInteraction) -> Self {
        Interaction {
            id,
            fields,
            void: None,
        }
    }
    /// The same interaction with this void marker (none: not voided). For store
    /// implementations reading a stored interaction back.
    #[must_use]
    pub fn with_void(mut self, void: Option<Void>) -> Self {
        self.void = void.map(Box::new);
        self
    }
    /// The void marker, if the interaction was voided.
    pub fn void(&self) -> Option<&Void> {
        self.void.as_deref()
    }
    /// True if the interaction was voided: it stays in the books but counts nowhere.
    pub fn is_void(&self) -> bool {
        self.void.is_some()
    }
    /// All fields.
    pub fn fields(&self) -> &NewInteraction {
        &self.fields
    }
    /// The id.
    pub fn id(&self) -> InteractionId {
        self.id
    }
    /// The customer.
    pub fn customer(&self) -> CustomerId {
        self.fields.customer
    }
    /// The channel.
    pub fn channel(&self) -> Channel {
        self.fields.channel
    }
    /// Who started it.
    pub fn direction(&self) -> Direction {
        self.fields.direction
    }
    /// When it happened.
    pub fn at(&self) -> DateTime<Utc> {
        self.fields.at
    }
    /// The summary.
    pub fn summary(&self) -> &FreeText {
        &self.fields.summary
    }
    /// The tone.
    pub fn sentiment(&self) -> Option<Sentiment> {
        self.fields.sentiment
    }
    /// Clears the free-text summary (privacy erase); channel, direction, time and
    /// sentiment stay.
    pub fn erase_text(&mut self) {
        self.fields.summary = FreeText::empty();
        if let Some(v) = &mut self.void {
            v.erase_text();
        }
    }
}
