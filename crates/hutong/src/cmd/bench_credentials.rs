//! `hutong bench credentials`: offline verification speed against its own baseline, measured
//! in the same run on the same credentials.
//!
//! - **baseline**: the bare pipeline, one core: parse the JSON, JCS of the document and of the
//!   proof configuration, two SHA-256, one strict Ed25519 verification;
//! - **verify, one core**: what `hutong verify` does for one credential at a time (every check:
//!   signature, key lifecycle, status, validity window, issuer rights on the issue date);
//! - **verify, batched**: the same in batches (signatures in one Ed25519 batch), on one core and
//!   then on every core, as `hutong verify` does with many files.

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

use hutong_core::keys::{KeyChange, KeyRecord};
use hutong_core::{AdminState, Certificate, Grant, HolderKey, Issuer, IssuerRole, Policy};
use hutong_credential::certificate::{CertificateCredential, key_method};
use hutong_credential::jcs::canonicalize;
use hutong_credential::keyring::{Keyring, verify_many};
use hutong_credential::logproof::JournalRef;
use hutong_credential::multikey::decode_base58btc;
use hutong_credential::public_key_multibase;

use crate::config::GlobalArgs;

#[derive(clap::Args)]
pub struct Args {
    /// Credentials verified per run.
    #[arg(long, default_value_t = 20_000)]
    pub count: usize,
    /// Runs; medians are reported.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Credentials per signature batch.
    #[arg(long, default_value_t = 256)]
    pub batch: usize,
}

const HOST: &str = "hutong.example";
const KINDS: &[&str] = &[
    "mem.electrical.low-voltage",
    "mem.welding.fusion-cutting",
    "mohurd.construction.welder",
    "samr.welding.metal",
];

/// Signed credentials (as file text), the keys file they verify against, and the baseline's
/// key table.
fn make(policy: &Policy, n: usize) -> anyhow::Result<(Vec<String>, Keyring)> {
    let day = |s: &str| -> hutong_core::Day { s.parse().expect("a date") };
    let mut issuers = Vec::new();
    let mut keys: Vec<(KeyRecord, SigningKey)> = Vec::new();
    for (i, kind) in KINDS.iter().enumerate() {
        let k = policy
            .kind(kind)
            .ok_or_else(|| anyhow::anyhow!("the policy has no kind {kind}"))?;
        for p in 0..4u8 {
            let id = format!("{}.{}", k.department, 11 + p);
            if issuers.iter().any(|x: &Issuer| x.id == id) {
                let x = issuers
                    .iter_mut()
                    .find(|x: &&mut Issuer| x.id == id)
                    .unwrap();
                x.grants.push(Grant::kind(kind, day("2010-01-01")));
                continue;
            }
            issuers.push(Issuer {
                id: id.clone(),
                name_zh: format!("测试发证机关 {id}"),
                name_en: Some(format!("Test authority {id}")),
                department: k.department.clone(),
                role: IssuerRole::Authority,
                region: Some(format!("{}", 11 + p)),
                grants: vec![Grant::kind(kind, day("2010-01-01"))],
                institution_type: None,
                institution_code: None,
                registered_on: day("2010-01-01"),
                suspensions: vec![],
                removed_on: None,
                contact: None,
                credit_code: None,
            });
            let sk = SigningKey::from_bytes(&Sha256::digest([i as u8, p]).into());
            let (_, rec) = KeyChange::create(&id, &public_key_multibase(&sk.verifying_key()), 0);
            keys.push((rec, sk));
        }
    }
    let mut files = Vec::with_capacity(n);
    for j in 0..n {
        let kind = KINDS[j % KINDS.len()];
        let department = kind.split('.').next().unwrap_or_default();
        let issuer_id = format!("{department}.{}", 11 + (j / KINDS.len()) % 4);
        let issuer = issuers
            .iter()
            .find(|i| i.id == issuer_id)
            .expect("made above");
        let (rec, sk) = keys
            .iter()
            .find(|(r, _)| r.issuer == issuer_id)
            .expect("made");
        let c = Certificate {
            number: format!("BENCH{j:012}"),
            kind: kind.into(),
            holder_key: HolderKey(Sha256::digest(j.to_le_bytes()).into()),
            holder_name: ["张小明", "李娜", "王建国", "欧阳晓燕"][j % 4].into(),
            occupation: None,
            level: None,
            issuer: issuer_id.clone(),
            issued_on: day("2024-03-01"),
            first_issued_on: day("2018-03-01"),
            valid_until: Some(day("2030-03-01")),
            last_review_on: None,
            state: AdminState::Active,
        };
        let doc = CertificateCredential {
            certificate: &c,
            registry_id: j as i64 + 1,
            policy,
            issuer,
            host: HOST,
            holder_commitment: hex::encode(Sha256::digest(j.to_be_bytes())),
            e_licence_id: None,
            status: vec![],
            // As the registry signs them: the journal entry the credential reflects.
            journal: Some(JournalRef {
                seq: j as u64 + 1,
                subject: format!("cert:{}", j + 1),
                record_sha256: hutong_core::journal::certificate_digest(&c).1,
            }),
        }
        .sign(rec, sk, "2026-12-01T00:00:00Z")?;
        files.push(doc.to_string());
    }
    let keyring = Keyring {
        host: HOST.into(),
        issued: "2026-12-01T00:00:00Z".into(),
        issuers,
        keys: keys.into_iter().map(|(r, _)| r).collect(),
    };
    Ok((files, keyring))
}

/// The bare pipeline on one credential.
fn bare(text: &str, keys: &HashMap<String, VerifyingKey>) -> bool {
    let Ok(Value::Object(mut doc)) = serde_json::from_str::<Value>(text) else {
        return false;
    };
    let Some(Value::Object(mut proof)) = doc.remove("proof") else {
        return false;
    };
    let Some(Value::String(pv)) = proof.remove("proofValue") else {
        return false;
    };
    if let Some(ctx) = doc.get("@context") {
        proof.insert("@context".into(), ctx.clone());
    }
    let key = proof
        .get("verificationMethod")
        .and_then(Value::as_str)
        .and_then(|m| keys.get(m));
    let (Some(key), Ok(d), Ok(p), Ok(sig)) = (
        key,
        canonicalize(&Value::Object(doc)),
        canonicalize(&Value::Object(proof)),
        decode_base58btc(&pv, "proofValue"),
    ) else {
        return false;
    };
    let Ok(sig) = Signature::from_slice(&sig) else {
        return false;
    };
    let mut signed = [0u8; 64];
    signed[..32].copy_from_slice(&Sha256::digest(&p));
    signed[32..].copy_from_slice(&Sha256::digest(&d));
    key.verify_strict(&signed, &sig).is_ok()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn rate(n: usize, f: impl FnOnce() -> usize) -> anyhow::Result<f64> {
    let t = Instant::now();
    let ok = f();
    let secs = t.elapsed().as_secs_f64();
    if ok != n {
        anyhow::bail!("only {ok} of {n} credentials verified: the benchmark is broken");
    }
    Ok(n as f64 / secs.max(1e-9))
}

pub fn run(_global: &GlobalArgs, args: Args) -> anyhow::Result<ExitCode> {
    let policy = crate::context::load_policy(Path::new("policy"))?;
    let n = args.count.max(1);
    let batch = args.batch.max(1);
    eprintln!("signing {n} credentials …");
    let (files, keyring) = make(&policy, n)?;
    let table: HashMap<String, VerifyingKey> = keyring
        .keys
        .iter()
        .map(|k| {
            let pk = hutong_credential::public_key_from_multibase(&k.public_key_multibase)
                .expect("made above");
            (key_method(HOST, k), pk)
        })
        .collect();
    let now = chrono::Utc::now();
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let avg = files.iter().map(String::len).sum::<usize>() / n;
    println!(
        "{n} credentials of {avg} bytes on average, {} keys, {cores} cores, {} runs, batches of {batch}",
        keyring.keys.len(),
        args.runs.max(1)
    );
    let verify_chunk = |chunk: &[String]| -> usize {
        let parsed: Vec<Value> = chunk
            .iter()
            .filter_map(|t| serde_json::from_str(t).ok())
            .collect();
        verify_many(&parsed, &keyring, &[], now)
            .iter()
            .filter(|r| r.verified())
            .count()
    };
    let (mut base, mut one, mut batched, mut all) = (vec![], vec![], vec![], vec![]);
    for run in 1..=args.runs.max(1) {
        let b = rate(n, || files.iter().filter(|t| bare(t, &table)).count())?;
        let o = rate(n, || {
            files
                .iter()
                .map(|t| verify_chunk(std::slice::from_ref(t)))
                .sum()
        })?;
        let s = rate(n, || files.chunks(batch).map(verify_chunk).sum())?;
        let p = rate(n, || {
            let per = n.div_ceil(cores);
            std::thread::scope(|sc| {
                let hs: Vec<_> = files
                    .chunks(per)
                    .map(|part| {
                        sc.spawn(move || part.chunks(batch).map(verify_chunk).sum::<usize>())
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap_or(0)).sum()
            })
        })?;
        println!(
            "run {run}: baseline {b:>8.0}/s   verify 1 core {o:>8.0}/s ({:>3.0}%)   batched 1 core {s:>8.0}/s ({:>3.0}%)   batched {cores} cores {p:>8.0}/s = {:>8.0}/s per core ({:>3.0}%)",
            100.0 * o / b,
            100.0 * s / b,
            p / cores as f64,
            100.0 * p / cores as f64 / b
        );
        base.push(b);
        one.push(o);
        batched.push(s);
        all.push(p);
    }
    let (b, o, s, p) = (median(base), median(one), median(batched), median(all));
    println!(
        "median: baseline {b:.0}/s; hutong verify, one at a time, {o:.0}/s = {:.0}% of baseline; batched on one core {s:.0}/s = {:.0}%; batched on {cores} cores {p:.0}/s, {:.0}/s per core = {:.0}% of the single-core baseline",
        100.0 * o / b,
        100.0 * s / b,
        p / cores as f64,
        100.0 * p / cores as f64 / b
    );
    Ok(ExitCode::SUCCESS)
}
