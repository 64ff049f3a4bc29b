//! Exit codes that mean something: 0 ok, 1 error, 2 verification failed or not recognised,
//! 3 invalid input or policy.

use std::borrow::Cow;
use std::process::ExitCode;

use hutong_core::number::{NumberScheme, display};

pub const INVALID: u8 = 3;

/// An error that carries its exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Invalid input or policy (exit code 3).
pub fn invalid(message: impl Into<String>) -> anyhow::Error {
    Failure {
        code: INVALID,
        message: message.into(),
    }
    .into()
}

pub fn finish(result: anyhow::Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            let code = e.downcast_ref::<Failure>().map(|f| f.code).unwrap_or(1);
            eprintln!("error: {}", without_id_numbers(&format!("{e:#}")));
            ExitCode::from(code)
        }
    }
}

/// Writes a line of output; `false` when the reader has gone away (`hutong … | head`), which
/// ends the output quietly instead of failing.
pub fn print_line(out: &mut impl std::io::Write, line: &str) -> anyhow::Result<bool> {
    match writeln!(out, "{line}") {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// `text` with every resident ID number in it masked as public answers mask them
/// ([`hutong_core::number::display`]: `44************1233`), also inside a `T…` certificate
/// number. An ID number is 17 digits and a digit or `X`, not part of a longer run of digits; its
/// check character is not checked, since a mistyped ID number is personal data too. Messages
/// about input (a value in the wrong column, a conflicting number) go through this before they
/// are printed: terminals and CI logs are no place for ID numbers.
pub fn without_id_numbers(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = i - start;
        let x = i < b.len() && (b[i] == b'X' || b[i] == b'x');
        let end = match (digits, x) {
            (18, false) => i,
            (17, true) => i + 1,
            _ => continue,
        };
        // A digit right after its `X` makes it part of a longer token.
        if end < b.len() && b[end].is_ascii_digit() {
            i = end;
            continue;
        }
        let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
        o.push_str(&text[copied..start]);
        o.push_str(&display(NumberScheme::ResidentId, &text[start..end]));
        copied = end;
        i = end;
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::without_id_numbers;

    #[test]
    fn id_numbers_are_masked_wherever_they_are() {
        assert_eq!(
            without_id_numbers("kind: \"440305198507031233\" is not a certificate kind"),
            "kind: \"44************1233\" is not a certificate kind"
        );
        assert_eq!(
            without_id_numbers("T440305198507031233 of kind mem.x; 11010519491231002x,"),
            "T44************1233 of kind mem.x; 11************002x,"
        );
        // Longer or shorter runs of digits are not ID numbers: a skill level number, a count.
        for kept in [
            "S000044000123244000042",
            "read 4063 rows",
            "4403051985070312331",
            "44030519850703123X5",
        ] {
            assert_eq!(without_id_numbers(kept), kept);
        }
    }
}
