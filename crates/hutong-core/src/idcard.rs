//! Resident identity card numbers (公民身份号码, GB 11643-1999).
//!
//! Eighteen characters: a six-digit address code, the birth date `YYYYMMDD`, a three-digit
//! sequence (odd for men, even for women) and a check character computed over the first
//! seventeen by ISO 7064 MOD 11-2 (`0`–`9` or `X`).

use std::fmt;

use chrono::NaiveDate;

/// Why a string is not a resident ID number. The messages never repeat the number itself,
/// since it is personal data and errors end up in logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdCardError {
    #[error("a resident ID number has 18 characters, this one has {0}")]
    WrongLength(usize),
    #[error("character {position} of the resident ID number must be a digit{}", if *.position == 18 { " or X" } else { "" })]
    BadCharacter { position: usize },
    #[error("the resident ID number's address code does not start with a province digit (1-8)")]
    BadRegion,
    #[error("the resident ID number's birth date (characters 7-14) is not a real date")]
    BadDate,
    #[error("the resident ID number's birth date is in the future or before 1900")]
    ImplausibleDate,
    #[error(
        "the resident ID number's check character is wrong (expected {expected}): a digit was mistyped"
    )]
    BadChecksum { expected: char },
}

impl IdCardError {
    /// The same in Chinese, saying what a valid ID number looks like.
    pub fn describe_zh(&self) -> String {
        const VALID: &str = "公民身份号码为 18 位：17 位数字加 1 位校验码（数字或 X）";
        match self {
            IdCardError::WrongLength(n) => format!("{VALID}，所填为 {n} 位"),
            IdCardError::BadCharacter { position: 18 } => {
                format!("{VALID}；第 18 位应为数字或 X")
            }
            IdCardError::BadCharacter { position } => {
                format!("{VALID}；第 {position} 位应为数字")
            }
            IdCardError::BadRegion => {
                format!("{VALID}；前 6 位是地址码，第 1 位应为 1 至 8")
            }
            IdCardError::BadDate => format!("{VALID}；第 7 至 14 位是出生日期，所填不是真实日期"),
            IdCardError::ImplausibleDate => {
                format!("{VALID}；出生日期（第 7 至 14 位）不能晚于今天或早于 1900 年")
            }
            IdCardError::BadChecksum { expected } => format!(
                "公民身份号码的校验码（第 18 位）不符（按前 17 位应为 {expected}），可能有数字输入错误"
            ),
        }
    }
}

/// A resident ID number whose structure and checksum are correct.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ResidentId(String);

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The check character for the first seventeen digits of an ID number.
pub fn check_char(first17: &[u8]) -> char {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize]
}

impl ResidentId {
    /// Parses an ID number as people type it: normalised first ([`crate::number::normalize`]:
    /// full-width digits and `Ｘ`, spaces around and inside, a lower-case `x`).
    pub fn parse(s: &str) -> Result<ResidentId, IdCardError> {
        let s = crate::number::normalized(s);
        let s = s.as_ref();
        let n = s.chars().count();
        if n != 18 {
            return Err(IdCardError::WrongLength(n));
        }
        let b = s.as_bytes();
        for (i, c) in b.iter().enumerate() {
            let ok = c.is_ascii_digit() || (i == 17 && (*c == b'X' || *c == b'x'));
            if !ok {
                return Err(IdCardError::BadCharacter { position: i + 1 });
            }
        }
        if !(b'1'..=b'8').contains(&b[0]) {
            return Err(IdCardError::BadRegion);
        }
        let year: i32 = s[6..10].parse().map_err(|_| IdCardError::BadDate)?;
        let month: u32 = s[10..12].parse().map_err(|_| IdCardError::BadDate)?;
        let day: u32 = s[12..14].parse().map_err(|_| IdCardError::BadDate)?;
        let birth = NaiveDate::from_ymd_opt(year, month, day).ok_or(IdCardError::BadDate)?;
        if year < 1900 || birth > crate::date::today_in_china() {
            return Err(IdCardError::ImplausibleDate);
        }
        let expected = check_char(&b[..17]);
        let got = (b[17] as char).to_ascii_uppercase();
        if got != expected {
            return Err(IdCardError::BadChecksum { expected });
        }
        Ok(ResidentId(s.to_string()))
    }

    /// The normalised number (upper-case `X`). Personal data: hash it, never store or log it.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn birth_date(&self) -> NaiveDate {
        let s = &self.0;
        NaiveDate::from_ymd_opt(
            s[6..10].parse().unwrap_or(1900),
            s[10..12].parse().unwrap_or(1),
            s[12..14].parse().unwrap_or(1),
        )
        .unwrap_or(NaiveDate::MIN)
    }

    /// The two-digit province code of the address where the number was first issued.
    pub fn province(&self) -> &str {
        &self.0[..2]
    }

    /// Builds a valid number from an address code, a birth date and a sequence (for synthetic data).
    pub fn synthesize(address: u32, birth: NaiveDate, sequence: u32) -> ResidentId {
        let first17 = format!(
            "{:06}{}{:03}",
            address % 1_000_000,
            birth.format("%Y%m%d"),
            sequence % 1000
        );
        let c = check_char(first17.as_bytes());
        ResidentId(format!("{first17}{c}"))
    }
}

/// Debug output masks the number, so that it cannot leak through a log line.
impl fmt::Debug for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResidentId({}…{})", &self.0[..2], &self.0[16..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The standard's own example number (GB 11643-1999, appendix): 11010519491231002X.
    const EXAMPLE: &str = "11010519491231002X";

    #[test]
    fn the_standards_example_is_valid() {
        let id = ResidentId::parse(EXAMPLE).unwrap();
        assert_eq!(
            id.birth_date(),
            NaiveDate::from_ymd_opt(1949, 12, 31).unwrap()
        );
        assert_eq!(id.province(), "11");
        assert_eq!(
            ResidentId::parse("11010519491231002x").unwrap().as_str(),
            EXAMPLE
        );
    }

    #[test]
    fn checksum_errors_name_the_expected_character() {
        let err = ResidentId::parse("110105194912310021").unwrap_err();
        assert_eq!(err, IdCardError::BadChecksum { expected: 'X' });
        assert!(err.to_string().contains("check character is wrong"));
        // A single changed digit is always caught by MOD 11-2.
        let err = ResidentId::parse("11010519491231003X").unwrap_err();
        assert!(matches!(err, IdCardError::BadChecksum { .. }));
    }

    #[test]
    fn structural_errors() {
        assert_eq!(
            ResidentId::parse("1101051949123100").unwrap_err(),
            IdCardError::WrongLength(16)
        );
        assert_eq!(
            ResidentId::parse("11010519491231A02X").unwrap_err(),
            IdCardError::BadCharacter { position: 15 }
        );
        assert_eq!(
            ResidentId::parse("X1010519491231002X").unwrap_err(),
            IdCardError::BadCharacter { position: 1 }
        );
        assert_eq!(
            ResidentId::parse("010105194912310027").unwrap_err(),
            IdCardError::BadRegion
        );
        // 1949-02-30 does not exist.
        let first17 = b"11010519490230002";
        let s = format!(
            "{}{}",
            std::str::from_utf8(first17).unwrap(),
            check_char(first17)
        );
        assert_eq!(ResidentId::parse(&s).unwrap_err(), IdCardError::BadDate);
        let future =
            ResidentId::synthesize(110105, NaiveDate::from_ymd_opt(2199, 1, 1).unwrap(), 1);
        assert_eq!(
            ResidentId::parse(future.as_str()).unwrap_err(),
            IdCardError::ImplausibleDate
        );
    }

    #[test]
    fn errors_and_debug_never_show_the_number() {
        let id = ResidentId::parse(EXAMPLE).unwrap();
        assert!(!format!("{id:?}").contains("19491231"));
        let err = ResidentId::parse("110105194912310021").unwrap_err();
        assert!(!err.to_string().contains("19491231"));
    }

    #[test]
    fn synthesized_numbers_are_valid() {
        for seq in 0..200 {
            let id =
                ResidentId::synthesize(440305, NaiveDate::from_ymd_opt(1985, 7, 3).unwrap(), seq);
            assert_eq!(ResidentId::parse(id.as_str()).unwrap(), id);
        }
    }
}
