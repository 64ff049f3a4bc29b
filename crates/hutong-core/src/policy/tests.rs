use super::*;

/// A small but complete policy, in the format of `docs/policy-format.md`.
pub(crate) const MINI: &str = r#"
[[department]]
id = "mem"
name_zh = "应急管理部"
name_en = "Ministry of Emergency Management"
source = "IDENTIFIERS.md"

[[department]]
id = "mohrss"
name_zh = "人力资源社会保障部"
name_en = "Ministry of Human Resources and Social Security"
source = "IDENTIFIERS.md"

[[region]]
code = "44"
name_zh = "广东省"
name_en = "Guangdong"
abbr = "粤"
source = "GB/T 2260"

[[qualification]]
id = "special-operations"
name_zh = "特种作业人员"
personnel = "skilled"
category = "licensing"
departments = ["mem"]
source = "国家职业资格目录（2021年版）"

[[lifecycle]]
id = "mem-special-operation"
validity = "P6Y"
review_interval = "P3Y"
review_window = "P60D"
source = "特种作业人员安全技术培训考核管理规定"

[[lifecycle]]
id = "skill-level"
expires = false
source = "notice"

[[occupation]]
code = "6-31-01-03"
name_zh = "电工"
name_en = "Electrician"
levels = ["5", "4", "3", "2", "1"]
source = "classification"

[[occupation.standard]]
edition = "2018"
name = "国家职业技能标准 电工（2018年版）"
effective_from = 2018-01-01
source = "standard"

[[occupation.standard.condition]]
id = "elec/2018/4a"
level = "4"
held_level = "5"
years_since_held_level = 4
text_zh = "取得本职业五级证书后，累计从事本职业工作4年（含）以上"

[[kind]]
id = "mem.electrical.low-voltage"
department = "mem"
certificate_zh = "特种作业操作证"
certificate_en = "Special Operation Certificate"
family_zh = "电工作业"
family_en = "Electrical work"
name_zh = "低压电工作业"
name_en = "Low-voltage electrical work"
qualification = "special-operations"
number_scheme = "mem-t-id"
lifecycle = "mem-special-operation"
occupations = ["6-31-01-03"]
source = "IDENTIFIERS.md"

[[kind]]
id = "mohrss.skill-level"
department = "mohrss"
certificate_zh = "职业技能等级证书"
certificate_en = "Vocational Skill Level Certificate"
name_zh = "职业技能等级证书"
name_en = "Vocational Skill Level Certificate"
skill_level = true
number_scheme = "skill-level-22"
lifecycle = "skill-level"
source = "IDENTIFIERS.md"
"#;

fn load(files: &[(&str, &str)]) -> Result<Policy, PolicyErrors> {
    let sources: Vec<Source> = files
        .iter()
        .map(|(n, t)| Source {
            name: n.to_string(),
            text: t.to_string(),
        })
        .collect();
    Policy::from_sources(&sources)
}

#[test]
fn a_complete_policy_compiles() {
    let p = load(&[("mini.toml", MINI)]).unwrap();
    let k = p.kind("mem.electrical.low-voltage").unwrap();
    assert_eq!(k.full_name_zh(), "特种作业操作证 · 电工作业 · 低压电工作业");
    assert_eq!(
        p.lifecycle_of(k).review_window,
        Some(crate::Period::Days(60))
    );
    assert_eq!(p.directory_entry(k).unwrap().name_zh, "特种作业人员");
    assert!(
        p.directory_entry(p.kind("mohrss.skill-level").unwrap())
            .is_none()
    );
    let occ = p.occupation("6-31-01-03").unwrap();
    assert_eq!(
        occ.standard_on("2026-01-01".parse().unwrap())
            .unwrap()
            .conditions
            .len(),
        1
    );
    assert_eq!(p.region("44").unwrap().abbr, '粤');
    assert_eq!(p.digest.len(), 32);
}

#[test]
fn an_unknown_reference_names_file_line_and_entry() {
    let text = MINI.replace(
        "lifecycle = \"mem-special-operation\"\noccupations",
        "lifecycle = \"mem-special\"\noccupations",
    );
    let errs = load(&[("policy/kinds.toml", &text)]).unwrap_err();
    assert_eq!(errs.0.len(), 1, "{errs}");
    let e = &errs.0[0];
    let expected_line = text
        .lines()
        .position(|l| l == "lifecycle = \"mem-special\"")
        .unwrap()
        + 1;
    assert_eq!(e.line, expected_line);
    assert_eq!(
        e.to_string(),
        format!(
            "policy/kinds.toml:{expected_line}: kind \"mem.electrical.low-voltage\": lifecycle \"mem-special\" is not defined"
        )
    );
}

#[test]
fn an_unknown_kind_field_or_table_is_an_error_with_its_line() {
    let text = format!("{MINI}\n[[kinds]]\nid = \"x\"\n");
    let errs = load(&[("a.toml", &text)]).unwrap_err();
    assert_eq!(errs.0[0].line, text.lines().count() - 1, "{errs}");
    assert!(errs.0[0].message.contains("kinds"), "{errs}");

    let text = MINI.replace(
        "name_en = \"Low-voltage electrical work\"",
        "name_en = \"x\"\ncolour = \"red\"",
    );
    let errs = load(&[("a.toml", &text)]).unwrap_err();
    assert!(errs.0[0].message.contains("colour"), "{errs}");
    assert!(errs.0[0].line > 0);
}

#[test]
fn duplicates_across_files_point_at_the_first_definition() {
    let extra = r#"
[[department]]
id = "mem"
name_zh = "x"
name_en = "x"
source = "y"
"#;
    let errs = load(&[("a.toml", MINI), ("b.toml", extra)]).unwrap_err();
    assert_eq!(errs.0.len(), 1, "{errs}");
    assert!(
        errs.0[0].to_string().starts_with(
            "b.toml:2: department \"mem\": department \"mem\" is defined twice; first at a.toml:"
        ),
        "{errs}"
    );
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let text = MINI
        .replace(
            "source = \"IDENTIFIERS.md\"\n\n[[department]]",
            "\n[[department]]",
        )
        .replace(
            "department = \"mem\"\ncertificate_zh",
            "department = \"mme\"\ncertificate_zh",
        )
        .replace("held_level = \"5\"", "held_level = \"4\"");
    let errs = load(&[("a.toml", &text)]).unwrap_err();
    let all = errs.to_string();
    assert!(all.contains("department \"mem\": has no source"), "{all}");
    assert!(all.contains("department \"mme\" is not defined"), "{all}");
    assert!(
        all.contains("held_level 4 must be below the level applied for (4)"),
        "{all}"
    );
}

#[test]
fn lifecycle_rules_are_checked() {
    let text = MINI.replace("expires = false\n", "expires = false\nvalidity = \"P1Y\"\n");
    let errs = load(&[("a.toml", &text)]).unwrap_err();
    assert!(
        errs.to_string()
            .contains("validity makes no sense with expires = false"),
        "{errs}"
    );
    let text = MINI.replace("validity = \"P6Y\"", "validity = \"6 years\"");
    let errs = load(&[("a.toml", &text)]).unwrap_err();
    assert!(errs.to_string().contains("not a period"), "{errs}");
}

#[test]
fn the_shipped_policy_folder_is_valid() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
    let p = Policy::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    // Every kind of IDENTIFIERS.md is there.
    for id in [
        "mem.electrical.low-voltage",
        "mem.electrical.high-voltage",
        "mem.electrical.explosion-proof",
        "mem.welding.fusion-cutting",
        "mem.welding.pressure",
        "mem.welding.brazing",
        "mohurd.construction.electrician",
        "mohurd.construction.welder",
        "mohurd.construction.scaffolder",
        "mohurd.construction.signal-rigger",
        "mohurd.construction.crane-operator",
        "mohurd.construction.crane-installer",
        "mohurd.construction.gondola-installer",
        "samr.welding.metal",
        "samr.welding.nonmetal",
        "mohrss.skill-level",
    ] {
        assert!(p.kind(id).is_some(), "kind {id} is missing from policy/");
    }
    for d in ["mohrss", "mohurd", "mem", "samr"] {
        assert!(p.department(d).is_some(), "department {d} is missing");
    }
    assert_eq!(p.regions.len(), 31);
    assert!(p.occupation("6-31-01-03").is_some() && p.occupation("6-18-02-04").is_some());
    let skilled = p
        .qualifications
        .values()
        .filter(|q| q.personnel == Personnel::Skilled)
        .count();
    assert!(
        skilled >= 13,
        "only {skilled} skilled-personnel directory entries"
    );
}
