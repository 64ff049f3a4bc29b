//! C2SP `tlog-tiles`: the tree served as static tiles of 256 hashes, and the entries as bundles.
//!
//! - A tile at level `L`, index `N`, holds the hashes `MTH(D[(N·256 + i)·256^L ..
//!   (N·256 + i + 1)·256^L])` for `i` below its width: leaf hashes at level 0, and at level
//!   `L ≥ 1` the roots of full subtrees of `256^L` leaves (tree height `8·L`).
//! - It is served at `tile/<L>/<N>[.p/<W>]`, `N` in zero-padded 3-digit path elements of which
//!   all but the last begin with `x` (`1234067` is `x001/x234/067`), `.p/<W>` for a partial
//!   tile of width `W` (1 to 255).
//! - An entry bundle, `tile/entries/<N>[.p/<W>]`, is the entries of level-0 tile `N`, each as a
//!   big-endian `u16` length and the entry's bytes.
//!
//! [`TileSource`] lets a client compute tree heads and proofs from tiles it fetches.

use std::cell::RefCell;
use std::collections::HashMap;

use crate::hash::{HASH_SIZE, Hash, node_hash};
use crate::tree::{LeafSource, TreeError};

/// Hashes per full tile.
pub const TILE_WIDTH: u64 = 256;
/// The tree height a tile spans.
pub const TILE_HEIGHT: u32 = 8;
/// The highest tile level (the specification's limit).
pub const MAX_LEVEL: u8 = 63;
/// The largest entry an entry bundle can carry.
pub const MAX_ENTRY_BYTES: usize = u16::MAX as usize;

/// Why a tile path or an entry bundle was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TileError {
    #[error("\"{path}\" is not a tile path: {reason}")]
    BadPath { path: String, reason: &'static str },
    #[error(
        "entry {index} of the bundle is {len} bytes, more than the {MAX_ENTRY_BYTES} a bundle can carry"
    )]
    EntryTooLarge { index: usize, len: usize },
    #[error("the entry bundle is truncated at byte {at}")]
    Truncated { at: usize },
}

/// What a path under `tile/` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TilePath {
    /// A tile of hashes.
    Hashes { level: u8, index: u64, width: u16 },
    /// An entry bundle (the entries of level-0 tile `index`).
    Entries { index: u64, width: u16 },
}

/// `N` as zero-padded 3-digit path elements, all but the last prefixed with `x`.
pub fn encode_index(mut n: u64) -> String {
    let mut parts = vec![format!("{:03}", n % 1000)];
    while n >= 1000 {
        n /= 1000;
        parts.push(format!("x{:03}", n % 1000));
    }
    parts.reverse();
    parts.join("/")
}

fn width_suffix(width: u16) -> String {
    if u64::from(width) == TILE_WIDTH {
        String::new()
    } else {
        format!(".p/{width}")
    }
}

impl TilePath {
    /// The path under the log's prefix: `tile/0/x001/234`, `tile/entries/007.p/12`.
    pub fn to_path(&self) -> String {
        match *self {
            TilePath::Hashes {
                level,
                index,
                width,
            } => format!(
                "tile/{level}/{}{}",
                encode_index(index),
                width_suffix(width)
            ),
            TilePath::Entries { index, width } => {
                format!(
                    "tile/entries/{}{}",
                    encode_index(index),
                    width_suffix(width)
                )
            }
        }
    }

    /// Whether the tile is partial.
    pub fn is_partial(&self) -> bool {
        let (TilePath::Hashes { width, .. } | TilePath::Entries { width, .. }) = *self;
        u64::from(width) != TILE_WIDTH
    }

    /// Parses a path under the log's prefix (`tile/…`). Only the canonical form is accepted:
    /// no leading zeros in the level or width, no redundant `x000` elements.
    pub fn parse(path: &str) -> Result<TilePath, TileError> {
        let bad = |reason: &'static str| TileError::BadPath {
            path: path.chars().take(80).collect(),
            reason,
        };
        let rest = path
            .strip_prefix("tile/")
            .ok_or_else(|| bad("it does not start with tile/"))?;
        let (kind, rest) = rest
            .split_once('/')
            .ok_or_else(|| bad("no tile index follows the level"))?;
        let level = if kind == "entries" {
            None
        } else {
            let ok = !kind.is_empty()
                && kind.bytes().all(|b| b.is_ascii_digit())
                && (kind == "0" || !kind.starts_with('0'));
            let level: u8 = kind
                .parse()
                .ok()
                .filter(|l| ok && *l <= MAX_LEVEL)
                .ok_or_else(|| bad("the level is not a number from 0 to 63"))?;
            Some(level)
        };
        let (index_part, width) = match rest.split_once(".p/") {
            None => (rest, TILE_WIDTH as u16),
            Some((index, w)) => {
                let ok =
                    !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()) && !w.starts_with('0');
                let w: u16 = w
                    .parse()
                    .ok()
                    .filter(|w| ok && (1..TILE_WIDTH as u16).contains(w))
                    .ok_or_else(|| bad("the partial width is not a number from 1 to 255"))?;
                (index, w)
            }
        };
        let parts: Vec<&str> = index_part.split('/').collect();
        let mut index = 0u64;
        for (i, p) in parts.iter().enumerate() {
            let digits = if i + 1 < parts.len() {
                p.strip_prefix('x')
                    .ok_or_else(|| bad("every index element but the last begins with x"))?
            } else {
                p
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad("index elements are three digits"));
            }
            let d: u64 = digits
                .parse()
                .map_err(|_| bad("index elements are three digits"))?;
            index = index
                .checked_mul(1000)
                .and_then(|n| n.checked_add(d))
                .ok_or_else(|| bad("the index does not fit in 64 bits"))?;
        }
        if encode_index(index) != index_part {
            return Err(bad("the index is not in its canonical form"));
        }
        Ok(match level {
            Some(level) => TilePath::Hashes {
                level,
                index,
                width,
            },
            None => TilePath::Entries { index, width },
        })
    }
}

/// How many hashes tile `index` of `level` has in a tree of `size` leaves: 256 for a full tile,
/// 1 to 255 for the partial one, `None` when the tree has no hash of that tile yet.
pub fn tile_width(level: u8, index: u64, size: u64) -> Option<u16> {
    let shift = u32::from(level) * TILE_HEIGHT;
    let hashes = if shift >= 64 { 0 } else { size >> shift };
    let start = index.checked_mul(TILE_WIDTH)?;
    if hashes <= start {
        return None;
    }
    Some((hashes - start).min(TILE_WIDTH) as u16)
}

/// An entry bundle of `entries`, each a big-endian `u16` length and its bytes.
pub fn entry_bundle<'a>(entries: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::new();
    for (index, e) in entries.into_iter().enumerate() {
        let len = u16::try_from(e.len()).map_err(|_| TileError::EntryTooLarge {
            index,
            len: e.len(),
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(out)
}

/// The entries of a bundle.
pub fn parse_entry_bundle(bytes: &[u8]) -> Result<Vec<&[u8]>, TileError> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at < bytes.len() {
        let Some(len) = bytes.get(at..at + 2) else {
            return Err(TileError::Truncated { at });
        };
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let Some(e) = bytes.get(at + 2..at + 2 + len) else {
            return Err(TileError::Truncated { at });
        };
        out.push(e);
        at += 2 + len;
    }
    Ok(out)
}

/// The hashes of a tile's bytes (32 bytes each).
pub fn tile_hashes(bytes: &[u8]) -> Option<Vec<Hash>> {
    if !bytes.len().is_multiple_of(HASH_SIZE) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(HASH_SIZE)
            .map(|c| c.try_into().expect("32-byte chunks"))
            .collect(),
    )
}

/// The root of `hashes` (a power-of-two count of adjacent equal-height subtree roots).
pub fn fold(hashes: &[Hash]) -> Hash {
    if hashes.len() == 1 {
        return hashes[0];
    }
    let (l, r) = hashes.split_at(hashes.len() / 2);
    node_hash(&fold(l), &fold(r))
}

/// A [`LeafSource`] that reads tiles of a tree of `size` leaves through `fetch(level, index,
/// width)`, each once, so that [`crate::tree_head`], [`crate::inclusion_proof`] and
/// [`crate::consistency_proof`] run on a log's tiles as on its leaves.
pub struct TileSource<F> {
    size: u64,
    fetch: RefCell<F>,
    tiles: RefCell<HashMap<(u8, u64), Vec<Hash>>>,
}

impl<F> TileSource<F>
where
    F: FnMut(u8, u64, u16) -> Result<Vec<Hash>, String>,
{
    pub fn new(size: u64, fetch: F) -> Self {
        Self {
            size,
            fetch: RefCell::new(fetch),
            tiles: RefCell::new(HashMap::new()),
        }
    }

    /// The hash `i` of level `level` (the root of `256^level` leaves from `i·256^level`).
    fn level_hash(&self, level: u8, i: u64) -> Result<Hash, TreeError> {
        let tile = i / TILE_WIDTH;
        let source = |reason: String| TreeError::Source { index: i, reason };
        if !self.tiles.borrow().contains_key(&(level, tile)) {
            let width = tile_width(level, tile, self.size)
                .ok_or_else(|| source(format!("the tree has no tile {tile} at level {level}")))?;
            let hashes = (self.fetch.borrow_mut())(level, tile, width).map_err(source)?;
            if hashes.len() != usize::from(width) {
                return Err(source(format!(
                    "tile {level}/{tile} has {} hashes, {width} expected",
                    hashes.len()
                )));
            }
            self.tiles.borrow_mut().insert((level, tile), hashes);
        }
        Ok(self.tiles.borrow()[&(level, tile)][(i % TILE_WIDTH) as usize])
    }
}

impl<F> LeafSource for TileSource<F>
where
    F: FnMut(u8, u64, u16) -> Result<Vec<Hash>, String>,
{
    fn size(&self) -> u64 {
        self.size
    }

    fn leaf_hash(&self, index: u64) -> Result<Hash, TreeError> {
        if index >= self.size {
            return Err(TreeError::IndexOutOfRange {
                index,
                size: self.size,
            });
        }
        self.level_hash(0, index)
    }

    fn subtree_hash(&self, height: u32, index: u64) -> Result<Hash, TreeError> {
        let level = (height / TILE_HEIGHT) as u8;
        let rest = height % TILE_HEIGHT;
        let first = index << rest;
        let hashes = (first..first + (1u64 << rest))
            .map(|i| self.level_hash(level, i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(fold(&hashes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::leaf_hash;
    use crate::tree::{consistency_proof, inclusion_proof, tree_head};

    #[test]
    fn paths_are_encoded_as_the_specification_says() {
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(1234067), "x001/x234/067");
        assert_eq!(encode_index(1000), "x001/000");
        let cases = [
            (
                "tile/0/000",
                TilePath::Hashes {
                    level: 0,
                    index: 0,
                    width: 256,
                },
            ),
            (
                "tile/1/x001/x234/067.p/17",
                TilePath::Hashes {
                    level: 1,
                    index: 1234067,
                    width: 17,
                },
            ),
            (
                "tile/entries/x001/000",
                TilePath::Entries {
                    index: 1000,
                    width: 256,
                },
            ),
            (
                "tile/entries/005.p/255",
                TilePath::Entries {
                    index: 5,
                    width: 255,
                },
            ),
            (
                "tile/63/000",
                TilePath::Hashes {
                    level: 63,
                    index: 0,
                    width: 256,
                },
            ),
        ];
        for (path, want) in cases {
            assert_eq!(TilePath::parse(path).unwrap(), want, "{path}");
            assert_eq!(want.to_path(), path);
        }
        for bad in [
            "tile/00/000",
            "tile/64/000",
            "tile/-1/000",
            "tile/0/00",
            "tile/0/0000",
            "tile/0/x000/001",
            "tile/0/001/002",
            "tile/0/x1/002",
            "tile/0/000.p/0",
            "tile/0/000.p/256",
            "tile/0/000.p/012",
            "tile/0/000.p/",
            "tile/0",
            "tile/0/",
            "tiles/0/000",
            "tile/entries/000.p/1/2",
            "tile/0/x018/x446/x744/x073/x709/x551/616",
            "tile/0/x999/x999/x999/x999/x999/x999/x999/999",
        ] {
            assert!(TilePath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn widths_follow_the_tree_size() {
        // The specification's example: a tree of 70,000 leaves.
        assert_eq!(tile_width(0, 272, 70_000), Some(256));
        assert_eq!(tile_width(0, 273, 70_000), Some(112));
        assert_eq!(tile_width(0, 274, 70_000), None);
        assert_eq!(tile_width(1, 0, 70_000), Some(256));
        assert_eq!(tile_width(1, 1, 70_000), Some(17));
        assert_eq!(tile_width(2, 0, 70_000), Some(1));
        assert_eq!(tile_width(3, 0, 70_000), None);
        assert_eq!(tile_width(1, 0, 256), Some(1));
        assert_eq!(tile_width(63, 0, u64::MAX), None);
        assert_eq!(tile_width(0, u64::MAX, u64::MAX), None);
    }

    #[test]
    fn bundles_round_trip_and_refuse_what_they_cannot_carry() {
        let entries: Vec<Vec<u8>> = vec![b"a".to_vec(), vec![], vec![7; 300]];
        let b = entry_bundle(entries.iter().map(Vec::as_slice)).unwrap();
        assert_eq!(&b[..3], &[0, 1, b'a']);
        let back = parse_entry_bundle(&b).unwrap();
        assert_eq!(back, entries.iter().map(Vec::as_slice).collect::<Vec<_>>());
        assert!(parse_entry_bundle(&b[..b.len() - 1]).is_err());
        assert!(parse_entry_bundle(&[0]).is_err());
        let big = vec![0u8; MAX_ENTRY_BYTES + 1];
        assert!(matches!(
            entry_bundle([big.as_slice()]),
            Err(TileError::EntryTooLarge { index: 0, .. })
        ));
    }

    /// The tiles of `leaves` as a log would serve them.
    fn serve(leaves: &[Hash], level: u8, index: u64, width: u16) -> Vec<Hash> {
        let span = 1usize << (u32::from(level) * TILE_HEIGHT);
        (0..usize::from(width))
            .map(|i| {
                let first = (index as usize * 256 + i) * span;
                fold(&leaves[first..first + span])
            })
            .collect()
    }

    #[test]
    fn tiles_give_the_tree_head_and_the_proofs_of_the_leaves() {
        let leaves: Vec<Hash> = (0..70_000u32)
            .map(|i| leaf_hash(&i.to_be_bytes()))
            .collect();
        for size in [1u64, 255, 256, 257, 65_535, 65_536, 65_537, 70_000] {
            let mut fetched = 0;
            let src = TileSource::new(size, |l, n, w| {
                fetched += 1;
                Ok(serve(&leaves, l, n, w))
            });
            assert_eq!(
                tree_head(&src, size).unwrap(),
                tree_head(&leaves, size).unwrap()
            );
            let i = size / 3;
            assert_eq!(
                inclusion_proof(&src, i, size).unwrap(),
                inclusion_proof(&leaves, i, size).unwrap()
            );
            if size > 1 {
                assert_eq!(
                    consistency_proof(&src, size / 2, size).unwrap(),
                    consistency_proof(&leaves, size / 2, size).unwrap()
                );
            }
            drop(src);
            assert!(fetched < 12, "size {size}: {fetched} tiles fetched");
        }
        let short = TileSource::new(300, |_, _, _| Ok(vec![leaves[0]]));
        assert!(tree_head(&short, 300).is_err());
    }
}
