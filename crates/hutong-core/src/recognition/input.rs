//! The advice request: what a worker holds, read from JSON with errors that name the field,
//! and checked against the policy.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::date::{Day, day_serde, parse_day};
use crate::ids::{Level, Status};
use crate::policy::{Diploma, Kind, Occupation, Policy};

/// The most holdings one request may carry.
pub const MAX_HOLDINGS: usize = 100;

/// What a worker holds and has done: the body of `hutong advise --holdings FILE` and of
/// `POST /api/v1/recognition/advice`.
///
/// Read it with [`AdviceInput::from_json`] to get errors that name the field
/// (`holdings[1].issued_on: …`); the derived `Deserialize` accepts the same JSON with serde's
/// usual messages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdviceInput {
    /// The day the advice is for; today (in China) when absent.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "day_serde::option::deserialize"
    )]
    pub as_of: Option<Day>,
    /// The province (GB/T 2260 two-digit code) where the holder will apply, for regional rules
    /// and exceptions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub holdings: Vec<Holding>,
    /// Whole years of work in each occupation, by occupation code, on the as-of date.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub experience_years: BTreeMap<String, u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diplomas: Vec<Diploma>,
    /// An apprenticeship in the occupation completed.
    #[serde(default, skip_serializing_if = "is_false")]
    pub apprenticeship: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// One certificate the worker holds (or held).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holding {
    pub kind: String,
    /// The status as recorded or as the holder states it; see the module's combining semantics
    /// for how it meets the dates.
    pub status: Status,
    /// When this certificate (or its current renewal) was issued.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "day_serde::option::deserialize"
    )]
    pub issued_on: Option<Day>,
    /// When the holder first obtained this kind of certificate (defaults to `issued_on`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "day_serde::option::deserialize"
    )]
    pub first_issued_on: Option<Day>,
    /// The last day of validity.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "day_serde::option::deserialize"
    )]
    pub valid_until: Option<Day>,
    /// The last periodic review passed.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "day_serde::option::deserialize"
    )]
    pub last_review_on: Option<Day>,
    /// When an `expired`, `suspended` or `revoked` status took effect.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "day_serde::option::deserialize"
    )]
    pub status_since: Option<Day>,
    /// For skill level certificates: the occupation code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occupation: Option<String>,
    /// For skill level certificates: the level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<Level>,
    /// The certificate number, echoed in the advice's grounds; in its normal form
    /// ([`holding_number`]).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "deserialize_holding_number"
    )]
    pub number: Option<String>,
}

/// A holding's number as stated, in its normal form, as verification reads numbers
/// ([`crate::number::normalize`]: full-width forms, spaces, lower case), so that one that is or
/// embeds an ID number is recognised and masked wherever the advice shows it. One of spaces
/// only is no number; one too long is kept as given, to be refused by its length.
fn holding_number(n: &str) -> Option<String> {
    let normal = crate::number::normalize(n);
    if normal.is_empty() && !n.is_empty() {
        None
    } else if n.chars().count() > 64 {
        Some(n.to_string())
    } else {
        Some(normal)
    }
}

fn deserialize_holding_number<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.and_then(|n| holding_number(&n)))
}

impl Holding {
    /// A holding of `kind` in `status`, with no dates.
    pub fn new(kind: &str, status: Status) -> Holding {
        Holding {
            kind: kind.to_string(),
            status,
            issued_on: None,
            first_issued_on: None,
            valid_until: None,
            last_review_on: None,
            status_since: None,
            occupation: None,
            level: None,
            number: None,
        }
    }
}

/// One thing wrong with an advice request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputError {
    /// The field, as a path: `holdings[1].level`, `region`, `experience_years.6-18-02-04`; empty
    /// for the request as a whole.
    pub field: String,
    pub message: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// Every problem found in an advice request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputErrors(pub Vec<InputError>);

impl InputErrors {
    fn one(field: &str, message: impl Into<String>) -> InputErrors {
        InputErrors(vec![InputError {
            field: field.to_string(),
            message: message.into(),
        }])
    }
}

impl fmt::Display for InputErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputErrors {}

#[derive(Default)]
struct Errs(Vec<InputError>);

impl Errs {
    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(InputError {
            field: field.into(),
            message: message.into(),
        });
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn get_str<'v>(errs: &mut Errs, path: &str, v: &'v Value) -> Option<&'v str> {
    match v {
        Value::String(s) => Some(s),
        Value::Null => None,
        other => {
            errs.push(
                path,
                format!("expected a string, found {}", type_name(other)),
            );
            None
        }
    }
}

fn get_day(errs: &mut Errs, path: &str, v: &Value) -> Option<Day> {
    let s = get_str(errs, path, v)?;
    match parse_day(s) {
        Ok(d) => Some(d),
        Err(e) => {
            errs.push(path, e);
            None
        }
    }
}

impl AdviceInput {
    /// Reads a request from JSON text, naming the field of every problem
    /// (`holdings[0].issued_on: "2026-02-30" is not a real calendar date`).
    pub fn from_json(text: &str) -> Result<AdviceInput, InputErrors> {
        if let Some(input) = AdviceInput::from_json_directly(text) {
            return Ok(input);
        }
        AdviceInput::from_json_naming_fields(text)
    }

    /// The derived `Deserialize`, straight from the text (no `serde_json::Value` in between),
    /// when it reads `text` exactly as [`AdviceInput::from_value`] would; `None` sends the text
    /// to the reader that names the fields. The derived reader refuses all that `from_value`
    /// refuses except: objects where `from_value` wants a string (an enum as `{"5": null}`, a
    /// TOML date as a map) or arrays where it wants an object (a struct as a sequence), which
    /// change the number of objects in the text; more than [`MAX_HOLDINGS`] holdings; and
    /// implausible years. Those are checked here.
    fn from_json_directly(text: &str) -> Option<AdviceInput> {
        let input: AdviceInput = serde_json::from_str(text).ok()?;
        // A sum rather than a filtered count, so that it compiles to a vectorized loop.
        let objects: usize = text.bytes().map(|b| usize::from(b == b'{')).sum();
        let expected = 1 + input.holdings.len() + usize::from(!input.experience_years.is_empty());
        (objects == expected
            && input.holdings.len() <= MAX_HOLDINGS
            && input.experience_years.values().all(|&y| y <= 100))
        .then_some(input)
    }

    fn from_json_naming_fields(text: &str) -> Result<AdviceInput, InputErrors> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| InputErrors::one("", format!("not valid JSON: {e}")))?;
        AdviceInput::from_value(&v)
    }

    /// As [`AdviceInput::from_json`], from a parsed JSON value.
    pub fn from_value(v: &Value) -> Result<AdviceInput, InputErrors> {
        let Value::Object(top) = v else {
            return Err(InputErrors::one(
                "",
                format!(
                    "expected an object {{\"holdings\": [...], ...}}, found {}",
                    type_name(v)
                ),
            ));
        };
        let mut errs = Errs::default();
        let mut input = AdviceInput::default();
        let mut saw_holdings = false;
        for (key, val) in in_order(top, TOP_FIELDS) {
            match key.as_str() {
                "as_of" => input.as_of = get_day(&mut errs, "as_of", val),
                "region" => input.region = get_str(&mut errs, "region", val).map(str::to_string),
                "holdings" => {
                    saw_holdings = true;
                    match val {
                        Value::Array(items) => {
                            if items.len() > MAX_HOLDINGS {
                                errs.push(
                                    "holdings",
                                    format!(
                                        "{} certificates; at most {MAX_HOLDINGS} per request",
                                        items.len()
                                    ),
                                );
                            } else {
                                for (i, item) in items.iter().enumerate() {
                                    if let Some(h) = holding_from_value(&mut errs, i, item) {
                                        input.holdings.push(h);
                                    }
                                }
                            }
                        }
                        Value::Null => {
                            errs.push("holdings", "missing: the certificates held, as an array")
                        }
                        other => errs.push(
                            "holdings",
                            format!("expected an array, found {}", type_name(other)),
                        ),
                    }
                }
                "experience_years" => match val {
                    Value::Object(m) => {
                        for (occ, y) in m {
                            let path = format!("experience_years.{occ}");
                            // A whole number written as 3.0 is a whole number (JSON and
                            // JSON Schema do not tell 3 from 3.0).
                            let whole = y.as_u64().or_else(|| {
                                y.as_f64()
                                    .filter(|f| f.fract() == 0.0 && (0.0..=100.0).contains(f))
                                    .map(|f| f as u64)
                            });
                            match whole {
                                Some(n) if n <= 100 => {
                                    input.experience_years.insert(occ.clone(), n as u32);
                                }
                                _ => errs.push(
                                    path,
                                    format!("expected whole years from 0 to 100, found {y}"),
                                ),
                            }
                        }
                    }
                    Value::Null => {}
                    other => errs.push(
                        "experience_years",
                        format!(
                            "expected an object {{\"<occupation code>\": years}}, found {}",
                            type_name(other)
                        ),
                    ),
                },
                "diplomas" => match val {
                    Value::Array(items) => {
                        for (i, item) in items.iter().enumerate() {
                            let path = format!("diplomas[{i}]");
                            if let Some(s) = get_str(&mut errs, &path, item) {
                                match s.parse::<Diploma>() {
                                    Ok(d) => input.diplomas.push(d),
                                    Err(e) => errs.push(path, e),
                                }
                            }
                        }
                    }
                    Value::Null => {}
                    other => errs.push(
                        "diplomas",
                        format!("expected an array, found {}", type_name(other)),
                    ),
                },
                "apprenticeship" => match val {
                    Value::Bool(b) => input.apprenticeship = *b,
                    Value::Null => {}
                    other => errs.push(
                        "apprenticeship",
                        format!("expected true or false, found {}", type_name(other)),
                    ),
                },
                other => errs.push(
                    other,
                    format!("unknown field (expected {})", TOP_FIELDS.join(", ")),
                ),
            }
        }
        if !saw_holdings {
            errs.push("holdings", "missing: the certificates held, as an array");
        }
        if errs.0.is_empty() {
            Ok(input)
        } else {
            Err(InputErrors(errs.0))
        }
    }

    /// Checks the request against the policy: kinds, occupations, levels and regions must exist,
    /// a skill level certificate carries an occupation and a level, and dates must be in order.
    pub fn check(&self, policy: &Policy) -> Result<(), InputErrors> {
        self.resolve_with(policy, |_, _, _| ()).map(drop)
    }

    /// [`AdviceInput::check`], making one `T` of each holding, its kind and (for a skill level
    /// certificate) its occupation.
    pub(super) fn resolve_with<'p, 'i, T>(
        &'i self,
        policy: &'p Policy,
        mut f: impl FnMut(&'i Holding, &'p Kind, Option<&'p Occupation>) -> T,
    ) -> Result<Vec<T>, InputErrors> {
        let mut errs = Errs::default();
        let mut kinds = Vec::with_capacity(self.holdings.len());
        if let Some(r) = &self.region
            && policy.region(r).is_none()
        {
            errs.push(
                "region",
                format!("unknown region \"{r}\" (a two-digit GB/T 2260 province code)"),
            );
        }
        if self.holdings.len() > MAX_HOLDINGS {
            errs.push(
                "holdings",
                format!(
                    "{} certificates; at most {MAX_HOLDINGS} per request",
                    self.holdings.len()
                ),
            );
        }
        for (i, h) in self.holdings.iter().enumerate() {
            if let Some((k, o)) = check_holding(&mut errs, policy, i, h)
                && errs.0.is_empty()
            {
                kinds.push(f(h, k, o));
            }
        }
        for (occ, years) in &self.experience_years {
            if policy.occupation(occ).is_none() {
                errs.push(
                    format!("experience_years.{occ}"),
                    format!("unknown occupation \"{occ}\""),
                );
            } else if *years > 100 {
                errs.push(
                    format!("experience_years.{occ}"),
                    format!("{years} years is not plausible"),
                );
            }
        }
        if errs.0.is_empty() {
            Ok(kinds)
        } else {
            Err(InputErrors(errs.0))
        }
    }
}

const TOP_FIELDS: &[&str] = &[
    "as_of",
    "region",
    "holdings",
    "experience_years",
    "diplomas",
    "apprenticeship",
];

const HOLDING_FIELDS: &[&str] = &[
    "kind",
    "status",
    "issued_on",
    "first_issued_on",
    "valid_until",
    "last_review_on",
    "status_since",
    "occupation",
    "level",
    "number",
];

/// The entries of `m` with the known fields first, in the documented order, then the unknown
/// ones by name, so that errors come out in the same order whatever the map's own order.
fn in_order<'v>(
    m: &'v serde_json::Map<String, Value>,
    known: &[&str],
) -> Vec<(&'v String, &'v Value)> {
    let rank = |k: &str| known.iter().position(|x| *x == k).unwrap_or(known.len());
    let mut v: Vec<(&String, &Value)> = m.iter().collect();
    v.sort_by(|a, b| (rank(a.0), a.0).cmp(&(rank(b.0), b.0)));
    v
}

fn holding_from_value(errs: &mut Errs, i: usize, v: &Value) -> Option<Holding> {
    let Value::Object(m) = v else {
        errs.push(
            format!("holdings[{i}]"),
            format!("expected an object, found {}", type_name(v)),
        );
        return None;
    };
    let before = errs.0.len();
    let p = |f: &str| format!("holdings[{i}].{f}");
    let mut kind = None;
    let mut status = None;
    let mut h = Holding::new("", Status::Valid);
    for (key, val) in in_order(m, HOLDING_FIELDS) {
        let path = p(key);
        match key.as_str() {
            "kind" => kind = get_str(errs, &path, val).map(str::to_string),
            "status" => {
                if let Some(s) = get_str(errs, &path, val) {
                    match s.parse::<Status>() {
                        Ok(st) => status = Some(st),
                        Err(e) => errs.push(path, e.to_string()),
                    }
                }
            }
            "issued_on" => h.issued_on = get_day(errs, &path, val),
            "first_issued_on" => h.first_issued_on = get_day(errs, &path, val),
            "valid_until" => h.valid_until = get_day(errs, &path, val),
            "last_review_on" => h.last_review_on = get_day(errs, &path, val),
            "status_since" => h.status_since = get_day(errs, &path, val),
            "occupation" => h.occupation = get_str(errs, &path, val).map(str::to_string),
            "level" => {
                if let Some(s) = get_str(errs, &path, val) {
                    match s.parse::<Level>() {
                        Ok(l) => h.level = Some(l),
                        Err(e) => errs.push(path, e.to_string()),
                    }
                }
            }
            "number" => h.number = get_str(errs, &path, val).and_then(holding_number),
            _ => errs.push(
                path,
                format!("unknown field (expected {})", HOLDING_FIELDS.join(", ")),
            ),
        }
    }
    // A required field that is null is as missing as one that is absent (a null is never read
    // as a default: `"status": null` must not become `valid`).
    let absent = |f: &str| m.get(f).is_none_or(Value::is_null);
    match kind {
        Some(k) => h.kind = k,
        None if absent("kind") => errs.push(p("kind"), "missing: the certificate kind"),
        None => {}
    }
    match status {
        Some(s) => h.status = s,
        None if absent("status") => errs.push(
            p("status"),
            "missing: one of valid, review-due, expired, suspended, revoked",
        ),
        None => {}
    }
    (errs.0.len() == before).then_some(h)
}

/// Checks one holding; returns its kind and, for a skill level certificate, its occupation.
fn check_holding<'p>(
    errs: &mut Errs,
    policy: &'p Policy,
    i: usize,
    h: &Holding,
) -> Option<(&'p Kind, Option<&'p Occupation>)> {
    let p = |f: &str| format!("holdings[{i}].{f}");
    let kind = policy.kind(&h.kind);
    let mut occupation = None;
    match kind {
        None => errs.push(p("kind"), format!("unknown kind \"{}\"", h.kind)),
        Some(k) if k.skill_level => {
            let occ = match &h.occupation {
                None => {
                    errs.push(
                        p("occupation"),
                        format!(
                            "missing: a skill level certificate ({}) carries an occupation code",
                            k.id
                        ),
                    );
                    None
                }
                Some(code) => match policy.occupation(code) {
                    None => {
                        errs.push(p("occupation"), format!("unknown occupation \"{code}\""));
                        None
                    }
                    Some(o) => Some(o),
                },
            };
            match (h.level, occ) {
                (None, _) => errs.push(
                    p("level"),
                    format!(
                        "missing: a skill level certificate ({}) carries a level (5 lowest … 1 highest)",
                        k.id
                    ),
                ),
                (Some(l), Some(o)) if !o.levels.contains(&l) => errs.push(
                    p("level"),
                    format!("level {l} is not one of occupation {}'s levels", o.code),
                ),
                _ => {}
            }
            occupation = occ;
        }
        Some(k) => {
            if h.occupation.is_some() {
                errs.push(
                    p("occupation"),
                    format!(
                        "only a skill level certificate carries an occupation; {} does not",
                        k.id
                    ),
                );
            }
            if h.level.is_some() {
                errs.push(
                    p("level"),
                    format!(
                        "only a skill level certificate carries a level; {} does not",
                        k.id
                    ),
                );
            }
        }
    }
    if let (Some(iss), Some(until)) = (h.issued_on, h.valid_until)
        && until < iss
    {
        errs.push(
            p("valid_until"),
            format!("{until} is before issued_on {iss}"),
        );
    }
    if let (Some(iss), Some(first)) = (h.issued_on, h.first_issued_on)
        && first > iss
    {
        errs.push(
            p("first_issued_on"),
            format!("{first} is after issued_on {iss}"),
        );
    }
    if h.status_since.is_some() && h.status.is_in_force() {
        errs.push(
            p("status_since"),
            format!(
                "only for expired, suspended or revoked; the status is {}",
                h.status
            ),
        );
    }
    if let Some(n) = &h.number
        && (n.is_empty() || (n.len() > 64 && n.chars().count() > 64))
    {
        errs.push(p("number"), "must be 1 to 64 characters");
    }
    kind.map(|k| (k, occupation))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Day {
        parse_day(s).unwrap()
    }

    #[test]
    fn input_errors_name_the_field() {
        let err = AdviceInput::from_json(
            r#"{"holdings": [{"kind": "x", "status": "valid"}, {"kind": "y", "status": "vaild", "issued_on": "2026-02-30", "colour": 1}], "as_of": "26-01-01", "experience_years": {"6-18-02-04": -1}}"#,
        )
        .unwrap_err();
        let all = err.to_string();
        for expected in [
            "holdings[1].status: unknown status \"vaild\"",
            "holdings[1].issued_on: \"2026-02-30\" is not a real calendar date",
            "holdings[1].colour: unknown field",
            "as_of: \"26-01-01\" is not a date of the form YYYY-MM-DD",
            "experience_years.6-18-02-04: expected whole years from 0 to 100, found -1",
        ] {
            assert!(all.contains(expected), "{expected:?} missing from:\n{all}");
        }
        let err = AdviceInput::from_json(r#"{"holdings": [{"status": "valid"}]}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "holdings[0].kind: missing: the certificate kind"
        );
        let err = AdviceInput::from_json(r#"{"as_of": "2026-01-01"}"#).unwrap_err();
        assert!(err.to_string().starts_with("holdings: missing"), "{err}");
        let err = AdviceInput::from_json("[1]").unwrap_err();
        assert!(err.to_string().contains("expected an object"), "{err}");
    }

    #[test]
    fn reading_directly_agrees_with_the_reader_that_names_fields() {
        let h = r#""kind": "mohrss.skill-level", "status": "valid", "occupation": "6-18-02-04""#;
        for text in [
            format!(r#"{{"holdings": [{{{h}, "level": "5"}}]}}"#),
            format!(r#"{{"holdings": [{{{h}, "level": {{"5": null}}}}]}}"#),
            format!(r#"{{"holdings": [{{{h}, "level": "5", "issued_on": {{"$__toml_private_datetime": "2024-01-01"}}}}]}}"#),
            format!(r#"{{"holdings": [{{{h}, "level": "5"}}], "experience_years": {{"6-18-02-04": 101}}}}"#),
            format!(r#"{{"holdings": [{{{h}, "level": "5"}}], "experience_years": {{"6-18-02-04": 3}}}}"#),
            format!(r#"{{"holdings": [{{{h}, "level": "5"}}], "experience_years": {{}}}}"#),
            format!(r#"{{"holdings": [{{{h}, "level": "5", "number": "{{}}"}}]}}"#),
            r#"{"holdings": [["mem.electrical.low-voltage", "valid"]]}"#.to_string(),
            r#"[null, null, []]"#.to_string(),
            r#"{"holdings": [], "holdings": []}"#.to_string(),
            r#"{"holdings": [], "experience_years": null, "diplomas": null, "apprenticeship": null}"#.to_string(),
            format!(r#"{{"holdings": [{}]}}"#, vec![r#"{"kind": "x", "status": "valid"}"#; MAX_HOLDINGS + 1].join(",")),
        ] {
            assert_eq!(
                AdviceInput::from_json(&text),
                AdviceInput::from_json_naming_fields(&text),
                "{text}"
            );
        }
        assert!(
            AdviceInput::from_json_directly(r#"{"holdings": [{"kind": "x", "status": "valid"}]}"#)
                .is_some()
        );
    }

    #[test]
    fn from_json_agrees_with_the_derived_deserialize() {
        let text = r#"{"as_of": "2026-11-26", "region": "44",
            "holdings": [{"kind": "mohrss.skill-level", "status": "valid", "issued_on": "2020-01-02",
                          "occupation": "6-18-02-04", "level": "4", "number": "S"},
                         {"kind": "mem.electrical.low-voltage", "status": "revoked", "status_since": "2026-03-01",
                          "valid_until": null}],
            "experience_years": {"6-18-02-04": 3}, "diplomas": ["college"], "apprenticeship": true}"#;
        let a = AdviceInput::from_json(text).unwrap();
        let b: AdviceInput = serde_json::from_str(text).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.holdings[1].status_since, Some(d("2026-03-01")));
        assert_eq!(a.holdings[0].level, Some(Level::L4));
        // And it round-trips.
        let again: AdviceInput = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(again, a);
    }
}
