//! Property tests: proofs generated for random trees verify, tampered ones do not.

use hutong_log::{
    Hash, MemoryLog, consistency_proof, inclusion_proof, leaf_hash, tree_head, verify_consistency,
    verify_inclusion,
};
use proptest::prelude::*;

fn log_of(leaves: &[Vec<u8>]) -> MemoryLog {
    let mut log = MemoryLog::new();
    for l in leaves {
        log.append(l);
    }
    log
}

fn leaves_strategy() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..16), 1..70)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn inclusion_proofs_verify_for_every_leaf(leaves in leaves_strategy()) {
        let log = log_of(&leaves);
        let size = log.leaf_hashes().len() as u64;
        let root = tree_head(&log, size).unwrap();
        prop_assert_eq!(root, log.root());
        for (i, leaf) in leaves.iter().enumerate() {
            let proof = inclusion_proof(&log, i as u64, size).unwrap();
            prop_assert!(verify_inclusion(i as u64, size, &leaf_hash(leaf), &proof, &root).is_ok());
        }
    }

    #[test]
    fn consistency_proofs_verify_for_every_pair_of_sizes(leaves in leaves_strategy()) {
        let log = log_of(&leaves);
        let n = leaves.len() as u64;
        let roots: Vec<Hash> = (0..=n).map(|s| tree_head(&log, s).unwrap()).collect();
        for size2 in 1..=n {
            for size1 in 1..=size2 {
                let proof = consistency_proof(&log, size1, size2).unwrap();
                prop_assert!(
                    verify_consistency(size1, size2, &proof, &roots[size1 as usize], &roots[size2 as usize]).is_ok(),
                    "{} -> {}", size1, size2
                );
            }
        }
    }

    #[test]
    fn a_tampered_inclusion_proof_fails(
        leaves in leaves_strategy(),
        pick in any::<prop::sample::Index>(),
        node in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let log = log_of(&leaves);
        let size = leaves.len() as u64;
        let i = pick.index(leaves.len());
        let root = log.root();
        let leaf = leaf_hash(&leaves[i]);
        let mut proof = inclusion_proof(&log, i as u64, size).unwrap();
        if proof.is_empty() {
            // A one-leaf tree has no path: tamper with the leaf instead.
            let mut bad = leaf;
            bad[0] ^= 1 << bit;
            prop_assert!(verify_inclusion(0, 1, &bad, &proof, &root).is_err());
        } else {
            let j = node.index(proof.len());
            proof[j][j % 32] ^= 1 << bit;
            prop_assert!(verify_inclusion(i as u64, size, &leaf, &proof, &root).is_err());
            proof[j][j % 32] ^= 1 << bit;
            // A node more or a node fewer fails too.
            let mut longer = proof.clone();
            longer.push(root);
            prop_assert!(verify_inclusion(i as u64, size, &leaf, &longer, &root).is_err());
            let shorter = &proof[..proof.len() - 1];
            prop_assert!(verify_inclusion(i as u64, size, &leaf, shorter, &root).is_err());
        }
    }

    #[test]
    fn a_tampered_consistency_proof_fails(
        leaves in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..16), 2..70),
        a in any::<prop::sample::Index>(),
        b in any::<prop::sample::Index>(),
        node in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let log = log_of(&leaves);
        let n = leaves.len();
        let mut s = [a.index(n) + 1, b.index(n) + 1];
        s.sort_unstable();
        let (size1, size2) = (s[0] as u64, s[1] as u64);
        prop_assume!(size1 < size2);
        let root1 = tree_head(&log, size1).unwrap();
        let root2 = tree_head(&log, size2).unwrap();
        let mut proof = consistency_proof(&log, size1, size2).unwrap();
        let j = node.index(proof.len());
        proof[j][j % 32] ^= 1 << bit;
        prop_assert!(verify_consistency(size1, size2, &proof, &root1, &root2).is_err());
        proof[j][j % 32] ^= 1 << bit;
        prop_assert!(verify_consistency(size1, size2, &proof, &root1, &root2).is_ok());
        prop_assert!(verify_consistency(size1, size2, &proof, &root2, &root1).is_err());
        let mut longer = proof.clone();
        longer.push(root1);
        prop_assert!(verify_consistency(size1, size2, &longer, &root1, &root2).is_err());
        prop_assert!(verify_consistency(size1, size2, &proof[1..], &root1, &root2).is_err());
    }
}
