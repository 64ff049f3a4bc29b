//! The compiled, validated policy: what the rest of hutong reads.

use serde::{Deserialize, Serialize};

use crate::date::Day;
use crate::elicence::LicenceTypeCode;
use crate::ids::{ExemptionSet, Level, Status};
use crate::lifecycle::Lifecycle;
use crate::number::NumberScheme;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Department {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub short_zh: String,
    pub source: String,
    pub provisional: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Region {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub abbr: char,
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Personnel {
    Professional,
    Skilled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum QualificationCategory {
    Licensing,
    LevelAssessment,
}

/// An entry of the National Occupational Qualification Directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Qualification {
    pub id: String,
    pub name_zh: String,
    pub name_en: Option<String>,
    pub personnel: Personnel,
    pub category: QualificationCategory,
    pub departments: Vec<String>,
    pub legal_basis: Option<String>,
    pub source: String,
    pub provisional: bool,
    /// What is known and doubtful about the entry (how the directory groups it, what is
    /// unconfirmed), as the policy file says it.
    pub note: Option<String>,
}

/// A certificate kind (`mem.electrical.low-voltage`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Kind {
    pub id: String,
    pub department: String,
    pub certificate_zh: String,
    pub certificate_en: String,
    pub family_zh: Option<String>,
    pub family_en: Option<String>,
    pub name_zh: String,
    pub name_en: String,
    pub qualification: Option<String>,
    pub skill_level: bool,
    pub number_scheme: NumberScheme,
    /// Its codes within its scheme (the work-type codes of construction certificates), sorted;
    /// empty for schemes without codes. No two kinds of one scheme share a code.
    pub scheme_codes: Vec<SchemeCode>,
    pub lifecycle: String,
    pub occupations: Vec<String>,
    /// The licence type code (证照类型代码) of the kind's certificate in national e-licence
    /// identifiers (GB/T 36904), where a source confirms it; `None` when unconfirmed, and then
    /// certificates of the kind get no e-licence identifier ([`crate::elicence::for_certificate`]).
    /// Kinds of one certificate share it.
    pub licence_type_code: Option<LicenceTypeCode>,
    /// What anyone relying on a certificate of this kind must know: the kind's own notes, then
    /// its lifecycle's. Every verification answer for the kind carries them.
    pub notes: Vec<Note>,
    pub source: String,
    pub provisional: bool,
    /// The recognition rules that name this kind as the held certificate, built at load.
    #[serde(skip)]
    pub recognition: HeldRules,
    /// Its `[[lifecycle]]`, copied at load (see [`super::Policy::lifecycle_of`]).
    #[serde(skip)]
    pub lifecycle_rule: Lifecycle,
    /// Its position among all kinds in id order, set at load: comparing two kinds' indices
    /// compares their ids.
    #[serde(skip)]
    pub index: usize,
    /// The full name ([`Kind::full_name_zh`]), composed once at load: every answer about a
    /// certificate of the kind shows it.
    #[serde(skip)]
    pub title_zh: String,
    #[serde(skip)]
    pub title_en: String,
}

impl Kind {
    /// Composes the full names from the parts, into `title_zh` and `title_en`.
    pub(crate) fn compose_titles(&mut self) {
        self.title_zh = match &self.family_zh {
            Some(f) => format!("{} · {} · {}", self.certificate_zh, f, self.name_zh),
            None if self.name_zh == self.certificate_zh => self.certificate_zh.clone(),
            None => format!("{} · {}", self.certificate_zh, self.name_zh),
        };
        self.title_en = match &self.family_en {
            Some(f) => format!("{} · {} · {}", self.certificate_en, f, self.name_en),
            None if self.name_en == self.certificate_en => self.certificate_en.clone(),
            None => format!("{} · {}", self.certificate_en, self.name_en),
        };
    }

    /// The entry of `code` among the kind's scheme codes.
    pub fn scheme_code(&self, code: &str) -> Option<&SchemeCode> {
        self.scheme_codes.iter().find(|c| c.code == code)
    }

    /// `特种作业操作证 · 电工作业 · 低压电工作业`
    pub fn full_name_zh(&self) -> String {
        self.title_zh.clone()
    }

    pub fn full_name_en(&self) -> String {
        self.title_en.clone()
    }
}

/// One code of a kind within its number scheme: characters 3-4 of a `mohurd-provincial`
/// number, as the national work-type code table gives them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemeCode {
    pub code: String,
    /// What the code table calls it, when it is narrower than the kind (`建筑起重机械司机（塔式起重机）`).
    pub name_zh: Option<String>,
    pub name_en: Option<String>,
    /// What a reader of a number with this code must know (code 99 covers every type a province
    /// approves, not only this kind).
    pub note: Option<Note>,
    pub source: String,
    pub provisional: bool,
}

/// A note for whoever relies on a certificate (an employer, a verifier), with its source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    pub id: String,
    pub text_zh: String,
    pub text_en: String,
    pub source: String,
    pub provisional: bool,
}

/// What a certificate number says about its kind: one kind whose scheme the number fits and,
/// for schemes with codes, whose code it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberReading<'p> {
    pub kind: &'p Kind,
    pub decoded: crate::number::Decoded,
    /// The kind's entry for the code the number carries, for schemes with codes.
    pub code: Option<&'p SchemeCode>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Diploma {
    TechnicalSchool,
    SeniorTechnicalSchool,
    College,
    PreparatoryTechnician,
}

impl Diploma {
    pub const ALL: [Diploma; 4] = [
        Diploma::TechnicalSchool,
        Diploma::SeniorTechnicalSchool,
        Diploma::College,
        Diploma::PreparatoryTechnician,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Diploma::TechnicalSchool => "technical-school",
            Diploma::SeniorTechnicalSchool => "senior-technical-school",
            Diploma::College => "college",
            Diploma::PreparatoryTechnician => "preparatory-technician",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Diploma::TechnicalSchool => {
                "技工学校（或以中级技能为培养目标的中等及以上职业学校）本专业或相关专业毕业证书"
            }
            Diploma::SeniorTechnicalSchool => {
                "高级技工学校、技师学院（或以高级技能为培养目标的高等职业学校）毕业证书"
            }
            Diploma::College => "大专及以上本专业或相关专业毕业证书",
            Diploma::PreparatoryTechnician => "预备技师证书（技师学院）",
        }
    }
}

impl std::str::FromStr for Diploma {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Diploma::ALL.into_iter().find(|d| d.id() == s).ok_or_else(|| {
            format!(
                "unknown diploma \"{s}\" (expected one of: technical-school, senior-technical-school, college, preparatory-technician)"
            )
        })
    }
}

/// One way to qualify for a level: every stated requirement must be met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    pub id: String,
    pub level: Level,
    pub held_level: Option<Level>,
    pub years_since_held_level: Option<u32>,
    pub years_in_occupation: Option<u32>,
    pub diploma: Option<Diploma>,
    pub apprenticeship: bool,
    pub text_zh: String,
    pub text_en: Option<String>,
    pub source: String,
    pub provisional: bool,
}

/// An edition of an occupation's national standard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Standard {
    pub edition: String,
    pub name: String,
    pub effective_from: Day,
    /// Sorted by id.
    pub conditions: Vec<Condition>,
    pub source: String,
    pub provisional: bool,
    /// The ids of the conditions of each level, built at load.
    #[serde(skip)]
    pub condition_ids: Vec<(Level, Vec<String>)>,
}

impl Standard {
    /// The ids of the conditions for `level`, sorted.
    pub fn condition_ids(&self, level: Level) -> &[String] {
        self.condition_ids
            .iter()
            .find(|(l, _)| *l == level)
            .map(|(_, ids)| ids.as_slice())
            .unwrap_or(&[])
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Occupation {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub levels: Vec<Level>,
    /// Editions, oldest first.
    pub standards: Vec<Standard>,
    pub source: String,
    pub provisional: bool,
    /// Its position among all occupations in code order, set at load.
    #[serde(skip)]
    pub index: usize,
}

impl Occupation {
    /// The edition in force on `day`: the latest whose `effective_from` is not after it.
    pub fn standard_on(&self, day: Day) -> Option<&Standard> {
        self.standards
            .iter()
            .rev()
            .find(|s| s.effective_from <= day)
    }
}

/// The days a rule or exception is in force: from `from` up to and including `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Effective {
    pub from: Day,
    /// The last day in force; open-ended when absent.
    pub until: Option<Day>,
}

impl Effective {
    pub fn contains(&self, day: Day) -> bool {
        self.from <= day && self.until.is_none_or(|u| day <= u)
    }

    pub fn overlaps(&self, other: &Effective) -> bool {
        self.from <= other.until.unwrap_or(Day::MAX) && other.from <= self.until.unwrap_or(Day::MAX)
    }
}

/// Where a rule or exception applies: everywhere, or in one province.
pub fn regions_overlap(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// An `[[exemption_rule]]` (measure M1): a holder of `held`, in one of `held_status`, may be
/// exempted from `exemptions` when applying for `target`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExemptionRule {
    pub id: String,
    pub held: String,
    pub held_status: Vec<Status>,
    pub target: String,
    /// The target kind's item name, Chinese and English, and its department: copied from the
    /// kind at load so that advice needs no lookup.
    pub target_name_zh: String,
    pub target_name_en: String,
    pub target_department: String,
    /// The target kind's [`Kind::index`].
    #[serde(skip)]
    pub target_index: usize,
    pub exemptions: ExemptionSet,
    pub effective: Effective,
    pub region: Option<String>,
    pub source: String,
    pub provisional: bool,
    pub note: Option<String>,
    /// Indices into [`super::Policy::exceptions`] of the exceptions that name this rule.
    #[serde(skip)]
    pub exceptions: Vec<usize>,
}

/// A `[[deemed_level_rule]]` (measure M2): a holder of `held`, in one of `held_status`, is deemed
/// to have reached `level` of `occupation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeemedLevelRule {
    pub id: String,
    pub held: String,
    pub held_status: Vec<Status>,
    pub occupation: String,
    /// The occupation's names, copied at load.
    pub occupation_name_zh: String,
    pub occupation_name_en: String,
    /// The occupation's [`Occupation::index`].
    #[serde(skip)]
    pub occupation_index: usize,
    pub level: Level,
    pub effective: Effective,
    pub region: Option<String>,
    pub source: String,
    pub provisional: bool,
    pub note: Option<String>,
    /// Indices into [`super::Policy::exceptions`] of the exceptions that name this rule.
    #[serde(skip)]
    pub exceptions: Vec<usize>,
}

/// What an exception does to its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "kebab-case")]
pub enum ExceptionAction {
    /// The rule does not apply.
    Disable,
    /// The rule grants only `remaining` (a strict, non-empty subset of its exemptions).
    Narrow { remaining: ExemptionSet },
}

/// An `[[exception]]`: a region's or department's special rule (如无特别规定) that switches a
/// recognition rule off or narrows its exemptions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exception {
    pub id: String,
    pub rule: String,
    /// The province where it applies; everywhere when absent (a department's national rule).
    pub region: Option<String>,
    /// The department that made it, when known.
    pub department: Option<String>,
    pub action: ExceptionAction,
    pub effective: Effective,
    pub source: String,
    pub provisional: bool,
    pub note: Option<String>,
}

/// An `[[open_question]]`: something the policy does not know about a held kind, shown with the
/// advice so that the unknown is explicit instead of silently guessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpenQuestion {
    pub id: String,
    pub held: Vec<String>,
    pub text_zh: String,
    pub text_en: String,
    pub source: String,
    pub provisional: bool,
}

/// A status reason (IDENTIFIERS.md "Status reasons"), with the national status code it maps
/// to and its legal basis, as answers about a suspended, revoked or expired certificate give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusReason {
    pub id: String,
    /// The status it goes with: `suspended`, `revoked` or `expired`.
    pub status: String,
    pub name_zh: String,
    pub name_en: String,
    /// The national status code (POLICY.md §8: 02 暂扣, 03 吊销, 04 撤销, 05 注销, 06 失效, 99 其他).
    pub national_code: String,
    pub basis_zh: String,
    pub basis_en: String,
    pub source: String,
    pub provisional: bool,
}

/// The recognition rules that name one held kind, by index, in id order: computed once at load
/// so that advice never scans the whole rule set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeldRules {
    /// Indices into [`super::Policy::exemption_rules`].
    pub exemption: Vec<usize>,
    /// Indices into [`super::Policy::deemed_level_rules`].
    pub deemed_level: Vec<usize>,
    /// Indices into [`super::Policy::open_questions`].
    pub open_questions: Vec<usize>,
}

impl HeldRules {
    pub fn is_empty(&self) -> bool {
        self.exemption.is_empty() && self.deemed_level.is_empty() && self.open_questions.is_empty()
    }
}
