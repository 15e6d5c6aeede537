//! Which text encoding a file to import is in, and reading it as UTF-8.
//!
//! Spreadsheets write CSV in more than one encoding: Excel in Chinese writes GBK
//! ("ANSI" in its dialog, a subset of GB18030), "Unicode text" is UTF-16, and "CSV
//! UTF-8" adds a byte order mark. [`detect`] tells them apart:
//!
//! 1. a byte order mark names the encoding: UTF-8, UTF-16LE or UTF-16BE;
//! 2. without one, NUL bytes at most odd (or even) positions of the start of the
//!    file mean UTF-16LE (or BE): a CSV file in any other encoding holds no NUL;
//! 3. a file that is valid UTF-8 is UTF-8; so is one that is mostly UTF-8 (many more
//!    valid multi-byte characters than invalid bytes), whose few invalid bytes make
//!    their rows invalid, as they always did;
//! 4. otherwise a file that decodes as GB18030 without error, and looks like Chinese
//!    text, is GB18030 (which includes GBK and GB2312);
//! 5. otherwise a file whose first invalid byte is on its first line (the header), or
//!    that holds NUL bytes (a binary, an `.xlsx`), is none of these: [`NotText`]; any
//!    other file is read as UTF-8, its rows with invalid bytes invalid.
//!
//! An import first calls [`sniff`] on the first [`SNIFF`] bytes: a byte order mark,
//! or UTF-8 with characters beyond ASCII, settles it there, so that a UTF-8 file is
//! read once, as before. A start that is UTF-8 but (nearly) all ASCII is
//! [`Detected::Utf8SoFar`]: the file is read as UTF-8, and only if a later row is not
//! UTF-8 does the whole file decide, with [`detect`] (the import starts again).
//!
//! [`Decoded`] reads a file in its encoding as UTF-8 bytes. UTF-8 goes through
//! untouched (no copy, no check beyond the CSV reader's own); only other encodings
//! are transcoded, as they are read.

use std::io::{self, Read};

/// The encodings a file to import may be in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// UTF-8, with or without a byte order mark.
    Utf8,
    /// UTF-16, little-endian (what Windows writes), with or without a byte order mark.
    Utf16Le,
    /// UTF-16, big-endian, with or without a byte order mark.
    Utf16Be,
    /// GB18030, and so GBK and GB2312 (what Excel in simplified Chinese writes).
    Gb18030,
}

impl Encoding {
    /// The encoding's usual name.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
            Encoding::Gb18030 => "GB18030",
        }
    }

    fn decoder(self) -> Option<encoding_rs::Decoder> {
        match self {
            Encoding::Utf8 => None,
            Encoding::Utf16Le => Some(encoding_rs::UTF_16LE.new_decoder_with_bom_removal()),
            Encoding::Utf16Be => Some(encoding_rs::UTF_16BE.new_decoder_with_bom_removal()),
            Encoding::Gb18030 => Some(encoding_rs::GB18030.new_decoder_without_bom_handling()),
        }
    }
}

/// A file in none of the encodings [`detect`] knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("byte {offset}: not UTF-8, UTF-16 or GB18030; save it as UTF-8")]
pub struct NotText {
    /// The offset of the first byte that is not UTF-8 (or not of the encoding its
    /// byte order mark names), from 0.
    pub offset: u64,
}

/// Why [`detect`] could not name an encoding.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    /// The file could not be read.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The file is in none of the encodings.
    #[error(transparent)]
    NotText(#[from] NotText),
}

/// How much of the start of a file [`sniff`] looks at.
pub const SNIFF: usize = 64 * 1024;

/// What the start of a file says of its encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    /// The file is in this encoding.
    Sure(Encoding),
    /// The start of the file is UTF-8 and all but free of characters beyond ASCII, so
    /// it could still be GB18030 further on. The file is read as UTF-8 (no check but
    /// the CSV reader's own); the first row that is not UTF-8 stops the reading, and
    /// [`detect`] decides on the whole file.
    Utf8SoFar,
}

impl Detected {
    /// The encoding to read the file in.
    pub fn encoding(self) -> Encoding {
        match self {
            Detected::Sure(e) => e,
            Detected::Utf8SoFar => Encoding::Utf8,
        }
    }
}

/// What the first [`SNIFF`] bytes of a file (`whole`: all of it) say, without
/// reading on: `None` if only the whole file can tell ([`detect`]). UTF-8 needs no
/// more than its start, so that reading a UTF-8 file costs nothing extra.
pub fn sniff(start: &[u8], whole: bool) -> Option<Detected> {
    if start.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Some(Detected::Sure(Encoding::Utf8));
    }
    if start.starts_with(&[0xFF, 0xFE])
        || start.starts_with(&[0xFE, 0xFF])
        || utf16_without_mark(start).is_some()
    {
        return None;
    }
    let valid = match std::str::from_utf8(start) {
        Ok(_) => start,
        // A character cut by the end of the part read.
        Err(e) if e.error_len().is_none() && !whole => &start[..e.valid_up_to()],
        Err(_) => return None,
    };
    // A few characters beyond ASCII could be GB18030 that happens to be valid UTF-8;
    // many cannot.
    Some(if whole || leads(valid) >= 8 {
        Detected::Sure(Encoding::Utf8)
    } else {
        Detected::Utf8SoFar
    })
}

/// Which encoding the bytes that `open` reads are in (module docs), from the whole
/// file. `open` is called once for every pass over the file: once for UTF-8, a
/// second time to check another encoding.
///
/// # Errors
///
/// [`DetectError::NotText`] for a file in none of them; [`DetectError::Io`] if it
/// cannot be read.
pub fn detect<R: Read>(mut open: impl FnMut() -> io::Result<R>) -> Result<Encoding, DetectError> {
    let mut file = open()?;
    let mut start = Vec::with_capacity(SNIFF);
    (&mut file).take(SNIFF as u64).read_to_end(&mut start)?;
    let marked = if start.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Ok(Encoding::Utf8);
    } else if start.starts_with(&[0xFF, 0xFE]) {
        Some(Encoding::Utf16Le)
    } else if start.starts_with(&[0xFE, 0xFF]) {
        Some(Encoding::Utf16Be)
    } else {
        utf16_without_mark(&start)
    };
    if let Some(encoding) = marked {
        return match decodes(open()?, encoding)? {
            Ok(_) => Ok(encoding),
            Err(offset) => Err(NotText { offset }.into()),
        };
    }
    let mut utf8 = Utf8Stats::default();
    utf8.feed(&start);
    let mut buf = vec![0; SNIFF];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        utf8.feed(&buf[..n]);
    }
    utf8.finish();
    let Some(first_error) = utf8.first_error else {
        return Ok(Encoding::Utf8);
    };
    if utf8.multibyte >= 4 * utf8.errors {
        return Ok(Encoding::Utf8);
    }
    if let Ok(shape) = decodes(open()?, Encoding::Gb18030)?
        && shape.looks_chinese()
    {
        return Ok(Encoding::Gb18030);
    }
    if utf8.first_line_end.is_none_or(|end| first_error < end) || utf8.nul {
        return Err(NotText {
            offset: first_error,
        }
        .into());
    }
    Ok(Encoding::Utf8)
}

/// UTF-16 without a byte order mark, told by its NUL bytes: the high byte of every
/// ASCII character (digits, commas, line breaks) is 0.
fn utf16_without_mark(start: &[u8]) -> Option<Encoding> {
    let pairs = start.len() / 2;
    if pairs == 0 {
        return None;
    }
    let (mut even, mut odd) = (0, 0);
    for pair in start.chunks_exact(2) {
        even += usize::from(pair[0] == 0);
        odd += usize::from(pair[1] == 0);
    }
    // Many NULs on one side (an eighth of the characters ASCII) and few on the other.
    let many = |n: usize| n * 8 >= pairs;
    if many(odd) && even * 8 <= odd {
        Some(Encoding::Utf16Le)
    } else if many(even) && odd * 8 <= even {
        Some(Encoding::Utf16Be)
    } else {
        None
    }
}

/// What a pass over a file as UTF-8 found.
#[derive(Debug, Default)]
struct Utf8Stats {
    /// The offset of the next byte fed.
    offset: u64,
    /// The bytes of a character cut by the end of the last chunk.
    carry: Vec<u8>,
    /// Valid characters of more than one byte.
    multibyte: u64,
    /// Invalid sequences.
    errors: u64,
    /// The offset of the first invalid byte.
    first_error: Option<u64>,
    /// The offset of the first line break.
    first_line_end: Option<u64>,
    /// True if a NUL byte was seen.
    nul: bool,
}

impl Utf8Stats {
    fn feed(&mut self, chunk: &[u8]) {
        if self.first_line_end.is_none()
            && let Some(i) = chunk.iter().position(|&b| b == b'\n' || b == b'\r')
        {
            self.first_line_end = Some(self.offset + i as u64);
        }
        self.nul |= chunk.contains(&0);
        let joined;
        let (mut rest, mut at) = if self.carry.is_empty() {
            (chunk, self.offset)
        } else {
            let carried = self.carry.len() as u64;
            joined = [std::mem::take(&mut self.carry).as_slice(), chunk].concat();
            (joined.as_slice(), self.offset - carried)
        };
        self.offset += chunk.len() as u64;
        loop {
            match std::str::from_utf8(rest) {
                Ok(valid) => {
                    self.multibyte += leads(valid.as_bytes());
                    break;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    self.multibyte += leads(&rest[..valid]);
                    let Some(len) = e.error_len() else {
                        self.carry = rest[valid..].to_vec();
                        break;
                    };
                    self.errors += 1;
                    self.first_error.get_or_insert(at + valid as u64);
                    rest = &rest[valid + len..];
                    at += (valid + len) as u64;
                }
            }
        }
    }

    /// The end of the file: a character cut by it is invalid.
    fn finish(&mut self) {
        if !self.carry.is_empty() {
            self.errors += 1;
            self.first_error
                .get_or_insert(self.offset - self.carry.len() as u64);
            self.carry.clear();
        }
    }
}

/// The lead bytes of the multi-byte characters of valid UTF-8.
fn leads(valid: &[u8]) -> u64 {
    valid.iter().filter(|&&b| b >= 0xC0).count() as u64
}

/// The two-byte characters of a GB18030 file, by their second byte.
#[derive(Debug, Default, Clone, Copy)]
struct Shape {
    /// Second byte 0x80 and above: every character of GB2312, and so nearly every
    /// character of simplified Chinese text.
    high: u64,
    /// Second byte 0x40 to 0x7E: rarer characters, and what another encoding's
    /// accented letter followed by a plain one looks like (Windows-1252 `Mü` reads as
    /// one such character).
    low: u64,
}

impl Shape {
    fn looks_chinese(self) -> bool {
        self.high > 0 && self.low <= self.high
    }

    fn feed(&mut self, pending: &mut Option<u8>, bytes: &[u8]) {
        for &b in bytes {
            match pending.take() {
                None if b >= 0x81 => *pending = Some(b),
                None => {}
                // The second byte of a four-byte sequence: count nothing, and take
                // its other two bytes for a lead and a second byte.
                Some(_) if b.is_ascii_digit() => {}
                Some(_) if b >= 0x80 => self.high += 1,
                Some(_) => self.low += 1,
            }
        }
    }
}

/// Decodes all of `file` as `encoding`: its shape, or the offset of the first byte
/// that is not of the encoding.
fn decodes(file: impl Read, encoding: Encoding) -> io::Result<Result<Shape, u64>> {
    let mut shape = Shape::default();
    let mut pending = None;
    let mut decoded = Decoded::new(file, encoding);
    let mut buf = vec![0; SNIFF];
    loop {
        match decoded.read(&mut buf) {
            Ok(0) => return Ok(Ok(shape)),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return match decoded.malformed_at() {
                    Some(offset) => Ok(Err(offset)),
                    None => Err(e),
                };
            }
        }
        if encoding == Encoding::Gb18030 {
            shape.feed(&mut pending, decoded.last_input());
        }
    }
}

/// A file in some [`Encoding`], read as UTF-8.
pub struct Decoded<R> {
    inner: R,
    /// For an encoding other than UTF-8: the transcoding state.
    transcoder: Option<Box<Transcoder>>,
    /// The bytes of the file read so far.
    consumed: u64,
}

/// The state of transcoding to UTF-8.
struct Transcoder {
    decoder: encoding_rs::Decoder,
    encoding: Encoding,
    input: Vec<u8>,
    /// The input bytes not decoded yet: `input[start..end]`.
    start: usize,
    end: usize,
    /// The input bytes decoded by the last call, for [`Decoded::last_input`].
    last: (usize, usize),
    eof: bool,
    output: Vec<u8>,
    /// The output bytes not handed out yet: `output[out_start..out_end]`.
    out_start: usize,
    out_end: usize,
    finished: bool,
    malformed: Option<u64>,
}

impl<R: Read> Decoded<R> {
    /// Reads `inner`, in `encoding`, as UTF-8.
    pub fn new(inner: R, encoding: Encoding) -> Self {
        Decoded {
            inner,
            transcoder: encoding.decoder().map(|decoder| {
                Box::new(Transcoder {
                    decoder,
                    encoding,
                    input: vec![0; SNIFF],
                    start: 0,
                    end: 0,
                    last: (0, 0),
                    eof: false,
                    output: vec![0; 3 * SNIFF + 16],
                    out_start: 0,
                    out_end: 0,
                    finished: false,
                    malformed: None,
                })
            }),
            consumed: 0,
        }
    }

    /// How many bytes of the file (not of the UTF-8 text) were read so far.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// True if the file is transcoded (it is not UTF-8).
    pub fn transcodes(&self) -> bool {
        self.transcoder.is_some()
    }

    /// The offset of the first byte that is not of the encoding, once reading found
    /// one.
    fn malformed_at(&self) -> Option<u64> {
        self.transcoder.as_ref().and_then(|t| t.malformed)
    }

    /// The file's bytes that the last read decoded.
    fn last_input(&self) -> &[u8] {
        self.transcoder
            .as_ref()
            .map_or(&[], |t| &t.input[t.last.0..t.last.1])
    }
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(t) = self.transcoder.as_mut() else {
            let n = self.inner.read(buf)?;
            self.consumed += n as u64;
            return Ok(n);
        };
        t.last = (t.start, t.start);
        loop {
            if t.out_start < t.out_end {
                let n = buf.len().min(t.out_end - t.out_start);
                buf[..n].copy_from_slice(&t.output[t.out_start..t.out_start + n]);
                t.out_start += n;
                return Ok(n);
            }
            if let Some(offset) = t.malformed {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("byte {offset}: not valid {}", t.encoding.name()),
                ));
            }
            if t.finished {
                return Ok(0);
            }
            if t.start == t.end && !t.eof {
                let n = loop {
                    match self.inner.read(&mut t.input) {
                        Ok(n) => break n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                };
                t.start = 0;
                t.end = n;
                t.last = (0, 0);
                t.eof = n == 0;
            }
            let (result, read, written) = t.decoder.decode_to_utf8_without_replacement(
                &t.input[t.start..t.end],
                &mut t.output,
                t.eof,
            );
            t.last = (t.last.0.min(t.start), t.start + read);
            t.start += read;
            self.consumed += read as u64;
            t.out_start = 0;
            t.out_end = written;
            match result {
                encoding_rs::DecoderResult::InputEmpty => t.finished = t.eof,
                encoding_rs::DecoderResult::OutputFull => {}
                encoding_rs::DecoderResult::Malformed(bad, after) => {
                    t.malformed = Some(self.consumed - u64::from(after) - u64::from(bad));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detected(bytes: &[u8]) -> Result<Encoding, DetectError> {
        detect(|| Ok(bytes))
    }

    fn read_as(bytes: &[u8]) -> Result<String, String> {
        let encoding = detected(bytes).map_err(|e| e.to_string())?;
        let mut text = String::new();
        Decoded::new(bytes, encoding)
            .read_to_string(&mut text)
            .map_err(|e| e.to_string())?;
        Ok(text.trim_start_matches('\u{FEFF}').to_owned())
    }

    const TEXT: &str = "姓名,邮箱,电话,生日\n张伟,zhang.wei@example.cn,13800000000,1990-01-02\n\
                        李娜,li.na@example.cn,,\n";

    fn utf16(text: &str, big: bool, mark: bool) -> Vec<u8> {
        let mut bytes = Vec::new();
        for unit in std::iter::once(0xFEFF)
            .filter(|_| mark)
            .chain(text.encode_utf16())
        {
            bytes.extend(if big {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        bytes
    }

    fn gb18030(text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding_rs::GB18030.encode(text);
        assert!(!unmappable);
        bytes.into_owned()
    }

    #[test]
    fn utf8_with_and_without_a_mark() {
        assert_eq!(detected(TEXT.as_bytes()).ok(), Some(Encoding::Utf8));
        let marked = [b"\xEF\xBB\xBF", TEXT.as_bytes()].concat();
        assert_eq!(detected(&marked).ok(), Some(Encoding::Utf8));
        assert_eq!(read_as(&marked).as_deref(), Ok(TEXT));
        assert_eq!(detected(b"").ok(), Some(Encoding::Utf8));
        assert_eq!(detected(b"name\nAda\n").ok(), Some(Encoding::Utf8));
    }

    #[test]
    fn utf16_with_a_mark_either_way_round() {
        for big in [false, true] {
            let bytes = utf16(TEXT, big, true);
            let want = if big {
                Encoding::Utf16Be
            } else {
                Encoding::Utf16Le
            };
            assert_eq!(detected(&bytes).ok(), Some(want));
            assert_eq!(read_as(&bytes).as_deref(), Ok(TEXT));
        }
    }

    #[test]
    fn utf16_without_a_mark_by_its_nul_bytes() {
        let le = utf16(TEXT, false, false);
        assert_eq!(detected(&le).ok(), Some(Encoding::Utf16Le));
        assert_eq!(read_as(&le).as_deref(), Ok(TEXT));
        let be = utf16("name,email\nAda,ada@example.com\n", true, false);
        assert_eq!(detected(&be).ok(), Some(Encoding::Utf16Be));
    }

    #[test]
    fn gbk_and_gb18030_by_elimination() {
        let bytes = gb18030(TEXT);
        assert!(std::str::from_utf8(&bytes).is_err());
        assert_eq!(detected(&bytes).ok(), Some(Encoding::Gb18030));
        assert_eq!(read_as(&bytes).as_deref(), Ok(TEXT));
        // Characters beyond GBK take four bytes in GB18030.
        let rare = "name\n𠀀明\n";
        assert_eq!(read_as(&gb18030(rare)).as_deref(), Ok(rare));
        // GBK's own encoder writes the same bytes for GBK's characters.
        let (gbk, _, _) = encoding_rs::GBK.encode(TEXT);
        assert_eq!(read_as(&gbk).as_deref(), Ok(TEXT));
        // Over a long file, the detection reads in parts.
        let long = format!("name\n{}", "王芳,\n".repeat(30_000));
        assert_eq!(read_as(&gb18030(&long)).as_deref(), Ok(long.as_str()));
    }

    #[test]
    fn a_few_bad_bytes_in_utf8_text_stay_utf8() {
        // The rows with the bad bytes are refused by the CSV reader, as always.
        let bytes = [
            b"name,city\n".as_slice(),
            "张伟,上海\n李娜,北京\n".as_bytes(),
            b"Jos\xE9,x\n",
        ]
        .concat();
        assert_eq!(detected(&bytes).ok(), Some(Encoding::Utf8));
        let ascii = b"customer,date,amount\nC-1,2026-01-05,1,caf\xE9\n";
        assert_eq!(detected(ascii).ok(), Some(Encoding::Utf8));
        // Windows-1252 `Müller` decodes as GB18030, but does not look like Chinese.
        assert_eq!(
            detected(b"name\nM\xFCller\nM\xFCnster\n").ok(),
            Some(Encoding::Utf8)
        );
    }

    #[test]
    fn anything_else_is_refused_with_the_offset() {
        let bad = detected(b"name\xFF\xFE\xFD,email\nx,y\n").expect_err("not text");
        assert_eq!(
            bad.to_string(),
            "byte 4: not UTF-8, UTF-16 or GB18030; save it as UTF-8"
        );
        // A zip file (an .xlsx), NUL bytes and all.
        let zip = b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\xFF\x9A\n\xFFx";
        assert!(matches!(
            detected(zip),
            Err(DetectError::NotText(NotText { offset: 14 }))
        ));
        // UTF-16 with an unpaired surrogate.
        let mut broken = utf16("name\n", false, true);
        broken.extend([0x00, 0xD8, b'a', 0x00]);
        assert!(matches!(
            detected(&broken),
            Err(DetectError::NotText(NotText { offset: 12 }))
        ));
        let err = Decoded::new(broken.as_slice(), Encoding::Utf16Le)
            .read_to_end(&mut Vec::new())
            .expect_err("malformed");
        assert_eq!(err.to_string(), "byte 12: not valid UTF-16LE");
    }

    #[test]
    fn the_start_of_a_utf8_file_is_enough() {
        assert_eq!(
            sniff(TEXT.as_bytes(), true),
            Some(Detected::Sure(Encoding::Utf8))
        );
        let many = TEXT.repeat(4);
        assert_eq!(
            sniff(many.as_bytes(), false),
            Some(Detected::Sure(Encoding::Utf8))
        );
        assert_eq!(sniff(b"name\nAda\n", false), Some(Detected::Utf8SoFar));
        // A character cut by the end of the part read.
        let cut = many.rfind("李娜").expect("a name") + 1;
        assert_eq!(
            sniff(&many.as_bytes()[..cut], false),
            Some(Detected::Sure(Encoding::Utf8))
        );
        assert_eq!(sniff(&gb18030(TEXT), false), None);
        assert_eq!(sniff(&utf16(TEXT, false, true), false), None);
        assert_eq!(sniff(&utf16(TEXT, false, false), false), None);
    }

    #[test]
    fn utf8_is_read_as_it_is() {
        let mut d = Decoded::new(TEXT.as_bytes(), Encoding::Utf8);
        let mut text = String::new();
        d.read_to_string(&mut text).expect("read");
        assert_eq!(text, TEXT);
        assert_eq!(d.consumed(), TEXT.len() as u64);
        assert!(!d.transcodes());
    }
}
