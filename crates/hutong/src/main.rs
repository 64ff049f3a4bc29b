//! `hutong`: the registry, public verification service and mutual-recognition engine for
//! China's vocational skill certificates.

/// The server allocates and frees many small buffers per request (parsing, answers, SQLite
/// rows); mimalloc does this with less contention between threads than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cmd;
mod config;
mod context;
mod exit;
mod http;
mod tlog;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::GlobalArgs;

#[derive(Parser)]
#[command(
    name = "hutong",
    version,
    about = "互通 hutong: registry, verification and mutual recognition of vocational skill certificates",
    long_about = "互通 hutong: registry, public verification and mutual recognition of China's vocational skill \
certificates.\n\nConfiguration is layered: built-in defaults, then a TOML file (--config, HUTONG_CONFIG, or \
./hutong.toml when present), then HUTONG_* environment variables, then flags; the later wins.\n\nExit codes: \
0 success, 1 error, 2 verification failed or not recognised, 3 invalid input or policy."
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (JSON API, pages, /healthz; /metrics on `metrics_listen` when set).
    Serve(cmd::serve::Args),
    /// Import certificates from a CSV or NDJSON file; every row is validated.
    Import(cmd::import::Args),
    /// Export certificates in the import format, with the holder's keyed hash in place of the
    /// ID number and numbers that embed one sealed: for another registry with the same holder
    /// key file.
    Export(cmd::export::Args),
    /// Keep this registry a copy of another one, from its change feed: every change exactly
    /// once, record for record and hash for hash.
    Mirror(cmd::mirror::Args),
    /// Exam sessions whose pass yields several certificates (一试多证): check a session, import
    /// its results and issue every passing candidate's certificates in one transaction.
    #[command(subcommand)]
    Exam(cmd::exam::Command),
    /// Fill the database with realistic synthetic data, at any size.
    Demo(cmd::demo::Args),
    /// Register and list issuers: department authorities and evaluation institutions.
    #[command(subcommand)]
    Issuers(cmd::issuers::Command),
    /// Check every certificate against the hash its last journal entry recorded.
    Audit(cmd::audit::Args),
    /// Bearer tokens for the write API: create (shown once), list, revoke.
    #[command(subcommand)]
    Tokens(cmd::tokens::Command),
    /// Issuers' signing keys: create, rotate, retire, revoke, list, export the public keys file.
    #[command(subcommand)]
    Keys(cmd::keys::Command),
    /// Write a certificate's signed credential (W3C VC 2.0, eddsa-jcs-2022).
    Credential(cmd::credential::Args),
    /// Verify credentials offline against the public keys file: exit 0 when all pass, 2 when
    /// any check fails.
    Verify(cmd::verify::Args),
    /// What held certificates entitle their holder to: exemptions when applying to another
    /// department, deemed skill levels, and when the next level can be applied for.
    Advise(cmd::advise::Args),
    /// Work with policy files.
    #[command(subcommand)]
    Policy(cmd::policy::Command),
    /// Measure the service: `bench verify` loads the verification endpoint, `bench advice`
    /// the recognition advice.
    #[command(subcommand)]
    Bench(cmd::bench_advice::Command),
    /// Witness a transparency log: `init` makes a witness key, `cosign` checks the log's
    /// checkpoint for consistency with the last one cosigned and cosigns it.
    #[command(subcommand)]
    Witness(cmd::witness::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(a) => cmd::serve::run(&cli.global, a),
        Command::Import(a) => cmd::import::run(&cli.global, a),
        Command::Export(a) => cmd::export::run(&cli.global, a),
        Command::Demo(a) => cmd::demo::run(&cli.global, a),
        Command::Mirror(a) => cmd::mirror::run(&cli.global, a),
        Command::Exam(c) => cmd::exam::run(&cli.global, c),
        Command::Issuers(c) => cmd::issuers::run(&cli.global, c),
        Command::Tokens(c) => cmd::tokens::run(&cli.global, c),
        Command::Audit(a) => cmd::audit::run(&cli.global, a),
        Command::Keys(c) => cmd::keys::run(&cli.global, c),
        Command::Credential(a) => cmd::credential::run(&cli.global, a),
        Command::Verify(a) => cmd::verify::run(a),
        Command::Policy(c) => cmd::policy::run(&cli.global, c),
        Command::Advise(a) => cmd::advise::run(&cli.global, a),
        Command::Bench(c) => cmd::bench_advice::run(&cli.global, c),
        Command::Witness(c) => cmd::witness::run(&cli.global, c),
    };
    exit::finish(result)
}
