//! The text syntax of segment predicates, e.g.
//!
//! ```text
//! stage = active and tag = "vip" and days_since_purchase > 60 and not country = "CN"
//! ```
//!
//! Grammar (keywords and field names ignore case):
//!
//! ```text
//! expr       := and ("or" and)*
//! and        := unary ("and" unary)*
//! unary      := "not" unary | "(" expr ")" | "true" | "false" | comparison
//! comparison := field op value
//! op         := "=" | "!=" | "<" | "<=" | ">" | ">="
//! value      := word | "quoted string" (with \" and \\ escapes) | number
//! ```
//!
//! Fields: `stage`, `tag`, `country`, `region`, `city`, `age_band`, `gender`,
//! `income_band`, `industry`, `interest`, `lifestyle`, `value`, `channel` (the
//! acquisition channel), `attribute.KEY`, `consent` (a purpose whose consent is in
//! force, e.g. `consent = "marketing-email"`), `tier` (the tier of the points
//! program), `need` and `pain_point` (an open need or pain point with this key on the
//! customer or one of their deals, e.g. `pain_point = "价格敏感"`) take `=` or `!=`;
//! `days_since_purchase`, `purchase_count` and `total_spend` take any operator.
//! `and` binds tighter than `or`. `true` is `all` of nothing, `false` `any` of nothing.
//!
//! A syntax error carries the 1-based column (in characters) where it was found.
//!
//! Nesting is bounded: at most [`MAX_PREDICATE_DEPTH`] (32) `not`s and open parentheses
//! may be pending at once, checked before the parser descends (so no input can
//! overflow the stack), and the predicate read must nest at most 32 levels
//! ([`Predicate::depth`]). Whatever parses prints back to text that parses to the same
//! predicate, and serialises to a stored form that reads back.

use std::fmt;

use rust_decimal::Decimal;
use thiserror::Error;

use crate::customer::{AgeBand, Gender, IncomeBand};
use crate::lifecycle::LifecycleStage;
use crate::money::parse_plain_decimal;
use crate::segment::{Cmp, Comparison, MAX_PREDICATE_DEPTH, Predicate};
use crate::text::{CountryCode, Label, Tag};

/// A segment expression that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("column {column}: {message}")]
pub struct SyntaxError {
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong there.
    pub message: String,
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
    column: usize,
}

fn err(column: usize, message: impl Into<String>) -> SyntaxError {
    SyntaxError {
        column,
        message: message.into(),
    }
}

fn lex(input: &str) -> Result<Vec<Token>, SyntaxError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
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
                        None => return Err(err(column, "this quoted text is never closed")),
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
            other => return Err(err(column, format!("unexpected character '{other}'"))),
        };
        out.push(Token { tok, column });
        i += len;
    }
    Ok(out)
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || "_-.:/+&".contains(c)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    end_column: usize,
    /// `not`s and `(`s being parsed.
    nesting: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn column(&self) -> usize {
        self.peek().map_or(self.end_column, |t| t.column)
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case(word))
    }

    fn expr(&mut self) -> Result<Predicate, SyntaxError> {
        let mut parts = vec![self.and()?];
        while self.keyword("or") {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Predicate::Any(parts)
        })
    }

    fn and(&mut self) -> Result<Predicate, SyntaxError> {
        let mut parts = vec![self.unary()?];
        while self.keyword("and") {
            self.pos += 1;
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Predicate::All(parts)
        })
    }

    /// Enters one more `not` or `(` at `column`, refusing to go deeper than the limit.
    fn enter(&mut self, column: usize) -> Result<(), SyntaxError> {
        if self.nesting >= MAX_PREDICATE_DEPTH {
            return Err(err(
                column,
                format!(
                    "conditions nest too deeply: at most {MAX_PREDICATE_DEPTH} 'not's and '('s may be open at once"
                ),
            ));
        }
        self.nesting += 1;
        Ok(())
    }

    fn unary(&mut self) -> Result<Predicate, SyntaxError> {
        if self.keyword("not") {
            self.enter(self.column())?;
            self.pos += 1;
            let inner = self.unary()?;
            self.nesting -= 1;
            return Ok(Predicate::not(inner));
        }
        if self.keyword("true") {
            self.pos += 1;
            return Ok(Predicate::All(Vec::new()));
        }
        if self.keyword("false") {
            self.pos += 1;
            return Ok(Predicate::Any(Vec::new()));
        }
        let column = self.column();
        match self.peek().map(|t| t.tok.clone()) {
            Some(Tok::Open) => {
                self.enter(column)?;
                self.pos += 1;
                let inner = self.expr()?;
                self.nesting -= 1;
                match self.peek() {
                    Some(Token {
                        tok: Tok::Close, ..
                    }) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    _ => Err(err(
                        self.column(),
                        format!("expected ')' to close the '(' at column {column}"),
                    )),
                }
            }
            Some(Tok::Word(field)) => {
                self.pos += 1;
                self.comparison(&field, column)
            }
            Some(_) => Err(err(column, "expected a field name, 'not' or '('")),
            None => Err(err(column, "expected a condition, found the end")),
        }
    }

    fn comparison(&mut self, field: &str, field_column: usize) -> Result<Predicate, SyntaxError> {
        let op_column = self.column();
        let op = match self.peek() {
            Some(Token {
                tok: Tok::Op(op), ..
            }) => *op,
            _ => {
                return Err(err(
                    op_column,
                    format!("expected an operator (= != < <= > >=) after '{field}'"),
                ));
            }
        };
        self.pos += 1;
        let value_column = self.column();
        let value = match self.peek() {
            Some(Token {
                tok: Tok::Word(w) | Tok::Str(w),
                ..
            }) => w.clone(),
            _ => {
                return Err(err(
                    value_column,
                    format!("expected a value after '{}'", op.symbol()),
                ));
            }
        };
        self.pos += 1;
        let bad = |e: crate::ValidationError| err(value_column, e.to_string());
        let number = |what: &str| -> Result<i64, SyntaxError> {
            value.parse::<i64>().map_err(|_| {
                err(
                    value_column,
                    format!("{what} needs a whole number, got '{value}'"),
                )
            })
        };
        let key = field.to_ascii_lowercase();
        let numeric = match key.as_str() {
            "days_since_purchase" | "days_since_last_purchase" => {
                Some(Predicate::DaysSinceLastPurchase(Comparison {
                    op,
                    value: number(field)?,
                }))
            }
            "purchase_count" => {
                let n = u64::try_from(number(field)?)
                    .map_err(|_| err(value_column, "purchase_count cannot be negative"))?;
                Some(Predicate::PurchaseCount(Comparison { op, value: n }))
            }
            "total_spend" => {
                let amount: Decimal = parse_plain_decimal(&value).map_err(bad)?;
                Some(Predicate::TotalSpend(Comparison { op, value: amount }))
            }
            _ => None,
        };
        if let Some(p) = numeric {
            return Ok(p);
        }
        let equality = match key.as_str() {
            "stage" => Predicate::Stage(LifecycleStage::parse(&value).map_err(bad)?),
            "tag" => Predicate::Tag(Tag::parse(&value).map_err(bad)?),
            "country" => Predicate::Country(CountryCode::parse(&value).map_err(bad)?),
            "region" => Predicate::Region(Label::parse(&value).map_err(bad)?),
            "city" => Predicate::City(Label::parse(&value).map_err(bad)?),
            "age_band" => Predicate::AgeBand(AgeBand::parse(&value).map_err(bad)?),
            "gender" => Predicate::Gender(Gender::parse(&value).map_err(bad)?),
            "income_band" => Predicate::IncomeBand(IncomeBand::parse(&value).map_err(bad)?),
            "industry" => Predicate::Industry(Label::parse(&value).map_err(bad)?),
            "interest" => Predicate::Interest(Tag::parse(&value).map_err(bad)?),
            "lifestyle" => Predicate::Lifestyle(Tag::parse(&value).map_err(bad)?),
            "value" => Predicate::Value(Tag::parse(&value).map_err(bad)?),
            "channel" => Predicate::AcquisitionChannel(Tag::parse(&value).map_err(bad)?),
            "consent" => Predicate::Consent(Tag::parse(&value).map_err(bad)?),
            "tier" => Predicate::Tier(Tag::parse(&value).map_err(bad)?),
            "need" => Predicate::Need(Tag::parse(&value).map_err(bad)?),
            "pain_point" => Predicate::PainPoint(Tag::parse(&value).map_err(bad)?),
            k if k.starts_with("attribute.") => {
                let attr = Tag::parse(&field["attribute.".len()..])
                    .map_err(|e| err(field_column, e.to_string()))?;
                Predicate::Attribute {
                    key: attr,
                    value: Label::parse(&value).map_err(bad)?,
                }
            }
            _ => {
                return Err(err(
                    field_column,
                    format!(
                        "unknown field '{field}'; expected one of: stage, tag, country, region, city, age_band, \
                         gender, income_band, industry, interest, lifestyle, value, channel, attribute.KEY, \
                         consent, tier, need, pain_point, days_since_purchase, purchase_count, total_spend"
                    ),
                ));
            }
        };
        match op {
            Cmp::Eq => Ok(equality),
            Cmp::Ne => Ok(Predicate::not(equality)),
            other => Err(err(
                op_column,
                format!(
                    "'{field}' can only be compared with = or !=, not {}",
                    other.symbol()
                ),
            )),
        }
    }
}

impl Predicate {
    /// Parses the segment syntax described in [`crate::segment_syntax`].
    ///
    /// ```
    /// use solocrm_core::Predicate;
    /// let p = Predicate::parse(r#"stage = active and tag = "vip" and days_since_purchase > 60 and not country = "CN""#)?;
    /// assert_eq!(p.to_string(), r#"stage = active and tag = "vip" and days_since_purchase > 60 and not country = "CN""#);
    /// let e = Predicate::parse("stage = active and").unwrap_err();
    /// assert_eq!(e.to_string(), "column 19: expected a condition, found the end");
    /// # Ok::<(), solocrm_core::segment_syntax::SyntaxError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`SyntaxError`] with the column of the first problem, also when the conditions
    /// nest more than [`MAX_PREDICATE_DEPTH`] levels.
    pub fn parse(input: &str) -> Result<Predicate, SyntaxError> {
        let tokens = lex(input)?;
        let mut p = Parser {
            tokens,
            pos: 0,
            end_column: input.chars().count() + 1,
            nesting: 0,
        };
        let pred = p.expr()?;
        if p.pos < p.tokens.len() {
            let what = match &p.tokens[p.pos].tok {
                Tok::Close => "an unmatched ')'".to_owned(),
                _ => "more input; join conditions with 'and' or 'or'".to_owned(),
            };
            return Err(err(p.column(), format!("expected the end, found {what}")));
        }
        pred.check_depth().map_err(|e| err(1, e.to_string()))?;
        Ok(pred)
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

impl fmt::Display for Predicate {
    /// Writes the predicate in the syntax [`Predicate::parse`] reads. Nested `and`/`or`
    /// groups are parenthesised, so the text parses back to an equivalent predicate.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let group = |f: &mut fmt::Formatter<'_>,
                     ps: &[Predicate],
                     word: &str,
                     empty: &str|
         -> fmt::Result {
            if ps.is_empty() {
                return f.write_str(empty);
            }
            for (i, p) in ps.iter().enumerate() {
                if i > 0 {
                    write!(f, " {word} ")?;
                }
                match p {
                    Predicate::All(q) | Predicate::Any(q) if q.len() != 1 && !q.is_empty() => {
                        write!(f, "({p})")?
                    }
                    _ => write!(f, "{p}")?,
                }
            }
            Ok(())
        };
        match self {
            Predicate::All(ps) => group(f, ps, "and", "true"),
            Predicate::Any(ps) => group(f, ps, "or", "false"),
            Predicate::Not(p) => match p.as_ref() {
                Predicate::All(q) | Predicate::Any(q) if q.len() > 1 => write!(f, "not ({p})"),
                _ => write!(f, "not {p}"),
            },
            Predicate::Stage(s) => write!(f, "stage = {s}"),
            Predicate::Tag(t) => write!(f, "tag = {}", quote(t.as_str())),
            Predicate::Country(c) => write!(f, "country = {}", quote(c.as_str())),
            Predicate::Region(r) => write!(f, "region = {}", quote(r.as_str())),
            Predicate::City(c) => write!(f, "city = {}", quote(c.as_str())),
            Predicate::AgeBand(b) => write!(f, "age_band = {b}"),
            Predicate::Gender(g) => write!(f, "gender = {g}"),
            Predicate::IncomeBand(i) => write!(f, "income_band = {i}"),
            Predicate::Industry(i) => write!(f, "industry = {}", quote(i.as_str())),
            Predicate::Interest(t) => write!(f, "interest = {}", quote(t.as_str())),
            Predicate::Lifestyle(t) => write!(f, "lifestyle = {}", quote(t.as_str())),
            Predicate::Value(t) => write!(f, "value = {}", quote(t.as_str())),
            Predicate::AcquisitionChannel(t) => write!(f, "channel = {}", quote(t.as_str())),
            Predicate::Attribute { key, value } => {
                write!(f, "attribute.{key} = {}", quote(value.as_str()))
            }
            Predicate::Consent(t) => write!(f, "consent = {}", quote(t.as_str())),
            Predicate::Tier(t) => write!(f, "tier = {}", quote(t.as_str())),
            Predicate::Need(t) => write!(f, "need = {}", quote(t.as_str())),
            Predicate::PainPoint(t) => write!(f, "pain_point = {}", quote(t.as_str())),
            Predicate::DaysSinceLastPurchase(c) => {
                write!(f, "days_since_purchase {} {}", c.op.symbol(), c.value)
            }
            Predicate::PurchaseCount(c) => {
                write!(f, "purchase_count {} {}", c.op.symbol(), c.value)
            }
            Predicate::TotalSpend(c) => write!(f, "total_spend {} {}", c.op.symbol(), c.value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_err(input: &str, column: usize, message: &str) {
        let e = Predicate::parse(input).expect_err("should not parse");
        assert_eq!((e.column, e.message.as_str()), (column, message), "{input}");
    }

    #[test]
    fn precedence_and_grouping() {
        let p = Predicate::parse("tag = a or tag = b and not (stage = new or stage = lead)")
            .expect("parses");
        assert_eq!(
            p.to_string(),
            r#"tag = "a" or (tag = "b" and not (stage = new or stage = lead))"#
        );
        assert_eq!(
            Predicate::parse("TRUE").expect("parses"),
            Predicate::All(vec![])
        );
        assert_eq!(
            Predicate::parse("purchase_count != 2").expect("parses"),
            Predicate::PurchaseCount(Comparison {
                op: Cmp::Ne,
                value: 2
            })
        );
        assert_eq!(
            Predicate::parse("stage != churned").expect("parses"),
            Predicate::not(Predicate::Stage(LifecycleStage::Churned))
        );
    }

    #[test]
    fn errors_point_at_the_column() {
        check_err(
            "stage = activ",
            9,
            "unknown lifecycle stage 'activ'; expected one of: prospect, lead, new, active, loyal, at_risk, churned, won_back",
        );
        check_err(
            "stags = active",
            1,
            "unknown field 'stags'; expected one of: stage, tag, country, region, city, age_band, gender, income_band, industry, interest, lifestyle, value, channel, attribute.KEY, consent, tier, need, pain_point, days_since_purchase, purchase_count, total_spend",
        );
        check_err(
            "stage > active",
            7,
            "'stage' can only be compared with = or !=, not >",
        );
        check_err("tag = \"vip", 7, "this quoted text is never closed");
        check_err(
            "(tag = vip",
            11,
            "expected ')' to close the '(' at column 1",
        );
        check_err("tag = vip)", 10, "expected the end, found an unmatched ')'");
        check_err(
            "tag = vip stage = new",
            11,
            "expected the end, found more input; join conditions with 'and' or 'or'",
        );
        check_err(
            "days_since_purchase > soon",
            23,
            "days_since_purchase needs a whole number, got 'soon'",
        );
        check_err(
            "tag vip",
            5,
            "expected an operator (= != < <= > >=) after 'tag'",
        );
        check_err("tag = ;", 7, "unexpected character ';'");
        check_err("", 1, "expected a condition, found the end");
    }

    #[test]
    fn quoted_values_keep_spaces_and_escapes() {
        let p = Predicate::parse(r#"city = "New \"York\"" and attribute.plan = "pro plus""#)
            .expect("parses");
        assert_eq!(
            p.to_string(),
            r#"city = "New \"York\"" and attribute.plan = "pro plus""#
        );
        assert_eq!(Predicate::parse(&p.to_string()).expect("round-trips"), p);
    }

    /// 20,000 nested parentheses overflowed the stack (exit 134); 127 nested `not`s
    /// were saved, and then no segment could be read back.
    #[test]
    fn deep_nesting_is_refused_with_a_message_before_descending() {
        let parens = format!("{}tag = vip{}", "(".repeat(20_000), ")".repeat(20_000));
        let e = Predicate::parse(&parens).expect_err("too deep");
        assert_eq!(e.column, 33);
        assert!(e.message.contains("nest too deeply"), "{e}");
        let nots = format!("{}tag = vip", "not ".repeat(127));
        let e = Predicate::parse(&nots).expect_err("too deep");
        assert!(e.message.contains("at most 32"), "{e}");
        // 31 nots and a comparison: 32 levels, the limit.
        let ok = Predicate::parse(&format!("{}tag = vip", "not ".repeat(31))).expect("parses");
        assert_eq!(ok.depth(), MAX_PREDICATE_DEPTH);
        let json = serde_json::to_string(&ok).expect("serialises");
        assert_eq!(
            serde_json::from_str::<Predicate>(&json).expect("reads back"),
            ok
        );
        // 32 nots: 33 levels, one too many, and said so.
        let e = Predicate::parse(&format!("{}tag = vip", "not ".repeat(32))).expect_err("deep");
        assert!(
            e.message.contains("nests 33 levels deep; the limit is 32"),
            "{e}"
        );
        // A stored form deeper than the limit is refused when read, with the reason.
        let deep = Predicate::not(ok);
        let json = serde_json::to_string(&deep).expect("serialises");
        let e = serde_json::from_str::<Predicate>(&json).expect_err("too deep");
        assert!(e.to_string().contains("the limit is 32"), "{e}");
        assert!(
            crate::Segment {
                name: Label::parse("deep").expect("a name"),
                predicate: deep
            }
            .validate()
            .is_err()
        );
        // Far beyond serde_json's own limit: an error, not a crash.
        let json = format!(
            "{}{{\"tag\":\"x\"}}{}",
            "{\"not\":".repeat(5_000),
            "}".repeat(5_000)
        );
        assert!(serde_json::from_str::<Predicate>(&json).is_err());
    }

    /// Text the parser reads, printed and parsed again, and stored and read again.
    fn round_trips(p: &Predicate) -> Result<(), String> {
        if p.depth() > MAX_PREDICATE_DEPTH {
            return Err(format!("parsed a predicate {} levels deep", p.depth()));
        }
        let text = p.to_string();
        let again = Predicate::parse(&text).map_err(|e| format!("'{text}': {e}"))?;
        if &again != p {
            return Err(format!("'{text}' reads back as {again:?}, not {p:?}"));
        }
        let json = serde_json::to_string(p).map_err(|e| e.to_string())?;
        let stored: Predicate = serde_json::from_str(&json).map_err(|e| format!("{json}: {e}"))?;
        if &stored != p {
            return Err(format!("{json} reads back as {stored:?}"));
        }
        Ok(())
    }

    fn nested() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            Just("not ".to_owned()),
            Just("(".to_owned()),
            Just(")".to_owned()),
            Just(" and ".to_owned()),
            Just(" or ".to_owned()),
            Just("true".to_owned()),
            Just("false".to_owned()),
            Just("tag = \"v i\\p\"".to_owned()),
            Just("total_spend >= -0.50".to_owned()),
            Just("days_since_purchase < -9223372036854775808".to_owned()),
            Just("attribute.plan = \"Pro \\\"X\\\"\"".to_owned()),
            Just("stage != won_back".to_owned()),
        ];
        proptest::collection::vec(piece, 0..120).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        /// Arbitrary text never panics; whatever parses round-trips.
        #[test]
        fn arbitrary_text_never_panics_and_what_parses_round_trips(text in "\\PC{0,200}") {
            if let Ok(p) = Predicate::parse(&text) {
                let r = round_trips(&p);
                proptest::prop_assert!(r.is_ok(), "{}", r.unwrap_err());
            }
        }

        /// Deeply nested generated text never panics; whatever parses round-trips.
        #[test]
        fn nested_text_never_panics_and_what_parses_round_trips(text in nested()) {
            if let Ok(p) = Predicate::parse(&text) {
                let r = round_trips(&p);
                proptest::prop_assert!(r.is_ok(), "{}", r.unwrap_err());
            }
        }

        /// Balanced deep nesting around a valid condition parses exactly up to the
        /// limit and round-trips.
        #[test]
        fn balanced_nesting_parses_up_to_the_limit(
            shape in proptest::collection::vec(proptest::bool::ANY, 0..60),
        ) {
            let mut text = String::new();
            let mut close = 0;
            for paren in &shape {
                if *paren {
                    text.push_str("(tag = a or ");
                    close += 1;
                } else {
                    text.push_str("not ");
                }
            }
            text.push_str("stage = new");
            text.push_str(&")".repeat(close));
            match Predicate::parse(&text) {
                Ok(p) => {
                    let r = round_trips(&p);
                    proptest::prop_assert!(r.is_ok(), "{}", r.unwrap_err());
                }
                Err(e) => proptest::prop_assert!(e.message.contains("deep"), "{}: {}", text, e),
            }
        }
    }

    proptest::proptest! {
        /// Printing and parsing gives back the same predicate, for predicates built by
        /// the parser itself (which never makes one-element groups).
        #[test]
        fn printing_then_parsing_is_the_identity(
            ops in proptest::collection::vec((0usize..6, 0usize..3, 0u8..3), 1..8),
        ) {
            let atoms = ["stage = active", "tag = vip", "purchase_count >= 2", "days_since_purchase < 30", "total_spend > 99.5", "country = DE"];
            let joins = [" and ", " or ", " and not "];
            let mut text = String::new();
            for (i, (atom, join, paren)) in ops.iter().enumerate() {
                if i > 0 {
                    text.push_str(joins[*join]);
                }
                if *paren == 0 {
                    text.push_str(&format!("({} or {})", atoms[*atom], atoms[(*atom + 1) % atoms.len()]));
                } else {
                    text.push_str(atoms[*atom]);
                }
            }
            let p = Predicate::parse(&text).expect("generated text parses");
            let again = Predicate::parse(&p.to_string()).expect("printed text parses");
            proptest::prop_assert_eq!(again, p);
        }
    }
}
