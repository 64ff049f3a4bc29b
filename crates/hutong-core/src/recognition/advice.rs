//! The advice: what the holdings entitle the holder to, with the reasons. Its JSON shape is a
//! contract (issue 4): fields may be added, never renamed.

use std::borrow::Cow;
use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Serialize};

use crate::date::Day;
use crate::ids::{ExemptionSet, Level, Status};

/// What the holdings entitle the holder to on one day, with the reasons. The JSON shape is a
/// contract (issue 4): fields may be added, never renamed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advice<'a> {
    pub as_of: Day,
    pub region: Option<Cow<'a, str>>,
    /// The digest of the policy that produced the advice.
    pub policy: Cow<'a, str>,
    pub deemed_levels: Vec<DeemedLevel<'a>>,
    pub applications: Vec<Application<'a>>,
    pub next_levels: Vec<NextLevel<'a>>,
    pub not_applied: Vec<NotApplied<'a>>,
    /// What the policy does not know about the held kinds (POLICY.md \[U\]).
    #[serde(default)]
    pub open_questions: Vec<OpenQuestionNote<'a>>,
}

/// A skill level the holder is deemed to have reached (measure M2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeemedLevel<'a> {
    pub occupation: Cow<'a, str>,
    pub occupation_zh: Cow<'a, str>,
    pub occupation_en: Cow<'a, str>,
    pub level: Level,
    /// The rules that deem this level.
    pub rules: ShortList<Cow<'a, str>>,
    pub provisional: bool,
    /// False when a skill level certificate in force for the occupation is at this level or
    /// higher: the held level counts instead.
    pub counts: bool,
    /// The highest skill level held in force for the occupation, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_level: Option<Level>,
    /// Every rule that applied for this occupation, with the certificate behind it (rules that
    /// deem a lower level included).
    pub grounds: ShortList<LevelGround<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LevelGround<'a> {
    pub rule: Cow<'a, str>,
    pub held: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<ShownNumber<'a>>,
    pub level: Level,
    pub provisional: bool,
}

/// A certificate the holder may apply for with exemptions (measure M1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application<'a> {
    pub target: Cow<'a, str>,
    pub target_zh: Cow<'a, str>,
    pub target_en: Cow<'a, str>,
    /// The department that issues the target and may grant the exemptions.
    pub department: Cow<'a, str>,
    /// What the holder may be exempted from (the department may grant it: 可以).
    pub exemptions: ExemptionSet,
    pub rules: ShortList<Cow<'a, str>>,
    pub provisional: bool,
    /// The holder already holds the target kind in force.
    pub already_held: bool,
    pub grounds: ShortList<ExemptionGround<'a>>,
    /// Exceptions that narrowed the exemptions here (details in the grounds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<Cow<'a, str>>,
    /// When the advice has no region: exceptions recorded for some regions, which would change
    /// this entitlement there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regional_exceptions: Vec<ExceptionNote<'a>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExemptionGround<'a> {
    pub rule: Cow<'a, str>,
    pub held: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<ShownNumber<'a>>,
    /// What this rule grants here, after any narrowing.
    pub exemptions: ExemptionSet,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub narrowed: Vec<Narrowing<'a>>,
    pub provisional: bool,
}

/// An exception that took exemptions away from a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Narrowing<'a> {
    pub exception: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Cow<'a, str>>,
    pub removed: ExemptionSet,
    pub provisional: bool,
}

/// An exception that applies elsewhere than the advice's (unknown) region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionNote<'a> {
    pub exception: Cow<'a, str>,
    pub rule: Cow<'a, str>,
    pub region: Cow<'a, str>,
    /// `disable` or `narrow`.
    pub action: Cow<'a, str>,
    /// For `narrow`: what remains there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<ExemptionSet>,
}

/// A certificate number as the advice shows it: whole, or masked when it is or embeds the
/// holder's resident ID number (`T11************002X`). A JSON string; it derefs to the text
/// shown. A masked number of up to 22 bytes (ID numbers and `T` numbers are 18 and 19) is
/// kept inline, so making one does not allocate.
#[derive(Clone)]
pub struct ShownNumber<'a>(Shown<'a>);

const INLINE: usize = 22;

#[derive(Clone)]
enum Shown<'a> {
    Whole(&'a str),
    Inline { bytes: [u8; INLINE], len: u8 },
    Owned(String),
}

impl<'a> ShownNumber<'a> {
    /// `number`, shown whole.
    pub const fn whole(number: &'a str) -> Self {
        ShownNumber(Shown::Whole(number))
    }

    /// `number` with every character but the first `keep_start` and the last `keep_end`
    /// replaced by `*`.
    pub fn masked(number: &str, keep_start: usize, keep_end: usize) -> ShownNumber<'static> {
        if number.is_ascii() && number.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            let n = number.len();
            bytes[..n].copy_from_slice(number.as_bytes());
            if keep_start + keep_end < n {
                bytes[keep_start..n - keep_end].fill(b'*');
            }
            return ShownNumber(Shown::Inline {
                bytes,
                len: n as u8,
            });
        }
        let n = number.chars().count();
        let masked = |i: usize| i >= keep_start && i + keep_end < n;
        if number.len() <= INLINE {
            let mut bytes = [0u8; INLINE];
            let mut len = 0;
            for (i, c) in number.chars().enumerate() {
                let c = if masked(i) { '*' } else { c };
                len += c.encode_utf8(&mut bytes[len..]).len();
            }
            return ShownNumber(Shown::Inline {
                bytes,
                len: len as u8,
            });
        }
        ShownNumber(Shown::Owned(
            number
                .chars()
                .enumerate()
                .map(|(i, c)| if masked(i) { '*' } else { c })
                .collect(),
        ))
    }
}

impl Deref for ShownNumber<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        match &self.0 {
            Shown::Whole(s) => s,
            // Built from whole characters of a `str`, so valid UTF-8.
            Shown::Inline { bytes, len } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).expect("a masked number is UTF-8")
            }
            Shown::Owned(s) => s,
        }
    }
}

impl fmt::Debug for ShownNumber<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl fmt::Display for ShownNumber<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl PartialEq for ShownNumber<'_> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for ShownNumber<'_> {}

impl PartialEq<str> for ShownNumber<'_> {
    fn eq(&self, other: &str) -> bool {
        &**self == other
    }
}

impl Serialize for ShownNumber<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self)
    }
}

impl<'de> Deserialize<'de> for ShownNumber<'_> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ShownNumber(Shown::Owned(String::deserialize(d)?)))
    }
}

/// Where the current level of an occupation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// A skill level certificate in force.
    Held,
    /// A deemed level (measure M2).
    Deemed,
}

/// The next level of an occupation and whether the holder may apply for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextLevel<'a> {
    pub occupation: Cow<'a, str>,
    pub occupation_zh: Cow<'a, str>,
    pub occupation_en: Cow<'a, str>,
    /// The level applied for.
    pub level: Level,
    pub current_level: Level,
    pub basis: Basis,
    /// The edition of the national standard in force on the as-of date.
    pub standard: Option<Cow<'a, str>>,
    pub eligible: bool,
    /// When not eligible: the earliest date a condition would be met (null when none can be
    /// foreseen, e.g. only diplomas are missing).
    pub eligible_from: Option<Day>,
    /// The ids of the conditions for this level (any one suffices).
    pub conditions: Cow<'a, [String]>,
    /// Each condition judged, in the order of `conditions`.
    pub details: Vec<ConditionCheck<'a>>,
    /// What was assumed where the policy or the input does not say.
    pub assumptions: Texts<'a>,
    pub assumptions_zh: Texts<'a>,
    /// For a deemed current level: the rules that deem it.
    #[serde(default, skip_serializing_if = "ShortList::is_empty")]
    pub rules: ShortList<Cow<'a, str>>,
    pub provisional: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConditionCheck<'a> {
    pub condition: Cow<'a, str>,
    pub met: bool,
    /// When not met: the earliest date it would be, if one can be foreseen.
    pub met_from: Option<Day>,
    #[serde(serialize_with = "json_text")]
    pub text_zh: Cow<'a, str>,
}

/// Which table a rule is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleType {
    Exemption,
    DeemedLevel,
}

/// A rule that names a held kind but did not apply, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotApplied<'a> {
    pub rule: Cow<'a, str>,
    pub rule_type: RuleType,
    pub held: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<ShownNumber<'a>>,
    /// The first reason, in English: `expired on 2025-05-10`.
    pub reason: Text<'a>,
    /// The same in Chinese.
    pub reason_zh: Text<'a>,
    /// Every reason, structured.
    pub why: Vec<Why<'a>>,
    pub provisional: bool,
}

/// Why a rule did not apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "kebab-case")]
pub enum Why<'a> {
    /// The certificate had expired; `review_due` is set when it expired by missing a review.
    Expired {
        on: Option<Day>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        review_due: Option<Day>,
    },
    Suspended {
        since: Option<Day>,
    },
    Revoked {
        on: Option<Day>,
    },
    /// Issued after the as-of date.
    NotYetIssued {
        issued_on: Day,
    },
    /// In force, but in a status the rule does not count.
    StatusNotCounted {
        status: Status,
    },
    NotYetEffective {
        from: Day,
    },
    NoLongerEffective {
        until: Day,
    },
    /// The rule applies in one region only, and the advice is for another (or none).
    OtherRegion {
        region: Cow<'a, str>,
        asked: Option<Cow<'a, str>>,
    },
    /// An exception disabled the rule.
    SwitchedOff {
        exception: Cow<'a, str>,
        region: Option<Cow<'a, str>>,
    },
    /// Exceptions narrowed the rule down to nothing.
    NarrowedAway {
        exceptions: Vec<Cow<'a, str>>,
        region: Option<Cow<'a, str>>,
    },
}

impl Why<'_> {
    pub fn text_en(&self) -> String {
        Text::Why(self.clone(), Lang::En).to_string()
    }

    pub fn text_zh(&self) -> String {
        Text::Why(self.clone(), Lang::Zh).to_string()
    }

    fn write_en(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Expired {
                on: Some(on),
                review_due: Some(due),
            } => write!(
                f,
                "expired on {on} (its periodic review was due on {due} and none is recorded)"
            ),
            Why::Expired { on: Some(on), .. } => write!(f, "expired on {on}"),
            Why::Expired { on: None, .. } => f.write_str("expired"),
            Why::Suspended { since: Some(d) } => write!(f, "suspended since {d}"),
            Why::Suspended { since: None } => f.write_str("suspended"),
            Why::Revoked { on: Some(d) } => write!(f, "revoked on {d}"),
            Why::Revoked { on: None } => f.write_str("revoked"),
            Why::NotYetIssued { issued_on } => {
                write!(
                    f,
                    "not yet issued on the as-of date (issued on {issued_on})"
                )
            }
            Why::StatusNotCounted { status } => {
                write!(f, "status {status} does not count for this rule")
            }
            Why::NotYetEffective { from } => write!(f, "rule effective from {from}"),
            Why::NoLongerEffective { until } => write!(f, "rule effective until {until}"),
            Why::OtherRegion {
                region,
                asked: Some(a),
            } => write!(f, "rule applies only in region {region}, not in {a}"),
            Why::OtherRegion {
                region,
                asked: None,
            } => write!(f, "rule applies only in region {region}; no region given"),
            Why::SwitchedOff {
                exception,
                region: Some(r),
            } => write!(f, "switched off in region {r} by exception {exception}"),
            Why::SwitchedOff {
                exception,
                region: None,
            } => write!(f, "switched off by exception {exception}"),
            Why::NarrowedAway { exceptions, region } => {
                f.write_str("narrowed to no exemption")?;
                if let Some(r) = region {
                    write!(f, " in region {r}")?;
                }
                write!(f, " by exceptions {}", exceptions.join(", "))
            }
        }
    }

    fn write_zh(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Expired {
                on: Some(on),
                review_due: Some(due),
            } => write!(f, "证书已于{on}失效（应于{due}复审，未见复审记录）"),
            Why::Expired { on: Some(on), .. } => write!(f, "证书已于{on}过期"),
            Why::Expired { on: None, .. } => f.write_str("证书已过期"),
            Why::Suspended { since: Some(d) } => write!(f, "证书已暂停（自{d}起）"),
            Why::Suspended { since: None } => f.write_str("证书已暂停"),
            Why::Revoked { on: Some(d) } => write!(f, "证书已于{d}撤销"),
            Why::Revoked { on: None } => f.write_str("证书已撤销"),
            Why::NotYetIssued { issued_on } => {
                write!(f, "截至所查日期证书尚未颁发（颁发日期{issued_on}）")
            }
            Why::StatusNotCounted { status } => {
                write!(f, "证书状态“{}”不符合该规则的要求", status.name_zh())
            }
            Why::NotYetEffective { from } => write!(f, "该规则自{from}起施行"),
            Why::NoLongerEffective { until } => write!(f, "该规则已于{until}停止施行"),
            Why::OtherRegion {
                region,
                asked: Some(a),
            } => write!(f, "该规则仅适用于地区{region}，不适用于地区{a}"),
            Why::OtherRegion {
                region,
                asked: None,
            } => write!(f, "该规则仅适用于地区{region}，未指定地区"),
            Why::SwitchedOff {
                exception,
                region: Some(r),
            } => write!(f, "地区{r}的特别规定（{exception}）不适用该规则"),
            Why::SwitchedOff {
                exception,
                region: None,
            } => write!(f, "特别规定（{exception}）不适用该规则"),
            Why::NarrowedAway { exceptions, region } => {
                if let Some(r) = region {
                    write!(f, "地区{r}的")?;
                }
                write!(
                    f,
                    "特别规定（{}）取消了该规则的全部免予事项",
                    exceptions.join("、")
                )
            }
        }
    }
}

/// A list that holds its first element inline: most lists of the advice have one element (one
/// rule, one certificate behind it), and this keeps them off the heap. It derefs to a slice and
/// is a JSON array.
#[derive(Debug, Clone)]
pub struct ShortList<T>(Few<T>);

#[derive(Debug, Clone)]
enum Few<T> {
    Empty,
    One(T),
    /// Two or more.
    Many(Vec<T>),
}

impl<T> ShortList<T> {
    pub const fn new() -> Self {
        ShortList(Few::Empty)
    }

    #[inline(always)]
    pub fn push(&mut self, t: T) {
        match &mut self.0 {
            Few::Empty => self.0 = Few::One(t),
            Few::Many(v) => v.push(t),
            Few::One(_) => {
                if let Few::One(a) = std::mem::replace(&mut self.0, Few::Empty) {
                    self.0 = Few::Many(vec![a, t]);
                }
            }
        }
    }

    /// Inserts `t` at `index`, shifting the elements after it.
    pub fn insert(&mut self, index: usize, t: T) {
        self.push(t);
        self[index..].rotate_right(1);
    }

    pub fn is_empty(&self) -> bool {
        matches!(self.0, Few::Empty)
    }
}

impl<T> Default for ShortList<T> {
    fn default() -> Self {
        ShortList::new()
    }
}

impl<T> Deref for ShortList<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match &self.0 {
            Few::Empty => &[],
            Few::One(t) => std::slice::from_ref(t),
            Few::Many(v) => v,
        }
    }
}

impl<T> DerefMut for ShortList<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        match &mut self.0 {
            Few::Empty => &mut [],
            Few::One(t) => std::slice::from_mut(t),
            Few::Many(v) => v,
        }
    }
}

impl<T> From<Vec<T>> for ShortList<T> {
    fn from(mut v: Vec<T>) -> Self {
        match v.len() {
            0 => ShortList(Few::Empty),
            1 => ShortList(Few::One(v.pop().expect("one element"))),
            _ => ShortList(Few::Many(v)),
        }
    }
}

impl<T> FromIterator<T> for ShortList<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut l = ShortList::new();
        for t in iter {
            l.push(t);
        }
        l
    }
}

impl<'l, T> IntoIterator for &'l ShortList<T> {
    type Item = &'l T;
    type IntoIter = std::slice::Iter<'l, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<T: PartialEq> PartialEq for ShortList<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Eq> Eq for ShortList<T> {}

impl<T: Serialize> Serialize for ShortList<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ShortList<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<T>::deserialize(d)?.into())
    }
}

/// What a next-level judgement assumed where the policy or the input does not say. Kept as data
/// in [`Texts`] and worded when serialized.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Assumed<'a> {
    pub no_standard: bool,
    pub no_condition: bool,
    /// Years since a level were counted.
    pub since: bool,
    /// The deemed level's counting date used: (date, held kind, rule, the rule's first day), the
    /// earliest if several.
    pub deemed_date: Option<(Day, &'a str, &'a str, Day)>,
    pub undated_held: bool,
    pub undated_deemed: bool,
    pub no_experience: bool,
    pub projected: bool,
    /// A later edition of the standard: (edition judged by, later edition, its first day).
    pub later: Option<(&'a str, &'a str, Day)>,
}

// What the advice assumes, in English and Chinese.
const NO_STANDARD: [&str; 2] = [
    "No edition of the occupation's national standard is in force on the as-of date: the conditions are unknown.",
    "所查日期没有施行中的国家职业技能标准版本，申报条件不明。",
];
const NO_CONDITION: [&str; 2] = [
    "The standard in force states no condition for this level: ask the evaluation institution.",
    "施行中的标准未列出该等级的申报条件，请向评价机构咨询。",
];
const CALENDAR_YEARS: [&str; 2] = [
    "Years after a level are counted as calendar years from the day the level was obtained, assuming work in the occupation throughout.",
    "取得等级后的工作年限按自然年自取得之日起计算，并假定期间一直从事本职业工作。",
];
const UNDATED_HELD: [&str; 2] = [
    "The issue date of the skill level certificate was not given, so years since obtaining the level cannot be counted.",
    "未提供职业技能等级证书的颁发日期，无法计算取得等级后的年限。",
];
const UNDATED_DEEMED: [&str; 2] = [
    "The level is deemed from a certificate whose issue date was not given, so years since obtaining the level cannot be counted; the policy does not say from which date they count (provisional: confirm with the department).",
    "视同等级所依据的证书未提供颁发日期，无法计算取得等级后的年限；政策亦未明确从何日起算。",
];
const NO_EXPERIENCE: [&str; 2] = [
    "No years of work in the occupation were stated: counted as none.",
    "未提供本职业工作年限，按零年计算。",
];
const PROJECTED: [&str; 2] = [
    "Dates reached by years of work in the occupation assume the holder keeps working in it after the as-of date.",
    "按本职业工作年限推算的日期，假定所查日期之后继续从事本职业工作。",
];

impl<'a> Assumed<'a> {
    pub(super) fn merge(&mut self, other: &Assumed<'a>) {
        self.since |= other.since;
        self.no_experience |= other.no_experience;
        self.projected |= other.projected;
        if let Some(d) = other.deemed_date
            && self.deemed_date.is_none_or(|s| d.0 < s.0)
        {
            self.deemed_date = Some(d);
        }
    }

    /// The sentences, in a fixed order.
    fn texts(self, lang: Lang) -> impl Iterator<Item = Text<'a>> {
        let mut v = Vec::new();
        self.each(lang, |t| v.push(t));
        v.into_iter()
    }

    /// Calls `f` with each sentence, in the fixed order of [`Assumed::texts`], without building
    /// them all first.
    fn each(self, lang: Lang, mut f: impl FnMut(Text<'a>)) {
        let pick = |pair: [&'static str; 2]| {
            t(match lang {
                Lang::En => pair[0],
                Lang::Zh => pair[1],
            })
        };
        for (on, pair) in [
            (self.no_standard, NO_STANDARD),
            (self.no_condition, NO_CONDITION),
            (self.since, CALENDAR_YEARS),
        ] {
            if on {
                f(pick(pair));
            }
        }
        if let Some((day, kind, rule, effective)) = self.deemed_date {
            f(Text::DeemedFrom {
                rule,
                kind,
                day,
                effective,
                lang,
            });
        }
        for (on, pair) in [
            (self.undated_held, UNDATED_HELD),
            (self.undated_deemed, UNDATED_DEEMED),
            (self.no_experience, NO_EXPERIENCE),
            (self.projected, PROJECTED),
        ] {
            if on {
                f(pick(pair));
            }
        }
        if let Some((edition, later, from)) = self.later {
            f(Text::LaterEdition {
                edition,
                later,
                from,
                lang,
            });
        }
    }
}

/// A list of sentences in one language, a JSON array of strings. Made by the engine from what it
/// assumed, and worded only when serialized or listed, so that computing advice formats nothing.
#[derive(Debug, Clone)]
pub struct Texts<'a>(TextsRepr<'a>);

#[derive(Debug, Clone)]
enum TextsRepr<'a> {
    Assumed(Assumed<'a>, Lang),
    Listed(Vec<Text<'a>>),
}

impl<'a> Texts<'a> {
    pub(super) fn assumed(a: Assumed<'a>, lang: Lang) -> Self {
        Texts(TextsRepr::Assumed(a, lang))
    }

    /// The sentences.
    pub fn to_vec(&self) -> Vec<Text<'a>> {
        match &self.0 {
            TextsRepr::Assumed(a, lang) => a.texts(*lang).collect(),
            TextsRepr::Listed(v) => v.clone(),
        }
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            TextsRepr::Assumed(a, lang) => a.texts(*lang).count(),
            TextsRepr::Listed(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl PartialEq for Texts<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (TextsRepr::Assumed(a, la), TextsRepr::Assumed(b, lb)) if la == lb => a == b,
            _ => self.to_vec() == other.to_vec(),
        }
    }
}

impl Eq for Texts<'_> {}

impl Texts<'_> {
    /// The sentences as a JSON array of strings, the bytes serde_json gives.
    pub(super) fn write_json(&self, w: &mut Vec<u8>) {
        w.push(b'[');
        let mut each = |i: usize, t: &Text<'_>| {
            if i > 0 {
                w.push(b',');
            }
            super::json::text(w, t);
        };
        match &self.0 {
            TextsRepr::Assumed(a, lang) => {
                let mut i = 0;
                a.each(*lang, |t| {
                    each(i, &t);
                    i += 1;
                });
            }
            TextsRepr::Listed(v) => v.iter().enumerate().for_each(|(i, t)| each(i, t)),
        }
        w.push(b']');
    }
}

impl Serialize for Texts<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            TextsRepr::Assumed(a, lang) => s.collect_seq(a.texts(*lang)),
            TextsRepr::Listed(v) => s.collect_seq(v),
        }
    }
}

impl<'de> Deserialize<'de> for Texts<'_> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Texts(TextsRepr::Listed(Vec::<Text>::deserialize(d)?)))
    }
}

/// The language of a [`Text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Zh,
}

/// A sentence of the advice. In JSON it is a plain string; in Rust, where the sentence is made
/// from data (a reason, a date the advice assumed), it keeps the data and is worded only when
/// displayed or serialized, so that computing advice formats nothing. Use `to_string()` for the
/// words; a `Text` read back from JSON is always [`Text::Str`].
#[derive(Debug, Clone)]
pub enum Text<'a> {
    Str(Cow<'a, str>),
    /// Why a rule did not apply.
    Why(Why<'a>, Lang),
    /// The counting date assumed for a deemed level.
    DeemedFrom {
        rule: &'a str,
        kind: &'a str,
        day: Day,
        effective: Day,
        lang: Lang,
    },
    /// A later edition of the standard is known.
    LaterEdition {
        edition: &'a str,
        later: &'a str,
        from: Day,
        lang: Lang,
    },
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Text::Str(s) => f.write_str(s),
            Text::Why(w, Lang::En) => w.write_en(f),
            Text::Why(w, Lang::Zh) => w.write_zh(f),
            Text::DeemedFrom {
                rule,
                kind,
                day,
                effective,
                lang: Lang::En,
            } => write!(
                f,
                "The level is deemed (rule {rule}); the policy does not say from which date years after a deemed level count (provisional: confirm with the department). They are counted here from {}, when the {kind} certificate was first issued; they may instead count from {}, when the rule took effect. Confirm with the evaluation institution.",
                Ymd(*day),
                Ymd(*effective)
            ),
            Text::DeemedFrom {
                rule,
                kind,
                day,
                effective,
                lang: Lang::Zh,
            } => write!(
                f,
                "该等级为视同取得（规则 {rule}），政策未明确视同等级的年限从何日起算。此处自{kind}证书初次颁发之日{}起算；也可能自规则施行之日{}起算。请向评价机构确认。",
                Ymd(*day),
                Ymd(*effective)
            ),
            Text::LaterEdition {
                edition,
                later,
                from,
                lang: Lang::En,
            } => write!(
                f,
                "Judged by the {edition} edition of the standard; the {later} edition takes effect on {} and may change the conditions.",
                Ymd(*from)
            ),
            Text::LaterEdition {
                edition,
                later,
                from,
                lang: Lang::Zh,
            } => write!(
                f,
                "按{edition}年版标准判断；{later}年版标准自{}起施行，申报条件可能变化。",
                Ymd(*from)
            ),
        }
    }
}

/// A day in a sentence, as chrono displays it (`2026-01-16`), without chrono's formatter.
struct Ymd(Day);

impl fmt::Display for Ymd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match crate::date::Iso::new(self.0) {
            Some(iso) => f.write_str(iso.as_str()),
            None => fmt::Display::fmt(&self.0, f),
        }
    }
}

impl PartialEq for Text<'_> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Text::Str(a), Text::Str(b)) => a == b,
            _ => self.to_string() == other.to_string(),
        }
    }
}

impl Eq for Text<'_> {}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        match self {
            Text::Str(a) => a == other,
            _ => self.to_string().as_str() == *other,
        }
    }
}

impl Serialize for Text<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Text::Str(t) => json_text(t, s),
            _ => {
                let mut quoted = String::with_capacity(320);
                quoted.push('"');
                fmt::write(&mut quoted, format_args!("{self}"))
                    .map_err(serde::ser::Error::custom)?;
                quoted.push('"');
                raw_or_escaped(quoted, s)
            }
        }
    }
}

/// Texts shorter than this are written by the serializer as usual.
const RAW_FROM: usize = 48;

/// Whether `s` needs escaping in a JSON string (see [`crate::json::needs_escaping`]).
fn needs_escaping(s: &str) -> bool {
    crate::json::needs_escaping(s.as_bytes())
}

/// Writes a sentence of the advice as a JSON string. serde_json escapes strings a byte at a time
/// (about 12 instructions per byte), and the advice is some 6 KB of sentences; a long sentence
/// that needs no escaping (checked in a vectorized pass) is written as it is, through
/// `serde_json::value::RawValue`, whose check of a string runs eight bytes at a time. Other
/// serializers than serde_json's see a `RawValue` (the advice is a JSON document).
fn json_text<S: serde::Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    if text.len() < RAW_FROM {
        return s.serialize_str(text);
    }
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    quoted.push_str(text);
    quoted.push('"');
    raw_or_escaped(quoted, s)
}

/// `quoted` (a string between quotes) as a raw JSON string when its contents need no escaping,
/// else escaped by the serializer.
fn raw_or_escaped<S: serde::Serializer>(quoted: String, s: S) -> Result<S::Ok, S::Error> {
    let inner = &quoted[1..quoted.len() - 1];
    if inner.len() < RAW_FROM || needs_escaping(inner) {
        return s.serialize_str(inner);
    }
    match serde_json::value::RawValue::from_string(quoted) {
        Ok(raw) => raw.serialize(s),
        Err(e) => Err(serde::ser::Error::custom(e)),
    }
}

impl<'de> Deserialize<'de> for Text<'_> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Text::Str(Cow::Owned(String::deserialize(d)?)))
    }
}

pub(super) const fn t(s: &'static str) -> Text<'static> {
    Text::Str(Cow::Borrowed(s))
}

/// An open question about a held kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenQuestionNote<'a> {
    pub id: Cow<'a, str>,
    /// The held kinds it concerns.
    pub held: ShortList<Cow<'a, str>>,
    #[serde(serialize_with = "json_text")]
    pub text_zh: Cow<'a, str>,
    #[serde(serialize_with = "json_text")]
    pub text_en: Cow<'a, str>,
    pub provisional: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::parse_day;

    fn d(s: &str) -> Day {
        parse_day(s).unwrap()
    }

    fn b(s: &str) -> Cow<'_, str> {
        Cow::Borrowed(s)
    }

    #[test]
    fn escaping_is_needed_for_quotes_backslashes_and_control_characters() {
        for i in 0..20 {
            let pad = "甲".repeat(i) + &"a".repeat(i);
            assert!(!needs_escaping(&format!("{pad}ok 不需要{pad}")));
            for bad in ["\"", "\\", "\n", "\u{1f}", "\u{0}"] {
                assert!(
                    needs_escaping(&format!("{pad}{bad}{pad}")),
                    "{pad:?} {bad:?}"
                );
            }
        }
        assert!(!needs_escaping("\u{7f} \u{80} ~ !#"));
    }

    #[test]
    fn long_texts_are_written_as_serde_json_writes_them() {
        let long = "取得本职业或相关职业五级/初级工职业资格证书（技能等级证书）后，累计从事本职业工作4年。";
        for text in [
            "short",
            long,
            &format!("{long} \"quoted\" and a back\\slash"),
            &format!("{long}\ta tab"),
        ] {
            let c = ConditionCheck {
                condition: b("c"),
                met: false,
                met_from: None,
                text_zh: b(text),
            };
            let ours = serde_json::to_string(&c).unwrap();
            let plain = format!(
                r#"{{"condition":"c","met":false,"met_from":null,"text_zh":{}}}"#,
                serde_json::to_string(text).unwrap()
            );
            assert_eq!(ours, plain);
            assert_eq!(serde_json::to_value(&c).unwrap()["text_zh"], text);
        }
        let w = Text::Why(
            Why::NarrowedAway {
                exceptions: vec![b(
                    "an \"exception\" with a long name, long enough to be raw",
                )],
                region: None,
            },
            Lang::En,
        );
        assert_eq!(
            serde_json::to_string(&w).unwrap(),
            serde_json::to_string(&w.to_string()).unwrap()
        );
    }

    #[test]
    fn masked_numbers_keep_their_ends() {
        assert_eq!(
            &*ShownNumber::masked("T11010519491231002X", 3, 4),
            "T11************002X"
        );
        assert_eq!(
            &*ShownNumber::masked("11010519491231002X", 2, 4),
            "11************002X"
        );
        assert_eq!(&*ShownNumber::masked("T12", 3, 4), "T12");
        assert_eq!(
            &*ShownNumber::masked("甲11010519491231002X", 3, 4),
            "甲11************002X"
        );
        let long = "x".repeat(70);
        assert_eq!(ShownNumber::masked(&long, 2, 4).len(), 70);
        assert_eq!(&ShownNumber::masked(&long, 2, 4)[..3], "xx*");
        assert_eq!(&*ShownNumber::whole("S1"), "S1");
    }

    #[test]
    fn short_lists_keep_one_element_inline_and_behave_as_slices() {
        let mut l: ShortList<u8> = ShortList::new();
        assert!(l.is_empty());
        l.push(2);
        assert_eq!(&*l, &[2]);
        l.push(3);
        l.insert(0, 1);
        assert_eq!(&*l, &[1, 2, 3]);
        assert_eq!(serde_json::to_string(&l).unwrap(), "[1,2,3]");
        let back: ShortList<u8> = serde_json::from_str("[7]").unwrap();
        assert_eq!(&*back, &[7]);
        let mut one = ShortList::new();
        one.insert(0, 5);
        assert_eq!(&*one, &[5]);
        assert_eq!(ShortList::from(vec![1, 2, 3]), l);
        assert_eq!(l.iter().copied().collect::<ShortList<u8>>(), l);
    }

    #[test]
    fn texts_are_worded_when_serialized_and_read_back_as_words() {
        let a = Assumed {
            since: true,
            deemed_date: Some((d("2024-06-01"), "mem.x", "m2/x", d("2026-01-16"))),
            ..Assumed::default()
        };
        let en = Texts::assumed(a, Lang::En);
        let json = serde_json::to_value(&en).unwrap();
        assert_eq!(json[0], CALENDAR_YEARS[0]);
        assert!(
            json[1]
                .as_str()
                .unwrap()
                .contains("counted here from 2024-06-01, when the mem.x certificate")
        );
        let back: Texts<'static> = serde_json::from_value(json).unwrap();
        assert_eq!(back, en);
        assert_eq!(en.len(), 2);
        let zh = Texts::assumed(a, Lang::Zh);
        assert!(
            zh.to_vec()[1]
                .to_string()
                .contains("初次颁发之日2024-06-01")
        );
        assert_ne!(zh, en);
        assert!(Texts::assumed(Assumed::default(), Lang::En).is_empty());
    }

    #[test]
    fn why_texts() {
        let w = Why::Expired {
            on: Some(d("2025-05-10")),
            review_due: None,
        };
        assert_eq!(w.text_en(), "expired on 2025-05-10");
        assert_eq!(w.text_zh(), "证书已于2025-05-10过期");
        let w = Why::SwitchedOff {
            exception: b("x"),
            region: Some(b("44")),
        };
        assert_eq!(w.text_en(), "switched off in region 44 by exception x");
        let json = serde_json::to_value(&w).unwrap();
        assert_eq!(json["code"], "switched-off");
        let back: Why<'static> = serde_json::from_value(json).unwrap();
        assert_eq!(back, w);
        assert_eq!(
            Why::NotYetEffective {
                from: d("2026-01-16")
            }
            .text_en(),
            "rule effective from 2026-01-16"
        );
    }
}
