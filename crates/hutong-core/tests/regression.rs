//! Regression tests of issue 8, one or more per defect, named `r8_<item>_<what>`. Each failed
//! before its fix.

use std::path::{Path, PathBuf};

use hutong_core::issuer::{Grant, IssuerRole};
use hutong_core::number::{self, Decoded, NumberScheme, RecordContext};
use hutong_core::policy::{Policy, PolicyErrors, Source};
use hutong_core::record::{RecordInput, check_record};
use hutong_core::{Day, HolderSecret, Issuer, Level};

fn policy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy")
}

fn policy() -> Policy {
    Policy::load_dir(&policy_dir()).unwrap()
}

/// The shipped policy files, as `policy/<name>`, with `edit` applied to their text.
fn shipped_sources(edit: impl Fn(&str, String) -> Option<String>) -> Vec<Source> {
    let mut names: Vec<String> = std::fs::read_dir(policy_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".toml"))
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|n| {
            let text = std::fs::read_to_string(policy_dir().join(&n)).unwrap();
            edit(&n, text).map(|text| Source {
                name: format!("policy/{n}"),
                text,
            })
        })
        .collect()
}

fn today() -> Day {
    "2026-11-26".parse().unwrap()
}

/// The provincial housing authority of Shanxi (晋), which issues every mohurd kind.
fn mohurd_shanxi(p: &Policy) -> Issuer {
    Issuer {
        id: "mohurd.14".into(),
        name_zh: "山西省住房和城乡建设厅".into(),
        name_en: None,
        department: "mohurd".into(),
        role: IssuerRole::Authority,
        region: Some("14".into()),
        grants: p
            .kinds
            .values()
            .filter(|k| k.department == "mohurd")
            .map(|k| Grant::kind(&k.id, "2000-01-01".parse().unwrap()))
            .collect(),
        institution_type: None,
        institution_code: None,
        registered_on: "2000-01-01".parse().unwrap(),
        suspensions: vec![],
        removed_on: None,
        contact: None,
        credit_code: None,
    }
}

/// Checks an import row of `kind` numbered `number`, issued in Shanxi on 2024-05-10.
fn check_mohurd(p: &Policy, kind: &str, number: &str) -> Result<(), String> {
    let row = RecordInput {
        number: number.into(),
        kind: kind.into(),
        holder_name: "张小明".into(),
        holder_id: "11010519491231002X".into(),
        issuer: "mohurd.14".into(),
        issued_on: "2024-05-10".into(),
        valid_until: "2026-05-10".into(),
        status: "expired".into(),
        ..Default::default()
    };
    let issuer = mohurd_shanxi(p);
    check_record(
        p,
        Some(&issuer),
        &HolderSecret::from_bytes([9; 32]),
        &row,
        today(),
    )
    .map(|_| ())
    .map_err(|errs| {
        errs.iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })
}

fn errors_of(r: Result<Policy, PolicyErrors>) -> PolicyErrors {
    match r {
        Ok(_) => panic!("the policy should have been refused"),
        Err(e) => e,
    }
}

// --- B10 -----------------------------------------------------------------------------------

#[test]
fn r8_10_a_policy_folder_without_regions_toml_is_refused_naming_the_file() {
    let sources = shipped_sources(|n, t| (n != "regions.toml").then_some(t));
    let errs = errors_of(Policy::from_sources(&sources));
    let e = errs
        .0
        .iter()
        .find(|e| e.file == "policy/regions.toml")
        .unwrap_or_else(|| panic!("no error names policy/regions.toml: {errs}"));
    assert!(e.message.contains("[[region]]"), "{e}");
}

#[test]
fn r8_10_every_required_table_is_required() {
    for file in [
        "departments.toml",
        "regions.toml",
        "directory.toml",
        "lifecycles.toml",
        "kinds.toml",
        "occupations.toml",
    ] {
        let sources = shipped_sources(|n, t| (n != file).then_some(t));
        let errs = errors_of(Policy::from_sources(&sources));
        assert!(
            errs.0
                .iter()
                .any(|e| e.file == format!("policy/{file}") && e.message.contains("missing")),
            "without {file}: {errs}"
        );
    }
}

// --- F19 -----------------------------------------------------------------------------------

#[test]
fn r8_19_a_real_gondola_number_with_code_11_is_accepted_as_gondola_installer() {
    let p = policy();
    check_mohurd(
        &p,
        "mohurd.construction.gondola-installer",
        "晋A112024000017",
    )
    .unwrap();
    let read = p.read_number("晋A112024000017");
    assert_eq!(read.len(), 1, "{read:?}");
    assert_eq!(read[0].kind.id, "mohurd.construction.gondola-installer");
    // The old code 06 is a construction hoist operator's now.
    assert!(
        check_mohurd(
            &p,
            "mohurd.construction.gondola-installer",
            "晋A062024000017"
        )
        .is_err()
    );
}

#[test]
fn r8_19_code_07_is_a_crane_operator_never_a_welder() {
    let p = policy();
    check_mohurd(&p, "mohurd.construction.crane-operator", "晋A072024000031").unwrap();
    let e = check_mohurd(&p, "mohurd.construction.welder", "晋A072024000031").unwrap_err();
    assert!(e.contains("work-type code 07"), "{e}");
    let read = p.read_number("晋A072024000031");
    let kinds: Vec<&str> = read.iter().map(|r| r.kind.id.as_str()).collect();
    assert_eq!(kinds, ["mohurd.construction.crane-operator"]);
    assert_eq!(
        read[0].code.and_then(|c| c.name_zh.as_deref()),
        Some("建筑起重机械司机（物料提升机）")
    );
}

#[test]
fn r8_19_every_national_code_reads_as_its_kind() {
    let p = policy();
    let table = [
        ("01", "electrician"),
        ("02", "scaffolder"),
        ("03", "scaffolder"),
        ("04", "signal-rigger"),
        ("05", "crane-operator"),
        ("06", "crane-operator"),
        ("07", "crane-operator"),
        ("08", "crane-installer"),
        ("09", "crane-installer"),
        ("10", "crane-installer"),
        ("11", "gondola-installer"),
        ("99", "welder"),
    ];
    for (code, item) in table {
        let number = format!("晋A{code}2024000001");
        let kind = format!("mohurd.construction.{item}");
        check_mohurd(&p, &kind, &number).unwrap_or_else(|e| panic!("{number}: {e}"));
        let read = p.read_number(&number);
        assert_eq!(read.len(), 1, "{number}: {read:?}");
        assert_eq!(read[0].kind.id, kind, "{number}");
    }
    assert!(p.read_number("晋A122024000001").is_empty());
}

#[test]
fn r8_19_code_99_reads_as_welder_with_a_note_that_it_covers_other_province_approved_types() {
    let p = policy();
    check_mohurd(&p, "mohurd.construction.welder", "晋A992024000002").unwrap();
    let read = p.read_number("晋A992024000002");
    assert_eq!(read.len(), 1, "{read:?}");
    assert_eq!(read[0].kind.id, "mohurd.construction.welder");
    let code = read[0].code.expect("the code's entry");
    let note = code.note.as_ref().expect("code 99 carries a note");
    assert!(note.text_zh.contains("99") && note.text_zh.contains("省级以上"));
    assert!(note.text_en.contains("provincial") && note.text_en.contains("not necessarily"));
    assert!(note.provisional && !note.source.is_empty());
}

#[test]
fn r8_19_a_kind_carries_several_codes() {
    let p = policy();
    let codes = |id: &str| -> Vec<String> {
        p.kind(id)
            .unwrap()
            .scheme_codes
            .iter()
            .map(|c| c.code.clone())
            .collect()
    };
    assert_eq!(
        codes("mohurd.construction.crane-operator"),
        ["05", "06", "07"]
    );
    assert_eq!(
        codes("mohurd.construction.crane-installer"),
        ["08", "09", "10"]
    );
    assert_eq!(codes("mohurd.construction.scaffolder"), ["02", "03"]);
}

// --- F20 -----------------------------------------------------------------------------------

#[test]
fn r8_20_the_samr_card_is_named_special_equipment_safety_management_and_operator_certificate() {
    let p = policy();
    for k in p.kinds.values().filter(|k| k.department == "samr") {
        assert_eq!(k.certificate_zh, "特种设备安全管理和作业人员证", "{}", k.id);
        assert!(
            k.full_name_zh()
                .starts_with("特种设备安全管理和作业人员证 · ")
        );
    }
}

// --- F21 -----------------------------------------------------------------------------------

fn skill_ctx(level: Level) -> RecordContext<'static> {
    RecordContext {
        holder: None,
        level: Some(level),
        issued_on: "2025-03-01".parse().unwrap(),
        scheme_codes: &[],
        issuer_province: Some("44"),
        issuer_province_abbr: None,
        institution_type: Some("Y"),
        institution_code: Some("0000"),
    }
}

#[test]
fn r8_21_a_principal_technician_number_of_two_letters_and_20_digits_decodes_into_seven_parts() {
    // Y 0000 44 000123 25 T 000042: the 22-character layout with a letter for the level.
    let n = "Y00004400012325T000042";
    assert_eq!(n.chars().filter(char::is_ascii_uppercase).count(), 2);
    assert_eq!(n.chars().filter(char::is_ascii_digit).count(), 20);
    let d = number::decode(NumberScheme::SkillLevel22, n).unwrap();
    assert_eq!(
        d,
        Decoded::SkillLevelTop {
            institution_type: 'Y',
            institution_code: "0000".into(),
            province: "44".into(),
            site: "000123".into(),
            year: 25,
            level_code: 'T',
            serial: "000042".into(),
        }
    );
    d.check_consistency(&skill_ctx(Level::Principal)).unwrap();
    d.check_consistency(&skill_ctx(Level::Chief)).unwrap();
    let e = d.check_consistency(&skill_ctx(Level::L1)).unwrap_err();
    assert!(e.to_string().contains("only principal and chief"), "{e}");
    // A numbered level's layout does not number a principal certificate.
    let digit = number::decode(NumberScheme::SkillLevel22, "Y000044000123251000042").unwrap();
    let e = digit
        .check_consistency(&skill_ctx(Level::Principal))
        .unwrap_err();
    assert!(e.to_string().contains("capital letter"), "{e}");
    // The other parts are still checked.
    let mut c = skill_ctx(Level::Principal);
    c.issuer_province = Some("11");
    assert!(d.check_consistency(&c).is_err());
    assert!(number::decode(NumberScheme::SkillLevel22, "Y00004400012325t000042").is_err());
    assert!(number::decode(NumberScheme::SkillLevel22, "Y0000440001232TT000042").is_err());
}

// --- F22 -----------------------------------------------------------------------------------

/// Every `source` of the compiled policy.
fn all_sources(p: &Policy) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut add = |what: String, s: &str| out.push((what, s.to_string()));
    for d in p.departments.values() {
        add(format!("department {}", d.id), &d.source);
    }
    for r in p.regions.values() {
        add(format!("region {}", r.code), &r.source);
    }
    for q in p.qualifications.values() {
        add(format!("qualification {}", q.id), &q.source);
    }
    for l in p.lifecycles.values() {
        add(format!("lifecycle {}", l.id), &l.source);
    }
    for k in p.kinds.values() {
        add(format!("kind {}", k.id), &k.source);
        for c in &k.scheme_codes {
            add(format!("kind {} code {}", k.id, c.code), &c.source);
        }
        for n in &k.notes {
            add(format!("kind {} note {}", k.id, n.id), &n.source);
        }
    }
    for o in p.occupations.values() {
        add(format!("occupation {}", o.code), &o.source);
        for s in &o.standards {
            add(format!("standard {} {}", o.code, s.edition), &s.source);
            for c in &s.conditions {
                add(format!("condition {}", c.id), &c.source);
            }
        }
    }
    for r in &p.exemption_rules {
        add(format!("exemption_rule {}", r.id), &r.source);
    }
    for r in &p.deemed_level_rules {
        add(format!("deemed_level_rule {}", r.id), &r.source);
    }
    for x in &p.exceptions {
        add(format!("exception {}", x.id), &x.source);
    }
    for q in &p.open_questions {
        add(format!("open_question {}", q.id), &q.source);
    }
    out
}

#[test]
fn r8_22_no_shipped_source_cites_policy_md() {
    let p = policy();
    let sources = all_sources(&p);
    assert!(sources.len() > 100, "{}", sources.len());
    let bad: Vec<&(String, String)> = sources
        .iter()
        .filter(|(_, s)| s.contains("POLICY.md") || s.contains("IDENTIFIERS.md"))
        .collect();
    assert!(
        bad.is_empty(),
        "{} sources cite an internal file: {bad:#?}",
        bad.len()
    );
}

#[test]
fn r8_22_the_validator_refuses_a_source_citing_an_internal_file() {
    let sources = shipped_sources(|n, t| {
        Some(if n == "kinds.toml" {
            t.replacen(
                "第三条（一）建筑电工\"",
                "第三条（一）建筑电工; POLICY.md §3\"",
                1,
            )
        } else {
            t
        })
    });
    let errs = errors_of(Policy::from_sources(&sources));
    // The first error is this one (the others are rules that name the kind it keeps out).
    let e = &errs.0[0];
    assert_eq!(e.file, "policy/kinds.toml", "{errs}");
    assert!(e.line > 0);
    assert_eq!(
        e.entry.as_deref(),
        Some("kind \"mohurd.construction.electrician\"")
    );
    assert!(e.message.contains("\"POLICY.md\""), "{e}");
    // Published addresses are not internal files.
    let sources = shipped_sources(|n, t| {
        Some(if n == "kinds.toml" {
            t.replacen(
                "第三条（一）建筑电工\"",
                "第三条（一）建筑电工, https://www.mohurd.gov.cn/a/b.json; hot.chinajsxx.com/76667.html\"",
                1,
            )
        } else {
            t
        })
    });
    Policy::from_sources(&sources).unwrap();
}

// --- F23 -----------------------------------------------------------------------------------

#[test]
fn r8_23_mem_kinds_carry_the_six_month_practical_exam_note_from_policy_data() {
    let p = policy();
    for k in p.kinds.values() {
        let note = p
            .notes_of(&k.id)
            .iter()
            .find(|n| n.id == "mem.away-six-months");
        if k.department == "mem" {
            let n = note.unwrap_or_else(|| panic!("{} has no six-month note", k.id));
            assert!(n.text_zh.contains("6个月") && n.text_zh.contains("实际操作考试"));
            assert!(n.text_en.contains("six months") && n.text_en.contains("practical exam"));
            assert!(n.source.contains("第三十二条"), "{}", n.source);
            assert!(n.provisional);
        } else {
            assert!(note.is_none(), "{}", k.id);
        }
    }
}
