//! Content lines, the syntax vCard (RFC 6350) and iCalendar (RFC 5545) share:
//! `NAME;PARAM=VALUE:value`, CRLF line ends, lines folded at 75 octets, text values
//! with `\\`, `\;`, `\,` and `\n` escapes.
//!
//! Writing: [`Lines`] folds every line it is given at 75 octets without splitting a
//! UTF-8 character (a Chinese character is three octets and stays whole);
//! [`escape`] escapes a text value. Reading: [`unfold`] and [`ContentLine::parse`].

/// Escapes a TEXT value: backslash, semicolon, comma and line breaks (CRLF, LF or
/// CR each become `\n`). Controls other than tab, which neither format allows, are
/// written as U+FFFD.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// Undoes [`escape`]: `\n` and `\N` are a line feed, `\\`, `\;`, `\,` the
/// character; any other backslash stays as it is.
pub fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(c @ ('\\' | ';' | ',' | ':' | '"')) => out.push(c),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Splits a structured value (`N`, `ADR`, `ORG`) at unescaped `;` and unescapes
/// each component.
pub fn components(value: &str) -> Vec<String> {
    split_unescaped(value, ';')
        .into_iter()
        .map(|s| unescape(&s))
        .collect()
}

/// Splits a list value (`CATEGORIES`) at unescaped `,` and unescapes each item.
pub fn list(value: &str) -> Vec<String> {
    split_unescaped(value, ',')
        .into_iter()
        .map(|s| unescape(&s))
        .collect()
}

fn split_unescaped(value: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        let last = parts.last_mut().expect("at least one part");
        if c == '\\' {
            last.push(c);
            if let Some(n) = chars.next() {
                last.push(n);
            }
        } else if c == sep {
            parts.push(String::new());
        } else {
            last.push(c);
        }
    }
    parts
}

/// The most octets of one physical line, CRLF not counted.
const FOLD_AT: usize = 75;

/// A document being written line by line, every line folded and ended with CRLF.
#[derive(Debug, Default)]
pub struct Lines {
    out: String,
}

impl Lines {
    /// An empty document.
    pub fn new() -> Lines {
        Lines::default()
    }

    /// Appends one content line, folded: after at most 75 octets a CRLF and a space
    /// continue it, never inside a UTF-8 character.
    pub fn line(&mut self, line: &str) {
        let mut used = 0;
        for c in line.chars() {
            let len = c.len_utf8();
            if used + len > FOLD_AT {
                self.out.push_str("\r\n ");
                used = 1;
            }
            self.out.push(c);
            used += len;
        }
        self.out.push_str("\r\n");
    }

    /// Appends `NAME:value` with the value escaped as text ([`escape`]).
    pub fn text(&mut self, name: &str, value: &str) {
        self.line(&format!("{name}:{}", escape(value)));
    }

    /// The document.
    pub fn finish(self) -> String {
        self.out
    }
}

/// Joins folded lines back into content lines (a line starting with a space or tab
/// continues the one before), accepting CRLF or LF line ends. Empty lines are left
/// out.
pub fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        match raw.chars().next() {
            Some(' ' | '\t') if !lines.is_empty() => {
                if let Some(last) = lines.last_mut() {
                    last.push_str(&raw[1..]);
                }
            }
            _ if raw.is_empty() => {}
            _ => lines.push(raw.to_owned()),
        }
    }
    lines
}

/// One unfolded content line, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentLine {
    /// The property name, upper case, without a group prefix (`item1.EMAIL` is
    /// `EMAIL`).
    pub name: String,
    /// The parameters, names upper case, values unquoted; a list value (`TYPE=a,b`)
    /// is split into several entries.
    pub params: Vec<(String, String)>,
    /// The raw value, still escaped.
    pub value: String,
}

impl ContentLine {
    /// Parses `NAME;PARAM=VALUE:value`; `None` if there is no `:` outside quotes.
    pub fn parse(line: &str) -> Option<ContentLine> {
        let mut in_quotes = false;
        let mut colon = None;
        for (i, c) in line.char_indices() {
            match c {
                '"' => in_quotes = !in_quotes,
                ':' if !in_quotes => {
                    colon = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let colon = colon?;
        let (head, value) = (&line[..colon], &line[colon + 1..]);
        let mut parts = split_params(head).into_iter();
        let name = parts.next()?;
        let name = name.rsplit('.').next().unwrap_or(&name).to_uppercase();
        let mut params = Vec::new();
        for p in parts {
            let (k, v) = p.split_once('=').unwrap_or((p.as_str(), ""));
            let k = k.to_uppercase();
            for item in split_param_values(v) {
                params.push((k.clone(), item));
            }
        }
        Some(ContentLine {
            name,
            params,
            value: value.to_owned(),
        })
    }

    /// True if a `TYPE` parameter has `ty` (ignoring case), or, for `pref`, a
    /// `PREF` parameter is there.
    pub fn has_type(&self, ty: &str) -> bool {
        self.params
            .iter()
            .any(|(k, v)| k == "TYPE" && v.eq_ignore_ascii_case(ty))
            || (ty.eq_ignore_ascii_case("pref") && self.params.iter().any(|(k, _)| k == "PREF"))
    }

    /// The value as text ([`unescape`]).
    pub fn text(&self) -> String {
        unescape(&self.value)
    }
}

/// Splits `NAME;A=1;B="x;y"` at `;` outside quotes.
fn split_params(head: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut in_quotes = false;
    for c in head.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                parts.last_mut().expect("a part").push(c);
            }
            ';' if !in_quotes => parts.push(String::new()),
            c => parts.last_mut().expect("a part").push(c),
        }
    }
    parts
}

/// Splits a parameter value into its items: the quotes dropped, split at `,` (a
/// quoted `TYPE="cell,voice"` is a list too, as vCard 4.0 writes it).
fn split_param_values(v: &str) -> Vec<String> {
    v.replace('"', "").split(',').map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_keeps_chinese_characters_whole_and_lines_short() {
        let mut doc = Lines::new();
        let note = "客户喜欢绿茶，每年春节前订购礼盒；生日在二月。".repeat(4);
        doc.text("NOTE", &note);
        let text = doc.finish();
        for physical in text.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(
                physical.len() <= 75,
                "{} octets: {physical}",
                physical.len()
            );
        }
        // Every physical line is valid UTF-8 on its own: no character was split.
        for physical in text.as_bytes().split(|b| *b == b'\n') {
            assert!(std::str::from_utf8(physical).is_ok());
        }
        let lines = unfold(&text);
        assert_eq!(lines.len(), 1);
        let parsed = ContentLine::parse(&lines[0]).expect("a line");
        assert_eq!(parsed.name, "NOTE");
        assert_eq!(parsed.text(), note);
    }

    #[test]
    fn text_escapes_round_trip() {
        let value = "a;b,c\\d\r\ne\nf\tg\u{1b}";
        let escaped = escape(value);
        assert_eq!(escaped, "a\\;b\\,c\\\\d\\ne\\nf\tg\u{fffd}");
        assert_eq!(unescape(&escaped), "a;b,c\\d\ne\nf\tg\u{fffd}");
        assert_eq!(components("张;伟\\;x;;"), ["张", "伟;x", "", ""]);
        assert_eq!(list("vip,上海\\,浦东"), ["vip", "上海,浦东"]);
    }

    #[test]
    fn parameters_are_split_and_unquoted() {
        let l = ContentLine::parse("item1.TEL;VALUE=text;TYPE=\"cell,voice\";PREF=1:+86 138")
            .expect("a line");
        assert_eq!(l.name, "TEL");
        assert!(l.has_type("CELL") && l.has_type("voice") && l.has_type("pref"));
        assert_eq!(l.value, "+86 138");
        assert!(ContentLine::parse("no colon").is_none());
    }
}
