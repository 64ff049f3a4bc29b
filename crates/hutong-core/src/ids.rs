//! The fixed vocabularies of IDENTIFIERS.md: levels, statuses and exemptions.
//!
//! Departments, kinds, occupations and regions are data (see [`crate::policy`]); these three are
//! closed sets defined by the national standards and the notice, so they are enums.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A rung of the eight-level ladder, lowest first, so that `Ord` means "higher level".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Level {
    #[serde(rename = "apprentice")]
    Apprentice,
    #[serde(rename = "5")]
    L5,
    #[serde(rename = "4")]
    L4,
    #[serde(rename = "3")]
    L3,
    #[serde(rename = "2")]
    L2,
    #[serde(rename = "1")]
    L1,
    #[serde(rename = "principal")]
    Principal,
    #[serde(rename = "chief")]
    Chief,
}

impl Level {
    pub const ALL: [Level; 8] = [
        Level::Apprentice,
        Level::L5,
        Level::L4,
        Level::L3,
        Level::L2,
        Level::L1,
        Level::Principal,
        Level::Chief,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Level::Apprentice => "apprentice",
            Level::L5 => "5",
            Level::L4 => "4",
            Level::L3 => "3",
            Level::L2 => "2",
            Level::L1 => "1",
            Level::Principal => "principal",
            Level::Chief => "chief",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Level::Apprentice => "学徒工",
            Level::L5 => "初级工",
            Level::L4 => "中级工",
            Level::L3 => "高级工",
            Level::L2 => "技师",
            Level::L1 => "高级技师",
            Level::Principal => "特级技师",
            Level::Chief => "首席技师",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Level::Apprentice => "Apprentice",
            Level::L5 => "Junior worker (level 5)",
            Level::L4 => "Intermediate worker (level 4)",
            Level::L3 => "Senior worker (level 3)",
            Level::L2 => "Technician (level 2)",
            Level::L1 => "Senior technician (level 1)",
            Level::Principal => "Principal technician",
            Level::Chief => "Chief technician",
        }
    }

    /// The digit a skill level certificate number carries for this level, if it has one.
    pub fn digit(self) -> Option<char> {
        match self {
            Level::L5 => Some('5'),
            Level::L4 => Some('4'),
            Level::L3 => Some('3'),
            Level::L2 => Some('2'),
            Level::L1 => Some('1'),
            _ => None,
        }
    }

    /// The next rung up, if there is one.
    pub fn next(self) -> Option<Level> {
        let i = Level::ALL.iter().position(|l| *l == self)?;
        Level::ALL.get(i + 1).copied()
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Level {
    type Err = UnknownId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .iter()
            .copied()
            .find(|l| l.id() == s)
            .ok_or_else(|| {
                UnknownId::new("level", s, "apprentice, 5, 4, 3, 2, 1, principal, chief")
            })
    }
}

/// A certificate's status on a given date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Valid,
    ReviewDue,
    Expired,
    Suspended,
    Revoked,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Valid,
        Status::ReviewDue,
        Status::Expired,
        Status::Suspended,
        Status::Revoked,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::ReviewDue => "review-due",
            Status::Expired => "expired",
            Status::Suspended => "suspended",
            Status::Revoked => "revoked",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Status::Valid => "有效",
            Status::ReviewDue => "有效（待复审/换证）",
            Status::Expired => "已过期",
            Status::Suspended => "已暂停",
            Status::Revoked => "已撤销",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Status::Valid => "Valid",
            Status::ReviewDue => "Valid, review or renewal due",
            Status::Expired => "Expired",
            Status::Suspended => "Suspended",
            Status::Revoked => "Revoked",
        }
    }

    /// Whether a certificate in this status may be relied on today.
    pub fn is_in_force(self) -> bool {
        matches!(self, Status::Valid | Status::ReviewDue)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Status {
    type Err = UnknownId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .iter()
            .copied()
            .find(|x| x.id() == s)
            .ok_or_else(|| {
                UnknownId::new(
                    "status",
                    s,
                    "valid, review-due, expired, suspended, revoked",
                )
            })
    }
}

/// What a recognised certificate may excuse its holder from when applying elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Exemption {
    SafetyTraining,
    TheoryExam,
}

impl Exemption {
    pub const ALL: [Exemption; 2] = [Exemption::SafetyTraining, Exemption::TheoryExam];

    pub fn id(self) -> &'static str {
        match self {
            Exemption::SafetyTraining => "safety-training",
            Exemption::TheoryExam => "theory-exam",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Exemption::SafetyTraining => "免予安全作业培训",
            Exemption::TheoryExam => "免予理论考试",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Exemption::SafetyTraining => "exempt from safety training",
            Exemption::TheoryExam => "exempt from the theory exam",
        }
    }
}

impl fmt::Display for Exemption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Exemption {
    type Err = UnknownId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Exemption::ALL
            .iter()
            .copied()
            .find(|x| x.id() == s)
            .ok_or_else(|| UnknownId::new("exemption", s, "safety-training, theory-exam"))
    }
}

/// A set of exemptions, small enough to copy: what a rule grants, what an exception leaves.
///
/// Serialized as the list of its exemption ids in canonical order (`["safety-training",
/// "theory-exam"]`), and read from such a list in any order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ExemptionSet(u8);

impl ExemptionSet {
    pub const EMPTY: ExemptionSet = ExemptionSet(0);

    fn bit(e: Exemption) -> u8 {
        match e {
            Exemption::SafetyTraining => 1,
            Exemption::TheoryExam => 2,
        }
    }

    pub fn insert(&mut self, e: Exemption) {
        self.0 |= Self::bit(e);
    }

    pub fn contains(self, e: Exemption) -> bool {
        self.0 & Self::bit(e) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    pub fn union(self, other: ExemptionSet) -> ExemptionSet {
        ExemptionSet(self.0 | other.0)
    }

    pub fn intersection(self, other: ExemptionSet) -> ExemptionSet {
        ExemptionSet(self.0 & other.0)
    }

    /// The exemptions of `self` that `other` lacks.
    pub fn minus(self, other: ExemptionSet) -> ExemptionSet {
        ExemptionSet(self.0 & !other.0)
    }

    pub fn is_subset(self, other: ExemptionSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// The exemptions in canonical order.
    pub fn iter(self) -> impl Iterator<Item = Exemption> {
        Exemption::ALL
            .into_iter()
            .filter(move |e| self.contains(*e))
    }

    /// `safety-training, theory-exam` (or `none`).
    pub fn describe(self) -> String {
        if self.is_empty() {
            return "none".to_string();
        }
        self.iter()
            .map(Exemption::id)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl FromIterator<Exemption> for ExemptionSet {
    fn from_iter<I: IntoIterator<Item = Exemption>>(iter: I) -> Self {
        let mut s = ExemptionSet::EMPTY;
        for e in iter {
            s.insert(e);
        }
        s
    }
}

impl Serialize for ExemptionSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for ExemptionSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<Exemption>::deserialize(d)?.into_iter().collect())
    }
}

/// An identifier that is not in its vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} \"{value}\" (expected one of: {expected})")]
pub struct UnknownId {
    pub what: &'static str,
    pub value: String,
    pub expected: &'static str,
}

impl UnknownId {
    fn new(what: &'static str, value: &str, expected: &'static str) -> Self {
        UnknownId {
            what,
            value: value.to_string(),
            expected,
        }
    }
}

/// Whether `s` is a well-formed dotted identifier: lower-case ASCII letters, digits and hyphens
/// in one or more dot-separated parts (`mem.electrical.low-voltage`).
pub fn is_dotted_id(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            !part.is_empty()
                && !part.starts_with('-')
                && !part.ends_with('-')
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_order_lowest_first_and_round_trip() {
        assert!(Level::L5 < Level::L4 && Level::L1 < Level::Principal);
        assert_eq!(Level::L5.next(), Some(Level::L4));
        assert_eq!(Level::Chief.next(), None);
        for l in Level::ALL {
            assert_eq!(l.id().parse::<Level>().unwrap(), l);
            let json = serde_json::to_string(&l).unwrap();
            assert_eq!(json, format!("\"{}\"", l.id()));
        }
        let err = "6".parse::<Level>().unwrap_err();
        assert!(err.to_string().contains("unknown level \"6\""));
    }

    #[test]
    fn statuses_and_exemptions_use_the_canonical_ids() {
        assert_eq!(
            serde_json::to_string(&Status::ReviewDue).unwrap(),
            "\"review-due\""
        );
        assert_eq!("revoked".parse::<Status>().unwrap(), Status::Revoked);
        assert_eq!(
            serde_json::to_string(&Exemption::SafetyTraining).unwrap(),
            "\"safety-training\""
        );
        assert!(Status::ReviewDue.is_in_force() && !Status::Expired.is_in_force());
    }

    #[test]
    fn exemption_sets_are_canonical_lists() {
        let all: ExemptionSet = [Exemption::TheoryExam, Exemption::SafetyTraining]
            .into_iter()
            .collect();
        assert_eq!(
            serde_json::to_string(&all).unwrap(),
            r#"["safety-training","theory-exam"]"#
        );
        let one: ExemptionSet = serde_json::from_str(r#"["theory-exam"]"#).unwrap();
        assert!(one.is_subset(all) && !all.is_subset(one));
        assert_eq!(all.minus(one).describe(), "safety-training");
        assert_eq!(all.intersection(one), one);
        assert_eq!(ExemptionSet::EMPTY.describe(), "none");
        assert_eq!(all.len(), 2);
    }

    #[test]
    fn dotted_ids() {
        assert!(is_dotted_id("mem.electrical.low-voltage"));
        assert!(is_dotted_id("mohrss.skill-level"));
        assert!(!is_dotted_id("Mem.x"));
        assert!(!is_dotted_id("mem..x"));
        assert!(!is_dotted_id("mem.-x"));
        assert!(!is_dotted_id(""));
    }
}
