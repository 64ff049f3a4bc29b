//! Verification of inclusion and consistency proofs (RFC 9162 §2.1.3.2 and §2.1.4.2).
//!
//! Every hash arrives as an untrusted byte slice (from JSON, a checkpoint, a network answer).
//! Any hash that is hashed must be exactly 32 bytes; a proof must have exactly the nodes the
//! algorithm consumes, no more and no fewer.

use crate::hash::{EMPTY_ROOT, Hash, node_hash};

/// Why a proof was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// A leaf index outside the tree.
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    /// A hash that is not 32 bytes long.
    #[error("{what} is {len} bytes long, a SHA-256 hash is 32")]
    BadHashLength { what: String, len: usize },
    /// More proof nodes than the tree sizes call for.
    #[error("proof has {got} nodes, more than the tree sizes call for")]
    ProofTooLong { got: usize },
    /// Fewer proof nodes than the tree sizes call for.
    #[error("proof has {got} nodes, fewer than the tree sizes call for")]
    ProofTooShort { got: usize },
    /// The proof recomputes a different root.
    #[error("the proof recomputes a different {which} root than the one given")]
    RootMismatch { which: &'static str },
    /// A consistency proof from a larger tree to a smaller one.
    #[error("consistency from size {size1} to the smaller size {size2}")]
    SizesReversed { size1: u64, size2: u64 },
    /// A consistency proof from the empty tree proves nothing.
    #[error("a consistency proof from the empty tree (size 0) is meaningless")]
    FromEmptyTree,
    /// Equal tree sizes need an empty proof.
    #[error("tree sizes are equal ({size}), but the proof is not empty")]
    NonEmptyProofForEqualSizes { size: u64 },
    /// The empty tree has one root only.
    #[error("a tree of size 0 has root SHA-256(\"\"), not the one given")]
    BadEmptyRoot,
}

fn to_hash(what: impl FnOnce() -> String, bytes: &[u8]) -> Result<Hash, ProofError> {
    Hash::try_from(bytes).map_err(|_| ProofError::BadHashLength {
        what: what(),
        len: bytes.len(),
    })
}

fn proof_hashes<P: AsRef<[u8]>>(proof: &[P]) -> Result<Vec<Hash>, ProofError> {
    proof
        .iter()
        .enumerate()
        .map(|(i, p)| to_hash(|| format!("proof node {i}"), p.as_ref()))
        .collect()
}

/// Verifies that `leaf_hash` is the leaf at `index` of the tree of `size` leaves whose root is
/// `root`, by the RFC 9162 §2.1.3.2 algorithm.
pub fn verify_inclusion<P: AsRef<[u8]>>(
    index: u64,
    size: u64,
    leaf_hash: &[u8],
    proof: &[P],
    root: &[u8],
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let leaf = to_hash(|| "leaf hash".to_owned(), leaf_hash)?;
    let root = to_hash(|| "root hash".to_owned(), root)?;
    let proof = proof_hashes(proof)?;

    let mut fn_ = index;
    let mut sn = size - 1;
    let mut r = leaf;
    for p in &proof {
        if sn == 0 {
            return Err(ProofError::ProofTooLong { got: proof.len() });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::ProofTooShort { got: proof.len() });
    }
    if r != root {
        return Err(ProofError::RootMismatch { which: "tree" });
    }
    Ok(())
}

/// Verifies that the tree of `size1` leaves with root `root1` is a prefix of the tree of `size2`
/// leaves with root `root2`, by the RFC 9162 §2.1.4.2 algorithm.
///
/// Edge cases, as the transparency-dev test cases expect them:
/// - `size1 > size2` and `size1 == 0 < size2` are refused;
/// - `size1 == size2` needs an empty proof and identical roots (for size 0, both must be the
///   empty tree's root). No hashing happens then, and the roots are compared as given.
pub fn verify_consistency<P: AsRef<[u8]>>(
    size1: u64,
    size2: u64,
    proof: &[P],
    root1: &[u8],
    root2: &[u8],
) -> Result<(), ProofError> {
    if size1 > size2 {
        return Err(ProofError::SizesReversed { size1, size2 });
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(ProofError::NonEmptyProofForEqualSizes { size: size1 });
        }
        if size1 == 0 && (root1 != EMPTY_ROOT || root2 != EMPTY_ROOT) {
            return Err(ProofError::BadEmptyRoot);
        }
        if root1 != root2 {
            return Err(ProofError::RootMismatch { which: "second" });
        }
        return Ok(());
    }
    if size1 == 0 {
        return Err(ProofError::FromEmptyTree);
    }
    let first = to_hash(|| "first root hash".to_owned(), root1)?;
    let second = to_hash(|| "second root hash".to_owned(), root2)?;
    let mut path = proof_hashes(proof)?;
    // 1. An empty path proves nothing between different sizes.
    if path.is_empty() {
        return Err(ProofError::ProofTooShort { got: 0 });
    }
    // 2. If size1 is an exact power of 2, the first root is the start of the path.
    if size1.is_power_of_two() {
        path.insert(0, first);
    }
    // 3., 4.
    let mut fn_ = size1 - 1;
    let mut sn = size2 - 1;
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    // 5.
    let mut fr = path[0];
    let mut sr = path[0];
    // 6.
    for c in &path[1..] {
        if sn == 0 {
            return Err(ProofError::ProofTooLong { got: proof.len() });
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    // 7.
    if sn != 0 {
        return Err(ProofError::ProofTooShort { got: proof.len() });
    }
    if fr != first {
        return Err(ProofError::RootMismatch { which: "first" });
    }
    if sr != second {
        return Err(ProofError::RootMismatch { which: "second" });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::tree::{consistency_proof, inclusion_proof, tree_head};

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_le_bytes())).collect()
    }

    #[test]
    fn every_leaf_and_every_pair_of_a_small_tree_verifies() {
        let l = leaves(17);
        for size in 1..=17u64 {
            let root = tree_head(&l, size).unwrap();
            for i in 0..size {
                let p = inclusion_proof(&l, i, size).unwrap();
                verify_inclusion(i, size, &l[i as usize], &p, &root).unwrap();
            }
            for size1 in 1..=size {
                let p = consistency_proof(&l, size1, size).unwrap();
                let root1 = tree_head(&l, size1).unwrap();
                verify_consistency(size1, size, &p, &root1, &root).unwrap();
            }
        }
    }

    #[test]
    fn a_wrong_leaf_or_index_is_refused() {
        let l = leaves(5);
        let root = tree_head(&l, 5).unwrap();
        let p = inclusion_proof(&l, 2, 5).unwrap();
        assert_eq!(
            verify_inclusion(2, 5, &l[3], &p, &root),
            Err(ProofError::RootMismatch { which: "tree" })
        );
        assert!(verify_inclusion(3, 5, &l[2], &p, &root).is_err());
        assert!(matches!(
            verify_inclusion(2, 5, &l[2][..31], &p, &root),
            Err(ProofError::BadHashLength { len: 31, .. })
        ));
    }
}
