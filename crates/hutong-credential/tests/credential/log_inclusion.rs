//! The `log` check: a credential names its journal entry, and a log proof shows that entry in
//! a checkpoint the verifier trusts. It passes with a good proof and fails, alone and with a
//! reason, for each way the proof can be broken; without a proof it is not checked.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::SigningKey;
use serde_json::{Value, json};

use hutong_core::journal::{Entry, Subject};
use hutong_credential::keyring::{Keyring, Report, verify_many, verify_many_with};
use hutong_credential::logproof::{EVIDENCE_TYPE, JournalRef, LogProof, LogProofs, LogTrust};
use hutong_log::{Checkpoint, Cosigner, MemoryLog, NoteSigner, SignedNote, inclusion_proof};

use crate::certificates::{
    certificate, credential, failing, journal_ref, keyring, now, outcome, setup,
};

const ORIGIN: &str = "hutong.example/log";

fn log_key() -> NoteSigner {
    NoteSigner::new(ORIGIN, SigningKey::from_bytes(&[31; 32])).unwrap()
}

fn witness() -> Cosigner {
    Cosigner::new("witness.mem.example", SigningKey::from_bytes(&[32; 32])).unwrap()
}

/// The journal's leaf entries 40 to 45; entry 42 is the credential's (certificate 17, with the
/// record hash `record` recorded).
fn entries(record: &str) -> Vec<Entry> {
    (40..=45u64)
        .map(|seq| Entry {
            seq,
            at_micros: 1_764_000_000_000_000 + seq as i64,
            actor: "import".into(),
            subject: if seq == 42 {
                Subject::Certificate(17)
            } else {
                Subject::Certificate(seq as i64)
            },
            change: r#"{"change":"suspended","on":"2026-01-01"}"#.into(),
            record_sha256: Some(if seq == 42 {
                record.to_string()
            } else {
                format!("{seq:064x}")
            }),
        })
        .collect()
}

/// A log of `entries`, its checkpoint of `size` signed by `key` (cosigned by the witness when
/// `cosign`), and the proof document of the leaf of entry `seq`, as the server answers it.
struct Log {
    log: MemoryLog,
    leaves: Vec<Vec<u8>>,
    seqs: Vec<u64>,
}

impl Log {
    fn new(entries: &[Entry]) -> Log {
        let mut log = MemoryLog::new();
        let leaves: Vec<Vec<u8>> = entries.iter().map(Entry::leaf_bytes).collect();
        for l in &leaves {
            log.append(l);
        }
        Log {
            log,
            leaves,
            seqs: entries.iter().map(|e| e.seq).collect(),
        }
    }

    fn checkpoint(&self, size: u64, key: &NoteSigner, cosign: bool) -> String {
        let root = hutong_log::tree_head(self.log.leaf_hashes(), size).unwrap();
        let mut note: SignedNote = Checkpoint::new(ORIGIN, size, root)
            .unwrap()
            .sign(key)
            .unwrap();
        if cosign {
            let line = witness().cosign(&note, 1_764_000_000).unwrap();
            note.add_signature(line).unwrap();
        }
        note.to_string()
    }

    fn proof(&self, seq: u64, size: u64, checkpoint: &str) -> Value {
        let i = self.seqs.iter().position(|&s| s == seq).unwrap();
        let path = inclusion_proof(self.log.leaf_hashes(), i as u64, size).unwrap();
        json!({
            "seq": seq,
            "leaf_index": i,
            "tree_size": size,
            "leaf_hash": B64.encode(self.log.leaf_hashes()[i]),
            "leaf": B64.encode(&self.leaves[i]),
            "root": "ignored",
            "proof": path.iter().map(|h| B64.encode(h)).collect::<Vec<_>>(),
            "checkpoint": checkpoint,
        })
    }

    /// The proof of entry 42 in the whole tree, cosigned.
    fn good(&self) -> Value {
        let size = self.leaves.len() as u64;
        self.proof(42, size, &self.checkpoint(size, &log_key(), true))
    }
}

fn good_log() -> Log {
    Log::new(&entries(&journal_ref(&certificate()).record_sha256))
}

fn trust(witnesses: usize) -> LogTrust {
    let w = if witnesses > 0 {
        vec![witness().verifier().to_vkey()]
    } else {
        vec![]
    };
    LogTrust::from_vkeys(&log_key().verifier().to_vkey(), &w, None).unwrap()
}

fn verify(ring: &Keyring, c: &Value, trust: &LogTrust, proofs: &[Value]) -> Report {
    let proofs: Vec<LogProof> = proofs
        .iter()
        .map(|p| LogProof::from_value(p).unwrap())
        .collect();
    let checked = LogProofs::check(trust, &proofs);
    verify_many_with(std::slice::from_ref(c), ring, &[], Some(&checked), now())
        .pop()
        .unwrap()
}

#[test]
fn the_credential_names_its_journal_entry_as_evidence() {
    let s = setup();
    let c = credential(&s, "2026-12-01T00:00:00Z");
    assert_eq!(c["evidence"][0]["type"], json!([EVIDENCE_TYPE]));
    assert_eq!(c["evidence"][0]["journalSeq"], 42);
    assert_eq!(c["evidence"][0]["journalSubject"], "cert:17");
    assert_eq!(
        JournalRef::of_credential(&c).unwrap(),
        Some(journal_ref(&certificate()))
    );
    // Signed with the rest: another entry breaks the signature.
    let ring = keyring(&s, vec![s.record.clone()]);
    let mut changed = c.clone();
    changed["evidence"][0]["journalSeq"] = 43.into();
    let r = verify_many(std::slice::from_ref(&changed), &ring, &[], now())
        .pop()
        .unwrap();
    assert!(failing(&r).contains(&"signature"), "{r:#?}");
    // Malformed evidence is said so.
    let mut bad = c.clone();
    bad["evidence"][0]["recordSha256"] = "ABC".into();
    assert!(
        JournalRef::of_credential(&bad)
            .unwrap_err()
            .contains("recordSha256")
    );
}

#[test]
fn without_a_log_proof_the_log_is_not_checked_and_nothing_fails() {
    let s = setup();
    let c = credential(&s, "2026-12-01T00:00:00Z");
    let r = verify_many(
        std::slice::from_ref(&c),
        &keyring(&s, vec![s.record.clone()]),
        &[],
        now(),
    )
    .pop()
    .unwrap();
    assert!(r.verified(), "{r:#?}");
    assert!(outcome(&r, "log").starts_with("skipped"), "{r:#?}");
}

#[test]
fn a_good_proof_passes_with_and_without_witnesses() {
    let s = setup();
    let ring = keyring(&s, vec![s.record.clone()]);
    let c = credential(&s, "2026-12-01T00:00:00Z");
    let log = good_log();
    for needed in [0, 1] {
        let r = verify(&ring, &c, &trust(needed), &[log.good()]);
        assert!(r.verified(), "{r:#?}");
        let o = outcome(&r, "log");
        assert!(
            o.starts_with(
                "pass: entry 42 (cert:17) is leaf 2 of hutong.example/log's tree of 6 leaves"
            ),
            "{o}"
        );
        if needed == 1 {
            assert!(o.contains("cosigned by witness.mem.example"), "{o}");
        }
    }
    // A proof in a smaller tree that holds the leaf, with its own checkpoint.
    let cp = log.checkpoint(3, &log_key(), false);
    let r = verify(&ring, &c, &trust(0), &[log.proof(42, 3, &cp)]);
    assert!(r.verified(), "{r:#?}");
    // Many credentials against many proofs: each finds its own.
    let other = log.proof(44, 6, &log.checkpoint(6, &log_key(), true));
    let r = verify(&ring, &c, &trust(1), &[other, log.good()]);
    assert!(r.verified(), "{r:#?}");
}

#[test]
fn each_break_fails_the_log_check_alone_with_its_reason() {
    let s = setup();
    let ring = keyring(&s, vec![s.record.clone()]);
    let c = credential(&s, "2026-12-01T00:00:00Z");
    let log = good_log();
    let good = log.good();
    let full = log.checkpoint(6, &log_key(), true);

    // A changed byte in the leaf.
    let mut leaf = B64.decode(good["leaf"].as_str().unwrap()).unwrap();
    let at = leaf.len() / 2;
    leaf[at] ^= 0x01;
    let mut changed_leaf = good.clone();
    changed_leaf["leaf"] = B64.encode(&leaf).into();
    // The proof of another entry.
    let another = log.proof(43, 6, &full);
    // The proof of another entry, claiming to be this one's.
    let mut claimed = another.clone();
    claimed["seq"] = 42.into();
    // A checkpoint of the same tree signed by another key of the same name.
    let forger = NoteSigner::new(ORIGIN, SigningKey::from_bytes(&[66; 32])).unwrap();
    let forged = log.proof(42, 6, &log.checkpoint(6, &forger, true));
    // A checkpoint older than the entry (leaf 2 is not in the tree of 2 leaves).
    let mut older = good.clone();
    older["checkpoint"] = log.checkpoint(2, &log_key(), true).into();
    older["tree_size"] = Value::Null;
    // A checkpoint of another size than the proof's.
    let mut resized = good.clone();
    resized["checkpoint"] = log.checkpoint(5, &log_key(), true).into();
    // No checkpoint at all.
    let mut none = good.clone();
    none["checkpoint"] = Value::Null;
    // A proof node changed.
    let mut bent = good.clone();
    bent["proof"][0] = B64.encode([0u8; 32]).into();
    // The log's entry 42 recorded another record: the credential reflects no journaled record.
    let other_record = Log::new(&entries(&"ab".repeat(32)));

    for (what, trust, proof, want) in [
        (
            "changed leaf",
            trust(0),
            changed_leaf,
            "is not leaf 2 of the checkpoint's tree",
        ),
        (
            "another entry",
            trust(0),
            another,
            "no log proof for journal entry 42 among the 1 given (they are for entry 43)",
        ),
        (
            "claimed entry",
            trust(0),
            claimed,
            "the proof's leaf is of entry 43, the credential names entry 42",
        ),
        ("another key", trust(0), forged, "the checkpoint: "),
        (
            "older checkpoint",
            trust(0),
            older,
            "the checkpoint's tree of 2 leaves does not hold leaf 2: the checkpoint is older than the entry",
        ),
        (
            "another size",
            trust(0),
            resized,
            "the proof is for a tree of 6 leaves, its checkpoint is of 5",
        ),
        ("no checkpoint", trust(0), none, "carries no checkpoint"),
        ("changed proof", trust(0), bent, "is not leaf 2"),
        (
            "other record",
            trust(0),
            other_record.good(),
            "recorded another record hash",
        ),
        (
            "no cosignature",
            trust(1),
            log.proof(42, 6, &log.checkpoint(6, &log_key(), false)),
            "cosigned by 0 of the witnesses, 1 needed: no cosignature by witness witness.mem.example",
        ),
    ] {
        let r = verify(&ring, &c, &trust, &[proof]);
        assert_eq!(failing(&r), ["log"], "{what}: {r:#?}");
        let o = outcome(&r, "log");
        assert!(o.contains(want), "{what}: {o}");
    }
    // The forged checkpoint says whose signature is missing.
    let r = verify(
        &ring,
        &c,
        &trust(0),
        &[log.proof(42, 6, &log.checkpoint(6, &forger, false))],
    );
    assert!(
        outcome(&r, "log").contains("no signature by key hutong.example/log"),
        "{r:#?}"
    );

    // A credential that names no entry cannot be matched, and says so.
    let mut bare = c.clone();
    bare.as_object_mut().unwrap().remove("evidence");
    let r = verify(&ring, &bare, &trust(0), std::slice::from_ref(&good));
    assert!(
        outcome(&r, "log").contains("names no journal entry"),
        "{r:#?}"
    );
}

#[test]
fn malformed_proofs_and_trust_are_refused_naming_what() {
    let good = good_log().good();
    let mut no_leaf = good.clone();
    no_leaf.as_object_mut().unwrap().remove("leaf");
    let e = LogProof::from_value(&no_leaf).unwrap_err().to_string();
    assert!(e.contains("leaf"), "{e}");
    let mut bad_node = good.clone();
    bad_node["proof"][1] = "***".into();
    let e = LogProof::from_value(&bad_node).unwrap_err().to_string();
    assert!(e.contains("proof node 1"), "{e}");
    assert!(LogProof::from_value(&json!([1])).is_err());
    let vkey = log_key().verifier().to_vkey();
    let w = vec![witness().verifier().to_vkey()];
    let e = LogTrust::from_vkeys(&vkey, &w, Some(2))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("2 cosignatures are needed but 1 witness keys"),
        "{e}"
    );
    assert!(LogTrust::from_vkeys("not a key", &[], None).is_err());
    // A witness key is not a log key, nor the reverse.
    assert!(LogTrust::from_vkeys(&w[0], &[], None).is_err());
    assert!(LogTrust::from_vkeys(&vkey, std::slice::from_ref(&vkey), None).is_err());
}
