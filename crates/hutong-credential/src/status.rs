//! W3C Bitstring Status List v1.0: the list, its entries in credentials, the status list
//! credential, and random index assignment.
//!
//! One bit per credential (status size 1). Bit 0 is the most significant (leftmost) bit of the
//! first byte. The `encodedList` is `u` + base64url (no padding) of the GZIP of the bitstring.

use std::collections::HashSet;
use std::io::Read as _;

use base64::Engine as _;
use base64::alphabet::URL_SAFE;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use rand::{Rng, RngCore};
use serde_json::{Value, json};

use crate::error::CredentialError;

/// The fewest entries a list may have (16 KiB of bits), so that one entry hides in the crowd.
pub const MIN_STATUS_LIST_ENTRIES: u64 = 131_072;

/// The largest decoded list accepted (a GZIP bomb guard): 16 MiB, 134 million entries.
pub const MAX_STATUS_LIST_BYTES: usize = 16 << 20;

const VC_V2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";

const URL_SAFE_ANY_PADDING: GeneralPurpose = GeneralPurpose::new(
    &URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What a status list's bits mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusPurpose {
    /// A set bit: revoked, for good.
    Revocation,
    /// A set bit: suspended, for now.
    Suspension,
}

impl StatusPurpose {
    /// The purpose as the specification spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revocation => "revocation",
            Self::Suspension => "suspension",
        }
    }

    /// Parses `revocation` or `suspension`.
    pub fn parse(s: &str) -> Result<Self, CredentialError> {
        match s {
            "revocation" => Ok(Self::Revocation),
            "suspension" => Ok(Self::Suspension),
            other => Err(CredentialError::invalid(
                "statusPurpose",
                format!("{other:?} is not revocation or suspension"),
            )),
        }
    }
}

/// A bitstring of statuses, one bit per credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BitstringStatusList {
    bytes: Vec<u8>,
}

impl BitstringStatusList {
    /// A list of `entries` cleared bits; `entries` must be a multiple of 8 and at least
    /// [`MIN_STATUS_LIST_ENTRIES`].
    pub fn new(entries: u64) -> Result<Self, CredentialError> {
        if entries < MIN_STATUS_LIST_ENTRIES {
            return Err(CredentialError::ListTooShort {
                got: entries,
                min: MIN_STATUS_LIST_ENTRIES,
            });
        }
        if !entries.is_multiple_of(8) {
            return Err(CredentialError::invalid(
                "status list size",
                "entries must be a multiple of 8",
            ));
        }
        let len = usize::try_from(entries / 8)
            .ok()
            .filter(|&l| l <= MAX_STATUS_LIST_BYTES)
            .ok_or(CredentialError::ListTooLarge {
                max: MAX_STATUS_LIST_BYTES,
            })?;
        Ok(Self {
            bytes: vec![0; len],
        })
    }

    /// The number of entries.
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64 * 8
    }

    /// Whether the list has no entries (never, for a list built here).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The raw bitstring.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn locate(&self, index: u64) -> Result<(usize, u8), CredentialError> {
        if index >= self.len() {
            return Err(CredentialError::IndexOutOfRange {
                index,
                size: self.len(),
            });
        }
        // In range, so it fits in usize.
        Ok(((index / 8) as usize, 0x80 >> (index % 8)))
    }

    /// The bit at `index`.
    pub fn get(&self, index: u64) -> Result<bool, CredentialError> {
        let (byte, mask) = self.locate(index)?;
        Ok(self.bytes[byte] & mask != 0)
    }

    /// Sets the bit at `index` to `value`.
    pub fn set(&mut self, index: u64, value: bool) -> Result<(), CredentialError> {
        let (byte, mask) = self.locate(index)?;
        if value {
            self.bytes[byte] |= mask;
        } else {
            self.bytes[byte] &= !mask;
        }
        Ok(())
    }

    /// The `encodedList`: `u` + base64url (no padding) of the GZIP of the bitstring.
    pub fn encode(&self) -> String {
        use std::io::Write as _;
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        // Writing to a Vec cannot fail.
        let _ = gz.write_all(&self.bytes);
        let compressed = gz.finish().unwrap_or_default();
        format!("u{}", URL_SAFE_NO_PAD.encode(compressed))
    }

    /// Decodes an `encodedList`. The decoded list must hold at least
    /// [`MIN_STATUS_LIST_ENTRIES`] and at most [`MAX_STATUS_LIST_BYTES`] bytes.
    pub fn decode(encoded: &str) -> Result<Self, CredentialError> {
        let rest = encoded.strip_prefix('u').ok_or_else(|| {
            CredentialError::multibase("encodedList", "it does not start with 'u' (base64url)")
        })?;
        let compressed = URL_SAFE_ANY_PADDING
            .decode(rest)
            .map_err(|e| CredentialError::multibase("encodedList", e.to_string()))?;
        let mut bytes = Vec::new();
        GzDecoder::new(compressed.as_slice())
            .take(MAX_STATUS_LIST_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| CredentialError::invalid("encodedList", format!("not GZIP: {e}")))?;
        if bytes.len() > MAX_STATUS_LIST_BYTES {
            return Err(CredentialError::ListTooLarge {
                max: MAX_STATUS_LIST_BYTES,
            });
        }
        let entries = bytes.len() as u64 * 8;
        if entries < MIN_STATUS_LIST_ENTRIES {
            return Err(CredentialError::ListTooShort {
                got: entries,
                min: MIN_STATUS_LIST_ENTRIES,
            });
        }
        Ok(Self { bytes })
    }
}

/// A `BitstringStatusListEntry`, the `credentialStatus` of a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusListEntry {
    /// The entry's id, e.g. `<list URL>#<index>`.
    pub id: Option<String>,
    /// What the bit means.
    pub purpose: StatusPurpose,
    /// The bit's index in the list.
    pub index: u64,
    /// The URL of the status list credential.
    pub list_credential: String,
}

impl StatusListEntry {
    /// An entry for bit `index` of the list credential at `list_credential`, with id
    /// `<list_credential>#<index>`.
    pub fn new(list_credential: impl Into<String>, purpose: StatusPurpose, index: u64) -> Self {
        let list_credential = list_credential.into();
        Self {
            id: Some(format!("{list_credential}#{index}")),
            purpose,
            index,
            list_credential,
        }
    }

    /// The entry as JSON (the index is a string of decimal digits, as the specification says).
    pub fn to_value(&self) -> Value {
        let mut v = json!({
            "type": "BitstringStatusListEntry",
            "statusPurpose": self.purpose.as_str(),
            "statusListIndex": self.index.to_string(),
            "statusListCredential": self.list_credential,
        });
        if let Some(id) = &self.id {
            v["id"] = id.clone().into();
        }
        v
    }

    /// Parses an entry.
    pub fn from_value(v: &Value) -> Result<Self, CredentialError> {
        let obj = v.as_object().ok_or(CredentialError::NotAnObject {
            what: "credentialStatus",
        })?;
        let s = |k: &'static str| -> Result<&str, CredentialError> {
            obj.get(k)
                .ok_or(CredentialError::Missing { what: k })?
                .as_str()
                .ok_or_else(|| CredentialError::invalid(k, "not a string"))
        };
        if s("type")? != "BitstringStatusListEntry" {
            return Err(CredentialError::invalid(
                "type",
                "expected BitstringStatusListEntry",
            ));
        }
        let index_str = s("statusListIndex")?;
        if index_str.is_empty()
            || !index_str.bytes().all(|b| b.is_ascii_digit())
            || (index_str.len() > 1 && index_str.starts_with('0'))
        {
            return Err(CredentialError::invalid(
                "statusListIndex",
                "not a decimal number without leading zeros",
            ));
        }
        let index = index_str
            .parse()
            .map_err(|_| CredentialError::invalid("statusListIndex", "too large"))?;
        let id = match obj.get("id") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(CredentialError::invalid("id", "not a string")),
        };
        Ok(Self {
            id,
            purpose: StatusPurpose::parse(s("statusPurpose")?)?,
            index,
            list_credential: s("statusListCredential")?.to_owned(),
        })
    }
}

/// A `BitstringStatusListCredential` (unsigned; sign it with [`crate::proof::create_proof`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusListCredential {
    /// The credential's URL, which entries name as `statusListCredential`.
    pub id: String,
    /// The issuer (the controller of the signing key).
    pub issuer: String,
    /// The instant from which the list is valid (XML Schema dateTimeStamp).
    pub valid_from: Option<String>,
    /// The instant until which the list is valid: verifiers refuse it after.
    pub valid_until: Option<String>,
    /// What the bits mean.
    pub purpose: StatusPurpose,
    /// The bits.
    pub list: BitstringStatusList,
}

impl StatusListCredential {
    /// A credential for `list` at `id`, issued by `issuer`.
    pub fn new(
        id: impl Into<String>,
        issuer: impl Into<String>,
        purpose: StatusPurpose,
        list: BitstringStatusList,
    ) -> Self {
        Self {
            id: id.into(),
            issuer: issuer.into(),
            valid_from: None,
            valid_until: None,
            purpose,
            list,
        }
    }

    /// Sets the validity window.
    pub fn valid(mut self, from: impl Into<String>, until: impl Into<String>) -> Self {
        self.valid_from = Some(from.into());
        self.valid_until = Some(until.into());
        self
    }

    /// The credential document.
    pub fn to_value(&self) -> Value {
        let mut v = json!({
            "@context": [VC_V2_CONTEXT],
            "id": self.id,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": self.issuer,
            "credentialSubject": {
                "id": format!("{}#list", self.id),
                "type": "BitstringStatusList",
                "statusPurpose": self.purpose.as_str(),
                "encodedList": self.list.encode(),
            },
        });
        if let Some(f) = &self.valid_from {
            v["validFrom"] = f.clone().into();
        }
        if let Some(u) = &self.valid_until {
            v["validUntil"] = u.clone().into();
        }
        v
    }

    /// Reads a status list credential (its proof, if any, is not checked here).
    pub fn from_value(v: &Value) -> Result<Self, CredentialError> {
        let obj = v.as_object().ok_or(CredentialError::NotAnObject {
            what: "status list credential",
        })?;
        let types = obj.get("type").and_then(Value::as_array);
        if !types.is_some_and(|t| {
            t.iter()
                .any(|x| x.as_str() == Some("BitstringStatusListCredential"))
        }) {
            return Err(CredentialError::invalid(
                "type",
                "not a BitstringStatusListCredential",
            ));
        }
        let str_of = |o: &serde_json::Map<String, Value>,
                      k: &'static str|
         -> Result<String, CredentialError> {
            o.get(k)
                .ok_or(CredentialError::Missing { what: k })?
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| CredentialError::invalid(k, "not a string"))
        };
        let opt_str = |k: &'static str| -> Result<Option<String>, CredentialError> {
            match obj.get(k) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(CredentialError::invalid(k, "not a string")),
            }
        };
        let issuer = match obj.get("issuer") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Object(o)) => str_of(o, "id")?,
            Some(_) => return Err(CredentialError::invalid("issuer", "not a string or object")),
            None => return Err(CredentialError::Missing { what: "issuer" }),
        };
        let subject = obj
            .get("credentialSubject")
            .and_then(Value::as_object)
            .ok_or(CredentialError::NotAnObject {
                what: "credentialSubject",
            })?;
        if subject.get("type").and_then(Value::as_str) != Some("BitstringStatusList") {
            return Err(CredentialError::invalid(
                "credentialSubject.type",
                "expected BitstringStatusList",
            ));
        }
        Ok(Self {
            id: str_of(obj, "id")?,
            issuer,
            valid_from: opt_str("validFrom")?,
            valid_until: opt_str("validUntil")?,
            purpose: StatusPurpose::parse(&str_of(subject, "statusPurpose")?)?,
            list: BitstringStatusList::decode(&str_of(subject, "encodedList")?)?,
        })
    }
}

/// Assigns status list indexes drawn uniformly at random among the unused ones, so that the
/// order of issue cannot be read from a list. Give it a seeded RNG for tests and an OS-seeded
/// one (`rand::rngs::StdRng::from_entropy()`, `rand::rngs::OsRng`) in service.
#[derive(Debug, Clone)]
pub struct IndexAllocator<R> {
    used: Vec<u64>,
    count: u64,
    capacity: u64,
    rng: R,
}

impl<R: RngCore> IndexAllocator<R> {
    /// An allocator over `capacity` indexes, none used.
    pub fn new(capacity: u64, rng: R) -> Result<Self, CredentialError> {
        Self::with_used(capacity, std::iter::empty(), rng)
    }

    /// An allocator over `capacity` indexes of which `used` (as a store remembers them) are
    /// taken already.
    pub fn with_used(
        capacity: u64,
        used: impl IntoIterator<Item = u64>,
        rng: R,
    ) -> Result<Self, CredentialError> {
        if capacity == 0 || capacity > MAX_STATUS_LIST_BYTES as u64 * 8 {
            return Err(CredentialError::invalid(
                "status list capacity",
                format!("must be between 1 and {}", MAX_STATUS_LIST_BYTES * 8),
            ));
        }
        let mut a = Self {
            used: vec![0; capacity.div_ceil(64) as usize],
            count: 0,
            capacity,
            rng,
        };
        let mut seen = HashSet::new();
        for i in used {
            if i >= capacity {
                return Err(CredentialError::IndexOutOfRange {
                    index: i,
                    size: capacity,
                });
            }
            if seen.insert(i) {
                a.mark(i);
            }
        }
        Ok(a)
    }

    fn is_used(&self, i: u64) -> bool {
        self.used[(i / 64) as usize] & (1 << (i % 64)) != 0
    }

    fn mark(&mut self, i: u64) {
        self.used[(i / 64) as usize] |= 1 << (i % 64);
        self.count += 1;
    }

    /// The number of indexes handed out (or given as used).
    pub fn used(&self) -> u64 {
        self.count
    }

    /// The number of indexes.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Draws an unused index uniformly at random and marks it used.
    pub fn allocate(&mut self) -> Result<u64, CredentialError> {
        let free = self.capacity - self.count;
        if free == 0 {
            return Err(CredentialError::ListFull);
        }
        // Rejection sampling is uniform over the free indexes and fast while many are free;
        // when it keeps missing, pick the k-th free index directly, which is uniform too.
        for _ in 0..64 {
            let i = self.rng.gen_range(0..self.capacity);
            if !self.is_used(i) {
                self.mark(i);
                return Ok(i);
            }
        }
        let mut k = self.rng.gen_range(0..free);
        for (w, &word) in self.used.iter().enumerate() {
            let base = w as u64 * 64;
            let valid = (self.capacity - base).min(64);
            let mask = if valid == 64 {
                u64::MAX
            } else {
                (1u64 << valid) - 1
            };
            let free_bits = !word & mask;
            let n = u64::from(free_bits.count_ones());
            if k < n {
                let mut bits = free_bits;
                for _ in 0..k {
                    bits &= bits - 1;
                }
                let i = base + u64::from(bits.trailing_zeros());
                self.mark(i);
                return Ok(i);
            }
            k -= n;
        }
        // The free count says there is one; reaching here would be a bookkeeping error.
        Err(CredentialError::ListFull)
    }
}

/// A keyed pseudo-random permutation of the positions `0..MIN_STATUS_LIST_ENTRIES`, for
/// assigning status list indexes without storing them: a certificate's index in its list is the
/// permutation of its position, so that which bits are set reveals nothing about which
/// certificates (or in which order they were issued) without the key. A 4-round Feistel network
/// on 18 bits, walked in cycles until it lands in range; each round function is SHA-256 of the
/// key, the round and the half.
#[derive(Clone)]
pub struct IndexPermutation {
    key: [u8; 32],
}

impl IndexPermutation {
    pub fn new(key: [u8; 32]) -> Self {
        Self { key }
    }

    fn round(&self, r: u8, half: u32) -> u32 {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.key);
        h.update([r]);
        h.update(half.to_le_bytes());
        let d = h.finalize();
        u32::from_le_bytes([d[0], d[1], d[2], d[3]]) & 0x1ff
    }

    fn feistel(&self, x: u32) -> u32 {
        let (mut l, mut r) = (x >> 9, x & 0x1ff);
        for round in 0..4 {
            (l, r) = (r, l ^ self.round(round, r));
        }
        (l << 9) | r
    }

    /// The index of `position` (below [`MIN_STATUS_LIST_ENTRIES`]).
    pub fn index(&self, position: u64) -> u64 {
        debug_assert!(position < MIN_STATUS_LIST_ENTRIES);
        let mut x = position as u32;
        loop {
            x = self.feistel(x);
            if u64::from(x) < MIN_STATUS_LIST_ENTRIES {
                return u64::from(x);
            }
        }
    }
}

#[cfg(test)]
mod permutation_tests {
    use super::*;

    #[test]
    fn every_position_gets_its_own_index() {
        let p = IndexPermutation::new([7; 32]);
        let mut seen = vec![false; MIN_STATUS_LIST_ENTRIES as usize];
        for pos in 0..MIN_STATUS_LIST_ENTRIES {
            let i = p.index(pos) as usize;
            assert!(!seen[i], "index {i} twice");
            seen[i] = true;
        }
        // And it does not keep the order: the first ten positions are scattered.
        let first: Vec<u64> = (0..10).map(|x| p.index(x)).collect();
        assert!(first.windows(2).any(|w| w[0] > w[1]), "{first:?}");
        assert_ne!(
            first,
            (0..10)
                .map(|x| IndexPermutation::new([8; 32]).index(x))
                .collect::<Vec<_>>()
        );
    }
}
