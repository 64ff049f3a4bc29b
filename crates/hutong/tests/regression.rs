//! Regression tests of the `hutong` command, one per defect, named after it (`r8_<item>_…`
//! for the items of issue 8). Each runs the built binary in a temporary folder of its own.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{code, hutong_in, repo, text};

const MEM_ROW: &str = "T440305198507031233,mem.electrical.low-voltage,张小明,440305198507031233,,,mem.44,2023-05-10,2029-05-10,valid";
const SAMR_ROW: &str = "320102197802145629,samr.welding.metal,陈静,320102197802145629,,,samr.32,2022-08-15,2026-08-15,";
const HEADER: &str =
    "number,kind,holder_name,holder_id,occupation,level,issuer,issued_on,valid_until,status";

/// Runs hutong in `dir` with `dir` as its data folder.
fn run(dir: &Path, args: &[&str]) -> Output {
    hutong_in(dir)
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

/// Runs a command that is expected to end by itself; one still running after `secs` (a server
/// that should have refused to start) is killed, and its output returned as it was.
fn output_within(cmd: &mut std::process::Command, secs: u64) -> Output {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn register_example_issuers(dir: &Path) {
    let o = run(
        dir,
        &[
            "issuers",
            "import",
            repo().join("examples/issuers.toml").to_str().unwrap(),
        ],
    );
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
}

/// Every file and folder under `dir`, relative to it, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if p.is_dir() {
                todo.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The resident ID numbers (17 digits and a digit or X) that appear whole in `s`.
fn id_numbers_in(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    for i in 0..b.len().saturating_sub(17) {
        let w = &b[i..i + 18];
        if w[..17].iter().all(u8::is_ascii_digit)
            && (w[17].is_ascii_digit() || w[17] == b'X' || w[17] == b'x')
        {
            out.push(String::from_utf8_lossy(w).into_owned());
        }
    }
    out
}

#[test]
fn r8_01_a_sqlite_database_elsewhere_keeps_its_key_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("other")).unwrap();
    let o = hutong_in(dir.path())
        .args([
            "demo",
            "--database",
            "sqlite://other/x.db",
            "--certificates",
            "200",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(dir.path().join("other/holder.key").is_file());
    assert!(
        !dir.path().join("data").exists(),
        "nothing is made in the data folder the database does not use: {:?}",
        tree(dir.path())
    );
    // The same database opens again with the key beside it, from anywhere.
    let o = hutong_in(&dir.path().join("other"))
        .args(["--database", "x.db", "issuers", "list"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("mem.44"), "{}", text(&o.stdout));
}

/// The README's PostgreSQL command, from a folder with no `data/` in it.
#[test]
fn r8_01_the_readme_postgres_command_works_from_a_fresh_clone() {
    let Some(db) = tokio::runtime::Runtime::new().unwrap().block_on(
        hutong_store_postgres::testing::TestDatabase::create(
            "r8_01_the_readme_postgres_command_works_from_a_fresh_clone",
        ),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut child = hutong_in(dir.path())
        .env("RUST_LOG", "info")
        .args(["--database", db.url(), "serve", "--demo"])
        .args(["--demo-certificates", "300", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut seen = Vec::new();
    let served = loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                let serving = line.contains("hutong serving on");
                seen.push(line);
                if serving {
                    break true;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {}
            Err(_) => break false,
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    assert!(served, "the server did not start:\n{}", seen.join("\n"));
    assert!(
        dir.path().join("data/holder.key").is_file(),
        "{:?}",
        tree(dir.path())
    );
}

#[test]
fn r8_01_a_failing_command_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("other")).unwrap();
    std::fs::write(d.join("other/bad.toml"), "[[issuer]]\nid = \"x\"\n").unwrap();
    let fails = |args: &[&str]| {
        let o = output_within(hutong_in(d).args(args), 60);
        assert_ne!(code(&o), 0, "{args:?} should fail");
        assert_eq!(
            tree(d),
            ["other", "other/bad.toml"],
            "{args:?} failed ({}) but left files behind",
            text(&o.stderr).trim()
        );
        text(&o.stderr)
    };
    // A key file in a folder that does not exist: found before the database is made.
    let err = fails(&[
        "--database",
        "sqlite://other/x.db",
        "--holder-key-file",
        "nowhere/k.key",
        "demo",
        "--certificates",
        "10",
    ]);
    assert!(err.contains("nowhere"), "{err}");
    // A bad issuers file, a missing import file, a samples file in a missing folder: nothing,
    // not even the default data folder, is made.
    fails(&["issuers", "import", "other/bad.toml"]);
    fails(&["import", "other/missing.csv"]);
    fails(&["demo", "--certificates", "10", "--samples", "nowhere/s.csv"]);
    // A PostgreSQL server that cannot be reached leaves no key.
    fails(&["--database", "postgres://127.0.0.1:1/x", "issuers", "list"]);
    // An address already in use.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let err = fails(&["serve", "--listen", &addr]);
    assert!(err.contains("cannot listen on"), "{err}");
}

#[test]
fn r8_02_a_named_data_dir_that_does_not_exist_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let typo = d.join("nonexistent/dd");
    let o = hutong_in(d)
        .arg("--data-dir")
        .arg(&typo)
        .args(["issuers", "list"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 3, "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains(&format!("{} does not exist", typo.display())) && err.contains("--data-dir"),
        "{err}"
    );
    let o = output_within(
        hutong_in(d)
            .env("HUTONG_DATA_DIR", &typo)
            .args(["serve", "--listen", "127.0.0.1:0"]),
        30,
    );
    assert_eq!(code(&o), 3, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("HUTONG_DATA_DIR"),
        "{}",
        text(&o.stderr)
    );
    std::fs::write(
        d.join("hutong.toml"),
        format!("data_dir = \"{}\"\n", typo.display()),
    )
    .unwrap();
    let o = hutong_in(d).args(["issuers", "list"]).output().unwrap();
    assert_eq!(code(&o), 3, "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("data_dir in hutong.toml"),
        "{}",
        text(&o.stderr)
    );
    assert!(!d.join("nonexistent").exists());
    std::fs::remove_file(d.join("hutong.toml")).unwrap();
    // The default folder is still made for a new user.
    let o = hutong_in(d).args(["issuers", "list"]).output().unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(d.join("data/hutong.db").is_file() && d.join("data/holder.key").is_file());
}

#[test]
fn r8_03_unknown_config_keys_and_variables_are_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("hutong.toml"),
        "colour = \"red\"\nlisten = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    let o = hutong_in(d)
        .env("HUTONG_DATABSE", "sqlite://typo.db")
        .args(["issuers", "list"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let err = text(&o.stderr);
    assert!(
        err.contains("hutong.toml: unknown key \"colour\" ignored"),
        "{err}"
    );
    assert!(
        err.contains("unknown environment variable HUTONG_DATABSE ignored"),
        "{err}"
    );
}

#[test]
fn r8_05_ndjson_invalid_utf8_keeps_next_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    register_example_issuers(d);
    let row = |number: &str, kind: &str| {
        format!(
            r#"{{"number":"{number}","kind":"{kind}","holder_name":"张小明","holder_id":"440305198507031233","issuer":"mem.44","issued_on":"2023-05-10","valid_until":"2029-05-10","status":"valid"}}"#
        )
    };
    let mut file = Vec::new();
    file.extend(row("T440305198507031233", "mem.electrical.low-voltage").as_bytes());
    file.extend(b"\n{\"number\": \"\xff\xfe\"}\n");
    file.extend(row("T440305198507031233", "mem.electrical.high-voltage").as_bytes());
    file.extend(b"\n{\"number\": 12\n");
    std::fs::write(d.join("rows.ndjson"), &file).unwrap();
    let o = run(d, &["import", "rows.ndjson"]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(
        out.contains("read 4 rows: 2 stored, 0 unchanged, 2 rejected"),
        "{out}\n{err}"
    );
    assert!(
        err.contains("rows.ndjson:2: rejected: the row is not valid UTF-8"),
        "{err}"
    );
    assert!(
        err.contains("rows.ndjson:4: rejected: the row is not valid JSON"),
        "{err}"
    );

    // Random bytes: every line is read, and counted, once.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let bytes: Vec<u8> = (0..200_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let lines = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !matches!(std::str::from_utf8(l), Ok(s) if s.trim().is_empty()))
        .count();
    std::fs::write(d.join("random.ndjson"), &bytes).unwrap();
    let o = run(d, &["import", "random.ndjson"]);
    let out = text(&o.stdout);
    assert!(
        out.contains(&format!(
            "read {lines} rows: 0 stored, 0 unchanged, {lines} rejected"
        )),
        "{out}"
    );
}

#[test]
fn r8_07_strict_in_file_duplicate_is_reported_on_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    register_example_issuers(d);
    let changed = MEM_ROW.replace("2023-05-10", "2023-05-11");
    std::fs::write(
        d.join("dup.csv"),
        format!("{HEADER}\n{MEM_ROW}\n{SAMR_ROW}\n{changed}\n"),
    )
    .unwrap();
    let o = run(d, &["import", "--strict", "dup.csv"]);
    assert_eq!(code(&o), 3);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(out.contains("nothing was stored"), "{out}");
    assert!(err.contains("dup.csv:4: rejected: "), "{err}");
    assert!(!err.contains("dup.csv:2:"), "{err}");
    assert!(
        err.contains("line 2"),
        "the first occurrence is named: {err}"
    );
    assert!(!err.contains("already registered"), "{err}");
    assert!(id_numbers_in(&err).is_empty(), "{err}");
    // Nothing was registered.
    let o = run(d, &["import", "--strict", "dup.csv"]);
    assert!(!text(&o.stderr).contains("already registered"));
}

#[test]
fn r8_08_a_duplicated_csv_column_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    register_example_issuers(d);
    std::fs::write(
        d.join("twice.csv"),
        format!("{HEADER},status\n{MEM_ROW},revoked\n"),
    )
    .unwrap();
    let o = run(d, &["import", "twice.csv"]);
    assert_eq!(code(&o), 3, "{}", text(&o.stdout));
    assert!(
        text(&o.stderr)
            .contains("twice.csv:1: the column \"status\" appears twice (columns 10 and 11)"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn r8_08_a_utf8_bom_starts_an_ndjson_file_as_it_does_a_csv() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    register_example_issuers(d);
    let row = r#"{"number":"T440305198507031233","kind":"mem.electrical.low-voltage","holder_name":"张小明","holder_id":"440305198507031233","issuer":"mem.44","issued_on":"2023-05-10","valid_until":"2029-05-10","status":"valid"}"#;
    std::fs::write(d.join("bom.ndjson"), format!("\u{feff}{row}\n")).unwrap();
    let o = run(d, &["import", "bom.ndjson"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("1 stored"), "{}", text(&o.stdout));
}

#[test]
fn r8_08_overlong_lines_are_refused_naming_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    register_example_issuers(d);
    let long = "a".repeat(3 << 20);
    let row = r#"{"number":"T440305198507031233","kind":"mem.electrical.low-voltage","holder_name":"张小明","holder_id":"440305198507031233","issuer":"mem.44","issued_on":"2023-05-10","valid_until":"2029-05-10","status":"valid"}"#;
    std::fs::write(
        d.join("long.ndjson"),
        format!("{{\"number\":\"{long}\"}}\n{row}\n"),
    )
    .unwrap();
    let o = run(d, &["import", "long.ndjson"]);
    let (out, err) = (text(&o.stdout), text(&o.stderr));
    assert!(
        err.contains("long.ndjson:1: rejected: the row is longer than the limit of 65536 bytes"),
        "{err}"
    );
    assert!(out.contains("read 2 rows: 1 stored"), "{out}");

    std::fs::write(
        d.join("long.csv"),
        format!("{HEADER}\n{SAMR_ROW}\n{long},x\n{MEM_ROW}\n"),
    )
    .unwrap();
    let o = run(d, &["import", "long.csv"]);
    assert_eq!(code(&o), 3);
    let err = text(&o.stderr);
    assert!(
        err.contains("long.csv:3: rejected: the row is longer than the limit of 65536 bytes"),
        "{err}"
    );
    // A quoted field that runs over many lines is one row, and is limited as one.
    let many = "b\n".repeat(40_000);
    std::fs::write(d.join("quoted.csv"), format!("{HEADER}\n\"{many}\",x\n")).unwrap();
    let o = run(d, &["import", "quoted.csv"]);
    assert_eq!(code(&o), 3);
    assert!(
        text(&o.stderr).contains("quoted.csv:2: rejected: the row is longer than the limit"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn r8_11_import_errors_never_repeat_an_id_number() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    register_example_issuers(d);
    let id = "440305198507031233";
    std::fs::write(
        d.join("first.csv"),
        format!("{HEADER}\n{MEM_ROW}\n{SAMR_ROW}\n"),
    )
    .unwrap();
    let o = run(d, &["import", "first.csv"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));

    // Conflicts with the stored rows, and an ID number in every column where it does not belong.
    let mut rows = vec![
        MEM_ROW.replace("2023-05-10", "2023-05-11"),
        SAMR_ROW.replace("2022-08-15", "2022-08-16"),
    ];
    let fields: Vec<&str> = MEM_ROW.split(',').collect();
    for column in [1, 4, 5, 6, 7, 8, 9] {
        let mut f = fields.clone();
        f[column] = id;
        rows.push(f.join(","));
    }
    std::fs::write(
        d.join("bad.csv"),
        format!("{HEADER}\n{}\n", rows.join("\n")),
    )
    .unwrap();
    let mut seen = String::new();
    for args in [
        &["import", "bad.csv"][..],
        &["import", "--strict", "bad.csv"][..],
    ] {
        let o = run(d, args);
        assert_eq!(code(&o), 3);
        seen.push_str(&text(&o.stdout));
        seen.push_str(&text(&o.stderr));
    }
    // Only the two conflicts, with no row in a wrong column, for the strict store's own message.
    std::fs::write(
        d.join("conflicts.csv"),
        format!("{HEADER}\n{}\n{}\n", rows[0], rows[1]),
    )
    .unwrap();
    let o = run(d, &["import", "--strict", "conflicts.csv"]);
    assert_eq!(code(&o), 3);
    assert!(
        text(&o.stderr).contains("conflicts.csv:3: rejected: "),
        "{}",
        text(&o.stderr)
    );
    seen.push_str(&text(&o.stderr));
    // An unknown NDJSON field, a value of the wrong type, an unknown CSV column.
    std::fs::write(
        d.join("bad.ndjson"),
        format!("{{\"{id}\": \"x\"}}\n{{\"kind\": [{id}]}}\n"),
    )
    .unwrap();
    let o = run(d, &["import", "bad.ndjson"]);
    seen.push_str(&text(&o.stderr));
    std::fs::write(d.join("col.csv"), format!("{HEADER},{id}\n")).unwrap();
    let o = run(d, &["import", "col.csv"]);
    assert_eq!(code(&o), 3);
    seen.push_str(&text(&o.stderr));

    assert!(seen.contains("rejected"), "{seen}");
    assert!(
        seen.contains("T44************1233"),
        "numbers are masked, not dropped: {seen}"
    );
    assert_eq!(id_numbers_in(&seen), Vec::<String>::new(), "{seen}");
}

/// The `.rs` files under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `rust-version` must be at least what the code needs: let-chains (`if let … && …`) need
/// 1.88 (and the dependencies' own `rust-version`s reach 1.88 too). The README says the same
/// version.
#[test]
fn r8_04_rust_version_covers_the_let_chains_the_code_uses() {
    let root = repo();
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(root.join("Cargo.toml")).unwrap()).unwrap();
    let stated = manifest["workspace"]["package"]["rust-version"]
        .as_str()
        .unwrap()
        .to_string();
    let version: Vec<u32> = stated.split('.').map(|p| p.parse().unwrap()).collect();
    let mut files = Vec::new();
    rust_files(&root.join("crates"), &mut files);
    let mut chains = Vec::new();
    for f in &files {
        let src = std::fs::read_to_string(f).unwrap();
        let lines: Vec<&str> = src.lines().map(str::trim).collect();
        for (i, l) in lines.iter().enumerate() {
            // rustfmt puts each further condition of a chain on its own `&& …` line.
            let continues_if_let = i > 0
                && l.starts_with("&& ")
                && ["if let ", "} else if let ", "while let "]
                    .iter()
                    .any(|s| lines[i - 1].starts_with(s));
            if l.contains("&& let ") || continues_if_let {
                chains.push(format!("{}:{}", f.display(), i + 1));
            }
        }
    }
    assert!(
        chains.is_empty() || version[..2] >= [1, 88][..],
        "rust-version {stated} is older than the let-chains at {} need (1.88)",
        chains[..chains.len().min(3)].join(", ")
    );
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains(&format!("Rust ({stated} or newer)")),
        "the README names another Rust version than rust-version {stated}"
    );
}

/// `bench verify` from a folder with no `data/` in it, as the README's Performance section
/// runs it (slow: it fills a database and starts a server).
#[test]
fn r8_01_bench_verify_works_from_a_fresh_folder() {
    if std::env::var("HUTONG_SLOW_TESTS").as_deref() != Ok("1") {
        eprintln!("SKIPPED: set HUTONG_SLOW_TESTS=1 to run the benchmark from a fresh folder");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let o = output_within(
        hutong_in(dir.path()).args([
            "bench",
            "verify",
            "--certificates",
            "300",
            "--connections",
            "2",
            "--duration",
            "300ms",
            "--warmup",
            "100ms",
            "--runs",
            "1",
            "--requests",
            "50",
            "--no-baseline",
        ]),
        300,
    );
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(dir.path().join("data/hutong.db").is_file());
}

/// An issuers entry refused as a whole (here a suspended `status` of the older form without
/// its date) is reported at its own `[[issuer]]` line, not at the first entry's; a wrong key
/// keeps its own line.
#[test]
fn an_issuers_entry_refused_as_a_whole_is_reported_at_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = "[[issuer]]\nid = \"mem.44\"\nname_zh = \"广东省应急管理厅\"\ndepartment = \"mem\"\nrole = \"authority\"\nregion = \"44\"\nregistered_on = 2018-04-01\ngrants = [{ kind = \"mem.electrical.low-voltage\", valid_from = 2018-04-01 }]\n\n";
    let old = "[[issuer]]\nid = \"mem.45\"\nname_zh = \"某应急管理厅\"\ndepartment = \"mem\"\nrole = \"authority\"\nregion = \"44\"\nkinds = [\"mem.electrical.low-voltage\"]\nregistered_on = 2018-04-01\n";
    std::fs::write(
        d.join("a.toml"),
        format!("{good}{old}status = \"suspended\"\n"),
    )
    .unwrap();
    let o = run(d, &["issuers", "import", "a.toml"]);
    assert_ne!(code(&o), 0);
    let err = text(&o.stderr);
    assert!(
        err.contains("a.toml:10: status_since: a suspended issuer needs the date it took effect"),
        "{err}"
    );
    std::fs::write(d.join("b.toml"), format!("{good}{old}regoin = \"44\"\n")).unwrap();
    let err = text(&run(d, &["issuers", "import", "b.toml"]).stderr);
    assert!(err.contains("b.toml:18: unknown field `regoin`"), "{err}");
    // Both forms read: the older entry, fixed, is stored beside the newer one.
    std::fs::write(
        d.join("c.toml"),
        format!("{good}{old}status = \"suspended\"\nstatus_since = 2025-01-01\n"),
    )
    .unwrap();
    let o = run(d, &["issuers", "import", "c.toml"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let list = text(&run(d, &["issuers", "list", "--json"]).stdout);
    assert!(
        list.contains(r#""suspensions":[{"from":"2025-01-01"}]"#) && !list.contains("\"kinds\""),
        "{list}"
    );
}

/// A server whose standard error has been closed (its terminal went away, a log collector
/// died) keeps answering: the logging library's own complaint about the failed write used to
/// panic the request's task, so the connection dropped unanswered.
#[test]
fn a_closed_standard_error_does_not_stop_the_server_answering() {
    use std::io::{Read as _, Write as _};
    let dir = tempfile::tempdir().unwrap();
    let (mut child, addr, lines) = spawn_serving(
        hutong_in(dir.path())
            .env("RUST_LOG", "debug")
            .args(["serve", "--demo", "--demo-certificates", "50"])
            .args(["--listen", "127.0.0.1:0"]),
    );
    // Close the pipe: every later log line fails to be written.
    drop(lines);
    for i in 0..5 {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "request {i}: {answer:?}"
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Spawns a `serve` command and waits for the address it serves on; returns the child, the
/// address and the rest of its standard error.
fn spawn_serving(
    cmd: &mut std::process::Command,
) -> (
    std::process::Child,
    String,
    std::io::Lines<BufReader<std::process::ChildStderr>>,
) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(120);
    let addr = loop {
        let line = lines
            .next()
            .expect("the server printed its address")
            .unwrap();
        if let Some(rest) = line.split("hutong serving on http://").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "the server did not start");
    };
    (child, addr, lines)
}

/// Starts `serve` in `dir` with `args` and returns the child and its address.
fn serve_in(dir: &Path, args: &[&str]) -> (std::process::Child, String) {
    let (child, addr, lines) = spawn_serving(
        hutong_in(dir)
            .arg("--data-dir")
            .arg(dir)
            .arg("serve")
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "info"),
    );
    // Keep reading, so that the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, addr)
}

fn get(addr: &str, path: &str) -> String {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    answer
}

/// A registry filled by `hutong demo` and then served without `--demo` showed no demo banner:
/// synthetic certificates could pass for real ones. The registry now records that it holds demo
/// data, and every page says so however it is served; a registry never filled with demo data
/// shows no banner.
#[test]
fn a_demo_database_served_without_demo_still_says_it_is_a_demo() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["demo", "--certificates", "60"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let (mut child, addr) = serve_in(dir.path(), &[]);
    for path in ["/", "/verify", "/directory", "/issuers", "/advice"] {
        let page = get(&addr, path);
        assert!(page.starts_with("HTTP/1.1 200"), "{path}: {page:.200}");
        assert!(page.contains("演示数据"), "{path} has no demo banner");
    }
    // The query page offers a demo holder for the ID number and name form, shown masked, and
    // posting it finds that holder's certificates.
    let page = get(&addr, "/verify");
    let form = page
        .split("action=\"/holder/result\"")
        .find(|f| f.contains("demo-holder"))
        .expect("no demo holder offered");
    let value = |name: &str| {
        form.split(&format!("name=\"{name}\" value=\""))
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_string()
    };
    let (id, name) = (value("id"), value("name"));
    let shown = form
        .split("<button")
        .nth(1)
        .and_then(|b| b.split("</button>").next())
        .unwrap();
    assert!(!shown.contains(&id) && shown.contains("****"), "{shown}");
    let enc = |s: &str| -> String { s.bytes().map(|b| format!("%{b:02X}")).collect() };
    let (status, body) = http(
        &addr,
        "POST",
        "/holder/result",
        Some(&format!("id={}&name={}", enc(&id), enc(&name))),
    );
    assert_eq!(status, 200, "{body:.300}");
    assert!(
        body.contains("/certificates/print") || body.contains("class=\"cert"),
        "{body:.2000}"
    );
    let _ = child.kill();
    let _ = child.wait();

    let real = tempfile::tempdir().unwrap();
    register_example_issuers(real.path());
    let (mut child, addr) = serve_in(real.path(), &[]);
    let page = get(&addr, "/verify");
    assert!(page.starts_with("HTTP/1.1 200"), "{page:.200}");
    assert!(
        !page.contains("演示数据"),
        "a real registry shows the demo banner"
    );
    let _ = child.kill();
    let _ = child.wait();
}

/// `demo --database` elsewhere (PostgreSQL, or another SQLite file in the data folder) wrote its
/// samples into the data folder's `demo-samples.csv`, over the samples of the default database, so `serve --demo` offered certificates that its
/// own database did not hold. Samples are now kept in the database they describe: each
/// registry's query page offers its own.
#[test]
fn a_demo_elsewhere_never_replaces_the_default_databases_samples() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["demo", "--certificates", "60", "--seed", "1"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    // Another database in the same folder: its samples went to the same file.
    let other = format!("sqlite://{}", dir.path().join("x.db").display());
    let o = run(
        dir.path(),
        &[
            "--database",
            &other,
            "demo",
            "--certificates",
            "60",
            "--seed",
            "2",
        ],
    );
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(!dir.path().join("demo-samples.csv").exists());
    let (mut child, addr) = serve_in(dir.path(), &[]);
    let page = get(&addr, "/verify");
    // Every sample the default registry's page offers is found in that registry.
    let field = |form: &str, name: &str| {
        form.split(&format!("name=\"{name}\" value=\""))
            .nth(1)
            .and_then(|s| s.split('"').next())
            .map(str::to_string)
    };
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect()
    };
    let samples: Vec<(String, String, String)> = page
        .split("<form class=\"inline\"")
        .skip(1)
        .filter_map(|f| Some((field(f, "number")?, field(f, "name")?, field(f, "kind")?)))
        .collect();
    assert!(!samples.is_empty(), "no samples offered:\n{page}");
    for (number, name, kind) in &samples {
        let answer = get(
            &addr,
            &format!(
                "/api/v1/verify?number={}&name={}&kind={}",
                enc(number),
                enc(name),
                enc(kind)
            ),
        );
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "{number} is offered but not in the registry: {answer:.300}"
        );
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// `hutong issuers import` changed registered issuers' rights at once, without saying what
/// changed or which certificates it touched: a file that dropped a right turned valid
/// certificates into ones whose issuer check fails. It now prints each issuer's gained and lost
/// rights and fields and how many registered certificates would change their issuer check, and
/// stores nothing without `--yes` when there are any; `--dry-run` only prints.
#[test]
fn an_issuers_import_shows_what_changes_and_asks_before_it_touches_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    register_example_issuers(d);
    let o = run(
        d,
        &[
            "import",
            repo().join("examples/certificates.csv").to_str().unwrap(),
        ],
    );
    // One of its rows is refused on purpose (a mistyped ID number).
    assert!(text(&o.stdout).contains("5 stored"), "{}", text(&o.stdout));
    let example = std::fs::read_to_string(repo().join("examples/issuers.toml")).unwrap();
    let dropped = example.replacen(
        "  { kind = \"mem.electrical.low-voltage\", valid_from = 2018-04-01 },\n",
        "",
        1,
    );
    assert_ne!(dropped, example);
    let dropped = dropped.replacen("contact = \"020-12345\"", "contact = \"020-54321\"", 1);
    std::fs::write(d.join("changed.toml"), &dropped).unwrap();
    let grants = || text(&run(d, &["issuers", "list", "--json"]).stdout);
    let before = grants();
    assert!(before.contains("mem.electrical.low-voltage"));

    let o = run(d, &["issuers", "import", "changed.toml"]);
    assert_eq!(code(&o), 3, "{}{}", text(&o.stdout), text(&o.stderr));
    let out = text(&o.stdout);
    assert!(out.contains("mem.44 (广东省应急管理厅):"), "{out}");
    assert!(
        out.contains("loses right mem.electrical.low-voltage from 2018-04-01"),
        "{out}"
    );
    assert!(out.contains("contact: 020-12345 -> 020-54321"), "{out}");
    assert!(
        out.contains("1 registered certificate(s) would change their issuer check today (1 of them from pass to fail)"),
        "{out}"
    );
    assert!(
        text(&o.stderr).contains("run again with --yes"),
        "{}",
        text(&o.stderr)
    );
    assert_eq!(grants(), before, "nothing is stored without --yes");

    let o = run(d, &["issuers", "import", "changed.toml", "--dry-run"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("--dry-run: nothing was stored"));
    assert_eq!(grants(), before);

    let o = run(d, &["issuers", "import", "changed.toml", "--yes"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("1 amended"), "{}", text(&o.stdout));
    assert!(!grants().contains("mem.electrical.low-voltage"));
    // Importing the same file again changes nothing and needs no --yes.
    let o = run(d, &["issuers", "import", "changed.toml"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    assert!(
        text(&o.stdout).contains("0 issuer(s) change"),
        "{}",
        text(&o.stdout)
    );
}

/// An import printed its invalid rows as it read them and its conflicts after the chunk was
/// stored, so a conflict on line 3 came after an invalid row on line 4; and a conflict said only
/// "with different data", leaving the clerk to find which. Rejections are now printed in line
/// order, and a conflict names the fields that differ (dates with both values; the holder's name
/// and ID number by name only).
#[test]
fn an_imports_rejections_come_in_line_order_and_a_conflict_names_its_fields() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    register_example_issuers(d);
    let header =
        "number,kind,holder_name,holder_id,occupation,level,issuer,issued_on,valid_until,status\n";
    std::fs::write(
        d.join("first.csv"),
        format!("{header}T440305198507031233,mem.electrical.low-voltage,张小明,440305198507031233,,,mem.44,2023-05-10,2029-05-10,valid\n"),
    )
    .unwrap();
    let o = run(d, &["import", "first.csv"]);
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    std::fs::write(
        d.join("second.csv"),
        format!(
            "{header}\
             T440103199211308011,mem.electrical.high-voltage,李强,440103199211308011,,,mem.44,2021-11-02,2027-11-02,valid\n\
             T440305198507031233,mem.electrical.low-voltage,张小明,440305198507031233,,,mem.44,2023-05-11,2029-05-10,valid\n\
             T440103199211308011,mem.welding.fusion-cutting,李强,440103199211308010,,,mem.44,2024-01-09,2030-01-09,valid\n"
        ),
    )
    .unwrap();
    let o = run(d, &["import", "second.csv"]);
    let err = text(&o.stderr);
    let at = |line: &str| {
        err.find(&format!("second.csv:{line}: rejected"))
            .unwrap_or_else(|| panic!("no rejection of line {line}:\n{err}"))
    };
    assert!(at("3") < at("4"), "rejections out of line order:\n{err}");
    assert!(
        err.contains("is already registered with different data: issued_on (registered 2023-05-10, this row 2023-05-11)"),
        "{err}"
    );
    assert!(
        !err.contains("440305198507031233"),
        "an ID number in an error:\n{err}"
    );
    assert!(
        text(&o.stdout).contains("1 stored") && text(&o.stdout).contains("2 rejected"),
        "{}",
        text(&o.stdout)
    );
}

/// A page or answer fetched over a plain HTTP/1.1 connection: status and body.
fn http(addr: &str, method: &str, path: &str, form: Option<&str>) -> (u16, String) {
    use std::io::{Read as _, Write as _};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = form.unwrap_or("");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if form.is_some() {
        req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, rest) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        let mut out = String::new();
        let mut rest = rest;
        while let Some((size, after)) = rest.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 || after.len() < n {
                break;
            }
            out.push_str(&after[..n]);
            rest = after[n..].strip_prefix("\r\n").unwrap_or(&after[n..]);
        }
        out
    } else {
        rest.to_string()
    };
    (status, body)
}

/// A form field, percent-encoded.
fn field(k: &str, v: &str) -> String {
    format!("{k}={}", hutong_server::pages::lookup::encode(v))
}

/// The text a person reads on a page: what is between tags, without the tags (and so without
/// any attribute), without the style sheet, and without the text of links.
fn page_text(html: &str) -> String {
    let mut html = html.to_string();
    for (open, close) in [("<style", "</style>"), ("<a ", "</a>")] {
        while let Some(at) = html.find(open) {
            let end = html[at..]
                .find(close)
                .map_or(html.len(), |e| at + e + close.len());
            html.replace_range(at..end, " ");
        }
    }
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for ch in html.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Internal identifiers in a text meant for people: kind ids (`mohurd.construction.welder`,
/// `mohrss.skill-level`), issuer ids (`mem.44`, `inst.s0000-44-000123`), and citations of the
/// project's own files and confidence marks (`POLICY.md §1.1 [U]`).
fn internal_ids(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    for prefix in ["mem.", "mohurd.", "samr.", "mohrss.", "inst."] {
        let mut from = 0;
        while let Some(at) = text[from..].find(prefix).map(|i| from + i) {
            from = at + prefix.len();
            let before = at
                .checked_sub(1)
                .map(|i| bytes[i] as char)
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '/' | '_'));
            let next = bytes.get(from).map(|b| *b as char);
            if before.is_some() || !next.is_some_and(|c| c.is_ascii_alphanumeric()) {
                continue;
            }
            // A web address (cx.mem.gov.cn) is not an id.
            if text[from..].starts_with("gov.") {
                continue;
            }
            let end = text[at..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-')))
                .map_or(text.len(), |e| at + e);
            found.push(text[at..end].trim_end_matches('.').to_string());
        }
    }
    for internal in ["POLICY.md", "IDENTIFIERS.md", "[U]", "[S]", "[V]"] {
        if text.contains(internal) {
            found.push(internal.to_string());
        }
    }
    found
}

#[test]
fn r12_02_the_scan_finds_internal_ids_in_text_and_not_in_attributes_or_links() {
    let html = r#"<p data-kind="mem.electrical.low-voltage">发证机构“mohurd.14”未登记颁发 mohurd.construction.welder 类证书</p><a href="/issuers/mem.44/did.json">mem.44</a><p>见 cx.mem.gov.cn；POLICY.md §1.1 [U]</p>"#;
    let found = internal_ids(&page_text(html));
    assert_eq!(
        found,
        [
            "mohurd.14",
            "mohurd.construction.welder",
            "POLICY.md",
            "[U]"
        ]
    );
    assert!(
        internal_ids(&page_text(
            "<p>山西省住房和城乡建设厅未登记颁发建筑焊工</p>"
        ))
        .is_empty()
    );
}

/// Issue 12, items 2 and 5: the result pages of every demo sample and of one certificate of
/// each combination of checks the README's data shows (the demo, then the example issuers and
/// certificates, which make some issuer checks fail), in Chinese and English, by number and by
/// ID number, name nothing by an internal id in their text (ids stay in attributes, links and
/// the JSON's `why`), nor do the API's reasons; and the server's log, written to a pipe, carries
/// no colour codes.
#[test]
fn r12_02_no_result_page_names_anything_by_an_internal_id() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = hutong_in(d)
        .args([
            "demo",
            "--certificates",
            "3000",
            "--samples",
            "demo-samples.csv",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    let o = hutong_in(d)
        .args(["issuers", "import", "--yes"])
        .arg(repo().join("examples/issuers.toml"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", text(&o.stderr));
    // Some of its rows are refused on purpose (the README says so): the exit code is not 0.
    hutong_in(d)
        .arg("import")
        .arg(repo().join("examples/certificates.csv"))
        .output()
        .unwrap();

    // Every demo sample (with its synthetic ID number), and one certificate per combination.
    let samples: Vec<(String, String, String, String)> = csv_rows(&d.join("demo-samples.csv"))
        .into_iter()
        .map(|row| {
            (
                row["number"].clone(),
                row["kind"].clone(),
                row["holder_name"].clone(),
                row["holder_id"].clone(),
            )
        })
        .collect();
    assert!(samples.len() >= 8, "the demo's samples: {samples:?}");
    let policy = hutong_core::Policy::load_dir(&repo().join("policy")).unwrap();
    let combos = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(one_per_combination(&d.join("data/hutong.db"), &policy));
    assert!(
        combos.iter().any(|(_, _, _, fails)| *fails),
        "a failed issuer check is among them"
    );

    let mut child = hutong_in(d)
        .env("RUST_LOG", "info")
        .env("HUTONG_RATE_LIMIT_EXEMPT", "127.0.0.1")
        .args(["serve", "--demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stderr = child.stderr.take().unwrap();
    let into = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            into.lock().unwrap().push(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let addr = loop {
        let found = log.lock().unwrap().iter().find_map(|line| {
            line.split("hutong serving on http://").nth(1).map(|rest| {
                rest.split(|c: char| c.is_whitespace() || c == '\x1b')
                    .next()
                    .unwrap()
                    .to_string()
            })
        });
        if let Some(a) = found {
            break a;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not start: {:?}",
            log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    };

    let mut bad = Vec::new();
    let mut pages = 0;
    let mut check = |what: String, status: u16, body: &str, html: bool| {
        assert_eq!(status, 200, "{what}: {body}");
        let text = if html {
            page_text(body)
        } else {
            let v: serde_json::Value = serde_json::from_str(body).unwrap();
            let mut t = String::new();
            for c in v["certificates"].as_array().unwrap() {
                for ch in c["checks"].as_array().unwrap() {
                    t.push_str(ch["reason_zh"].as_str().unwrap_or_default());
                    t.push('\n');
                    t.push_str(ch["reason_en"].as_str().unwrap_or_default());
                    t.push('\n');
                }
            }
            t
        };
        let ids = internal_ids(&text);
        if !ids.is_empty() {
            bad.push(format!("{what}: {ids:?}"));
        }
        pages += 1;
    };
    for (number, kind, name, id) in &samples {
        for lang in ["", "?lang=en"] {
            let form = [
                field("number", number),
                field("name", name),
                field("kind", kind),
            ]
            .join("&");
            let (st, body) = http(&addr, "POST", &format!("/verify/result{lang}"), Some(&form));
            assert!(body.contains("data-verdict="), "{number} {kind}: {body}");
            check(
                format!("/verify/result{lang} {kind} {number}"),
                st,
                &body,
                true,
            );
            let form = [field("id", id), field("name", name)].join("&");
            let (st, body) = http(&addr, "POST", &format!("/holder/result{lang}"), Some(&form));
            check(format!("/holder/result{lang} {kind}"), st, &body, true);
        }
        let api = format!(
            "/api/v1/verify?number={}&name={}&kind={kind}",
            hutong_server::pages::lookup::encode(number),
            hutong_server::pages::lookup::encode(name)
        );
        let (st, body) = http(&addr, "GET", &api, None);
        check(api.clone(), st, &body, false);
    }
    for (number, kind, name, _) in &combos {
        for lang in ["", "?lang=en"] {
            let form = [
                field("number", number),
                field("name", name),
                field("kind", kind),
            ]
            .join("&");
            let (st, body) = http(&addr, "POST", &format!("/verify/result{lang}"), Some(&form));
            assert!(body.contains("data-verdict="), "{number} {kind}: {body}");
            check(
                format!("/verify/result{lang} {kind} {number}"),
                st,
                &body,
                true,
            );
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    // Item 5: no ANSI colour codes in a log that is not written to a terminal.
    let log = log.lock().unwrap();
    assert!(log.len() > 1, "{log:?}");
    for line in log.iter() {
        assert!(!line.contains('\x1b'), "a colour code in the log: {line:?}");
    }
    assert!(
        bad.is_empty(),
        "internal ids in sentences:\n{}",
        bad.join("\n")
    );
    assert!(pages > 40, "{pages} pages and answers scanned");
}

/// The rows of a CSV file with a header, as maps.
fn csv_rows(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// One certificate of each combination of check outcomes and status in the database: number,
/// kind, holder's name, and whether its issuer check fails.
async fn one_per_combination(
    db: &Path,
    policy: &hutong_core::Policy,
) -> Vec<(String, String, String, bool)> {
    use hutong_store::Store as _;
    let store = hutong_store_sqlite::SqliteStore::open(db).unwrap();
    let issuers: std::collections::BTreeMap<String, hutong_core::Issuer> = store
        .issuers()
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    let today = hutong_core::date::today_in_china();
    let mut seen = std::collections::BTreeMap::new();
    let mut after = 0;
    loop {
        let page = store.audit_page(after, 5000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.id;
        for row in page {
            let c = row.certificate;
            let v = hutong_core::verify::verify(policy, &c, issuers.get(&c.issuer), today);
            let key = format!(
                "{:?} {:?}",
                v.status.map(|r| r.status),
                v.checks
                    .iter()
                    .map(|ch| (ch.why.code(), ch.provisional))
                    .collect::<Vec<_>>()
            );
            let fails = v.checks.iter().any(|ch| {
                ch.id == hutong_core::verify::CheckId::Issuer
                    && ch.outcome == hutong_core::verify::Outcome::Fail
            });
            seen.entry(key)
                .or_insert((c.number, c.kind, c.holder_name, fails));
        }
    }
    seen.into_values().collect()
}
