//! The language of what the CLI prints for people: English (the default) or
//! Simplified Chinese (`zh-CN`).
//!
//! The language is chosen once at start ([`choose`], then [`set`]): `--lang en|zh-CN`
//! wins, then the first of `LC_ALL`, `LC_MESSAGES` and `LANG` that is set and not empty
//! (the POSIX order), read by [`of_locale`]; otherwise English. Traditional Chinese
//! locales (`zh_TW`, `zh_HK`, `zh_MO`, `zh_Hant`) get English: no traditional catalogue
//! is provided, and a reader of traditional characters is not silently handed the
//! simplified ones (they can ask with `--lang zh-CN`).
//!
//! Messages live in one catalogue per language, Rust modules embedded in the binary
//! ([`en`] and [`zh_cn`], docs/adr/0008): `key = text`, where a text may name
//! arguments (`added customer {id} ({name})`) and a count's text may give a singular
//! and a plural form separated by `|` (`{n} customer|{n} customers`). Tests hold both
//! catalogues to the same keys and the same arguments per key, and every key the source
//! uses to exist. JSON output never goes through here: it is for scripts.
//!
//! Use `t!` for a message, `tn!` for a count, [`label`] for a
//! name from one of the core's closed lists (a stage, a channel ...), and tables
//! translate their headers and the cells of their label columns themselves
//! ([`crate::output::Table`]).

mod en;
mod zh_cn;

use std::collections::HashMap;
use std::fmt::{Display, Write as _};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

use solocrm_core::{
    Channel, CostCategory, DealStage, Direction, LifecycleStage, PointsKind, Recurrence,
    RequestEventKind, RequestKind, RequestStatus, RfmSegment, Sentiment, TaskKind,
};

/// A language the CLI speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// English, the default.
    #[value(name = "en")]
    En,
    /// Simplified Chinese.
    #[value(name = "zh-CN")]
    ZhCn,
}

/// The language chosen at start ([`set`]); English until then.
static LANG: AtomicU8 = AtomicU8::new(0);

/// Sets the language for the rest of the run.
pub fn set(lang: Lang) {
    LANG.store(
        match lang {
            Lang::En => 0,
            Lang::ZhCn => 1,
        },
        Ordering::Relaxed,
    );
}

/// The language of this run.
pub fn lang() -> Lang {
    match LANG.load(Ordering::Relaxed) {
        1 => Lang::ZhCn,
        _ => Lang::En,
    }
}

/// The language of a run: `flag` (`--lang`) if given, else the locale the environment
/// names (`env` reads a variable): the first of `LC_ALL`, `LC_MESSAGES`, `LANG` that is
/// set and not empty, as [`of_locale`] reads it; else English.
pub fn choose(flag: Option<Lang>, env: impl Fn(&str) -> Option<std::ffi::OsString>) -> Lang {
    if let Some(lang) = flag {
        return lang;
    }
    for var in ["LC_ALL", "LC_MESSAGES", "LANG"] {
        if let Some(value) = env(var).filter(|v| !v.is_empty()) {
            return of_locale(&value.to_string_lossy());
        }
    }
    Lang::En
}

/// The language of a POSIX locale name (`zh_CN.UTF-8`, `zh_SG`, `zh-CN`, `zh_Hans`,
/// `en_US.UTF-8`, `C`): Simplified Chinese for `zh` alone or with a territory or
/// script other than the traditional ones (`TW`, `HK`, `MO`, `Hant`), which get
/// English, as does every other language, `C` and `POSIX`.
pub fn of_locale(locale: &str) -> Lang {
    let name = locale.split(['.', '@']).next().unwrap_or("");
    let mut parts = name.split(['_', '-']);
    if !parts.next().is_some_and(|l| l.eq_ignore_ascii_case("zh")) {
        return Lang::En;
    }
    let traditional = parts.any(|p| {
        ["TW", "HK", "MO", "Hant"]
            .iter()
            .any(|t| p.eq_ignore_ascii_case(t))
    });
    if traditional { Lang::En } else { Lang::ZhCn }
}

/// The entries of a language's catalogue.
fn entries(lang: Lang) -> &'static [(&'static str, &'static str)] {
    match lang {
        Lang::En => en::MESSAGES,
        Lang::ZhCn => zh_cn::MESSAGES,
    }
}

/// A language's catalogue as a map, built once.
fn catalogue(lang: Lang) -> &'static HashMap<&'static str, &'static str> {
    static EN: OnceLock<HashMap<&str, &str>> = OnceLock::new();
    static ZH: OnceLock<HashMap<&str, &str>> = OnceLock::new();
    let cell = match lang {
        Lang::En => &EN,
        Lang::ZhCn => &ZH,
    };
    cell.get_or_init(|| entries(lang).iter().copied().collect())
}

/// The text of `key` in `lang`, else in English, else none.
pub fn lookup_in(lang: Lang, key: &str) -> Option<&'static str> {
    catalogue(lang)
        .get(key)
        .or_else(|| catalogue(Lang::En).get(key))
        .copied()
}

/// The text of `key` in the run's language, else in English, else none.
pub fn lookup(key: &str) -> Option<&'static str> {
    lookup_in(lang(), key)
}

/// The text of `key` in the run's language (the key itself if no catalogue has it,
/// which the tests rule out for the keys in the source).
pub fn text(key: &'static str) -> &'static str {
    lookup(key).unwrap_or(key)
}

/// `template` with each `{name}` replaced by the argument of that name; a `{...}`
/// that names no argument is kept as it is.
pub fn fill(template: &str, args: &[(&str, &dyn Display)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find('}')
            .and_then(|close| Some((close, args.iter().find(|(n, _)| *n == &after[..close])?)))
        {
            Some((close, (_, value))) => {
                let _ = write!(out, "{value}");
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The message `key` in `lang` with its arguments filled in ([`fill`]).
pub fn format_in(lang: Lang, key: &'static str, args: &[(&str, &dyn Display)]) -> String {
    fill(lookup_in(lang, key).unwrap_or(key), args)
}

/// The message `key` in the run's language with its arguments filled in.
pub fn format(key: &'static str, args: &[(&str, &dyn Display)]) -> String {
    format_in(lang(), key, args)
}

/// A count in `lang`: the text of `key` is `singular|plural` (English) or one form
/// (Chinese, which has no plural: `{n} 位客户`), with `{n}` the count.
pub fn count_in<N>(lang: Lang, key: &str, n: N) -> String
where
    N: Display + PartialEq + From<u8>,
{
    let text = lookup_in(lang, key).unwrap_or(key);
    let form = match text.split_once('|') {
        Some((one, _)) if n == N::from(1) => one,
        Some((_, many)) => many,
        None => text,
    };
    fill(form, &[("n", &n)])
}

/// A count in the run's language ([`count_in`]).
pub fn count<N>(key: &str, n: N) -> String
where
    N: Display + PartialEq + From<u8>,
{
    count_in(lang(), key, n)
}

/// A message from the catalogue: `t!("key")` is its text, `t!("key", id = 7, name =
/// n)` the text with its `{id}` and `{name}` filled in.
macro_rules! t {
    ($key:literal) => {
        $crate::i18n::text($key)
    };
    ($key:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::i18n::format(
            $key,
            &[$((stringify!($name), &$value as &dyn ::std::fmt::Display)),+],
        )
    };
}

/// A count from the catalogue: `tn!("count.customer", 3)` is `3 customers` or `3 位客户`.
macro_rules! tn {
    ($key:literal, $n:expr) => {
        $crate::i18n::count($key, $n)
    };
}

/// A value of one of the core's closed lists of names, shown by [`label`].
pub trait Named: Copy + 'static {
    /// The prefix of its catalogue keys (`stage` for `stage.at_risk`).
    const LIST: &'static str;
    /// Every value (for the tests that every one has a label).
    #[cfg(test)]
    const ALL: &'static [Self];
    /// Its canonical name (the one JSON and the command line use).
    fn name(self) -> &'static str;
}

macro_rules! named {
    ($($ty:ty => $list:literal),+ $(,)?) => {
        $(impl Named for $ty {
            const LIST: &'static str = $list;
            #[cfg(test)]
            const ALL: &'static [Self] = <$ty>::ALL;
            fn name(self) -> &'static str {
                self.as_str()
            }
        })+
    };
}

named! {
    LifecycleStage => "stage",
    DealStage => "deal",
    Channel => "channel",
    Direction => "direction",
    Sentiment => "sentiment",
    TaskKind => "task",
    RequestKind => "request",
    RequestStatus => "status",
    PointsKind => "points",
    Recurrence => "repeat",
    RfmSegment => "rfm",
    CostCategory => "category",
    RequestEventKind => "step",
    solocrm_core::target::TargetMetric => "target_metric",
}

/// How a value of a closed list reads in the run's language: `active` → `活跃`,
/// `at_risk` → `有流失风险`. In English it is the canonical name (what the user types),
/// except for RFM segments, which read as words (`Can't lose them`).
pub fn label<T: Named>(value: T) -> &'static str {
    label_in(lang(), value)
}

/// [`label`] in `lang`.
pub fn label_in<T: Named>(lang: Lang, value: T) -> &'static str {
    with_key(T::LIST, value.name(), |key| lookup_in(lang, key)).unwrap_or_else(|| value.name())
}

/// Calls `f` with the catalogue key `list.name`, built in one buffer kept by the
/// thread: a long table looks up a label per cell, and a key allocated per look-up
/// was a visible part of printing one.
fn with_key<R>(list: &str, name: &str, f: impl FnOnce(&str) -> R) -> R {
    thread_local! {
        static KEY: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    KEY.with(|key| match key.try_borrow_mut() {
        Ok(mut key) => {
            key.clear();
            key.push_str(list);
            key.push('.');
            key.push_str(name);
            f(&key)
        }
        // Only if `f` itself looked up a label: a key of its own.
        Err(_) => f(&format!("{list}.{name}")),
    })
}

/// The lists whose names a table column shows, by the column's (English) header: a
/// cell of such a column that is a name of one of them is shown as its label.
const LABEL_COLUMNS: &[(&str, &[&str])] = &[
    ("STAGE", &["stage", "deal"]),
    ("FROM", &["stage", "deal"]),
    ("TO", &["stage", "deal"]),
    ("CHANNEL", &["channel"]),
    ("DIRECTION", &["direction"]),
    ("SENTIMENT", &["sentiment"]),
    ("KIND", &["task", "request", "points"]),
    ("STATUS", &["status"]),
    ("STATE", &["decision"]),
    ("DECISION", &["decision"]),
    ("IN FORCE", &["yesno"]),
    ("CATEGORY", &["category"]),
    ("STEP", &["step"]),
    ("ACTION", &["action"]),
    ("REPEAT", &["repeat"]),
    ("REPEATS", &["repeat"]),
    ("DONE", &["yesno"]),
    ("METHOD", &["method"]),
    ("ENABLED", &["yesno"]),
    ("BUILTIN", &["yesno"]),
    ("PRIORITY", &["priority"]),
    ("METRIC", &["target_metric"]),
];

/// The lists a table column with this header shows names of (empty for none).
pub fn column_lists(header: &str) -> &'static [&'static str] {
    LABEL_COLUMNS
        .iter()
        .find(|(h, _)| *h == header)
        .map_or(&[], |(_, lists)| lists)
}

/// A table header in the run's language (`NAME` → `姓名`); a header the catalogue does
/// not know (`+3` in a cohort table) stays as it is.
pub fn header(key: &str) -> String {
    if lang() == Lang::En {
        return key.to_owned();
    }
    lookup(&format!("col.{key}")).map_or_else(|| key.to_owned(), str::to_owned)
}

/// A cell of a column showing names of `lists` ([`column_lists`]), in the run's
/// language: the label of the name it holds, or the cell as it is.
pub fn cell(lists: &[&str], cell: String) -> String {
    if lists.is_empty() || lang() == Lang::En {
        return cell;
    }
    lists
        .iter()
        .find_map(|list| with_key(list, &cell, lookup))
        .map_or(cell, str::to_owned)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    use super::*;

    /// The `{name}` arguments a text names.
    fn placeholders(text: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close) => {
                    out.insert(after[..close].to_owned());
                    rest = &after[close + 1..];
                }
                None => break,
            }
        }
        out
    }

    fn keys(lang: Lang) -> BTreeMap<&'static str, &'static str> {
        let mut map = BTreeMap::new();
        for (k, v) in entries(lang) {
            assert!(map.insert(*k, *v).is_none(), "{lang:?}: key {k} twice");
        }
        map
    }

    #[test]
    fn both_catalogues_define_the_same_keys_with_the_same_arguments() {
        let en = keys(Lang::En);
        let zh = keys(Lang::ZhCn);
        let only_en: Vec<_> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
        let only_zh: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(only_en.is_empty(), "missing in zh-CN: {only_en:?}");
        assert!(only_zh.is_empty(), "missing in en: {only_zh:?}");
        for (key, en_text) in &en {
            let zh_text = zh[key];
            // Every form of a count names the same arguments.
            for form in en_text.split('|').chain(zh_text.split('|')) {
                assert_eq!(
                    placeholders(form),
                    placeholders(en_text.split('|').next().unwrap_or("")),
                    "{key}: {form:?}"
                );
            }
            assert!(!zh_text.trim().is_empty(), "{key} is empty in zh-CN");
            if key.starts_with("count.") {
                assert!(en_text.contains('|'), "{key}: English needs one|many");
                assert!(placeholders(en_text).contains("n"), "{key}: no {{n}}");
            }
        }
    }

    #[test]
    fn every_name_of_the_closed_lists_has_a_label() {
        fn all<T: Named>() -> Vec<String> {
            T::ALL
                .iter()
                .map(|v| format!("{}.{}", T::LIST, v.name()))
                .collect()
        }
        let en = keys(Lang::En);
        let keys: Vec<String> = [
            all::<LifecycleStage>(),
            all::<solocrm_core::target::TargetMetric>(),
            all::<DealStage>(),
            all::<Channel>(),
            all::<Direction>(),
            all::<Sentiment>(),
            all::<TaskKind>(),
            all::<RequestKind>(),
            all::<RequestStatus>(),
            all::<PointsKind>(),
            all::<Recurrence>(),
            all::<RfmSegment>(),
            all::<CostCategory>(),
            all::<RequestEventKind>(),
        ]
        .concat();
        for key in &keys {
            assert!(en.contains_key(key.as_str()), "no label {key}");
        }
        // English labels of the lists people type are the names they type.
        for s in LifecycleStage::ALL {
            assert_eq!(label_in(Lang::En, *s), s.as_str());
        }
        for c in Channel::ALL {
            assert_eq!(label_in(Lang::En, *c), c.as_str());
        }
        for s in RfmSegment::ALL {
            assert_eq!(label_in(Lang::En, *s), s.label());
        }
        assert_eq!(label_in(Lang::ZhCn, LifecycleStage::Active), "活跃");
        assert_eq!(label_in(Lang::ZhCn, LifecycleStage::AtRisk), "有流失风险");
        // Every list a table column can show has its labels.
        for (_, lists) in LABEL_COLUMNS {
            for list in *lists {
                let prefix = format!("{list}.");
                assert!(en.keys().any(|k| k.starts_with(&prefix)), "{list}");
            }
        }
    }

    /// Every `.rs` file under `dir`.
    fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read source");
                out.push((path.display().to_string(), text));
            }
        }
    }

    /// The argument list of a macro call starting just after its key literal: the text
    /// up to the parenthesis that closes the call, string literals skipped.
    fn call_rest(text: &str) -> &str {
        let mut depth = 0_i32;
        let mut in_str = false;
        let mut escaped = false;
        for (i, c) in text.char_indices() {
            if in_str {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => in_str = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => in_str = true,
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' if depth == 0 => return &text[..i],
                ')' | ']' | '}' => depth -= 1,
                _ => {}
            }
        }
        text
    }

    /// The names of `name = value` arguments at the top level of a call's arguments.
    fn argument_names(args: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let mut depth = 0_i32;
        let mut start = 0;
        let mut parts = Vec::new();
        for (i, c) in args.char_indices() {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&args[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&args[start..]);
        for part in parts {
            if let Some((name, _)) = part.split_once('=') {
                let name = name.trim();
                if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    out.insert(name.to_owned());
                }
            }
        }
        out
    }

    #[test]
    fn every_key_the_source_uses_exists_with_its_arguments() {
        let mut files = Vec::new();
        sources(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let en = keys(Lang::En);
        let mut used = 0;
        for (file, text) in &files {
            if file.ends_with("i18n.rs") {
                continue; // the macros' own documentation
            }
            for (mac, counted) in [("t!(", false), ("tn!(", true)] {
                let mut rest = text.as_str();
                while let Some(at) = rest.find(mac) {
                    let after = &rest[at + mac.len()..];
                    // `format!("` ends in `t!("` too: only a macro of its own counts.
                    let own = rest[..at]
                        .chars()
                        .next_back()
                        .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                    if !own {
                        rest = after;
                        continue;
                    }
                    // The key literal, on the same line or the next (rustfmt).
                    let Some(after) = after.trim_start().strip_prefix('"') else {
                        rest = after;
                        continue;
                    };
                    let end = after.find('"').expect("key literal ends");
                    let key = &after[..end];
                    let Some(template) = en.get(key) else {
                        panic!("{file}: key {key} is in no catalogue");
                    };
                    let args = call_rest(&after[end + 1..]);
                    let wanted = placeholders(template.split('|').next().unwrap_or(""));
                    if counted {
                        assert!(key.starts_with("count."), "{file}: tn! of {key}");
                    } else {
                        assert_eq!(argument_names(args), wanted, "{file}: {key}");
                    }
                    used += 1;
                    rest = after;
                }
            }
        }
        assert!(used > 50, "only {used} keys found: is the scan broken?");
    }

    #[test]
    fn every_table_header_in_the_source_is_translated() {
        let mut files = Vec::new();
        sources(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let en = keys(Lang::En);
        let mut seen = 0;
        for (file, text) in &files {
            let mut rest = text.as_str();
            while let Some(at) = rest.find("Table::new(&[") {
                let after = &rest[at + "Table::new(&[".len()..];
                let list = &after[..after.find(']').expect("header list ends")];
                for header in list.split(',').map(str::trim).filter(|h| !h.is_empty()) {
                    let Some(h) = header.strip_prefix('"').and_then(|h| h.strip_suffix('"')) else {
                        continue; // columns given by a variable
                    };
                    let key = format!("col.{}", h.trim_start_matches('>'));
                    assert!(en.contains_key(key.as_str()), "{file}: no {key}");
                    seen += 1;
                }
                rest = after;
            }
        }
        assert!(seen > 30, "only {seen} headers found");
    }

    #[test]
    fn locales_name_a_language() {
        for zh in [
            "zh_CN.UTF-8",
            "zh_CN",
            "zh-CN",
            "zh_SG",
            "zh",
            "zh_CN.GB18030",
            "zh_Hans_CN",
            "ZH_cn.utf8",
        ] {
            assert_eq!(of_locale(zh), Lang::ZhCn, "{zh}");
        }
        for en in [
            "zh_TW.UTF-8",
            "zh_HK",
            "zh_MO",
            "zh_Hant_TW",
            "C",
            "POSIX",
            "C.UTF-8",
            "en_US.UTF-8",
            "de_DE",
            "",
            "zhx",
        ] {
            assert_eq!(of_locale(en), Lang::En, "{en}");
        }
    }

    #[test]
    fn the_flag_wins_then_lc_all_lc_messages_lang_in_that_order() {
        use std::ffi::OsString;
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        assert_eq!(choose(None, env(&[])), Lang::En);
        assert_eq!(choose(None, env(&[("LANG", "zh_CN.UTF-8")])), Lang::ZhCn);
        assert_eq!(
            choose(Some(Lang::En), env(&[("LANG", "zh_CN.UTF-8")])),
            Lang::En
        );
        assert_eq!(
            choose(Some(Lang::ZhCn), env(&[("LC_ALL", "C")])),
            Lang::ZhCn
        );
        assert_eq!(
            choose(None, env(&[("LC_ALL", "C"), ("LANG", "zh_CN.UTF-8")])),
            Lang::En
        );
        assert_eq!(
            choose(
                None,
                env(&[("LC_MESSAGES", "zh_CN.UTF-8"), ("LANG", "en_US.UTF-8")])
            ),
            Lang::ZhCn
        );
        // An empty variable counts as unset.
        assert_eq!(
            choose(None, env(&[("LC_ALL", ""), ("LANG", "zh_CN.UTF-8")])),
            Lang::ZhCn
        );
    }

    #[test]
    fn messages_fill_their_arguments_and_counts_agree() {
        assert_eq!(
            fill(
                "added customer {id} ({name})",
                &[("id", &7), ("name", &"王芳")]
            ),
            "added customer 7 (王芳)"
        );
        assert_eq!(fill("{unknown} {", &[("n", &1)]), "{unknown} {");
        assert_eq!(count_in(Lang::En, "count.customer", 1_usize), "1 customer");
        assert_eq!(count_in(Lang::En, "count.customer", 3_usize), "3 customers");
        assert_eq!(count_in(Lang::ZhCn, "count.customer", 3_usize), "3 位客户");
        assert_eq!(count_in(Lang::ZhCn, "count.customer", 1_usize), "1 位客户");
        assert_eq!(format_in(Lang::ZhCn, "error.prefix", &[]), "错误: ");
    }
}
