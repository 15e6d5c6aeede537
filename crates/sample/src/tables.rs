//! Fixed word lists the generator draws from. Every entry is valid for the type it ends
//! up in (names, labels, tags); a unit test checks that.

/// First names with an ASCII spelling for email addresses.
pub(crate) const FIRST_NAMES: &[(&str, &str)] = &[
    ("Anna", "anna"),
    ("Lukas", "lukas"),
    ("Sophie", "sophie"),
    ("Jonas", "jonas"),
    ("Marie", "marie"),
    ("Felix", "felix"),
    ("Lena", "lena"),
    ("Paul", "paul"),
    ("Emma", "emma"),
    ("Leon", "leon"),
    ("Mia", "mia"),
    ("Noah", "noah"),
    ("Hannah", "hannah"),
    ("Elias", "elias"),
    ("Clara", "clara"),
    ("Maximilian", "maximilian"),
    ("Zoë", "zoe"),
    ("José", "jose"),
    ("Łukasz", "lukasz"),
    ("Søren", "soren"),
    ("Anaïs", "anais"),
    ("Chloé", "chloe"),
    ("Giulia", "giulia"),
    ("Marco", "marco"),
    ("Lucía", "lucia"),
    ("Javier", "javier"),
    ("Olivia", "olivia"),
    ("James", "james"),
    ("Amelia", "amelia"),
    ("Oliver", "oliver"),
    ("Fatma", "fatma"),
    ("Mehmet", "mehmet"),
    ("Aylin", "aylin"),
    ("Yuki", "yuki"),
    ("Wei", "wei"),
    ("Priya", "priya"),
    ("Arjun", "arjun"),
    ("Ingrid", "ingrid"),
    ("Björn", "bjorn"),
    ("Agnieszka", "agnieszka"),
    ("Katarzyna", "katarzyna"),
    ("Dmitri", "dmitri"),
    ("Ana", "ana"),
    ("Tomás", "tomas"),
    ("Nele", "nele"),
    ("Finn", "finn"),
    ("Ida", "ida"),
    ("Karl", "karl"),
];

/// Last names with an ASCII spelling for email addresses.
pub(crate) const LAST_NAMES: &[(&str, &str)] = &[
    ("Müller", "mueller"),
    ("Schmidt", "schmidt"),
    ("Schneider", "schneider"),
    ("Fischer", "fischer"),
    ("Weber", "weber"),
    ("Meyer", "meyer"),
    ("Wagner", "wagner"),
    ("Becker", "becker"),
    ("Hoffmann", "hoffmann"),
    ("Schäfer", "schaefer"),
    ("Koch", "koch"),
    ("Richter", "richter"),
    ("Klein", "klein"),
    ("Wolf", "wolf"),
    ("Neumann", "neumann"),
    ("Schwarz", "schwarz"),
    ("Zimmermann", "zimmermann"),
    ("Krüger", "krueger"),
    ("Hartmann", "hartmann"),
    ("Lange", "lange"),
    ("Dubois", "dubois"),
    ("Martin", "martin"),
    ("Lefèvre", "lefevre"),
    ("Rossi", "rossi"),
    ("Bianchi", "bianchi"),
    ("García", "garcia"),
    ("Fernández", "fernandez"),
    ("Smith", "smith"),
    ("O'Brien", "obrien"),
    ("Jones", "jones"),
    ("Kowalski", "kowalski"),
    ("Nowak", "nowak"),
    ("Yılmaz", "yilmaz"),
    ("Kaya", "kaya"),
    ("Nguyễn", "nguyen"),
    ("Tanaka", "tanaka"),
    ("Chen", "chen"),
    ("Sharma", "sharma"),
    ("Jensen", "jensen"),
    ("Andersson", "andersson"),
    ("van der Berg", "vanderberg"),
    ("de Vries", "devries"),
    ("Novák", "novak"),
    ("Horvat", "horvat"),
    ("Popescu", "popescu"),
    ("Ivanova", "ivanova"),
];

/// Mail domains.
pub(crate) const DOMAINS: &[(&str, u32)] = &[
    ("gmail.com", 30),
    ("web.de", 14),
    ("gmx.de", 14),
    ("outlook.com", 10),
    ("yahoo.com", 6),
    ("icloud.com", 6),
    ("posteo.de", 3),
    ("mailbox.org", 3),
    ("example.org", 2),
    ("t-online.de", 8),
    ("bluewin.ch", 2),
    ("orange.fr", 2),
];

/// A country: ISO code, weight, phone prefix, cities with their region.
pub(crate) struct Country {
    pub code: &'static str,
    pub weight: u32,
    pub phone: &'static str,
    pub cities: &'static [(&'static str, &'static str)],
}

/// Where customers live: mostly the home market, some neighbours.
pub(crate) const COUNTRIES: &[Country] = &[
    Country {
        code: "DE",
        weight: 62,
        phone: "+49",
        cities: &[
            ("Berlin", "Berlin"),
            ("Hamburg", "Hamburg"),
            ("München", "Bayern"),
            ("Köln", "Nordrhein-Westfalen"),
            ("Frankfurt am Main", "Hessen"),
            ("Stuttgart", "Baden-Württemberg"),
            ("Leipzig", "Sachsen"),
            ("Düsseldorf", "Nordrhein-Westfalen"),
            ("Freiburg im Breisgau", "Baden-Württemberg"),
            ("Münster", "Nordrhein-Westfalen"),
        ],
    },
    Country {
        code: "AT",
        weight: 12,
        phone: "+43",
        cities: &[
            ("Wien", "Wien"),
            ("Graz", "Steiermark"),
            ("Linz", "Oberösterreich"),
        ],
    },
    Country {
        code: "CH",
        weight: 8,
        phone: "+41",
        cities: &[
            ("Zürich", "Zürich"),
            ("Basel", "Basel-Stadt"),
            ("Bern", "Bern"),
        ],
    },
    Country {
        code: "NL",
        weight: 5,
        phone: "+31",
        cities: &[("Amsterdam", "Noord-Holland"), ("Utrecht", "Utrecht")],
    },
    Country {
        code: "FR",
        weight: 4,
        phone: "+33",
        cities: &[("Paris", "Île-de-France"), ("Lyon", "Auvergne-Rhône-Alpes")],
    },
    Country {
        code: "IT",
        weight: 3,
        phone: "+39",
        cities: &[("Milano", "Lombardia"), ("Bolzano", "Trentino-Alto Adige")],
    },
    Country {
        code: "PL",
        weight: 2,
        phone: "+48",
        cities: &[("Kraków", "Małopolskie"), ("Wrocław", "Dolnośląskie")],
    },
    Country {
        code: "DK",
        weight: 2,
        phone: "+45",
        cities: &[("København", "Hovedstaden")],
    },
    Country {
        code: "GB",
        weight: 1,
        phone: "+44",
        cities: &[("London", "England")],
    },
    Country {
        code: "US",
        weight: 1,
        phone: "+1",
        cities: &[("New York", "New York")],
    },
];

/// The range of what winning one customer costs, in major units.
pub(crate) type CostRange = Option<(i64, i64)>;

/// Acquisition channels: tag, weight, and the cost range (`None` for a channel that
/// costs nothing per customer).
pub(crate) const CHANNELS: &[(&str, u32, CostRange)] = &[
    ("organic-search", 26, None),
    ("word-of-mouth", 18, None),
    ("referral", 12, Some((5, 20))),
    ("google-ads", 14, Some((8, 60))),
    ("instagram", 12, Some((4, 35))),
    ("newsletter", 6, Some((1, 5))),
    ("trade-fair", 6, Some((40, 180))),
    ("marketplace", 6, Some((3, 15))),
];

/// Customer tags (besides the ones the generator derives from behaviour).
pub(crate) const TAGS: &[(&str, u32)] = &[
    ("newsletter", 30),
    ("gift-buyer", 8),
    ("local", 12),
    ("eco", 7),
    ("wholesale", 2),
    ("press", 1),
    ("trade-fair-2024", 4),
    ("beta-tester", 2),
    ("prefers-phone", 5),
];

/// Interests (psychographic profile).
pub(crate) const INTERESTS: &[&str] = &[
    "cooking",
    "outdoor",
    "design",
    "sustainability",
    "tea",
    "coffee",
    "travel",
    "crafts",
    "music",
    "gardening",
];

/// Company names (for business customers) and their industry.
pub(crate) const COMPANIES: &[(&str, &str)] = &[
    ("Café Morgenrot", "hospitality"),
    ("Buchhandlung Seitenweise", "retail"),
    ("Studio Nord", "design"),
    ("Praxis am Park", "health"),
    ("Hofladen Lindenhof", "agriculture"),
    ("Kanzlei Brandt & Partner", "legal"),
    ("Weinhandel Rebstock", "retail"),
    ("Atelier Blau", "design"),
    ("Hotel Seeblick", "hospitality"),
    ("Bäckerei Körnchen", "food"),
    ("Tischlerei Holzwerk", "crafts"),
    ("Yoga Raum", "health"),
];

/// What is sold: a description for purchases.
pub(crate) const PRODUCTS: &[&str] = &[
    "Handmade ceramic mug",
    "Tea sampler, 12 sorts",
    "Linen apron",
    "Gift voucher",
    "Workshop seat: pottery basics",
    "Beeswax candle set",
    "Notebook, A5 dotted",
    "Coffee, single origin, 1 kg",
    "Serving bowl, large",
    "Repair service",
    "Custom engraving",
    "Subscription box (monthly)",
    "Shipping upgrade",
    "Spare lid",
    "Online course: glazing",
];

/// Deal titles.
pub(crate) const DEAL_TITLES: &[&str] = &[
    "Corporate gifts for year-end",
    "Tableware for café refit",
    "Team workshop",
    "Wholesale order spring collection",
    "Custom mugs with logo",
    "Hotel room amenities",
    "Monthly supply contract",
    "Wedding table set",
];

/// Interaction summaries: (inbound, text).
pub(crate) const SUMMARIES: &[(bool, &str)] = &[
    (true, "Asked about delivery times"),
    (true, "Question about a missing parcel"),
    (true, "Wants a custom colour"),
    (true, "Asked for an invoice copy"),
    (true, "Praised the packaging"),
    (true, "Asked whether the mug is dishwasher safe"),
    (true, "Requested a callback"),
    (false, "Sent thank-you note"),
    (false, "Followed up on the last order"),
    (false, "Invited to the autumn workshop"),
    (false, "Offered a bundle discount"),
    (false, "Confirmed the appointment"),
    (false, "Checked in after the repair"),
    (false, "Sent the new catalogue"),
];

/// Service request subjects by kind: (kind index: 0 feedback, 1 question, 2 complaint).
pub(crate) const SUBJECTS: &[(u8, &str)] = &[
    (0, "Suggestion: gift wrapping option"),
    (0, "Lovely workshop, thank you"),
    (0, "Idea for a new glaze colour"),
    (1, "Can I change my delivery address?"),
    (1, "Is the voucher still valid?"),
    (1, "How do I care for the linen?"),
    (1, "Do you ship to Switzerland?"),
    (2, "Parcel arrived damaged"),
    (2, "Wrong item delivered"),
    (2, "Charged twice"),
    (2, "Order is late"),
    (2, "Crack in the glaze"),
];

/// Survey comments: (minimum NPS-like mood 0..=2, text).
pub(crate) const COMMENTS: &[(u8, &str)] = &[
    (2, "Wonderful quality, will order again!"),
    (2, "Fast and friendly."),
    (2, "Great gift, my mother loved it."),
    (1, "Good, but shipping took a while."),
    (1, "Fine overall."),
    (0, "The parcel was damaged."),
    (0, "Too expensive for what it is."),
    (0, "Nobody answered my email for a week."),
];

/// Refund reasons.
pub(crate) const REFUND_REASONS: &[&str] = &[
    "Returned unused",
    "Damaged in transit",
    "Goodwill",
    "Wrong item",
    "Cancelled before shipping",
];

/// Follow-up task titles.
pub(crate) const FOLLOW_UPS: &[&str] = &[
    "Ask how the first order went",
    "Send care instructions",
    "Call about the quote",
    "Check in after the workshop",
    "Offer a refill",
];

#[cfg(test)]
mod tests {
    use super::*;
    use solocrm_core::{CountryCode, Email, FreeText, Label, PersonName, Tag};

    #[test]
    fn every_table_entry_is_valid_for_its_type() {
        for (name, ascii) in FIRST_NAMES.iter().chain(LAST_NAMES) {
            assert!(PersonName::parse(name).is_ok(), "{name}");
            assert!(
                ascii.bytes().all(|b| b.is_ascii_lowercase()),
                "{ascii} must be lower-case ASCII letters"
            );
        }
        for (domain, _) in DOMAINS {
            assert!(Email::parse(&format!("a@{domain}")).is_ok(), "{domain}");
        }
        for c in COUNTRIES {
            assert!(CountryCode::parse(c.code).is_ok(), "{}", c.code);
            assert!(!c.cities.is_empty());
            for (city, region) in c.cities {
                assert!(Label::parse(city).is_ok() && Label::parse(region).is_ok());
            }
        }
        for (t, _, _) in CHANNELS {
            assert_eq!(Tag::parse(t).map(Tag::into_inner).as_deref(), Ok(*t));
        }
        for t in TAGS.iter().map(|(t, _)| t).chain(INTERESTS) {
            assert_eq!(Tag::parse(t).map(Tag::into_inner).as_deref(), Ok(*t));
        }
        let labels = COMPANIES
            .iter()
            .flat_map(|(c, i)| [*c, *i])
            .chain(DEAL_TITLES.iter().copied())
            .chain(SUBJECTS.iter().map(|(_, s)| *s))
            .chain(FOLLOW_UPS.iter().copied());
        for l in labels {
            assert!(Label::parse(l).is_ok(), "{l}");
        }
        for (_, t) in SUMMARIES {
            assert!(FreeText::parse(t).is_ok());
        }
        assert!(PRODUCTS.iter().all(|p| FreeText::parse(p).is_ok()));
    }
}
