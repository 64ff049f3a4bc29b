use super::*;

/// A small but complete policy, in the format of `docs/policy-format.md`.
pub(crate) const MINI: &str = r#"
[[department]]
id = "mem"
name_zh = "应急管理部"
name_en = "Ministry of Emergency Management"
source = "test: the department's own publication"

[[department]]
id = "mohrss"
name_zh = "人力资源社会保障部"
name_en = "Ministry of Human Resources and Social Security"
source = "test: the department's own publication"

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
source = "test: the department's own publication"

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
source = "test: the department's own publication"
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
            "source = \"test: the department's own publication\"\n\n[[department]]",
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

    // Every row of POLICY.md §1.1 is a rule, and every recognition rule is provisional (the
    // attachment is [S], the implied rows [U]), sourced and in force from 2026-01-16.
    let notice: crate::date::Day = "2026-01-16".parse().unwrap();
    for (held, target) in [
        (
            "mem.electrical.low-voltage",
            "mohurd.construction.electrician",
        ),
        (
            "mem.electrical.high-voltage",
            "mohurd.construction.electrician",
        ),
        ("mem.welding.fusion-cutting", "mohurd.construction.welder"),
    ] {
        let r = p
            .exemption_rule(&format!("m1/{held}/{target}"))
            .unwrap_or_else(|| panic!("no rule {held} -> {target}"));
        assert_eq!(r.exemptions.describe(), "safety-training");
        assert!(
            r.source.contains("《关于推进职业技能证书互通互认的通知》")
                && r.source.contains("as reported by secondary sources"),
            "{}",
            r.source
        );
    }
    for (held, occupation, level) in [
        ("mem.electrical.low-voltage", "6-31-01-03", crate::Level::L5),
        ("mem.welding.fusion-cutting", "6-18-02-04", crate::Level::L5),
        (
            "mem.electrical.high-voltage",
            "6-31-01-03",
            crate::Level::L4,
        ),
        ("samr.welding.metal", "6-18-02-04", crate::Level::L4),
    ] {
        let r = p
            .deemed_level_rule(&format!("m2/{held}/{occupation}"))
            .unwrap_or_else(|| panic!("no rule {held} -> {occupation}"));
        assert_eq!(r.level, level);
    }
    for r in &p.exemption_rules {
        assert!(
            r.provisional && r.effective.from == notice && r.region.is_none(),
            "{}",
            r.id
        );
    }
    for r in &p.deemed_level_rules {
        assert!(
            r.provisional && r.effective.from == notice && r.region.is_none(),
            "{}",
            r.id
        );
    }
    assert!(p.exceptions.is_empty(), "no real exception is known");
}

/// Recognition rules over [`MINI`]: one more kind to apply for, a rule of each table, an
/// exception and an open question.
const RULES: &str = r#"
[[kind]]
id = "mem.electrical.high-voltage"
department = "mem"
certificate_zh = "特种作业操作证"
certificate_en = "Special Operation Certificate"
name_zh = "高压电工作业"
name_en = "High-voltage electrical work"
qualification = "special-operations"
number_scheme = "mem-t-id"
lifecycle = "mem-special-operation"
occupations = ["6-31-01-03"]
source = "test: the department's own publication"

[[exemption_rule]]
id = "m1/lv/hv"
held = "mem.electrical.low-voltage"
target = "mem.electrical.high-voltage"
exemptions = ["safety-training", "theory-exam"]
effective_from = 2026-01-16
source = "notice, row 1"

[[deemed_level_rule]]
id = "m2/lv/elec"
held = "mem.electrical.low-voltage"
occupation = "6-31-01-03"
level = "5"
held_status = ["valid"]
effective_from = 2026-01-16
source = "notice, row 4"

[[exception]]
id = "x/44/lv-hv"
rule = "m1/lv/hv"
region = "44"
action = "narrow"
exemptions = ["safety-training"]
effective_from = 2026-03-01
source = "a provincial notice"

[[open_question]]
id = "q/lv"
held = ["mem.electrical.low-voltage"]
text_zh = "未知"
text_en = "unknown"
source = "test: a published text"
"#;

fn load_rules(rules: &str) -> Result<Policy, PolicyErrors> {
    load(&[("mini.toml", MINI), ("rules.toml", rules)])
}

/// The 1-based line of the first line of `text` equal to `line`.
fn line_in(text: &str, line: &str) -> usize {
    text.lines()
        .position(|l| l == line)
        .unwrap_or_else(|| panic!("{line:?} not in text"))
        + 1
}

#[test]
fn recognition_rules_compile_and_are_indexed_by_held_kind() {
    let p = load_rules(RULES).unwrap_or_else(|e| panic!("{e}"));
    let r = p.exemption_rule("m1/lv/hv").unwrap();
    assert_eq!(
        r.held_status,
        vec![crate::Status::Valid, crate::Status::ReviewDue]
    );
    assert_eq!(r.exemptions.describe(), "safety-training, theory-exam");
    assert_eq!(r.effective.until, None);
    assert_eq!(r.exceptions, vec![0]);
    let d = p.deemed_level_rule("m2/lv/elec").unwrap();
    assert_eq!(d.held_status, vec![crate::Status::Valid]);
    assert_eq!(d.level, crate::Level::L5);
    let x = p.exception("x/44/lv-hv").unwrap();
    assert_eq!(
        x.action,
        ExceptionAction::Narrow {
            remaining: [crate::Exemption::SafetyTraining].into_iter().collect()
        }
    );
    let held = p.rules_for("mem.electrical.low-voltage").unwrap();
    assert_eq!(
        (
            held.exemption.len(),
            held.deemed_level.len(),
            held.open_questions.len()
        ),
        (1, 1, 1)
    );
    assert!(p.rules_for("mem.electrical.high-voltage").is_none());
}

#[test]
fn recognition_rules_with_unknown_references_name_file_line_and_rule() {
    let cases = [
        (
            "held = \"mem.electrical.low-voltage\"\ntarget",
            "held = \"mem.electrical.lowvoltage\"\ntarget",
            "held = \"mem.electrical.lowvoltage\"",
            "exemption_rule \"m1/lv/hv\": held: kind \"mem.electrical.lowvoltage\" is not defined",
        ),
        (
            "target = \"mem.electrical.high-voltage\"",
            "target = \"mohurd.x\"",
            "target = \"mohurd.x\"",
            "exemption_rule \"m1/lv/hv\": target: kind \"mohurd.x\" is not defined",
        ),
        (
            "occupation = \"6-31-01-03\"\nlevel",
            "occupation = \"6-31-01-04\"\nlevel",
            "occupation = \"6-31-01-04\"",
            "deemed_level_rule \"m2/lv/elec\": occupation \"6-31-01-04\" is not defined",
        ),
        (
            "level = \"5\"\nheld_status",
            "level = \"principal\"\nheld_status",
            "level = \"principal\"",
            "deemed_level_rule \"m2/lv/elec\": level principal is not one of occupation 6-31-01-03's levels",
        ),
        (
            "region = \"44\"",
            "region = \"99\"",
            "region = \"99\"",
            "exception \"x/44/lv-hv\": region \"99\" is not defined",
        ),
        (
            "rule = \"m1/lv/hv\"",
            "rule = \"m1/lv/mv\"",
            "rule = \"m1/lv/mv\"",
            "exception \"x/44/lv-hv\": rule \"m1/lv/mv\" is not defined",
        ),
        (
            "held = [\"mem.electrical.low-voltage\"]",
            "held = [\"mem.x\"]",
            "held = [\"mem.x\"]",
            "open_question \"q/lv\": held: kind \"mem.x\" is not defined",
        ),
    ];
    for (from, to, line, expected) in cases {
        assert!(RULES.contains(from), "{from}");
        let text = RULES.replacen(from, to, 1);
        let errs = load_rules(&text).unwrap_err();
        let want = format!("rules.toml:{}: {expected}", line_in(&text, line));
        assert!(
            errs.0.iter().any(|e| e.to_string() == want),
            "expected {want:?} in:\n{errs}"
        );
    }
}

#[test]
fn recognition_entries_need_sources_valid_periods_and_statuses_in_force() {
    let text = RULES.replace("source = \"notice, row 1\"\n", "").replace(
        "held_status = [\"valid\"]",
        "held_status = [\"valid\", \"expired\"]\neffective_until = 2025-12-31",
    );
    let all = load_rules(&text).unwrap_err().to_string();
    for expected in [
        "exemption_rule \"m1/lv/hv\": has no source",
        "deemed_level_rule \"m2/lv/elec\": held_status \"expired\": only a certificate in force (valid, review-due) can ground an entitlement",
        "deemed_level_rule \"m2/lv/elec\": effective_until 2025-12-31 is before effective_from 2026-01-16",
    ] {
        assert!(all.contains(expected), "{expected:?} missing from:\n{all}");
    }
}

#[test]
fn recognition_ids_share_one_namespace() {
    let text = RULES
        .replace("id = \"m2/lv/elec\"", "id = \"m1/lv/hv\"")
        .replace("id = \"x/44/lv-hv\"", "id = \"m1/lv/hv\"");
    let errs = load_rules(&text).unwrap_err();
    let first = line_in(&text, "[[exemption_rule]]");
    let dups: Vec<String> = errs.0.iter().map(|e| e.to_string()).collect();
    assert_eq!(dups.len(), 2, "{errs}");
    for d in &dups {
        assert!(
            d.ends_with(&format!(
                "rule \"m1/lv/hv\" is defined twice; first at rules.toml:{first}"
            )),
            "{d}"
        );
    }
}

#[test]
fn contradicting_rules_are_rejected_unless_region_or_period_keeps_them_apart() {
    let other = r#"
[[exemption_rule]]
id = "m1/lv/hv/again"
held = "mem.electrical.low-voltage"
target = "mem.electrical.high-voltage"
exemptions = ["safety-training"]
effective_from = 2027-01-01
source = "another notice"
"#;
    let text = format!("{RULES}{other}");
    let errs = load_rules(&text).unwrap_err();
    assert_eq!(errs.0.len(), 1, "{errs}");
    let first = line_in(&text, "[[exemption_rule]]");
    assert_eq!(
        errs.0[0].to_string(),
        format!(
            "rules.toml:{}: exemption_rule \"m1/lv/hv/again\": contradicts exemption_rule \"m1/lv/hv\" (rules.toml:{first}): same held and target kinds, overlapping region and period, but exemptions [safety-training] against [safety-training, theory-exam]",
            text.lines().count() - 6
        )
    );
    // The first rule ends before the second begins: no overlap.
    let ended = text.replacen(
        "effective_from = 2026-01-16\nsource = \"notice, row 1\"",
        "effective_from = 2026-01-16\neffective_until = 2026-12-31\nsource = \"notice, row 1\"",
        1,
    );
    load_rules(&ended).unwrap_or_else(|e| panic!("{e}"));
    // Two regions never overlap; a national rule overlaps every region.
    let regional = text.replace(
        "source = \"another notice\"",
        "source = \"another notice\"\nregion = \"44\"",
    );
    assert!(
        load_rules(&regional)
            .unwrap_err()
            .to_string()
            .contains("contradicts")
    );

    let deemed = r#"
[[deemed_level_rule]]
id = "m2/lv/elec/4"
held = "mem.electrical.low-voltage"
occupation = "6-31-01-03"
level = "4"
effective_from = 2026-06-01
source = "another notice"
"#;
    let all = load_rules(&format!("{RULES}{deemed}"))
        .unwrap_err()
        .to_string();
    assert!(
        all.contains(
            "deemed_level_rule \"m2/lv/elec/4\": contradicts deemed_level_rule \"m2/lv/elec\""
        ),
        "{all}"
    );
}

#[test]
fn exceptions_must_fit_their_rule() {
    let cases = [
        (
            "exemptions = [\"safety-training\"]\neffective_from = 2026-03-01",
            "exemptions = [\"safety-training\", \"theory-exam\"]\neffective_from = 2026-03-01",
            "exemptions [safety-training, theory-exam] must be a strict part of rule \"m1/lv/hv\"'s [safety-training, theory-exam]",
        ),
        (
            "action = \"narrow\"\nexemptions = [\"safety-training\"]\n",
            "action = \"narrow\"\n",
            "action = \"narrow\" needs exemptions",
        ),
        (
            "action = \"narrow\"",
            "action = \"remove\"",
            "action \"remove\" is not \"disable\" or \"narrow\"",
        ),
        (
            "action = \"narrow\"",
            "action = \"disable\"",
            "exemptions are only for action = \"narrow\"",
        ),
        (
            "rule = \"m1/lv/hv\"",
            "rule = \"m2/lv/elec\"",
            "a deemed_level_rule grants no exemptions to narrow",
        ),
        (
            "region = \"44\"\naction",
            "action",
            "names neither a region nor a department",
        ),
        (
            "effective_from = 2026-03-01",
            "effective_from = 2020-01-01\neffective_until = 2020-12-31",
            "is never in force while rule \"m1/lv/hv\" is",
        ),
    ];
    for (from, to, expected) in cases {
        assert!(RULES.contains(from), "{from}");
        let text = RULES.replacen(from, to, 1);
        let all = load_rules(&text).unwrap_err().to_string();
        assert!(
            all.contains(&format!("exception \"x/44/lv-hv\": {expected}")),
            "{expected:?} missing from:\n{all}"
        );
    }
    // A department's national exception needs no region.
    let national = RULES.replacen("region = \"44\"\naction", "department = \"mem\"\naction", 1);
    let p = load_rules(&national).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.exceptions[0].region, None);
}

/// MINI plus a construction department, its directory entry and `kinds`.
fn with_mohurd(kinds: &str) -> Result<Policy, PolicyErrors> {
    load(&[("policy/kinds.toml", &mohurd_text(kinds))])
}

/// The text [`with_mohurd`] loads.
fn mohurd_text(kinds: &str) -> String {
    format!(
        r#"{MINI}
[[department]]
id = "mohurd"
name_zh = "住房城乡建设部"
name_en = "Ministry of Housing and Urban-Rural Development"
source = "test: the department's own publication"

[[qualification]]
id = "construction-special-operations"
name_zh = "建筑施工特种作业人员"
personnel = "skilled"
category = "licensing"
departments = ["mohurd"]
source = "国家职业资格目录（2021年版）"
{kinds}"#
    )
}

fn mohurd_kind(item: &str, codes: &[&str]) -> String {
    let mut t = format!(
        r#"
[[kind]]
id = "mohurd.construction.{item}"
department = "mohurd"
certificate_zh = "建筑施工特种作业操作资格证书"
certificate_en = "Construction Special Operation Qualification Certificate"
name_zh = "{item}"
name_en = "{item}"
qualification = "construction-special-operations"
number_scheme = "mohurd-provincial"
lifecycle = "mem-special-operation"
source = "建质〔2008〕75号"
"#
    );
    for c in codes {
        t.push_str(&format!(
            "\n[[kind.scheme_codes]]\ncode = \"{c}\"\nsource = \"code table\"\n"
        ));
    }
    t
}

#[test]
fn a_kind_carries_several_codes_and_a_code_names_one_kind() {
    let p = with_mohurd(&mohurd_kind("crane-operator", &["07", "05", "06"])).unwrap();
    let k = p.kind("mohurd.construction.crane-operator").unwrap();
    let codes: Vec<&str> = k.scheme_codes.iter().map(|c| c.code.as_str()).collect();
    assert_eq!(codes, ["05", "06", "07"]);
    let read = p.read_number("晋a062020000001");
    assert_eq!(read.len(), 1);
    assert_eq!(read[0].code.map(|c| c.code.as_str()), Some("06"));

    let both = format!(
        "{}{}",
        mohurd_kind("crane-operator", &["05", "06", "07"]),
        mohurd_kind("welder", &["07"])
    );
    let errs = with_mohurd(&both).unwrap_err();
    assert_eq!(errs.0.len(), 1, "{errs}");
    assert!(
        errs.0[0]
            .to_string()
            .contains("kind \"mohurd.construction.welder\": work-type code 07 is already kind \"mohurd.construction.crane-operator\"'s"),
        "{errs}"
    );
}

#[test]
fn scheme_codes_are_checked() {
    let errs = with_mohurd(&mohurd_kind("electrician", &[])).unwrap_err();
    assert!(
        errs.to_string()
            .contains("needs its two-digit work-type codes"),
        "{errs}"
    );
    let errs = with_mohurd(&mohurd_kind("electrician", &["1"])).unwrap_err();
    assert!(
        errs.to_string().contains("\"1\" is not two digits"),
        "{errs}"
    );
    let errs = with_mohurd(&mohurd_kind("electrician", &["01", "01"])).unwrap_err();
    assert!(errs.to_string().contains("listed twice"), "{errs}");
    let legacy = mohurd_kind("electrician", &[]).replace(
        "number_scheme = \"mohurd-provincial\"\n",
        "number_scheme = \"mohurd-provincial\"\nscheme_code = \"01\"\n",
    );
    let p = with_mohurd(&legacy).unwrap();
    assert_eq!(p.read_number("晋A012020000001").len(), 1);
    let errs = with_mohurd(&format!(
        "{legacy}\n[[kind.scheme_codes]]\ncode = \"02\"\nsource = \"t\"\n"
    ))
    .unwrap_err();
    assert!(errs.to_string().contains("not both"), "{errs}");
    let on_mem = MINI.replace(
        "number_scheme = \"mem-t-id\"\n",
        "number_scheme = \"mem-t-id\"\nscheme_code = \"01\"\n",
    );
    let errs = load(&[("k.toml", &on_mem)]).unwrap_err();
    assert!(
        errs.to_string()
            .contains("the mem-t-id number scheme has no codes"),
        "{errs}"
    );
}

#[test]
fn notes_need_both_languages_and_a_source_and_reach_the_kinds_of_their_lifecycle() {
    let note = "\n[[lifecycle.notes]]\nid = \"mem.away\"\ntext_zh = \"离岗\"\ntext_en = \"away\"\nsource = \"令第30号 第三十二条\"\nprovisional = true\n";
    let text = MINI.replace(
        "review_window = \"P60D\"\nsource = \"特种作业人员安全技术培训考核管理规定\"\n",
        &format!(
            "review_window = \"P60D\"\nsource = \"特种作业人员安全技术培训考核管理规定\"\n{note}"
        ),
    );
    let p = load(&[("k.toml", &text)]).unwrap();
    let notes = p.notes_of("mem.electrical.low-voltage");
    assert_eq!(notes.len(), 1);
    assert_eq!(
        (notes[0].id.as_str(), notes[0].provisional),
        ("mem.away", true)
    );
    assert!(p.notes_of("mohrss.skill-level").is_empty());
    assert!(p.notes_of("no.such.kind").is_empty());

    let bad = text.replace("text_en = \"away\"", "text_en = \" \"");
    let errs = load(&[("k.toml", &bad)]).unwrap_err();
    assert!(
        errs.to_string()
            .contains("note \"mem.away\": text_zh and text_en"),
        "{errs}"
    );
    let bad = text.replace("source = \"令第30号 第三十二条\"\n", "");
    let errs = load(&[("k.toml", &bad)]).unwrap_err();
    assert!(errs.to_string().contains("has no source"), "{errs}");
}

#[test]
fn status_reasons_are_checked_against_identifiers_md() {
    let good = r#"
[[status_reason]]
id = "withdrawn"
status = "revoked"
name_zh = "吊销"
name_en = "withdrawn"
national_code = "03"
basis_zh = "处罚"
basis_en = "a penalty"
source = "test: the code table"
"#;
    let p = load(&[("mini.toml", MINI), ("reasons.toml", good)]).unwrap();
    let r = p.status_reason("withdrawn").unwrap();
    assert_eq!(
        (r.national_code.as_str(), r.status.as_str()),
        ("03", "revoked")
    );
    let bad = good
        .replace("id = \"withdrawn\"", "id = \"lost\"")
        .replace("national_code = \"03\"", "national_code = \"7\"");
    let e = load(&[("mini.toml", MINI), ("reasons.toml", &bad)])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("reasons.toml:2: status_reason \"lost\": not a status reason"),
        "{e}"
    );
    assert!(e.contains("national_code"), "{e}");
    let wrong = good.replace("status = \"revoked\"", "status = \"suspended\"");
    let e = load(&[("mini.toml", MINI), ("reasons.toml", &wrong)])
        .unwrap_err()
        .to_string();
    assert!(e.contains("goes with the status revoked"), "{e}");
    // The shipped folder has every reason of IDENTIFIERS.md.
    let shipped =
        Policy::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy"))
            .unwrap();
    for id in [
        "held",
        "withdrawn",
        "annulled",
        "cancelled",
        "issued-in-error",
        "past-validity",
        "review-missed",
    ] {
        assert!(shipped.status_reason(id).is_some(), "{id}");
    }
}

/// `kind` with a `licence_type_code` line after its number scheme.
fn with_licence_type_code(kind: &str, code: &str) -> String {
    kind.replacen(
        "number_scheme = \"mohurd-provincial\"\n",
        &format!("number_scheme = \"mohurd-provincial\"\nlicence_type_code = \"{code}\"\n"),
        1,
    )
}

#[test]
fn a_licence_type_code_is_checked_when_the_policy_loads() {
    let kind = with_licence_type_code(
        &mohurd_kind("electrician", &["01"]),
        "11100000000013338W032",
    );
    let p = with_mohurd(&kind).unwrap();
    let code = p
        .kind("mohurd.construction.electrician")
        .unwrap()
        .licence_type_code
        .as_ref()
        .unwrap();
    assert_eq!(code.to_string(), "11100000000013338W032");
    assert_eq!(code.definer().as_str(), "11100000000013338W");
    // A kind without one has none.
    assert_eq!(
        p.kind("mem.electrical.low-voltage")
            .unwrap()
            .licence_type_code,
        None
    );

    // A wrong code is named with its file, line, kind and what is wrong with it.
    for (bad, why) in [
        (
            "11100000000013338X032",
            "check character (GB 32100) is X, but its first 17 characters give W",
        ),
        ("11100000000013338W32", "has 20"),
        ("11100000000013338WABC", "3-digit sequence"),
        ("", "has 0"),
    ] {
        let kind = with_licence_type_code(&mohurd_kind("electrician", &["01"]), bad);
        let errs = with_mohurd(&kind).unwrap_err();
        assert_eq!(errs.0.len(), 1, "{errs}");
        let e = &errs.0[0];
        assert_eq!(
            e.line,
            line_in(
                &mohurd_text(&kind),
                &format!("licence_type_code = \"{bad}\"")
            )
        );
        let msg = e.to_string();
        assert!(
            msg.starts_with("policy/kinds.toml:")
                && msg.contains(&format!(
                    "kind \"mohurd.construction.electrician\": licence_type_code \"{bad}\": "
                ))
                && msg.contains(why),
            "{msg}"
        );
    }
}

#[test]
fn a_licence_type_code_names_one_certificate() {
    // Two kinds of one certificate share it.
    let both = format!(
        "{}{}",
        with_licence_type_code(
            &mohurd_kind("electrician", &["01"]),
            "11100000000013338W032"
        ),
        with_licence_type_code(&mohurd_kind("scaffolder", &["02"]), "11100000000013338W032"),
    );
    let p = with_mohurd(&both).unwrap();
    assert_eq!(
        p.kind("mohurd.construction.scaffolder")
            .unwrap()
            .licence_type_code,
        p.kind("mohurd.construction.electrician")
            .unwrap()
            .licence_type_code
    );
    // A kind of another certificate may not carry it.
    let text = mohurd_text(&with_licence_type_code(
        &mohurd_kind("electrician", &["01"]),
        "11100000000013338W032",
    ))
    .replacen(
        "number_scheme = \"mem-t-id\"\n",
        "number_scheme = \"mem-t-id\"\nlicence_type_code = \"11100000000013338W032\"\n",
        1,
    );
    let errs = load(&[("policy/kinds.toml", &text)]).unwrap_err();
    let msg = errs.to_string();
    assert!(
        msg.contains("licence_type_code 11100000000013338W032 is already kind"),
        "{msg}"
    );
    assert!(msg.contains("names one certificate"), "{msg}");
}

/// The shipped policy gives the one confirmed licence type code, MOHURD's 032, to every mohurd
/// kind, and none to the kinds whose code no source confirms.
#[test]
fn the_shipped_policy_gives_only_the_confirmed_licence_type_code() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
    let p = Policy::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    let mut mohurd = 0;
    for k in p.kinds.values() {
        let code = k.licence_type_code.as_ref().map(|c| c.to_string());
        if k.department == "mohurd" {
            assert_eq!(code.as_deref(), Some("11100000000013338W032"), "{}", k.id);
            mohurd += 1;
        } else {
            assert_eq!(
                code, None,
                "{}: no source confirms its licence type code",
                k.id
            );
        }
    }
    assert_eq!(mohurd, 7);
}
