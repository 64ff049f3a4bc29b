//! W3C Bitstring Status List v1.0.

use std::collections::HashSet;

use hutong_credential::{
    BitstringStatusList, CredentialError, IndexAllocator, MIN_STATUS_LIST_ENTRIES, ProofOptions,
    StatusListCredential, StatusListEntry, StatusPurpose, create_proof, did_key,
    verification_method, verify_proof,
};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::json;

#[test]
fn a_list_has_at_least_131072_entries() {
    assert_eq!(MIN_STATUS_LIST_ENTRIES, 131_072);
    let list = BitstringStatusList::new(MIN_STATUS_LIST_ENTRIES).unwrap();
    assert_eq!(list.len(), 131_072);
    assert_eq!(list.as_bytes().len(), 16_384);
    assert!(matches!(
        BitstringStatusList::new(131_064),
        Err(CredentialError::ListTooShort { .. })
    ));
    assert!(BitstringStatusList::new(131_073).is_err());
}

#[test]
fn bit_zero_is_the_leftmost_bit_of_the_first_byte() {
    let mut list = BitstringStatusList::new(MIN_STATUS_LIST_ENTRIES).unwrap();
    list.set(0, true).unwrap();
    assert_eq!(list.as_bytes()[0], 0b1000_0000);
    list.set(7, true).unwrap();
    assert_eq!(list.as_bytes()[0], 0b1000_0001);
    list.set(8, true).unwrap();
    assert_eq!(list.as_bytes()[1], 0b1000_0000);
    list.set(0, false).unwrap();
    assert_eq!(list.as_bytes()[0], 0b0000_0001);
    assert!(list.get(7).unwrap() && list.get(8).unwrap() && !list.get(0).unwrap());
    let last = list.len() - 1;
    list.set(last, true).unwrap();
    assert_eq!(list.as_bytes()[16_383], 0b0000_0001);
    assert!(matches!(
        list.get(list.len()),
        Err(CredentialError::IndexOutOfRange { .. })
    ));
    assert!(list.set(u64::MAX, true).is_err());
}

#[test]
fn the_encoded_list_round_trips() {
    let mut list = BitstringStatusList::new(MIN_STATUS_LIST_ENTRIES * 2).unwrap();
    for i in [0, 1, 94_567, 131_071, 262_143] {
        list.set(i, true).unwrap();
    }
    let encoded = list.encode();
    assert!(
        encoded.starts_with("uH4sI"),
        "u + base64url of a GZIP stream: {encoded}"
    );
    assert!(!encoded.contains(['+', '/', '=']));
    let decoded = BitstringStatusList::decode(&encoded).unwrap();
    assert_eq!(decoded, list);
    assert!(decoded.get(94_567).unwrap() && !decoded.get(94_568).unwrap());
}

#[test]
fn the_specification_example_list_decodes() {
    // The encodedList of the Bitstring Status List v1.0 example credential: 131,072 zeros.
    let spec = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA";
    let list = BitstringStatusList::decode(spec).unwrap();
    assert_eq!(list.len(), 131_072);
    assert!(list.as_bytes().iter().all(|&b| b == 0));
}

#[test]
fn malformed_encoded_lists_are_refused() {
    assert!(BitstringStatusList::decode("").is_err());
    assert!(BitstringStatusList::decode("zH4sI").is_err());
    assert!(BitstringStatusList::decode("u!!!").is_err());
    assert!(BitstringStatusList::decode("uAAAA").is_err());
    // Valid GZIP, but too short a list.
    use std::io::Write as _;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&[0u8; 100]).unwrap();
    let short = format!(
        "u{}",
        base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            gz.finish().unwrap()
        )
    );
    assert!(matches!(
        BitstringStatusList::decode(&short),
        Err(CredentialError::ListTooShort { got: 800, .. })
    ));
}

#[test]
fn entries_and_list_credentials_are_built_and_read() {
    let entry = StatusListEntry::new(
        "https://hutong.example/status/r/1",
        StatusPurpose::Revocation,
        94_567,
    );
    let v = entry.to_value();
    assert_eq!(
        v,
        json!({
            "id": "https://hutong.example/status/r/1#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": "https://hutong.example/status/r/1",
        })
    );
    assert_eq!(StatusListEntry::from_value(&v).unwrap(), entry);
    for bad in [
        json!({"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": 5, "statusListCredential": "x"}),
        json!({"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "05", "statusListCredential": "x"}),
        json!({"type": "BitstringStatusListEntry", "statusPurpose": "revocation", "statusListIndex": "-1", "statusListCredential": "x"}),
        json!({"type": "BitstringStatusListEntry", "statusPurpose": "refresh", "statusListIndex": "1", "statusListCredential": "x"}),
        json!({"type": "StatusList2021Entry", "statusPurpose": "revocation", "statusListIndex": "1", "statusListCredential": "x"}),
        json!("x"),
    ] {
        assert!(StatusListEntry::from_value(&bad).is_err(), "{bad}");
    }

    let key = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
    let mut list = BitstringStatusList::new(MIN_STATUS_LIST_ENTRIES).unwrap();
    list.set(94_567, true).unwrap();
    let cred = StatusListCredential::new(
        "https://hutong.example/status/r/1",
        did_key(&key.verifying_key()),
        StatusPurpose::Revocation,
        list,
    )
    .valid("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z");
    let doc = cred.to_value();
    assert_eq!(
        doc["type"],
        json!(["VerifiableCredential", "BitstringStatusListCredential"])
    );
    assert_eq!(doc["credentialSubject"]["type"], "BitstringStatusList");
    assert_eq!(
        doc["credentialSubject"]["id"],
        "https://hutong.example/status/r/1#list"
    );
    assert_eq!(doc["validUntil"], "2026-01-02T00:00:00Z");
    let signed = create_proof(
        &doc,
        &ProofOptions::assertion(
            verification_method(&key.verifying_key()),
            "2026-01-01T00:00:00Z",
        ),
        &key,
    )
    .unwrap();
    verify_proof(&signed, &key.verifying_key()).unwrap();
    let read = StatusListCredential::from_value(&signed).unwrap();
    assert_eq!(read, cred);
    assert!(read.list.get(94_567).unwrap());
}

#[test]
fn indexes_are_drawn_at_random_and_never_twice() {
    let capacity = MIN_STATUS_LIST_ENTRIES;
    let mut alloc = IndexAllocator::new(capacity, StdRng::seed_from_u64(10)).unwrap();
    let mut seen = HashSet::new();
    let mut first = Vec::new();
    for n in 0..capacity {
        let i = alloc.allocate().unwrap();
        assert!(i < capacity);
        assert!(seen.insert(i), "index {i} drawn twice (draw {n})");
        if n < 1000 {
            first.push(i);
        }
    }
    assert_eq!(seen.len() as u64, capacity);
    assert_eq!(alloc.allocate(), Err(CredentialError::ListFull));

    // The first draws are spread over the whole list, not in issue order.
    let sorted = first.windows(2).filter(|w| w[0] < w[1]).count();
    assert!((400..600).contains(&sorted), "{sorted} of 999 steps go up");
    let low = first.iter().filter(|&&i| i < capacity / 2).count();
    assert!((430..570).contains(&low), "{low} of 1000 in the lower half");

    // Other seeds draw other sequences.
    let mut a = IndexAllocator::new(capacity, StdRng::seed_from_u64(1)).unwrap();
    let mut b = IndexAllocator::new(capacity, StdRng::seed_from_u64(2)).unwrap();
    let sa: Vec<u64> = (0..8).map(|_| a.allocate().unwrap()).collect();
    let sb: Vec<u64> = (0..8).map(|_| b.allocate().unwrap()).collect();
    assert_ne!(sa, sb);
}

#[test]
fn indexes_a_store_already_used_are_never_drawn() {
    let used: Vec<u64> = (0..MIN_STATUS_LIST_ENTRIES)
        .filter(|i| i % 3 != 0)
        .collect();
    let mut alloc = IndexAllocator::with_used(
        MIN_STATUS_LIST_ENTRIES,
        used.iter().copied(),
        StdRng::from_entropy(),
    )
    .unwrap();
    assert_eq!(alloc.used(), used.len() as u64);
    let mut seen = HashSet::new();
    while let Ok(i) = alloc.allocate() {
        assert_eq!(i % 3, 0, "index {i} was used");
        assert!(seen.insert(i));
    }
    assert_eq!(seen.len() as u64, MIN_STATUS_LIST_ENTRIES.div_ceil(3));
    assert!(IndexAllocator::with_used(10, [10], StdRng::seed_from_u64(0)).is_err());
    assert!(IndexAllocator::new(0, StdRng::seed_from_u64(0)).is_err());
}
