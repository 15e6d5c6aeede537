//! vCard 4.0 (RFC 6350): customers out as contacts, and contacts in as customers.
//!
//! [`write_vcards`] writes one `VCARD` per customer who is not erased: `FN`, `N`,
//! `EMAIL`, `TEL` (`TYPE=voice`, the number as text so it comes back exactly),
//! `ORG`, `ADR` (city, region, country), `BDAY`, `GENDER`, `CATEGORIES` (the tags),
//! `NOTE`, a stable `UID` derived from the book id and the customer id,
//! `X-SOLOCRM-REF` with the external reference and `X-SOLOCRM-KEY` with the
//! customer's key (the `reference` and `customer` columns of a customers file), so
//! that re-importing the file updates the same customers.
//!
//! [`vcards_to_csv`] reads vCards (3.0 or 4.0, as phones and Google Contacts
//! write them) into the columns of a customers file, which the CSV import then
//! checks and stores: the first `EMAIL` (a preferred one first) and `TEL` (a
//! preferred one, else a mobile, first) become the email and phone, the others custom
//! attributes `email-2`, `phone-2` …

use std::collections::BTreeMap;

use solocrm_core::Customer;

use super::content_line::{ContentLine, Lines, components, escape, list, unfold};
use super::presets::Sheet;
use crate::keys::CustomerKey;

/// The two-character Chinese surnames [`name_parts`] knows; any other Chinese name
/// has a one-character surname.
const COMPOUND_SURNAMES: [&str; 16] = [
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "尉迟", "公孙", "长孙", "夏侯",
    "轩辕", "端木", "南宫", "西门",
];

/// The family and given name of a display name, for `N`: a name in Chinese
/// characters without spaces is surname first (one character, or a compound surname
/// of two); a name with spaces ends with the family name; anything else is all
/// family name.
pub fn name_parts(name: &str) -> (String, String) {
    let chinese = |c: char| ('\u{4e00}'..='\u{9fff}').contains(&c) || c == '·';
    if !name.contains(' ') && name.chars().all(chinese) && name.chars().count() >= 2 {
        let cut = COMPOUND_SURNAMES
            .iter()
            .find(|s| name.starts_with(**s) && name.chars().count() > 2)
            .map_or(1, |_| 2);
        let split = name.char_indices().nth(cut).map_or(name.len(), |(i, _)| i);
        return (name[..split].to_owned(), name[split..].to_owned());
    }
    match name.rsplit_once(' ') {
        Some((given, family)) => (family.to_owned(), given.to_owned()),
        None => (name.to_owned(), String::new()),
    }
}

/// A stable `urn:uuid:` for record `kind`/`id` of the book `book` (16 hex digits):
/// a version 8 (custom) UUID built from the book id, the kind and the id, the same on
/// every export.
pub fn stable_uuid(book: &str, kind: u16, id: u64) -> String {
    let b = |r: std::ops::Range<usize>| book.get(r).unwrap_or("0");
    format!(
        "urn:uuid:{}-{}-8{}-8{:03x}-{:012x}",
        b(0..8),
        b(8..12),
        b(12..15),
        kind & 0xfff,
        id & 0xffff_ffff_ffff
    )
}

/// Writes `customers` of the book `book` as vCard 4.0, erased customers left out.
pub fn write_vcards(customers: &[Customer], book: &str) -> String {
    let mut doc = Lines::new();
    for c in customers.iter().filter(|c| !c.is_erased()) {
        let d = c.data();
        doc.line("BEGIN:VCARD");
        doc.line("VERSION:4.0");
        doc.line(&format!("UID:{}", stable_uuid(book, 0, c.id().get())));
        doc.text("FN", d.name.as_str());
        let (family, given) = name_parts(d.name.as_str());
        doc.line(&format!("N:{};{};;;", escape(&family), escape(&given)));
        if let Some(email) = &d.email {
            doc.text("EMAIL;TYPE=pref", email.as_str());
        }
        if let Some(phone) = &d.phone {
            doc.text("TEL;VALUE=text;TYPE=voice", phone.as_str());
        }
        if let Some(company) = &d.company {
            doc.text("ORG", company.as_str());
        }
        let p = &d.profile;
        if p.city.is_some() || p.region.is_some() || p.country.is_some() {
            let part = |v: Option<&str>| escape(v.unwrap_or(""));
            doc.line(&format!(
                "ADR:;;;{};{};;{}",
                part(p.city.as_ref().map(|v| v.as_str())),
                part(p.region.as_ref().map(|v| v.as_str())),
                part(p.country.as_ref().map(|v| v.as_str())),
            ));
        }
        if let Some(b) = d.birthday {
            doc.line(&format!("BDAY:{}", b.format("%Y%m%d")));
        }
        if let Some(g) = p.gender {
            let sex = match g {
                solocrm_core::Gender::Female => "F",
                solocrm_core::Gender::Male => "M",
                solocrm_core::Gender::Diverse => "O",
            };
            doc.line(&format!("GENDER:{sex}"));
        }
        if !d.tags.is_empty() {
            let tags: Vec<String> = d.tags.iter().map(|t| escape(t.as_str())).collect();
            doc.line(&format!("CATEGORIES:{}", tags.join(",")));
        }
        if !d.notes.as_str().is_empty() {
            doc.text("NOTE", d.notes.as_str());
        }
        if let Some(r) = &d.external_ref {
            doc.text("X-SOLOCRM-REF", r.as_str());
        }
        doc.text("X-SOLOCRM-KEY", &CustomerKey::of(c, Some(book)));
        doc.line("END:VCARD");
    }
    doc.finish()
}

/// Why a vCard file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct VcardError {
    /// The unfolded line (1 for the first content line).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Reads vCards into the rows of a customers file (see the [module docs](self)).
///
/// # Errors
///
/// [`VcardError`] for a card that does not begin and end, or has no name.
pub fn vcards_to_csv(text: &str) -> Result<Sheet, VcardError> {
    let mut sheet = Sheet::default();
    let mut card: Option<Vec<ContentLine>> = None;
    let mut begun = 0;
    for (i, raw) in unfold(text.trim_start_matches('\u{feff}'))
        .iter()
        .enumerate()
    {
        let line = i + 1;
        let err = |message: &str| VcardError {
            line,
            message: message.to_owned(),
        };
        let Some(l) = ContentLine::parse(raw) else {
            return Err(err("is not NAME:value"));
        };
        match (l.name.as_str(), &mut card) {
            ("BEGIN", None) if l.value.eq_ignore_ascii_case("VCARD") => {
                card = Some(Vec::new());
                begun = line;
            }
            ("BEGIN", _) => return Err(err("a card begins inside another")),
            ("END", Some(_)) if l.value.eq_ignore_ascii_case("VCARD") => {
                let lines = card.take().unwrap_or_default();
                let row = card_row(&lines).ok_or_else(|| VcardError {
                    line: begun,
                    message: "the card has neither FN nor N".to_owned(),
                })?;
                sheet.rows.push(row);
            }
            (_, Some(lines)) => lines.push(l),
            (_, None) => return Err(err("is outside BEGIN:VCARD … END:VCARD")),
        }
    }
    if card.is_some() {
        return Err(VcardError {
            line: begun,
            message: "the card has no END:VCARD".to_owned(),
        });
    }
    Ok(sheet)
}

/// The customers-file cells of one card; `None` without a name.
fn card_row(lines: &[ContentLine]) -> Option<BTreeMap<&'static str, String>> {
    let mut row = BTreeMap::new();
    let of = |name: &'static str| lines.iter().filter(move |l| l.name == name);
    let name = of("FN")
        .map(ContentLine::text)
        .find(|n| !n.trim().is_empty())
        .or_else(|| {
            of("N").next().map(|n| {
                let c = components(&n.value);
                let family = c.first().cloned().unwrap_or_default();
                let given = c.get(1).cloned().unwrap_or_default();
                let cjk = family
                    .chars()
                    .chain(given.chars())
                    .any(|ch| ch > '\u{2e80}');
                match cjk {
                    true => format!("{family}{given}"),
                    false => format!("{given} {family}").trim().to_owned(),
                }
            })
        })
        .filter(|n| !n.trim().is_empty())?;
    row.insert("name", name);
    // Preferred first, then (for phones) mobiles, then in file order.
    let ranked = |name: &'static str, mobile: bool| {
        let mut v: Vec<&ContentLine> = of(name).collect();
        v.sort_by_key(|l| (!l.has_type("pref"), !(mobile && l.has_type("cell"))));
        v.into_iter()
            .map(|l| l.text().trim().trim_start_matches("tel:").to_owned())
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
    };
    let mut attributes = BTreeMap::new();
    for (column, property, mobile) in [("email", "EMAIL", false), ("phone", "TEL", true)] {
        let values = ranked(property, mobile);
        for (n, v) in values.into_iter().enumerate() {
            match n {
                0 => {
                    row.insert(column, v);
                }
                n => {
                    attributes.insert(format!("{column}-{}", n + 1), v);
                }
            }
        }
    }
    if let Some(org) = of("ORG").next() {
        let first = components(&org.value)
            .into_iter()
            .next()
            .unwrap_or_default();
        if !first.trim().is_empty() {
            row.insert("company", first);
        }
    }
    if let Some(adr) = of("ADR").next() {
        let c = components(&adr.value);
        for (column, i) in [("city", 3), ("region", 4), ("country", 6)] {
            if let Some(v) = c.get(i).filter(|v| !v.trim().is_empty()) {
                let v = match column {
                    "country" => super::presets::country_code(v),
                    _ => v.clone(),
                };
                row.insert(column, v);
            }
        }
    }
    if let Some(b) = of("BDAY").next().and_then(|b| birthday(&b.text())) {
        row.insert("birthday", b);
    }
    if let Some(g) = of("GENDER").next() {
        let sex = components(&g.value).into_iter().next().unwrap_or_default();
        let gender = match sex.to_ascii_uppercase().as_str() {
            "F" => Some("female"),
            "M" => Some("male"),
            "O" => Some("diverse"),
            _ => None,
        };
        if let Some(g) = gender {
            row.insert("gender", g.to_owned());
        }
    }
    let tags: Vec<String> = of("CATEGORIES")
        .flat_map(|c| list(&c.value))
        .map(|t| super::presets::tag_text(&t))
        .filter(|t| !t.is_empty())
        .collect();
    if !tags.is_empty() {
        row.insert("tags", tags.join(";"));
    }
    let notes: Vec<String> = of("NOTE").map(ContentLine::text).collect();
    if !notes.is_empty() {
        row.insert("notes", notes.join("\n"));
    }
    if let Some(r) = of("X-SOLOCRM-REF").next() {
        row.insert("reference", r.text());
    }
    if let Some(key) = of("X-SOLOCRM-KEY").next() {
        row.insert("customer", key.text());
    }
    if !attributes.is_empty() {
        row.insert(
            "attributes",
            serde_json::Value::Object(
                attributes
                    .into_iter()
                    .map(|(k, v)| (k, serde_json::Value::String(v)))
                    .collect(),
            )
            .to_string(),
        );
    }
    Some(row)
}

/// A `BDAY` as `YYYY-MM-DD`: `19880214`, `1988-02-14` or a date-time; `None` for a
/// birthday without a year (`--0214`) or anything else.
fn birthday(v: &str) -> Option<String> {
    let v = v.trim();
    let date = v.split('T').next().unwrap_or(v).replace('-', "");
    if date.len() == 8 && date.bytes().all(|b| b.is_ascii_digit()) {
        return Some(format!("{}-{}-{}", &date[..4], &date[4..6], &date[6..8]));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_and_western_names_split_into_family_and_given() {
        assert_eq!(name_parts("张伟"), ("张".into(), "伟".into()));
        assert_eq!(name_parts("欧阳娜娜"), ("欧阳".into(), "娜娜".into()));
        assert_eq!(
            name_parts("Clara Krüger"),
            ("Krüger".into(), "Clara".into())
        );
        assert_eq!(name_parts("Cher"), ("Cher".into(), String::new()));
    }

    #[test]
    fn uids_are_stable_and_differ_by_kind_and_id() {
        let a = stable_uuid("0123456789abcdef", 0, 7);
        assert_eq!(a, "urn:uuid:01234567-89ab-8cde-8000-000000000007");
        assert_ne!(a, stable_uuid("0123456789abcdef", 1, 7));
        assert_ne!(a, stable_uuid("0123456789abcdef", 0, 8));
    }

    #[test]
    fn cards_become_rows_with_preferred_values_first() {
        let text = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:王;芳;;;\r\n\
            EMAIL;TYPE=work:wang.fang@work.cn\r\nEMAIL;TYPE=home,pref:fang@qq.com\r\n\
            TEL;TYPE=voice:010 8888 0000\r\nTEL;TYPE=cell:+86 139 0000 1111\r\n\
            ADR;TYPE=home:;;南京路 1 号;上海;上海市;200000;中国\r\nBDAY:1990-03-08\r\n\
            CATEGORIES:VIP,老客户\r\nNOTE:喜欢乌龙茶\\n春节送礼\r\nEND:VCARD\r\n";
        let sheet = vcards_to_csv(text).expect("read");
        let row = &sheet.rows[0];
        assert_eq!(row["name"], "王芳");
        assert_eq!(row["email"], "fang@qq.com");
        assert_eq!(row["phone"], "+86 139 0000 1111");
        assert_eq!(row["city"], "上海");
        assert_eq!(row["country"], "CN");
        assert_eq!(row["birthday"], "1990-03-08");
        assert_eq!(row["tags"], "vip;老客户");
        assert_eq!(row["notes"], "喜欢乌龙茶\n春节送礼");
        assert_eq!(
            row["attributes"],
            r#"{"email-2":"wang.fang@work.cn","phone-2":"010 8888 0000"}"#
        );
        let e = vcards_to_csv("BEGIN:VCARD\r\nVERSION:4.0\r\nEMAIL:x@y.cn\r\nEND:VCARD\r\n")
            .expect_err("no name");
        assert_eq!(e.to_string(), "line 1: the card has neither FN nor N");
        let e = vcards_to_csv("BEGIN:VCARD\r\nFN:x\r\n").expect_err("no end");
        assert_eq!(e.to_string(), "line 1: the card has no END:VCARD");
    }
}
