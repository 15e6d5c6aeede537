//! The other names a header may give a column: Chinese (simplified and traditional)
//! as Chinese spreadsheets write them, and a few English spellings. Documented in
//! `docs/cli.md` ("Import and export").
//!
//! A column's own name matches ignoring case and surrounding spaces; so do the
//! English aliases; a Chinese alias matches exactly, after trimming. An alias only
//! names a column the file's dataset has: `备注` is a purchase's description, a
//! survey answer's comment and a customer's notes.

/// The aliases of a customers file's columns.
const CUSTOMERS: &[(&str, &[&str])] = &[
    (
        "name",
        &[
            "姓名",
            "名字",
            "名称",
            "客户",
            "客户名",
            "客户名称",
            "客户姓名",
            "联系人",
            "名稱",
            "客戶",
            "客戶名",
            "客戶名稱",
            "客戶姓名",
            "聯繫人",
            "聯絡人",
        ],
    ),
    (
        "reference",
        &[
            "编号",
            "客户编号",
            "客户代码",
            "会员号",
            "会员编号",
            "編號",
            "客戶編號",
            "客戶代碼",
            "會員號",
            "會員編號",
            "ref",
        ],
    ),
    ("customer", &["客户键", "客戶鍵"]),
    (
        "company",
        &[
            "公司",
            "公司名称",
            "单位",
            "工作单位",
            "企业",
            "公司名稱",
            "單位",
            "工作單位",
            "企業",
            "organization",
            "organisation",
        ],
    ),
    (
        "region",
        &[
            "省份", "省", "地区", "省/市", "州/省", "地區", "state", "province",
        ],
    ),
    ("city", &["城市", "所在城市", "市", "town"]),
    (
        "cost",
        &[
            "获客成本",
            "获客费用",
            "成本",
            "獲客成本",
            "獲客費用",
            "acquisition cost",
        ],
    ),
    (
        "stage",
        &[
            "阶段",
            "生命周期",
            "客户阶段",
            "階段",
            "客戶階段",
            "lifecycle stage",
        ],
    ),
    ("notes", &["备注", "備註", "说明", "說明", "note"]),
    ("birth_year", &["出生年份", "出生年", "birth year"]),
    ("gender", &["性别", "性別", "sex"]),
    ("income_band", &["收入", "收入水平", "收入水準", "income"]),
    ("industry", &["行业", "职业", "行業", "職業", "profession"]),
    (
        "interests",
        &["兴趣", "爱好", "兴趣爱好", "興趣", "愛好", "興趣愛好"],
    ),
    ("lifestyle", &["生活方式"]),
    ("values", &["价值观", "價值觀"]),
    (
        "attributes",
        &["属性", "自定义属性", "屬性", "自訂屬性", "自定義屬性"],
    ),
    (
        "campaign",
        &[
            "营销活动",
            "活动名称",
            "推广活动",
            "来源活动",
            "營銷活動",
            "行銷活動",
            "活動名稱",
            "推廣活動",
            "來源活動",
            "campaign name",
        ],
    ),
];

/// The aliases of a purchases or surveys file's columns.
const ACTIVITY: &[(&str, &[&str])] = &[
    (
        "customer",
        &[
            "客户",
            "客户名称",
            "客户编号",
            "客户代码",
            "顾客",
            "会员",
            "会员号",
            "客戶",
            "客戶名稱",
            "客戶編號",
            "客戶代碼",
            "顧客",
            "會員",
            "會員號",
        ],
    ),
    (
        "date",
        &[
            "日期",
            "时间",
            "下单时间",
            "下单日期",
            "订单日期",
            "订单时间",
            "购买日期",
            "购买时间",
            "交易日期",
            "交易时间",
            "付款时间",
            "支付时间",
            "提交时间",
            "填写时间",
            "時間",
            "下單時間",
            "下單日期",
            "訂單日期",
            "訂單時間",
            "購買日期",
            "購買時間",
            "交易時間",
            "付款時間",
            "支付時間",
            "提交時間",
            "填寫時間",
        ],
    ),
    (
        "amount",
        &[
            "金额",
            "订单金额",
            "实付金额",
            "支付金额",
            "付款金额",
            "总金额",
            "消费金额",
            "金額",
            "訂單金額",
            "實付金額",
            "支付金額",
            "付款金額",
            "總金額",
            "消費金額",
        ],
    ),
    ("currency", &["币种", "货币", "幣種", "貨幣", "幣別"]),
    (
        "reference",
        &[
            "订单号",
            "单号",
            "订单编号",
            "流水号",
            "交易号",
            "訂單號",
            "單號",
            "訂單編號",
            "流水號",
            "交易號",
            "order",
            "order id",
            "order number",
        ],
    ),
    (
        "description",
        &[
            "描述",
            "商品",
            "商品名称",
            "产品",
            "说明",
            "备注",
            "商品名稱",
            "產品",
            "說明",
            "備註",
        ],
    ),
    (
        "sku",
        &[
            "商品编码",
            "商品编号",
            "货号",
            "产品编码",
            "商品編碼",
            "商品編號",
            "貨號",
            "產品編碼",
            "item code",
        ],
    ),
    ("quantity", &["数量", "购买数量", "數量", "購買數量", "qty"]),
    (
        "unit_price",
        &[
            "单价",
            "商品单价",
            "單價",
            "商品單價",
            "unit price",
            "price",
        ],
    ),
    (
        "line_discount",
        &[
            "折扣",
            "折扣金额",
            "优惠金额",
            "优惠",
            "折扣金額",
            "優惠金額",
            "優惠",
            "discount",
            "line discount",
        ],
    ),
    (
        "kind",
        &["类型", "问卷类型", "調查類型", "類型", "問卷類型"],
    ),
    ("score", &["分数", "评分", "得分", "分數", "評分"]),
    (
        "comment",
        &[
            "评论", "评价", "意见", "留言", "备注", "評論", "評價", "意見", "備註",
        ],
    ),
];

/// Aliases every dataset shares, for the columns it has.
const COMMON: &[(&str, &[&str])] = &[
    (
        "email",
        &[
            "邮箱",
            "电子邮件",
            "电子邮箱",
            "邮件",
            "邮箱地址",
            "郵箱",
            "電子郵件",
            "電子郵箱",
            "電郵",
            "郵件",
            "e-mail",
            "mail",
        ],
    ),
    (
        "phone",
        &[
            "电话",
            "手机",
            "手机号",
            "手机号码",
            "电话号码",
            "联系电话",
            "電話",
            "手機",
            "手機號",
            "手機號碼",
            "電話號碼",
            "聯絡電話",
            "聯繫電話",
            "mobile",
            "telephone",
            "tel",
        ],
    ),
    (
        "birthday",
        &[
            "生日",
            "出生日期",
            "出生年月日",
            "birth date",
            "date of birth",
        ],
    ),
    ("country", &["国家", "国家/地区", "國家", "國家/地區"]),
    ("tags", &["标签", "標籤", "標簽", "tag"]),
    (
        "channel",
        &[
            "渠道",
            "来源",
            "来源渠道",
            "获客渠道",
            "來源",
            "來源渠道",
            "獲客渠道",
            "管道",
        ],
    ),
];

/// The column of `known` that the header cell `raw` names, by its own name or an
/// alias.
pub(super) fn column(raw: &str, known: &[&'static str]) -> Option<&'static str> {
    let name = raw.trim().to_lowercase();
    if let Some(k) = known.iter().find(|k| **k == name) {
        return Some(k);
    }
    let own = if known.contains(&"name") {
        CUSTOMERS
    } else {
        ACTIVITY
    };
    own.iter()
        .chain(COMMON)
        .filter(|(_, aliases)| aliases.contains(&name.as_str()))
        .find_map(|(column, _)| known.iter().find(|k| *k == column).copied())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exchange::Dataset;

    #[test]
    fn aliases_name_only_columns_of_their_dataset() {
        let customers = Dataset::Customers.columns();
        let purchases = Dataset::Purchases.columns();
        let surveys = Dataset::Surveys.columns();
        assert_eq!(column(" 姓名 ", customers), Some("name"));
        assert_eq!(column("電子郵件", customers), Some("email"));
        assert_eq!(column("E-Mail", customers), Some("email"));
        assert_eq!(column(" EMAIL ", customers), Some("email"));
        assert_eq!(column("客户", customers), Some("name"));
        assert_eq!(column("客户", purchases), Some("customer"));
        assert_eq!(column("客户编号", customers), Some("reference"));
        assert_eq!(column("客户编号", purchases), Some("customer"));
        assert_eq!(column("订单号", purchases), Some("reference"));
        assert_eq!(column("金額", purchases), Some("amount"));
        assert_eq!(column("下单时间", purchases), Some("date"));
        assert_eq!(column("备注", purchases), Some("description"));
        assert_eq!(column("备注", surveys), Some("comment"));
        assert_eq!(column("备注", customers), Some("notes"));
        assert_eq!(column("金额", surveys), None);
        assert_eq!(column("金额", customers), None);
        assert_eq!(column("城市", customers), Some("city"));
        assert_eq!(column("城市", purchases), None);
        assert_eq!(column("公司", customers), Some("company"));
        assert_eq!(column("獲客成本", customers), Some("cost"));
        assert_eq!(column("性別", customers), Some("gender"));
        let purchase_import = Dataset::Purchases.optional();
        assert_eq!(column("商品编码", purchase_import), Some("sku"));
        assert_eq!(column("數量", purchase_import), Some("quantity"));
        assert_eq!(column("单价", purchase_import), Some("unit_price"));
        assert_eq!(column("折扣", purchase_import), Some("line_discount"));
        assert_eq!(column("数量", surveys), None);
        let customer_import =
            [Dataset::Customers.required(), Dataset::Customers.optional()].concat();
        assert_eq!(column("营销活动", &customer_import), Some("campaign"));
        assert_eq!(column("行銷活動", &customer_import), Some("campaign"));
        assert_eq!(
            column(" Campaign Name ", &customer_import),
            Some("campaign")
        );
        // A bare 活动 is often an activity or event, not a campaign: unknown.
        assert_eq!(column("活动", &customer_import), None);
        assert_eq!(column("活动", customers), None);
        assert_eq!(column("活动", purchase_import), None);
    }

    #[test]
    fn every_alias_names_a_real_column_and_no_alias_is_ambiguous() {
        let all: Vec<&str> = Dataset::ALL
            .iter()
            .flat_map(|d| d.columns().iter().chain(d.optional()))
            .copied()
            .collect();
        for table in [CUSTOMERS, ACTIVITY] {
            let mut seen = std::collections::HashSet::new();
            for (column, aliases) in table.iter().chain(COMMON) {
                assert!(all.contains(column), "{column}");
                for alias in *aliases {
                    assert_eq!(alias.trim().to_lowercase(), *alias, "{alias}");
                    // `备注` is both a description and a comment: never in one file.
                    if *alias != "备注" && *alias != "備註" {
                        assert!(seen.insert(*alias), "{alias} twice");
                    }
                }
            }
        }
    }
}
