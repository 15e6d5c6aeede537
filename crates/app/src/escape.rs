//! Text shown to a person, made safe to show.
//!
//! Text from the books or from a file can hold anything, including the escape
//! sequences a terminal obeys (clearing the screen, rewriting earlier lines, writing
//! the clipboard with OSC 52). [`escape_controls`] shows control characters, DEL, the
//! C1 controls and the bidirectional overrides as visible escapes (`\x1b`,
//! `\u{202e}`) instead; [`TerminalSafe`] does the same inside JSON strings, as
//! `\uXXXX` escapes that every JSON reader reads back as the same text.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

/// A JSON formatter that also escapes what `serde_json` writes raw but a terminal
/// obeys: DEL, the C1 controls and the bidirectional controls, as `\uXXXX` (the same
/// string to every JSON reader).
pub struct TerminalSafe<F>(pub F);

impl<F: serde_json::ser::Formatter> serde_json::ser::Formatter for TerminalSafe<F> {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        // Printable ASCII (nearly every key and figure) has nothing to escape.
        if fragment.bytes().all(|b| (b' '..0x7f).contains(&b)) {
            return self.0.write_string_fragment(writer, fragment);
        }
        let mut rest = fragment;
        while let Some((i, c)) = rest.char_indices().find(|&(_, c)| is_unsafe(c)) {
            self.0.write_string_fragment(writer, &rest[..i])?;
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                write!(writer, "\\u{unit:04x}")?;
            }
            rest = &rest[i + c.len_utf8()..];
        }
        self.0.write_string_fragment(writer, rest)
    }

    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn end_object_key<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_key(w)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.0.end_object_value(w)
    }
}

/// True for the characters a terminal may act on instead of showing, or that show as
/// nothing and so make text read as what it is not: the C0 controls, DEL, the C1
/// controls (U+0080 to U+009F, among them the one-character CSI), the line and
/// paragraph separators, the bidirectional marks, embeddings, overrides and isolates,
/// zero-width and invisible characters (U+200B, U+2060 to U+2064, U+FEFF), the
/// interlinear annotation marks and the tag characters. The zero-width joiner and
/// non-joiner (U+200C, U+200D) are kept: emoji sequences and several scripts need them.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{2069}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e0000}'..='\u{e007f}'
        )
}

/// `text` with every character a terminal would act on shown as a visible escape:
/// `\x1b` for ESC, `\u{9b}`, `\u{202e}`, and `\t`, `\r`, `\n` for the blanks. Line
/// breaks are kept as they are when `keep_newlines` is set (a message of several lines).
/// Text without such characters is returned as it is, without copying.
///
/// A terminal shown `\x1b]52;c;...\x07` prints those characters instead of writing its
/// clipboard.
pub fn escape_controls(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    // Printable ASCII (nearly every cell of a table) has nothing to escape: one pass
    // over the bytes instead of a decode and a class test per character.
    if text.bytes().all(|b| (b' '..0x7f).contains(&b)) {
        return Cow::Borrowed(text);
    }
    let must_escape = |c: char| is_unsafe(c) && !(keep_newlines && c == '\n');
    if !text.chars().any(must_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !must_escape(c) {
            out.push(c);
            continue;
        }
        match c {
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c if u32::from(c) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_shown_not_obeyed() {
        assert_eq!(escape_controls("plain 张伟", false), "plain 张伟");
        assert!(matches!(escape_controls("plain", false), Cow::Borrowed(_)));
        assert_eq!(
            escape_controls("\u{1b}]52;c;x\u{7}", false),
            "\\x1b]52;c;x\\x07"
        );
        assert_eq!(escape_controls("a\nb\u{202e}", true), "a\nb\\u{202e}");
        assert_eq!(escape_controls("a\nb", false), "a\\nb");
        // The joiners emoji need are kept.
        assert_eq!(escape_controls("👩\u{200d}💻", false), "👩\u{200d}💻");
    }

    #[test]
    fn json_strings_escape_what_a_terminal_obeys() {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(
            &mut out,
            TerminalSafe(serde_json::ser::CompactFormatter),
        );
        serde::Serialize::serialize(&["x\u{9b}y\u{202e}", "张"], &mut ser).expect("serialise");
        let text = String::from_utf8(out).expect("UTF-8");
        assert_eq!(text, r#"["x\u009by\u202e","张"]"#);
        let back: Vec<String> = serde_json::from_str(&text).expect("JSON");
        assert_eq!(back, ["x\u{9b}y\u{202e}", "张"]);
    }

    #[test]
    fn printable_ascii_passes_as_it_is_and_del_is_escaped() {
        let mut out = Vec::new();
        let mut ser = serde_json::Serializer::with_formatter(
            &mut out,
            TerminalSafe(serde_json::ser::CompactFormatter),
        );
        serde::Serialize::serialize(&["ada@example.com ~!", "a\u{7f}b", "t\tq\""], &mut ser)
            .expect("serialise");
        let text = String::from_utf8(out).expect("UTF-8");
        assert_eq!(text, r#"["ada@example.com ~!","a\u007fb","t\tq\""]"#);
    }
}
