//! The compiled, validated policy: what the rest of hutong reads.

use serde::Serialize;

use crate::date::Day;
use crate::ids::Level;
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
    pub scheme_code: Option<String>,
    pub lifecycle: String,
    pub occupations: Vec<String>,
    pub source: String,
    pub provisional: bool,
}

impl Kind {
    /// `特种作业操作证 · 电工作业 · 低压电工作业`
    pub fn full_name_zh(&self) -> String {
        match &self.family_zh {
            Some(f) => format!("{} · {} · {}", self.certificate_zh, f, self.name_zh),
            None if self.name_zh == self.certificate_zh => self.certificate_zh.clone(),
            None => format!("{} · {}", self.certificate_zh, self.name_zh),
        }
    }

    pub fn full_name_en(&self) -> String {
        match &self.family_en {
            Some(f) => format!("{} · {} · {}", self.certificate_en, f, self.name_en),
            None if self.name_en == self.certificate_en => self.certificate_en.clone(),
            None => format!("{} · {}", self.certificate_en, self.name_en),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
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
    pub conditions: Vec<Condition>,
    pub source: String,
    pub provisional: bool,
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
