//! The web workspace's two languages: English and Simplified Chinese (`zh-CN`).
//!
//! A page's language is, in order: `?lang=` on the request (which also sets the
//! `solocrm_lang` cookie, the switch in every page's header), the cookie, the browser's
//! `Accept-Language` (by its weights; traditional Chinese gets English, as in the CLI),
//! and English. The texts are one table, [`MESSAGES`], of `(key, English, Chinese)`;
//! the wording follows the CLI's catalogues (`crates/cli/src/i18n`) where the CLI says
//! the same thing. A unit test holds every key the source uses to an entry of the table.

use std::collections::HashMap;
use std::sync::LazyLock;

use solocrm_core::care::CareReason;

/// A language of the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English, the default.
    En,
    /// Simplified Chinese.
    ZhCn,
}

impl Lang {
    /// The language tag, for `<html lang>`, the cookie and `?lang=`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }

    /// The language a tag names (`en`, `en-GB`, `zh`, `zh-CN`, `zh-Hans`, `zh-SG`),
    /// `None` for anything else (traditional Chinese included).
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let tag = tag.trim().to_ascii_lowercase().replace('_', "-");
        let mut parts = tag.split('-');
        match parts.next()? {
            "en" => Some(Lang::En),
            "zh" => match parts.next() {
                None | Some("cn" | "sg" | "hans" | "my") => Some(Lang::ZhCn),
                Some(_) => None,
            },
            _ => None,
        }
    }

    /// The first language of an `Accept-Language` header that the workspace speaks,
    /// by weight (`zh-CN,zh;q=0.9,en;q=0.8` is Chinese); `None` if it names none.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut ranges: Vec<(u32, usize, &str)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut it = part.split(';');
                let tag = it.next()?.trim();
                let q = it
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .map_or(1000, |q| {
                        q.trim()
                            .parse::<f32>()
                            .map_or(0, |q| (q.clamp(0.0, 1.0) * 1000.0) as u32)
                    });
                (q > 0).then_some((q, i, tag))
            })
            .collect();
        ranges.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        ranges
            .into_iter()
            .find_map(|(_, _, tag)| Lang::from_tag(tag))
    }

    /// The text of `key` in this language (the key itself if the table lacks it, which
    /// a unit test rules out for every key the source names).
    pub fn t(self, key: &str) -> &'static str {
        self.text(key).unwrap_or("?")
    }

    /// The text of `key` in this language, if the table has it: one hash look-up
    /// ([`BY_KEY`]), not a scan of the table (a care list of thousands of rows asks
    /// for a few texts per row).
    fn text(self, key: &str) -> Option<&'static str> {
        BY_KEY.get(key).map(|&(en, zh)| match self {
            Lang::En => en,
            Lang::ZhCn => zh,
        })
    }

    /// [`Lang::t`] with its `{name}` arguments filled in.
    ///
    /// One pass over the text: an argument's value is written as it is, so a value
    /// holding `{name}` (a customer called so) is not filled in again; a `{…}` that
    /// names no argument stays as written.
    pub fn f(self, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
        use std::fmt::Write as _;
        let template = self.t(key);
        let mut text = String::with_capacity(template.len() + 16 * args.len());
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            text.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let value = after.find('}').and_then(|close| {
                let name = &after[..close];
                args.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| (*v, close))
            });
            match value {
                Some((v, close)) => {
                    let _ = write!(text, "{v}");
                    rest = &after[close + 1..];
                }
                None => {
                    text.push('{');
                    rest = after;
                }
            }
        }
        text.push_str(rest);
        text
    }

    /// The label of a name from one of the core's lists: `list` is the key's prefix
    /// (`stage`, `deal`, `channel` …), `name` the core's name; unknown names are shown
    /// as they are.
    pub fn label(self, list: &str, name: &'static str) -> &'static str {
        self.text(&format!("{list}.{name}")).unwrap_or(name)
    }

    /// Why a customer needs care, in this language.
    pub fn care_reason(self, reason: &CareReason) -> String {
        let days = |n: i64| self.f("count.day", &[("n", &n)]);
        match reason {
            CareReason::Birthday { turning: Some(n) } => {
                self.f("care.birthday_turns", &[("age", n)])
            }
            CareReason::Birthday { turning: None } => self.t("care.birthday").to_owned(),
            CareReason::Holiday { name } => self.f("care.holiday", &[("name", name)]),
            CareReason::Task {
                task_kind,
                title,
                overdue_days,
                ..
            } if *overdue_days > 0 => self.f(
                "care.task_overdue",
                &[
                    ("kind", &self.label("task", task_kind.as_str())),
                    ("title", title),
                    ("overdue", &days(*overdue_days)),
                ],
            ),
            CareReason::Task {
                task_kind, title, ..
            } => self.f(
                "care.task",
                &[
                    ("kind", &self.label("task", task_kind.as_str())),
                    ("title", title),
                ],
            ),
            CareReason::NoContact {
                days: n,
                ever_contacted: true,
            } => self.f("care.no_contact", &[("days", &days(*n))]),
            CareReason::NoContact {
                days: n,
                ever_contacted: false,
            } => self.f("care.never_contacted", &[("days", &days(*n))]),
            CareReason::AtRisk => self.t("care.at_risk").to_owned(),
        }
    }
}

/// [`MESSAGES`] by key, built on first use; the first entry of a key wins, as a scan
/// would find it (a unit test rules out a key twice).
static BY_KEY: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> =
    LazyLock::new(|| {
        let mut by_key = HashMap::with_capacity(MESSAGES.len());
        for &(key, en, zh) in MESSAGES {
            by_key.entry(key).or_insert((en, zh));
        }
        by_key
    });

/// Every text of the workspace: `(key, English, Chinese)`.
pub const MESSAGES: &[(&str, &str, &str)] = &[
    // The rules page and the calendar feed.
    ("rules.title", "Automation rules", "自动化规则"),
    ("rules.yes", "yes", "是"),
    ("rules.no", "no", "否"),
    (
        "rules.runner_off",
        "The rules do not run inside this server (--no-automation): solocrm run runs them.",
        "本服务器内不运行规则（--no-automation）：由 solocrm run 运行。",
    ),
    ("rules.name", "Rule", "规则"),
    ("rules.on", "On", "启用"),
    ("rules.builtin", "Built-in", "内置"),
    ("rules.trigger", "Trigger", "触发条件"),
    ("rules.condition", "Condition", "筛选条件"),
    ("rules.actions", "Actions", "动作"),
    ("rules.turn_off", "Turn off", "停用"),
    ("rules.turn_on", "Turn on", "启用"),
    ("rules.log", "Rule log", "规则日志"),
    (
        "rules.log_empty",
        "No rule has fired yet.",
        "尚无规则触发。",
    ),
    (
        "rules.log_shown",
        "The newest {shown} of {total} firings.",
        "共 {total} 次触发，显示最新的 {shown} 次。",
    ),
    ("rules.occurrence", "Occurrence", "触发事由"),
    ("rules.task", "Task", "任务"),
    (
        "rules.unknown",
        "No rule named {name}.",
        "没有名为 {name} 的规则。",
    ),
    (
        "rules.bad_switch",
        "A rule is switched on or off (enabled=on or off).",
        "规则只能启用或停用（enabled=on 或 off）。",
    ),
    ("privacy.title", "Personal data", "个人数据"),
    (
        "privacy.export",
        "Download everything kept about this customer (JSON)",
        "下载该客户的全部数据（JSON）",
    ),
    (
        "privacy.erase_explain",
        "Erasing removes this customer's personal data for good: name, contacts, tags, consents and every text about them. Amounts and dates stay, anonymous. This cannot be undone.",
        "删除会永久清除该客户的个人数据：姓名、联系方式、标签、同意记录以及所有相关文字。金额和日期以匿名方式保留。此操作无法撤销。",
    ),
    (
        "privacy.erase_confirm",
        "Type the customer's number, {id}, to confirm",
        "输入客户编号 {id} 以确认",
    ),
    (
        "privacy.vcard",
        "Download the contact card (vCard)",
        "下载联系人名片（vCard）",
    ),
    (
        "privacy.erase_button",
        "Erase this customer",
        "删除该客户的个人数据",
    ),
    (
        "privacy.unconfirmed",
        "Type the customer's number, {id}, to confirm the erasure; nothing was erased.",
        "请输入客户编号 {id} 以确认删除；未删除任何数据。",
    ),
    (
        "privacy.not_scrubbed",
        "The erasure is recorded, but another program holding the books open kept the old personal data in the SQLite log file. Close that program, then run solocrm checkpoint to remove it for good.",
        "删除已记录，但另一个打开账本的程序使旧的个人数据仍留在 SQLite 日志文件中。请关闭该程序，然后运行 solocrm checkpoint 将其彻底清除。",
    ),
    (
        "privacy.erased_title",
        "Customer {id} erased",
        "客户 {id} 已删除",
    ),
    ("privacy.back", "Back to the customer", "返回客户页面"),
    ("rules.add_title", "Add a rule", "添加规则"),
    (
        "rules.field_name",
        "Name (lowercase letters, digits and -)",
        "名称（小写字母、数字和 -）",
    ),
    (
        "rules.trigger_hint",
        "An event ({events}) or a time trigger, e.g. birthday:3, no_contact:60, no_contact:30:90, deal_idle:14, task_overdue:2, holiday:7.",
        "一个事件（{events}），或一个时间触发，例如 birthday:3、no_contact:60、no_contact:30:90、deal_idle:14、task_overdue:2、holiday:7。",
    ),
    (
        "rules.condition_hint",
        "Optional: the segment syntax plus the event's fields, e.g. stage = at_risk and tag = \"vip\", score <= 6, kind = complaint, amount >= 1000.",
        "可选：分群语法加上事件字段，例如 stage = at_risk and tag = \"vip\"、score <= 6、kind = complaint、amount >= 1000。",
    ),
    (
        "rules.at_column",
        "At column {column}: {error}",
        "第 {column} 列：{error}",
    ),
    ("rules.task_legend", "Create a task", "创建任务"),
    (
        "rules.task_title",
        "Task title ({name} is the customer's name; empty: no task)",
        "任务标题（{name} 代表客户姓名；留空则不建任务）",
    ),
    ("rules.task_kind", "Task kind", "任务类型"),
    (
        "rules.task_due_in",
        "Due in (business days after firing)",
        "期限（触发后的工作日数）",
    ),
    ("rules.task_priority", "Priority", "优先级"),
    ("priority.low", "low", "低"),
    ("priority.normal", "normal", "普通"),
    ("priority.high", "high", "高"),
    ("rules.other_legend", "Other actions", "其他动作"),
    ("rules.stage_action", "Move to stage", "移至阶段"),
    ("rules.no_stage", "(no move)", "（不移动）"),
    (
        "rules.tags",
        "Add tags (separated by commas)",
        "添加标签（用逗号分隔）",
    ),
    (
        "rules.untags",
        "Remove tags (separated by commas)",
        "移除标签（用逗号分隔）",
    ),
    (
        "rules.note",
        "Log a note ({name} is the customer's name)",
        "记录备注（{name} 代表客户姓名）",
    ),
    ("rules.points", "Give points", "赠送积分"),
    ("rules.state", "Starts", "初始状态"),
    ("rules.state_on", "switched on", "启用"),
    ("rules.state_off", "switched off", "停用"),
    ("rules.add_button", "Add the rule", "添加规则"),
    ("rules.save_button", "Save the rule", "保存规则"),
    ("rules.back", "Back to the rules", "返回规则列表"),
    ("rules.test", "Test", "试运行"),
    ("rules.edit", "Edit", "编辑"),
    ("rules.remove", "Remove", "删除"),
    (
        "rules.bad_number",
        "{value} is not a whole number of 0 or more.",
        "{value} 不是大于或等于 0 的整数。",
    ),
    (
        "rules.builtin_no_edit",
        "{name} is a built-in rule: it is switched on or off, not edited or removed. Turn it off and add your own.",
        "{name} 是内置规则：只能启用或停用，不能编辑或删除。可以停用它，再添加你自己的规则。",
    ),
    (
        "rules.not_a_form",
        "{name} has more actions of one kind than this form shows (two tasks, notes, stage moves or points actions); change it with: solocrm rule edit {name} --toml",
        "{name} 的同类动作多于此表单能显示的数量（两个任务、备注、阶段移动或积分动作）；请用 solocrm rule edit {name} --toml 修改。",
    ),
    ("rules.edit_title", "Edit rule {name}", "编辑规则 {name}"),
    (
        "rules.remove_title",
        "Remove rule {name}",
        "删除规则 {name}",
    ),
    (
        "rules.remove_explain",
        "The rule stops firing and leaves the list. Its log stays: it says what the rule did.",
        "规则将不再触发，并从列表中移除。它的日志会保留，记录它做过的事。",
    ),
    (
        "rules.remove_confirm",
        "Yes, remove the rule",
        "确认删除此规则",
    ),
    ("rules.cancel", "Cancel", "取消"),
    (
        "rules.remove_unconfirmed",
        "Confirm the removal with the button below.",
        "请用下面的按钮确认删除。",
    ),
    (
        "rules.test_title",
        "Dry run of {name}",
        "规则 {name} 试运行",
    ),
    (
        "rules.test_explain",
        "What the rule (on or off) would fire as of the end of this day, from where the runner stands now. Nothing is written.",
        "此规则（无论启用与否）截至当天结束时将触发什么，从运行器当前进度算起。不会写入任何数据。",
    ),
    ("rules.as_of", "As of", "截至"),
    ("rules.run_test", "Run the test", "试运行"),
    (
        "rules.would_fire",
        "Would fire {count} times.",
        "将触发 {count} 次。",
    ),
    (
        "rules.shown_first",
        "The first {shown} are shown.",
        "仅显示前 {shown} 条。",
    ),
    ("rules.why", "Why", "原因"),
    ("calendar.title", "Calendar feed", "日历订阅"),
    (
        "calendar.off",
        "This server serves no calendar feed.",
        "本服务器未提供日历订阅。",
    ),
    (
        "calendar.explain",
        "Subscribe to this address in your phone's or desktop's calendar to see open tasks and birthdays:",
        "在手机或电脑的日历中订阅此地址，即可看到未完成的任务和生日：",
    ),
    (
        "calendar.private",
        "Anyone with this address can read these dates. A new address cuts off every calendar that knew the old one.",
        "任何拥有此地址的人都能读取这些日期。生成新地址后，使用旧地址的日历将无法再读取。",
    ),
    ("calendar.regenerate", "Make a new address", "生成新地址"),
    // The analytic views: RFM, churn risk, saved segments.
    ("nav.rfm", "RFM", "RFM"),
    ("nav.churn", "Churn risk", "流失风险"),
    ("nav.segments", "Segments", "客户分群"),
    ("nav.clv", "CLV", "客户终身价值"),
    ("clv.title", "Customer lifetime value", "客户终身价值"),
    ("nav.campaigns", "Campaigns", "营销活动"),
    ("campaigns.title", "Campaigns", "营销活动"),
    (
        "campaigns.period",
        "Period (2026-11, 2026-Q4, 2026)",
        "期间（2026-11、2026-Q4、2026）",
    ),
    ("campaigns.show", "Show", "显示"),
    (
        "campaigns.explain",
        "Cost is the recorded costs attributed to a campaign; the budget is the plan beside it. Revenue is the period's purchases of its customers net of refunds; ROI = (revenue − cost) / cost.",
        "成本为归因于活动的已记录成本，预算仅作计划对照；收入为其客户在期间内的购买额减去退款；投资回报率 =（收入 − 成本）/ 成本。",
    ),
    (
        "campaigns.none",
        "No campaigns yet: add one with `solocrm campaign add`.",
        "还没有活动：用 `solocrm campaign add` 添加。",
    ),
    (
        "campaigns.bad_period",
        "'{period}' is not a month (2026-11), quarter (2026-Q4) or year (2026).",
        "“{period}”不是月份（2026-11）、季度（2026-Q4）或年份（2026）。",
    ),
    ("campaigns.name", "Campaign", "活动"),
    ("campaigns.channel", "Channel", "渠道"),
    ("campaigns.budget", "Budget", "预算"),
    ("campaigns.cost", "Cost", "成本"),
    ("campaigns.acquired", "Acquired", "获客"),
    ("campaigns.revenue", "Revenue", "收入"),
    ("campaigns.won", "Deals won", "赢单"),
    ("campaigns.by_channel", "By channel", "按渠道"),
    ("campaigns.count", "Campaigns", "活动数"),
    ("clv.model", "Model", "模型"),
    ("clv.end", "Calibration end", "校准截止日"),
    ("clv.fit", "Fit", "拟合"),
    (
        "clv.slow",
        "The model is fitted anew on each load, as solocrm clv fits it (weeks, 12-month horizon, 1 % monthly discount, margin 1); on a big book that takes a second or more.",
        "每次打开页面都会重新拟合模型，与 solocrm clv 相同（以周为单位、12 个月期限、月折现率 1%、利润率 1）；客户很多时需要一秒或更久。",
    ),
    (
        "clv.fitted",
        "{model} on {n} customers, purchases up to {end}",
        "{model}：{n} 位客户，截至 {end} 的购买",
    ),
    (
        "clv.not_fitted",
        "The model could not be fitted; the values below are historic.",
        "无法拟合模型；以下数值按历史计算。",
    ),
    ("clv.log_likelihood", "Log-likelihood", "对数似然"),
    (
        "clv.converged",
        "Converged (iterations)",
        "是否收敛（迭代次数）",
    ),
    ("clv.yes", "yes", "是"),
    ("clv.no", "no", "否"),
    ("clv.penalizer", "Penaliser", "惩罚系数"),
    (
        "clv.terms",
        "Expected purchases over {horizon} weeks after the calibration end.",
        "预期购买次数为校准截止日后 {horizon} 周内的次数。",
    ),
    (
        "clv.customers",
        "Customers by predicted value",
        "按预测价值排序的客户",
    ),
    (
        "clv.nobody",
        "Nobody bought on or before {end}: there is nothing to fit.",
        "{end} 及之前没有任何购买：无法拟合。",
    ),
    ("col.buys", "Purchases", "购买次数"),
    ("col.p_alive", "P(alive)", "存活概率"),
    ("col.expected", "Expected purchases", "预期购买次数"),
    ("col.clv", "CLV", "终身价值"),
    ("col.method", "Method", "方法"),
    (
        "error.bad_model",
        "'{model}' is not a model: bg-nbd, mbg-nbd or pareto-nbd.",
        "“{model}”不是模型：请用 bg-nbd、mbg-nbd 或 pareto-nbd。",
    ),
    ("nav.cohorts", "Cohorts", "同期群"),
    ("cohort.title", "Cohort retention", "同期群留存"),
    (
        "cohort.explain",
        "Buyers grouped by the period of their first purchase; each cell is the share of the cohort who bought again in the period after it, as of {day}, as solocrm cohort computes it.",
        "按首次购买所在周期分组的购买客户；每格是该同期群在其后第 N 个周期内再次购买的客户占比，截至 {day}，与 solocrm cohort 的计算相同。",
    ),
    (
        "cohort.heatmap_title",
        "Share of each cohort buying, by period after acquisition",
        "各同期群在获客后各周期的购买客户占比",
    ),
    (
        "cohort.table_caption",
        "Cohort size and share buying per period after acquisition",
        "同期群人数及获客后各周期的购买客户占比",
    ),
    ("cohort.none", "No buyer yet.", "尚无购买客户。"),
    ("col.cohort", "Cohort", "同期群"),
    ("col.size", "Size", "人数"),
    ("grain.month", "By month", "按月"),
    ("grain.week", "By week", "按周"),
    (
        "error.bad_grain",
        "'{by}' is not a cohort period: month or week.",
        "“{by}”不是同期群周期：请用 month 或 week。",
    ),
    (
        "group.both",
        "Pick a segment or a stage, not both.",
        "请选择分群或阶段之一，不能同时选择。",
    ),
    ("group.segment", "Segment", "分群"),
    (
        "group.unknown_segment",
        "No saved segment is named '{name}' (Segments lists the saved ones).",
        "没有名为“{name}”的已保存分群（“客户分群”页列出已保存的分群）。",
    ),
    ("group.any_segment", "All customers", "全部客户"),
    ("group.show", "Show", "显示"),
    (
        "group.only_segment",
        "Only segment {name}: {n} customers",
        "仅分群 {name}：{n} 位客户",
    ),
    (
        "group.only_stage",
        "Only stage {stage}: {n} customers",
        "仅阶段 {stage}：{n} 位客户",
    ),
    (
        "error.bad_page",
        "'{page}' is not a page number: give a whole number from 1.",
        "“{page}”不是页码：请输入从 1 起的整数。",
    ),
    (
        "error.bad_rfm",
        "'{name}' is not an RFM segment.",
        "“{name}”不是 RFM 细分。",
    ),
    (
        "error.segment_needed",
        "Name a saved segment (?segment=NAME).",
        "请指定一个已保存的分群（?segment=名称）。",
    ),
    ("rfm.title", "RFM", "RFM 分析"),
    (
        "rfm.grid_title",
        "Buyers by recency (R) and frequency-monetary (FM) score",
        "按最近购买（R）与频次-金额（FM）评分的购买客户",
    ),
    (
        "rfm.segments_caption",
        "Buyers per RFM segment",
        "各 RFM 细分的购买客户数",
    ),
    (
        "rfm.explain",
        "Every buyer's scores as of {day}, as solocrm rfm computes them: 1 to 5 each, ties shared.",
        "截至 {day} 每位购买客户的评分，与 solocrm rfm 的计算相同：各 1 到 5 分，并列同分。",
    ),
    (
        "rfm.buyers",
        "Buyers, best first",
        "购买客户（评分高者在前）",
    ),
    (
        "rfm.buyers_of",
        "Buyers in {segment}",
        "{segment}中的购买客户",
    ),
    ("rfm.all_buyers", "All buyers", "全部购买客户"),
    ("rfm.listed", "{n} buyers", "{n} 位购买客户"),
    ("rfm.none", "No buyer to score.", "没有可评分的购买客户。"),
    ("rfm.champions", "Champions", "冠军客户"),
    ("rfm.loyal", "Loyal", "忠诚客户"),
    (
        "rfm.potential_loyalist",
        "Potential loyalist",
        "潜在忠诚客户",
    ),
    ("rfm.new", "New", "新客户"),
    ("rfm.promising", "Promising", "有潜力客户"),
    ("rfm.need_attention", "Need attention", "需要关注"),
    ("rfm.about_to_sleep", "About to sleep", "即将沉睡"),
    ("rfm.at_risk", "At risk", "有流失风险"),
    ("rfm.cant_lose_them", "Can't lose them", "不能失去的客户"),
    ("rfm.hibernating", "Hibernating", "沉睡客户"),
    ("rfm.lost", "Lost", "已流失客户"),
    ("col.rfm_segment", "RFM segment", "RFM 细分"),
    ("col.buyers", "Buyers", "购买客户数"),
    ("col.recency", "Days since last purchase", "距上次购买天数"),
    ("col.frequency", "Orders", "购买次数"),
    ("col.monetary", "Spent", "消费金额"),
    ("col.risk", "Risk", "风险分"),
    ("col.segment", "Segment", "分群"),
    ("col.condition", "Condition", "条件"),
    ("col.members", "Members", "成员数"),
    ("col.views", "Views", "视图"),
    (
        "risk.overdue_gap",
        "overdue: {days} since the last purchase, threshold {threshold} (median gap {gap})",
        "逾期：距上次购买 {days}，阈值 {threshold}（购买间隔中位数 {gap}）",
    ),
    (
        "risk.overdue_once",
        "overdue: {days} since the only purchase day, threshold {threshold}",
        "逾期：距唯一购买日 {days}，阈值 {threshold}",
    ),
    (
        "risk.approaching",
        "approaching: {days} since the last purchase, threshold {threshold}",
        "临近逾期：距上次购买 {days}，阈值 {threshold}",
    ),
    (
        "risk.nps_down",
        "nps {latest}, down from {previous}",
        "NPS {latest}，低于上次的 {previous}",
    ),
    (
        "risk.nps_detractor",
        "nps {latest}: a detractor",
        "NPS {latest}：贬损者",
    ),
    (
        "risk.csat_down",
        "csat {latest}, down from {previous}",
        "CSAT {latest}，低于上次的 {previous}",
    ),
    (
        "risk.csat_unsatisfied",
        "csat {latest}: unsatisfied",
        "CSAT {latest}：不满意",
    ),
    (
        "risk.open_complaints",
        "{count} complaints open, the oldest {oldest} old",
        "{count} 起投诉未解决，最早的已 {oldest}",
    ),
    (
        "risk.long_silence",
        "no contact for {days}",
        "已 {days}未联系",
    ),
    ("churn.title", "Churn risk", "流失风险"),
    (
        "churn.explain",
        "Customers who may stop buying, as of {day}, riskiest first, as solocrm churn-risk lists them.",
        "截至 {day} 可能不再购买的客户，风险最高者在前，与 solocrm churn-risk 的列表相同。",
    ),
    (
        "churn.count",
        "{n} customers at risk",
        "{n} 位客户有流失风险",
    ),
    (
        "churn.none",
        "Nobody shows a sign of churning.",
        "没有客户显示流失迹象。",
    ),
    ("segments.title", "Saved segments", "已保存的分群"),
    (
        "segments.explain",
        "The segments saved with solocrm segment add, each with its condition and how many customers meet it now.",
        "用 solocrm segment add 保存的分群，各自的条件及当前符合条件的客户数。",
    ),
    (
        "segments.none",
        "No segment is saved yet: solocrm segment add NAME EXPR saves one.",
        "尚未保存任何分群：用 solocrm segment add 名称 条件 保存。",
    ),
    ("segments.members_title", "Segment members", "分群成员"),
    ("segments.members_of", "Members of {name}", "{name} 的成员"),
    // Navigation and the frame of every page.
    ("nav.dashboard", "Dashboard", "仪表盘"),
    ("nav.customers", "Customers", "客户"),
    ("nav.care", "Care", "关怀"),
    ("nav.pipeline", "Pipeline", "销售管道"),
    ("nav.language", "Language", "语言"),
    ("nav.rules", "Rules", "规则"),
    ("nav.calendar", "Calendar", "日历"),
    ("app.name", "solocrm", "solocrm"),
    // Errors.
    ("error.title", "Something went wrong", "出错了"),
    (
        "error.internal",
        "The books could not be read or written; the details are in the server's log.",
        "无法读取或写入账簿；详情见服务器日志。",
    ),
    (
        "error.busy",
        "Another program is writing to the books; try again in a moment.",
        "另一个程序正在写入账簿，请稍后再试。",
    ),
    ("error.not_found", "Not found", "未找到"),
    (
        "error.no_customer",
        "There is no customer {id}.",
        "没有编号为 {id} 的客户。",
    ),
    (
        "error.no_page",
        "There is no page at this address.",
        "此地址没有页面。",
    ),
    (
        "error.login_title",
        "Sign in with the link",
        "请使用启动链接登录",
    ),
    (
        "error.login",
        "This workspace opens with the link that solocrm serve printed when it started (http://127.0.0.1:PORT/?token=…). Open that link once; this browser then stays signed in.",
        "请打开 solocrm serve 启动时打印的链接（http://127.0.0.1:PORT/?token=…）。打开一次后，此浏览器会保持登录。",
    ),
    (
        "error.bad_token",
        "The token in the link is not this server's token. Use the link solocrm serve printed.",
        "链接中的令牌不属于此服务器。请使用 solocrm serve 打印的链接。",
    ),
    ("error.forbidden_title", "Refused", "已拒绝"),
    (
        "error.cross_site",
        "A form from another site tried to change the books; it was refused.",
        "来自其他网站的表单试图修改账簿，已被拒绝。",
    ),
    (
        "error.host",
        "This workspace answers only to 127.0.0.1, [::1] and localhost.",
        "此工作区只响应 127.0.0.1、[::1] 和 localhost。",
    ),
    (
        "error.conflict",
        "This customer was changed in another tab or program since you opened the page; the form shows what you typed, the page what is stored now. Check and save again.",
        "自您打开此页面后，该客户已在其他标签页或程序中被修改；表单保留了您的输入，页面显示的是当前存储的内容。请核对后重新保存。",
    ),
    (
        "error.bad_date",
        "not a date (YYYY-MM-DD)",
        "不是有效日期（YYYY-MM-DD）",
    ),
    (
        "error.period_backwards",
        "the period must start before it ends",
        "期间的开始必须早于结束",
    ),
    (
        "error.pick",
        "choose one of the listed values",
        "请从列表中选择",
    ),
    // Dashboard.
    ("dash.title", "Dashboard", "仪表盘"),
    (
        "dash.period",
        "Period {start} to {end}",
        "期间 {start} 至 {end}",
    ),
    (
        "dash.earlier",
        "These figures are from a moment ago: the latest changes are being counted, and the page reloads itself in a few seconds.",
        "这些数字来自片刻之前：最新的更改正在计入，页面将在几秒后自动刷新。",
    ),
    ("dash.from", "From", "起始"),
    ("dash.to", "To (inclusive)", "截止（含）"),
    ("dash.show", "Show", "显示"),
    ("dash.revenue", "Revenue", "收入"),
    ("dash.net_revenue", "Net revenue", "净收入"),
    ("dash.nps", "NPS", "NPS"),
    ("dash.csat", "CSAT", "CSAT"),
    ("dash.churn", "Churn rate", "流失率"),
    ("dash.retention", "Retention rate", "留存率"),
    ("dash.repeat", "Repeat purchase rate", "复购率"),
    ("dash.costs", "Costs", "成本"),
    ("dash.customers", "Customers", "客户数"),
    ("dash.by", "Series", "序列"),
    ("dash.by_none", "No series", "不分期"),
    ("dash.by_month", "By month", "按月"),
    ("dash.by_quarter", "By quarter", "按季度"),
    (
        "dash.bad_by",
        "'{by}' is not a series period: month or quarter.",
        "“{by}”不是序列周期：请用 month 或 quarter。",
    ),
    (
        "dash.too_many_periods",
        "A series has at most {max} periods; this one would have {asked}. Pick a shorter range or quarters.",
        "一个序列最多 {max} 期，此范围有 {asked} 期。请缩短范围或按季度显示。",
    ),
    ("dash.series_month", "The report by month", "按月报表"),
    ("dash.series_quarter", "The report by quarter", "按季度报表"),
    ("dash.period_col", "Period", "期间"),
    ("dash.total", "Whole range", "整个范围"),
    (
        "dash.partial",
        "a partial period: the range covers only part of it",
        "不完整的期间：范围只覆盖其中一部分",
    ),
    ("dash.active", "Active customers", "活跃客户"),
    ("dash.new", "New customers", "新客户"),
    ("dash.ces", "CES", "客户费力度"),
    ("dash.crr", "Customer retention rate", "客户保留率"),
    ("chart.stages", "Customers by stage", "各阶段客户数"),
    ("chart.revenue", "Revenue by month", "月度收入"),
    ("chart.pipeline", "Open pipeline by stage", "各阶段在途商机"),
    (
        "chart.satisfaction",
        "Satisfaction by month (CSAT %, with NPS)",
        "月度满意度（CSAT %，附 NPS）",
    ),
    ("chart.rfm", "Customers by RFM segment", "各 RFM 分群客户数"),
    ("chart.rfm_grid", "The R × F grid", "R × F 网格"),
    ("col.csat", "CSAT %", "CSAT %"),
    ("col.nps", "NPS", "NPS"),
    (
        "chart.no_data",
        "No data in this period.",
        "此期间没有数据。",
    ),
    ("col.stage", "Stage", "阶段"),
    ("col.customers", "Customers", "客户数"),
    ("col.month", "Month", "月份"),
    ("col.revenue", "Revenue", "收入"),
    ("col.orders", "Orders", "订单数"),
    ("col.deals", "Deals", "商机数"),
    ("col.value", "Value", "金额"),
    ("col.weighted", "Weighted", "加权金额"),
    ("col.name", "Name", "姓名"),
    ("col.last_purchase", "Last purchase", "最近购买"),
    ("col.spent", "Value", "消费额"),
    ("col.date", "Date", "日期"),
    ("col.customer", "Customer", "客户"),
    ("col.reason", "Reason", "原因"),
    ("col.what", "What", "内容"),
    ("col.kind", "Kind", "类型"),
    ("col.from", "From", "从"),
    ("col.to", "To", "到"),
    ("col.amount", "Amount", "金额"),
    ("col.why", "Why", "原因"),
    (
        "dash.care",
        "Care in the next {days} days",
        "未来 {days} 天的关怀",
    ),
    // Customers.
    ("customers.title", "Customers", "客户"),
    ("customers.search", "Search", "搜索"),
    (
        "customers.search_hint",
        "name, email, company, notes …",
        "姓名、邮箱、公司、备注……",
    ),
    ("customers.any_stage", "any stage", "全部阶段"),
    ("customers.none", "No customer matches.", "没有匹配的客户。"),
    ("customers.found", "{n} found", "找到 {n} 位"),
    ("customers.next", "Next page", "下一页"),
    ("customers.previous", "Previous page", "上一页"),
    ("customers.add", "Add a customer", "添加客户"),
    ("customers.add_button", "Add", "添加"),
    ("field.name", "Name", "姓名"),
    ("field.email", "Email", "邮箱"),
    ("field.optional", "(optional)", "（可选）"),
    // One customer.
    ("customer.profile", "Profile", "资料"),
    ("customer.stage", "Stage", "阶段"),
    ("customer.tags", "Tags", "标签"),
    ("customer.phone", "Phone", "电话"),
    ("customer.company", "Company", "公司"),
    ("customer.city", "City", "城市"),
    ("customer.since", "Customer since", "成为客户于"),
    ("customer.points", "Points", "积分"),
    ("customer.history", "Stage history", "阶段历史"),
    ("customer.timeline", "Timeline", "时间线"),
    (
        "customer.nothing_yet",
        "Nothing recorded yet.",
        "尚无记录。",
    ),
    ("customer.erased", "[erased]", "[已删除]"),
    ("customer.edit", "Edit", "编辑"),
    ("customer.save", "Save", "保存"),
    ("customer.saved_by_policy", "rule: {rule}", "规则: {rule}"),
    ("customer.manual", "by hand", "手动"),
    ("form.interaction", "Log an interaction", "记录互动"),
    ("form.channel", "Channel", "渠道"),
    ("form.direction", "Direction", "方向"),
    ("form.summary", "Summary", "摘要"),
    ("form.log", "Log", "记录"),
    ("form.purchase", "Record a purchase", "记录购买"),
    ("form.amount", "Amount", "金额"),
    ("form.description", "Description", "描述"),
    ("form.date", "Date", "日期"),
    ("form.date_hint", "today if empty", "留空为今天"),
    ("form.record", "Record", "记录"),
    ("form.stage", "Change the stage", "变更阶段"),
    ("form.to_stage", "New stage", "新阶段"),
    ("form.note", "Note", "备注"),
    ("form.change", "Change", "变更"),
    ("form.tag", "Tag", "标签"),
    ("form.points", "Post points", "积分记账"),
    ("form.points_kind", "Kind", "类型"),
    ("form.points_count", "Points", "积分"),
    ("form.reason", "Reason", "原因"),
    ("form.reason_hint", "needed for an adjustment", "调整时必填"),
    ("form.post", "Post", "记账"),
    (
        "points.adjust_needs_reason",
        "An adjustment needs a reason.",
        "调整积分需要填写原因。",
    ),
    ("pkind.earn", "earn", "获得"),
    ("pkind.redeem", "redeem", "兑换"),
    ("pkind.expire", "expire", "过期"),
    ("pkind.adjust", "adjust", "调整"),
    ("form.consent", "Record a consent decision", "记录同意决定"),
    ("form.purpose", "Purpose", "用途"),
    ("form.decision", "Decision", "决定"),
    ("form.source", "Source", "来源"),
    ("customer.consent", "Consent", "同意"),
    ("consent.grant", "grant", "同意"),
    ("consent.revoke", "revoke", "撤回"),
    ("consent.granted", "granted", "已同意"),
    ("consent.revoked", "revoked", "已撤回"),
    ("form.add_tag", "Add the tag", "添加标签"),
    ("form.untag", "Remove the tag {tag}", "移除标签 {tag}"),
    ("form.step", "Next step", "下一步"),
    ("form.survey", "Record a survey answer", "记录调查回答"),
    ("form.survey_kind", "Survey", "调查类型"),
    ("form.score", "Score", "分数"),
    ("form.comment", "Comment", "评论"),
    ("form.request", "Open a service request", "新建服务请求"),
    ("form.request_kind", "Kind", "类型"),
    ("form.subject", "Subject", "主题"),
    ("form.open", "Open", "新建"),
    ("form.task", "Add a task", "添加任务"),
    ("form.title", "Title", "标题"),
    ("form.task_kind", "Kind", "类型"),
    ("form.due", "Due", "截止日期"),
    ("form.add", "Add", "添加"),
    ("customer.open_tasks", "Open tasks", "未完成的任务"),
    ("needs.title", "Needs and pain points", "需求与痛点"),
    (
        "needs.none_open",
        "No open needs or pain points.",
        "没有未解决的需求或痛点。",
    ),
    ("needs.of_deal", "deal {deal}", "商机 {deal}"),
    ("needs.resolve", "Resolved", "已解决"),
    ("needs.add", "Record a need or pain point", "记录需求或痛点"),
    ("participation.add", "Record a participation", "记录参与"),
    ("needs.kind", "Kind", "类型"),
    ("needs.key", "What (a short key)", "内容（简短关键词）"),
    ("needs.deal", "Deal number", "商机编号"),
    ("nkind.need", "Need", "需求"),
    ("nkind.pain_point", "Pain point", "痛点"),
    (
        "customer.open_requests",
        "Open service requests",
        "未关闭的服务请求",
    ),
    ("task.done", "Done", "完成"),
    ("task.snooze", "Snooze", "推迟"),
    ("task.snooze_days", "Days", "天数"),
    (
        "task.bad_days",
        "A task is snoozed by 1 to 90 days, not \"{days}\".",
        "任务只能推迟 1 到 90 天，而不是“{days}”。",
    ),
    ("rkind.feedback", "feedback", "反馈"),
    ("rkind.question", "question", "咨询"),
    ("rkind.complaint", "complaint", "投诉"),
    ("rstep.opened", "opened", "已创建"),
    ("rstep.responded", "responded", "已回复"),
    ("rstep.resolved", "resolved", "已解决"),
    ("rstep.reopened", "reopened", "已重新打开"),
    ("skind.csat", "CSAT (1–5)", "满意度 CSAT（1–5）"),
    ("skind.nps", "NPS (0–10)", "净推荐值 NPS（0–10）"),
    ("skind.ces", "CES (1–7)", "费力度 CES（1–7）"),
    (
        "form.no_moves",
        "No move is allowed from this stage.",
        "此阶段不允许变更。",
    ),
    ("kind.interaction", "interaction", "互动"),
    ("kind.automation", "automation", "自动化"),
    (
        "timeline.by_rule",
        "by rule {rule} ({trigger}, {occurrence})",
        "由规则 {rule} 触发（{trigger}，{occurrence}）",
    ),
    ("kind.purchase", "purchase", "购买"),
    ("kind.refund", "refund", "退款"),
    ("kind.survey", "survey", "调查"),
    ("kind.sheet", "survey sheet", "问卷答卷"),
    ("kind.request", "request", "服务请求"),
    ("kind.deal", "deal", "商机"),
    ("kind.task", "task", "任务"),
    ("kind.stage", "stage", "阶段"),
    // Care.
    ("care.title", "Care", "关怀"),
    (
        "care.window",
        "The next {days} days from {day}",
        "自 {day} 起的 {days} 天",
    ),
    ("care.days", "Days ahead", "向前天数"),
    (
        "care.more",
        "The first {shown} of {total} reminders.",
        "共 {total} 条提醒，此处列出前 {shown} 条。",
    ),
    (
        "care.all",
        "All of them on the care page",
        "在关怀页查看全部",
    ),
    (
        "care.range",
        "Reminders {first}–{last} of {total}",
        "第 {first}–{last} 条提醒，共 {total} 条",
    ),
    (
        "care.nobody",
        "Nobody needs care in these days.",
        "这些天里没有需要关怀的客户。",
    ),
    ("care.everyone", "everyone", "所有人"),
    (
        "care.birthday_turns",
        "birthday (turns {age})",
        "生日（满 {age} 岁）",
    ),
    ("care.birthday", "birthday", "生日"),
    ("care.holiday", "holiday: {name}", "节日: {name}"),
    (
        "care.task_overdue",
        "{kind}: {title} (overdue by {overdue})",
        "{kind}: {title}（已逾期 {overdue}）",
    ),
    ("care.task", "{kind}: {title}", "{kind}: {title}"),
    (
        "care.no_contact",
        "no contact for {days}",
        "已 {days}未联系",
    ),
    (
        "care.never_contacted",
        "never contacted since being added {days} ago",
        "添加 {days}以来从未联系",
    ),
    ("care.at_risk", "at risk of churning", "有流失风险"),
    ("count.day", "{n} days", "{n} 天"),
    // Pipeline.
    ("pipeline.title", "Pipeline", "销售管道"),
    (
        "pipeline.as_of",
        "Open deals as of {day}",
        "截至 {day} 的在途商机",
    ),
    (
        "pipeline.column",
        "{deals} deals · {total} · weighted {weighted} ({probability} %)",
        "{deals} 个商机 · {total} · 加权 {weighted}（{probability} %）",
    ),
    ("pipeline.empty", "No open deal.", "没有在途商机。"),
    ("pipeline.days", "{n} days in stage", "在此阶段 {n} 天"),
    ("pipeline.move", "Move", "移动"),
    ("pipeline.move_to", "Move to", "移动到"),
    // Lists of the core.
    ("stage.prospect", "prospect", "潜在客户"),
    ("stage.lead", "lead", "线索"),
    ("stage.new", "new", "新客户"),
    ("stage.active", "active", "活跃"),
    ("stage.loyal", "loyal", "忠诚"),
    ("stage.at_risk", "at_risk", "有流失风险"),
    ("stage.churned", "churned", "已流失"),
    ("stage.won_back", "won_back", "已挽回"),
    ("deal.need_identified", "need_identified", "需求确认"),
    ("deal.contacted", "contacted", "已联系"),
    ("deal.demo", "demo", "演示"),
    ("deal.proposal", "proposal", "方案报价"),
    ("deal.negotiation", "negotiation", "谈判"),
    ("deal.won", "won", "赢单"),
    ("deal.lost", "lost", "丢单"),
    ("channel.phone", "phone", "电话"),
    ("channel.email", "email", "邮件"),
    ("channel.social", "social", "社交媒体"),
    ("channel.chat", "chat", "在线聊天"),
    ("channel.wechat", "wechat", "微信"),
    ("channel.in_person", "in_person", "面谈"),
    ("channel.other", "other", "其他"),
    ("direction.inbound", "inbound", "客户主动"),
    ("direction.outbound", "outbound", "主动联系"),
    ("task.follow_up", "follow_up", "跟进"),
    ("task.birthday", "birthday", "生日"),
    ("task.holiday", "holiday", "节日"),
    ("task.custom", "custom", "自定义"),
    // Products, offers, targets, surveys (issue 18).
    ("nav.products", "Products", "产品"),
    ("nav.offers", "Offers", "优惠"),
    ("nav.targets", "Targets", "目标"),
    ("nav.surveys", "Surveys", "问卷"),
    ("form.show", "Show", "查看"),
    ("form.coupon", "Coupon code", "优惠券代码"),
    // Purchase lines (ADR 0039).
    ("lines.label", "Lines", "明细行"),
    (
        "lines.hint",
        "One line per row: SKU:QTY[:UNIT_PRICE[:DISCOUNT]], e.g. TEA-01:2 or TEA-01:2:30.00:5; without a unit price the catalogue's price is used.",
        "每行一条：SKU:数量[:单价[:折扣]]，例如 TEA-01:2 或 TEA-01:2:30.00:5；不填单价则用目录价格。",
    ),
    (
        "lines.amount_hint",
        "(optional with lines: their sum)",
        "（有明细行时可不填：即其合计）",
    ),
    (
        "lines.bad",
        "Line {n} ({line}): {why}",
        "第 {n} 行（{line}）：{why}",
    ),
    (
        "lines.shape",
        "expected SKU:QTY[:UNIT_PRICE[:DISCOUNT]]",
        "格式应为 SKU:数量[:单价[:折扣]]",
    ),
    (
        "lines.quantity",
        "quantity {qty} is not a whole number of at least 1",
        "数量 {qty} 不是不小于 1 的整数",
    ),
    (
        "lines.unknown_product",
        "no product with SKU {sku} (add it on the products page, or give a unit price)",
        "没有 SKU 为 {sku} 的产品（请先在产品页添加，或写明单价）",
    ),
    (
        "lines.no_coupon",
        "A coupon cannot be used on a purchase with lines; record the lines' discounts instead.",
        "带明细行的购买不能使用优惠券；请在明细行中填写折扣。",
    ),
    ("lines.title", "Purchase lines", "购买明细"),
    ("lines.purchase", "Purchase", "购买"),
    ("lines.quantity_col", "Qty", "数量"),
    ("lines.unit_price", "Unit price", "单价"),
    ("lines.discount", "Discount", "折扣"),
    ("lines.total", "Line total", "小计"),
    ("products.title", "Products", "产品"),
    ("products.name", "Name", "名称"),
    ("products.category", "Category", "类别"),
    ("products.price", "Price", "价格"),
    ("products.cost", "Cost", "成本"),
    ("products.units", "Units", "数量"),
    ("products.revenue", "Revenue", "收入"),
    ("products.margin", "Margin", "毛利"),
    ("products.buyers", "Customers who bought it", "购买客户数"),
    ("products.repeat", "Repeat rate", "复购率"),
    ("products.state", "State", "状态"),
    ("products.active", "active", "在售"),
    ("products.archived", "archived", "已归档"),
    (
        "products.show_archived",
        "Show archived products too",
        "同时显示已归档产品",
    ),
    (
        "products.hide_archived",
        "Hide archived products",
        "隐藏已归档产品",
    ),
    (
        "products.none",
        "No products yet: add one below.",
        "还没有产品：请在下方添加。",
    ),
    (
        "products.per_customer",
        "{mean} distinct products per customer, over {customers} customers with lines",
        "每位客户平均购买 {mean} 种产品（共 {customers} 位有明细的客户）",
    ),
    ("products.by_category", "Sales by category", "按类别的销售"),
    ("products.uncategorised", "(no category)", "（无类别）"),
    ("products.add_title", "Add a product", "添加产品"),
    ("products.heading", "Product {name}", "产品 {name}"),
    ("products.back", "Back to the products", "返回产品列表"),
    ("products.sales", "Sales", "销售"),
    (
        "products.no_sales",
        "No purchase line names this product yet.",
        "还没有购买明细包含此产品。",
    ),
    (
        "products.together",
        "Bought together with it",
        "与之一起购买的产品",
    ),
    (
        "products.both",
        "Customers who bought both",
        "同时购买的客户数",
    ),
    ("products.edit_title", "Edit the product", "编辑产品"),
    (
        "products.blank_clears",
        "(blank clears it)",
        "（留空即清除）",
    ),
    (
        "products.bad_state",
        "choose active or archived",
        "请选择在售或已归档",
    ),
    ("products.remove_title", "Remove the product", "删除产品"),
    (
        "products.remove_explain",
        "A product no purchase line names is deleted; one that sold is archived, so its lines stay exact.",
        "没有购买明细引用的产品会被删除；已售出的产品会被归档，其明细保持不变。",
    ),
    ("products.remove", "Remove", "删除"),
    (
        "products.unknown",
        "No product with SKU {sku}.",
        "没有 SKU 为 {sku} 的产品。",
    ),
    (
        "products.recommended",
        "Recommended for this customer",
        "为该客户推荐",
    ),
    (
        "products.no_recommendations",
        "Nothing to recommend yet: nobody has bought another product together with this customer's products.",
        "暂无推荐：还没有人与该客户所购产品一起购买过别的产品。",
    ),
    ("products.score", "Score", "得分"),
    ("offers.title", "Offers", "优惠"),
    ("offers.code", "Code", "代码"),
    ("offers.value", "Value", "优惠内容"),
    ("offers.valid", "Valid", "有效期"),
    (
        "offers.limits",
        "Limits (per customer/in all)",
        "次数限制（每位客户/总计）",
    ),
    ("offers.status", "Status", "状态"),
    ("offers.used", "Used", "已用"),
    ("offers.customers", "Customers", "客户数"),
    ("offers.discount", "Discount given", "优惠金额"),
    ("offers.new_buyers", "New buyers", "新增"),
    (
        "offers.new_means",
        "New buyers: redeemers with no other purchase in the {days} days before their first redemption (a count, not a causal effect).",
        "新增：首次使用前 {days} 天内没有其他购买的顾客（只是计数，不是因果效应）。",
    ),
    (
        "offers.none",
        "No offers yet: add one below.",
        "还没有优惠：请在下方添加。",
    ),
    ("offers.end", "End now", "立即结束"),
    ("offers.add_title", "Add an offer", "添加优惠"),
    (
        "offers.value_hint",
        "Value (percentage, amount off, or the gift)",
        "数值（百分比、减免金额或赠品）",
    ),
    ("offers.from", "First day", "开始日期"),
    (
        "offers.today_if_blank",
        "(today if blank)",
        "（留空为今天）",
    ),
    ("offers.until", "Last day", "结束日期"),
    (
        "offers.per_customer",
        "Uses per customer",
        "每位客户可用次数",
    ),
    ("offers.total", "Uses in all", "总可用次数"),
    ("offers.segment", "Only for the segment", "仅限分群"),
    ("offers.tier", "Only for the tier", "仅限等级"),
    (
        "offers.bad_kind",
        "unknown kind '{kind}': choose percent, amount or gift",
        "未知的类型“{kind}”：请选择百分比、金额或赠品",
    ),
    (
        "offers.bad_limit",
        "'{value}' is not a count of 1 or more",
        "“{value}”不是大于等于 1 的次数",
    ),
    (
        "offers.ends_before",
        "the offer ends ({until}) before it starts ({from})",
        "优惠的结束日期（{until}）早于开始日期（{from}）",
    ),
    (
        "offers.unknown",
        "No offer with code {code}.",
        "没有代码为 {code} 的优惠。",
    ),
    ("okind.percent", "percent off", "百分比折扣"),
    ("okind.amount", "amount off", "金额减免"),
    ("okind.gift", "gift", "赠品"),
    ("ostatus.active", "active", "有效"),
    ("ostatus.upcoming", "upcoming", "未开始"),
    ("ostatus.expired", "expired", "已过期"),
    ("ostatus.ended", "ended", "已结束"),
    ("targets.title", "Targets", "目标"),
    ("targets.as_of", "As of", "截至"),
    (
        "targets.progress_on",
        "Progress as of {day}",
        "截至 {day} 的目标进度",
    ),
    (
        "targets.none_for_day",
        "No target's period contains this day.",
        "没有包含这一天的目标期间。",
    ),
    ("targets.period", "Period", "期间"),
    ("targets.metric", "Metric", "指标"),
    ("targets.target", "Target", "目标"),
    ("targets.actual", "Actual", "实际"),
    ("targets.share", "Of target", "完成率"),
    ("targets.forecast", "Forecast", "预测"),
    ("targets.forecast_share", "Forecast of target", "预测完成率"),
    ("targets.days", "Days", "天数"),
    (
        "targets.footer",
        "Forecast: the figure so far × days of the period ÷ days elapsed (a rate is not extrapolated).",
        "预测：目前数值 × 期间天数 ÷ 已过天数（比率不外推）。",
    ),
    ("targets.all", "All targets", "全部目标"),
    (
        "targets.none",
        "No targets yet: set one below.",
        "尚无目标：请在下方设定。",
    ),
    ("targets.remove", "Remove", "删除"),
    ("targets.set_title", "Set a target", "设定目标"),
    (
        "targets.period_hint",
        "Period (2026-03, 2026-Q1 or 2026)",
        "期间（2026-03、2026-Q1 或 2026）",
    ),
    (
        "targets.value_hint",
        "Value (an amount, a count, or a rate such as 85%)",
        "目标值（金额、数量，或如 85% 的比率）",
    ),
    ("targets.set", "Set", "设定"),
    (
        "targets.bad_value",
        "the {metric} target '{value}' is not a plain number such as 50000, 30 or 85%",
        "{metric}的目标值“{value}”无效：应为普通数字，如 50000、30 或 85%",
    ),
    (
        "targets.unknown",
        "No {metric} target for {period}.",
        "{period} 没有{metric}目标。",
    ),
    ("tmetric.revenue", "revenue", "销售额"),
    ("tmetric.new_customers", "new customers", "新客户数"),
    ("tmetric.deals_won", "deals won", "成交商机数"),
    ("tmetric.retention_rate", "retention rate", "留存率"),
    ("nav.holidays", "Holidays", "节日"),
    (
        "templates.toml",
        "Or the questions as TOML",
        "或用 TOML 写题目",
    ),
    (
        "templates.toml_hint",
        "The file `survey template add --from FILE.toml` reads: one [[question]] table per question with text, dimension, answer (1-5, 0-10 … or text) and an optional role (nps, csat, ces).",
        "即 `survey template add --from FILE.toml` 读取的文件：每题一个 [[question]] 表，含 text、dimension、answer（1-5、0-10 … 或 text）和可选的 role（nps、csat、ces）。",
    ),
    (
        "templates.toml_edit_hint",
        "As `survey template edit --from FILE.toml`: when given, it replaces the questions above.",
        "同 `survey template edit --from FILE.toml`：填写后取代上面的题目。",
    ),
    (
        "templates.both",
        "Give the questions as rows or as TOML, not both.",
        "题目请用逐行格式或 TOML 之一给出，不要同时给出。",
    ),
    ("void.answers_title", "Survey answers", "问卷回答"),
    ("void.sheets_title", "Answer sheets", "问卷答卷"),
    ("void.sheet_answers", "Answers", "回答数"),
    ("void.reason", "Reason", "原因"),
    ("void.button", "Void", "作废"),
    ("void.mark", "voided", "已作废"),
    ("void.voided_on", "voided on {day}", "已于 {day} 作废"),
    (
        "void.no_reason",
        "Say why the answer is voided.",
        "请说明作废的原因。",
    ),
    ("sheet.at", "Answered at", "答卷时间"),
    (
        "sheet.at_hint",
        "Empty for now; a day (YYYY-MM-DD) or a day and time (YYYY-MM-DD HH:MM) in the books' time zone.",
        "留空为现在；日期（YYYY-MM-DD）或日期加时间（YYYY-MM-DD HH:MM），按账本时区。",
    ),
    (
        "sheet.future",
        "“{at}” is in the future: a sheet says when it was answered (today is {today} in {zone}).",
        "“{at}”在将来：答卷时间应为已经答卷的时间（今天是 {today}，{zone}）。",
    ),
    ("holidays.title", "Holidays", "节日历"),
    ("holidays.year", "Year", "年份"),
    ("holidays.of_year", "Holidays of {year}", "{year} 年的节日"),
    (
        "holidays.none",
        "No holidays this year: choose a preset calendar or add your own below.",
        "这一年没有节日：请在下方选择预设节日历或添加自己的节日。",
    ),
    ("holidays.date", "Date", "日期"),
    ("holidays.name", "Name", "名称"),
    ("holidays.key", "Key", "键"),
    ("holidays.kind", "Kind", "类型"),
    ("holidays.source", "From", "来源"),
    ("holidays.own", "your own", "自定义"),
    ("holidays.preset", "preset", "预设"),
    ("hkind.fixed", "fixed date", "公历固定日"),
    ("hkind.lunar", "lunar date", "农历"),
    ("hkind.computed", "computed", "推算"),
    ("holidays.presets_title", "Preset calendars", "预设节日历"),
    ("holidays.presets", "Calendars", "节日历"),
    ("holidays.preset_cn", "China (cn)", "中国（cn）"),
    ("holidays.preset_western", "Western", "西方（western）"),
    (
        "holidays.preset_cn_western",
        "China, then Western",
        "先中国，后西方",
    ),
    (
        "holidays.preset_western_cn",
        "Western, then China",
        "先西方，后中国",
    ),
    (
        "holidays.preset_none",
        "None (only your own)",
        "不用预设（只用自定义）",
    ),
    ("holidays.use", "Use", "使用"),
    (
        "holidays.presets_hint",
        "Of two calendars with the same holiday (New Year's Day) the first one's name is kept; your own holiday replaces a preset one with its key.",
        "两个节日历有同一节日（元旦）时保留排在前面的名称；自定义节日会取代同键的预设节日。",
    ),
    ("holidays.own_title", "Your own holidays", "自定义节日"),
    (
        "holidays.no_own",
        "No holidays of your own yet.",
        "还没有自定义节日。",
    ),
    ("holidays.rule", "When", "日期规则"),
    ("holidays.lunar_prefix", "lunar", "农历"),
    ("holidays.leap_month", "leap", "闰"),
    ("holidays.remove", "Remove", "删除"),
    ("holidays.add_title", "Add a holiday", "添加节日"),
    (
        "holidays.key_hint",
        "Key (customers tagged with it are tagged for the holiday; default: the name)",
        "键（带有此标签的客户即关注该节日；默认用名称）",
    ),
    (
        "holidays.day_hint",
        "Day: MM-DD for a fixed date, M-D for a lunar date",
        "日期：公历固定日填 MM-DD，农历填 M-D",
    ),
    ("holidays.leap", "Leap month (lunar only)", "闰月（仅农历）"),
    ("holidays.add", "Add", "添加"),
    (
        "holidays.leap_fixed",
        "Only a lunar date has a leap month; choose the lunar kind or untick it.",
        "只有农历日期才有闰月：请选择农历或取消勾选。",
    ),
    (
        "holidays.bad_kind",
        "Unknown kind “{kind}”: fixed or lunar.",
        "未知类型“{kind}”：应为公历固定日（fixed）或农历（lunar）。",
    ),
    (
        "holidays.bad_year",
        "Year {year} is outside the calendar's range 1900-2100.",
        "{year} 年超出节日历的范围 1900-2100。",
    ),
    (
        "holidays.not_a_year",
        "“{year}” is not a year (1900-2100).",
        "“{year}”不是年份（1900-2100）。",
    ),
    (
        "holidays.unknown",
        "No holiday of your own has the key {key}.",
        "没有键为 {key} 的自定义节日。",
    ),
    ("surveys.title", "Surveys", "问卷"),
    ("surveys.templates", "Templates", "问卷模板"),
    ("surveys.name", "Name", "名称"),
    ("surveys.questions", "Questions", "题数"),
    ("surveys.dimensions", "Dimensions", "维度"),
    (
        "surveys.no_templates",
        "No survey templates yet: add one with `solocrm survey template add`.",
        "还没有问卷模板：用 `solocrm survey template add` 添加。",
    ),
    (
        "surveys.analysis_all",
        "Dimensions of every template",
        "所有模板的维度分析",
    ),
    (
        "surveys.analysis_of",
        "Dimensions of {name}",
        "{name} 的维度分析",
    ),
    ("surveys.all_templates", "Every template", "所有模板"),
    (
        "surveys.no_answers",
        "No answered sheets yet.",
        "还没有答卷。",
    ),
    ("surveys.dimension", "Dimension", "维度"),
    ("surveys.answers", "Answers", "回答数"),
    ("surveys.mean", "Mean (of the scale)", "平均（占量表）"),
    ("surveys.score", "Mean score", "平均分"),
    ("surveys.promoters", "Promoters' mean", "推荐者平均"),
    ("surveys.detractors", "Detractors' mean", "贬损者平均"),
    ("surveys.gap", "Gap", "差距"),
    (
        "surveys.summary",
        "{sheets} sheets: {promoters} promoters, {detractors} detractors (by the NPS question of each sheet).",
        "{sheets} 份答卷：推荐者 {promoters} 人，贬损者 {detractors} 人（按每份答卷的 NPS 题）。",
    ),
    (
        "surveys.driver",
        "The driver: {dimension} best separates detractors from promoters.",
        "关键维度：{dimension} 最能区分贬损者与推荐者。",
    ),
    (
        "surveys.no_driver",
        "No dimension separates detractors from promoters yet (it needs promoters and detractors who answered it).",
        "暂无能区分贬损者与推荐者的维度（需要有推荐者和贬损者回答该维度）。",
    ),
    (
        "surveys.unknown",
        "No survey template named {name}.",
        "没有名为 {name} 的问卷模板。",
    ),
    ("surveys.participation", "Participation", "参与记录"),
    // Answering and managing survey templates (ADR 0039).
    (
        "sheet.answer_template",
        "Answer a survey template",
        "填写问卷模板",
    ),
    ("sheet.template", "Template", "模板"),
    ("sheet.open", "Open the sheet", "打开问卷"),
    (
        "sheet.title",
        "{template} for {name}",
        "{name} 的「{template}」问卷",
    ),
    ("sheet.back", "Back to the customer", "返回客户"),
    ("sheet.method", "How it was taken", "收集方式"),
    ("sheet.free_text", "free text", "文字"),
    (
        "sheet.skip_hint",
        "A question may be left blank (skipped), but at least one must be answered.",
        "可以跳过某题（留空），但至少要回答一题。",
    ),
    (
        "sheet.not_a_score",
        "Question {n}: {value} is not a whole number on the scale {scale}.",
        "第 {n} 题：{value} 不是量表 {scale} 内的整数。",
    ),
    (
        "sheet.none_answered",
        "Answer at least one question.",
        "请至少回答一题。",
    ),
    (
        "sheet.bad_method",
        "Choose how the survey was taken.",
        "请选择收集方式。",
    ),
    ("method.questionnaire", "questionnaire", "问卷"),
    ("method.phone", "phone", "电话"),
    ("method.online", "online", "在线"),
    ("method.in_person", "in person", "面对面"),
    ("templates.manage", "Manage", "管理"),
    ("templates.edit", "Edit", "编辑"),
    ("templates.add", "Add a survey template", "添加问卷模板"),
    ("templates.questions", "Questions", "题目"),
    (
        "templates.hint",
        "One question per row: TEXT|DIMENSION|ANSWER[|ROLE], ANSWER a scale such as 1-5 or 0-10, or text; ROLE nps, csat or ces. E.g. 服务态度如何？|服务质量|1-5",
        "每行一题：题目|维度|回答[|角色]，回答为量表（如 1-5、0-10）或 text；角色为 nps、csat 或 ces。例如 服务态度如何？|服务质量|1-5",
    ),
    (
        "templates.answering_hint",
        "To answer a template for a customer, open the customer's page and choose the template under “Answer a survey template”.",
        "要为客户填写问卷，请打开该客户的页面，在“填写问卷模板”中选择模板。",
    ),
    ("templates.bad_row", "Row {n}: {why}", "第 {n} 行：{why}"),
    (
        "templates.no_questions",
        "Give at least one question.",
        "请至少填写一道题目。",
    ),
    (
        "templates.title",
        "Survey template {name}",
        "问卷模板 {name}",
    ),
    ("templates.question", "Question", "题目"),
    ("templates.answer", "Answer", "回答方式"),
    ("templates.sheets", "Answer sheets: {n}", "已答问卷：{n}"),
    (
        "templates.answered_hint",
        "Someone has answered this template: its questions cannot change and it cannot be removed; it can be renamed.",
        "已有人回答此模板：题目不能修改，模板也不能删除；可以改名。",
    ),
    ("templates.remove", "Remove the template", "删除模板"),
    ("templates.archive", "Archive the template", "归档模板"),
    ("templates.unarchive", "Unarchive the template", "取消归档"),
    (
        "templates.archived_hint",
        "Archived: it takes no new answers; its answers stay in the analysis and the exports.",
        "已归档：不再接受新的答卷；已有答卷仍计入分析和导出。",
    ),
    (
        "templates.bad_archived",
        "Choose archive or unarchive.",
        "请选择归档或取消归档。",
    ),
    (
        "sheet.archived",
        "Survey template {name} is archived and takes no new answers; unarchive it first.",
        "问卷模板 {name} 已归档，不再接受新的答卷；请先取消归档。",
    ),
    ("partkind.event", "event", "活动"),
    ("partkind.community", "community", "社区"),
    ("partkind.suggestion", "suggestion", "建议"),
    ("partkind.review", "review", "评价"),
    ("asof.label", "As of", "截至"),
    (
        "asof.after_today",
        "{day} is after today ({today}): a view can only be of a day that has come.",
        "{day} 晚于今天（{today}）：只能查看已经到来的日期。",
    ),
    (
        "asof.members_on",
        "Members as of {day}.",
        "截至 {day} 的成员。",
    ),
    ("nav.import", "Import", "导入"),
    ("import.title", "Import", "导入"),
    (
        "import.intro",
        "Upload a file with the same columns and rules as solocrm import: UTF-8, UTF-16 or GB18030, English or Chinese headers. A file with any bad row writes nothing; every bad row is listed with its line and column.",
        "上传与 solocrm import 相同列和规则的文件：UTF-8、UTF-16 或 GB18030 编码，表头可为英文或中文。只要有一行有误，就什么都不写入；每个有误的行都会列出其行号和列。",
    ),
    (
        "import.columns",
        "Required columns: {required}. Optional: {optional}.",
        "必填列：{required}。可选列：{optional}。",
    ),
    ("import.format", "Format", "格式"),
    ("import.file", "File", "文件"),
    (
        "import.ignore_unknown",
        "Ignore unknown columns",
        "忽略未知列",
    ),
    (
        "import.create_missing",
        "Create a customer for an unknown reference",
        "为未知的客户编号新建客户",
    ),
    ("import.import", "Import", "导入"),
    ("import.check", "Check only", "仅检查"),
    (
        "import.too_large",
        "The file is larger than {mib} MiB; import it with solocrm import on the command line.",
        "文件超过 {mib} MiB；请在命令行用 solocrm import 导入。",
    ),
    (
        "import.bad_upload",
        "The upload could not be read: {error}",
        "无法读取上传内容：{error}",
    ),
    (
        "import.unknown_column",
        "unknown column; expected {expected}",
        "未知的列；应为 {expected}",
    ),
    (
        "import.bad_kind",
        "Choose customers, purchases or survey answers.",
        "请选择客户、购买记录或问卷回答。",
    ),
    (
        "import.bad_format",
        "Unknown format {format} for this kind of file.",
        "此类文件不支持格式 {format}。",
    ),
    (
        "import.no_file",
        "Choose a file to upload.",
        "请选择要上传的文件。",
    ),
    (
        "import.refused",
        "The file was not imported: {n} problem(s), listed below. Nothing was written.",
        "文件未导入：共 {n} 个问题，见下方列表。未写入任何内容。",
    ),
    ("import.rows", "{n} rows", "{n} 行"),
    ("import.separator", ", ", "，"),
    ("import.done", "Imported: {counts}.", "已导入：{counts}。"),
    (
        "import.would",
        "the check passed; an import would make {counts}. Nothing was written.",
        "检查通过；导入将得到 {counts}。未写入任何内容。",
    ),
    ("import.line", "Line", "行"),
    ("import.column", "Column", "列"),
    ("import.reason", "Reason", "原因"),
    ("import.action", "Action", "操作"),
    ("import.changes", "Changes", "变更"),
    ("import.more", "… and {n} more.", "……另有 {n} 条。"),
    (
        "import.errors",
        "{n} problem(s) in the file",
        "文件中有 {n} 个问题",
    ),
    (
        "import.nothing_written",
        "Nothing was written. Fix these rows and upload the file again.",
        "未写入任何内容。请修正这些行后重新上传。",
    ),
    ("ikind.customers", "Customers", "客户"),
    ("ikind.purchases", "Purchases", "购买记录"),
    ("ikind.surveys", "Survey answers", "问卷回答"),
    ("iformat.csv", "CSV", "CSV"),
    ("iformat.vcard", "vCard", "vCard"),
    ("iformat.hubspot", "HubSpot export", "HubSpot 导出"),
    (
        "iformat.google-contacts",
        "Google Contacts export",
        "Google 通讯录导出",
    ),
    ("icount.created", "created", "新建"),
    ("icount.updated", "updated", "更新"),
    ("icount.unchanged", "unchanged", "未变"),
    ("icount.purchases", "purchases", "笔购买"),
    ("icount.new customers", "new customers", "位新客户"),
    ("icount.purchase lines", "purchase lines", "条购买明细"),
    ("icount.survey answers", "survey answers", "条问卷回答"),
    ("iaction.create", "create", "新建"),
    ("iaction.update", "update", "更新"),
    ("iaction.reject", "reject", "拒绝"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_filled_in_once_each_where_named() {
        assert_eq!(
            Lang::En.f(
                "care.task_overdue",
                &[
                    ("kind", &"Call"),
                    ("title", &"{overdue} 王芳"),
                    ("overdue", &"3 days")
                ]
            ),
            "Call: {overdue} 王芳 (overdue by 3 days)",
            "a value holding a placeholder is not filled in again"
        );
        assert_eq!(
            Lang::ZhCn.f(
                "care.task_overdue",
                &[("overdue", &"3 天"), ("kind", &"电话")]
            ),
            "电话: {title}（已逾期 3 天）",
            "a placeholder without an argument stays; the order of the arguments is free"
        );
        assert_eq!(Lang::En.f("dash.title", &[("start", &1)]), "Dashboard");
        let unknown = "no.such.key";
        assert_eq!(Lang::En.t(unknown), "?");
        assert_eq!(Lang::ZhCn.label("stage", "no-such-stage"), "no-such-stage");
    }

    #[test]
    fn accept_language_picks_the_heaviest_language_spoken() {
        assert_eq!(
            Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Some(Lang::ZhCn)
        );
        assert_eq!(
            Lang::from_accept_language("fr;q=1, en;q=0.5, zh;q=0.7"),
            Some(Lang::ZhCn)
        );
        assert_eq!(
            Lang::from_accept_language("zh-TW, en;q=0.1"),
            Some(Lang::En)
        );
        assert_eq!(Lang::from_accept_language("de, fr"), None);
        assert_eq!(Lang::from_accept_language("zh;q=0, en"), Some(Lang::En));
    }

    #[test]
    fn keys_are_unique_and_every_text_has_both_languages() {
        let mut seen = std::collections::HashSet::new();
        for (key, en, zh) in MESSAGES {
            assert!(seen.insert(*key), "{key} twice");
            assert!(!en.is_empty() && !zh.is_empty(), "{key} lacks a text");
            // The same arguments in both languages.
            let args = |s: &str| {
                let mut v: Vec<String> = s
                    .split('{')
                    .skip(1)
                    .filter_map(|p| p.split_once('}').map(|(a, _)| a.to_owned()))
                    .collect();
                v.sort();
                v
            };
            assert_eq!(args(en), args(zh), "{key} has other arguments in Chinese");
        }
    }

    /// Every key the source passes to `t` or `f` as a literal is in the table.
    #[test]
    fn every_key_the_source_uses_is_in_the_table() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut missing = Vec::new();
        let mut used = 0;
        for entry in std::fs::read_dir(&dir).expect("src") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("source");
            for opener in [".t(\"", ".f(\""] {
                for part in text.split(opener).skip(1) {
                    let Some((key, _)) = part.split_once('"') else {
                        continue;
                    };
                    used += 1;
                    if !MESSAGES.iter().any(|(k, _, _)| *k == key) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(used > 50, "the scan found only {used} keys");
        assert!(
            missing.is_empty(),
            "keys missing from MESSAGES: {missing:?}"
        );
    }
}
