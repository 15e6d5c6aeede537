//! Import presets: other programs' contact exports read into the columns of a
//! customers file, which the CSV import then checks and stores as any customers file
//! (`solocrm import customers FILE --from hubspot|google-contacts`, or
//! `--format vcard`).
//!
//! A preset reads the columns it knows by their names in the other program's export
//! (HubSpot's display names and internal property names; Google Contacts' current
//! and older CSV layouts) and leaves every other column out. Values the customer
//! record has one place for (the email, the phone) take the first or preferred
//! value; the others become custom attributes (`email-2`, `phone-2` …), so nothing
//! the file says about a contact is lost.

use std::collections::BTreeMap;
use std::io::Read;

use super::csv_file::neutralise;
use super::encoding::{Decoded, detect};
use super::{CUSTOMER_COLUMNS, Input};

/// Where a customers file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// A HubSpot contacts export (CSV).
    Hubspot,
    /// A Google Contacts export ("Google CSV").
    GoogleContacts,
    /// vCard 3.0 or 4.0 ([`super::vcard`]).
    Vcard,
}

impl Preset {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Hubspot => "hubspot",
            Preset::GoogleContacts => "google-contacts",
            Preset::Vcard => "vcard",
        }
    }
}

/// Rows in the columns of a customers file, before the CSV import checks them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sheet {
    /// One map per row, from a column of [`CUSTOMER_COLUMNS`] to its cell.
    pub rows: Vec<BTreeMap<&'static str, String>>,
}

impl Sheet {
    /// The rows as a customers file: a header of the columns any row has, in
    /// [`CUSTOMER_COLUMNS`] order, every cell guarded against formulas as an export
    /// does (which the import undoes).
    pub fn to_csv(&self) -> Vec<u8> {
        let columns: Vec<&str> = CUSTOMER_COLUMNS
            .iter()
            .copied()
            .filter(|c| *c == "name" || self.rows.iter().any(|r| r.contains_key(c)))
            .collect();
        let mut w = csv::Writer::from_writer(Vec::new());
        // Writing to memory cannot fail.
        let _ = w.write_record(&columns);
        for row in &self.rows {
            let cells: Vec<String> = columns
                .iter()
                .map(|c| neutralise(row.get(c).map_or("", String::as_str)).into_owned())
                .collect();
            let _ = w.write_record(&cells);
        }
        w.into_inner().unwrap_or_default()
    }
}

/// Why a preset could not read its file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PresetError {
    /// The file could not be read or is not text.
    #[error("cannot read {file}: {message}")]
    Read {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
    /// The file is not what the preset reads.
    #[error("{file}: {message}")]
    Format {
        /// The file.
        file: String,
        /// Why.
        message: String,
    },
}

/// Reads `input` with `preset` into a customers file held in memory, named as the
/// input, for the CSV import.
///
/// # Errors
///
/// [`PresetError`] if the file cannot be read or is not the preset's.
pub fn convert(input: &Input, preset: Preset) -> Result<Input, PresetError> {
    let file = input.name().display().to_string();
    let read = |message: String| PresetError::Read {
        file: file.clone(),
        message,
    };
    let encoding = detect(|| input.open()).map_err(|e| read(e.to_string()))?;
    let mut text = String::new();
    Decoded::new(input.open().map_err(|e| read(e.to_string()))?, encoding)
        .read_to_string(&mut text)
        .map_err(|e| read(e.to_string()))?;
    let text = text.trim_start_matches('\u{feff}');
    let format = |message: String| PresetError::Format {
        file: file.clone(),
        message,
    };
    let sheet = match preset {
        Preset::Vcard => super::vcard::vcards_to_csv(text).map_err(|e| format(e.to_string()))?,
        Preset::Hubspot | Preset::GoogleContacts => {
            let (header, records) = read_csv(text).map_err(format)?;
            match preset {
                Preset::Hubspot => hubspot(&header, &records),
                _ => google(&header, &records),
            }
            .map_err(format)?
        }
    };
    Ok(Input::bytes(input.name(), sheet.to_csv()))
}

type Records = Vec<Vec<String>>;

fn read_csv(text: &str) -> Result<(Vec<String>, Records), String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let mut records = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        records.push(rec.iter().map(str::to_owned).collect());
    }
    Ok((header, records))
}

/// Finds the columns of a header by any of their names.
struct Header<'h>(&'h [String]);

impl Header<'_> {
    fn find(&self, names: &[&str]) -> Option<usize> {
        self.0.iter().position(|h| names.contains(&h.as_str()))
    }

    /// Every column `pattern(n)` names for n = 1, 2, …, in order.
    fn numbered(&self, pattern: impl Fn(usize) -> String) -> Vec<usize> {
        (1..=50)
            .map_while(|n| self.0.iter().position(|h| *h == pattern(n)))
            .collect()
    }
}

fn cell(rec: &[String], i: Option<usize>) -> String {
    i.and_then(|i| rec.get(i))
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

/// A tag from another program's label: spaces become `-`, characters a tag cannot
/// hold are left out.
pub fn tag_text(label: &str) -> String {
    label
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
        .chars()
        .filter(|c| c.is_alphanumeric() || "-_.:/+&".contains(*c))
        .collect::<String>()
        .to_lowercase()
}

/// The ISO code of a country name the contacts programs write (English or Chinese),
/// or the text as it is (a code already, or a name the import will refuse, saying
/// so).
pub fn country_code(name: &str) -> String {
    let n = name.trim();
    let known: &[(&[&str], &str)] = &[
        (
            &[
                "china",
                "people's republic of china",
                "中国",
                "中华人民共和国",
                "中國",
            ],
            "CN",
        ),
        (&["taiwan", "台湾", "台灣"], "TW"),
        (&["hong kong", "香港"], "HK"),
        (&["macau", "macao", "澳门", "澳門"], "MO"),
        (&["singapore", "新加坡"], "SG"),
        (&["japan", "日本"], "JP"),
        (&["south korea", "korea", "韩国", "韓國"], "KR"),
        (
            &[
                "united states",
                "united states of america",
                "usa",
                "美国",
                "美國",
            ],
            "US",
        ),
        (
            &["united kingdom", "uk", "great britain", "英国", "英國"],
            "GB",
        ),
        (&["germany", "deutschland", "德国", "德國"], "DE"),
        (&["france", "法国", "法國"], "FR"),
        (&["canada", "加拿大"], "CA"),
        (&["australia", "澳大利亚", "澳洲"], "AU"),
        (&["malaysia", "马来西亚", "馬來西亞"], "MY"),
    ];
    let lower = n.to_lowercase();
    known
        .iter()
        .find(|(names, _)| names.contains(&lower.as_str()))
        .map_or_else(|| n.to_owned(), |(_, code)| (*code).to_owned())
}

/// Values after the first as attributes `column-2`, `column-3` …
fn extra(attributes: &mut BTreeMap<String, String>, column: &str, values: &[String]) {
    for (n, v) in values.iter().enumerate().skip(1) {
        attributes.insert(format!("{column}-{}", n + 1), v.clone());
    }
}

fn finish(
    mut row: BTreeMap<&'static str, String>,
    attributes: BTreeMap<String, String>,
) -> BTreeMap<&'static str, String> {
    row.retain(|_, v| !v.is_empty());
    let attributes: serde_json::Map<String, serde_json::Value> = attributes
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    if !attributes.is_empty() {
        row.insert(
            "attributes",
            serde_json::Value::Object(attributes).to_string(),
        );
    }
    row
}

/// A display name from name parts: Chinese names family first without a space,
/// others given first.
fn display_name(first: &str, middle: &str, last: &str) -> String {
    let cjk = |s: &str| s.chars().any(|c| c > '\u{2e80}');
    if cjk(first) || cjk(last) {
        format!("{last}{middle}{first}")
    } else {
        [first, middle, last]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The lifecycle stage of a HubSpot lifecycle stage (display or internal name).
fn hubspot_stage(v: &str) -> Option<&'static str> {
    let key: String = v
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    Some(match key.as_str() {
        "subscriber" => "prospect",
        "lead" | "marketingqualifiedlead" | "salesqualifiedlead" | "opportunity" => "lead",
        "customer" => "active",
        "evangelist" => "loyal",
        _ => return None,
    })
}

fn hubspot(header: &[String], records: &Records) -> Result<Sheet, String> {
    let h = Header(header);
    let col = |names: &[&str]| h.find(names);
    let id = col(&["record id", "hs_object_id", "contact id", "vid"]);
    let first = col(&["first name", "firstname"]);
    let last = col(&["last name", "lastname"]);
    let email = col(&["email", "email address"]);
    let more_emails = col(&["additional email addresses", "hs_additional_emails"]);
    let phone = col(&["phone number", "phone"]);
    let mobile = col(&["mobile phone number", "mobilephone"]);
    let company = col(&["company name", "company", "associated company"]);
    let city = col(&["city"]);
    let region = col(&["state/region", "state"]);
    let country = col(&["country/region", "country"]);
    let stage = col(&["lifecycle stage", "lifecyclestage"]);
    let source = col(&[
        "original source",
        "original traffic source",
        "hs_analytics_source",
    ]);
    let industry = col(&["industry"]);
    let birthday = col(&["date of birth", "date_of_birth", "birthday"]);
    let job = col(&["job title", "jobtitle"]);
    let lead_status = col(&["lead status", "hs_lead_status"]);
    let created = col(&["create date", "createdate"]);
    if first.is_none() && last.is_none() && email.is_none() {
        return Err(
            "has none of HubSpot's contact columns (First Name, Last Name, Email): is it a HubSpot contacts export?"
                .to_owned(),
        );
    }
    let mut sheet = Sheet::default();
    for rec in records {
        let mut row = BTreeMap::new();
        let mut attributes = BTreeMap::new();
        let name = display_name(&cell(rec, first), "", &cell(rec, last));
        let mut emails: Vec<String> = vec![cell(rec, email)];
        emails.extend(
            cell(rec, more_emails)
                .split([';', ','])
                .map(|e| e.trim().to_owned()),
        );
        emails.retain(|e| !e.is_empty());
        let mut phones = vec![cell(rec, mobile), cell(rec, phone)];
        phones.retain(|p| !p.is_empty());
        row.insert(
            "name",
            match name.is_empty() {
                true => emails.first().cloned().unwrap_or_default(),
                false => name,
            },
        );
        row.insert("email", emails.first().cloned().unwrap_or_default());
        extra(&mut attributes, "email", &emails);
        row.insert("phone", phones.first().cloned().unwrap_or_default());
        extra(&mut attributes, "phone", &phones);
        row.insert("company", cell(rec, company));
        row.insert("city", cell(rec, city));
        row.insert("region", cell(rec, region));
        let c = cell(rec, country);
        if !c.is_empty() {
            row.insert("country", country_code(&c));
        }
        if let Some(s) = hubspot_stage(&cell(rec, stage)) {
            row.insert("stage", s.to_owned());
        }
        row.insert("channel", tag_text(&cell(rec, source)));
        row.insert("industry", cell(rec, industry));
        row.insert("birthday", cell(rec, birthday));
        let r = cell(rec, id);
        if !r.is_empty() {
            row.insert("reference", format!("hubspot-{r}"));
        }
        attributes.insert("job-title".to_owned(), cell(rec, job));
        attributes.insert("hubspot-lead-status".to_owned(), cell(rec, lead_status));
        attributes.insert("hubspot-created".to_owned(), cell(rec, created));
        sheet.rows.push(finish(row, attributes));
    }
    Ok(sheet)
}

/// Google Contacts puts several values in one cell separated by ` ::: `.
fn google_values(v: &str) -> Vec<String> {
    v.split(":::")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn google(header: &[String], records: &Records) -> Result<Sheet, String> {
    let h = Header(header);
    let col = |names: &[&str]| h.find(names);
    let full = col(&["name"]);
    let first = col(&["first name", "given name"]);
    let middle = col(&["middle name", "additional name"]);
    let last = col(&["last name", "family name"]);
    let file_as = col(&["file as"]);
    let org = col(&["organization name", "organization 1 - name"]);
    let birthday = col(&["birthday"]);
    let notes = col(&["notes"]);
    let labels = col(&["labels", "group membership"]);
    let gender = col(&["gender"]);
    let email_values = h.numbered(|n| format!("e-mail {n} - value"));
    let email_labels: Vec<Option<usize>> = (1..=email_values.len())
        .map(|n| {
            h.find(&[
                format!("e-mail {n} - label").as_str(),
                format!("e-mail {n} - type").as_str(),
            ])
        })
        .collect();
    let phone_values = h.numbered(|n| format!("phone {n} - value"));
    let phone_labels: Vec<Option<usize>> = (1..=phone_values.len())
        .map(|n| {
            h.find(&[
                format!("phone {n} - label").as_str(),
                format!("phone {n} - type").as_str(),
            ])
        })
        .collect();
    let city = col(&["address 1 - city"]);
    let region = col(&["address 1 - region"]);
    let country = col(&["address 1 - country"]);
    if first.is_none() && full.is_none() && email_values.is_empty() {
        return Err(
            "has none of Google Contacts' columns (First Name, Name, E-mail 1 - Value): is it a Google CSV export?"
                .to_owned(),
        );
    }
    let mut sheet = Sheet::default();
    for rec in records {
        let mut row = BTreeMap::new();
        let mut attributes = BTreeMap::new();
        // Google marks the primary value's label with `* `: it comes first.
        let ranked = |values: &[usize], labels: &[Option<usize>], mobile: bool| {
            let mut v: Vec<(bool, bool, String)> = Vec::new();
            for (i, &c) in values.iter().enumerate() {
                let label = cell(rec, labels.get(i).copied().flatten());
                for value in google_values(&cell(rec, Some(c))) {
                    let primary = label.starts_with('*');
                    let is_mobile = mobile && label.to_lowercase().contains("mobile");
                    v.push((!primary, !is_mobile, value));
                }
            }
            v.sort_by_key(|(p, m, _)| (*p, *m));
            v.into_iter().map(|(_, _, s)| s).collect::<Vec<_>>()
        };
        let emails = ranked(&email_values, &email_labels, false);
        let phones = ranked(&phone_values, &phone_labels, true);
        let mut name = cell(rec, full);
        if name.is_empty() {
            name = display_name(&cell(rec, first), &cell(rec, middle), &cell(rec, last));
        }
        for fallback in [cell(rec, file_as), cell(rec, org)] {
            if name.is_empty() {
                name = fallback;
            }
        }
        if name.is_empty() {
            name = emails.first().cloned().unwrap_or_default();
        }
        row.insert("name", name);
        row.insert("email", emails.first().cloned().unwrap_or_default());
        extra(&mut attributes, "email", &emails);
        row.insert("phone", phones.first().cloned().unwrap_or_default());
        extra(&mut attributes, "phone", &phones);
        row.insert("company", cell(rec, org));
        let b = cell(rec, birthday);
        // A birthday without a year (`--03-08`) cannot be stored.
        if !b.starts_with("--") {
            row.insert("birthday", b);
        }
        row.insert(
            "notes",
            rec.get(notes.unwrap_or(usize::MAX))
                .cloned()
                .unwrap_or_default(),
        );
        let tags: Vec<String> = google_values(&cell(rec, labels))
            .iter()
            .filter(|l| !l.starts_with('*'))
            .map(|l| tag_text(l))
            .filter(|t| !t.is_empty())
            .collect();
        row.insert("tags", tags.join(";"));
        row.insert("city", cell(rec, city));
        row.insert("region", cell(rec, region));
        let c = cell(rec, country);
        if !c.is_empty() {
            row.insert("country", country_code(&c));
        }
        match cell(rec, gender).to_lowercase().as_str() {
            "female" | "女" => {
                row.insert("gender", "female".to_owned());
            }
            "male" | "男" => {
                row.insert("gender", "male".to_owned());
            }
            _ => {}
        }
        sheet.rows.push(finish(row, attributes));
    }
    Ok(sheet)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(preset: Preset, text: &str) -> Sheet {
        let (header, records) = read_csv(text).expect("csv");
        match preset {
            Preset::Hubspot => hubspot(&header, &records),
            _ => google(&header, &records),
        }
        .expect("read")
    }

    #[test]
    fn google_contacts_keep_every_email_and_phone() {
        let s = sheet(
            Preset::GoogleContacts,
            "First Name,Last Name,E-mail 1 - Label,E-mail 1 - Value,E-mail 2 - Label,E-mail 2 - Value,Phone 1 - Label,Phone 1 - Value,Labels,Address 1 - Country\n\
             伟,张,Work,zw@work.cn,* Home,zhang.wei@example.cn ::: zw@qq.com,Mobile,+86 138 0013 8000,* myContacts ::: VIP ::: 老客户,中国\n",
        );
        let r = &s.rows[0];
        assert_eq!(r["name"], "张伟");
        assert_eq!(r["email"], "zhang.wei@example.cn");
        assert_eq!(r["tags"], "vip;老客户");
        assert_eq!(r["country"], "CN");
        assert_eq!(
            r["attributes"],
            r#"{"email-2":"zw@qq.com","email-3":"zw@work.cn"}"#
        );
    }

    #[test]
    fn hubspot_stages_sources_and_ids_map() {
        let s = sheet(
            Preset::Hubspot,
            "Record ID,First Name,Last Name,Email,Lifecycle Stage,Original Source,Country/Region\n\
             101,Clara,Krüger,clara@example.de,Marketing Qualified Lead,Organic Search,Germany\n",
        );
        let r = &s.rows[0];
        assert_eq!(r["name"], "Clara Krüger");
        assert_eq!(r["reference"], "hubspot-101");
        assert_eq!(r["stage"], "lead");
        assert_eq!(r["channel"], "organic-search");
        assert_eq!(r["country"], "DE");
        let e = read_csv("a,b\n1,2\n")
            .map(|(h, r)| hubspot(&h, &r))
            .expect("csv")
            .expect_err("not hubspot");
        assert!(e.contains("HubSpot"), "{e}");
    }

    #[test]
    fn a_sheet_writes_only_its_columns_guarded() {
        let mut row = BTreeMap::new();
        row.insert("name", "=cmd".to_owned());
        row.insert("phone", "+86 1".to_owned());
        let text = String::from_utf8(Sheet { rows: vec![row] }.to_csv()).expect("utf-8");
        assert_eq!(text, "name,phone\n'=cmd,'+86 1\n");
    }
}
