//! Exit codes that mean something: 0 ok, 1 error, 2 verification failed or not recognised,
//! 3 invalid input or policy.

use std::process::ExitCode;

use hutong_core::number::mask_id_numbers;

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
            eprintln!("error: {}", mask_id_numbers(&format!("{e:#}")));
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

/// Verification failed or not recognised (exit code 2): a witness refusing an inconsistent log.
pub fn failed(message: impl Into<String>) -> anyhow::Error {
    Failure {
        code: 2,
        message: message.into(),
    }
    .into()
}
