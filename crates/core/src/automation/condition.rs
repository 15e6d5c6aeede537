//! The condition of an automation rule: the segment syntax
//! ([`crate::segment_syntax`]) plus the fields of the triggering event.
//!
//! ```text
//! (kind = nps and score <= 6) or (kind = csat and score <= 2)
//! kind = complaint and not tag = "vip"
//! amount >= 1000 and stage = active
//! ```
//!
//! Grammar (keywords and field names ignore case):
//!
//! ```text
//! expr       := and ("or" and)*
//! and        := unary ("and" unary)*
//! unary      := "not" unary | "(" expr ")" | "true" | "false" | comparison
//! comparison := event-field op value | segment-comparison
//! ```
//!
//! Event fields: `event` (the event's name, e.g. `survey_answered`), `kind` (a survey's
//! kind `nps`/`csat`/`ces`, a service request's kind `complaint`/…), `score` (a survey
//! answer's score), `amount` (a purchase's or refund's amount in major units), `first`
//! (`true` for a customer's first purchase), `from` and `to` (the stages of a stage
//! change or of a deal's move). `score` and `amount` take any operator, the others `=`
//! or `!=`. An event field that the event does not have makes its comparison false,
//! and so does every event field for a time rule (which has no event).
//!
//! The customer field `points` is the customer's points balance at the run (the
//! balance after their newest ledger entry, which every points write keeps), a whole
//! number compared with any operator: `points >= 500`. It reads the balance as it is
//! when the rule is evaluated, like every customer comparison (a run after a week
//! evaluates a window of an earlier day with today's balance); an erased or unknown
//! customer has no balance and the comparison is false.
//!
//! Every other comparison is a segment comparison, read by
//! [`Predicate::parse`](crate::Predicate::parse) and evaluated on the customer at the
//! run's instant. A syntax error names the 1-based column (in characters) where it
//! was found, also inside a segment comparison.

use std::fmt;

use rust_decimal::Decimal;

use crate::event::DomainEvent;
use crate::names::canonical;
use crate::segment::{Cmp, MAX_PREDICATE_DEPTH, Predicate};
use crate::segment_syntax::SyntaxError;

/// A rule's condition: the text it was written as and what it means.
///
/// Its serde form is the text, parsed again when read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    text: String,
    expr: Expr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    All(Vec<Expr>),
    Any(Vec<Expr>),
    Not(Box<Expr>),
    Event(EventTest),
    Customer(Predicate),
    /// `points op value`: the customer's points balance.
    Points(Cmp, Decimal),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EventField {
    Event,
    Kind,
    Score,
    Amount,
    First,
    From,
    To,
}

impl EventField {
    fn parse(word: &str) -> Option<EventField> {
        Some(match word.to_ascii_lowercase().as_str() {
            "event" => EventField::Event,
            "kind" => EventField::Kind,
            "score" => EventField::Score,
            "amount" => EventField::Amount,
            "first" => EventField::First,
            "from" => EventField::From,
            "to" => EventField::To,
            _ => return None,
        })
    }

    fn numeric(self) -> bool {
        matches!(self, EventField::Score | EventField::Amount)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum EventValue {
    Number(Decimal),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct EventTest {
    field: EventField,
    op: Cmp,
    value: EventValue,
}

impl EventTest {
    fn holds(&self, event: &DomainEvent) -> bool {
        use DomainEvent as E;
        let actual = match (self.field, event) {
            (EventField::Event, e) => EventValue::Name(e.name().to_owned()),
            (EventField::Kind, E::SurveyAnswered { kind, .. }) => {
                EventValue::Name(kind.as_str().to_owned())
            }
            (EventField::Kind, E::RequestOpened { kind, .. }) => {
                EventValue::Name(kind.as_str().to_owned())
            }
            (EventField::Score, E::SurveyAnswered { score, .. }) => {
                EventValue::Number(Decimal::from(*score))
            }
            (
                EventField::Amount,
                E::PurchaseRecorded { amount, .. } | E::RefundRecorded { amount, .. },
            ) => EventValue::Number(amount.amount()),
            (EventField::First, E::PurchaseRecorded { first, .. }) => {
                EventValue::Name(first.to_string())
            }
            (EventField::From, E::StageChanged { from, .. }) => {
                EventValue::Name(from.as_str().to_owned())
            }
            (EventField::To, E::StageChanged { to, .. }) => {
                EventValue::Name(to.as_str().to_owned())
            }
            (EventField::From, E::DealMoved { from, .. }) => {
                EventValue::Name(from.as_str().to_owned())
            }
            (EventField::To, E::DealMoved { to, .. }) => EventValue::Name(to.as_str().to_owned()),
            _ => return false,
        };
        match (&actual, &self.value) {
            (EventValue::Number(a), EventValue::Number(b)) => self.op.holds(a, b),
            (EventValue::Name(a), EventValue::Name(b)) => match self.op {
                Cmp::Eq => a == b,
                Cmp::Ne => a != b,
                _ => false,
            },
            _ => false,
        }
    }
}

/// What a condition is evaluated against.
#[derive(Clone, Copy)]
pub struct ConditionInput<'a> {
    /// The triggering event; `None` for a time rule.
    pub event: Option<&'a DomainEvent>,
    /// Whether the customer passes a segment comparison: the caller evaluates
    /// [`Predicate::matches`] with the customer's facts at the run's instant.
    pub customer: &'a dyn Fn(&Predicate) -> bool,
    /// The customer's points balance, for the `points` field; `None` (the caller did
    /// not read it, see [`Condition::reads_points`]) makes every `points`
    /// comparison false.
    pub points: Option<i64>,
}

impl fmt::Debug for ConditionInput<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConditionInput")
            .field("event", &self.event)
            .field("points", &self.points)
            .finish_non_exhaustive()
    }
}

impl Condition {
    /// Parses a condition (see [`crate::automation`] and the grammar in the source of
    /// this module: the segment syntax plus the event fields `event`, `kind`, `score`,
    /// `amount`, `first`, `from` and `to`).
    ///
    /// ```
    /// use solocrm_core::automation::Condition;
    /// let c = Condition::parse("(kind = nps and score <= 6) or tag = vip")?;
    /// assert_eq!(c.to_string(), "(kind = nps and score <= 6) or tag = vip");
    /// let e = Condition::parse("score <= six").unwrap_err();
    /// assert_eq!(e.to_string(), "column 10: 'score' takes a number, not 'six'");
    /// let e = Condition::parse("kind = nps and stage = nowhere").unwrap_err();
    /// assert_eq!(e.column, 24);
    /// # Ok::<(), solocrm_core::segment_syntax::SyntaxError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SyntaxError`] with the 1-based column of the first problem.
    pub fn parse(input: &str) -> Result<Condition, SyntaxError> {
        let tokens = lex(input)?;
        let chars: Vec<char> = input.chars().collect();
        let mut p = Parser {
            tokens,
            chars,
            pos: 0,
            nesting: 0,
        };
        let expr = p.expr()?;
        if p.pos < p.tokens.len() {
            return Err(err(
                p.column(),
                "expected the end; join conditions with 'and' or 'or'",
            ));
        }
        Ok(Condition {
            text: input.trim().to_owned(),
            expr,
        })
    }

    /// Whether the condition holds for `input`.
    pub fn holds(&self, input: &ConditionInput<'_>) -> bool {
        eval(&self.expr, input)
    }

    /// True if some comparison reads the customer (a segment comparison).
    pub fn reads_customer(&self) -> bool {
        fn any(e: &Expr) -> bool {
            match e {
                Expr::All(es) | Expr::Any(es) => es.iter().any(any),
                Expr::Not(e) => any(e),
                Expr::Event(_) | Expr::Points(..) => false,
                Expr::Customer(_) => true,
            }
        }
        any(&self.expr)
    }

    /// True if some comparison reads the customer's points balance (the `points`
    /// field): the caller passes it in [`ConditionInput::points`].
    ///
    /// ```
    /// use solocrm_core::automation::{Condition, ConditionInput};
    /// let c = Condition::parse("points >= 500 and stage = loyal")?;
    /// assert!(c.reads_points());
    /// let loyal = |_: &solocrm_core::Predicate| true;
    /// let with = |points| ConditionInput { event: None, customer: &loyal, points };
    /// assert!(c.holds(&with(Some(500))));
    /// assert!(!c.holds(&with(Some(499))));
    /// assert!(!c.holds(&with(None)));
    /// assert!(!Condition::parse("stage = loyal")?.reads_points());
    /// # Ok::<(), solocrm_core::segment_syntax::SyntaxError>(())
    /// ```
    pub fn reads_points(&self) -> bool {
        fn any(e: &Expr) -> bool {
            match e {
                Expr::All(es) | Expr::Any(es) => es.iter().any(any),
                Expr::Not(e) => any(e),
                Expr::Points(..) => true,
                Expr::Event(_) | Expr::Customer(_) => false,
            }
        }
        any(&self.expr)
    }

    /// The segment comparisons, for a caller deciding which facts it needs.
    pub fn predicates(&self) -> Vec<&Predicate> {
        fn walk<'a>(e: &'a Expr, out: &mut Vec<&'a Predicate>) {
            match e {
                Expr::All(es) | Expr::Any(es) => es.iter().for_each(|e| walk(e, out)),
                Expr::Not(e) => walk(e, out),
                Expr::Event(_) | Expr::Points(..) => {}
                Expr::Customer(p) => out.push(p),
            }
        }
        let mut out = Vec::new();
        walk(&self.expr, &mut out);
        out
    }

    /// The text the condition was written as.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

fn eval(e: &Expr, input: &ConditionInput<'_>) -> bool {
    match e {
        Expr::All(es) => es.iter().all(|e| eval(e, input)),
        Expr::Any(es) => es.iter().any(|e| eval(e, input)),
        Expr::Not(e) => !eval(e, input),
        Expr::Event(t) => input.event.is_some_and(|ev| t.holds(ev)),
        Expr::Customer(p) => (input.customer)(p),
        Expr::Points(op, value) => input
            .points
            .is_some_and(|points| op.holds(&Decimal::from(points), value)),
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl TryFrom<String> for Condition {
    type Error = SyntaxError;
    fn try_from(s: String) -> Result<Self, SyntaxError> {
        Condition::parse(&s)
    }
}

impl From<Condition> for String {
    fn from(c: Condition) -> String {
        c.text
    }
}

impl serde::Serialize for Condition {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Condition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Condition::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Op(Cmp),
    Open,
    Close,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// 0-based index of the first character.
    start: usize,
    /// 0-based index one past the last character.
    end: usize,
}

fn err(column: usize, message: impl Into<String>) -> SyntaxError {
    SyntaxError {
        column,
        message: message.into(),
    }
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || "_-.:/+&".contains(c)
}

fn lex(input: &str) -> Result<Vec<Token>, SyntaxError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let two = chars.get(i + 1).copied();
        let (tok, len) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (Tok::Open, 1),
            ')' => (Tok::Close, 1),
            '=' => (Tok::Op(Cmp::Eq), 1),
            '!' if two == Some('=') => (Tok::Op(Cmp::Ne), 2),
            '<' if two == Some('=') => (Tok::Op(Cmp::Le), 2),
            '>' if two == Some('=') => (Tok::Op(Cmp::Ge), 2),
            '<' => (Tok::Op(Cmp::Lt), 1),
            '>' => (Tok::Op(Cmp::Gt), 1),
            '"' => {
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err(err(i + 1, "this quoted text is never closed")),
                        Some('"') => break,
                        Some('\\') => match chars.get(j + 1) {
                            Some(e @ ('"' | '\\')) => {
                                s.push(*e);
                                j += 2;
                            }
                            _ => {
                                return Err(err(
                                    j + 1,
                                    "only \\\" and \\\\ may follow a backslash",
                                ));
                            }
                        },
                        Some(ch) => {
                            s.push(*ch);
                            j += 1;
                        }
                    }
                }
                (Tok::Str(s), j + 1 - i)
            }
            c if is_word_char(c) => {
                let len = chars[i..].iter().take_while(|c| is_word_char(**c)).count();
                (Tok::Word(chars[i..i + len].iter().collect()), len)
            }
            other => return Err(err(i + 1, format!("unexpected character '{other}'"))),
        };
        out.push(Token {
            tok,
            start: i,
            end: i + len,
        });
        i += len;
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    chars: Vec<char>,
    pos: usize,
    nesting: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn column(&self) -> usize {
        self.peek().map_or(self.chars.len() + 1, |t| t.start + 1)
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(word))
    }

    fn expr(&mut self) -> Result<Expr, SyntaxError> {
        let mut parts = vec![self.and()?];
        while self.keyword("or") {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Any(parts)
        })
    }

    fn and(&mut self) -> Result<Expr, SyntaxError> {
        let mut parts = vec![self.unary()?];
        while self.keyword("and") {
            self.pos += 1;
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::All(parts)
        })
    }

    fn deeper(&mut self) -> Result<(), SyntaxError> {
        if self.nesting >= MAX_PREDICATE_DEPTH {
            return Err(err(
                self.column(),
                format!("conditions nest more than {MAX_PREDICATE_DEPTH} levels"),
            ));
        }
        self.nesting += 1;
        Ok(())
    }

    fn unary(&mut self) -> Result<Expr, SyntaxError> {
        if self.keyword("not") {
            self.deeper()?;
            self.pos += 1;
            let inner = self.unary()?;
            self.nesting -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        if self.keyword("true") {
            self.pos += 1;
            return Ok(Expr::All(Vec::new()));
        }
        if self.keyword("false") {
            self.pos += 1;
            return Ok(Expr::Any(Vec::new()));
        }
        match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Open) => {
                self.deeper()?;
                self.pos += 1;
                let inner = self.expr()?;
                match self.peek() {
                    Some(Token {
                        tok: Tok::Close, ..
                    }) => self.pos += 1,
                    _ => return Err(err(self.column(), "expected ')'")),
                }
                self.nesting -= 1;
                Ok(inner)
            }
            Some(Tok::Word(_)) => self.comparison(),
            None => Err(err(self.column(), "expected a condition, found the end")),
            Some(_) => Err(err(self.column(), "expected a condition")),
        }
    }

    fn comparison(&mut self) -> Result<Expr, SyntaxError> {
        let field_tok = self.tokens[self.pos].clone();
        let Tok::Word(field) = &field_tok.tok else {
            return Err(err(field_tok.start + 1, "expected a field"));
        };
        let op_tok = self.tokens.get(self.pos + 1).cloned();
        let value_tok = self.tokens.get(self.pos + 2).cloned();
        let Some(Token {
            tok: Tok::Op(op), ..
        }) = op_tok
        else {
            let column = op_tok.map_or(self.chars.len() + 1, |t| t.start + 1);
            return Err(err(
                column,
                format!("expected =, !=, <, <=, > or >= after '{field}'"),
            ));
        };
        let Some(value_tok) = value_tok else {
            return Err(err(self.chars.len() + 1, "expected a value, found the end"));
        };
        let value = match &value_tok.tok {
            Tok::Word(w) | Tok::Str(w) => w.clone(),
            _ => return Err(err(value_tok.start + 1, "expected a value")),
        };
        self.pos += 3;
        if field.eq_ignore_ascii_case("points") {
            let number = crate::money::parse_plain_decimal(&value)
                .ok()
                .filter(|n| n.fract().is_zero())
                .ok_or_else(|| {
                    err(
                        value_tok.start + 1,
                        format!("'points' takes a whole number, not '{value}'"),
                    )
                })?;
            return Ok(Expr::Points(op, number));
        }
        if let Some(field) = EventField::parse(field) {
            let name = format!("{field:?}").to_ascii_lowercase();
            let value = if field.numeric() {
                let number = crate::money::parse_plain_decimal(&value).map_err(|_| {
                    err(
                        value_tok.start + 1,
                        format!("'{name}' takes a number, not '{value}'"),
                    )
                })?;
                EventValue::Number(number)
            } else {
                if !matches!(op, Cmp::Eq | Cmp::Ne) {
                    return Err(err(
                        field_tok.end + 2,
                        format!(
                            "'{name}' can only be compared with = or !=, not {}",
                            op.symbol()
                        ),
                    ));
                }
                EventValue::Name(canonical(&value))
            };
            return Ok(Expr::Event(EventTest { field, op, value }));
        }
        // A segment comparison: hand its own text to the segment parser, and move its
        // error's column to where the comparison starts.
        let text: String = self.chars[field_tok.start..value_tok.end].iter().collect();
        let predicate = Predicate::parse(&text).map_err(|e| SyntaxError {
            column: e.column + field_tok.start,
            message: e.message,
        })?;
        Ok(Expr::Customer(predicate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{CustomerId, RequestId, SurveyId};
    use crate::service::RequestKind;
    use crate::survey::SurveyKind;

    fn survey(kind: SurveyKind, score: u8) -> DomainEvent {
        DomainEvent::SurveyAnswered {
            customer: CustomerId::new(1),
            survey: SurveyId::new(1),
            kind,
            score,
        }
    }

    fn holds(c: &str, event: &DomainEvent, customer: bool) -> bool {
        let f = move |_: &Predicate| customer;
        Condition::parse(c).unwrap().holds(&ConditionInput {
            event: Some(event),
            customer: &f,
            points: None,
        })
    }

    fn with_points(c: &str, points: Option<i64>) -> bool {
        let f = |_: &Predicate| true;
        Condition::parse(c).unwrap().holds(&ConditionInput {
            event: None,
            customer: &f,
            points,
        })
    }

    #[test]
    fn points_compares_the_balance_with_any_operator() {
        assert!(with_points("points >= 500", Some(500)));
        assert!(!with_points("points >= 500", Some(499)));
        assert!(with_points("POINTS < 10", Some(0)));
        assert!(with_points("points != 3", Some(4)));
        assert!(with_points("points = 3", Some(3)));
        assert!(with_points("points > 100 and tag = 会员", Some(101)));
        // No balance (an erased customer, or not read): false, and `not` flips it.
        assert!(!with_points("points >= 0", None));
        assert!(with_points("not points >= 0", None));
        // The comparison is no segment comparison and no event field.
        let c = Condition::parse("points >= 500 or kind = nps").unwrap();
        assert!(c.reads_points());
        assert!(!c.reads_customer());
        assert!(c.predicates().is_empty());
        assert_eq!(c.to_string(), "points >= 500 or kind = nps");
    }

    #[test]
    fn points_takes_a_whole_number() {
        for (text, column, message) in [
            (
                "points >= many",
                11,
                "'points' takes a whole number, not 'many'",
            ),
            (
                "points >= 10.5",
                11,
                "'points' takes a whole number, not '10.5'",
            ),
            (
                "stage = loyal and points > 积分",
                28,
                "'points' takes a whole number, not '积分'",
            ),
        ] {
            let e = Condition::parse(text).unwrap_err();
            assert_eq!((e.column, e.message.as_str()), (column, message), "{text}");
        }
        assert!(Condition::parse("points >= -5").is_ok());
    }

    #[test]
    fn event_fields_filter_the_event() {
        let c = "(kind = nps and score <= 6) or (kind = csat and score <= 2)";
        assert!(holds(c, &survey(SurveyKind::Nps, 6), true));
        assert!(!holds(c, &survey(SurveyKind::Nps, 7), true));
        assert!(holds(c, &survey(SurveyKind::Csat, 2), true));
        assert!(!holds(c, &survey(SurveyKind::Csat, 3), true));
        assert!(!holds(c, &survey(SurveyKind::Ces, 1), true));
        let complaint = DomainEvent::RequestOpened {
            customer: CustomerId::new(1),
            request: RequestId::new(1),
            kind: RequestKind::Complaint,
        };
        assert!(holds("kind = complaint", &complaint, true));
        assert!(!holds("kind != complaint", &complaint, true));
        assert!(!holds("score >= 0", &complaint, true), "no score: false");
        assert!(holds("not score >= 0", &complaint, true));
    }

    #[test]
    fn segment_comparisons_ask_the_caller() {
        let e = survey(SurveyKind::Nps, 3);
        assert!(holds("score < 5 and tag = vip", &e, true));
        assert!(!holds("score < 5 and tag = vip", &e, false));
        assert!(holds("score < 5 or tag = vip", &e, false));
        let c = Condition::parse(r#"stage = at_risk and tag = "老客户""#).unwrap();
        assert_eq!(c.predicates().len(), 2);
        assert!(c.reads_customer());
        assert!(!Condition::parse("score < 5").unwrap().reads_customer());
    }

    #[test]
    fn errors_name_the_column() {
        let e = Condition::parse("score <= six").unwrap_err();
        assert_eq!(e.column, 10);
        let e = Condition::parse("kind < nps").unwrap_err();
        assert_eq!(e.column, 6);
        let e = Condition::parse("score <= 6 and").unwrap_err();
        assert_eq!(e.column, 15);
        // Inside a segment comparison the column counts from the whole text.
        let e = Condition::parse("score <= 6 and stage = nowhere").unwrap_err();
        assert_eq!(e.column, 24, "{e}");
        let e = Condition::parse("score <= 6 and colour = red").unwrap_err();
        assert_eq!(e.column, 16, "{e}");
        let e = Condition::parse("(score <= 6").unwrap_err();
        assert_eq!(e.column, 12);
        let deep = format!("{}score < 1{}", "(".repeat(40), ")".repeat(40));
        assert!(Condition::parse(&deep).is_err());
    }

    #[test]
    fn conditions_round_trip_through_serde() {
        let c = Condition::parse("kind = complaint and not tag = vip").unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(json, "\"kind = complaint and not tag = vip\"");
        let back: Condition = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        assert!(serde_json::from_str::<Condition>("\"kind <\"").is_err());
    }
}
