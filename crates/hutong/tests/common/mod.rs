//! Helpers shared by the command's test files (each test file uses a part of them).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository's root folder.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// `hutong` run in `dir` as a new user would run it there: no `HUTONG_*` variable from the
/// test's own environment, warnings shown, the repository's policy.
pub fn hutong_in(dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hutong"));
    cmd.current_dir(dir).env("RUST_LOG", "warn");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("HUTONG_") {
            cmd.env_remove(k);
        }
    }
    cmd.arg("--policy").arg(repo().join("policy"));
    cmd
}
