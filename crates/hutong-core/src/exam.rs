//! Exam sessions (一试多证): one exam whose pass yields several certificates.
//!
//! A session names the occupation and level examined, the day, the evaluation site and the
//! province, the certificates a pass yields (each of a kind, by an issuer that has the right to
//! issue it on the exam day; outputs of two issuers make a joint evaluation, 联合评价, which
//! every issuer must have agreed to), and the pass marks of the theory and practical parts.
//!
//! A candidate passes an output when every part is passed or waived: a part is waived for an
//! output when the recognition engine, on the exam day and from the candidate's registered
//! certificates, grants the exemption from it when applying for that output's kind (only the
//! theory exam can be: the practical is never exempted). The decision is pure: the caller gives
//! the registered certificates and stores what it decides (`hutong exam results`), all of a
//! session's certificates in one transaction.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use crate::certificate::Certificate;
use crate::date::Day;
use crate::holder::names_match;
use crate::idcard::ResidentId;
use crate::ids::{Exemption, Level};
use crate::issuer::Issuer;
use crate::number::{NumberScheme, mask_id_numbers};
use crate::policy::Policy;
use crate::recognition::{CheckAnswer, RegisteredRequest, department_check};

/// A session as its organisers declare it (a TOML or JSON file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Session {
    /// The organisers' id of the session: letters, digits, `.`, `-`, `_`.
    pub id: String,
    /// The occupation examined (national directory code), for skill level outputs.
    #[serde(default)]
    pub occupation: Option<String>,
    /// The level examined, for skill level outputs (`5` … `1`).
    #[serde(default)]
    pub level: Option<Level>,
    /// The exam day.
    #[serde(deserialize_with = "crate::date::day_serde::deserialize")]
    pub date: Day,
    /// The evaluation site's 6-digit code (numbers skill level certificates).
    pub site: String,
    /// The province (GB/T 2260 code).
    pub region: String,
    /// The pass mark of the theory part (0 to 100).
    pub theory_pass: u32,
    /// The pass mark of the practical part (0 to 100).
    pub practical_pass: u32,
    /// For a joint evaluation: every issuer of an output, having agreed.
    #[serde(default)]
    pub agreed_by: Vec<String>,
    /// What a pass yields.
    #[serde(rename = "output")]
    pub outputs: Vec<Output>,
}

/// One certificate a pass yields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Output {
    pub kind: String,
    pub issuer: String,
}

impl Session {
    /// Reads a session file, TOML or JSON by its first character.
    pub fn parse(text: &str) -> Result<Session, String> {
        if text.trim_start().starts_with('{') {
            serde_json::from_str(text).map_err(|e| e.to_string())
        } else {
            toml::from_str(text).map_err(|e| e.to_string())
        }
    }

    /// Whether the session may issue what it declares: each problem, naming its field. `issuer`
    /// finds an issuer record; `today` is the day results are imported (and certificates
    /// issued), on which the rights must hold too.
    pub fn check<'i>(
        &self,
        policy: &Policy,
        issuer: impl Fn(&str) -> Option<&'i Issuer>,
        today: Day,
    ) -> Vec<String> {
        let mut out = Vec::new();
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 64
            && self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !id_ok {
            out.push("id: 1 to 64 letters, digits, '.', '-' or '_'".to_string());
        }
        if self.date > today {
            out.push(format!(
                "date: {} is after today ({today}): results come after the exam",
                self.date
            ));
        }
        if self.site.len() != 6 || !self.site.bytes().all(|b| b.is_ascii_digit()) {
            out.push(format!(
                "site: \"{}\" is not a 6-digit site code",
                self.site
            ));
        }
        if policy.region(&self.region).is_none() {
            out.push(format!(
                "region: \"{}\" is not a province code of the policy",
                self.region
            ));
        }
        for (name, mark) in [
            ("theory_pass", self.theory_pass),
            ("practical_pass", self.practical_pass),
        ] {
            if mark > 100 {
                out.push(format!("{name}: {mark} is above 100"));
            }
        }
        if let Some(o) = &self.occupation
            && policy.occupation(o).is_none()
        {
            out.push(format!(
                "occupation: \"{o}\" is not in the national directory of the policy"
            ));
        }
        if self.outputs.is_empty() {
            out.push("output: a session yields at least one certificate".to_string());
        }
        let mut seen = HashSet::new();
        for (i, o) in self.outputs.iter().enumerate() {
            let at = format!("output[{}]", i + 1);
            if !seen.insert(o.kind.as_str()) {
                out.push(format!("{at}.kind: \"{}\" is yielded twice", o.kind));
            }
            let Some(kind) = policy.kind(&o.kind) else {
                out.push(format!(
                    "{at}.kind: \"{}\" is not a certificate kind of the policy",
                    o.kind
                ));
                continue;
            };
            let Some(record) = issuer(&o.issuer) else {
                out.push(format!(
                    "{at}.issuer: \"{}\" is not a registered issuer",
                    o.issuer
                ));
                continue;
            };
            let (occupation, level) = if kind.skill_level {
                if self.occupation.is_none() || self.level.is_none() {
                    out.push(format!(
                        "{at}: a skill level certificate needs the session's occupation and level"
                    ));
                    continue;
                }
                (self.occupation.as_deref(), self.level)
            } else {
                (None, None)
            };
            for day in [self.date, today] {
                if let Err(why) = record.may_issue(&o.kind, occupation, level, day) {
                    out.push(format!("{at}.issuer: on {day}: {why}"));
                }
            }
            match kind.number_scheme {
                NumberScheme::MemTId | NumberScheme::ResidentId => {}
                NumberScheme::SkillLevel22 => {
                    if record.institution_type.is_none()
                        || record.institution_code.is_none()
                        || record.region.is_none()
                    {
                        out.push(format!(
                            "{at}.issuer: only a registered institution with a type, code and region numbers skill level certificates"
                        ));
                    }
                }
                other => out.push(format!(
                    "{at}.kind: numbers of the {} scheme are assigned by the department, not by a session",
                    other.id()
                )),
            }
        }
        let issuers: BTreeSet<&str> = self.outputs.iter().map(|o| o.issuer.as_str()).collect();
        if issuers.len() > 1 {
            for i in &issuers {
                if !self.agreed_by.iter().any(|a| a == i) {
                    out.push(format!(
                        "agreed_by: a joint evaluation needs every issuer's agreement, and \"{i}\" is not listed"
                    ));
                }
            }
        }
        for a in &self.agreed_by {
            if !issuers.contains(a.as_str()) {
                out.push(format!(
                    "agreed_by: \"{a}\" issues none of the session's certificates"
                ));
            }
        }
        out
    }

    /// The prefix of a skill level number this session gives ([`crate::number::skill_level_prefix`]
    /// at its site and level).
    pub fn skill_level_prefix(&self, issuer: &Issuer, issued_on: Day) -> Option<String> {
        crate::number::skill_level_prefix(issuer, &self.site, issued_on, self.level?)
    }
}

/// One candidate's row of a results file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The line of the results file.
    pub line: usize,
    pub id: ResidentId,
    pub name: String,
    pub theory: Option<u32>,
    pub practical: Option<u32>,
}

impl Candidate {
    /// The candidate as reports show them: the name, and the ID number masked.
    pub fn shown_id(&self) -> String {
        mask_id_numbers(self.id.as_str()).into_owned()
    }
}

/// A results row as read (CSV or NDJSON): every value a string, checked by [`Candidate::read`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultRow {
    #[serde(default)]
    pub holder_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub theory: String,
    #[serde(default)]
    pub practical: String,
}

/// The columns of a results file.
pub const RESULT_COLUMNS: [&str; 4] = ["holder_id", "name", "theory", "practical"];

impl Candidate {
    /// Checks one row; errors name the field (and never repeat an ID number).
    pub fn read(line: usize, row: &ResultRow) -> Result<Candidate, Vec<String>> {
        let mut errs = Vec::new();
        let id = match ResidentId::parse(row.holder_id.trim()) {
            Ok(id) => Some(id),
            Err(e) => {
                errs.push(format!("holder_id: {e}"));
                None
            }
        };
        let name = row.name.trim();
        if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
            errs.push("name: 1 to 60 characters with no control character".to_string());
        }
        let mut score = |field: &str, v: &str| -> Option<u32> {
            let v = v.trim();
            if v.is_empty() {
                return None;
            }
            match v.parse::<u32>() {
                Ok(s) if s <= 100 => Some(s),
                _ => {
                    errs.push(format!(
                        "{field}: \"{}\" is not a score from 0 to 100 (or empty when not sat)",
                        mask_id_numbers(v)
                    ));
                    None
                }
            }
        };
        let theory = score("theory", &row.theory);
        let practical = score("practical", &row.practical);
        match id {
            Some(id) if errs.is_empty() => Ok(Candidate {
                line,
                id,
                name: name.to_string(),
                theory,
                practical,
            }),
            _ => Err(errs),
        }
    }
}

/// How one part went for one output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Part {
    Passed {
        score: u32,
    },
    Failed {
        score: u32,
        pass: u32,
    },
    /// No score, and no exemption.
    NotSat,
    /// Waived by an exemption: the rules that grant it, and the registered certificates behind
    /// them (as answers show them).
    Waived {
        rules: Vec<String>,
        held: Vec<String>,
    },
}

impl Part {
    fn ok(&self) -> bool {
        matches!(self, Part::Passed { .. } | Part::Waived { .. })
    }
}

/// An exemption the candidate's registered certificates earn when applying for an output's
/// kind, on the exam day: the rules that grant it and the certificates behind them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exempted {
    /// `safety-training` or `theory-exam`.
    pub exemption: &'static str,
    pub rules: Vec<String>,
    pub held: Vec<String>,
}

/// What a candidate gets of one output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputOutcome {
    pub kind: String,
    pub issuer: String,
    pub passed: bool,
    pub theory: Part,
    pub practical: Part,
    /// Every exemption earned for this output (a theory-exam one waives the theory part).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exempted: Vec<Exempted>,
    /// The number issued, as public answers show it; set when stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
}

/// What a candidate gets of the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CandidateOutcome {
    pub line: usize,
    /// The name as given (the report goes to the organisers, who gave it).
    pub name: String,
    /// The ID number masked.
    pub id: String,
    /// How many registered certificates the exemptions were judged from.
    pub registered: usize,
    pub outputs: Vec<OutputOutcome>,
}

/// Decides one candidate's outputs. `registered` are the certificates registered under the
/// candidate's keyed ID number (those whose name does not match are left out, as the one-stop
/// query leaves them).
pub fn decide(
    policy: &Policy,
    session: &Session,
    candidate: &Candidate,
    registered: &[Certificate],
    today: Day,
) -> CandidateOutcome {
    let mine: Vec<&Certificate> = registered
        .iter()
        .filter(|c| names_match(&c.holder_name, &candidate.name))
        .collect();
    let mut outputs = Vec::with_capacity(session.outputs.len());
    for o in &session.outputs {
        let exempted = exemptions(policy, session, candidate, &mine, &o.kind, today);
        let waiver = exempted
            .iter()
            .find(|e| e.exemption == Exemption::TheoryExam.id());
        let theory = match (waiver, candidate.theory) {
            (Some(w), _) => Part::Waived {
                rules: w.rules.clone(),
                held: w.held.clone(),
            },
            (None, Some(score)) if score >= session.theory_pass => Part::Passed { score },
            (None, Some(score)) => Part::Failed {
                score,
                pass: session.theory_pass,
            },
            (None, None) => Part::NotSat,
        };
        let practical = match candidate.practical {
            Some(score) if score >= session.practical_pass => Part::Passed { score },
            Some(score) => Part::Failed {
                score,
                pass: session.practical_pass,
            },
            None => Part::NotSat,
        };
        outputs.push(OutputOutcome {
            kind: o.kind.clone(),
            issuer: o.issuer.clone(),
            passed: theory.ok() && practical.ok(),
            theory,
            practical,
            exempted,
            number: None,
        });
    }
    CandidateOutcome {
        line: candidate.line,
        name: candidate.name.clone(),
        id: candidate.shown_id(),
        registered: mine.len(),
        outputs,
    }
}

/// The exemptions the candidate's registered certificates earn when applying for `kind` on the
/// exam day, each with its rules and the certificates behind them.
fn exemptions(
    policy: &Policy,
    session: &Session,
    candidate: &Candidate,
    registered: &[&Certificate],
    kind: &str,
    today: Day,
) -> Vec<Exempted> {
    if registered.is_empty() {
        return Vec::new();
    }
    let mut m = serde_json::Map::new();
    m.insert("id".into(), candidate.id.as_str().into());
    m.insert("name".into(), candidate.name.as_str().into());
    m.insert("target".into(), kind.into());
    m.insert("as_of".into(), session.date.to_string().into());
    m.insert("region".into(), session.region.as_str().into());
    let Ok(request) = RegisteredRequest::from_map(policy, m, true) else {
        return Vec::new();
    };
    let with = request.with_certificates(policy, registered.iter().copied(), today);
    let Ok(CheckAnswer::Found(check)) = department_check(policy, &with, today) else {
        return Vec::new();
    };
    check
        .exemptions
        .iter()
        .map(|e| {
            let grounds: Vec<_> = check
                .grounds
                .iter()
                .filter(|g| g.exemptions.contains(e))
                .collect();
            Exempted {
                exemption: e.id(),
                rules: grounds.iter().map(|g| g.rule.to_string()).collect(),
                held: grounds
                    .iter()
                    .map(|g| match &g.number {
                        Some(n) => format!("{} {n}", g.held),
                        None => g.held.to_string(),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// The largest results file read, in bytes.
pub const MAX_RESULTS_BYTES: usize = 32 << 20;

/// Reads a whole results file (CSV with a header of [`RESULT_COLUMNS`], `holder_id` and `name`
/// required, or NDJSON with those keys; UTF-8, a byte order mark allowed). An exam's results are
/// one decision: any bad row rejects the file, and every problem is given as (line, message),
/// the message naming the field and never repeating an ID number.
pub fn read_results(
    format: crate::rows::Format,
    bytes: &[u8],
) -> Result<Vec<Candidate>, Vec<(u64, String)>> {
    if bytes.len() > MAX_RESULTS_BYTES {
        return Err(vec![(
            0,
            format!("the file is larger than the limit of {MAX_RESULTS_BYTES} bytes"),
        )]);
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        let good = std::str::from_utf8(bytes)
            .map_err(|e| e.valid_up_to())
            .unwrap_err();
        let line = bytes[..good].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        return Err(vec![(line, "is not UTF-8".to_string())]);
    };
    let mut rows: Vec<(u64, Result<ResultRow, String>)> = Vec::new();
    match format {
        crate::rows::Format::Ndjson => {
            for (i, l) in text.lines().enumerate() {
                if l.trim().is_empty() {
                    continue;
                }
                let line = i as u64 + 1;
                if l.len() > crate::rows::MAX_ROW_BYTES {
                    rows.push((
                        line,
                        Err(format!(
                            "the row is longer than {} bytes",
                            crate::rows::MAX_ROW_BYTES
                        )),
                    ));
                    continue;
                }
                rows.push((
                    line,
                    serde_json::from_str::<ResultRow>(l).map_err(|e| {
                        format!("not a results row: {}", mask_id_numbers(&e.to_string()))
                    }),
                ));
            }
        }
        crate::rows::Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(true)
                .from_reader(text.as_bytes());
            let header = match reader.headers() {
                Ok(h) => h.clone(),
                Err(e) => return Err(vec![(1, format!("the header does not read: {e}"))]),
            };
            let mut seen = HashSet::new();
            let mut problems = Vec::new();
            for h in header.iter() {
                if !RESULT_COLUMNS.contains(&h) {
                    problems.push((
                        1,
                        format!(
                            "column \"{}\" is not one of {}",
                            mask_id_numbers(h),
                            RESULT_COLUMNS.join(", ")
                        ),
                    ));
                } else if !seen.insert(h) {
                    problems.push((1, format!("column \"{h}\" is given twice")));
                }
            }
            for required in ["holder_id", "name"] {
                if !seen.contains(required) {
                    problems.push((1, format!("column \"{required}\" is missing")));
                }
            }
            if !problems.is_empty() {
                return Err(problems);
            }
            for record in reader.records() {
                match record {
                    Ok(r) => {
                        let line = r.position().map_or(0, |p| p.line());
                        let mut row = ResultRow::default();
                        for (h, v) in header.iter().zip(r.iter()) {
                            let v = v.to_string();
                            match h {
                                "holder_id" => row.holder_id = v,
                                "name" => row.name = v,
                                "theory" => row.theory = v,
                                _ => row.practical = v,
                            }
                        }
                        rows.push((line, Ok(row)));
                    }
                    Err(e) => {
                        let line = e.position().map_or(0, |p| p.line());
                        rows.push((
                            line,
                            Err(format!(
                                "the row does not read: {}",
                                mask_id_numbers(&e.to_string())
                            )),
                        ));
                    }
                }
            }
        }
    }
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    let mut ids: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for (line, row) in rows {
        match row
            .map_err(|e| vec![e])
            .and_then(|r| Candidate::read(line as usize, &r))
        {
            Ok(c) => {
                if let Some(first) = ids.insert(c.id.as_str().to_string(), line) {
                    problems.push((
                        line,
                        format!("holder_id: the candidate of line {first} again"),
                    ));
                }
                out.push(c);
            }
            Err(errs) => problems.extend(errs.into_iter().map(|e| (line, e))),
        }
    }
    if out.is_empty() && problems.is_empty() {
        problems.push((0, "the file holds no candidate".to_string()));
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy"))
            .expect("the shipped policy loads")
    }

    fn issuers() -> Vec<Issuer> {
        #[derive(Deserialize)]
        struct File {
            issuer: Vec<Issuer>,
        }
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/issuers.toml");
        let file: File = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        file.issuer
    }

    fn session() -> Session {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/exam-session.toml");
        Session::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn problems(s: &Session) -> Vec<String> {
        let p = policy();
        let all = issuers();
        s.check(
            &p,
            |id| all.iter().find(|i| i.id == id),
            "2026-12-01".parse().unwrap(),
        )
    }

    #[test]
    fn a_joint_session_needs_every_issuers_agreement_and_their_rights() {
        assert_eq!(problems(&session()), Vec::<String>::new());
        let mut s = session();
        s.agreed_by.pop();
        let p = problems(&s);
        assert!(
            p.iter()
                .any(|p| p.contains("agreed_by") && p.contains("inst.s0000-44-000123")),
            "{p:?}"
        );
        // Level 2 is outside the institution's grant.
        let mut s = session();
        s.level = Some(Level::L2);
        let p = problems(&s);
        assert!(
            p.iter()
                .any(|p| p.starts_with("output[2].issuer: on 2026-11-20")),
            "{p:?}"
        );
        // A kind the department numbers itself cannot come out of a session.
        let mut s = session();
        s.outputs.push(Output {
            kind: "mohurd.construction.electrician".into(),
            issuer: "mohurd.14".into(),
        });
        s.agreed_by.push("mohurd.14".into());
        let p = problems(&s);
        assert!(
            p.iter()
                .any(|p| p.starts_with("output[3].kind: numbers of the")),
            "{p:?}"
        );
        let mut s = session();
        s.date = "2026-12-02".parse().unwrap();
        s.site = "44".into();
        let p = problems(&s);
        assert!(
            p.iter().any(|p| p.starts_with("date:")) && p.iter().any(|p| p.starts_with("site:")),
            "{p:?}"
        );
    }

    #[test]
    fn a_results_file_is_read_whole_or_refused_with_lines_and_fields() {
        let ok = read_results(
            crate::rows::Format::Csv,
            "\u{feff}holder_id,name,theory,practical\n110101199001011237,王五,75,\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(ok[0].theory, Some(75));
        assert_eq!(ok[0].practical, None);
        let e =
            read_results(crate::rows::Format::Csv, b"holder_id,name,theory,theory\n").unwrap_err();
        assert!(e[0].1.contains("twice"), "{e:?}");
        let e = read_results(
            crate::rows::Format::Ndjson,
            "{\"holder_id\":\"110101199001011237\",\"name\":\"王五\",\"theory\":\"101\"}\n{\"holder_id\":\"110101199001011238\",\"name\":\"x\"}\n{\"id\":\"110101199001011237\"}\n"
                .as_bytes(),
        )
        .unwrap_err();
        assert_eq!(
            e.iter().map(|p| p.0).collect::<Vec<_>>(),
            [1, 2, 3],
            "{e:?}"
        );
        assert!(e[0].1.starts_with("theory:"), "{e:?}");
        assert!(e[1].1.starts_with("holder_id:"), "{e:?}");
        for (_, m) in &e {
            assert_eq!(mask_id_numbers(m), *m, "an ID number in {m}");
        }
    }
}
