//! Turns raw policy files into a [`Policy`], collecting every problem with its file and line.

use std::collections::{BTreeMap, HashMap};

use super::model::*;
use super::raw::*;
use super::{Policy, PolicyError, PolicyErrors, Source, line_of};
use crate::date::Day;
use crate::elicence::LicenceTypeCode;
use crate::ids::{ExemptionSet, Level, Status, is_dotted_id};
use crate::lifecycle::Lifecycle;
use crate::number::NumberScheme;

/// Where an entry sits, for error messages.
struct At<'a> {
    src: &'a Source,
    entry: String,
}

struct Checker {
    errors: Vec<PolicyError>,
    /// Where each id was first defined, by namespace, for duplicate detection.
    defined: HashMap<(&'static str, String), (String, usize)>,
}

impl Checker {
    fn err(&mut self, at: &At<'_>, span: std::ops::Range<usize>, message: impl Into<String>) {
        self.errors.push(PolicyError {
            file: at.src.name.clone(),
            line: line_of(&at.src.text, span.start),
            entry: Some(at.entry.clone()),
            message: message.into(),
        });
    }

    /// Registers an id; reports a duplicate with the place of the first definition.
    fn define(
        &mut self,
        ns: &'static str,
        id: &str,
        at: &At<'_>,
        span: std::ops::Range<usize>,
    ) -> bool {
        let line = line_of(&at.src.text, span.start);
        match self.defined.get(&(ns, id.to_string())) {
            Some((file, first)) => {
                let msg = format!("{ns} \"{id}\" is defined twice; first at {file}:{first}");
                self.err(at, span, msg);
                false
            }
            None => {
                self.defined
                    .insert((ns, id.to_string()), (at.src.name.clone(), line));
                true
            }
        }
    }

    fn source(
        &mut self,
        at: &At<'_>,
        span: std::ops::Range<usize>,
        source: &Option<String>,
    ) -> String {
        match source.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => {
                if let Some(file) = cited_internal_file(s) {
                    self.err(
                        at,
                        span,
                        format!(
                            "source cites \"{file}\", a file readers of the policy cannot open: cite the original document (issuer, date, article, address)"
                        ),
                    );
                }
                s.to_string()
            }
            _ => {
                self.err(at, span, "has no source: every entry names the document and article or row that states it");
                String::new()
            }
        }
    }
}

/// A word of `source` that names a file of a repository or a working folder (`POLICY.md`,
/// `notes/facts.toml`) rather than a published document. Web addresses are fine: a `.html` page
/// or a path after a host is how a published text is found.
pub(super) fn cited_internal_file(source: &str) -> Option<&str> {
    const INTERNAL: &[&str] = &[
        "md", "markdown", "toml", "rs", "txt", "json", "yaml", "yml", "csv", "ndjson",
    ];
    source
        .split(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    ';' | ',' | '(' | ')' | '[' | ']' | '"' | '\'' | '<' | '>' | '`' | '*'
                )
                || !c.is_ascii()
        })
        .filter(|w| !w.contains("://") && !w.starts_with("www."))
        .map(|w| w.trim_end_matches(['.', ':']))
        .find(|w| {
            let Some((stem, ext)) = w.rsplit_once('.') else {
                return false;
            };
            let file_ext = INTERNAL.iter().any(|e| e.eq_ignore_ascii_case(ext));
            // `host.example/path/data.json` is an address; `docs/x.md` and `POLICY.md` are files.
            let on_a_host = w
                .split_once('/')
                .is_some_and(|(first, _)| first.contains('.'));
            !stem.is_empty() && file_ext && !on_a_host
        })
}

pub(super) fn compile(sources: &[Source]) -> Result<Policy, PolicyErrors> {
    let mut ck = Checker {
        errors: Vec::new(),
        defined: HashMap::new(),
    };
    let mut files: Vec<(&Source, RawFile)> = Vec::new();
    for src in sources {
        match toml::from_str::<RawFile>(&src.text) {
            Ok(f) => files.push((src, f)),
            Err(e) => {
                let line = e.span().map(|s| line_of(&src.text, s.start)).unwrap_or(0);
                ck.errors.push(PolicyError {
                    file: src.name.clone(),
                    line,
                    entry: None,
                    message: e.message().trim().to_string(),
                });
            }
        }
    }
    if !ck.errors.is_empty() {
        return Err(PolicyErrors(ck.errors));
    }

    let mut p = Policy {
        departments: BTreeMap::new(),
        regions: BTreeMap::new(),
        qualifications: BTreeMap::new(),
        lifecycles: BTreeMap::new(),
        kinds: BTreeMap::new(),
        occupations: BTreeMap::new(),
        exemption_rules: Vec::new(),
        deemed_level_rules: Vec::new(),
        exceptions: Vec::new(),
        open_questions: Vec::new(),
        status_reasons: BTreeMap::new(),
        digest: String::new(),
        files: sources.iter().map(|s| s.name.clone()).collect(),
    };

    // Pass 1: entries that others refer to.
    let mut lifecycle_notes: BTreeMap<String, Vec<Note>> = BTreeMap::new();
    for (src, f) in &files {
        for d in &f.department {
            let at = At {
                src,
                entry: format!("department \"{}\"", d.get_ref().id),
            };
            let (span, d) = (d.span(), d.get_ref());
            if !is_dotted_id(&d.id) || d.id.contains('.') {
                ck.err(
                    &at,
                    span.clone(),
                    "a department id is lower-case ASCII letters, digits and hyphens",
                );
            }
            let source = ck.source(&at, span.clone(), &d.source);
            if ck.define("department", &d.id, &at, span) {
                p.departments.insert(
                    d.id.clone(),
                    Department {
                        id: d.id.clone(),
                        name_zh: d.name_zh.clone(),
                        name_en: d.name_en.clone(),
                        short_zh: d.short_zh.clone().unwrap_or_else(|| d.name_zh.clone()),
                        source,
                        provisional: d.provisional,
                    },
                );
            }
        }
        for r in &f.region {
            let at = At {
                src,
                entry: format!("region \"{}\"", r.get_ref().code),
            };
            let (span, r) = (r.span(), r.get_ref());
            if r.code.len() != 2 || !r.code.bytes().all(|b| b.is_ascii_digit()) {
                ck.err(
                    &at,
                    span.clone(),
                    "a region code is the two-digit GB/T 2260 province code",
                );
            }
            let mut abbr = r.abbr.chars();
            let abbr_char = match (abbr.next(), abbr.next()) {
                (Some(c), None) => c,
                _ => {
                    ck.err(
                        &at,
                        span.clone(),
                        format!("abbr \"{}\" must be exactly one character", r.abbr),
                    );
                    '?'
                }
            };
            let source = ck.source(&at, span.clone(), &r.source);
            if ck.define("region", &r.code, &at, span) {
                p.regions.insert(
                    r.code.clone(),
                    Region {
                        code: r.code.clone(),
                        name_zh: r.name_zh.clone(),
                        name_en: r.name_en.clone(),
                        abbr: abbr_char,
                        source,
                    },
                );
            }
        }
        for l in &f.lifecycle {
            let at = At {
                src,
                entry: format!("lifecycle \"{}\"", l.get_ref().id),
            };
            let (span, l) = (l.span(), l.get_ref());
            check_lifecycle(&mut ck, &at, span.clone(), l);
            let notes = compile_notes(&mut ck, &at, &l.notes);
            let source = ck.source(&at, span.clone(), &l.source);
            if ck.define("lifecycle", &l.id, &at, span) {
                lifecycle_notes.insert(l.id.clone(), notes);
                p.lifecycles.insert(
                    l.id.clone(),
                    Lifecycle {
                        id: l.id.clone(),
                        expires: l.expires,
                        validity: l.validity,
                        review_interval: l.review_interval,
                        review_window: l.review_window,
                        extended_review_interval: l.extended_review_interval,
                        extended_review_after: l.extended_review_after,
                        renewal_window: l.renewal_window,
                        renewal_deadline: l.renewal_deadline,
                        renewal_extends: l.renewal_extends,
                        source,
                        provisional: l.provisional,
                    },
                );
            }
        }
        for o in &f.occupation {
            let at = At {
                src,
                entry: format!("occupation \"{}\"", o.get_ref().code),
            };
            let (span, o) = (o.span(), o.get_ref());
            if let Some(occ) = compile_occupation(&mut ck, &at, span.clone(), o)
                && ck.define("occupation", &o.code, &at, span)
            {
                p.occupations.insert(o.code.clone(), occ);
            }
        }
    }

    // Pass 2: entries that refer to the above.
    for (src, f) in &files {
        for q in &f.qualification {
            let at = At {
                src,
                entry: format!("qualification \"{}\"", q.get_ref().id),
            };
            let (span, q) = (q.span(), q.get_ref());
            if !is_dotted_id(&q.id) {
                ck.err(
                    &at,
                    span.clone(),
                    "a qualification id is lower-case ASCII letters, digits, hyphens and dots",
                );
            }
            let personnel = match q.personnel.as_str() {
                "professional" => Personnel::Professional,
                "skilled" => Personnel::Skilled,
                other => {
                    ck.err(
                        &at,
                        span.clone(),
                        format!("personnel \"{other}\" is not \"professional\" or \"skilled\""),
                    );
                    Personnel::Skilled
                }
            };
            let category = match q.category.as_str() {
                "licensing" => QualificationCategory::Licensing,
                "level-assessment" => QualificationCategory::LevelAssessment,
                other => {
                    ck.err(
                        &at,
                        span.clone(),
                        format!(
                            "category \"{other}\" is not \"licensing\" or \"level-assessment\""
                        ),
                    );
                    QualificationCategory::Licensing
                }
            };
            if q.departments.get_ref().is_empty() {
                ck.err(
                    &at,
                    q.departments.span(),
                    "names no implementing department",
                );
            }
            for d in q.departments.get_ref() {
                if !p.departments.contains_key(d) {
                    ck.err(
                        &at,
                        q.departments.span(),
                        format!("department \"{d}\" is not defined"),
                    );
                }
            }
            let source = ck.source(&at, span.clone(), &q.source);
            if ck.define("qualification", &q.id, &at, span) {
                p.qualifications.insert(
                    q.id.clone(),
                    Qualification {
                        id: q.id.clone(),
                        name_zh: q.name_zh.clone(),
                        name_en: q.name_en.clone(),
                        personnel,
                        category,
                        departments: q.departments.get_ref().clone(),
                        legal_basis: q.legal_basis.clone(),
                        source,
                        provisional: q.provisional,
                        note: q.note.clone(),
                    },
                );
            }
        }
    }
    // A number's code names one kind: (scheme, code) -> kind id.
    let mut code_owner: HashMap<(NumberScheme, String), String> = HashMap::new();
    // A licence type code names one certificate: code -> (kind id, certificate).
    let mut licence_type_owner: HashMap<String, (String, String)> = HashMap::new();
    for (src, f) in &files {
        for k in &f.kind {
            let at = At {
                src,
                entry: format!("kind \"{}\"", k.get_ref().id),
            };
            let (span, k) = (k.span(), k.get_ref());
            if let Some(kind) = compile_kind(&mut ck, &at, span.clone(), k, &p, &lifecycle_notes)
                && ck.define("kind", &k.id, &at, span.clone())
            {
                for c in &kind.scheme_codes {
                    let key = (kind.number_scheme, c.code.clone());
                    match code_owner.get(&key) {
                        Some(other) => ck.err(
                            &at,
                            span.clone(),
                            format!(
                                "work-type code {} is already kind \"{other}\"'s: a code names one kind, so that a number can be read",
                                c.code
                            ),
                        ),
                        None => {
                            code_owner.insert(key, kind.id.clone());
                        }
                    }
                }
                if let (Some(code), Some(raw)) = (&kind.licence_type_code, &k.licence_type_code) {
                    match licence_type_owner.get(&code.to_string()) {
                        Some((other, certificate)) if *certificate != kind.certificate_zh => ck.err(
                            &at,
                            raw.span(),
                            format!(
                                "licence_type_code {code} is already kind \"{other}\"'s, a {certificate}: a licence type code names one certificate, shared only by kinds of that certificate"
                            ),
                        ),
                        Some(_) => {}
                        None => {
                            licence_type_owner.insert(
                                code.to_string(),
                                (kind.id.clone(), kind.certificate_zh.clone()),
                            );
                        }
                    }
                }
                p.kinds.insert(k.id.clone(), kind);
            }
        }
    }

    // Positions in id order, for comparisons by number instead of by text.
    for (i, k) in p.kinds.values_mut().enumerate() {
        k.index = i;
    }
    for (i, o) in p.occupations.values_mut().enumerate() {
        o.index = i;
    }

    // Pass 3: recognition rules, which refer to kinds, occupations and regions, then the
    // exceptions, which refer to the rules.
    compile_recognition(&mut ck, &files, &mut p);

    // Every table the model needs must be there: a folder that lost a file must not load as a
    // policy without it. The error names the file the table is conventionally in.
    for (table, file, why) in REQUIRED_TABLES {
        let present = files.iter().any(|(_, f)| match *table {
            "department" => !f.department.is_empty(),
            "region" => !f.region.is_empty(),
            "qualification" => !f.qualification.is_empty(),
            "lifecycle" => !f.lifecycle.is_empty(),
            "kind" => !f.kind.is_empty(),
            "occupation" => !f.occupation.is_empty(),
            _ => unreachable!("REQUIRED_TABLES names only these"),
        });
        if !present {
            ck.errors.push(PolicyError {
                file: sibling(sources, file),
                line: 0,
                entry: None,
                message: format!(
                    "missing: no file of the policy defines any [[{table}]] ({why}); {file} is missing or empty"
                ),
            });
        }
    }
    if ck.errors.is_empty() {
        Ok(p)
    } else {
        ck.errors
            .sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Err(PolicyErrors(ck.errors))
    }
}

/// The tables every policy must define, the file each is conventionally in, and what needs it.
pub(super) const REQUIRED_TABLES: &[(&str, &str, &str)] = &[
    (
        "department",
        "departments.toml",
        "every kind and issuer belongs to a department",
    ),
    (
        "region",
        "regions.toml",
        "issuers are registered in a province, and mohurd numbers start with its abbreviation",
    ),
    (
        "qualification",
        "directory.toml",
        "kinds name their entry of the national directory",
    ),
    (
        "lifecycle",
        "lifecycles.toml",
        "every kind names its lifecycle",
    ),
    ("kind", "kinds.toml", "every certificate is of a kind"),
    (
        "occupation",
        "occupations.toml",
        "skill level certificates name an occupation",
    ),
];

/// `file` in the folder of the first source (the name an error about a missing file shows).
fn sibling(sources: &[Source], file: &str) -> String {
    match sources.first().map(|s| s.name.as_str()) {
        Some(n) => match n.rfind('/') {
            Some(i) => format!("{}/{file}", &n[..i]),
            None => file.to_string(),
        },
        None => file.to_string(),
    }
}

fn check_lifecycle(ck: &mut Checker, at: &At<'_>, span: std::ops::Range<usize>, l: &RawLifecycle) {
    if !is_dotted_id(&l.id) {
        ck.err(
            at,
            span.clone(),
            "a lifecycle id is lower-case ASCII letters, digits and hyphens",
        );
    }
    if l.expires {
        if l.validity.is_none() {
            ck.err(
                at,
                span.clone(),
                "a lifecycle that expires needs a validity period",
            );
        }
    } else {
        let stray = [
            ("validity", l.validity.is_some()),
            ("review_interval", l.review_interval.is_some()),
            ("renewal_window", l.renewal_window.is_some()),
            ("renewal_extends", l.renewal_extends.is_some()),
        ];
        for (name, present) in stray {
            if present {
                ck.err(
                    at,
                    span.clone(),
                    format!("{name} makes no sense with expires = false"),
                );
            }
        }
    }
    if l.review_window.is_some()
        && l.review_interval.is_none()
        && l.renewal_window.is_none()
        && l.validity.is_none()
    {
        ck.err(
            at,
            span.clone(),
            "review_window needs a review_interval or a validity to count back from",
        );
    }
    if l.extended_review_interval.is_some() != l.extended_review_after.is_some() {
        ck.err(
            at,
            span,
            "extended_review_interval and extended_review_after go together",
        );
    }
}

fn compile_kind(
    ck: &mut Checker,
    at: &At<'_>,
    span: std::ops::Range<usize>,
    k: &RawKind,
    p: &Policy,
    lifecycle_notes: &BTreeMap<String, Vec<Note>>,
) -> Option<Kind> {
    let before = ck.errors.len();
    if !is_dotted_id(&k.id) || !k.id.contains('.') {
        ck.err(
            at,
            span.clone(),
            "a kind id is <department>.<family>.<item> in lower-case ASCII with hyphens",
        );
    }
    let dept = k.department.get_ref();
    if !p.departments.contains_key(dept) {
        ck.err(
            at,
            k.department.span(),
            format!("department \"{dept}\" is not defined"),
        );
    } else if k.id.split('.').next() != Some(dept.as_str()) {
        ck.err(
            at,
            k.department.span(),
            format!("the id must start with its department, \"{dept}.\""),
        );
    }
    match &k.qualification {
        Some(q) if !p.qualifications.contains_key(q.get_ref()) => {
            ck.err(
                at,
                q.span(),
                format!("qualification \"{}\" is not in the directory", q.get_ref()),
            );
        }
        None if !k.skill_level => {
            ck.err(at, span.clone(), "names no qualification: only skill level certificates (skill_level = true) may be outside the directory");
        }
        _ => {}
    }
    let scheme = match k.number_scheme.get_ref().parse::<NumberScheme>() {
        Ok(s) => s,
        Err(e) => {
            ck.err(at, k.number_scheme.span(), e);
            NumberScheme::Free
        }
    };
    let scheme_codes = compile_scheme_codes(ck, at, span.clone(), k, scheme);
    if k.skill_level && scheme != NumberScheme::SkillLevel22 && scheme != NumberScheme::Free {
        ck.err(
            at,
            k.number_scheme.span(),
            "a skill level kind uses the skill-level-22 (or free) number scheme",
        );
    }
    if !p.lifecycles.contains_key(k.lifecycle.get_ref()) {
        ck.err(
            at,
            k.lifecycle.span(),
            format!("lifecycle \"{}\" is not defined", k.lifecycle.get_ref()),
        );
    }
    let occupations = k
        .occupations
        .as_ref()
        .map(|o| o.get_ref().clone())
        .unwrap_or_default();
    if let Some(o) = &k.occupations {
        for code in o.get_ref() {
            if !p.occupations.contains_key(code) {
                ck.err(
                    at,
                    o.span(),
                    format!("occupation \"{code}\" is not defined"),
                );
            }
        }
    }
    let licence_type_code = k.licence_type_code.as_ref().and_then(|c| {
        LicenceTypeCode::parse(c.get_ref())
            .map_err(|e| {
                ck.err(
                    at,
                    c.span(),
                    format!("licence_type_code \"{}\": {e}", c.get_ref()),
                )
            })
            .ok()
    });
    let mut notes = compile_notes(ck, at, &k.notes);
    if let Some(l) = lifecycle_notes.get(k.lifecycle.get_ref()) {
        notes.extend(l.iter().cloned());
    }
    let source = ck.source(at, span, &k.source);
    (ck.errors.len() == before).then(|| {
        let mut kind = Kind {
            id: k.id.clone(),
            department: dept.clone(),
            certificate_zh: k.certificate_zh.clone(),
            certificate_en: k.certificate_en.clone(),
            family_zh: k.family_zh.clone(),
            family_en: k.family_en.clone(),
            name_zh: k.name_zh.clone(),
            name_en: k.name_en.clone(),
            qualification: k.qualification.as_ref().map(|q| q.get_ref().clone()),
            skill_level: k.skill_level,
            number_scheme: scheme,
            scheme_codes,
            lifecycle: k.lifecycle.get_ref().clone(),
            occupations,
            licence_type_code,
            notes,
            source,
            provisional: k.provisional,
            recognition: HeldRules::default(),
            lifecycle_rule: p.lifecycles[k.lifecycle.get_ref()].clone(),
            index: 0,
            title_zh: String::new(),
            title_en: String::new(),
        };
        kind.compose_titles();
        kind
    })
}

/// A kind's codes within its scheme, from `scheme_codes` (or the older single `scheme_code`).
fn compile_scheme_codes(
    ck: &mut Checker,
    at: &At<'_>,
    span: std::ops::Range<usize>,
    k: &RawKind,
    scheme: NumberScheme,
) -> Vec<SchemeCode> {
    let mut codes: Vec<SchemeCode> = Vec::new();
    if let Some(c) = &k.scheme_code {
        if !k.scheme_codes.is_empty() {
            ck.err(
                at,
                c.span(),
                "give either scheme_code or [[kind.scheme_codes]], not both",
            );
        }
        codes.push(SchemeCode {
            code: c.get_ref().clone(),
            name_zh: None,
            name_en: None,
            note: None,
            source: k.source.clone().unwrap_or_default(),
            provisional: k.provisional,
        });
    }
    for c in &k.scheme_codes {
        let (cspan, c) = (c.span(), c.get_ref());
        let cat = At {
            src: at.src,
            entry: format!("{} scheme code \"{}\"", at.entry, c.code),
        };
        let note = match (&c.note_zh, &c.note_en) {
            (None, None) => None,
            (Some(zh), Some(en)) if !zh.trim().is_empty() && !en.trim().is_empty() => Some(Note {
                id: format!("{}/{}", k.id, c.code),
                text_zh: zh.trim().to_string(),
                text_en: en.trim().to_string(),
                source: String::new(),
                provisional: c.provisional,
            }),
            _ => {
                ck.err(
                    &cat,
                    cspan.clone(),
                    "note_zh and note_en go together, and neither may be empty",
                );
                None
            }
        };
        let source = ck.source(&cat, cspan, &c.source);
        codes.push(SchemeCode {
            code: c.code.clone(),
            name_zh: c.name_zh.clone(),
            name_en: c.name_en.clone(),
            note: note.map(|n| Note {
                source: source.clone(),
                ..n
            }),
            source,
            provisional: c.provisional,
        });
    }
    match scheme {
        NumberScheme::MohurdProvincial => {
            if codes.is_empty() {
                ck.err(
                    at,
                    k.number_scheme.span(),
                    "a mohurd-provincial kind needs its two-digit work-type codes ([[kind.scheme_codes]], or scheme_code for a single one)",
                );
            }
            for c in &codes {
                if c.code.len() != 2 || !c.code.bytes().all(|b| b.is_ascii_digit()) {
                    ck.err(
                        at,
                        span.clone(),
                        format!("work-type code \"{}\" is not two digits", c.code),
                    );
                }
            }
        }
        _ if !codes.is_empty() => ck.err(
            at,
            span.clone(),
            format!("the {scheme} number scheme has no codes; remove scheme_code(s)"),
        ),
        _ => {}
    }
    codes.sort_by(|a, b| a.code.cmp(&b.code));
    for w in codes.windows(2) {
        if w[0].code == w[1].code {
            ck.err(
                at,
                span.clone(),
                format!("work-type code {} is listed twice", w[0].code),
            );
        }
    }
    codes
}

/// `[[kind.notes]]` or `[[lifecycle.notes]]`.
fn compile_notes(ck: &mut Checker, at: &At<'_>, notes: &[toml::Spanned<RawNote>]) -> Vec<Note> {
    let mut out = Vec::new();
    for n in notes {
        let (nspan, n) = (n.span(), n.get_ref());
        let nat = At {
            src: at.src,
            entry: format!("{} note \"{}\"", at.entry, n.id),
        };
        let before = ck.errors.len();
        if !is_dotted_id(&n.id) {
            ck.err(
                &nat,
                nspan.clone(),
                "a note id is lower-case ASCII letters, digits, hyphens and dots",
            );
        }
        if n.text_zh.trim().is_empty() || n.text_en.trim().is_empty() {
            ck.err(
                &nat,
                nspan.clone(),
                "text_zh and text_en must both say what the reader must know",
            );
        }
        let source = ck.source(&nat, nspan.clone(), &n.source);
        if ck.define("note", &n.id, &nat, nspan) && ck.errors.len() == before {
            out.push(Note {
                id: n.id.clone(),
                text_zh: n.text_zh.trim().to_string(),
                text_en: n.text_en.trim().to_string(),
                source,
                provisional: n.provisional,
            });
        }
    }
    out
}

fn is_occupation_code(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 4
        && parts[0].len() == 1
        && parts[1..].iter().all(|p| p.len() == 2)
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

fn compile_occupation(
    ck: &mut Checker,
    at: &At<'_>,
    span: std::ops::Range<usize>,
    o: &RawOccupation,
) -> Option<Occupation> {
    let before = ck.errors.len();
    if !is_occupation_code(&o.code) {
        ck.err(
            at,
            span.clone(),
            "an occupation code has the form 6-31-01-03",
        );
    }
    let levels = o.levels.get_ref().clone();
    if levels.is_empty() || levels.windows(2).any(|w| w[0] >= w[1]) {
        ck.err(
            at,
            o.levels.span(),
            "levels must be listed lowest first, each once",
        );
    }
    let source = ck.source(at, span.clone(), &o.source);
    let mut standards: Vec<Standard> = Vec::new();
    for s in &o.standard {
        let (sspan, s) = (s.span(), s.get_ref());
        let sat = At {
            src: at.src,
            entry: format!("{} standard \"{}\"", at.entry, s.edition),
        };
        if standards.iter().any(|x| x.edition == s.edition) {
            ck.err(&sat, sspan.clone(), "this edition is listed twice");
        }
        let ssource = ck.source(&sat, sspan.clone(), &s.source);
        let mut conditions = Vec::new();
        for c in &s.condition {
            let (cspan, c) = (c.span(), c.get_ref());
            let cat = At {
                src: at.src,
                entry: format!("condition \"{}\"", c.id),
            };
            if let Some(cond) =
                compile_condition(ck, &cat, cspan.clone(), c, &levels, s.provisional)
                && ck.define("condition", &c.id, &cat, cspan)
            {
                conditions.push(cond);
            }
        }
        conditions.sort_by(|a: &Condition, b: &Condition| a.id.cmp(&b.id));
        let mut condition_ids: Vec<(Level, Vec<String>)> = Vec::new();
        for c in &conditions {
            match condition_ids.iter_mut().find(|(l, _)| *l == c.level) {
                Some((_, ids)) => ids.push(c.id.clone()),
                None => condition_ids.push((c.level, vec![c.id.clone()])),
            }
        }
        standards.push(Standard {
            condition_ids,
            edition: s.edition.clone(),
            name: s.name.clone(),
            effective_from: s.effective_from,
            conditions,
            source: ssource,
            provisional: s.provisional,
        });
    }
    standards.sort_by_key(|s| s.effective_from);
    (ck.errors.len() == before).then(|| Occupation {
        code: o.code.clone(),
        name_zh: o.name_zh.clone(),
        name_en: o.name_en.clone(),
        levels,
        standards,
        source,
        provisional: o.provisional,
        index: 0,
    })
}

fn compile_condition(
    ck: &mut Checker,
    at: &At<'_>,
    span: std::ops::Range<usize>,
    c: &RawCondition,
    levels: &[Level],
    standard_provisional: bool,
) -> Option<Condition> {
    let before = ck.errors.len();
    if !levels.contains(&c.level) {
        ck.err(
            at,
            span.clone(),
            format!("level {} is not one of this occupation's levels", c.level),
        );
    }
    if let Some(h) = c.held_level
        && h >= c.level
    {
        ck.err(
            at,
            span.clone(),
            format!(
                "held_level {h} must be below the level applied for ({})",
                c.level
            ),
        );
    }
    if c.years_since_held_level.is_some() && c.held_level.is_none() {
        ck.err(at, span.clone(), "years_since_held_level needs held_level");
    }
    let diploma = match c.diploma.as_deref() {
        None => None,
        Some(d) => match Diploma::ALL.iter().find(|x| x.id() == d) {
            Some(x) => Some(*x),
            None => {
                ck.err(
                    at,
                    span.clone(),
                    format!("diploma \"{d}\" is not one of technical-school, senior-technical-school, college, preparatory-technician"),
                );
                None
            }
        },
    };
    let states_something = c.held_level.is_some()
        || c.years_in_occupation.is_some()
        || c.diploma.is_some()
        || c.apprenticeship == Some(true);
    if !states_something {
        ck.err(
            at,
            span.clone(),
            "states no requirement (held_level, years_in_occupation, diploma or apprenticeship)",
        );
    }
    let text_zh = c.text_zh.clone().unwrap_or_default();
    let source = c.source.clone().unwrap_or_default();
    (ck.errors.len() == before).then(|| Condition {
        id: c.id.clone(),
        level: c.level,
        held_level: c.held_level,
        years_since_held_level: c.years_since_held_level,
        years_in_occupation: c.years_in_occupation,
        diploma,
        apprenticeship: c.apprenticeship.unwrap_or(false),
        text_zh,
        text_en: c.text_en.clone(),
        source,
        provisional: c.provisional || standard_provisional,
    })
}

/// Where a compiled entry came from, kept for checks that compare two entries.
#[derive(Clone, Copy)]
struct Origin<'a> {
    src: &'a Source,
    span_start: usize,
}

impl Origin<'_> {
    fn at(&self, entry: String) -> At<'_> {
        At {
            src: self.src,
            entry,
        }
    }

    fn span(&self) -> std::ops::Range<usize> {
        self.span_start..self.span_start
    }

    fn place(&self) -> String {
        format!(
            "{}:{}",
            self.src.name,
            line_of(&self.src.text, self.span_start)
        )
    }
}

/// A rule, exception or open question id: lower-case ASCII letters, digits and `-` `.` `/`.
fn is_rule_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'/')
        })
}

const RULE_ID_SHAPE: &str =
    "a rule id is lower-case ASCII letters, digits, hyphens, dots and slashes";

fn check_held_status(
    ck: &mut Checker,
    at: &At<'_>,
    raw: &Option<toml::Spanned<Vec<Status>>>,
) -> Vec<Status> {
    let Some(raw) = raw else {
        return vec![Status::Valid, Status::ReviewDue];
    };
    let mut out: Vec<Status> = Vec::new();
    if raw.get_ref().is_empty() {
        ck.err(at, raw.span(), "held_status lists no status");
    }
    for st in raw.get_ref() {
        if !st.is_in_force() {
            ck.err(
                at,
                raw.span(),
                format!(
                    "held_status \"{st}\": only a certificate in force (valid, review-due) can ground an entitlement"
                ),
            );
        } else if out.contains(st) {
            ck.err(at, raw.span(), format!("held_status lists \"{st}\" twice"));
        } else {
            out.push(*st);
        }
    }
    out.sort();
    out
}

fn check_period(
    ck: &mut Checker,
    at: &At<'_>,
    span: std::ops::Range<usize>,
    from: Day,
    until: Option<Day>,
) -> Effective {
    if let Some(u) = until
        && u < from
    {
        ck.err(
            at,
            span,
            format!("effective_until {u} is before effective_from {from}"),
        );
    }
    Effective { from, until }
}

fn check_region(
    ck: &mut Checker,
    at: &At<'_>,
    p: &Policy,
    region: &Option<toml::Spanned<String>>,
) -> Option<String> {
    let r = region.as_ref()?;
    if !p.regions.contains_key(r.get_ref()) {
        ck.err(
            at,
            r.span(),
            format!("region \"{}\" is not defined", r.get_ref()),
        );
    }
    Some(r.get_ref().clone())
}

fn check_kind_ref(
    ck: &mut Checker,
    at: &At<'_>,
    p: &Policy,
    field: &str,
    k: &toml::Spanned<String>,
) {
    if !p.kinds.contains_key(k.get_ref()) {
        ck.err(
            at,
            k.span(),
            format!("{field}: kind \"{}\" is not defined", k.get_ref()),
        );
    }
}

fn compile_recognition<'a>(ck: &mut Checker, files: &[(&'a Source, RawFile)], p: &mut Policy) {
    let mut exemption: Vec<(ExemptionRule, Origin<'a>)> = Vec::new();
    let mut deemed: Vec<(DeemedLevelRule, Origin<'a>)> = Vec::new();
    // Rules defined but not compiled, so that an exception naming one is not told it is unknown.
    let mut broken: Vec<&str> = Vec::new();

    for (src, f) in files {
        for r in &f.exemption_rule {
            let (span, r) = (r.span(), r.get_ref());
            let at = At {
                src,
                entry: format!("exemption_rule \"{}\"", r.id),
            };
            let before = ck.errors.len();
            if !is_rule_id(&r.id) {
                ck.err(&at, span.clone(), RULE_ID_SHAPE);
            }
            check_kind_ref(ck, &at, p, "held", &r.held);
            check_kind_ref(ck, &at, p, "target", &r.target);
            if r.held.get_ref() == r.target.get_ref() {
                ck.err(&at, r.target.span(), "target is the held kind itself");
            }
            let held_status = check_held_status(ck, &at, &r.held_status);
            let mut exemptions = ExemptionSet::EMPTY;
            if r.exemptions.get_ref().is_empty() {
                ck.err(&at, r.exemptions.span(), "grants no exemption");
            }
            for e in r.exemptions.get_ref() {
                if exemptions.contains(*e) {
                    ck.err(
                        &at,
                        r.exemptions.span(),
                        format!("exemption \"{e}\" is listed twice"),
                    );
                }
                exemptions.insert(*e);
            }
            let effective =
                check_period(ck, &at, span.clone(), r.effective_from, r.effective_until);
            let region = check_region(ck, &at, p, &r.region);
            let source = ck.source(&at, span.clone(), &r.source);
            let defined = ck.define("rule", &r.id, &at, span.clone());
            if defined && ck.errors.len() != before {
                broken.push(&r.id);
            }
            if defined && ck.errors.len() == before {
                exemption.push((
                    ExemptionRule {
                        id: r.id.clone(),
                        held: r.held.get_ref().clone(),
                        held_status,
                        target: r.target.get_ref().clone(),
                        target_name_zh: p.kinds[r.target.get_ref()].name_zh.clone(),
                        target_name_en: p.kinds[r.target.get_ref()].name_en.clone(),
                        target_department: p.kinds[r.target.get_ref()].department.clone(),
                        target_index: p.kinds[r.target.get_ref()].index,
                        exemptions,
                        effective,
                        region,
                        source,
                        provisional: r.provisional,
                        note: r.note.clone(),
                        exceptions: Vec::new(),
                    },
                    Origin {
                        src,
                        span_start: span.start,
                    },
                ));
            }
        }
        for r in &f.deemed_level_rule {
            let (span, r) = (r.span(), r.get_ref());
            let at = At {
                src,
                entry: format!("deemed_level_rule \"{}\"", r.id),
            };
            let before = ck.errors.len();
            if !is_rule_id(&r.id) {
                ck.err(&at, span.clone(), RULE_ID_SHAPE);
            }
            check_kind_ref(ck, &at, p, "held", &r.held);
            let occ_code = r.occupation.get_ref();
            let level = *r.level.get_ref();
            match p.occupations.get(occ_code) {
                None => ck.err(
                    &at,
                    r.occupation.span(),
                    format!("occupation \"{occ_code}\" is not defined"),
                ),
                Some(occ) if !occ.levels.contains(&level) => ck.err(
                    &at,
                    r.level.span(),
                    format!("level {level} is not one of occupation {occ_code}'s levels"),
                ),
                Some(_) => {}
            }
            if let Some(k) = p.kinds.get(r.held.get_ref()) {
                if k.skill_level {
                    ck.err(
                        &at,
                        r.held.span(),
                        "held: a skill level certificate carries its own level and is deemed nothing",
                    );
                } else if p.occupations.contains_key(occ_code) && !k.occupations.contains(occ_code)
                {
                    ck.err(
                        &at,
                        r.occupation.span(),
                        format!(
                            "occupation \"{occ_code}\" is not among the occupations of kind \"{}\" (its `occupations` in the kind's entry)",
                            k.id
                        ),
                    );
                }
            }
            let held_status = check_held_status(ck, &at, &r.held_status);
            let effective =
                check_period(ck, &at, span.clone(), r.effective_from, r.effective_until);
            let region = check_region(ck, &at, p, &r.region);
            let source = ck.source(&at, span.clone(), &r.source);
            let defined = ck.define("rule", &r.id, &at, span.clone());
            if defined && ck.errors.len() != before {
                broken.push(&r.id);
            }
            if defined && ck.errors.len() == before {
                deemed.push((
                    DeemedLevelRule {
                        id: r.id.clone(),
                        held: r.held.get_ref().clone(),
                        held_status,
                        occupation: occ_code.clone(),
                        occupation_name_zh: p.occupations[occ_code].name_zh.clone(),
                        occupation_name_en: p.occupations[occ_code].name_en.clone(),
                        occupation_index: p.occupations[occ_code].index,
                        level,
                        effective,
                        region,
                        source,
                        provisional: r.provisional,
                        note: r.note.clone(),
                        exceptions: Vec::new(),
                    },
                    Origin {
                        src,
                        span_start: span.start,
                    },
                ));
            }
        }
    }

    // Contradictions: two rules for the same held kind and target (or occupation) that can both
    // apply on one day in one region must grant the same thing. Reported on the later entry.
    for (j, (b, ob)) in exemption.iter().enumerate() {
        for (a, oa) in &exemption[..j] {
            if a.held == b.held
                && a.target == b.target
                && regions_overlap(a.region.as_deref(), b.region.as_deref())
                && a.effective.overlaps(&b.effective)
                && a.exemptions != b.exemptions
            {
                let at = ob.at(format!("exemption_rule \"{}\"", b.id));
                ck.err(
                    &at,
                    ob.span(),
                    format!(
                        "contradicts exemption_rule \"{}\" ({}): same held and target kinds, overlapping region and period, but exemptions [{}] against [{}]",
                        a.id,
                        oa.place(),
                        b.exemptions.describe(),
                        a.exemptions.describe()
                    ),
                );
            }
        }
    }
    for (j, (b, ob)) in deemed.iter().enumerate() {
        for (a, oa) in &deemed[..j] {
            if a.held == b.held
                && a.occupation == b.occupation
                && regions_overlap(a.region.as_deref(), b.region.as_deref())
                && a.effective.overlaps(&b.effective)
                && a.level != b.level
            {
                let at = ob.at(format!("deemed_level_rule \"{}\"", b.id));
                ck.err(
                    &at,
                    ob.span(),
                    format!(
                        "contradicts deemed_level_rule \"{}\" ({}): same held kind and occupation, overlapping region and period, but level {} against {}",
                        a.id,
                        oa.place(),
                        b.level,
                        a.level
                    ),
                );
            }
        }
    }

    let mut exceptions: Vec<Exception> = Vec::new();
    let mut questions: Vec<OpenQuestion> = Vec::new();
    for (src, f) in files {
        for x in &f.exception {
            let (span, x) = (x.span(), x.get_ref());
            let at = At {
                src,
                entry: format!("exception \"{}\"", x.id),
            };
            let before = ck.errors.len();
            if !is_rule_id(&x.id) {
                ck.err(&at, span.clone(), RULE_ID_SHAPE);
            }
            let rule_id = x.rule.get_ref();
            let ex_rule = exemption
                .iter()
                .find(|(r, _)| &r.id == rule_id)
                .map(|(r, _)| r);
            let dl_rule = deemed
                .iter()
                .find(|(r, _)| &r.id == rule_id)
                .map(|(r, _)| r);
            let (rule_region, rule_effective) = match (ex_rule, dl_rule) {
                (Some(r), _) => (r.region.clone(), Some(r.effective)),
                (_, Some(r)) => (r.region.clone(), Some(r.effective)),
                _ if broken.contains(&rule_id.as_str()) => {
                    ck.err(
                        &at,
                        x.rule.span(),
                        format!("rule \"{rule_id}\" has errors of its own (see them)"),
                    );
                    (None, None)
                }
                _ => {
                    ck.err(
                        &at,
                        x.rule.span(),
                        format!("rule \"{rule_id}\" is not defined"),
                    );
                    (None, None)
                }
            };
            let region = check_region(ck, &at, p, &x.region);
            let department = x.department.as_ref().map(|d| {
                if !p.departments.contains_key(d.get_ref()) {
                    ck.err(
                        &at,
                        d.span(),
                        format!("department \"{}\" is not defined", d.get_ref()),
                    );
                }
                d.get_ref().clone()
            });
            if region.is_none() && department.is_none() {
                ck.err(
                    &at,
                    span.clone(),
                    "names neither a region nor a department: whose special rule is it?",
                );
            }
            if let Some(rr) = &rule_region
                && region.as_ref() != Some(rr)
            {
                ck.err(
                    &at,
                    span.clone(),
                    format!("rule \"{rule_id}\" applies only in region {rr}; an exception to it must be for that region"),
                );
            }
            let action = match x.action.get_ref().as_str() {
                "disable" => {
                    if let Some(e) = &x.exemptions {
                        ck.err(
                            &at,
                            e.span(),
                            "exemptions are only for action = \"narrow\" (the exemptions that remain)",
                        );
                    }
                    ExceptionAction::Disable
                }
                "narrow" => {
                    let remaining: ExemptionSet = x
                        .exemptions
                        .as_ref()
                        .map(|e| e.get_ref().iter().copied().collect())
                        .unwrap_or_default();
                    if dl_rule.is_some() {
                        ck.err(
                            &at,
                            x.action.span(),
                            "a deemed_level_rule grants no exemptions to narrow; use action = \"disable\"",
                        );
                    } else if x.exemptions.is_none() || remaining.is_empty() {
                        ck.err(
                            &at,
                            x.action.span(),
                            "action = \"narrow\" needs exemptions, the ones that remain (to remove them all, use \"disable\")",
                        );
                    } else if let Some(r) = ex_rule
                        && (!remaining.is_subset(r.exemptions) || remaining == r.exemptions)
                    {
                        ck.err(
                            &at,
                            x.exemptions.as_ref().map(|e| e.span()).unwrap_or(span.clone()),
                            format!(
                                "exemptions [{}] must be a strict part of rule \"{rule_id}\"'s [{}]",
                                remaining.describe(),
                                r.exemptions.describe()
                            ),
                        );
                    }
                    ExceptionAction::Narrow { remaining }
                }
                other => {
                    ck.err(
                        &at,
                        x.action.span(),
                        format!("action \"{other}\" is not \"disable\" or \"narrow\""),
                    );
                    ExceptionAction::Disable
                }
            };
            let effective =
                check_period(ck, &at, span.clone(), x.effective_from, x.effective_until);
            if let Some(re) = rule_effective
                && !re.overlaps(&effective)
            {
                ck.err(
                    &at,
                    span.clone(),
                    format!("is never in force while rule \"{rule_id}\" is"),
                );
            }
            let source = ck.source(&at, span.clone(), &x.source);
            let defined = ck.define("rule", &x.id, &at, span.clone());
            if defined && ck.errors.len() == before {
                exceptions.push(Exception {
                    id: x.id.clone(),
                    rule: rule_id.clone(),
                    region,
                    department,
                    action,
                    effective,
                    source,
                    provisional: x.provisional,
                    note: x.note.clone(),
                });
            }
        }
        for r in &f.status_reason {
            let (span, r) = (r.span(), r.get_ref());
            let at = At {
                src,
                entry: format!("status_reason \"{}\"", r.id),
            };
            let before = ck.errors.len();
            // The reasons and the statuses they go with are fixed by IDENTIFIERS.md.
            let status = match r.id.as_str() {
                "held" => Some("suspended"),
                "withdrawn" | "annulled" | "cancelled" | "issued-in-error" => Some("revoked"),
                "past-validity" | "review-missed" => Some("expired"),
                _ => None,
            };
            match status {
                None => ck.err(
                    &at,
                    span.clone(),
                    "not a status reason of IDENTIFIERS.md (held, withdrawn, annulled, cancelled, issued-in-error, past-validity, review-missed)",
                ),
                Some(s) if s != r.status => ck.err(
                    &at,
                    span.clone(),
                    format!("status: \"{}\" goes with the status {s}, not {}", r.id, r.status),
                ),
                _ => {}
            }
            if !matches!(
                r.national_code.as_str(),
                "01" | "02" | "03" | "04" | "05" | "06" | "99"
            ) {
                ck.err(
                    &at,
                    span.clone(),
                    "national_code: one of the national status codes 01, 02, 03, 04, 05, 06, 99",
                );
            }
            for (field, text) in [
                ("name_zh", &r.name_zh),
                ("name_en", &r.name_en),
                ("basis_zh", &r.basis_zh),
                ("basis_en", &r.basis_en),
            ] {
                if text.trim().is_empty() {
                    ck.err(&at, span.clone(), format!("{field} is empty"));
                }
            }
            let source = ck.source(&at, span.clone(), &r.source);
            let defined = ck.define("status_reason", &r.id, &at, span.clone());
            if defined && ck.errors.len() == before {
                p.status_reasons.insert(
                    r.id.clone(),
                    StatusReason {
                        id: r.id.clone(),
                        status: r.status.clone(),
                        name_zh: r.name_zh.clone(),
                        name_en: r.name_en.clone(),
                        national_code: r.national_code.clone(),
                        basis_zh: r.basis_zh.clone(),
                        basis_en: r.basis_en.clone(),
                        source,
                        provisional: r.provisional,
                    },
                );
            }
        }
        for q in &f.open_question {
            let (span, q) = (q.span(), q.get_ref());
            let at = At {
                src,
                entry: format!("open_question \"{}\"", q.id),
            };
            let before = ck.errors.len();
            if !is_rule_id(&q.id) {
                ck.err(&at, span.clone(), RULE_ID_SHAPE);
            }
            if q.held.get_ref().is_empty() {
                ck.err(&at, q.held.span(), "held names no kind");
            }
            for k in q.held.get_ref() {
                if !p.kinds.contains_key(k) {
                    ck.err(
                        &at,
                        q.held.span(),
                        format!("held: kind \"{k}\" is not defined"),
                    );
                }
            }
            if q.text_zh.trim().is_empty() || q.text_en.trim().is_empty() {
                ck.err(
                    &at,
                    span.clone(),
                    "text_zh and text_en must both say what is unknown",
                );
            }
            let source = ck.source(&at, span.clone(), &q.source);
            let defined = ck.define("open_question", &q.id, &at, span.clone());
            if defined && ck.errors.len() == before {
                let mut held = q.held.get_ref().clone();
                held.sort();
                held.dedup();
                questions.push(OpenQuestion {
                    id: q.id.clone(),
                    held,
                    text_zh: q.text_zh.trim().to_string(),
                    text_en: q.text_en.trim().to_string(),
                    source,
                    provisional: q.provisional,
                });
            }
        }
    }

    // Compile: everything sorted by id, exceptions linked to their rules, rules indexed by the
    // held kind they name.
    let mut exemption: Vec<ExemptionRule> = exemption.into_iter().map(|(r, _)| r).collect();
    let mut deemed: Vec<DeemedLevelRule> = deemed.into_iter().map(|(r, _)| r).collect();
    exemption.sort_by(|a, b| a.id.cmp(&b.id));
    deemed.sort_by(|a, b| a.id.cmp(&b.id));
    exceptions.sort_by(|a, b| a.id.cmp(&b.id));
    questions.sort_by(|a, b| a.id.cmp(&b.id));
    for (xi, x) in exceptions.iter().enumerate() {
        if let Some(r) = exemption.iter_mut().find(|r| r.id == x.rule) {
            r.exceptions.push(xi);
        } else if let Some(r) = deemed.iter_mut().find(|r| r.id == x.rule) {
            r.exceptions.push(xi);
        }
    }
    fn held_rules<'k>(p: &'k mut Policy, kind: &str) -> &'k mut HeldRules {
        &mut p
            .kinds
            .get_mut(kind)
            .expect("rules name defined kinds")
            .recognition
    }
    for (i, r) in exemption.iter().enumerate() {
        held_rules(p, &r.held).exemption.push(i);
    }
    for (i, r) in deemed.iter().enumerate() {
        held_rules(p, &r.held).deemed_level.push(i);
    }
    for (i, q) in questions.iter().enumerate() {
        for k in &q.held {
            held_rules(p, k).open_questions.push(i);
        }
    }
    p.exemption_rules = exemption;
    p.deemed_level_rules = deemed;
    p.exceptions = exceptions;
    p.open_questions = questions;
}
