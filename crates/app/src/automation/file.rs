//! Rules files: automation rules written in TOML, what `rule import` reads.
//!
//! ```toml
//! [[rule]]
//! name = "vip-complaint"
//! trigger = "request_opened"                 # or birthday:3, no_contact:60, …
//! condition = "kind = complaint and tag = vip"
//! enabled = true                             # the default
//! actions = [
//!   { task = { title = "Call {name} today", due_in = 0, priority = "high" } },
//!   { tag = "complained" },
//! ]
//! ```
//!
//! An error names the line and column (1-based, in characters) of what is wrong:
//! the value that does not parse, the rule that is not whole, a name given twice.

use serde::Deserialize;
use solocrm_core::automation::{Action, Condition, Rule, RuleName, Trigger};
use thiserror::Error;

/// A rules file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{line}:{column}: {message}")]
pub struct RulesFileError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong there.
    pub message: String,
}

/// One rule of a file and whether it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRule {
    /// The rule.
    pub rule: Rule,
    /// Whether it is on.
    pub enabled: bool,
    /// Where it begins in the file (line, column).
    pub at: (usize, usize),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    #[serde(default)]
    rule: Vec<toml::Spanned<Entry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: toml::Spanned<RuleName>,
    trigger: Trigger,
    #[serde(default)]
    condition: Option<Condition>,
    actions: Vec<Action>,
    #[serde(default = "on")]
    enabled: bool,
}

fn on() -> bool {
    true
}

/// The 1-based line and column (in characters) of byte `offset` in `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Reads the rules of a rules file.
///
/// # Errors
///
/// [`RulesFileError`] with the line and column of the first problem: TOML that does
/// not parse, an unknown key, a value that is not a rule's (a trigger, a condition, an
/// action, a name), a rule without actions, a name given twice.
pub fn parse(text: &str) -> Result<Vec<FileRule>, RulesFileError> {
    let file: RulesFile = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map_or((1, 1), |s| position(text, s.start));
        RulesFileError {
            line,
            column,
            message: e.message().trim().to_owned(),
        }
    })?;
    let mut out: Vec<FileRule> = Vec::new();
    for entry in file.rule {
        let at = position(text, entry.span().start);
        let entry = entry.into_inner();
        let name_at = position(text, entry.name.span().start);
        let name = entry.name.into_inner();
        if out.iter().any(|r| r.rule.name() == &name) {
            return Err(RulesFileError {
                line: name_at.0,
                column: name_at.1,
                message: format!("the rule '{name}' is defined twice"),
            });
        }
        let rule = Rule::new(name, entry.trigger, entry.condition, entry.actions).map_err(|e| {
            RulesFileError {
                line: at.0,
                column: at.1,
                message: e.to_string(),
            }
        })?;
        out.push(FileRule {
            rule,
            enabled: entry.enabled,
            at,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[rule]]
name = "vip-complaint"
trigger = "request_opened"
condition = "kind = complaint and tag = vip"
actions = [
  { task = { title = "致电 {name}", due_in = 0, priority = "high" } },
  { tag = "投诉" },
]

[[rule]]
name = "quiet-vip"
trigger = "no_contact:30"
condition = "tag = vip"
enabled = false
actions = [{ note = "{name} 很久没联系了" }]
"#;

    #[test]
    fn a_good_file_gives_its_rules() {
        let rules = parse(GOOD).unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].rule.name().as_str(), "vip-complaint");
        assert!(rules[0].enabled);
        assert!(!rules[1].enabled);
        assert_eq!(rules[1].rule.trigger().to_string(), "no_contact:30");
        assert_eq!(rules[0].at, (2, 1));
    }

    #[track_caller]
    fn fails_at(text: &str, line: usize, column: usize, says: &str) {
        let e = parse(text).unwrap_err();
        assert_eq!((e.line, e.column), (line, column), "{e}");
        assert!(e.message.contains(says), "{e}");
    }

    #[test]
    fn errors_name_line_and_column() {
        fails_at(
            "[[rule]]\nname = \"x\"\ntrigger = \"bought\"\nactions = []\n",
            3,
            11,
            "trigger",
        );
        fails_at(
            "[[rule]]\nname = \"x\"\ntrigger = \"request_opened\"\ncondition = \"score <= lots\"\nactions = [{ tag = \"a\" }]\n",
            4,
            13,
            "column 10",
        );
        fails_at(
            "[[rule]]\nname = \"x\"\ntrigger = \"request_opened\"\nactions = []\n",
            1,
            1,
            "actions",
        );
        fails_at("[[rule]]\nname = \"Bad Name\"\n", 2, 8, "rule name");
        fails_at("[[rule]]\nname = \"x\"\ncolour = 3\n", 3, 1, "colour");
        fails_at("[[rule]\n", 1, 8, "");
        fails_at(
            "[[rule]]\nname = \"x\"\ntrigger = \"request_opened\"\nactions = [{ shout = \"a\" }]\n",
            4,
            14,
            "shout",
        );
        let twice = "[[rule]]\nname = \"x\"\ntrigger = \"request_opened\"\nactions = [{ tag = \"a\" }]\n[[rule]]\nname = \"x\"\ntrigger = \"request_opened\"\nactions = [{ tag = \"a\" }]\n";
        fails_at(twice, 6, 8, "twice");
    }
}
