//! Checking a certificate record from outside (an import row, an issuing request) against the
//! policy and its issuer, and turning it into a [`Certificate`]. Every problem names its field.

use serde::Deserialize;

use crate::certificate::{AdminState, Certificate};
use crate::date::{Day, parse_day};
use crate::holder::HolderSecret;
use crate::idcard::ResidentId;
use crate::ids::{Level, Status};
use crate::issuer::{Issuer, IssuerRole};
use crate::number::{self, RecordContext};
use crate::policy::{Kind, Policy};

/// A record as it arrives: every field a string, as in the CSV and NDJSON import formats
/// (`number,kind,holder_name,holder_id,occupation,level,issuer,issued_on,valid_until,status`),
/// plus optional `status_on`, `first_issued_on` and `last_review_on`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RecordInput {
    #[serde(default)]
    pub number: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub holder_name: String,
    #[serde(default)]
    pub holder_id: String,
    #[serde(default)]
    pub occupation: String,
    #[serde(default)]
    pub level: String,
    #[serde(default)]
    pub issuer: String,
    #[serde(default)]
    pub issued_on: String,
    #[serde(default)]
    pub valid_until: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub status_on: String,
    #[serde(default)]
    pub first_issued_on: String,
    #[serde(default)]
    pub last_review_on: String,
    /// In an export's rows, in place of `holder_id`: the holder's keyed hash, with the
    /// fingerprint of the holder secret it was made with ([`crate::export`]).
    #[serde(default)]
    pub holder_key: String,
    /// Why a revoked certificate was revoked (IDENTIFIERS.md "Status reasons").
    #[serde(default)]
    pub status_reason: String,
}

/// One problem with one field of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// A checked record: the certificate to store, and whether the record left the date of its
/// suspension or revocation unstated (then the caller decides it, usually today).
#[derive(Debug, Clone)]
pub struct CheckedRecord {
    pub certificate: Certificate,
    pub state_date_unstated: bool,
}

fn opt(s: &str) -> Option<&str> {
    let t = s.trim();
    (!t.is_empty()).then_some(t)
}

/// Checks a certificate's number against its kind's scheme and, when the issue date is known,
/// against the rest of the record: the holder's ID number where the number embeds one (when it
/// is at hand), the level, the issue year, the issuer's province and institution codes.
pub fn check_number(
    policy: &Policy,
    kind: &Kind,
    issuer: Option<&Issuer>,
    number: &str,
    holder: Option<&ResidentId>,
    level: Option<Level>,
    issued_on: Option<Day>,
) -> Result<(), number::NumberError> {
    let decoded = number::decode(kind.number_scheme, number)?;
    let Some(issued_on) = issued_on else {
        return Ok(());
    };
    let province = issuer.and_then(|i| i.region.as_deref());
    let institution = issuer.filter(|i| i.role == IssuerRole::Institution);
    decoded.check_consistency(&RecordContext {
        holder,
        level,
        issued_on,
        scheme_codes: &kind.scheme_codes,
        issuer_province: province,
        issuer_province_abbr: province.and_then(|p| policy.region(p)).map(|r| r.abbr),
        institution_type: institution.and_then(|i| i.institution_type.as_deref()),
        institution_code: institution.and_then(|i| i.institution_code.as_deref()),
    })
}

/// Checks a record. `issuer` is the registered issuer the record names (`None` when it is not
/// registered); `today` bounds issue dates; a suspension or revocation without a `status_on`
/// takes effect on `today`.
pub fn check_record(
    policy: &Policy,
    issuer: Option<&Issuer>,
    secret: &HolderSecret,
    input: &RecordInput,
    today: Day,
) -> Result<CheckedRecord, Vec<FieldError>> {
    let mut errs = Vec::new();
    let mut err = |field: &'static str, message: String| errs.push(FieldError { field, message });

    // An export seals the numbers that embed an ID number; only the same holder secret opens
    // them, and only for the kind they were sealed with.
    let number = match crate::export::unseal_number(secret, input.kind.trim(), input.number.trim())
    {
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            err("number", e);
            String::new()
        }
        None => {
            let n = number::normalize(&input.number);
            if n.is_empty() {
                err("number", "is empty".into());
            }
            n
        }
    };
    let kind = match opt(&input.kind) {
        None => {
            err("kind", "is empty".into());
            None
        }
        Some(k) => match policy.kind(k) {
            Some(kind) => Some(kind),
            None => {
                err(
                    "kind",
                    format!("\"{k}\" is not a certificate kind of the policy"),
                );
                None
            }
        },
    };
    let name = input.holder_name.trim();
    if name.is_empty() {
        err("holder_name", "is empty".into());
    } else if name.chars().count() > 60 || name.chars().any(char::is_control) {
        err(
            "holder_name",
            "must be at most 60 characters, with no control characters".into(),
        );
    }
    // The holder: by ID number, or (in an export's rows) by keyed hash.
    let (holder, holder_key) = match (opt(&input.holder_id), opt(&input.holder_key)) {
        (Some(_), Some(_)) => {
            err(
                "holder_key",
                "give holder_id or holder_key, not both".into(),
            );
            (None, None)
        }
        (None, Some(k)) => match crate::export::parse_holder_key(secret, k) {
            Ok(key) => (None, Some(key)),
            Err(e) => {
                err("holder_key", e);
                (None, None)
            }
        },
        _ => match ResidentId::parse(&input.holder_id) {
            Ok(id) => {
                let key = secret.key_for(&id);
                (Some(id), Some(key))
            }
            Err(e) => {
                err("holder_id", e.to_string());
                (None, None)
            }
        },
    };
    let reason = match opt(&input.status_reason) {
        None => None,
        Some(r) => match crate::certificate::RevocationReason::parse(r) {
            Some(r) => Some(r),
            None => {
                err(
                    "status_reason",
                    format!(
                        "\"{r}\" is not a status reason; the reasons are {}",
                        crate::certificate::RevocationReason::ALL
                            .iter()
                            .map(|r| r.id())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                None
            }
        },
    };
    let mut day = |field: &'static str, s: &str, required: bool| -> Option<Day> {
        match opt(s) {
            None if required => {
                err(field, "is empty".into());
                None
            }
            None => None,
            Some(s) => match parse_day(s) {
                Ok(d) => Some(d),
                Err(e) => {
                    err(field, e);
                    None
                }
            },
        }
    };
    let issued_on = day("issued_on", &input.issued_on, true);
    let valid_until = day("valid_until", &input.valid_until, false);
    let status_on = day("status_on", &input.status_on, false);
    let first_issued_on = day("first_issued_on", &input.first_issued_on, false);
    let last_review_on = day("last_review_on", &input.last_review_on, false);

    let status = match opt(&input.status) {
        None => Status::Valid,
        Some(s) => s.parse::<Status>().unwrap_or_else(|e| {
            err("status", e.to_string());
            Status::Valid
        }),
    };
    let level = opt(&input.level).and_then(|l| match l.parse::<Level>() {
        Ok(l) => Some(l),
        Err(e) => {
            err("level", e.to_string());
            None
        }
    });
    let occupation = opt(&input.occupation);

    if let Some(issued) = issued_on {
        if issued > today {
            err("issued_on", format!("{issued} is in the future"));
        }
        if let Some(until) = valid_until
            && until <= issued
        {
            err(
                "valid_until",
                format!("{until} is not after the issue date {issued}"),
            );
        }
        if let Some(first) = first_issued_on
            && first > issued
        {
            err(
                "first_issued_on",
                format!("{first} is after the issue date {issued}"),
            );
        }
        if let Some(r) = last_review_on
            && (r < issued || r > today)
        {
            err(
                "last_review_on",
                format!("{r} is not between the issue date and today"),
            );
        }
        if let Some(s) = status_on
            && s < issued
        {
            err(
                "status_on",
                format!("{s} is before the issue date {issued}"),
            );
        }
    }

    if let Some(kind) = kind {
        let lifecycle = policy.lifecycle_of(kind);
        if !lifecycle.expires && valid_until.is_some() {
            err(
                "valid_until",
                format!("{} certificates do not expire; leave it empty", kind.id),
            );
        }
        if kind.skill_level {
            match occupation {
                None => err(
                    "occupation",
                    "a skill level certificate names its occupation".into(),
                ),
                Some(o) => match policy.occupation(o) {
                    None => err(
                        "occupation",
                        format!("\"{o}\" is not an occupation of the policy"),
                    ),
                    Some(occ) => {
                        if let Some(l) = level
                            && !occ.levels.contains(&l)
                        {
                            err("level", format!("occupation {o} has no level {l}"));
                        }
                    }
                },
            }
            if level.is_none() && opt(&input.level).is_none() {
                err(
                    "level",
                    "a skill level certificate carries its level".into(),
                );
            }
        } else {
            if occupation.is_some() {
                err(
                    "occupation",
                    format!(
                        "{} certificates carry no occupation; leave it empty",
                        kind.id
                    ),
                );
            }
            if opt(&input.level).is_some() {
                err(
                    "level",
                    format!("{} certificates carry no level; leave it empty", kind.id),
                );
            }
        }
        if matches!(status, Status::Expired) && !lifecycle.expires {
            err("status", format!("{} certificates do not expire", kind.id));
        }
    }

    match (opt(&input.issuer), issuer) {
        (None, _) => err("issuer", "is empty".into()),
        (Some(id), None) => err("issuer", format!("\"{id}\" is not a registered issuer")),
        (Some(_), Some(iss)) => {
            if let (Some(kind), Some(issued)) = (kind, issued_on) {
                if iss.department != kind.department {
                    err(
                        "issuer",
                        format!(
                            "{} belongs to {}, which does not issue {}",
                            iss.id, iss.department, kind.id
                        ),
                    );
                } else if let Err(e) = iss.may_issue(&kind.id, occupation, level, issued) {
                    err("issuer", e);
                }
            }
        }
    }

    // The number, against everything else.
    if let (Some(kind), false) = (kind, number.is_empty())
        && let Err(e) = check_number(
            policy,
            kind,
            issuer,
            &number,
            holder.as_ref(),
            level,
            issued_on,
        )
    {
        err("number", e.to_string());
    }

    if reason.is_some() && status != Status::Revoked {
        err(
            "status_reason",
            "only a revoked certificate has a status reason".into(),
        );
    }

    if !errs.is_empty() {
        return Err(errs);
    }
    let (Some(kind), Some(holder_key), Some(issued_on)) = (kind, holder_key, issued_on) else {
        unreachable!("every missing part was reported as an error above")
    };
    let state_day = status_on.unwrap_or(today);
    let state = match status {
        Status::Suspended => AdminState::Suspended { since: state_day },
        Status::Revoked => AdminState::Revoked {
            on: state_day,
            reason,
        },
        _ => AdminState::Active,
    };
    Ok(CheckedRecord {
        certificate: Certificate {
            number,
            kind: kind.id.clone(),
            holder_key,
            holder_name: name.to_string(),
            occupation: occupation.map(str::to_string),
            level,
            issuer: input.issuer.trim().to_string(),
            issued_on,
            first_issued_on: first_issued_on.unwrap_or(issued_on),
            valid_until,
            last_review_on,
            state,
        },
        state_date_unstated: status_on.is_none() && state != AdminState::Active,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issuer::Grant;

    fn policy() -> Policy {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy");
        Policy::load_dir(&dir).unwrap()
    }

    fn authority() -> Issuer {
        Issuer {
            id: "mem.44".into(),
            name_zh: "广东省应急管理厅".into(),
            name_en: None,
            department: "mem".into(),
            role: IssuerRole::Authority,
            region: Some("44".into()),
            grants: vec![Grant::kind(
                "mem.electrical.low-voltage",
                "2010-01-01".parse().unwrap(),
            )],
            institution_type: None,
            institution_code: None,
            registered_on: "2010-01-01".parse().unwrap(),
            suspensions: vec![],
            removed_on: None,
            contact: None,
            credit_code: None,
        }
    }

    fn institution() -> Issuer {
        Issuer {
            id: "inst.s0000-44-000123".into(),
            department: "mohrss".into(),
            role: IssuerRole::Institution,
            grants: vec![Grant::scope(
                "mohrss.skill-level",
                "6-18-02-04",
                &[Level::L5, Level::L4],
                "2010-01-01".parse().unwrap(),
            )],
            institution_type: Some("S".into()),
            institution_code: Some("0000".into()),
            ..authority()
        }
    }

    const ID: &str = "11010519491231002X";

    fn mem_row() -> RecordInput {
        RecordInput {
            number: format!("T{ID}"),
            kind: "mem.electrical.low-voltage".into(),
            holder_name: "张小明".into(),
            holder_id: ID.into(),
            issuer: "mem.44".into(),
            issued_on: "2024-03-01".into(),
            valid_until: "2030-03-01".into(),
            status: "valid".into(),
            ..Default::default()
        }
    }

    fn today() -> Day {
        "2026-11-26".parse().unwrap()
    }

    fn check(row: &RecordInput, issuer: Option<&Issuer>) -> Result<CheckedRecord, Vec<FieldError>> {
        check_record(
            &policy(),
            issuer,
            &HolderSecret::from_bytes([9; 32]),
            row,
            today(),
        )
    }

    fn fields(r: Result<CheckedRecord, Vec<FieldError>>) -> Vec<String> {
        r.expect_err("should be rejected")
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    #[test]
    fn a_good_record_becomes_a_certificate_without_the_id_number() {
        let c = check(&mem_row(), Some(&authority())).unwrap().certificate;
        assert_eq!(c.number, format!("T{ID}"));
        assert_eq!(c.first_issued_on, c.issued_on);
        assert_eq!(
            c.holder_key,
            HolderSecret::from_bytes([9; 32]).key_for(&ResidentId::parse(ID).unwrap())
        );
    }

    #[test]
    fn a_number_of_someone_else_is_rejected() {
        let mut row = mem_row();
        row.holder_id =
            crate::idcard::ResidentId::synthesize(440305, "1980-01-01".parse().unwrap(), 5)
                .as_str()
                .into();
        let f = fields(check(&row, Some(&authority())));
        assert!(
            f.iter().any(|e| e
                .starts_with("number: the number embeds an ID number that is not the holder's")),
            "{f:?}"
        );
    }

    #[test]
    fn every_bad_field_is_reported() {
        let mut row = mem_row();
        row.holder_id = "110105194912310021".into();
        row.issued_on = "2024-02-30".into();
        row.status = "active".into();
        row.level = "4".into();
        let f = fields(check(&row, Some(&authority())));
        assert!(
            f.iter()
                .any(|e| e
                    .starts_with("holder_id: the resident ID number's check character is wrong")),
            "{f:?}"
        );
        assert!(
            f.iter()
                .any(|e| e == "issued_on: \"2024-02-30\" is not a real calendar date"),
            "{f:?}"
        );
        assert!(
            f.iter()
                .any(|e| e.starts_with("status: unknown status \"active\"")),
            "{f:?}"
        );
        assert!(
            f.iter()
                .any(|e| e
                    .starts_with("level: mem.electrical.low-voltage certificates carry no level")),
            "{f:?}"
        );
    }

    #[test]
    fn issuer_rights_are_checked() {
        let f = fields(check(&mem_row(), None));
        assert_eq!(f, ["issuer: \"mem.44\" is not a registered issuer"]);
        let mut row = mem_row();
        row.kind = "mem.welding.brazing".into();
        let f = fields(check(&row, Some(&authority())));
        assert!(
            f.iter()
                .any(|e| e.contains("is not registered to issue mem.welding.brazing")),
            "{f:?}"
        );
    }

    #[test]
    fn skill_level_numbers_must_agree_with_level_and_institution() {
        let mut row = RecordInput {
            number: "S000044000123244000042".into(),
            kind: "mohrss.skill-level".into(),
            holder_name: "李四".into(),
            holder_id: ID.into(),
            occupation: "6-18-02-04".into(),
            level: "4".into(),
            issuer: "inst.s0000-44-000123".into(),
            issued_on: "2024-05-01".into(),
            ..Default::default()
        };
        assert!(check(&row, Some(&institution())).is_ok());
        row.level = "5".into();
        let f = fields(check(&row, Some(&institution())));
        assert_eq!(
            f,
            ["number: character 16 says level 4, but the certificate is level 5"]
        );
        row.level = "3".into();
        let f = fields(check(&row, Some(&institution())));
        assert!(
            f.iter()
                .any(|e| e.contains("not registered to evaluate occupation 6-18-02-04 at level 3")),
            "{f:?}"
        );
        row.level = "4".into();
        row.valid_until = "2030-01-01".into();
        let f = fields(check(&row, Some(&institution())));
        assert_eq!(
            f,
            ["valid_until: mohrss.skill-level certificates do not expire; leave it empty"]
        );
    }

    #[test]
    fn dates_must_be_consistent() {
        let mut row = mem_row();
        row.valid_until = "2024-03-01".into();
        assert_eq!(
            fields(check(&row, Some(&authority()))),
            ["valid_until: 2024-03-01 is not after the issue date 2024-03-01"]
        );
        let mut row = mem_row();
        row.issued_on = "2027-01-01".into();
        row.valid_until = String::new();
        assert!(
            fields(check(&row, Some(&authority())))
                .iter()
                .any(|e| e.contains("is in the future"))
        );
    }

    #[test]
    fn suspension_without_a_date_takes_today() {
        let mut row = mem_row();
        row.status = "suspended".into();
        let c = check(&row, Some(&authority())).unwrap();
        assert!(c.state_date_unstated);
        assert_eq!(
            c.certificate.state,
            AdminState::Suspended { since: today() }
        );
        row.status_on = "2025-01-01".into();
        let c = check(&row, Some(&authority())).unwrap();
        assert!(!c.state_date_unstated);
        assert_eq!(
            c.certificate.state,
            AdminState::Suspended {
                since: "2025-01-01".parse().unwrap()
            }
        );
    }
}
