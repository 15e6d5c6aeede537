//! Fixed word lists the generator draws from, one set per [`Locale`]. Every entry is
//! valid for the type it ends up in (names, labels, tags); a unit test checks that.

use super::Locale;

/// Everything the generator writes in words, for one locale.
pub(crate) struct Tables {
    /// Given names with an ASCII spelling for email addresses.
    pub first_names: &'static [(&'static str, &'static str)],
    /// Family names with an ASCII spelling for email addresses.
    pub last_names: &'static [(&'static str, &'static str)],
    /// Whether a full name is the family name then the given name, without a space
    /// (张伟), rather than the given name, a space and the family name (Anna Weber).
    pub family_first: bool,
    /// Whether phone numbers are Chinese mobile numbers (`+86 1xx xxxx xxxx`) rather
    /// than the country's prefix and a local number.
    pub mobile_numbers: bool,
    /// Mail domains with their weights.
    pub domains: &'static [(&'static str, u32)],
    /// Where customers live.
    pub countries: &'static [Country],
    /// Acquisition channels.
    pub channels: &'static [(&'static str, u32, CostRange)],
    /// Company names and industries.
    pub companies: &'static [(&'static str, &'static str)],
    /// Product descriptions.
    pub products: &'static [&'static str],
    /// Deal titles.
    pub deal_titles: &'static [&'static str],
    /// Interaction summaries.
    pub summaries: &'static [(bool, &'static str)],
    /// How often each interaction channel is used, in the order email, phone, chat,
    /// social, in person, other.
    pub interaction_weights: [u32; 6],
    /// Service request subjects.
    pub subjects: &'static [(u8, &'static str)],
    /// Survey comments.
    pub comments: &'static [(u8, &'static str)],
    /// Refund reasons.
    pub refund_reasons: &'static [&'static str],
    /// Follow-up task titles.
    pub follow_ups: &'static [&'static str],
    /// Customer notes.
    pub notes: &'static [&'static str],
    /// Single phrases: the note of a manual move to lead, the follow-up of a quote, the
    /// birthday task, the monthly newsletter task, the yearly stock-take, the fallback
    /// product, deal title and follow-up.
    pub phrases: Phrases,
}

/// Single phrases the generator writes (see [`Tables::phrases`]).
pub(crate) struct Phrases {
    pub asked_for_catalogue: &'static str,
    pub call_about_quote: &'static str,
    pub birthday_card: &'static str,
    pub newsletter: &'static str,
    pub stock_take: &'static str,
    pub any_product: &'static str,
    pub any_deal: &'static str,
    pub any_follow_up: &'static str,
}

/// The tables of `locale`.
pub(crate) fn tables(locale: Locale) -> &'static Tables {
    match locale {
        Locale::En => &EN,
        Locale::ZhCn => &ZH_CN,
    }
}

/// The European shop (the original demo).
pub(crate) static EN: Tables = Tables {
    first_names: FIRST_NAMES,
    last_names: LAST_NAMES,
    family_first: false,
    mobile_numbers: false,
    domains: DOMAINS,
    countries: COUNTRIES,
    channels: CHANNELS,
    companies: COMPANIES,
    products: PRODUCTS,
    deal_titles: DEAL_TITLES,
    summaries: SUMMARIES,
    interaction_weights: [40, 20, 15, 10, 10, 5],
    subjects: SUBJECTS,
    comments: COMMENTS,
    refund_reasons: REFUND_REASONS,
    follow_ups: FOLLOW_UPS,
    notes: &[
        "Prefers pickup on Saturdays.",
        "Allergic to lavender.",
        "Met at the Christmas market.\nAsked for a catalogue.",
        "Pays by invoice.",
    ],
    phrases: Phrases {
        asked_for_catalogue: "asked for the catalogue",
        call_about_quote: "Call about the quote",
        birthday_card: "Send a birthday card",
        newsletter: "Send the monthly newsletter",
        stock_take: "Stock-take",
        any_product: "Gift voucher",
        any_deal: "Order",
        any_follow_up: "Follow up",
    },
};

/// A Chinese shop: Chinese names, cities, products and phrases; WeChat first among the
/// channels (as the acquisition channel `wechat`, and as chat among the interaction
/// channels, which have no WeChat of their own).
pub(crate) static ZH_CN: Tables = Tables {
    first_names: ZH_GIVEN_NAMES,
    last_names: ZH_FAMILY_NAMES,
    family_first: true,
    mobile_numbers: true,
    domains: ZH_DOMAINS,
    countries: ZH_COUNTRIES,
    channels: ZH_CHANNELS,
    companies: ZH_COMPANIES,
    products: ZH_PRODUCTS,
    deal_titles: ZH_DEAL_TITLES,
    summaries: ZH_SUMMARIES,
    interaction_weights: [10, 20, 45, 10, 10, 5],
    subjects: ZH_SUBJECTS,
    comments: ZH_COMMENTS,
    refund_reasons: ZH_REFUND_REASONS,
    follow_ups: ZH_FOLLOW_UPS,
    notes: &[
        "周六到店自取。",
        "对薰衣草过敏。",
        "在年货市集认识。\n要了一份产品目录。",
        "月结，需开增值税发票。",
    ],
    phrases: Phrases {
        asked_for_catalogue: "索要产品目录",
        call_about_quote: "电话沟通报价",
        birthday_card: "发送生日祝福",
        newsletter: "发布每月公众号推文",
        stock_take: "年终盘点",
        any_product: "礼品卡",
        any_deal: "订单",
        any_follow_up: "跟进",
    },
};

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

/// Chinese given names with their pinyin for email addresses.
pub(crate) const ZH_GIVEN_NAMES: &[(&str, &str)] = &[
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("丽", "li"),
    ("强", "qiang"),
    ("磊", "lei"),
    ("军", "jun"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
    ("娟", "juan"),
    ("涛", "tao"),
    ("明", "ming"),
    ("超", "chao"),
    ("秀英", "xiuying"),
    ("霞", "xia"),
    ("平", "ping"),
    ("刚", "gang"),
    ("桂英", "guiying"),
    ("欣怡", "xinyi"),
    ("子涵", "zihan"),
    ("浩然", "haoran"),
    ("梓萱", "zixuan"),
    ("宇轩", "yuxuan"),
    ("雨桐", "yutong"),
    ("思远", "siyuan"),
    ("佳琪", "jiaqi"),
    ("俊杰", "junjie"),
    ("晓燕", "xiaoyan"),
    ("建华", "jianhua"),
    ("文博", "wenbo"),
    ("诗涵", "shihan"),
    ("一鸣", "yiming"),
];

/// Chinese family names (the most common ones) with their pinyin.
pub(crate) const ZH_FAMILY_NAMES: &[(&str, &str)] = &[
    ("王", "wang"),
    ("李", "li"),
    ("张", "zhang"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("黄", "huang"),
    ("赵", "zhao"),
    ("吴", "wu"),
    ("周", "zhou"),
    ("徐", "xu"),
    ("孙", "sun"),
    ("马", "ma"),
    ("朱", "zhu"),
    ("胡", "hu"),
    ("郭", "guo"),
    ("何", "he"),
    ("林", "lin"),
    ("高", "gao"),
    ("罗", "luo"),
    ("郑", "zheng"),
    ("梁", "liang"),
    ("谢", "xie"),
    ("宋", "song"),
    ("唐", "tang"),
    ("许", "xu"),
    ("韩", "han"),
    ("冯", "feng"),
    ("邓", "deng"),
    ("曹", "cao"),
    ("欧阳", "ouyang"),
    ("司马", "sima"),
];

/// Mail domains in China.
pub(crate) const ZH_DOMAINS: &[(&str, u32)] = &[
    ("qq.com", 38),
    ("163.com", 20),
    ("126.com", 8),
    ("foxmail.com", 6),
    ("sina.com", 5),
    ("outlook.com", 6),
    ("icloud.com", 6),
    ("aliyun.com", 4),
    ("gmail.com", 3),
    ("yeah.net", 2),
    ("sohu.com", 2),
];

/// Where the customers of the Chinese shop live: mainland China (phone numbers are
/// mobile numbers, see [`Tables::mobile_numbers`]).
pub(crate) const ZH_COUNTRIES: &[Country] = &[Country {
    code: "CN",
    weight: 100,
    phone: "+86",
    cities: &[
        ("上海", "上海"),
        ("北京", "北京"),
        ("广州", "广东"),
        ("深圳", "广东"),
        ("杭州", "浙江"),
        ("成都", "四川"),
        ("南京", "江苏"),
        ("苏州", "江苏"),
        ("武汉", "湖北"),
        ("西安", "陕西"),
        ("重庆", "重庆"),
        ("厦门", "福建"),
        ("长沙", "湖南"),
        ("青岛", "山东"),
    ],
}];

/// Acquisition channels of the Chinese shop; costs in yuan.
pub(crate) const ZH_CHANNELS: &[(&str, u32, CostRange)] = &[
    ("wechat", 30, Some((5, 60))),
    ("xiaohongshu", 16, Some((10, 120))),
    ("douyin", 12, Some((15, 200))),
    ("word-of-mouth", 14, None),
    ("referral", 10, Some((20, 80))),
    ("marketplace", 8, Some((10, 60))),
    ("organic-search", 6, None),
    ("trade-fair", 4, Some((200, 900))),
];

/// Company names (for business customers) and their industry.
pub(crate) const ZH_COMPANIES: &[(&str, &str)] = &[
    ("晨光咖啡馆", "hospitality"),
    ("墨香书店", "retail"),
    ("北岸设计工作室", "design"),
    ("仁和诊所", "health"),
    ("青山生态农场", "agriculture"),
    ("明理律师事务所", "legal"),
    ("醉月酒行", "retail"),
    ("蓝调艺术工作室", "design"),
    ("湖景酒店", "hospitality"),
    ("麦香烘焙坊", "food"),
    ("匠心木作", "crafts"),
    ("静心瑜伽馆", "health"),
];

/// What the Chinese shop sells.
pub(crate) const ZH_PRODUCTS: &[&str] = &[
    "手工陶瓷马克杯",
    "茶叶品鉴套装（12种）",
    "西湖龙井 250克",
    "亚麻围裙",
    "礼品卡",
    "陶艺入门课程名额",
    "蜂蜡香薰蜡烛套装",
    "A5 点阵笔记本",
    "单一产地咖啡豆 1 公斤",
    "大号青瓷餐碗",
    "宜兴紫砂壶",
    "维修服务",
    "定制刻字",
    "月度订阅礼盒",
    "顺丰加急配送",
    "中秋月饼礼盒",
    "在线课程：上釉技法",
];

/// Deal titles of the Chinese shop.
pub(crate) const ZH_DEAL_TITLES: &[&str] = &[
    "年终企业礼品",
    "咖啡馆翻新餐具",
    "团队陶艺工作坊",
    "春季新品批发订单",
    "定制 logo 马克杯",
    "酒店客房用品",
    "月度供货合同",
    "中秋礼盒团购",
];

/// Interaction summaries of the Chinese shop: (inbound, text).
pub(crate) const ZH_SUMMARIES: &[(bool, &str)] = &[
    (true, "咨询发货时间"),
    (true, "询问丢失的包裹"),
    (true, "想要定制颜色"),
    (true, "索要发票"),
    (true, "称赞包装精美"),
    (true, "询问杯子能否放洗碗机"),
    (true, "微信留言，请求回电"),
    (false, "发送感谢信"),
    (false, "跟进上次订单"),
    (false, "邀请参加秋季工作坊"),
    (false, "提供组合优惠"),
    (false, "确认预约时间"),
    (false, "维修后回访"),
    (false, "通过微信发送新品目录"),
];

/// Service request subjects of the Chinese shop by kind (0 feedback, 1 question, 2
/// complaint).
pub(crate) const ZH_SUBJECTS: &[(u8, &str)] = &[
    (0, "建议：增加礼品包装选项"),
    (0, "工作坊很棒，谢谢"),
    (0, "关于新釉色的想法"),
    (1, "可以修改收货地址吗？"),
    (1, "礼品卡还有效吗？"),
    (1, "亚麻制品怎么保养？"),
    (1, "可以寄到香港吗？"),
    (2, "包裹到货时已损坏"),
    (2, "发错货了"),
    (2, "重复扣款"),
    (2, "订单迟迟未到"),
    (2, "釉面有裂纹"),
];

/// Survey comments of the Chinese shop: (minimum mood 0..=2, text).
pub(crate) const ZH_COMMENTS: &[(u8, &str)] = &[
    (2, "质量很好，还会再买！"),
    (2, "发货快，服务好。"),
    (2, "送给妈妈的礼物，她很喜欢。"),
    (1, "不错，就是物流慢了点。"),
    (1, "总体还可以。"),
    (0, "包裹破损了。"),
    (0, "性价比不高。"),
    (0, "发邮件一周都没人回复。"),
];

/// Refund reasons of the Chinese shop.
pub(crate) const ZH_REFUND_REASONS: &[&str] = &[
    "未使用，退货",
    "运输途中损坏",
    "善意补偿",
    "发错商品",
    "发货前取消",
];

/// Follow-up task titles of the Chinese shop.
pub(crate) const ZH_FOLLOW_UPS: &[&str] = &[
    "询问首单体验",
    "发送保养说明",
    "电话沟通报价",
    "工作坊后回访",
    "提供补货优惠",
];

#[cfg(test)]
mod tests {
    use super::*;
    use solocrm_core::{CountryCode, Email, FreeText, Label, PersonName, Tag};

    fn check(t: &Tables) {
        for (name, ascii) in t.first_names.iter().chain(t.last_names) {
            assert!(PersonName::parse(name).is_ok(), "{name}");
            assert!(
                ascii.bytes().all(|b| b.is_ascii_lowercase()),
                "{ascii} must be lower-case ASCII letters"
            );
        }
        for (domain, _) in t.domains {
            assert!(Email::parse(&format!("a@{domain}")).is_ok(), "{domain}");
        }
        for c in t.countries {
            assert!(CountryCode::parse(c.code).is_ok(), "{}", c.code);
            assert!(!c.cities.is_empty());
            for (city, region) in c.cities {
                assert!(Label::parse(city).is_ok() && Label::parse(region).is_ok());
            }
        }
        for (c, _, _) in t.channels {
            assert_eq!(Tag::parse(c).map(Tag::into_inner).as_deref(), Ok(*c));
        }
        let p = &t.phrases;
        let labels = t
            .companies
            .iter()
            .flat_map(|(c, i)| [*c, *i])
            .chain(t.deal_titles.iter().copied())
            .chain(t.subjects.iter().map(|(_, s)| *s))
            .chain(t.follow_ups.iter().copied())
            .chain([
                p.asked_for_catalogue,
                p.call_about_quote,
                p.birthday_card,
                p.newsletter,
                p.stock_take,
                p.any_deal,
                p.any_follow_up,
            ]);
        for l in labels {
            assert!(Label::parse(l).is_ok(), "{l}");
        }
        for (_, s) in t.summaries {
            assert!(FreeText::parse(s).is_ok());
        }
        let texts = t
            .products
            .iter()
            .chain(t.refund_reasons)
            .chain(t.notes)
            .chain(t.comments.iter().map(|(_, c)| c))
            .chain([&p.any_product]);
        for x in texts {
            assert!(FreeText::parse(x).is_ok(), "{x}");
        }
        for kind in 0..3 {
            assert!(t.subjects.iter().any(|(k, _)| *k == kind));
        }
        for mood in 0..3 {
            assert!(t.comments.iter().any(|(m, _)| *m == mood));
        }
        for inbound in [true, false] {
            assert!(t.summaries.iter().any(|(d, _)| *d == inbound));
        }
    }

    #[test]
    fn every_table_entry_is_valid_for_its_type() {
        check(&EN);
        check(&ZH_CN);
        for t in TAGS.iter().map(|(t, _)| t).chain(INTERESTS) {
            assert_eq!(Tag::parse(t).map(Tag::into_inner).as_deref(), Ok(*t));
        }
    }

    #[test]
    fn the_chinese_tables_are_chinese() {
        let cjk = |s: &str| s.chars().all(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
        for (name, _) in ZH_CN.first_names.iter().chain(ZH_CN.last_names) {
            assert!(cjk(name), "{name}");
        }
        assert!(ZH_CN.countries.iter().all(|c| c.code == "CN"));
        for (city, region) in ZH_CN.countries.iter().flat_map(|c| c.cities) {
            assert!(cjk(city) && cjk(region), "{city} {region}");
        }
        assert!(ZH_CN.channels.iter().any(|(c, _, _)| *c == "wechat"));
        assert!(ZH_CN.family_first && ZH_CN.mobile_numbers);
    }
}
