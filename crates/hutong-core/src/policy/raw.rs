//! The shapes of the policy files as written (see `docs/policy-format.md`). Spans are kept so
//! that every validation error can name its line.

use serde::Deserialize;
use toml::Spanned;

use crate::date::{Day, Period};
use crate::ids::{Exemption, Level, Status};

/// One policy file: top-level arrays of tables, joined across all files of a folder.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    #[serde(default)]
    pub department: Vec<Spanned<RawDepartment>>,
    #[serde(default)]
    pub region: Vec<Spanned<RawRegion>>,
    #[serde(default)]
    pub qualification: Vec<Spanned<RawQualification>>,
    #[serde(default)]
    pub lifecycle: Vec<Spanned<RawLifecycle>>,
    #[serde(default)]
    pub kind: Vec<Spanned<RawKind>>,
    #[serde(default)]
    pub occupation: Vec<Spanned<RawOccupation>>,
    #[serde(default)]
    pub exemption_rule: Vec<Spanned<RawExemptionRule>>,
    #[serde(default)]
    pub deemed_level_rule: Vec<Spanned<RawDeemedLevelRule>>,
    #[serde(default)]
    pub exception: Vec<Spanned<RawException>>,
    #[serde(default)]
    pub open_question: Vec<Spanned<RawOpenQuestion>>,
    #[serde(default)]
    pub status_reason: Vec<Spanned<RawStatusReason>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStatusReason {
    pub id: String,
    pub status: String,
    pub name_zh: String,
    pub name_en: String,
    pub national_code: String,
    pub basis_zh: String,
    pub basis_en: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub provisional: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDepartment {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    #[serde(default)]
    pub short_zh: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub provisional: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRegion {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub abbr: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub provisional: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQualification {
    pub id: String,
    pub name_zh: String,
    #[serde(default)]
    pub name_en: Option<String>,
    pub personnel: String,
    pub category: String,
    pub departments: Spanned<Vec<String>>,
    #[serde(default)]
    pub legal_basis: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub provisional: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLifecycle {
    pub id: String,
    #[serde(default = "yes")]
    pub expires: bool,
    pub validity: Option<Period>,
    pub review_interval: Option<Period>,
    pub review_window: Option<Period>,
    pub extended_review_interval: Option<Period>,
    pub extended_review_after: Option<Period>,
    pub renewal_window: Option<Period>,
    pub renewal_deadline: Option<Period>,
    pub renewal_extends: Option<Period>,
    /// What anyone relying on a certificate of this lifecycle must know (`[[lifecycle.notes]]`).
    #[serde(default)]
    pub notes: Vec<Spanned<RawNote>>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub provisional: bool,
    #[serde(default)]
    pub note: Option<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKind {
    pub id: String,
    pub department: Spanned<String>,
    pub certificate_zh: String,
    pub certificate_en: String,
    #[serde(default)]
    pub family_zh: Option<String>,
    #[serde(default)]
    pub family_en: Option<String>,
    pub name_zh: String,
    pub name_en: String,
    #[serde(default)]
    pub qualification: Option<Spanned<String>>,
    #[serde(default)]
    pub skill_level: bool,
    pub number_scheme: Spanned<String>,
    /// The one code of this kind within its scheme (the older, single-code form).
    #[serde(default)]
    pub scheme_code: Option<Spanned<String>>,
    /// Its codes within its scheme, each with its own name and source (`[[kind.scheme_codes]]`).
    #[serde(default)]
    pub scheme_codes: Vec<Spanned<RawSchemeCode>>,
    pub lifecycle: Spanned<String>,
    #[serde(default)]
    pub occupations: Option<Spanned<Vec<String>>>,
    /// The licence type code (证照类型代码) of the kind's certificate in GB/T 36904 e-licence
    /// identifiers, where a source confirms it.
    #[serde(default)]
    pub licence_type_code: Option<Spanned<String>>,
    /// What anyone relying on a certificate of this kind must know (`[[kind.notes]]`).
    #[serde(default)]
    pub notes: Vec<Spanned<RawNote>>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub provisional: bool,
    #[serde(default)]
    pub note: Option<String>,
}

/// One code of a kind within its number scheme (the work-type code of construction
/// certificates), with what the code table says of it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchemeCode {
    pub code: String,
    #[serde(default)]
    pub name_zh: Option<String>,
    #[serde(default)]
    pub name_en: Option<String>,
    /// What a reader of a number with this code must know; both languages or neither.
    #[serde(default)]
    pub note_zh: Option<String>,
    #[serde(default)]
    pub note_en: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub provisional: bool,
    #[serde(default)]
    pub note: Option<String>,
}

/// A note shown with every verification of a certificate of a kind (or of a lifecycle).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNote {
    pub id: String,
    pub text_zh: String,
    pub text_en: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub provisional: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOccupation {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub levels: Spanned<Vec<Level>>,
    #[serde(default)]
    pub standard: Vec<Spanned<RawStandard>>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub provisional: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStandard {
    pub edition: String,
    pub name: String,
    #[serde(deserialize_with = "crate::date::day_serde::deserialize")]
    pub effective_from: crate::date::Day,
    #[serde(default)]
    pub condition: Vec<Spanned<RawCondition>>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub provisional: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCondition {
    pub id: String,
    pub level: Level,
    #[serde(default)]
    pub held_level: Option<Level>,
    #[serde(default)]
    pub years_since_held_level: Option<u32>,
    #[serde(default)]
    pub years_in_occupation: Option<u32>,
    #[serde(default)]
    pub diploma: Option<String>,
    #[serde(default)]
    pub apprenticeship: Option<bool>,
    #[serde(default)]
    pub text_zh: Option<String>,
    #[serde(default)]
    pub text_en: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub provisional: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExemptionRule {
    pub id: String,
    pub held: Spanned<String>,
    #[serde(default)]
    pub held_status: Option<Spanned<Vec<Status>>>,
    pub target: Spanned<String>,
    pub exemptions: Spanned<Vec<Exemption>>,
    #[serde(deserialize_with = "crate::date::day_serde::deserialize")]
    pub effective_from: Day,
    #[serde(
        default,
        deserialize_with = "crate::date::day_serde::option::deserialize"
    )]
    pub effective_until: Option<Day>,
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub provisional: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDeemedLevelRule {
    pub id: String,
    pub held: Spanned<String>,
    #[serde(default)]
    pub held_status: Option<Spanned<Vec<Status>>>,
    pub occupation: Spanned<String>,
    pub level: Spanned<Level>,
    #[serde(deserialize_with = "crate::date::day_serde::deserialize")]
    pub effective_from: Day,
    #[serde(
        default,
        deserialize_with = "crate::date::day_serde::option::deserialize"
    )]
    pub effective_until: Option<Day>,
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub provisional: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawException {
    pub id: String,
    pub rule: Spanned<String>,
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    #[serde(default)]
    pub department: Option<Spanned<String>>,
    pub action: Spanned<String>,
    #[serde(default)]
    pub exemptions: Option<Spanned<Vec<Exemption>>>,
    #[serde(deserialize_with = "crate::date::day_serde::deserialize")]
    pub effective_from: Day,
    #[serde(
        default,
        deserialize_with = "crate::date::day_serde::option::deserialize"
    )]
    pub effective_until: Option<Day>,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub provisional: bool,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOpenQuestion {
    pub id: String,
    pub held: Spanned<Vec<String>>,
    pub text_zh: String,
    pub text_en: String,
    #[serde(default)]
    pub source: Option<String>,
    #[serde(default)]
    pub provisional: bool,
    #[serde(default)]
    pub note: Option<String>,
}
