//! Certificate numbers. Each kind names its scheme in the policy files; the schemes' grammars
//! are here. Decoding checks a number's shape; [`Decoded::check_consistency`] checks it against
//! the rest of the record (level, year, province, institution, holder).

use std::fmt;
use std::str::FromStr;

use chrono::Datelike;
use serde::{Deserialize, Serialize};

use crate::date::Day;
use crate::idcard::{IdCardError, ResidentId};
use crate::ids::Level;
use crate::policy::SchemeCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NumberScheme {
    /// `T` + the holder's resident ID number (emergency management special operations).
    MemTId,
    /// The holder's resident ID number (special equipment operators).
    ResidentId,
    /// 14 characters: province abbreviation, city letter, work-type code, year, serial.
    MohurdProvincial,
    /// 22 characters: the national skill level certificate number. Levels 5-1 are numbered with
    /// one letter and 21 digits; 特级技师 and 首席技师 certificates with two letters and 20 digits
    /// (the level character is a letter), in the same seven parts (provisional: see
    /// docs/policy-format.md, "Number schemes").
    SkillLevel22,
    /// Any 4-40 letters, digits or hyphens.
    Free,
}

impl NumberScheme {
    pub const ALL: [NumberScheme; 5] = [
        NumberScheme::MemTId,
        NumberScheme::ResidentId,
        NumberScheme::MohurdProvincial,
        NumberScheme::SkillLevel22,
        NumberScheme::Free,
    ];

    pub fn id(self) -> &'static str {
        match self {
            NumberScheme::MemTId => "mem-t-id",
            NumberScheme::ResidentId => "resident-id",
            NumberScheme::MohurdProvincial => "mohurd-provincial",
            NumberScheme::SkillLevel22 => "skill-level-22",
            NumberScheme::Free => "free",
        }
    }

    /// Whether numbers of this scheme embed the holder's ID number (and so are personal data).
    pub fn embeds_resident_id(self) -> bool {
        matches!(self, NumberScheme::MemTId | NumberScheme::ResidentId)
    }

    /// The number a certificate of this scheme gets from its holder's ID number (in its normal
    /// form): `T` and the ID number, or the ID number; none for schemes numbered otherwise.
    pub fn holder_number(self, id: &str) -> Option<String> {
        match self {
            NumberScheme::MemTId => Some(format!("T{id}")),
            NumberScheme::ResidentId => Some(id.to_string()),
            _ => None,
        }
    }
}

/// The first 16 characters of a skill level certificate's number as hutong numbers it: the
/// institution's type and code, its province, the 6-digit evaluation site, the issue year's last
/// two digits and the level; a 6-digit serial follows. None for an issuer without a type, code
/// or province (not an institution that numbers skill levels).
pub fn skill_level_prefix(
    issuer: &crate::issuer::Issuer,
    site: &str,
    issued_on: Day,
    level: Level,
) -> Option<String> {
    Some(format!(
        "{}{}{}{site}{:02}{}",
        issuer.institution_type.as_deref()?,
        issuer.institution_code.as_deref()?,
        issuer.region.as_deref()?,
        issued_on.year() % 100,
        level.id()
    ))
}

impl fmt::Display for NumberScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for NumberScheme {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        NumberScheme::ALL.iter().copied().find(|x| x.id() == s).ok_or_else(|| {
            format!("unknown number scheme \"{s}\" (expected one of: mem-t-id, resident-id, mohurd-provincial, skill-level-22, free)")
        })
    }
}

/// Why a number does not fit its scheme, or does not agree with its record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("a {scheme} number has {expected} characters, this one has {got}")]
    Length {
        scheme: NumberScheme,
        expected: usize,
        got: usize,
    },
    #[error("a {scheme} number: character {position} must be {expected}")]
    Character {
        scheme: NumberScheme,
        position: usize,
        expected: &'static str,
    },
    #[error(
        "a mem-t-id number is T followed by the holder's ID number, and that ID number is invalid: {0}"
    )]
    EmbeddedId(IdCardError),
    #[error("the number is not a resident ID number: {0}")]
    Id(IdCardError),
    #[error("{0}")]
    Inconsistent(String),
}

/// What a number says, by scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded {
    MemTId {
        id: ResidentId,
    },
    ResidentId {
        id: ResidentId,
    },
    MohurdProvincial {
        province_abbr: char,
        city: char,
        work_type: String,
        year: u16,
        serial: String,
    },
    SkillLevel {
        /// `Y` employer, `S` social training-evaluation organisation.
        institution_type: char,
        institution_code: String,
        province: String,
        site: String,
        /// Two-digit year of issue.
        year: u8,
        level: Level,
        serial: String,
    },
    /// A `skill-level-22` number of the two top grades (特级技师, 首席技师): two capital
    /// letters and 20 digits, read as the seven parts of the 22-character number with a letter
    /// where the level digit stands. Which letter names which grade is not known, so the letter
    /// is kept as it is.
    SkillLevelTop {
        institution_type: char,
        institution_code: String,
        province: String,
        site: String,
        year: u8,
        /// Character 16: a capital letter in place of the level digit.
        level_code: char,
        serial: String,
    },
    Free,
}

impl Decoded {
    /// The code the number carries within its scheme: the work-type code of a
    /// `mohurd-provincial` number.
    pub fn scheme_code(&self) -> Option<&str> {
        match self {
            Decoded::MohurdProvincial { work_type, .. } => Some(work_type),
            _ => None,
        }
    }
}

/// The holder's resident ID number a number of `scheme` is or contains (`mem` `T…` numbers,
/// `samr` numbers), when it decodes as one.
pub fn embedded_id(scheme: NumberScheme, number: &str) -> Option<ResidentId> {
    if !scheme.embeds_resident_id() {
        return None;
    }
    match decode(scheme, number).ok()? {
        Decoded::MemTId { id } | Decoded::ResidentId { id } => Some(id),
        _ => None,
    }
}

/// The normalised form certificate numbers and resident ID numbers are validated, stored and
/// looked up in, from what people type: full-width forms (U+FF01 to U+FF5E: `川Ａ０７２…`,
/// `ｘ`) become the ASCII characters they stand for, whitespace goes wherever it is (around,
/// and inside: `110101 19660101 004X`, the ideographic space U+3000), and ASCII letters are
/// upper-cased. The one normalisation of every form, API, import and command that reads a
/// number or an ID number ([`ResidentId::parse`] applies it too). Idempotent. Names are not
/// numbers and are never put through it (see [`crate::holder::names_match`]).
pub fn normalize(number: &str) -> String {
    normalized(number).into_owned()
}

/// [`normalize`], borrowing `number` when it is already normal (the common case on every
/// verification), so that checking it allocates nothing.
pub fn normalized(number: &str) -> std::borrow::Cow<'_, str> {
    let normal = |c: char| !c.is_whitespace() && !c.is_ascii_lowercase() && half_width(c) == c;
    if number.chars().all(normal) {
        return std::borrow::Cow::Borrowed(number);
    }
    std::borrow::Cow::Owned(
        number
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| half_width(c).to_ascii_uppercase())
            .collect(),
    )
}

/// The ASCII character a full-width form (U+FF01 to U+FF5E) stands for; any other character as
/// it is. (The full-width space, U+3000, is whitespace, which [`normalize`] drops.)
fn half_width(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// A number as public answers show it. Numbers of the schemes that embed the holder's resident
/// ID number ([`NumberScheme::embeds_resident_id`]) keep only the province digits and the last
/// four characters of that ID number, as ID numbers are commonly shown masked
/// (`T11************002X`); every other number is shown whole.
pub fn display(scheme: NumberScheme, number: &str) -> std::borrow::Cow<'_, str> {
    if !scheme.embeds_resident_id() {
        return std::borrow::Cow::Borrowed(number);
    }
    let (prefix, id) = match scheme {
        NumberScheme::MemTId => number.split_at(number.len().min(1)),
        _ => ("", number),
    };
    let chars: Vec<char> = id.chars().collect();
    let n = chars.len();
    let mut out = String::with_capacity(number.len());
    out.push_str(prefix);
    for (i, c) in chars.iter().enumerate() {
        if i < 2 || i + 4 >= n {
            out.push(*c);
        } else {
            out.push('*');
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Decodes a normalised number under `scheme`.
pub fn decode(scheme: NumberScheme, number: &str) -> Result<Decoded, NumberError> {
    // The characters on the stack: every scheme's numbers are at most 40 characters, and a
    // longer one fails each scheme's length check, with its real length in the error.
    const CAP: usize = 48;
    let mut buf = ['\0'; CAP];
    let mut count = 0;
    for c in number.chars() {
        if count < CAP {
            buf[count] = c;
        }
        count += 1;
    }
    let chars: &[char] = &buf[..count.min(CAP)];
    let len_err = |expected| NumberError::Length {
        scheme,
        expected,
        got: count,
    };
    let char_err = |position, expected| NumberError::Character {
        scheme,
        position,
        expected,
    };
    match scheme {
        NumberScheme::MemTId => {
            if chars.len() != 19 {
                return Err(len_err(19));
            }
            if chars[0] != 'T' {
                return Err(char_err(1, "the letter T"));
            }
            let id = ResidentId::parse(&number[1..]).map_err(NumberError::EmbeddedId)?;
            Ok(Decoded::MemTId { id })
        }
        NumberScheme::ResidentId => {
            let id = ResidentId::parse(number).map_err(NumberError::Id)?;
            Ok(Decoded::ResidentId { id })
        }
        NumberScheme::MohurdProvincial => {
            if chars.len() != 14 {
                return Err(len_err(14));
            }
            let province_abbr = chars[0];
            if province_abbr.is_ascii() {
                return Err(char_err(
                    1,
                    "a province's one-character abbreviation (京, 晋, 粤, …)",
                ));
            }
            let city = chars[1];
            if !city.is_ascii_uppercase() {
                return Err(char_err(2, "a city letter A-Z"));
            }
            // After the abbreviation and the (ASCII) city letter.
            let rest = &number[province_abbr.len_utf8() + 1..];
            if let Some(p) = rest.chars().position(|c| !c.is_ascii_digit()) {
                return Err(char_err(p + 3, "a digit"));
            }
            let year: u16 = rest[2..6].parse().map_err(|_| char_err(5, "a digit"))?;
            if !(1980..=2100).contains(&year) {
                return Err(NumberError::Inconsistent(format!(
                    "characters 5-8 of a mohurd-provincial number are the year of issue, and {year} is not a plausible one"
                )));
            }
            Ok(Decoded::MohurdProvincial {
                province_abbr,
                city,
                work_type: rest[..2].to_string(),
                year,
                serial: rest[6..].to_string(),
            })
        }
        NumberScheme::SkillLevel22 => {
            if chars.len() != 22 || !number.is_ascii() {
                return Err(len_err(22));
            }
            let institution_type = chars[0];
            if institution_type != 'Y' && institution_type != 'S' {
                return Err(char_err(
                    1,
                    "the institution type Y (employer) or S (social organisation)",
                ));
            }
            // Character 16 is the level: a digit, or a letter for the two top grades.
            if let Some(p) = number[1..]
                .bytes()
                .enumerate()
                .position(|(i, b)| i != 14 && !b.is_ascii_digit())
            {
                return Err(char_err(p + 2, "a digit"));
            }
            let (institution_code, province, site) = (
                number[1..5].to_string(),
                number[5..7].to_string(),
                number[7..13].to_string(),
            );
            let year = number[13..15].parse().unwrap_or(0);
            let serial = number[16..22].to_string();
            let level = match chars[15] {
                '5' => Level::L5,
                '4' => Level::L4,
                '3' => Level::L3,
                '2' => Level::L2,
                '1' => Level::L1,
                c if c.is_ascii_uppercase() => {
                    return Ok(Decoded::SkillLevelTop {
                        institution_type,
                        institution_code,
                        province,
                        site,
                        year,
                        level_code: c,
                        serial,
                    });
                }
                _ => {
                    return Err(char_err(
                        16,
                        "the level digit 1-5, or a capital letter for the top grades (特级技师, 首席技师)",
                    ));
                }
            };
            Ok(Decoded::SkillLevel {
                institution_type,
                institution_code,
                province,
                site,
                year,
                level,
                serial,
            })
        }
        NumberScheme::Free => {
            let ok = (4..=40).contains(&chars.len())
                && chars
                    .iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == '-' || !c.is_ascii());
            if ok {
                Ok(Decoded::Free)
            } else {
                Err(NumberError::Inconsistent(
                    "a certificate number has 4 to 40 letters, digits or hyphens".to_string(),
                ))
            }
        }
    }
}

/// The rest of a certificate record, as far as its number can be checked against it.
#[derive(Debug, Clone, Copy)]
pub struct RecordContext<'a> {
    pub holder: Option<&'a ResidentId>,
    pub level: Option<Level>,
    pub issued_on: Day,
    /// The kind's codes within its scheme (the work-type codes of construction certificates);
    /// empty when the kind has none.
    pub scheme_codes: &'a [SchemeCode],
    /// The issuer's province code and its one-character abbreviation.
    pub issuer_province: Option<&'a str>,
    pub issuer_province_abbr: Option<char>,
    pub institution_type: Option<&'a str>,
    pub institution_code: Option<&'a str>,
}

impl Decoded {
    /// Checks that the number agrees with the record it is part of.
    pub fn check_consistency(&self, ctx: &RecordContext<'_>) -> Result<(), NumberError> {
        let bad = |s: String| Err(NumberError::Inconsistent(s));
        match self {
            Decoded::MemTId { id } | Decoded::ResidentId { id } => {
                if let Some(holder) = ctx.holder
                    && holder != id
                {
                    return bad(
                        "the number embeds an ID number that is not the holder's".to_string()
                    );
                }
            }
            Decoded::MohurdProvincial {
                province_abbr,
                work_type,
                year,
                ..
            } => {
                if !ctx.scheme_codes.is_empty()
                    && !ctx.scheme_codes.iter().any(|c| c.code == *work_type)
                {
                    let codes: Vec<&str> =
                        ctx.scheme_codes.iter().map(|c| c.code.as_str()).collect();
                    return bad(format!(
                        "characters 3-4 are the work-type code {work_type}, but this kind's {} {}",
                        if codes.len() == 1 {
                            "code is"
                        } else {
                            "codes are"
                        },
                        codes.join(", ")
                    ));
                }
                if i32::from(*year) != ctx.issued_on.year() {
                    return bad(format!(
                        "characters 5-8 say the year of issue is {year}, but the issue date is {}",
                        ctx.issued_on
                    ));
                }
                if let Some(abbr) = ctx.issuer_province_abbr
                    && *province_abbr != abbr
                {
                    return bad(format!(
                        "the number starts with {province_abbr}, but the issuer's province is {abbr}"
                    ));
                }
            }
            Decoded::SkillLevel {
                institution_type,
                institution_code,
                province,
                year,
                ..
            }
            | Decoded::SkillLevelTop {
                institution_type,
                institution_code,
                province,
                year,
                ..
            } => {
                match (self, ctx.level) {
                    (Decoded::SkillLevel { level, .. }, Some(l)) if l != *level => {
                        let top = if l.digit().is_none() {
                            " (principal and chief certificates carry a capital letter there)"
                        } else {
                            ""
                        };
                        return bad(format!(
                            "character 16 says level {}, but the certificate is level {}{top}",
                            level.id(),
                            l.id()
                        ));
                    }
                    (Decoded::SkillLevelTop { level_code, .. }, Some(l)) if l.digit().is_some() => {
                        return bad(format!(
                            "character 16 is the letter {level_code}, which only principal and chief certificates carry, but the certificate is level {}",
                            l.id()
                        ));
                    }
                    _ => {}
                }
                if i32::from(*year) != ctx.issued_on.year() % 100 {
                    return bad(format!(
                        "characters 14-15 say the year of issue is {year:02}, but the issue date is {}",
                        ctx.issued_on
                    ));
                }
                if let Some(p) = ctx.issuer_province
                    && province != p
                {
                    return bad(format!(
                        "characters 6-7 say province {province}, but the issuer is registered in {p}"
                    ));
                }
                if let Some(t) = ctx.institution_type
                    && !t.starts_with(*institution_type)
                {
                    return bad(format!(
                        "character 1 says institution type {institution_type}, but the issuer is type {t}"
                    ));
                }
                if let Some(c) = ctx.institution_code
                    && c != institution_code
                {
                    return bad(format!(
                        "characters 2-5 say institution code {institution_code}, but the issuer's code is {c}"
                    ));
                }
            }
            Decoded::Free => {}
        }
        Ok(())
    }
}

/// `text` with every resident ID number in it masked as public answers mask them ([`display`]:
/// `44************1233`), wherever it stands: inside a `T…` certificate number, a JSON key, a
/// value typed into the wrong field. Masked are every 18 characters that parse as a resident ID
/// number (17 digits, a check character, a real birth date), even inside a longer run of digits,
/// and every token that has an ID number's shape (17 digits and a digit or `X`, not part of a
/// longer run) even when its check character is wrong, since a mistyped ID number is personal
/// data too. An ID number is recognised as people type it ([`normalize`]): in full-width digits,
/// or as a token with spaces inside (`110101 19660101 004X`); it is then shown masked in its
/// normal form. The one masking step for error messages, logs and terminal output.
pub fn mask_id_numbers(text: &str) -> std::borrow::Cow<'_, str> {
    const LEN: usize = 18;
    // What a character of `text` is as part of an ID number: itself normalised.
    let fold = |c: char| half_width(c).to_ascii_uppercase();
    let digit = |c: char| fold(c).is_ascii_digit();
    if text
        .chars()
        .filter(|c| digit(*c) || fold(*c) == 'X')
        .count()
        < LEN
    {
        return std::borrow::Cow::Borrowed(text);
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out: Option<String> = None;
    // Bytes of `text` already copied to `out`.
    let mut copied = 0;
    let mut i = 0;
    while i < chars.len() {
        if !digit(chars[i].1) {
            i += 1;
            continue;
        }
        // Up to 18 characters of an ID number from `i`: 17 digits and a digit or X, with
        // whitespace between them.
        let mut id = [0u8; LEN];
        let (mut taken, mut j, mut spaced) = (0, i, false);
        while j < chars.len() && taken < LEN {
            let c = fold(chars[j].1);
            if c.is_ascii_digit() || (taken == LEN - 1 && c == 'X') {
                id[taken] = c as u8;
                taken += 1;
            } else if chars[j].1.is_whitespace() {
                spaced = true;
            } else {
                break;
            }
            j += 1;
        }
        if taken == LEN {
            let before = i.checked_sub(1).map(|k| fold(chars[k].1));
            let after = chars.get(j).map(|(_, c)| fold(*c));
            let whole_token = before.is_none_or(|c| !c.is_ascii_digit())
                && after.is_none_or(|c| !c.is_ascii_digit() && c != 'X');
            // `id` holds ASCII digits and X only.
            let id = std::str::from_utf8(&id).unwrap_or_default();
            // A run with spaces inside is an ID number only as a token of its own: spaces do
            // not join a longer run of digits into one.
            if whole_token || (!spaced && ResidentId::parse(id).is_ok()) {
                let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
                let (from, (last, c)) = (chars[i].0, chars[j - 1]);
                let to = last + c.len_utf8();
                o.push_str(&text[copied..from]);
                // As it was written when it was plain ASCII (a lower-case x stays), else in
                // its normal form.
                let shown = if to - from == LEN {
                    &text[from..to]
                } else {
                    id
                };
                o.push_str(&display(NumberScheme::ResidentId, shown));
                copied = to;
                i = j;
                continue;
            }
        }
        i += 1;
    }
    match out {
        None => std::borrow::Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied..]);
            std::borrow::Cow::Owned(o)
        }
    }
}

/// `canonical` as a person might type it, for tests: by `picks` (one byte a character, reused
/// cyclically), characters in full-width forms, letters in lower case, and whitespace (a space,
/// the ideographic space, a tab, a no-break space) around and between characters.
#[cfg(test)]
pub(crate) fn as_typed(canonical: &str, picks: &[u8]) -> String {
    const SPACES: [char; 4] = [' ', '\u{3000}', '\t', '\u{A0}'];
    let pick = |k: usize| picks.get(k % picks.len().max(1)).copied().unwrap_or(0);
    let mut out = String::new();
    if pick(0) & 0x40 != 0 {
        out.push(SPACES[usize::from(pick(1) >> 6)]);
    }
    for (k, c) in canonical.chars().enumerate() {
        let p = pick(k);
        let c = if p & 2 != 0 {
            c.to_ascii_lowercase()
        } else {
            c
        };
        let c = match c {
            '!'..='~' if p & 1 != 0 => char::from_u32(c as u32 + 0xFEE0).unwrap_or(c),
            _ => c,
        };
        out.push(c);
        if p & 12 == 12 {
            out.push(SPACES[usize::from(p >> 4) & 3]);
        }
    }
    if pick(2) & 0x80 != 0 {
        out.push('\u{3000}');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_are_normalised_as_people_type_them() {
        assert_eq!(
            normalize(" 川Ａ０７２０２５０００００１ "),
            "川A072025000001"
        );
        assert_eq!(normalize("110101 19660101 004x"), "11010119660101004X");
        assert_eq!(
            normalize("１１０１０１\u{3000}１９６６０１０１\u{3000}００４ｘ"),
            "11010119660101004X"
        );
        assert_eq!(normalize("t11010519491231002x"), "T11010519491231002X");
        assert_eq!(
            normalize("ｓ０００ 044 000123 2 5 4000042"),
            "S000044000123254000042"
        );
        // Only ASCII letters change case; other characters stay what they are.
        assert_eq!(normalize("晋a01ß"), "晋A01ß");
        assert!(matches!(
            normalized("晋A012008000001"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(
            ResidentId::parse("110101 19660101 004x").unwrap(),
            ResidentId::parse("11010119660101004X").unwrap()
        );
        assert_eq!(
            decode(
                NumberScheme::MemTId,
                &normalize("ｔ１１０１０１ １９６６０１０１ ００４Ｘ")
            ),
            decode(NumberScheme::MemTId, "T11010119660101004X")
        );
    }

    #[test]
    fn id_numbers_are_masked_as_they_are_typed() {
        assert_eq!(
            mask_id_numbers("id 110101 19660101 004X typed"),
            "id 11************004X typed"
        );
        assert_eq!(
            mask_id_numbers("key `１１０１０１１９６６０１０１００４ｘ`"),
            "key `11************004X`"
        );
        assert_eq!(
            mask_id_numbers("T\u{3000}１１０１０１\u{3000}19660101\u{3000}004X."),
            "T\u{3000}11************004X."
        );
        // A mistyped one is a token of its own too.
        assert_eq!(
            mask_id_numbers("110101 19660101 0041"),
            "11************0041"
        );
        // Spaces do not join a count to a longer run; a run that holds a real ID number is
        // still masked at it.
        assert_eq!(
            mask_id_numbers("1234 110105194912310021"),
            "1234 11************0021"
        );
        for kept in ["rows 1 2 3 4 5 6 7 8 9", "２０２６年１２月２日"] {
            assert_eq!(mask_id_numbers(kept), kept);
        }
    }

    proptest::proptest! {
        /// Normalising twice is normalising once, and the borrowing form says the same.
        #[test]
        fn normalising_is_idempotent(s in "\\PC{0,48}") {
            let once = normalize(&s);
            proptest::prop_assert_eq!(normalize(&once), once.clone());
            let borrowed = normalized(&s);
            proptest::prop_assert_eq!(borrowed.as_ref(), once.as_str());
            proptest::prop_assert!(matches!(normalized(&once), std::borrow::Cow::Borrowed(_)));
        }

        /// A number or ID number typed in full-width forms, lower case or with spaces reads as
        /// its normal form, and an ID number typed so is masked in any text.
        #[test]
        fn a_typed_number_reads_as_its_normal_form(
            days in 0u64..40_000,
            seq in 0u32..1000,
            picks in proptest::collection::vec(proptest::prelude::any::<u8>(), 1..24),
        ) {
            let birth = chrono::NaiveDate::from_ymd_opt(1910, 1, 1).unwrap()
                + chrono::Days::new(days % 36_000);
            let id = ResidentId::synthesize(440305, birth, seq);
            let canonical = [
                (NumberScheme::ResidentId, id.as_str().to_string()),
                (NumberScheme::MemTId, format!("T{}", id.as_str())),
                (NumberScheme::MohurdProvincial, "川A072025000001".to_string()),
                (NumberScheme::SkillLevel22, "S000044000123254000042".to_string()),
            ];
            for (scheme, number) in canonical {
                let typed = as_typed(&number, &picks);
                proptest::prop_assert_eq!(normalize(&typed), number.clone(), "{:?}", typed);
                proptest::prop_assert_eq!(
                    decode(scheme, &normalize(&typed)),
                    decode(scheme, &number)
                );
            }
            let typed = as_typed(id.as_str(), &picks);
            proptest::prop_assert_eq!(ResidentId::parse(&typed), Ok(id.clone()));
            let text = format!("id: {typed};");
            let masked = mask_id_numbers(&text);
            proptest::prop_assert_eq!(
                normalize(&masked),
                normalize(&format!("id:{};", display(NumberScheme::ResidentId, id.as_str())))
            );
        }
    }

    #[test]
    fn id_numbers_are_masked_wherever_they_are() {
        assert_eq!(
            mask_id_numbers("kind: \"440305198507031233\" is not a certificate kind"),
            "kind: \"44************1233\" is not a certificate kind"
        );
        assert_eq!(
            mask_id_numbers("T440305198507031233 of kind mem.x; 11010519491231002x,"),
            "T44************1233 of kind mem.x; 11************002x,"
        );
        // A mistyped one (wrong check character) is masked as a token of its own.
        assert_eq!(
            mask_id_numbers("id 440305198507031234"),
            "id 44************1234"
        );
        // Inside a longer run, after a letter, lower-case x, twice.
        assert_eq!(
            mask_id_numbers("T11010519491231002x and 911010519491231002X9"),
            "T11************002x and 911************002X9"
        );
        // Too short, other text: untouched, and not copied.
        assert!(matches!(
            mask_id_numbers("1101051949123100 张三"),
            std::borrow::Cow::Borrowed(_)
        ));
        // A real one inside a longer run of digits is masked too.
        assert_eq!(
            mask_id_numbers("x4403051985070312331"),
            "x44************12331"
        );
        // Runs that hold no ID number are kept: a skill level number, a count, a near miss.
        for kept in [
            "S000044000123244000042",
            "read 4063 rows",
            "44030519850703123X5",
            "张小明",
        ] {
            assert_eq!(mask_id_numbers(kept), kept);
        }
    }

    use super::*;

    const ID: &str = "11010519491231002X";

    fn ctx(issued: &str) -> RecordContext<'static> {
        RecordContext {
            holder: None,
            level: None,
            issued_on: issued.parse().unwrap(),
            scheme_codes: &[],
            issuer_province: None,
            issuer_province_abbr: None,
            institution_type: None,
            institution_code: None,
        }
    }

    #[test]
    fn skill_level_numbers_decode_every_part() {
        let d = decode(NumberScheme::SkillLevel22, "S000044000123254000042").unwrap();
        assert_eq!(
            d,
            Decoded::SkillLevel {
                institution_type: 'S',
                institution_code: "0000".into(),
                province: "44".into(),
                site: "000123".into(),
                year: 25,
                level: Level::L4,
                serial: "000042".into(),
            }
        );
        let mut c = ctx("2025-03-01");
        c.level = Some(Level::L4);
        c.issuer_province = Some("44");
        c.institution_type = Some("S");
        c.institution_code = Some("0000");
        assert!(d.check_consistency(&c).is_ok());
    }

    #[test]
    fn skill_level_inconsistencies_are_named() {
        let d = decode(NumberScheme::SkillLevel22, "S000044000123254000042").unwrap();
        let mut c = ctx("2025-03-01");
        c.level = Some(Level::L3);
        let e = d.check_consistency(&c).unwrap_err().to_string();
        assert!(
            e.contains("character 16 says level 4, but the certificate is level 3"),
            "{e}"
        );
        let e = d
            .check_consistency(&ctx("2024-03-01"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("year of issue is 25"), "{e}");
        let mut c = ctx("2025-03-01");
        c.issuer_province = Some("11");
        assert!(
            d.check_consistency(&c)
                .unwrap_err()
                .to_string()
                .contains("province 44")
        );
    }

    #[test]
    fn skill_level_shape_errors() {
        let e = decode(NumberScheme::SkillLevel22, "S00004400012325400004").unwrap_err();
        assert_eq!(
            e,
            NumberError::Length {
                scheme: NumberScheme::SkillLevel22,
                expected: 22,
                got: 21
            }
        );
        let e = decode(NumberScheme::SkillLevel22, "X000044000123254000042").unwrap_err();
        assert!(matches!(e, NumberError::Character { position: 1, .. }));
        let e = decode(NumberScheme::SkillLevel22, "S000044000123256000042").unwrap_err();
        assert!(matches!(e, NumberError::Character { position: 16, .. }));
        let e = decode(NumberScheme::SkillLevel22, "S0000440001232540000A2").unwrap_err();
        assert!(
            matches!(e, NumberError::Character { position: 21, .. }),
            "{e:?}"
        );
    }

    #[test]
    fn mem_numbers_embed_the_holder_id() {
        let holder = ResidentId::parse(ID).unwrap();
        let d = decode(NumberScheme::MemTId, &normalize(&format!(" t{ID} "))).unwrap();
        let mut c = ctx("2024-01-01");
        c.holder = Some(&holder);
        assert!(d.check_consistency(&c).is_ok());
        let other = ResidentId::synthesize(440305, "1980-01-01".parse().unwrap(), 7);
        c.holder = Some(&other);
        assert!(d.check_consistency(&c).is_err());
        let e = decode(NumberScheme::MemTId, "T110105194912310021").unwrap_err();
        assert!(matches!(
            e,
            NumberError::EmbeddedId(IdCardError::BadChecksum { .. })
        ));
        assert!(decode(NumberScheme::MemTId, &format!("X{ID}")).is_err());
    }

    fn codes(c: &[&str]) -> Vec<SchemeCode> {
        c.iter()
            .map(|c| SchemeCode {
                code: c.to_string(),
                name_zh: None,
                name_en: None,
                note: None,
                source: "test".into(),
                provisional: false,
            })
            .collect()
    }

    #[test]
    fn mohurd_numbers() {
        let d = decode(NumberScheme::MohurdProvincial, "晋A012008000001").unwrap();
        assert_eq!(
            d,
            Decoded::MohurdProvincial {
                province_abbr: '晋',
                city: 'A',
                work_type: "01".into(),
                year: 2008,
                serial: "000001".into(),
            }
        );
        let mut c = ctx("2008-06-01");
        let electrician = codes(&["01"]);
        c.scheme_codes = &electrician;
        c.issuer_province_abbr = Some('晋');
        assert!(d.check_consistency(&c).is_ok());
        let scaffolder = codes(&["02", "03"]);
        c.scheme_codes = &scaffolder;
        assert!(
            d.check_consistency(&c)
                .unwrap_err()
                .to_string()
                .contains("work-type code 01")
        );
        assert!(decode(NumberScheme::MohurdProvincial, "SXA012008000001").is_err());
        assert!(decode(NumberScheme::MohurdProvincial, "晋a012008000001").is_err());
        assert!(decode(NumberScheme::MohurdProvincial, "晋A01200800000").is_err());
    }

    #[test]
    fn numbers_that_embed_an_id_number_are_masked_for_display() {
        assert_eq!(
            display(NumberScheme::MemTId, &format!("T{ID}")),
            "T11************002X"
        );
        assert_eq!(display(NumberScheme::ResidentId, ID), "11************002X");
        assert_eq!(
            display(NumberScheme::SkillLevel22, "S000044000123254000042"),
            "S000044000123254000042"
        );
        assert_eq!(display(NumberScheme::MemTId, "T"), "T");
    }

    #[test]
    fn schemes_parse_by_id() {
        for s in NumberScheme::ALL {
            assert_eq!(s.id().parse::<NumberScheme>().unwrap(), s);
        }
        assert!("mem".parse::<NumberScheme>().is_err());
    }
}
