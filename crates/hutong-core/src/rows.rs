//! Rows of certificates in the import format, from CSV or NDJSON: what `hutong import` reads
//! from a file and `POST /api/v1/certificates/batch` from a body.
//!
//! CSV has the header `number,kind,holder_name,holder_id,occupation,level,issuer,issued_on,
//! valid_until,status` and may add `status_on`, `first_issued_on` and `last_review_on`, each
//! once. NDJSON holds one JSON object per line with the same field names (`null` counts as
//! empty). Both are UTF-8 and may start with a byte order mark. A row may be at most
//! [`MAX_ROW_BYTES`] long. Errors carry the line; messages never repeat an ID number whole
//! (callers mask them, see [`crate::number::mask_id_numbers`]).

use std::io::{BufRead, BufReader, Read};

use crate::record::RecordInput;

/// The formats rows come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Ndjson,
}

/// The longest row a file may have, in bytes: a line of NDJSON, a record of CSV (which may run
/// over several lines inside quotes). Real rows are a few hundred bytes; the limit keeps a
/// malformed file from filling the memory.
pub const MAX_ROW_BYTES: usize = 64 * 1024;

fn too_long() -> String {
    format!("is longer than the limit of {MAX_ROW_BYTES} bytes (MAX_ROW_BYTES)")
}

pub const REQUIRED: [&str; 10] = [
    "number",
    "kind",
    "holder_name",
    "holder_id",
    "occupation",
    "level",
    "issuer",
    "issued_on",
    "valid_until",
    "status",
];
pub const OPTIONAL: [&str; 4] = [
    "status_on",
    "first_issued_on",
    "last_review_on",
    "status_reason",
];

/// In place of `holder_id`, an export ([`crate::export`]) gives `holder_key`.
pub const HOLDER_KEY: &str = "holder_key";

/// One row, with where it came from.
pub struct Row {
    pub line: u64,
    pub input: RecordInput,
}

fn set_field(r: &mut RecordInput, name: &str, value: String) {
    match name {
        "number" => r.number = value,
        "kind" => r.kind = value,
        "holder_name" => r.holder_name = value,
        "holder_id" => r.holder_id = value,
        "holder_key" => r.holder_key = value,
        "status_reason" => r.status_reason = value,
        "occupation" => r.occupation = value,
        "level" => r.level = value,
        "issuer" => r.issuer = value,
        "issued_on" => r.issued_on = value,
        "valid_until" => r.valid_until = value,
        "status" => r.status = value,
        "status_on" => r.status_on = value,
        "first_issued_on" => r.first_issued_on = value,
        "last_review_on" => r.last_review_on = value,
        _ => {}
    }
}

/// Reads rows one at a time from a CSV or NDJSON file. A row that cannot even be read as a row
/// (bad JSON, wrong number of CSV fields) is returned as an error with its line.
enum Inner {
    Csv {
        reader: csv::Reader<RowLimit<Box<dyn Read + Send>>>,
        columns: Vec<String>,
        record: csv::StringRecord,
        /// After a row over the limit: the rest of the file is not read.
        stopped: bool,
    },
    Ndjson {
        reader: Box<dyn BufRead + Send>,
        line: u64,
        buf: Vec<u8>,
    },
}

/// The error [`RowLimit`] stops a CSV file with: the line its long row starts on.
#[derive(Debug)]
struct RowTooLong {
    line: u64,
}

impl std::fmt::Display for RowTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: the row {}", self.line, too_long())
    }
}

impl std::error::Error for RowTooLong {}

/// Passes a CSV file through, failing with [`RowTooLong`] as soon as one record exceeds
/// [`MAX_ROW_BYTES`]. A record ends at a line end outside quotes; a doubled quote inside a quoted
/// field toggles twice, so counting quotes finds the ends without parsing the fields.
struct RowLimit<R> {
    inner: R,
    in_quotes: bool,
    row_bytes: usize,
    line: u64,
    row_line: u64,
}

impl<R: Read> RowLimit<R> {
    fn new(inner: R) -> Self {
        RowLimit {
            inner,
            in_quotes: false,
            row_bytes: 0,
            line: 1,
            row_line: 1,
        }
    }
}

impl<R: Read> Read for RowLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Reads are kept smaller than the limit, so the read that overflows holds bytes of the
        // long row only, and every row before it has been passed on whole.
        let cap = buf.len().min(MAX_ROW_BYTES / 8);
        let n = self.inner.read(&mut buf[..cap])?;
        for &b in &buf[..n] {
            self.row_bytes += 1;
            match b {
                b'"' => self.in_quotes = !self.in_quotes,
                b'\n' => {
                    self.line += 1;
                    if !self.in_quotes {
                        self.row_bytes = 0;
                        self.row_line = self.line;
                    }
                }
                _ => {}
            }
            if self.row_bytes > MAX_ROW_BYTES {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    RowTooLong {
                        line: self.row_line,
                    },
                ));
            }
        }
        Ok(n)
    }
}

/// The line of the long row, when a CSV error is [`RowLimit`]'s.
fn row_too_long(e: &csv::Error) -> Option<u64> {
    match e.kind() {
        csv::ErrorKind::Io(io) => io
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<RowTooLong>())
            .map(|r| r.line),
        _ => None,
    }
}

/// Skips the rest of a line, without keeping it.
fn skip_line(reader: &mut dyn BufRead) -> std::io::Result<()> {
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(());
        }
        match available.iter().position(|&b| b == b'\n') {
            Some(end) => {
                reader.consume(end + 1);
                return Ok(());
            }
            None => {
                let n = available.len();
                reader.consume(n);
            }
        }
    }
}

/// Rows read one at a time; see [`Rows::open`] and [`Rows::next_row`].
pub struct Rows(Inner);

impl Rows {
    pub fn open(shown: &str, format: Format, file: Box<dyn Read + Send>) -> Result<Rows, String> {
        match format {
            Format::Csv => {
                let mut reader = csv::ReaderBuilder::new()
                    .flexible(false)
                    .from_reader(RowLimit::new(file));
                let headers = reader.headers().map_err(|e| match row_too_long(&e) {
                    Some(_) => {
                        format!("{shown}:1: the header {}", too_long())
                    }
                    None => format!("{shown}:1: cannot read the header: {e}"),
                })?;
                let columns: Vec<String> = headers
                    .iter()
                    .enumerate()
                    .map(|(i, h)| {
                        if i == 0 {
                            h.trim_start_matches('\u{feff}').trim()
                        } else {
                            h.trim()
                        }
                        .to_string()
                    })
                    .collect();
                let unknown: Vec<&str> = columns
                    .iter()
                    .map(String::as_str)
                    .filter(|c| !REQUIRED.contains(c) && !OPTIONAL.contains(c) && *c != HOLDER_KEY)
                    .collect();
                if !unknown.is_empty() {
                    return Err(format!(
                        "{shown}:1: unknown column(s) {}; the columns are {} (and optionally {})",
                        unknown.join(", "),
                        REQUIRED.join(","),
                        OPTIONAL.join(",")
                    ));
                }
                for (i, c) in columns.iter().enumerate() {
                    if let Some(first) = columns[..i].iter().position(|earlier| earlier == c) {
                        return Err(format!(
                            "{shown}:1: the column \"{c}\" appears twice (columns {} and {}); each column may appear once",
                            first + 1,
                            i + 1
                        ));
                    }
                }
                // An export's rows give the holder's keyed hash instead of the ID number.
                let exported = columns.iter().any(|c| c == HOLDER_KEY);
                let missing: Vec<&str> = REQUIRED
                    .iter()
                    .copied()
                    .filter(|r| !(exported && *r == "holder_id"))
                    .filter(|r| !columns.iter().any(|c| c == r))
                    .collect();
                if !missing.is_empty() {
                    return Err(format!(
                        "{shown}:1: missing column(s) {}",
                        missing.join(", ")
                    ));
                }
                Ok(Rows(Inner::Csv {
                    reader,
                    columns,
                    record: csv::StringRecord::new(),
                    stopped: false,
                }))
            }
            Format::Ndjson => Ok(Rows(Inner::Ndjson {
                reader: Box::new(BufReader::new(file)),
                line: 0,
                buf: Vec::new(),
            })),
        }
    }

    /// The next row, `None` at the end; `Some(Err((line, message)))` for an unreadable row; an
    /// error for input that cannot be read at all.
    pub fn next_row(&mut self) -> std::io::Result<Option<Result<Row, (u64, String)>>> {
        match &mut self.0 {
            Inner::Csv { stopped: true, .. } => Ok(None),
            Inner::Csv {
                reader,
                columns,
                record,
                stopped,
            } => match reader.read_record(record) {
                Ok(false) => Ok(None),
                Ok(true) => {
                    let line = record.position().map(|p| p.line()).unwrap_or(0);
                    let mut input = RecordInput::default();
                    for (name, value) in columns.iter().zip(record.iter()) {
                        set_field(&mut input, name, value.to_string());
                    }
                    Ok(Some(Ok(Row { line, input })))
                }
                Err(e) => {
                    if let Some(line) = row_too_long(&e) {
                        *stopped = true;
                        return Ok(Some(Err((
                            line,
                            format!("{}; the rest of the file was not read", too_long()),
                        ))));
                    }
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    let msg = match e.kind() {
                        csv::ErrorKind::UnequalLengths {
                            expected_len, len, ..
                        } => {
                            format!("has {len} fields, the header has {expected_len}")
                        }
                        csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_string(),
                        csv::ErrorKind::Io(_) => {
                            return Err(std::io::Error::other(e));
                        }
                        _ => e.to_string(),
                    };
                    Ok(Some(Err((line, msg))))
                }
            },
            Inner::Ndjson { reader, line, buf } => loop {
                buf.clear();
                // One line as bytes, at most one byte over the limit: a line that is not UTF-8
                // or too long is rejected alone, and the next line is read as it is.
                let n = reader
                    .by_ref()
                    .take(MAX_ROW_BYTES as u64 + 1)
                    .read_until(b'\n', buf)?;
                if n == 0 {
                    return Ok(None);
                }
                *line += 1;
                let ended = buf.last() == Some(&b'\n');
                if !ended && buf.len() > MAX_ROW_BYTES {
                    skip_line(reader)?;
                    return Ok(Some(Err((*line, too_long()))));
                }
                let Ok(text) = std::str::from_utf8(buf) else {
                    return Ok(Some(Err((*line, "is not valid UTF-8".into()))));
                };
                // A byte order mark may start the file, as in CSV.
                let text = if *line == 1 {
                    text.trim_start_matches('\u{feff}')
                } else {
                    text
                };
                let text = text.trim();
                if text.is_empty() {
                    continue;
                }
                return Ok(Some(
                    parse_json_row(text)
                        .map(|input| Row { line: *line, input })
                        .map_err(|m| (*line, m)),
                ));
            },
        }
    }
}

pub fn parse_json_row(text: &str) -> Result<RecordInput, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("is not valid JSON: {e}"))?;
    let serde_json::Value::Object(map) = value else {
        return Err("is not a JSON object".into());
    };
    let mut input = RecordInput::default();
    for (k, v) in map {
        if !REQUIRED.contains(&k.as_str()) && !OPTIONAL.contains(&k.as_str()) && k != HOLDER_KEY {
            return Err(format!(
                "{k}: unknown field (the fields are {} and optionally {})",
                REQUIRED.join(", "),
                OPTIONAL.join(", ")
            ));
        }
        let s = match v {
            serde_json::Value::Null => String::new(),
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            other => return Err(format!("{k}: must be a string, not {other}")),
        };
        set_field(&mut input, &k, s);
    }
    Ok(input)
}
