//! Integration tests of hutong-log: the transparency-dev proof vectors, property tests of the
//! proofs, and C2SP notes, checkpoints and cosignatures.

mod checkpoints;
mod properties;
mod vectors;
