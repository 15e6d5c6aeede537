//! Customer search: a substring of a customer's name, email, company, city or notes,
//! found the same way by every store.
//!
//! # What matches
//!
//! A customer who is not erased matches a [`SearchText`] when its text occurs, after
//! [folding](fold) both sides, in one of their name, email, company, city
//! ([`Profile::city`](crate::customer::Profile::city)) or notes. Folding lower-cases
//! each character that has exactly one lower-case form (`Ä` → `ä`, `Ω` → `ω`) and
//! keeps every other one as it is, so Latin, Greek and Cyrillic text matches in any
//! case, and Chinese matches exactly: `张` finds `张伟`, `上海` finds a customer in
//! 上海市. Nothing else is normalised (no accents removed, no width folding), and text
//! is in Unicode NFC on both sides (the domain stores it so, and the query is parsed
//! so).
//!
//! # Order
//!
//! [`rank`] orders the hits: first the customers whose name *is* the text (folded),
//! then those whose name contains it, then those matched by another field; within each
//! group by folded name, then by id. So `search 王芳` lists 王芳 before 王芳芳 and
//! before a customer whose notes mention 王芳.
//!
//! # How a store finds them
//!
//! [`ReadTx::search_matches`](crate::port::ReadTx::search_matches) returns the hits,
//! each with its id and name only: a store that finds candidates (customers that
//! may match) checks each with [`SearchText::matches`] before it answers, and the
//! default does so over [`ReadTx::search_fields`](crate::port::ReadTx::search_fields).
//! The operations layer
//! ([`Reader::search_customers`](crate::ops::Reader::search_customers)) ranks the hits
//! ([`rank_matches`]), so the result is the same whatever index a store uses. The memory store scans; the SQLite store asks an FTS5
//! table with the `trigram` tokenizer for texts of [`INDEXED_FROM`] characters or more,
//! and scans for shorter ones (a trigram index cannot look up one or two characters).

use serde::{Deserialize, Serialize};

use crate::customer::Customer;
use crate::error::ValidationError;
use crate::ids::CustomerId;
use crate::text::{MAX_LINE_CHARS, one_line};

/// The length, in characters, from which a trigram index can answer a search.
pub const INDEXED_FROM: usize = 3;

/// `s` folded for search: each character with exactly one lower-case form becomes it,
/// every other character stays (see the [module docs](self)).
///
/// ```
/// use solocrm_core::search::fold;
/// assert_eq!(fold("ÄBC Müller"), "äbc müller");
/// assert_eq!(fold("张伟"), "张伟");
/// ```
pub fn fold(s: &str) -> String {
    s.chars()
        .map(|c| {
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) => l,
                _ => c,
            }
        })
        .collect()
}

/// What to search for: trimmed, in NFC, 1 to 200 characters on one line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SearchText {
    text: String,
    folded: String,
}

impl SearchText {
    /// Parses a search text.
    ///
    /// ```
    /// use solocrm_core::search::SearchText;
    /// let q = SearchText::parse("  Müller ")?;
    /// assert_eq!(q.as_str(), "Müller");
    /// assert_eq!(q.folded(), "müller");
    /// assert!(SearchText::parse("  ").is_err());
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ValidationError::Empty`], [`ValidationError::TooLong`] or
    /// [`ValidationError::ForbiddenCharacter`] (a control character).
    pub fn parse(input: &str) -> Result<Self, ValidationError> {
        let text = one_line("search text", input, MAX_LINE_CHARS)?;
        let folded = fold(&text);
        Ok(SearchText { text, folded })
    }

    /// The text as typed (trimmed, NFC).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The folded text that is looked for.
    pub fn folded(&self) -> &str {
        &self.folded
    }

    /// Its length in characters.
    pub fn len_chars(&self) -> usize {
        self.text.chars().count()
    }

    /// True if the customer matches: not erased, and the folded text occurs in their
    /// folded name, email, company, city or notes.
    pub fn matches(&self, c: &Customer) -> bool {
        self.hit(c).is_some()
    }

    /// How the customer matches, for [`rank`]; `None` if they do not.
    pub fn hit(&self, c: &Customer) -> Option<Hit> {
        if c.is_erased() {
            return None;
        }
        let data = c.data();
        self.classify(
            c.name().as_str(),
            [
                c.email().map(|e| e.as_str()),
                data.company.as_ref().map(|l| l.as_str()),
                data.profile.city.as_ref().map(|l| l.as_str()),
                Some(data.notes.as_str()),
            ],
        )
    }

    /// How a candidate's searchable text matches, for [`rank`]; `None` if it does not.
    /// The same answer as [`hit`](SearchText::hit) for the customer the fields were
    /// read from (a store never gives an erased customer's fields).
    ///
    /// ```
    /// use solocrm_core::search::{Hit, SearchFields, SearchText};
    /// use solocrm_core::CustomerId;
    /// let fields = SearchFields {
    ///     id: CustomerId::new(1),
    ///     name: "王芳".into(),
    ///     email: None,
    ///     company: Some("上海王氏".into()),
    ///     city: None,
    ///     notes: String::new(),
    /// };
    /// assert_eq!(SearchText::parse("王芳")?.hit_fields(&fields), Some(Hit::ExactName));
    /// assert_eq!(SearchText::parse("王")?.hit_fields(&fields), Some(Hit::Name));
    /// assert_eq!(SearchText::parse("上海")?.hit_fields(&fields), Some(Hit::Other));
    /// assert_eq!(SearchText::parse("北京")?.hit_fields(&fields), None);
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    pub fn hit_fields(&self, f: &SearchFields) -> Option<Hit> {
        self.classify(
            &f.name,
            [
                f.email.as_deref(),
                f.company.as_deref(),
                f.city.as_deref(),
                Some(f.notes.as_str()),
            ],
        )
    }

    /// The rule of [`hit`](SearchText::hit) over a name and the other fields.
    fn classify(&self, name: &str, others: [Option<&str>; 4]) -> Option<Hit> {
        let name = fold(name);
        if name == self.folded {
            return Some(Hit::ExactName);
        }
        if name.contains(&self.folded) {
            return Some(Hit::Name);
        }
        others
            .into_iter()
            .flatten()
            .any(|f| fold(f).contains(&self.folded))
            .then_some(Hit::Other)
    }
}

/// The searchable text of one customer who is not erased, as a store reads it for a
/// search ([`ReadTx::search_fields`](crate::port::ReadTx::search_fields)): enough to
/// tell whether and how they match ([`SearchText::hit_fields`]) and to rank them
/// ([`rank_fields`]) without decoding the whole customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchFields {
    /// The customer.
    pub id: CustomerId,
    /// Their name.
    pub name: String,
    /// Their email, if any.
    pub email: Option<String>,
    /// Their company, if any.
    pub company: Option<String>,
    /// Their city ([`Profile::city`](crate::customer::Profile::city)), if any.
    pub city: Option<String>,
    /// Their notes (empty when none).
    pub notes: String,
}

impl SearchFields {
    /// The searchable text of `c`.
    pub fn of(c: &Customer) -> Self {
        let data = c.data();
        SearchFields {
            id: c.id(),
            name: c.name().as_str().to_owned(),
            email: c.email().map(|e| e.as_str().to_owned()),
            company: data.company.as_ref().map(|l| l.as_str().to_owned()),
            city: data.profile.city.as_ref().map(|l| l.as_str().to_owned()),
            notes: data.notes.as_str().to_owned(),
        }
    }
}

/// A customer who matches a search, as a store reads it for ranking
/// ([`ReadTx::search_matches`](crate::port::ReadTx::search_matches)): their id and
/// name only. The store has already checked that the text occurs in one of their
/// fields; the name alone then tells how ([`SearchText::hit_of_match`]) and where it
/// ranks ([`rank_matches`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchMatch {
    /// The customer.
    pub id: CustomerId,
    /// Their name.
    pub name: String,
}

impl SearchText {
    /// How a customer who matches (in some field) matches: [`Hit::ExactName`] or
    /// [`Hit::Name`] by their name, else [`Hit::Other`]. For a customer who
    /// [`hit_fields`](SearchText::hit_fields) finds, the same answer.
    ///
    /// ```
    /// use solocrm_core::search::{Hit, SearchText};
    /// let q = SearchText::parse("王芳")?;
    /// assert_eq!(q.hit_of_match("王芳"), Hit::ExactName);
    /// assert_eq!(q.hit_of_match("王芳芳"), Hit::Name);
    /// assert_eq!(q.hit_of_match("李娜"), Hit::Other);
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    pub fn hit_of_match(&self, name: &str) -> Hit {
        let name = fold_cow(name);
        if *name == *self.folded {
            Hit::ExactName
        } else if name.contains(&self.folded) {
            Hit::Name
        } else {
            Hit::Other
        }
    }
}

/// [`fold`], borrowing `s` when folding changes nothing (most names).
fn fold_cow(s: &str) -> std::borrow::Cow<'_, str> {
    let unchanged = s.chars().all(|c| {
        let mut lower = c.to_lowercase();
        match (lower.next(), lower.next()) {
            (Some(l), None) => l == c,
            _ => true,
        }
    });
    if unchanged {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(fold(s))
    }
}

/// The first `limit` of `matches` (all with `None`) in the order of [`rank`], and how
/// many there are in all: what a page of results needs. Every match's name is
/// classed by [`Hit`] (folded once for that); only the kinds of hit that can reach the
/// page are sorted, and a kind wholly after the page is left unsorted.
///
/// ```
/// use solocrm_core::search::{SearchMatch, SearchText, rank_matches};
/// use solocrm_core::CustomerId;
/// let m = |id, name: &str| SearchMatch { id: CustomerId::new(id), name: name.into() };
/// let q = SearchText::parse("王芳")?;
/// let all = vec![m(1, "王芳芳"), m(2, "李娜"), m(3, "王芳"), m(5, "王芳")];
/// let (ids, total) = rank_matches(&q, all.clone(), None);
/// let ids: Vec<u64> = ids.into_iter().map(|id| id.get()).collect();
/// assert_eq!((ids, total), (vec![3, 5, 1, 2], 4));
/// let (ids, total) = rank_matches(&q, all, Some(1));
/// assert_eq!((ids, total), (vec![CustomerId::new(3)], 4));
/// # Ok::<(), solocrm_core::ValidationError>(())
/// ```
pub fn rank_matches(
    text: &SearchText,
    matches: Vec<SearchMatch>,
    limit: Option<usize>,
) -> (Vec<CustomerId>, usize) {
    let total = matches.len();
    let limit = limit.unwrap_or(usize::MAX).min(total);
    if limit == 0 {
        return (Vec::new(), total);
    }
    let hits: Vec<(Hit, SearchMatch)> = matches
        .into_iter()
        .map(|m| (text.hit_of_match(&m.name), m))
        .collect();
    // The worst kind of hit that can still reach the page: every better kind, and as
    // many of this one as the page has room for, are on it.
    let mut worst = Hit::Other;
    let mut before = 0;
    for kind in [Hit::ExactName, Hit::Name, Hit::Other] {
        before += hits.iter().filter(|(h, _)| *h == kind).count();
        if before >= limit {
            worst = kind;
            break;
        }
    }
    let keyed: Vec<(Hit, std::borrow::Cow<'_, str>, u64)> = hits
        .iter()
        .filter(|(h, _)| *h <= worst)
        .map(|(h, m)| (*h, fold_cow(&m.name), m.id.get()))
        .collect();
    (first_ranked(keyed, Some(limit)), total)
}

/// Every customer's searchable text, folded once and held in memory, so that many
/// searches cost a scan of memory each instead of a read of the store (the web
/// workspace keeps one while the books do not change). A search here finds exactly
/// the customers [`SearchText::matches`] finds and ranks them as [`rank`] does.
#[derive(Debug, Clone, Default)]
pub struct SearchIndex {
    entries: Vec<IndexEntry>,
}

/// One customer in a [`SearchIndex`].
#[derive(Debug, Clone)]
struct IndexEntry {
    id: u64,
    /// The folded name.
    name: Box<str>,
    /// The folded email, company, city and notes, each followed by a line feed: a
    /// search text is one line, so it never spans two fields.
    other: Box<str>,
}

impl SearchIndex {
    /// The index of these customers' text (each customer once; erased customers are
    /// never given to it).
    pub fn new(rows: Vec<SearchFields>) -> Self {
        let entries = rows
            .into_iter()
            .map(|f| {
                let mut other = String::new();
                for field in [f.email.as_deref(), f.company.as_deref(), f.city.as_deref()]
                    .into_iter()
                    .flatten()
                    .chain([f.notes.as_str()])
                {
                    other.push_str(&fold(field));
                    other.push('\n');
                }
                IndexEntry {
                    id: f.id.get(),
                    name: fold(&f.name).into_boxed_str(),
                    other: other.into_boxed_str(),
                }
            })
            .collect();
        SearchIndex { entries }
    }

    /// How many customers it holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if it holds no customer.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first `limit` customers matching `text` (all with `None`) in the order of
    /// [`rank`], and how many match in all.
    ///
    /// ```
    /// use solocrm_core::search::{SearchFields, SearchIndex, SearchText};
    /// use solocrm_core::CustomerId;
    /// let row = |id, name: &str, notes: &str| SearchFields {
    ///     id: CustomerId::new(id),
    ///     name: name.into(),
    ///     email: None,
    ///     company: None,
    ///     city: None,
    ///     notes: notes.into(),
    /// };
    /// let index = SearchIndex::new(vec![
    ///     row(1, "王芳芳", ""),
    ///     row(2, "李娜", "认识王芳"),
    ///     row(3, "王芳", ""),
    ///     row(4, "赵敏", ""),
    /// ]);
    /// let (ids, total) = index.search(&SearchText::parse("王芳")?, Some(2));
    /// assert_eq!((ids, total), (vec![CustomerId::new(3), CustomerId::new(1)], 3));
    /// # Ok::<(), solocrm_core::ValidationError>(())
    /// ```
    pub fn search(&self, text: &SearchText, limit: Option<usize>) -> (Vec<CustomerId>, usize) {
        let t = text.folded();
        let hits: Vec<(Hit, &str, u64)> = self
            .entries
            .iter()
            .filter_map(|e| {
                let hit = if *e.name == *t {
                    Hit::ExactName
                } else if e.name.contains(t) {
                    Hit::Name
                } else if e.other.contains(t) {
                    Hit::Other
                } else {
                    return None;
                };
                Some((hit, &*e.name, e.id))
            })
            .collect();
        let total = hits.len();
        (first_ranked(hits, limit), total)
    }
}

/// The ids of the first `limit` (all with `None`) of `keyed` in key order.
fn first_ranked<S: Ord>(mut keyed: Vec<(Hit, S, u64)>, limit: Option<usize>) -> Vec<CustomerId> {
    let limit = limit.unwrap_or(usize::MAX);
    if limit == 0 {
        return Vec::new();
    }
    if limit < keyed.len() {
        keyed.select_nth_unstable(limit - 1);
        keyed.truncate(limit);
    }
    keyed.sort_unstable();
    keyed
        .into_iter()
        .map(|(_, _, id)| CustomerId::new(id))
        .collect()
}

impl TryFrom<String> for SearchText {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, ValidationError> {
        SearchText::parse(&s)
    }
}

impl From<SearchText> for String {
    fn from(s: SearchText) -> String {
        s.text
    }
}

impl std::fmt::Display for SearchText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// How a customer matched a search, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hit {
    /// Their name is the text (folded).
    ExactName,
    /// Their name contains it.
    Name,
    /// Their email, company, city or notes contain it.
    Other,
}

/// Orders matched customers: by [`Hit`], then folded name, then id (see the
/// [module docs](self)).
pub fn rank(hits: &mut [(Hit, Customer)]) {
    hits.sort_by_cached_key(|(h, c)| (*h, fold(c.name().as_str()), c.id().get()));
}

/// The hits among `candidates`, in the order of [`rank`], each with the id of its
/// customer: what a page of results needs before any customer is decoded. Candidates
/// that do not match are left out, so the length is the number of hits.
///
/// ```
/// use solocrm_core::search::{SearchFields, SearchText, rank_fields};
/// use solocrm_core::CustomerId;
/// let row = |id, name: &str, city: Option<&str>| SearchFields {
///     id: CustomerId::new(id),
///     name: name.into(),
///     email: None,
///     company: None,
///     city: city.map(Into::into),
///     notes: String::new(),
/// };
/// let rows = vec![
///     row(1, "王芳芳", None),
///     row(2, "李娜", Some("王芳村")),
///     row(3, "王芳", None),
///     row(4, "赵敏", None),
/// ];
/// let ids: Vec<u64> = rank_fields(&SearchText::parse("王芳")?, rows)
///     .into_iter()
///     .map(|id| id.get())
///     .collect();
/// assert_eq!(ids, [3, 1, 2]);
/// # Ok::<(), solocrm_core::ValidationError>(())
/// ```
pub fn rank_fields(text: &SearchText, candidates: Vec<SearchFields>) -> Vec<CustomerId> {
    let mut keyed: Vec<(Hit, String, u64)> = candidates
        .into_iter()
        .filter_map(|f| {
            let hit = text.hit_fields(&f)?;
            Some((hit, fold(&f.name), f.id.get()))
        })
        .collect();
    keyed.sort_unstable();
    keyed
        .into_iter()
        .map(|(_, _, id)| CustomerId::new(id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::{CustomerData, NewCustomer};
    use crate::ids::CustomerId;
    use crate::text::{Label, PersonName};
    use chrono::{TimeZone, Utc};

    fn customer(id: u64, name: &str, city: Option<&str>) -> Customer {
        let mut data = CustomerData::new(PersonName::parse(name).unwrap());
        data.profile.city = city.map(|c| Label::parse(c).unwrap());
        Customer::create(
            CustomerId::new(id),
            NewCustomer::new(data, Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()),
        )
    }

    #[test]
    fn folding_lowercases_single_forms_and_keeps_the_rest() {
        assert_eq!(fold("ÄÖÜ ΣΩ Жж"), "äöü σω жж");
        // İ lower-cases to two characters: kept as it is.
        assert_eq!(fold("İ"), "İ");
        assert_eq!(fold("北京 Beijing"), "北京 beijing");
    }

    #[test]
    fn hits_rank_exact_name_then_name_then_other_fields() {
        let q = SearchText::parse("王芳").unwrap();
        let exact = customer(3, "王芳", None);
        let longer = customer(1, "王芳芳", None);
        let city = customer(2, "李娜", Some("王芳村"));
        let other = customer(4, "赵敏", None);
        assert_eq!(q.hit(&exact), Some(Hit::ExactName));
        assert_eq!(q.hit(&longer), Some(Hit::Name));
        assert_eq!(q.hit(&city), Some(Hit::Other));
        assert_eq!(q.hit(&other), None);
        let mut hits = vec![
            (Hit::Other, city),
            (Hit::Name, longer),
            (Hit::ExactName, exact),
        ];
        rank(&mut hits);
        let ids: Vec<u64> = hits.iter().map(|(_, c)| c.id().get()).collect();
        assert_eq!(ids, [3, 1, 2]);
    }

    #[test]
    fn ranking_matches_gives_the_order_and_count_of_ranking_fields_for_every_limit() {
        let names = [
            "王芳",
            "王芳芳",
            "李娜",
            "Ängel",
            "ängel",
            "Dan",
            "DAN",
            "dan",
            "王",
            "Anna",
            "张伟",
            "Zoë",
            "王芳",
        ];
        let rows: Vec<SearchFields> = names
            .iter()
            .enumerate()
            .map(|(i, n)| SearchFields {
                id: CustomerId::new(100 - i as u64),
                name: (*n).to_owned(),
                email: (i % 3 == 0).then(|| format!("an{i}@example.cn")),
                company: (i % 4 == 1).then(|| "王氏贸易".to_owned()),
                city: (i % 5 == 2).then(|| "Änhui".to_owned()),
                notes: if i % 2 == 0 {
                    "芳".into()
                } else {
                    String::new()
                },
            })
            .collect();
        for q in [
            "王芳", "王", "an", "AN", "än", "芳", "dan", "zz", "Zoë", "ë",
        ] {
            let text = SearchText::parse(q).unwrap();
            let ranked = rank_fields(&text, rows.clone());
            let matches: Vec<SearchMatch> = rows
                .iter()
                .filter(|f| text.hit_fields(f).is_some())
                .map(|f| SearchMatch {
                    id: f.id,
                    name: f.name.clone(),
                })
                .collect();
            for f in rows.iter().filter(|f| text.hit_fields(f).is_some()) {
                assert_eq!(text.hit_fields(f), Some(text.hit_of_match(&f.name)), "{q}");
            }
            for limit in (0..=rows.len() + 1).map(Some).chain([None]) {
                let (ids, total) = rank_matches(&text, matches.clone(), limit);
                let want: Vec<CustomerId> = ranked
                    .iter()
                    .copied()
                    .take(limit.unwrap_or(usize::MAX))
                    .collect();
                assert_eq!(total, ranked.len(), "{q}: the count");
                assert_eq!(ids, want, "{q}, limit {limit:?}: the order");
            }
        }
    }

    #[test]
    fn an_erased_customer_matches_nothing() {
        let mut c = customer(7, "Ada", None);
        c.erase(Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).unwrap());
        assert!(!SearchText::parse("erased").unwrap().matches(&c));
        assert!(!SearchText::parse("7").unwrap().matches(&c));
    }
}
