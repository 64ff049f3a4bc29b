//! No code: this crate only asks for dependency features, so that `cargo run` and `cargo test`
//! build each dependency once (see its `Cargo.toml`).
