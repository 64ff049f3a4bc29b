//! One module per subcommand.

pub mod advise;
pub mod audit;
pub mod bench;
pub mod bench_advice;
pub mod bench_import;
pub mod demo;
pub mod import;
pub mod issuers;
pub mod policy;
pub mod serve;
pub mod tokens;
pub mod witness;
