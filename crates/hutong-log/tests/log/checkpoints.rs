//! C2SP signed notes, checkpoints and cosignatures.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::SigningKey;
use hutong_log::cosignature::{COSIGNATURE_V1_TYPE, open_witnessed, verify_quorum};
use hutong_log::note::{ED25519_TYPE, key_id};
use hutong_log::{
    Checkpoint, CheckpointError, CosignatureError, CosignatureVerifier, Cosigner,
    Ed25519NoteVerifier, MemoryLog, NoteError, NoteSigner, SignedNote,
};

const ORIGIN: &str = "hutong.example/log";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn log_signer() -> NoteSigner {
    NoteSigner::new(ORIGIN, key(1)).unwrap()
}

fn checkpoint() -> Checkpoint {
    let mut log = MemoryLog::new();
    for i in 0..5u8 {
        log.append(&[i]);
    }
    Checkpoint::new(ORIGIN, 5, log.root()).unwrap()
}

// golang.org/x/mod/sumdb/note's documented example: an independent implementation's key,
// text and signature, reproduced byte for byte.
const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const GO_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const GO_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                       then you don't know what your problem is.\n";
const GO_SIG: &str =
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=";

#[test]
fn the_go_note_example_is_reproduced_and_verified() {
    let seed = B64.decode(GO_SKEY.splitn(5, '+').nth(4).unwrap()).unwrap();
    assert_eq!(seed[0], ED25519_TYPE);
    let signer = NoteSigner::new(
        "PeterNeumann",
        SigningKey::from_bytes(&seed[1..].try_into().unwrap()),
    )
    .unwrap();
    assert_eq!(signer.key_id(), 0xc74f20a3);
    assert_eq!(signer.verifier().to_vkey(), GO_VKEY);
    let mut note = SignedNote::new(GO_TEXT).unwrap();
    signer.sign(&mut note).unwrap();
    let want = format!("{GO_TEXT}\n\u{2014} PeterNeumann {GO_SIG}\n");
    assert_eq!(note.to_string(), want);

    let verifier = Ed25519NoteVerifier::from_vkey(GO_VKEY).unwrap();
    let parsed = SignedNote::parse(&want).unwrap();
    verifier.verify(&parsed).unwrap();
    assert_eq!(parsed.text(), GO_TEXT);
}

#[test]
fn key_ids_match_independent_verifier_keys() {
    // Verifier keys of types 0x01 and 0x04 from transparency-dev/formats' tests.
    let v = Ed25519NoteVerifier::from_vkey(
        "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",
    )
    .unwrap();
    assert_eq!(v.key_id(), 0x7997405c);
    let w = CosignatureVerifier::from_vkey(
        "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2",
    )
    .unwrap();
    assert_eq!(w.key_id(), 0xda77ade7);
    assert_eq!(
        w.to_vkey(),
        "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
    );
    // A key of one type is not accepted as the other.
    assert!(
        Ed25519NoteVerifier::from_vkey(
            "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
        )
        .is_err()
    );
    // A wrong key ID is refused.
    assert!(
        Ed25519NoteVerifier::from_vkey(
            "TEST+7997405d+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
        )
        .is_err()
    );
}

#[test]
fn the_key_id_is_the_specified_hash_prefix() {
    let pk = key(1).verifying_key();
    let mut input = ORIGIN.as_bytes().to_vec();
    input.push(0x0a);
    input.push(0x01);
    input.extend_from_slice(pk.as_bytes());
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&input);
    let want = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    assert_eq!(key_id(ORIGIN, ED25519_TYPE, pk.as_bytes()), want);
    assert_eq!(log_signer().key_id(), want);
    assert_ne!(key_id(ORIGIN, COSIGNATURE_V1_TYPE, pk.as_bytes()), want);
}

#[test]
fn a_checkpoint_is_signed_in_the_c2sp_format_and_opened() {
    let cp = checkpoint();
    let note = cp.sign(&log_signer()).unwrap().to_string();
    let lines: Vec<&str> = note.split('\n').collect();
    assert_eq!(lines[0], ORIGIN);
    assert_eq!(lines[1], "5");
    assert_eq!(B64.decode(lines[2]).unwrap(), cp.root);
    assert_eq!(lines[3], "");
    assert!(lines[4].starts_with(&format!("\u{2014} {ORIGIN} ")));
    let blob = B64.decode(lines[4].rsplit(' ').next().unwrap()).unwrap();
    assert_eq!(blob.len(), 4 + 64);
    assert_eq!(&blob[..4], &log_signer().key_id().to_be_bytes());
    assert_eq!(lines[5], "");
    assert_eq!(lines.len(), 6);

    let (opened, _) = Checkpoint::open(&note, ORIGIN, &log_signer().verifier()).unwrap();
    assert_eq!(opened, cp);
}

#[test]
fn a_changed_checkpoint_or_another_key_or_origin_is_refused() {
    let note = checkpoint().sign(&log_signer()).unwrap().to_string();
    let v = log_signer().verifier();
    // Every single-byte change of the text is caught.
    let text_len = note.find("\n\n").unwrap() + 1;
    for i in 0..text_len {
        let mut bytes = note.clone().into_bytes();
        bytes[i] ^= 0x01;
        if let Ok(s) = String::from_utf8(bytes) {
            assert!(Checkpoint::open(&s, ORIGIN, &v).is_err(), "byte {i}");
        }
    }
    let other = NoteSigner::new(ORIGIN, key(2)).unwrap().verifier();
    assert!(matches!(
        Checkpoint::open(&note, ORIGIN, &other),
        Err(CheckpointError::Note(NoteError::NotSignedByKey { .. }))
    ));
    assert!(matches!(
        Checkpoint::open(&note, "other.example/log", &v),
        Err(CheckpointError::WrongOrigin { .. })
    ));
    // A signature line of the right key with a broken signature rejects the note.
    let mut n = SignedNote::parse(&note).unwrap();
    let mut sig = n.signatures()[0].clone();
    sig.signature[10] ^= 0x80;
    n.add_signature(sig).unwrap();
    assert!(matches!(
        Checkpoint::open(&n.to_string(), ORIGIN, &v),
        Err(CheckpointError::Note(NoteError::BadSignature { .. }))
    ));
}

#[test]
fn malformed_checkpoints_and_notes_are_refused_without_panic() {
    let root = B64.encode([7u8; 32]);
    for (text, what) in [
        (format!("{ORIGIN}\n5\n"), "missing root"),
        (format!("{ORIGIN}\n05\n{root}\n"), "leading zero"),
        (format!("{ORIGIN}\n-5\n{root}\n"), "negative"),
        (
            format!("{ORIGIN}\n99999999999999999999\n{root}\n"),
            "too large",
        ),
        (
            format!("{ORIGIN}\n5\n{}\n", B64.encode([7u8; 31])),
            "short root",
        ),
        (format!("{ORIGIN}\n5\nnot base64!\n"), "bad base64"),
        (format!("\n5\n{root}\n"), "empty origin"),
        (format!("{ORIGIN}\n5\n{root}"), "no final newline"),
        (format!("{ORIGIN}\n5\n{root}\n\nextension\n"), "empty line"),
    ] {
        assert!(Checkpoint::parse_body(&text).is_err(), "{what}");
    }
    assert!(Checkpoint::parse_body(&format!("{ORIGIN}\n0\n{root}\n")).is_ok());
    let ext = Checkpoint::parse_body(&format!("{ORIGIN}\n5\n{root}\next\n")).unwrap();
    assert_eq!(ext.extensions, vec!["ext".to_owned()]);

    for note in [
        "",
        "text\n",
        "text\n\n",
        "text\n\n\u{2014} name\n",
        "text\n\n\u{2014} name !!!\n",
        "text\n\n\u{2014} name AAAA\n",
        "text\n\n\u{2014} na+me AAAAAAA=\n",
        "text\n\n\u{2014} name AAAAAAA=",
        "text\n\n- name AAAAAAA=\n",
        "te\u{1}xt\n\n\u{2014} name AAAAAAA=\n",
    ] {
        assert!(SignedNote::parse(note).is_err(), "{note:?}");
    }
    assert!(SignedNote::parse("text\n\n\u{2014} name AAAAAAA=\n").is_ok());
    assert!(NoteSigner::new("bad name", key(1)).is_err());
    assert!(NoteSigner::new("", key(1)).is_err());
}

#[test]
fn unknown_signatures_are_ignored() {
    let mut n = checkpoint().sign(&log_signer()).unwrap();
    NoteSigner::new("someone.else", key(9))
        .unwrap()
        .sign(&mut n)
        .unwrap();
    let text = n.to_string();
    Checkpoint::open(&text, ORIGIN, &log_signer().verifier()).unwrap();
}

#[test]
fn witnesses_cosign_and_a_quorum_is_counted() {
    let note = checkpoint().sign(&log_signer()).unwrap();
    let witnesses: Vec<Cosigner> = (0..4)
        .map(|i| Cosigner::new(&format!("witness.example/w{i}"), key(10 + i)).unwrap())
        .collect();
    let verifiers: Vec<CosignatureVerifier> = witnesses.iter().map(Cosigner::verifier).collect();

    let mut cosigned = note.clone();
    for (i, w) in witnesses.iter().take(3).enumerate() {
        let line = w.cosign(&note, 1_700_000_000 + i as u64).unwrap();
        assert_eq!(line.signature.len(), 72);
        assert_eq!(
            &line.signature[..8],
            &(1_700_000_000 + i as u64).to_be_bytes()
        );
        cosigned.add_signature(line).unwrap();
    }
    // Through text and back.
    let text = cosigned.to_string();
    let (_, parsed) = Checkpoint::open(&text, ORIGIN, &log_signer().verifier()).unwrap();
    assert_eq!(verifiers[1].verify(&parsed).unwrap(), 1_700_000_001);
    assert!(matches!(
        verifiers[3].verify(&parsed),
        Err(CosignatureError::Missing { .. })
    ));
    assert_eq!(verify_quorum(&parsed, &verifiers, 3).unwrap().len(), 3);
    assert!(matches!(
        verify_quorum(&parsed, &verifiers, 4),
        Err(CosignatureError::QuorumNotMet { got: 3, needed: 4 })
    ));
    // A log note signature does not pass as a cosignature, nor the reverse.
    let plain = NoteSigner::new("witness.example/w0", key(10)).unwrap();
    let mut wrong = note.clone();
    plain.sign(&mut wrong).unwrap();
    assert!(verifiers[0].verify(&wrong).is_err());
}

/// What a verifier trusts: the log's signature and the cosignatures of as many of its
/// witnesses as it needs; each way of falling short says why.
#[test]
fn a_verifier_opens_a_checkpoint_with_the_witnesses_it_needs() {
    let note = checkpoint().sign(&log_signer()).unwrap();
    let witnesses: Vec<Cosigner> = (0..3)
        .map(|i| Cosigner::new(&format!("witness.example/w{i}"), key(20 + i)).unwrap())
        .collect();
    let verifiers: Vec<CosignatureVerifier> = witnesses.iter().map(Cosigner::verifier).collect();
    let mut cosigned = note.clone();
    for w in &witnesses[..2] {
        cosigned
            .add_signature(w.cosign(&note, 1_700_000_000).unwrap())
            .unwrap();
    }
    let text = cosigned.to_string();
    let log = log_signer().verifier();

    let w = open_witnessed(&text, &log, &verifiers, 2).unwrap();
    assert_eq!(w.checkpoint, checkpoint());
    assert_eq!(
        w.cosigned_by,
        vec![
            ("witness.example/w0".to_string(), 1_700_000_000),
            ("witness.example/w1".to_string(), 1_700_000_000)
        ]
    );
    // No witness needed: the log's signature alone.
    assert!(open_witnessed(&note.to_string(), &log, &[], 0).is_ok());
    // One more than cosigned: the missing witness is named.
    match open_witnessed(&text, &log, &verifiers, 3) {
        Err(
            e @ CosignatureError::NotWitnessed {
                got: 2, needed: 3, ..
            },
        ) => {
            assert!(e.to_string().contains("witness.example/w2"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // More than are known: refused before anything is checked.
    assert!(matches!(
        open_witnessed(&text, &log, &verifiers, 4),
        Err(CosignatureError::QuorumTooLarge {
            needed: 4,
            known: 3
        })
    ));
    // A cosignature that does not verify (over another checkpoint) does not count.
    let other = Checkpoint::new(ORIGIN, 6, [7; 32])
        .unwrap()
        .sign(&log_signer())
        .unwrap();
    let mut forged = note.clone();
    forged
        .add_signature(witnesses[2].cosign(&other, 1_700_000_000).unwrap())
        .unwrap();
    match open_witnessed(&forged.to_string(), &log, &verifiers[2..], 1) {
        Err(e @ CosignatureError::NotWitnessed { got: 0, .. }) => {
            assert!(e.to_string().contains("does not verify"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // Another log key, or the note changed: the log's signature fails first.
    let another = NoteSigner::new(ORIGIN, key(99)).unwrap().verifier();
    assert!(matches!(
        open_witnessed(&text, &another, &verifiers, 0),
        Err(CosignatureError::Checkpoint(_))
    ));
    let changed = text.replacen("\n5\n", "\n4\n", 1);
    assert!(open_witnessed(&changed, &log, &verifiers, 0).is_err());
}

#[test]
fn a_cosignature_binds_the_timestamp_and_the_checkpoint() {
    let note = checkpoint().sign(&log_signer()).unwrap();
    let w = Cosigner::new("witness.example/w0", key(10)).unwrap();
    let v = w.verifier();
    let line = w.cosign(&note, 1_700_000_000).unwrap();

    // The signed message is the one the specification gives.
    let msg = hutong_log::cosignature::cosigned_message(note.text(), 1_700_000_000);
    assert_eq!(
        String::from_utf8(msg).unwrap(),
        format!("cosignature/v1\ntime 1700000000\n{}", note.text())
    );

    let mut changed_time = line.clone();
    changed_time.signature[7] ^= 1;
    let mut n = note.clone();
    n.add_signature(changed_time).unwrap();
    assert!(matches!(
        v.verify(&n),
        Err(CosignatureError::BadSignature { .. })
    ));

    // The same cosignature on another checkpoint (a split view) fails.
    let other = Checkpoint::new(ORIGIN, 5, [9u8; 32])
        .unwrap()
        .sign(&log_signer())
        .unwrap();
    let mut split = other.clone();
    split.add_signature(line.clone()).unwrap();
    assert!(v.verify(&split).is_err());

    let mut short = line;
    short.signature.truncate(70);
    let mut n = note.clone();
    n.add_signature(short).unwrap();
    assert!(matches!(
        v.verify(&n),
        Err(CosignatureError::BadLength { len: 70, .. })
    ));

    assert!(w.cosign(&note, u64::MAX).is_err());
    let not_a_checkpoint = SignedNote::new("hello\n").unwrap();
    assert!(w.cosign(&not_a_checkpoint, 1).is_err());
}

#[test]
fn signer_keys_round_trip_in_the_go_note_format() {
    // Go's documented signer key reads back as the key whose verifier key Go documents.
    let signer = NoteSigner::from_skey(GO_SKEY).unwrap();
    assert_eq!(signer.verifier().to_vkey(), GO_VKEY);
    assert_eq!(signer.to_skey(), GO_SKEY);
    assert_eq!(
        NoteSigner::from_skey(&format!("{GO_SKEY}\n"))
            .unwrap()
            .key_id(),
        signer.key_id()
    );
    let w = Cosigner::new("witness.example/w", key(9)).unwrap();
    let back = Cosigner::from_skey(&w.to_skey()).unwrap();
    assert_eq!(back.verifier(), w.verifier());
    assert!(w.to_skey().starts_with("PRIVATE+KEY+witness.example/w+"));
    // A key of one type is not taken for the other, and a wrong key ID or name is refused,
    // without the error quoting the key.
    assert!(NoteSigner::from_skey(&w.to_skey()).is_err());
    assert!(Cosigner::from_skey(GO_SKEY).is_err());
    let renamed = GO_SKEY.replace("PeterNeumann", "PeterNeuman");
    let e = NoteSigner::from_skey(&renamed).unwrap_err().to_string();
    assert!(e.contains("key ID does not match"), "{e}");
    assert!(!e.contains("AYEKFALV"), "{e}");
    for bad in [
        "",
        "PRIVATE+KEY+x",
        "PUBLIC+KEY+a+00000000+AAAA",
        "PRIVATE+KEY+a+zz+AAAA",
    ] {
        assert!(NoteSigner::from_skey(bad).is_err(), "{bad}");
    }
}
