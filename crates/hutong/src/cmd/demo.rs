//! `hutong demo`: realistic synthetic data at any size.
//!
//! People in eight provinces with valid (synthetic) ID numbers and plausible names hold one to
//! three certificates of related trades (electrical, welding, construction lifting), issued by
//! provincial authorities and registered evaluation institutions on realistic dates. Lifecycle
//! rules then make some of them review-due or expired; a few are suspended or revoked. The data
//! is a pure function of `--seed` and the index of each person, so running the command again
//! stores nothing new, and a larger `--certificates` extends a smaller run.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use chrono::{Datelike, Days, NaiveDate};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use hutong_core::date::Day;
use hutong_core::{
    AdminState, Certificate, Grant, HolderSecret, Issuer, IssuerRole, Level, Policy, ResidentId,
    Status, Suspension, UnifiedCreditCode,
};
use hutong_store::{InsertMode, RowOutcome, Store};

use crate::config::{Config, GlobalArgs};
use crate::context::{self, runtime};

#[derive(clap::Args, Clone)]
pub struct Args {
    /// How many certificates to create.
    #[arg(long, default_value_t = 20_000)]
    pub certificates: u64,
    /// Seed of the synthetic data: the same seed gives the same people and certificates.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Write a CSV of sample certificates (a few per status, with their synthetic ID numbers)
    /// to try the query pages and API with.
    #[arg(long, value_name = "FILE")]
    pub samples: Option<PathBuf>,
    /// The day the data is generated for (default: today in China).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub today: Option<String>,
}

/// Provinces the demo issuers sit in: code, address codes of some districts.
const PROVINCES: [(&str, [u32; 3]); 8] = [
    ("11", [110101, 110105, 110108]),
    ("14", [140105, 140202, 140303]),
    ("31", [310101, 310104, 310115]),
    ("32", [320102, 320505, 320211]),
    ("33", [330106, 330203, 330302]),
    ("37", [370102, 370203, 370602]),
    ("44", [440103, 440305, 441302]),
    ("51", [510104, 510107, 510703]),
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏",
    "韦", "付", "方", "白", "邹", "孟", "熊", "秦", "邱", "江", "尹", "薛", "段", "雷", "侯", "龙",
    "欧阳", "司马", "上官", "诸葛",
];

const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "秀", "英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "霞", "平", "刚", "桂", "华", "建", "国", "红", "文", "辉", "力", "鹏", "飞",
    "波", "斌", "宇", "浩", "凯", "健", "俊", "帆", "旭", "宁", "龙", "林", "欣", "晨", "阳", "亮",
    "成", "峰", "海", "东", "志", "新", "永", "春", "兰", "梅", "玉", "云", "德", "福", "荣", "生",
    "金", "庆", "晓", "小", "卫", "兵", "鑫", "振", "家", "佳", "子", "嘉", "思", "雨", "婷", "琳",
];

/// The trades a synthetic worker follows, with the kinds they plausibly hold, by weight.
const TRADES: [(&str, &[(&str, u32)]); 3] = [
    (
        "6-31-01-03",
        &[
            ("mem.electrical.low-voltage", 60),
            ("mem.electrical.high-voltage", 18),
            ("mem.electrical.explosion-proof", 5),
            ("mohurd.construction.electrician", 25),
            ("mohrss.skill-level", 40),
        ],
    ),
    (
        "6-18-02-04",
        &[
            ("mem.welding.fusion-cutting", 60),
            ("mem.welding.pressure", 6),
            ("mem.welding.brazing", 4),
            ("mohurd.construction.welder", 12),
            ("samr.welding.metal", 25),
            ("samr.welding.nonmetal", 4),
            ("mohrss.skill-level", 35),
        ],
    ),
    (
        "",
        &[
            ("mohurd.construction.scaffolder", 30),
            ("mohurd.construction.signal-rigger", 25),
            ("mohurd.construction.crane-operator", 30),
            ("mohurd.construction.crane-installer", 15),
            ("mohurd.construction.gondola-installer", 8),
            ("mem.electrical.low-voltage", 15),
        ],
    ),
];

fn day(y: i32, m: u32, d: u32) -> Day {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// A made-up unified social credit code for a demo issuer, with a valid GB 32100 check
/// character: `body` (the registering department and the kind of body: `11` a state organ, `12`
/// a public institution, `91` a company), the province's region code, and a body identifier
/// `DEM` + `n`, which marks the code as demo data. No real body's code is used.
fn demo_credit_code(body: &str, province: &str, n: u32) -> UnifiedCreditCode {
    UnifiedCreditCode::with_check_char(&format!("{body}{province}0000DEM{n:06}"))
        .expect("a demo code is 17 GB 32100 characters")
}

/// The demo's issuers: for each province a mem, a mohurd and a samr authority, and three
/// evaluation institutions. Some have history: one institution was removed from the register in
/// 2025, one was suspended for half of 2022 and reinstated, and the employers' welder grants
/// ended in 2023. Each has a made-up unified social credit code ([`demo_credit_code`]).
pub fn issuers(policy: &Policy) -> Vec<Issuer> {
    let grants_of = |dept: &str| -> Vec<Grant> {
        policy
            .kinds
            .values()
            .filter(|k| k.department == dept && !k.skill_level)
            .map(|k| Grant::kind(&k.id, day(2010, 1, 1)))
            .collect()
    };
    let mut out = Vec::new();
    for (p, _) in PROVINCES {
        let region = policy
            .region(p)
            .map(|r| r.name_zh.clone())
            .unwrap_or_else(|| p.to_string());
        for (n, (dept, suffix, en)) in [
            ("mem", "应急管理厅", "Department of Emergency Management"),
            (
                "mohurd",
                "住房和城乡建设厅",
                "Department of Housing and Urban-Rural Development",
            ),
            (
                "samr",
                "市场监督管理局",
                "Administration for Market Regulation",
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let suffix = if matches!(p, "11" | "31") && dept != "samr" {
                suffix.replace('厅', "局")
            } else {
                suffix.to_string()
            };
            out.push(Issuer {
                id: format!("{dept}.{p}"),
                name_zh: format!("{region}{suffix}"),
                name_en: Some(format!(
                    "{} {en}",
                    policy.region(p).map(|r| r.name_en.as_str()).unwrap_or(p)
                )),
                department: dept.to_string(),
                role: IssuerRole::Authority,
                region: Some(p.to_string()),
                grants: grants_of(dept),
                institution_type: None,
                institution_code: None,
                registered_on: day(2010, 1, 1),
                suspensions: vec![],
                removed_on: None,
                contact: Some(format!("12345（{region}政务服务热线）")),
                credit_code: Some(demo_credit_code("11", p, n as u32 + 1)),
            });
        }
        for n in 1..=3u32 {
            let (ty, code, name) = match n {
                1 => (
                    "S",
                    "0000".to_string(),
                    format!("{region}职业技能鉴定指导中心"),
                ),
                2 => (
                    "S",
                    "0000".to_string(),
                    format!("{region}建设行业职业技能培训评价中心"),
                ),
                _ => ("Y", format!("1{p}0"), format!("{region}电力建设有限公司")),
            };
            let removed = n == 2 && p == "14";
            let registered_on = day(2019, 9, 1);
            let welder = Grant::scope(
                "mohrss.skill-level",
                "6-18-02-04",
                &[Level::L5, Level::L4, Level::L3],
                registered_on,
            );
            // The employers evaluated welders only until the end of 2023.
            let welder = if n == 3 {
                Grant {
                    valid_until: Some(day(2023, 12, 31)),
                    ..welder
                }
            } else {
                welder
            };
            out.push(Issuer {
                id: format!("inst.{}{code}-{p}-{n:06}", ty.to_ascii_lowercase()),
                name_zh: name,
                name_en: None,
                department: "mohrss".into(),
                role: IssuerRole::Institution,
                region: Some(p.to_string()),
                grants: vec![
                    Grant::scope(
                        "mohrss.skill-level",
                        "6-31-01-03",
                        &[Level::L5, Level::L4, Level::L3, Level::L2, Level::L1],
                        registered_on,
                    ),
                    welder,
                ],
                institution_type: Some(ty.into()),
                institution_code: Some(code),
                registered_on,
                suspensions: if n == 1 && p == "44" {
                    vec![Suspension {
                        from: day(2022, 3, 1),
                        until: Some(day(2022, 9, 1)),
                        reason: Some("质量督导检查发现问题，限期整改".into()),
                    }]
                } else {
                    vec![]
                },
                removed_on: removed.then(|| day(2025, 6, 30)),
                contact: Some(format!("0{}-{:08}", p, 60_000_000 + n * 1111)),
                credit_code: Some(demo_credit_code(
                    if ty == "Y" { "91" } else { "12" },
                    p,
                    10 + n,
                )),
            });
        }
    }
    out
}

/// A synthetic certificate with the plain ID number it was made for (demo data only).
pub struct Made {
    pub cert: Certificate,
    pub holder_id: ResidentId,
}

/// Birth dates span this many days from 1966-01-01 (38 years); coprime with 7919.
const BIRTH_DAYS: u64 = 13_870;

/// Generates certificates person by person.
pub struct Generator<'a> {
    policy: &'a Policy,
    secret: HolderSecret,
    seed: u64,
    today: Day,
    person: u64,
    /// Serial counters, so numbers never collide: per construction-number prefix and per
    /// skill-level (institution, year, level).
    serials: HashMap<String, u32>,
    institutions: Vec<Issuer>,
}

impl<'a> Generator<'a> {
    pub fn new(policy: &'a Policy, secret: HolderSecret, seed: u64, today: Day) -> Self {
        let institutions = issuers(policy)
            .into_iter()
            .filter(|i| i.role == IssuerRole::Institution)
            .collect();
        Generator {
            policy,
            secret,
            seed,
            today,
            person: 0,
            serials: HashMap::new(),
            institutions,
        }
    }

    fn serial(&mut self, key: String) -> u32 {
        let c = self.serials.entry(key).or_insert(0);
        *c += 1;
        *c
    }

    /// The next person's certificates.
    pub fn next_person(&mut self) -> Vec<Made> {
        let i = self.person;
        self.person += 1;
        let mut rng = SmallRng::seed_from_u64(self.seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i);
        let (province, districts) = PROVINCES[rng.gen_range(0..PROVINCES.len())];
        // ID numbers must not collide, so (birth date, sequence, district) is a bijection of the
        // person's index: unique for the first 3 × 1000 × BIRTH_DAYS (41 million) people.
        let (seq, rest) = (i % 1000, i / 1000);
        let offset = (rest % BIRTH_DAYS).wrapping_mul(7919) % BIRTH_DAYS;
        let district = districts[((rest / BIRTH_DAYS) % 3) as usize];
        let birth = day(1966, 1, 1) + Days::new(offset);
        let id = ResidentId::synthesize(district, birth, seq as u32);
        let mut name = SURNAMES[rng.gen_range(0..SURNAMES.len())].to_string();
        for _ in 0..rng.gen_range(1..=2) {
            name.push_str(GIVEN[rng.gen_range(0..GIVEN.len())]);
        }
        let key = self.secret.key_for(&id);
        let (trade, kinds) = TRADES[match rng.gen_range(0..100) {
            0..45 => 0,
            45..80 => 1,
            _ => 2,
        }];
        let count = match rng.gen_range(0..100) {
            0..55 => 1,
            55..88 => 2,
            _ => 3,
        };
        let mut chosen: Vec<&str> = Vec::new();
        let total: u32 = kinds.iter().map(|(_, w)| w).sum();
        for _ in 0..count * 3 {
            if chosen.len() == count {
                break;
            }
            let mut pick = rng.gen_range(0..total);
            for (k, w) in kinds {
                if pick < *w {
                    if !chosen.contains(k) {
                        chosen.push(k);
                    }
                    break;
                }
                pick -= w;
            }
        }
        // Career start: at 18 at the earliest, and not after today.
        let earliest = (birth + Days::new(18 * 365)).max(day(2012, 1, 1));
        let mut out = Vec::with_capacity(chosen.len());
        for kind_id in chosen {
            let Some(kind) = self.policy.kind(kind_id) else {
                continue;
            };
            let span = (self.today - earliest).num_days().max(1) as u64;
            let mut issued = earliest + Days::new(rng.gen_range(0..span));
            let lifecycle = self.policy.lifecycle_of(kind);
            let mut first_issued = issued;
            let (mut occupation, mut level) = (None, None);
            let mut valid_until = None;
            let mut last_review = None;
            let (issuer, number) = if kind.skill_level {
                issued = issued.max(day(2020, 1, 1));
                first_issued = issued;
                let occ = if trade.is_empty() {
                    "6-31-01-03"
                } else {
                    trade
                };
                let lv = match rng.gen_range(0..100) {
                    0..40 => Level::L5,
                    40..75 => Level::L4,
                    75..92 => Level::L3,
                    92..98 => Level::L2,
                    _ => Level::L1,
                };
                let candidates: Vec<usize> = (0..self.institutions.len())
                    .filter(|&n| {
                        let inst = &self.institutions[n];
                        inst.region.as_deref() == Some(province)
                            && inst.may_issue(kind_id, Some(occ), Some(lv), issued).is_ok()
                    })
                    .collect();
                let Some(&n) = candidates.get(rng.gen_range(0..candidates.len().max(1))) else {
                    continue;
                };
                let inst = self.institutions[n].clone();
                let yy = issued.year() % 100;
                let serial = self.serial(format!("{}/{yy}/{}", inst.id, lv.id()));
                let number = format!(
                    "{}{}{province}{:06}{yy:02}{}{serial:06}",
                    inst.institution_type.as_deref().unwrap_or("S"),
                    inst.institution_code.as_deref().unwrap_or("0000"),
                    inst.id
                        .rsplit('-')
                        .next()
                        .and_then(|s| s.parse::<u32>().ok())
                        .unwrap_or(1),
                    lv.digit().unwrap_or('5'),
                );
                occupation = Some(occ.to_string());
                level = Some(lv);
                (inst.id, number)
            } else {
                let dept = &kind.department;
                // Holders renew: a certificate first obtained long ago carries its renewal date.
                if let Some(validity) = lifecycle.validity {
                    while rng.gen_bool(0.8) && validity.after(issued) < self.today - Days::new(30) {
                        issued = validity.after(issued);
                    }
                    valid_until = Some(validity.after(issued));
                }
                if let Some(interval) = lifecycle.review_interval {
                    let due = interval.after(issued);
                    if due < self.today && rng.gen_bool(0.88) {
                        last_review = Some(due - Days::new(rng.gen_range(1..50)));
                    }
                }
                let number = match kind.number_scheme {
                    hutong_core::number::NumberScheme::MemTId => format!("T{}", id.as_str()),
                    hutong_core::number::NumberScheme::ResidentId => id.as_str().to_string(),
                    _ => {
                        let abbr = self.policy.region(province).map(|r| r.abbr).unwrap_or('京');
                        let city = (b'A' + rng.gen_range(0..6u8)) as char;
                        // One of the kind's work-type codes, so that the number reads back
                        // as this kind (a crane operator's is 05, 06 or 07).
                        let codes = &kind.scheme_codes;
                        let code = match codes.len() {
                            0 => "00",
                            // Chosen by the issue day, not by `rng`, so that the rest of the
                            // demo data stays as it was.
                            n => codes[issued.ordinal() as usize % n].code.as_str(),
                        };
                        let prefix = format!("{abbr}{city}{code}{}", issued.year());
                        let serial = self.serial(prefix.clone());
                        format!("{prefix}{serial:06}")
                    }
                };
                (format!("{dept}.{province}"), number)
            };
            let state = match rng.gen_range(0..1000) {
                0..7 => AdminState::Suspended {
                    since: (issued + Days::new(rng.gen_range(30..400))).min(self.today),
                },
                7..12 => AdminState::Revoked {
                    on: (issued + Days::new(rng.gen_range(30..900))).min(self.today),
                    reason: None,
                },
                _ => AdminState::Active,
            };
            out.push(Made {
                cert: Certificate {
                    number,
                    kind: kind_id.to_string(),
                    holder_key: key,
                    holder_name: name.clone(),
                    occupation,
                    level,
                    issuer,
                    issued_on: issued,
                    first_issued_on: first_issued,
                    valid_until,
                    last_review_on: last_review,
                    state,
                },
                holder_id: id.clone(),
            });
        }
        out
    }
}

/// Writes sample certificates as import rows (with the synthetic ID number and the status
/// computed for the demo's day), so that the file can be imported back unchanged.
pub fn write_samples(path: &std::path::Path, samples: &[(Status, Made)]) -> anyhow::Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record([
        "number",
        "kind",
        "holder_name",
        "holder_id",
        "occupation",
        "level",
        "issuer",
        "issued_on",
        "valid_until",
        "status",
        "status_on",
        "first_issued_on",
        "last_review_on",
    ])?;
    for (status, m) in samples {
        let c = &m.cert;
        w.write_record([
            c.number.as_str(),
            c.kind.as_str(),
            c.holder_name.as_str(),
            m.holder_id.as_str(),
            c.occupation.as_deref().unwrap_or(""),
            c.level.map(|l| l.id()).unwrap_or(""),
            c.issuer.as_str(),
            &c.issued_on.to_string(),
            &c.valid_until.map(|d| d.to_string()).unwrap_or_default(),
            status.id(),
            &c.state.since().map(|d| d.to_string()).unwrap_or_default(),
            &c.first_issued_on.to_string(),
            &c.last_review_on.map(|d| d.to_string()).unwrap_or_default(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Gives every issuer without a signing key in force one, so that the demo's credentials can
/// be signed (`hutong credential`, `POST /api/v1/certificates/credential`). Returns how many
/// keys were made.
pub async fn demo_keys(store: &dyn Store, config: &crate::config::Config) -> anyhow::Result<usize> {
    let signer = hutong_server::credentials::Signer::new(
        config.keys_dir.clone(),
        config.public_url.as_deref(),
    );
    let now = hutong_core::journal::now_micros();
    let keys = store.keys().await?;
    let mut made = 0;
    for issuer in store.issuers().await? {
        if hutong_core::keys::signing_key_of(&keys, &issuer.id, now).is_none() {
            signer.create_key(store, &issuer, false, "demo").await?;
            made += 1;
        }
    }
    Ok(made)
}

/// Fills `store` with `n` certificates (and the demo issuers). Returns (stored, unchanged).
pub async fn fill(
    store: &dyn Store,
    policy: &Policy,
    secret: &HolderSecret,
    args: &Args,
    today: Day,
    progress: &ProgressBar,
) -> anyhow::Result<(u64, u64, Vec<(Status, Made)>)> {
    // Marked first, so that even a demo load cut short can never pass for real data.
    store
        .mark_demo(&DemoRecord::new(args, today, policy, &[]).json())
        .await?;
    hutong_store::write::register_issuers(store, &issuers(policy), "demo").await?;
    store.begin_bulk_load().await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Made>>(4);
    let (policy_owned, secret_owned, seed, n) =
        (policy.clone(), secret.clone(), args.seed, args.certificates);
    // Per status, up to two samples whose numbers embed the holder's ID number and two whose
    // numbers do not: the query page offers only the latter.
    const PER_STATUS_AND_SCHEME: usize = 2;
    let generator = std::thread::spawn(move || {
        let mut g = Generator::new(&policy_owned, secret_owned, seed, today);
        let mut made = 0u64;
        let mut batch = Vec::with_capacity(20_000);
        while made < n {
            for m in g.next_person() {
                if made == n {
                    break;
                }
                made += 1;
                batch.push(m);
            }
            if batch.len() >= 20_000 && tx.blocking_send(std::mem::take(&mut batch)).is_err() {
                return;
            }
        }
        if !batch.is_empty() {
            let _ = tx.blocking_send(batch);
        }
    });
    let (mut stored, mut unchanged) = (0u64, 0u64);
    let mut samples: Vec<(Status, Made)> = Vec::new();
    while let Some(batch) = rx.recv().await {
        let certs: Vec<Certificate> = batch.iter().map(|m| m.cert.clone()).collect();
        let outcomes = hutong_store::write::issue(store, &certs, "demo", InsertMode::Each).await?;
        for o in &outcomes {
            match o {
                RowOutcome::Stored => stored += 1,
                RowOutcome::Unchanged => unchanged += 1,
                RowOutcome::Conflict { reason } => {
                    anyhow::bail!("demo data collided with existing data: {reason}")
                }
            }
        }
        progress.inc(batch.len() as u64);
        for m in batch {
            let embeds = |m: &Made| {
                policy
                    .kind(&m.cert.kind)
                    .is_some_and(|k| k.number_scheme.embeds_resident_id())
            };
            if let Some(r) = policy.status_of(&m.cert, today)
                && samples
                    .iter()
                    .filter(|(s, o)| *s == r.status && embeds(o) == embeds(&m))
                    .count()
                    < PER_STATUS_AND_SCHEME
            {
                samples.push((r.status, m));
            }
        }
    }
    generator
        .join()
        .map_err(|_| anyhow::anyhow!("the demo data generator failed"))?;
    store.end_bulk_load().await?;
    samples.sort_by_key(|(s, _)| *s);
    store
        .mark_demo(&DemoRecord::new(args, today, policy, &samples).json())
        .await?;
    Ok((stored, unchanged, samples))
}

/// What a demo registry records about itself ([`Store::mark_demo`]): how it was made, and the
/// certificates its query page offers to try.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct DemoRecord {
    pub seed: u64,
    pub certificates: u64,
    pub made_for: String,
    /// A few certificates per status: the query page offers those whose numbers do not embed an
    /// ID number, with their holder's name.
    #[serde(default)]
    pub samples: Vec<RecordedSample>,
    /// A holder to try the ID number and name form with: one whose ID number the registry holds
    /// anyway, as the number of an emergency management certificate.
    #[serde(default)]
    pub holder: Option<RecordedHolder>,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct RecordedSample {
    pub number: String,
    pub kind: String,
    pub name: String,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct RecordedHolder {
    pub id: String,
    pub name: String,
}

impl DemoRecord {
    fn new(args: &Args, today: Day, policy: &Policy, samples: &[(Status, Made)]) -> DemoRecord {
        let embeds = |m: &Made| {
            policy
                .kind(&m.cert.kind)
                .is_none_or(|k| k.number_scheme.embeds_resident_id())
        };
        DemoRecord {
            seed: args.seed,
            certificates: args.certificates,
            made_for: today.to_string(),
            samples: samples
                .iter()
                .filter(|(_, m)| !embeds(m))
                .map(|(_, m)| RecordedSample {
                    number: m.cert.number.clone(),
                    kind: m.cert.kind.clone(),
                    name: m.cert.holder_name.clone(),
                })
                .collect(),
            holder: samples
                .iter()
                .find(|(s, m)| {
                    *s == Status::Valid && embeds(m) && m.cert.number.contains(m.holder_id.as_str())
                })
                .map(|(_, m)| RecordedHolder {
                    id: m.holder_id.as_str().to_string(),
                    name: m.cert.holder_name.clone(),
                }),
        }
    }

    fn json(&self) -> String {
        serde_json::to_string(self).expect("a demo record serialises")
    }

    /// The record of a demo registry, `None` for one that is not; a record that does not read
    /// (written by a later version) still marks the registry as a demo, with no samples.
    pub async fn of(store: &dyn Store) -> anyhow::Result<Option<DemoRecord>> {
        Ok(store.demo_record().await?.map(|text| {
            serde_json::from_str(&text).unwrap_or_else(|e| {
                tracing::warn!(
                    "the registry's demo record does not read ({e}); no samples offered"
                );
                DemoRecord::default()
            })
        }))
    }

    /// The samples for the query page.
    pub fn for_serve(
        &self,
    ) -> (
        Vec<hutong_server::DemoSample>,
        Option<hutong_server::DemoHolder>,
    ) {
        (
            self.samples
                .iter()
                .map(|s| hutong_server::DemoSample {
                    number: s.number.clone(),
                    kind: s.kind.clone(),
                    name: s.name.clone(),
                })
                .collect(),
            self.holder.as_ref().map(|h| hutong_server::DemoHolder {
                id: h.id.clone(),
                name: h.name.clone(),
            }),
        )
    }
}

pub fn progress_bar(n: u64) -> ProgressBar {
    let bar = ProgressBar::new(n);
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} demo data {bar:30} {pos}/{len} {per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

pub fn run(global: &GlobalArgs, args: Args) -> anyhow::Result<ExitCode> {
    let config = Config::load(global)?;
    crate::config::init_logging(&config.log);
    let today = match &args.today {
        Some(s) => hutong_core::date::parse_day(s)
            .map_err(|e| crate::exit::invalid(format!("--today: {e}")))?,
        None => hutong_core::date::today_in_china(),
    };
    if let Some(path) = &args.samples {
        let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
        if let Some(folder) = folder.filter(|f| !f.is_dir()) {
            return Err(crate::exit::invalid(format!(
                "--samples {}: the folder {} does not exist",
                path.display(),
                folder.display()
            )));
        }
    }
    runtime()?.block_on(async move {
        let ctx = context::open(config, context::Reads::Primary).await?;
        let start = Instant::now();
        let progress = progress_bar(args.certificates);
        let (stored, unchanged, samples) = fill(&*ctx.store, &ctx.policy, &ctx.secret, &args, today, &progress).await?;
        progress.finish_and_clear();
        let keys = demo_keys(&*ctx.store, &ctx.config).await?;
        if keys > 0 {
            println!(
                "made {keys} demo signing key(s) in {}",
                ctx.config.keys_dir.display()
            );
        }
        if let Some(path) = &args.samples {
            write_samples(path, &samples)?;
            println!("wrote {} sample certificates to {}", samples.len(), path.display());
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "demo: {} certificates: {stored} stored, {unchanged} unchanged, in {secs:.1} s ({:.0} certificates/s), database {}",
            args.certificates,
            args.certificates as f64 / secs.max(1e-9),
            context::shown_url(&ctx.config.database)
        );
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 8, item 19: demo numbers decode under the national work-type code table, each as
    /// the kind it was made for.
    #[test]
    fn r8_19_demo_construction_numbers_read_back_as_their_kind() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
        let policy = Policy::load_dir(&dir).unwrap();
        let today = "2026-11-26".parse().unwrap();
        let mut g = Generator::new(&policy, HolderSecret::from_bytes([7; 32]), 1, today);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..3000 {
            for m in g.next_person() {
                if !m.cert.kind.starts_with("mohurd.") {
                    continue;
                }
                let read = policy.read_number(&m.cert.number);
                let kinds: Vec<&str> = read.iter().map(|r| r.kind.id.as_str()).collect();
                assert_eq!(kinds, [m.cert.kind.as_str()], "{}", m.cert.number);
                seen.insert(read[0].code.map(|c| c.code.clone()));
            }
        }
        // Kinds with several codes use them all.
        for code in ["05", "06", "07", "08", "09", "10", "02", "03"] {
            assert!(
                seen.contains(&Some(code.to_string())),
                "no demo number with code {code}"
            );
        }
    }

    /// The demo issuers are valid, carry history for the pages to show (a grant that ended, a
    /// suspension that was lifted), and every skill level certificate made is one its issuer
    /// had the right to issue on its issue date.
    #[test]
    fn demo_issuers_have_history_and_certificates_respect_it() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
        let policy = Policy::load_dir(&dir).unwrap();
        let all = issuers(&policy);
        for i in &all {
            assert!(
                i.check(&policy).is_empty(),
                "{}: {:?}",
                i.id,
                i.check(&policy)
            );
        }
        assert!(
            all.iter()
                .any(|i| i.grants.iter().any(|g| g.valid_until.is_some()))
        );
        assert!(
            all.iter()
                .any(|i| i.suspensions.iter().any(|s| s.until.is_some()))
        );
        let today = "2026-11-26".parse().unwrap();
        let mut g = Generator::new(&policy, HolderSecret::from_bytes([7; 32]), 1, today);
        let mut skill = 0;
        for _ in 0..3000 {
            for m in g.next_person() {
                let Some(iss) = all.iter().find(|i| i.id == m.cert.issuer) else {
                    panic!("{} names no demo issuer", m.cert.issuer);
                };
                if m.cert.kind == "mohrss.skill-level" {
                    skill += 1;
                }
                let v = hutong_core::verify::verify(&policy, &m.cert, Some(iss), today);
                assert_eq!(
                    v.checks[1].outcome,
                    hutong_core::verify::Outcome::Pass,
                    "{:?}",
                    v.checks[1]
                );
            }
        }
        assert!(skill > 100, "{skill} skill level certificates");
    }

    /// Every demo issuer has its own made-up unified social credit code, valid under GB 32100
    /// and marked as demo data, so that the demo's mohurd certificates get e-licence identifiers.
    #[test]
    fn demo_issuers_have_distinct_demo_credit_codes() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
        let policy = Policy::load_dir(&dir).unwrap();
        let all = issuers(&policy);
        let mut seen = std::collections::BTreeSet::new();
        for i in &all {
            let code = i.credit_code.as_ref().expect("a demo credit code");
            assert_eq!(UnifiedCreditCode::parse(code.as_str()).as_ref(), Ok(code));
            assert_eq!(&code.as_str()[8..11], "DEM", "{}", i.id);
            assert_eq!(
                Some(&code.region_code()[..2]),
                i.region.as_deref(),
                "{}",
                i.id
            );
            assert!(seen.insert(code.clone()), "{code} given twice");
        }
        let mohurd = all.iter().find(|i| i.department == "mohurd").unwrap();
        let kind = policy.kind("mohurd.construction.electrician").unwrap();
        let id = hutong_core::elicence::for_certificate(
            kind.licence_type_code.as_ref(),
            mohurd.credit_code.as_ref(),
            42,
            hutong_core::elicence::FIRST_ISSUE,
        )
        .unwrap();
        assert!(
            id.to_string()
                .starts_with("1.2.156.3005.2.11100000000013338W032."),
            "{id}"
        );
    }
}
