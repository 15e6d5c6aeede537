//! Validated text: names, labels, free text, tags, email addresses, phone numbers and
//! country codes.
//!
//! Each type can only be built through `parse` (or `TryFrom<String>`, which serde uses),
//! so a value that exists is valid. Reading is through `as_str()`, `AsRef<str>` and
//! `Display`.
//!
//! One-line texts (names, labels, references, tags) and email addresses are kept in
//! Unicode Normalization Form C (NFC): `"é"` typed as one code point (U+00E9) and as
//! `e` + a combining accent (U+0065 U+0301, as macOS file names and some keyboards
//! produce it) are the same text, so they are the same customer, reference or tag.
//! Free text is kept exactly as entered.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use unicode_normalization::{UnicodeNormalization, is_nfc};

use crate::error::ValidationError;

/// The text that replaces an erased one-line label (a deal title, a request subject, a
/// task title). Re-exported as [`crate::privacy::ERASED_LABEL`].
pub const ERASED_LABEL: &str = "erased";

/// The most characters a one-line text (name, label, reference) may have.
pub const MAX_LINE_CHARS: usize = 200;
/// The most bytes a free text (notes, summaries, comments) may have: 1 MiB.
pub const MAX_FREE_TEXT_BYTES: usize = 1 << 20;
/// The most characters a tag may have.
pub const MAX_TAG_CHARS: usize = 64;

/// Implements the string-newtype conveniences: `as_str`, `into_inner`, `Display`,
/// `AsRef<str>`, `FromStr`, `TryFrom<String>`, `TryFrom<&str>` and `From<Self> for String`.
macro_rules! string_newtype {
    ($ty:ident) => {
        impl $ty {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The validated text, by value.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $ty {
            type Err = ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::parse(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = ValidationError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                $ty::parse(&s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = ValidationError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                $ty::parse(s)
            }
        }

        impl From<$ty> for String {
            fn from(v: $ty) -> String {
                v.0
            }
        }
    };
}

fn describe(c: char) -> String {
    match c {
        '\0' => "a NUL byte".to_owned(),
        '\n' | '\r' => "a line break".to_owned(),
        '\t' => "a tab".to_owned(),
        c if c.is_control() => format!("the control character U+{:04X}", c as u32),
        c => format!("'{c}'"),
    }
}

/// `s` in Unicode Normalization Form C, copied only when it is not already.
pub(crate) fn nfc(s: &str) -> std::borrow::Cow<'_, str> {
    if is_nfc(s) {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(s.nfc().collect())
    }
}

/// Trims `input`, normalises it to NFC and checks it is a one-line text of 1..=`max`
/// characters without control characters.
pub(crate) fn one_line(
    field: &'static str,
    input: &str,
    max: usize,
) -> Result<String, ValidationError> {
    let normalized = nfc(input.trim());
    let trimmed = normalized.as_ref();
    if trimmed.is_empty() {
        return Err(ValidationError::Empty { field });
    }
    if let Some(c) = trimmed.chars().find(|c| c.is_control()) {
        return Err(ValidationError::ForbiddenCharacter {
            field,
            what: describe(c),
        });
    }
    let len = trimmed.chars().count();
    if len > max {
        return Err(ValidationError::TooLong {
            field,
            len,
            max,
            unit: "characters",
        });
    }
    Ok(trimmed.to_owned())
}

/// A customer's display name: trimmed, 1 to 200 characters, one line.
///
/// ```
/// use solocrm_core::PersonName;
/// assert_eq!(PersonName::parse("  Ada Lovelace ")?.as_str(), "Ada Lovelace");
/// assert!(PersonName::parse("   ").is_err());
/// # Ok::<(), solocrm_core::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl PersonName {
    /// Parses a display name.
    ///
    /// # Errors
    ///
    /// [`ValidationError::Empty`], [`ValidationError::TooLong`] or
    /// [`ValidationError::ForbiddenCharacter`].
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        one_line("name", input, MAX_LINE_CHARS).map(PersonName)
    }

    /// A name the library itself composes from a fixed ASCII pattern (e.g.
    /// `erased customer 42`), which satisfies every rule above by construction.
    pub(crate) fn placeholder(text: String) -> Self {
        debug_assert!(Self::parse(&text).is_ok_and(|n| n.0 == text));
        PersonName(text)
    }
}
string_newtype!(PersonName);

/// A short one-line label: a company, a city, a deal title, a consent source. Trimmed,
/// 1 to 200 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Label(String);

impl Label {
    /// Parses a label.
    ///
    /// # Errors
    ///
    /// [`ValidationError::Empty`], [`ValidationError::TooLong`] or
    /// [`ValidationError::ForbiddenCharacter`].
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        one_line("label", input, MAX_LINE_CHARS).map(Label)
    }

    /// A label from a fixed literal of the library (e.g. `erased`), valid by
    /// construction.
    pub(crate) fn placeholder(text: &'static str) -> Self {
        debug_assert!(Self::parse(text).is_ok_and(|l| l.0 == text));
        Label(text.to_owned())
    }
}
string_newtype!(Label);

/// A reference to the customer in another system (an import key, an invoice account
/// number). Trimmed, 1 to 200 characters, one line; unique within a store and compared
/// exactly (case-sensitively).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ExternalRef(String);

impl ExternalRef {
    /// Parses a reference.
    ///
    /// # Errors
    ///
    /// [`ValidationError::Empty`], [`ValidationError::TooLong`] or
    /// [`ValidationError::ForbiddenCharacter`].
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        one_line("external reference", input, MAX_LINE_CHARS).map(ExternalRef)
    }
}
string_newtype!(ExternalRef);

/// Free text: notes, interaction summaries, survey comments. Kept byte for byte
/// (including surrounding whitespace and line breaks); may be empty; at most 1 MiB; never
/// holds a NUL byte, which many tools downstream treat as the end of the text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FreeText(String);

impl FreeText {
    /// Checks a free text.
    ///
    /// # Errors
    ///
    /// [`ValidationError::ForbiddenCharacter`] for a NUL byte, [`ValidationError::TooLong`]
    /// beyond [`MAX_FREE_TEXT_BYTES`].
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        if input.contains('\0') {
            return Err(ValidationError::ForbiddenCharacter {
                field: "text",
                what: describe('\0'),
            });
        }
        if input.len() > MAX_FREE_TEXT_BYTES {
            return Err(ValidationError::TooLong {
                field: "text",
                len: input.len(),
                max: MAX_FREE_TEXT_BYTES,
                unit: "bytes",
            });
        }
        Ok(FreeText(input.to_owned()))
    }

    /// The empty text.
    pub fn empty() -> Self {
        FreeText(String::new())
    }

    /// True if the text has no characters.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
string_newtype!(FreeText);

/// A normalised tag such as `vip` or `trade-fair-2026`.
///
/// Normalisation: surrounding whitespace is trimmed, letters are lower-cased, every
/// run of inner whitespace becomes one `-`, and the result is in Unicode NFC, so
/// `" Trade  Fair "` and `"trade-fair"` are the same tag, as are `café` typed with a
/// combining accent or without. A tag has 1 to 64 characters: letters, digits and `- _ . : / + &`.
/// Separators that other formats use (`,` `;` quotes, `=`) are rejected rather than
/// guessed at.
///
/// ```
/// use solocrm_core::Tag;
/// assert_eq!(Tag::parse(" Trade  Fair ")?.as_str(), "trade-fair");
/// assert!(Tag::parse("a,b").is_err());
/// # Ok::<(), solocrm_core::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

impl Tag {
    /// Parses and normalises a tag.
    ///
    /// # Errors
    ///
    /// [`ValidationError::Empty`], [`ValidationError::TooLong`] or
    /// [`ValidationError::ForbiddenCharacter`].
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let field = "tag";
        let lower = input
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("-")
            .to_lowercase();
        let normalised = nfc(&lower).into_owned();
        if normalised.is_empty() {
            return Err(ValidationError::Empty { field });
        }
        if let Some(c) = normalised
            .chars()
            .find(|c| !(c.is_alphanumeric() || "-_.:/+&".contains(*c)))
        {
            return Err(ValidationError::ForbiddenCharacter {
                field,
                what: describe(c),
            });
        }
        let len = normalised.chars().count();
        if len > MAX_TAG_CHARS {
            return Err(ValidationError::TooLong {
                field,
                len,
                max: MAX_TAG_CHARS,
                unit: "characters",
            });
        }
        Ok(Tag(normalised))
    }
}
string_newtype!(Tag);

/// A set of tags: normalised, deduplicated and kept in sorted order.
pub type Tags = BTreeSet<Tag>;

/// Parses a list of tags separated by `sep` (e.g. `;` in a CSV cell), normalising and
/// deduplicating them. Empty items between separators are skipped.
///
/// # Errors
///
/// The first tag's [`ValidationError`].
pub fn parse_tags(input: &str, sep: char) -> Result<Tags, ValidationError> {
    input
        .split(sep)
        .filter(|s| !s.trim().is_empty())
        .map(Tag::parse)
        .collect()
}

/// An email address, kept as entered (trimmed, in Unicode NFC) and compared
/// case-insensitively.
///
/// The check is deliberately practical rather than the full RFC 5322 grammar: one `@`;
/// a local part of 1 to 64 characters without whitespace, quotes, `<>`, `()`, `,`,
/// `;` or `\`; a domain of at least two dot-separated labels of letters, digits and
/// inner hyphens; at most 254 characters in all.
///
/// ```
/// use solocrm_core::Email;
/// let a = Email::parse("Ada@Example.com")?;
/// assert_eq!(a.as_str(), "Ada@Example.com");
/// assert_eq!(a.key(), "ada@example.com");
/// assert!(Email::parse("ada@").is_err());
/// // NFD (e + combining acute) and NFC (é) spellings are one address.
/// let nfd = Email::parse("Jose\u{301}@example.com")?;
/// let nfc = Email::parse("Jos\u{e9}@example.com")?;
/// assert_eq!(nfd, nfc);
/// assert_eq!(nfd.key(), "jos\u{e9}@example.com");
/// # Ok::<(), solocrm_core::ValidationError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// The ASCII bytes [`Email::plain_ascii`] accepts in a local part: printable, not
/// blank, none of `@"<>(),;\[]` (the dot is checked apart).
const LOCAL_BYTE: [bool; 128] = {
    let mut ok = [false; 128];
    let mut c = b'!';
    while c < 0x7f {
        ok[c as usize] = true;
        c += 1;
    }
    let forbidden = b"@\"<>(),;\\[]";
    let mut i = 0;
    while i < forbidden.len() {
        ok[forbidden[i] as usize] = false;
        i += 1;
    }
    ok
};

impl Email {
    /// Parses an email address.
    ///
    /// # Errors
    ///
    /// [`ValidationError::InvalidEmail`] with the reason.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        // Nearly every address is plain ASCII (every key a book prints is read back
        // through here, issue 14): accepted byte by byte, without the Unicode steps.
        if let Some(s) = Self::plain_ascii(input) {
            return Ok(Email(s.to_owned()));
        }
        Self::parse_checked(input)
    }

    /// `input` trimmed, when it is ASCII and [`Email::parse_checked`] accepts it as
    /// that text (ASCII is its own NFC, its controls and blanks are the bytes up to
    /// space and DEL, its letters and digits the ASCII ones); `None` means "not
    /// known here": the full check decides, and says why it refuses.
    fn plain_ascii(input: &str) -> Option<&str> {
        let s = input.trim();
        let b = s.as_bytes();
        if b.is_empty() || b.len() > 254 || !b.is_ascii() {
            return None;
        }
        let at = b.iter().rposition(|&c| c == b'@')?;
        let (local, domain) = (&b[..at], &b[at + 1..]);
        if local.is_empty() || local.len() > 64 {
            return None;
        }
        // The local part in one pass: allowed bytes only, no dot first, last or twice
        // in a row (a dot "before" the first byte catches a leading one).
        let mut after_dot = true;
        for &c in local {
            if !LOCAL_BYTE[usize::from(c & 0x7f)] {
                return None;
            }
            let dot = c == b'.';
            if dot && after_dot {
                return None;
            }
            after_dot = dot;
        }
        if after_dot {
            return None;
        }
        // The domain in one pass: labels of 1 to 63 letters, digits and hyphens, not
        // starting or ending with a hyphen.
        let (mut labels, mut len, mut last) = (0_usize, 0_usize, b'.');
        for &c in domain {
            if c == b'.' {
                if len == 0 || last == b'-' {
                    return None;
                }
                labels += 1;
                len = 0;
            } else {
                if !(c.is_ascii_alphanumeric() || c == b'-') || (len == 0 && c == b'-') {
                    return None;
                }
                len += 1;
                if len > 63 {
                    return None;
                }
            }
            last = c;
        }
        if len == 0 || last == b'-' {
            return None;
        }
        labels += 1;
        (labels >= 2).then_some(s)
    }

    /// The full check of [`Email::parse`], for any text.
    fn parse_checked(input: &str) -> Result<Self, ValidationError> {
        let bad = |reason| ValidationError::InvalidEmail {
            input: input.to_owned(),
            reason,
        };
        let normalized = nfc(input.trim());
        let s = normalized.as_ref();
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        if s.chars().count() > 254 {
            return Err(bad("it is longer than 254 characters"));
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(|| bad("it has no '@'"))?;
        if local.is_empty() {
            return Err(bad("nothing before the '@'"));
        }
        if local.contains('@') {
            return Err(bad("it has more than one '@'"));
        }
        if local.chars().count() > 64 {
            return Err(bad("the part before the '@' is longer than 64 characters"));
        }
        if local
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "\"<>(),;\\[]".contains(c))
        {
            return Err(bad(
                "the part before the '@' has a space or a forbidden character",
            ));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(bad("the part before the '@' has a misplaced dot"));
        }
        if domain.is_empty() {
            return Err(bad("nothing after the '@'"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2 {
            return Err(bad("the domain has no dot"));
        }
        for label in labels {
            let ok = !label.is_empty()
                && label.chars().count() <= 63
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
                && !label.starts_with('-')
                && !label.ends_with('-');
            if !ok {
                return Err(bad(
                    "the domain must be dot-separated labels of letters, digits and inner hyphens",
                ));
            }
        }
        Ok(Email(s.to_owned()))
    }

    /// The case-folded form used for uniqueness and look-ups: lower case, in NFC.
    pub fn key(&self) -> String {
        nfc(&self.0.to_lowercase()).into_owned()
    }
}
string_newtype!(Email);

/// A phone number, kept as entered (trimmed): digits with an optional leading `+` and
/// the separators space, `-`, `.`, `(` and `)`; 3 to 20 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Parses a phone number.
    ///
    /// # Errors
    ///
    /// [`ValidationError::InvalidPhone`] with the reason.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let bad = |reason| ValidationError::InvalidPhone {
            input: input.to_owned(),
            reason,
        };
        let s = input.trim();
        let body = s.strip_prefix('+').unwrap_or(s);
        if body
            .chars()
            .any(|c| !(c.is_ascii_digit() || " -.()".contains(c)))
        {
            return Err(bad(
                "only digits, a leading '+' and the separators space - . ( ) are allowed",
            ));
        }
        let digits = body.chars().filter(char::is_ascii_digit).count();
        if !(3..=20).contains(&digits) {
            return Err(bad("it must have 3 to 20 digits"));
        }
        Ok(Phone(s.to_owned()))
    }

    /// Only the digits, with the leading `+` if there was one: a form to compare by.
    pub fn digits(&self) -> String {
        let plus = if self.0.starts_with('+') { "+" } else { "" };
        let digits: String = self.0.chars().filter(char::is_ascii_digit).collect();
        format!("{plus}{digits}")
    }
}
string_newtype!(Phone);

/// An ISO 3166-1 alpha-2 country code such as `CN` or `DE`, stored upper-case.
///
/// [`parse`](Self::parse) takes the 249 officially assigned codes (and `XK`, the
/// user-assigned code for Kosovo that the EU and most registries use); a book written
/// before that check keeps any two letters it stored ([`from_stored`](Self::from_stored)).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "StoredCountry", into = "String")]
pub struct CountryCode(String);

/// The officially assigned ISO 3166-1 alpha-2 codes (ISO 3166 Maintenance Agency,
/// 249 codes), sorted.
const ISO_3166_ALPHA_2: [&str; 249] = [
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// The serde form of a stored [`CountryCode`], read leniently.
#[derive(Deserialize)]
#[serde(transparent)]
struct StoredCountry(String);

impl TryFrom<StoredCountry> for CountryCode {
    type Error = ValidationError;

    fn try_from(s: StoredCountry) -> Result<Self, ValidationError> {
        CountryCode::from_stored(&s.0)
    }
}

impl CountryCode {
    /// Parses an assigned ISO 3166-1 alpha-2 code, case-insensitively.
    ///
    /// ```
    /// use solocrm_core::CountryCode;
    ///
    /// assert_eq!(CountryCode::parse(" cn ")?.as_str(), "CN");
    /// assert!(CountryCode::parse("QQ").is_err());
    /// assert!(CountryCode::parse("UK").unwrap_err().to_string().contains("GB"));
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ValidationError::InvalidCountry`] unless the input is an assigned code (or
    /// `XK`); `UK` and `EL` say which code to use instead.
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let code = Self::from_stored(input)?;
        let fail = |reason| {
            Err(ValidationError::InvalidCountry {
                input: input.to_owned(),
                reason,
            })
        };
        match code.as_str() {
            "UK" => fail("UK is the United Kingdom's name, not its ISO code: use GB"),
            "EL" => fail("EL is Greece's EU abbreviation, not its ISO code: use GR"),
            "XK" => Ok(code),
            c if ISO_3166_ALPHA_2.binary_search(&c).is_ok() => Ok(code),
            _ => fail("it is not an assigned ISO 3166-1 alpha-2 code (e.g. CN, DE, US)"),
        }
    }

    /// Reads a code as a book stored it: any two ASCII letters, upper-cased, so that a
    /// book written before [`parse`](Self::parse) checked the ISO list still opens.
    ///
    /// # Errors
    ///
    /// [`ValidationError::InvalidCountry`] unless the input is two ASCII letters.
    pub fn from_stored(input: &str) -> Result<Self, ValidationError> {
        let s = input.trim();
        if s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic()) {
            Ok(CountryCode(s.to_ascii_uppercase()))
        } else {
            Err(ValidationError::InvalidCountry {
                input: input.to_owned(),
                reason: "a country is two letters (ISO 3166-1 alpha-2, e.g. CN, DE, US)",
            })
        }
    }
}
string_newtype!(CountryCode);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn countries_are_checked_against_iso_3166_but_stored_codes_still_read() {
        assert_eq!(ISO_3166_ALPHA_2.len(), 249);
        assert!(
            ISO_3166_ALPHA_2.windows(2).all(|w| w[0] < w[1]),
            "sorted, no repeats"
        );
        for ok in ["CN", "tw", "HK", "MO", "DE", "US", "GB", "XK"] {
            assert!(CountryCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["QQ", "ZZ", "UK", "EL", "CHN", "", "C1"] {
            assert!(CountryCode::parse(bad).is_err(), "{bad}");
        }
        // A book written before the check keeps what it stored.
        let stored: CountryCode = serde_json::from_str("\"QQ\"").expect("a stored code reads");
        assert_eq!(stored.as_str(), "QQ");
        assert!(serde_json::from_str::<CountryCode>("\"Q\"").is_err());
    }

    /// NFC and NFD spellings of one email made two customers.
    #[test]
    fn nfd_and_nfc_spellings_are_one_email_name_reference_and_tag() {
        let (nfd, nfc) = ("Zoe\u{308}.Mu\u{308}ller", "Zo\u{eb}.M\u{fc}ller");
        let a = Email::parse(&format!("{nfd}@exa\u{301}mple.com")).unwrap();
        let b = Email::parse(&format!("{nfc}@ex\u{e1}mple.com")).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.key(), b.key());
        assert_eq!(a.as_str(), format!("{nfc}@ex\u{e1}mple.com"));
        assert_eq!(
            PersonName::parse(nfd).unwrap(),
            PersonName::parse(nfc).unwrap()
        );
        assert_eq!(
            ExternalRef::parse(nfd).unwrap(),
            ExternalRef::parse(nfc).unwrap()
        );
        assert_eq!(Label::parse(nfd).unwrap(), Label::parse(nfc).unwrap());
        assert_eq!(
            Tag::parse("cafe\u{301}").unwrap(),
            Tag::parse("caf\u{e9}").unwrap()
        );
        // Free text is kept exactly as entered.
        assert_eq!(FreeText::parse(nfd).unwrap().as_str(), nfd);
    }

    proptest! {
        /// Whatever the spelling, the key of an email is the key of its NFC and of its
        /// NFD form.
        #[test]
        fn email_keys_do_not_depend_on_the_normal_form(local in "[a-zA-Z\u{c0}-\u{17f}]{1,20}") {
            let nfd: String = local.nfd().collect();
            let nfc: String = local.nfc().collect();
            let a = Email::parse(&format!("{nfd}@example.com"));
            let b = Email::parse(&format!("{nfc}@example.com"));
            prop_assert_eq!(a.as_ref().map(Email::key), b.as_ref().map(Email::key));
            prop_assert_eq!(a, b);
        }

        /// The ASCII fast path of `Email::parse` accepts only what the full check
        /// accepts, as the same text (issue 14): texts near the rules' edges, mostly
        /// ASCII (dots, hyphens, blanks, controls, DEL, forbidden characters, several
        /// `@`, long parts), a few not.
        #[test]
        fn the_ascii_path_of_email_parse_is_the_full_check(
            input in "[ \t\u{b}a-zA-Z0-9.@\\-_+\\\\\"<>(),;\\[\\]\u{7f}\u{1}é]{0,12}",
            long_local in 0_usize..3,
            long_label in 0_usize..3,
        ) {
            let local = "a".repeat(62 + long_local);
            let label = "b".repeat(61 + long_label);
            for text in [
                input.clone(),
                format!("{input}@example.com"),
                format!("ada@{input}"),
                format!("{local}@{input}.com"),
                format!("{input}@{label}.org"),
                format!(" {local}@{label}.{input} "),
                format!("{input}@{}", "c.".repeat(120)),
            ] {
                let fast = Email::plain_ascii(&text);
                let full = Email::parse_checked(&text);
                if let Some(s) = fast {
                    prop_assert_eq!(full.as_ref().map(Email::as_str), Ok(s), "{:?}", text);
                }
                prop_assert_eq!(Email::parse(&text), full);
            }
        }

        /// The same on addresses made of the bytes the fast path decides on (dots,
        /// hyphens, `@`, letters): dots and hyphens at every edge of a part or label.
        #[test]
        fn the_ascii_path_decides_dots_and_hyphens_as_the_full_check(
            text in "[a.@-]{1,4}[a-z.@-]{0,6}[a.-]{0,2}",
        ) {
            let full = Email::parse_checked(&text);
            if let Some(s) = Email::plain_ascii(&text) {
                prop_assert_eq!(full.as_ref().map(Email::as_str), Ok(s), "{:?}", text);
            }
            prop_assert_eq!(Email::parse(&text), full);
        }
    }

    #[test]
    fn the_ascii_path_of_email_parse_takes_plain_addresses() {
        for ok in ["ada@example.com", " a.b+c_d-e@x-y.example.org\t", "1@2.3"] {
            assert_eq!(Email::plain_ascii(ok), Some(ok.trim()), "{ok}");
            assert_eq!(Email::parse(ok).map(String::from), Ok(ok.trim().to_owned()));
        }
        for other in [
            "josé@example.com",
            "a@b",
            "a..b@c.d",
            "a.@c.d",
            ".a@c.d",
            "a@b.c-",
            "a@b..c",
            "a@b.c.",
            "a@-b.c",
            "a b@c.d",
            "@c.d",
        ] {
            assert_eq!(Email::plain_ascii(other), None, "{other}");
        }
    }

    #[test]
    fn a_name_of_201_characters_is_rejected_and_200_is_accepted() {
        let ok = "é".repeat(200);
        assert!(PersonName::parse(&ok).is_ok());
        assert!(matches!(
            PersonName::parse(&format!("{ok}x")),
            Err(ValidationError::TooLong {
                len: 201,
                max: 200,
                ..
            })
        ));
    }

    #[test]
    fn names_reject_control_characters_but_keep_unicode() {
        assert!(matches!(
            PersonName::parse("Ada\0"),
            Err(ValidationError::ForbiddenCharacter { .. })
        ));
        assert!(matches!(
            PersonName::parse("Ada\nLovelace"),
            Err(ValidationError::ForbiddenCharacter { .. })
        ));
        assert_eq!(
            PersonName::parse(" 山田 太郎 🎉 ").map(PersonName::into_inner),
            Ok("山田 太郎 🎉".to_owned())
        );
    }

    #[test]
    fn free_text_is_kept_byte_for_byte_but_never_holds_nul() {
        let text = "  line one\n\tline two  ";
        assert_eq!(
            FreeText::parse(text).map(FreeText::into_inner),
            Ok(text.to_owned())
        );
        assert!(FreeText::parse("a\0b").is_err());
        assert!(FreeText::parse(&"x".repeat(MAX_FREE_TEXT_BYTES)).is_ok());
        assert!(matches!(
            FreeText::parse(&"x".repeat(MAX_FREE_TEXT_BYTES + 1)),
            Err(ValidationError::TooLong { unit: "bytes", .. })
        ));
    }

    #[test]
    fn tags_normalise_and_deduplicate() {
        let tags = parse_tags("VIP; vip ;Trade Fair;;trade-fair", ';').expect("valid");
        let names: Vec<&str> = tags.iter().map(Tag::as_str).collect();
        assert_eq!(names, ["trade-fair", "vip"]);
        assert!(matches!(
            Tag::parse("  "),
            Err(ValidationError::Empty { .. })
        ));
        assert!(matches!(
            Tag::parse("a\"b"),
            Err(ValidationError::ForbiddenCharacter { .. })
        ));
    }

    #[test]
    fn emails_accept_common_forms_and_reject_broken_ones() {
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "  ADA@EXAMPLE.COM ",
            "jürgen@müller.de",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a b@example.com",
            "a@@example.com",
            "a@-example.com",
            "a@example..com",
            ".a@example.com",
            "a..b@example.com",
        ] {
            assert!(
                matches!(Email::parse(bad), Err(ValidationError::InvalidEmail { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn email_error_says_what_is_wrong() {
        let err = Email::parse("x@").map(|_| ()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "email 'x@' is not a valid address: nothing after the '@'"
        );
    }

    #[test]
    fn phones_keep_their_formatting_and_compare_by_digits() {
        let p = Phone::parse(" +49 (30) 123-456 ").expect("valid");
        assert_eq!(p.as_str(), "+49 (30) 123-456");
        assert_eq!(p.digits(), "+4930123456");
        assert!(Phone::parse("12").is_err());
        assert!(Phone::parse("call me").is_err());
    }

    #[test]
    fn countries_are_two_letters_upper_case() {
        assert_eq!(
            CountryCode::parse("de").map(CountryCode::into_inner),
            Ok("DE".into())
        );
        assert!(CountryCode::parse("DEU").is_err());
    }
}
