//! The tree head of a list of leaf hashes and the proofs about it (RFC 9162 §2.1).
//!
//! The algorithms follow the recursive definitions of RFC 9162: `MTH` (§2.1.1), `PATH`
//! (§2.1.3.1) and `SUBPROOF` (§2.1.4.1). They read leaf hashes through [`LeafSource`], so a
//! store can back them later; the in-memory [`MemoryLog`] and plain slices of hashes are sources
//! already. Each call reads the leaves of the range it covers once: O(n) hashing per call. A
//! store with many leaves will want to keep subtree hashes (tiles) instead.

use crate::hash::{EMPTY_ROOT, Hash, leaf_hash, node_hash};

/// Why a tree head or a proof could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// A tree size beyond the number of leaves the source holds.
    #[error("tree size {requested} is larger than the log, which holds {available} leaves")]
    SizeBeyondLog { requested: u64, available: u64 },
    /// A leaf index outside the tree it is to be proven in.
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    /// A consistency proof asked from a larger tree to a smaller one.
    #[error("consistency proof from size {size1} to the smaller size {size2}")]
    SizesReversed { size1: u64, size2: u64 },
    /// A consistency proof from the empty tree, which proves nothing (RFC 9162 §2.1.4).
    #[error("a consistency proof from the empty tree (size 0) is meaningless")]
    FromEmptyTree,
    /// The source could not give a leaf hash.
    #[error("leaf {index} could not be read: {reason}")]
    Source { index: u64, reason: String },
}

/// Where leaf hashes come from: an in-memory list, or a store.
pub trait LeafSource {
    /// The number of leaves.
    fn size(&self) -> u64;
    /// The leaf hash at `index` (`SHA-256(0x00 || leaf)`), for `index < size()`.
    fn leaf_hash(&self, index: u64) -> Result<Hash, TreeError>;
    /// The root of the full subtree of `2^height` leaves starting at leaf `index << height`,
    /// for `height >= 1`. The algorithms ask for full subtrees only through this method, so a
    /// source that keeps subtree hashes (tiles) answers without reading every leaf; by default
    /// it is computed from the leaves.
    fn subtree_hash(&self, height: u32, index: u64) -> Result<Hash, TreeError> {
        let n = 1u64.checked_shl(height).unwrap_or(0);
        subtree_from_leaves(self, index.saturating_mul(n), n)
    }
}

/// MTH of the `n` leaves starting at `start`, from the leaf hashes alone.
fn subtree_from_leaves<S: LeafSource + ?Sized>(
    source: &S,
    start: u64,
    n: u64,
) -> Result<Hash, TreeError> {
    match n {
        0 => Ok(EMPTY_ROOT),
        1 => source.leaf_hash(start),
        _ => {
            let k = split_point(n);
            let left = subtree_from_leaves(source, start, k)?;
            let right = subtree_from_leaves(source, start + k, n - k)?;
            Ok(node_hash(&left, &right))
        }
    }
}

impl LeafSource for [Hash] {
    fn size(&self) -> u64 {
        self.len() as u64
    }
    fn leaf_hash(&self, index: u64) -> Result<Hash, TreeError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.get(i))
            .copied()
            .ok_or(TreeError::IndexOutOfRange {
                index,
                size: self.len() as u64,
            })
    }
}

impl LeafSource for Vec<Hash> {
    fn size(&self) -> u64 {
        self.as_slice().size()
    }
    fn leaf_hash(&self, index: u64) -> Result<Hash, TreeError> {
        self.as_slice().leaf_hash(index)
    }
}

/// An append-only list of leaf hashes held in memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryLog {
    leaves: Vec<Hash>,
}

impl MemoryLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a leaf (its bytes, hashed here) and returns its index.
    pub fn append(&mut self, leaf: &[u8]) -> u64 {
        self.append_hash(leaf_hash(leaf))
    }

    /// Appends an already computed leaf hash and returns its index.
    pub fn append_hash(&mut self, hash: Hash) -> u64 {
        self.leaves.push(hash);
        self.leaves.len() as u64 - 1
    }

    /// The leaf hashes in order.
    pub fn leaf_hashes(&self) -> &[Hash] {
        &self.leaves
    }

    /// The tree head of the whole log.
    pub fn root(&self) -> Hash {
        // Cannot fail: the size is the log's own.
        subtree_root(&self.leaves[..], 0, self.size()).unwrap_or(EMPTY_ROOT)
    }
}

impl LeafSource for MemoryLog {
    fn size(&self) -> u64 {
        self.leaves.len() as u64
    }
    fn leaf_hash(&self, index: u64) -> Result<Hash, TreeError> {
        self.leaves.as_slice().leaf_hash(index)
    }
}

fn check_size<S: LeafSource + ?Sized>(source: &S, size: u64) -> Result<(), TreeError> {
    let available = source.size();
    if size > available {
        return Err(TreeError::SizeBeyondLog {
            requested: size,
            available,
        });
    }
    Ok(())
}

/// The largest power of two strictly smaller than `n`, for `n >= 2`.
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// MTH of the `n` leaves starting at `start`. Every power-of-two range the RFC 9162
/// algorithms reach is aligned (its start is a multiple of its size), so it is asked of the
/// source as a full subtree.
fn subtree_root<S: LeafSource + ?Sized>(source: &S, start: u64, n: u64) -> Result<Hash, TreeError> {
    match n {
        0 => Ok(EMPTY_ROOT),
        1 => source.leaf_hash(start),
        n if n.is_power_of_two() && start.is_multiple_of(n) => {
            source.subtree_hash(n.trailing_zeros(), start / n)
        }
        _ => {
            let k = split_point(n);
            let left = subtree_root(source, start, k)?;
            let right = subtree_root(source, start + k, n - k)?;
            Ok(node_hash(&left, &right))
        }
    }
}

/// The Merkle tree head (MTH, RFC 9162 §2.1.1) of the first `size` leaves of `source`.
pub fn tree_head<S: LeafSource + ?Sized>(source: &S, size: u64) -> Result<Hash, TreeError> {
    check_size(source, size)?;
    subtree_root(source, 0, size)
}

/// The inclusion proof (audit path, RFC 9162 §2.1.3.1) of leaf `index` in the tree of the first
/// `size` leaves, ordered from the leaf up.
pub fn inclusion_proof<S: LeafSource + ?Sized>(
    source: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, TreeError> {
    check_size(source, size)?;
    if index >= size {
        return Err(TreeError::IndexOutOfRange { index, size });
    }
    let mut proof = Vec::new();
    path(source, index, 0, size, &mut proof)?;
    Ok(proof)
}

/// PATH(m, D[start..start+n]) appended to `out`, innermost (leaf-level) hash first.
fn path<S: LeafSource + ?Sized>(
    source: &S,
    m: u64,
    start: u64,
    n: u64,
    out: &mut Vec<Hash>,
) -> Result<(), TreeError> {
    if n <= 1 {
        return Ok(());
    }
    let k = split_point(n);
    if m < k {
        path(source, m, start, k, out)?;
        out.push(subtree_root(source, start + k, n - k)?);
    } else {
        path(source, m - k, start + k, n - k, out)?;
        out.push(subtree_root(source, start, k)?);
    }
    Ok(())
}

/// The consistency proof (RFC 9162 §2.1.4.1) between the trees of the first `size1` and the
/// first `size2` leaves. Equal sizes give the empty proof; `size1 == 0` is refused.
pub fn consistency_proof<S: LeafSource + ?Sized>(
    source: &S,
    size1: u64,
    size2: u64,
) -> Result<Vec<Hash>, TreeError> {
    check_size(source, size2)?;
    if size1 > size2 {
        return Err(TreeError::SizesReversed { size1, size2 });
    }
    if size1 == 0 {
        return Err(TreeError::FromEmptyTree);
    }
    let mut proof = Vec::new();
    if size1 < size2 {
        subproof(source, size1, 0, size2, true, &mut proof)?;
    }
    Ok(proof)
}

/// SUBPROOF(m, D[start..start+n], b) appended to `out`.
fn subproof<S: LeafSource + ?Sized>(
    source: &S,
    m: u64,
    start: u64,
    n: u64,
    complete: bool,
    out: &mut Vec<Hash>,
) -> Result<(), TreeError> {
    if m == n {
        if !complete {
            out.push(subtree_root(source, start, n)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        subproof(source, m, start, k, complete, out)?;
        out.push(subtree_root(source, start + k, n - k)?);
    } else {
        subproof(source, m - k, start + k, n - k, false, out)?;
        out.push(subtree_root(source, start, k)?);
    }
    Ok(())
}

/// A full subtree completed by an append: `2^height` leaves from leaf `index << height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subtree {
    pub height: u32,
    pub index: u64,
    pub hash: Hash,
}

/// The right edge of a tree (a compact range from leaf 0): the roots of its full subtrees, one
/// per set bit of the size, largest first. Enough to append leaves and to compute the tree head
/// without the leaves themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// `(height, hash)`, heights strictly decreasing.
    nodes: Vec<(u32, Hash)>,
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The frontier of a tree of `size` leaves from its full subtrees' roots, largest first:
    /// one per set bit of `size` (see [`Frontier::subtrees_of`]).
    pub fn from_subtrees(size: u64, roots: &[Hash]) -> Result<Self, TreeError> {
        let shape = Self::subtrees_of(size);
        if shape.len() != roots.len() {
            return Err(TreeError::Source {
                index: size,
                reason: format!(
                    "a tree of {size} leaves has {} full subtrees on its edge, {} were given",
                    shape.len(),
                    roots.len()
                ),
            });
        }
        Ok(Self {
            size,
            nodes: shape
                .iter()
                .zip(roots)
                .map(|(&(height, _), &hash)| (height, hash))
                .collect(),
        })
    }

    /// The full subtrees `(height, index)` whose roots make the frontier of `size` leaves,
    /// largest first.
    pub fn subtrees_of(size: u64) -> Vec<(u32, u64)> {
        let mut out = Vec::new();
        let mut start = 0u64;
        for height in (0..64u32).rev() {
            if size & (1u64 << height) != 0 {
                out.push((height, start >> height));
                start += 1u64 << height;
            }
        }
        out
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash. Returns the full subtrees of height 1 and more that it completed,
    /// smallest first.
    pub fn push(&mut self, leaf: Hash) -> Vec<Subtree> {
        let index = self.size;
        self.size += 1;
        let mut done = Vec::new();
        let (mut height, mut hash) = (0u32, leaf);
        while let Some(&(h, left)) = self.nodes.last() {
            if h != height {
                break;
            }
            self.nodes.pop();
            hash = node_hash(&left, &hash);
            height += 1;
            done.push(Subtree {
                height,
                index: index >> height,
                hash,
            });
        }
        self.nodes.push((height, hash));
        done
    }

    /// The tree head (RFC 9162 MTH) of the leaves so far.
    pub fn root(&self) -> Hash {
        let mut it = self.nodes.iter().rev();
        let Some(&(_, mut root)) = it.next() else {
            return EMPTY_ROOT;
        };
        for (_, left) in it {
            root = node_hash(left, &root);
        }
        root
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn split_point_is_largest_power_of_two_below() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(8), 4);
        assert_eq!(split_point(9), 8);
        assert_eq!(split_point(u64::MAX), 1 << 63);
    }

    #[test]
    fn tree_head_matches_the_definition() {
        let l = leaves(3);
        assert_eq!(tree_head(&l, 0).unwrap(), EMPTY_ROOT);
        assert_eq!(tree_head(&l, 1).unwrap(), l[0]);
        assert_eq!(tree_head(&l, 2).unwrap(), node_hash(&l[0], &l[1]));
        assert_eq!(
            tree_head(&l, 3).unwrap(),
            node_hash(&node_hash(&l[0], &l[1]), &l[2])
        );
    }

    #[test]
    fn sizes_beyond_the_source_are_refused() {
        let l = leaves(3);
        assert_eq!(
            tree_head(&l, 4),
            Err(TreeError::SizeBeyondLog {
                requested: 4,
                available: 3
            })
        );
        assert!(matches!(
            inclusion_proof(&l, 3, 3),
            Err(TreeError::IndexOutOfRange { .. })
        ));
        assert!(matches!(
            consistency_proof(&l, 3, 2),
            Err(TreeError::SizesReversed { .. })
        ));
        assert_eq!(consistency_proof(&l, 0, 2), Err(TreeError::FromEmptyTree));
        assert_eq!(consistency_proof(&l, 2, 2), Ok(vec![]));
    }

    #[test]
    fn the_frontier_gives_the_tree_head_and_the_subtrees_it_completes() {
        let l = leaves(300);
        let mut f = Frontier::new();
        assert_eq!(f.root(), EMPTY_ROOT);
        let mut completed = Vec::new();
        for (i, h) in l.iter().enumerate() {
            completed.extend(f.push(*h));
            let size = i as u64 + 1;
            assert_eq!(f.root(), tree_head(&l, size).unwrap(), "size {size}");
            let edge: Vec<Hash> = Frontier::subtrees_of(size)
                .iter()
                .map(|&(h, i)| {
                    if h == 0 {
                        l[i as usize]
                    } else {
                        l.as_slice().subtree_hash(h, i).unwrap()
                    }
                })
                .collect();
            assert_eq!(Frontier::from_subtrees(size, &edge).unwrap(), f);
        }
        // Every full subtree of height 1 and more, exactly once.
        let want: usize = (1..9).map(|h| 300 >> h).sum();
        assert_eq!(completed.len(), want);
        for s in completed {
            let n = 1u64 << s.height;
            assert_eq!(
                s.hash,
                subtree_from_leaves(l.as_slice(), s.index * n, n).unwrap()
            );
        }
        assert_eq!(Frontier::subtrees_of(0), vec![]);
        assert_eq!(Frontier::subtrees_of(6), vec![(2, 0), (1, 2)]);
        assert!(Frontier::from_subtrees(6, &[EMPTY_ROOT]).is_err());
    }

    #[test]
    fn memory_log_appends_in_order() {
        let mut log = MemoryLog::new();
        assert_eq!(log.root(), EMPTY_ROOT);
        assert_eq!(log.append(b"a"), 0);
        assert_eq!(log.append(b"b"), 1);
        assert_eq!(log.root(), node_hash(&leaf_hash(b"a"), &leaf_hash(b"b")));
        assert_eq!(tree_head(&log, 2).unwrap(), log.root());
    }
}
