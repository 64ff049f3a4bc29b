//! One module per subcommand.

pub mod advise;
pub mod audit;
pub mod bench;
pub mod bench_advice;
pub mod bench_credentials;
pub mod bench_import;
pub mod credential;
pub mod demo;
pub mod exam;
pub mod export;
pub mod import;
pub mod issuers;
pub mod keys;
pub mod mirror;
pub mod policy;
pub mod serve;
pub mod tokens;
pub mod verify;
pub mod witness;
