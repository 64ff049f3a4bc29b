//! The national e-licence identifier (电子证照标识, GB/T 36904-2018 《电子证照 标识规范》) and the
//! unified social credit code (统一社会信用代码, GB 32100-2015) it is built from.
//!
//! An identifier is six parts joined by dots:
//!
//! ```text
//! 1.2.156.3005.2.<licence type code>.<issuing authority code>.<serial>.<version>.<check>
//! 1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F
//! ```
//!
//! - the root `1.2.156.3005.2`, the same for every e-licence;
//! - the licence type code ([`LicenceTypeCode`], 证照类型代码): the unified social credit code of
//!   the body that defines the licence type, then a 3-digit sequence (`11100000000013338W032`:
//!   MOHURD's code and 032, the 建筑施工特种作业操作资格证书);
//! - the issuing authority code (颁发机构代码): the issuer's unified social credit code
//!   ([`UnifiedCreditCode`]), whose own GB 32100 check character is checked too;
//! - the serial (流水号), chosen by the issuer (see "The serial" below);
//! - the version (版本号): 3 digits, `001` for a first issue;
//! - the check character (校验位): ISO/IEC 7064 MOD 37,36 (the hybrid system over `0-9A-Z`).
//!
//! # What the check character is computed over
//!
//! Over the licence type code, the issuing authority code, the serial and the version written
//! one after the other, without the root and without dots:
//! `11100000000013338W032` + `11220000013544541J` + `2430599` + `001`. The real identifier of
//! the Jilin certificate 吉A042012000939 confirms it: that string gives `F`, the check character
//! the certificate carries, while the other readings give other characters (the whole identifier
//! without its dots gives `W`, the root's last arc and the parts give `U`, the parts without the
//! version give `G`; see the tests). Five further identifiers, found in the interface code and
//! test data of several provinces' systems (Hunan, Zhejiang, Shandong, Anhui), agree, and so do
//! independent generator implementations, which concatenate the same four parts. (The Anhui one
//! gives a region code, `340100`, as its issuing authority code; hutong refuses that, as the
//! standard's authority code is the issuer's unified social credit code.) One published
//! example (a Shandong licence-sharing interface's `…113700000045046442.209FA4E88F9E4C878F3E9BED2CE7EA49.001.M`)
//! does not: `M` is what an implementation in circulation gives when it values letters one too
//! high (`A` as 11 instead of 10); the standard's algorithm gives `D`, and hutong refuses the `M`
//! form, naming `D`.
//!
//! # The serial
//!
//! The standard leaves the serial to the issuer, and its text was not seen. The identifiers in
//! the sources have serials of 7 to 32 characters: digits (`2430599`, `20230000403`), a
//! timestamp with a random suffix, 20 random capital letters and digits, or a UUID's 32 hex
//! digits in capitals. hutong therefore reads a serial as 1 to [`SERIAL_MAX`] digits and capital
//! letters: the check character system is defined over `0-9A-Z` only, so no other character can
//! be part of a checked identifier, and a dot would split the part. The upper bound is hutong's
//! guard against unbounded input, not the standard's (none was found); it is twice the longest
//! serial seen. hutong assigns its own serials from a certificate's stable integer id
//! ([`for_certificate`]), so the serials it writes are digits only.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The root of every e-licence identifier (电子证照根代码).
pub const ROOT: &str = "1.2.156.3005.2";

/// The longest serial hutong reads: hutong's bound, twice the longest serial in the sources.
pub const SERIAL_MAX: usize = 64;

/// The version of a first issue.
pub const FIRST_ISSUE: u32 = 1;

/// GB 32100's 31 characters: the digits and the capital letters other than I, O, S, V and Z,
/// each worth its position.
const GB32100_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// GB 32100's weights of the first 17 characters (3^i mod 31).
const GB32100_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// What a GB 32100 character position may hold, for error messages.
const GB32100_EXPECTED: &str = "a digit or a capital letter other than I, O, S, V and Z";

/// Shows at most 24 characters of a wrong part, so that an error stays short whatever the input.
fn excerpt(s: &str) -> String {
    const MAX: usize = 24;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("{head}…")
    }
}

// --- GB 32100: the unified social credit code -----------------------------------------------

/// A unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters, checked.
///
/// Characters 1 and 2 are the registering department and the kind of body, 3-8 the region code
/// of the registering authority (6 digits), 9-17 the body's identifier, 18 the check character:
/// `31 - (Σ value(cᵢ)·3^(i-1) mod 31)`, taken mod 31, over GB 32100's 31 characters. Only
/// capital letters are accepted, as the standard writes them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnifiedCreditCode(String);

/// Why a text is not a unified social credit code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("a unified social credit code has 18 characters, this one has {0}")]
    Length(usize),
    #[error(
        "a unified social credit code without its check character has 17 characters, this one has {0}"
    )]
    BodyLength(usize),
    #[error(
        "character {position} of the unified social credit code is {found:?}: it must be {expected}"
    )]
    Character {
        position: usize,
        found: char,
        expected: &'static str,
    },
    #[error(
        "the unified social credit code's check character (GB 32100) is {found}, but its first 17 characters give {expected}"
    )]
    Check { found: char, expected: char },
}

/// The value of a GB 32100 character, if it is one.
fn gb32100_value(c: char) -> Option<u32> {
    let c = u8::try_from(c).ok()?;
    GB32100_CHARS.iter().position(|&x| x == c).map(|v| v as u32)
}

/// Checks the first 17 characters' form and gives the check character they call for.
fn gb32100_check(first17: &[char]) -> Result<char, CreditCodeError> {
    let mut sum = 0;
    for (i, (&c, w)) in first17.iter().zip(GB32100_WEIGHTS).enumerate() {
        let position = i + 1;
        let value = if (3..=8).contains(&position) {
            c.to_digit(10)
        } else {
            gb32100_value(c)
        };
        let Some(value) = value else {
            return Err(CreditCodeError::Character {
                position,
                found: c,
                expected: if (3..=8).contains(&position) {
                    "a digit (the registering authority's region code)"
                } else {
                    GB32100_EXPECTED
                },
            });
        };
        sum += value * w;
    }
    let check = (31 - sum % 31) % 31;
    Ok(char::from(GB32100_CHARS[check as usize]))
}

impl UnifiedCreditCode {
    /// Reads an 18-character code, checking its form and its check character.
    pub fn parse(s: &str) -> Result<UnifiedCreditCode, CreditCodeError> {
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 18 {
            return Err(CreditCodeError::Length(chars.len()));
        }
        let expected = gb32100_check(&chars[..17])?;
        let found = chars[17];
        if gb32100_value(found).is_none() {
            return Err(CreditCodeError::Character {
                position: 18,
                found,
                expected: GB32100_EXPECTED,
            });
        }
        if found != expected {
            return Err(CreditCodeError::Check { found, expected });
        }
        Ok(UnifiedCreditCode(s.to_string()))
    }

    /// The code whose first 17 characters are `first17`, completed with its check character.
    pub fn with_check_char(first17: &str) -> Result<UnifiedCreditCode, CreditCodeError> {
        let chars: Vec<char> = first17.chars().collect();
        if chars.len() != 17 {
            return Err(CreditCodeError::BodyLength(chars.len()));
        }
        let check = gb32100_check(&chars)?;
        Ok(UnifiedCreditCode(format!("{first17}{check}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Characters 3-8: the region code (GB/T 2260) of the authority that registered the body.
    pub fn region_code(&self) -> &str {
        &self.0[2..8]
    }
}

impl fmt::Display for UnifiedCreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for UnifiedCreditCode {
    type Err = CreditCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        UnifiedCreditCode::parse(s)
    }
}

impl TryFrom<String> for UnifiedCreditCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        UnifiedCreditCode::parse(&s).map_err(|e| format!("\"{}\": {e}", excerpt(&s)))
    }
}

impl From<UnifiedCreditCode> for String {
    fn from(c: UnifiedCreditCode) -> String {
        c.0
    }
}

// --- The licence type code --------------------------------------------------------------------

/// A licence type code (证照类型代码): the unified social credit code of the body that defines
/// the licence type, then a 3-digit sequence among its types. 21 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LicenceTypeCode {
    definer: UnifiedCreditCode,
    sequence: u16,
}

/// Why a text is not a licence type code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LicenceTypeCodeError {
    #[error(
        "a licence type code has 21 characters (the defining body's 18-character unified social credit code and a 3-digit sequence), this one has {0}"
    )]
    Length(usize),
    #[error(
        "the licence type code's first 18 characters must be the defining body's unified social credit code: {0}"
    )]
    Definer(CreditCodeError),
    #[error("the licence type code ends in a 3-digit sequence, not {0:?}")]
    Sequence(String),
}

impl LicenceTypeCode {
    pub fn parse(s: &str) -> Result<LicenceTypeCode, LicenceTypeCodeError> {
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 21 {
            return Err(LicenceTypeCodeError::Length(chars.len()));
        }
        let definer: String = chars[..18].iter().collect();
        let sequence: String = chars[18..].iter().collect();
        let definer = UnifiedCreditCode::parse(&definer).map_err(LicenceTypeCodeError::Definer)?;
        let sequence = three_digits(&sequence).ok_or(LicenceTypeCodeError::Sequence(sequence))?;
        Ok(LicenceTypeCode { definer, sequence })
    }

    /// The code of the defining body's type number `sequence` (0-999).
    pub fn new(
        definer: UnifiedCreditCode,
        sequence: u16,
    ) -> Result<LicenceTypeCode, LicenceTypeCodeError> {
        if sequence > 999 {
            return Err(LicenceTypeCodeError::Sequence(sequence.to_string()));
        }
        Ok(LicenceTypeCode { definer, sequence })
    }

    /// The unified social credit code of the body that defines the type.
    pub fn definer(&self) -> &UnifiedCreditCode {
        &self.definer
    }

    pub fn sequence(&self) -> u16 {
        self.sequence
    }
}

/// The value of exactly three ASCII digits.
fn three_digits(s: &str) -> Option<u16> {
    (s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

impl fmt::Display for LicenceTypeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{:03}", self.definer, self.sequence)
    }
}

impl FromStr for LicenceTypeCode {
    type Err = LicenceTypeCodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LicenceTypeCode::parse(s)
    }
}

impl TryFrom<String> for LicenceTypeCode {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        LicenceTypeCode::parse(&s).map_err(|e| format!("\"{}\": {e}", excerpt(&s)))
    }
}

impl From<LicenceTypeCode> for String {
    fn from(c: LicenceTypeCode) -> String {
        c.to_string()
    }
}

// --- The identifier ---------------------------------------------------------------------------

/// A national e-licence identifier (电子证照标识, GB/T 36904), read and checked, or made with
/// its check character by [`ELicenceId::new`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ELicenceId {
    type_code: LicenceTypeCode,
    authority: UnifiedCreditCode,
    serial: String,
    version: u16,
    check: char,
}

/// Why a text is not an e-licence identifier, naming the part that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ELicenceError {
    #[error("an e-licence identifier (GB/T 36904) starts with the root {ROOT} and a dot")]
    Root,
    #[error(
        "after the root {ROOT}, an e-licence identifier has 5 dot-separated parts (licence type code, issuing authority code, serial, version, check character); this one has {0}"
    )]
    Parts(usize),
    #[error("the licence type code (the first part after the root) is wrong: {0}")]
    TypeCode(LicenceTypeCodeError),
    #[error(
        "the issuing authority code (the second part after the root) must be the issuer's unified social credit code: {0}"
    )]
    Authority(CreditCodeError),
    #[error("the serial (the third part after the root) is empty")]
    SerialEmpty,
    #[error(
        "the serial (the third part after the root) has {0} characters; hutong reads at most {SERIAL_MAX}"
    )]
    SerialTooLong(usize),
    #[error(
        "character {position} of the serial is {found:?}: a serial is digits and capital letters, the only characters its check character covers"
    )]
    SerialCharacter { position: usize, found: char },
    #[error(
        "the version (the fourth part after the root) is 3 digits (001 for a first issue), not {0:?}"
    )]
    Version(String),
    #[error("the version is 3 digits (0-999), not {0}")]
    VersionRange(u32),
    #[error("the check character (the last part) is one digit or capital letter, not {0:?}")]
    CheckForm(String),
    #[error(
        "the check character is {found}, but the identifier's parts give {expected} (ISO/IEC 7064 MOD 37,36 over the licence type code, authority code, serial and version, without dots)"
    )]
    Check { found: char, expected: char },
}

/// Checks a serial's form.
fn check_serial(serial: &str) -> Result<(), ELicenceError> {
    let mut n = 0;
    for (i, c) in serial.chars().enumerate() {
        if !(c.is_ascii_digit() || c.is_ascii_uppercase()) {
            return Err(ELicenceError::SerialCharacter {
                position: i + 1,
                found: c,
            });
        }
        n += 1;
    }
    match n {
        0 => Err(ELicenceError::SerialEmpty),
        n if n > SERIAL_MAX => Err(ELicenceError::SerialTooLong(n)),
        _ => Ok(()),
    }
}

/// The ISO/IEC 7064 MOD 37,36 check character of the four checked parts, concatenated without
/// dots (see the module documentation for why this string).
fn check_char(
    type_code: &LicenceTypeCode,
    authority: &UnifiedCreditCode,
    serial: &str,
    version: u16,
) -> char {
    let checked = format!("{type_code}{authority}{serial}{version:03}");
    let [c] = iso_7064::MOD37_36
        .compute(&checked)
        // Every part was checked to be digits and capital letters, the system's alphabet.
        .expect("the checked parts are 0-9A-Z");
    c
}

impl ELicenceId {
    /// The identifier of the certificate `serial` of `type_code`, issued by `authority`, in
    /// `version` (1 for a first issue), with its check character computed.
    pub fn new(
        type_code: LicenceTypeCode,
        authority: UnifiedCreditCode,
        serial: &str,
        version: u32,
    ) -> Result<ELicenceId, ELicenceError> {
        check_serial(serial)?;
        let version = u16::try_from(version)
            .ok()
            .filter(|v| *v <= 999)
            .ok_or(ELicenceError::VersionRange(version))?;
        let check = check_char(&type_code, &authority, serial, version);
        Ok(ELicenceId {
            type_code,
            authority,
            serial: serial.to_string(),
            version,
            check,
        })
    }

    /// Reads an identifier, checking each part and the check character.
    pub fn parse(s: &str) -> Result<ELicenceId, ELicenceError> {
        let rest = s
            .strip_prefix(ROOT)
            .and_then(|r| r.strip_prefix('.'))
            .ok_or(ELicenceError::Root)?;
        let parts: Vec<&str> = rest.split('.').collect();
        let [type_code, authority, serial, version, check] = parts[..] else {
            return Err(ELicenceError::Parts(parts.len()));
        };
        let type_code = LicenceTypeCode::parse(type_code).map_err(ELicenceError::TypeCode)?;
        let authority = UnifiedCreditCode::parse(authority).map_err(ELicenceError::Authority)?;
        check_serial(serial)?;
        let version =
            three_digits(version).ok_or_else(|| ELicenceError::Version(excerpt(version)))?;
        let found = match check.chars().collect::<Vec<_>>()[..] {
            [c] if c.is_ascii_digit() || c.is_ascii_uppercase() => c,
            _ => return Err(ELicenceError::CheckForm(excerpt(check))),
        };
        let expected = check_char(&type_code, &authority, serial, version);
        if found != expected {
            return Err(ELicenceError::Check { found, expected });
        }
        Ok(ELicenceId {
            type_code,
            authority,
            serial: serial.to_string(),
            version,
            check: found,
        })
    }

    pub fn type_code(&self) -> &LicenceTypeCode {
        &self.type_code
    }

    /// The issuing authority's unified social credit code.
    pub fn authority(&self) -> &UnifiedCreditCode {
        &self.authority
    }

    pub fn serial(&self) -> &str {
        &self.serial
    }

    pub fn version(&self) -> u16 {
        self.version
    }

    pub fn check_char(&self) -> char {
        self.check
    }
}

impl fmt::Display for ELicenceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{ROOT}.{}.{}.{}.{:03}.{}",
            self.type_code, self.authority, self.serial, self.version, self.check
        )
    }
}

impl FromStr for ELicenceId {
    type Err = ELicenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ELicenceId::parse(s)
    }
}

impl TryFrom<String> for ELicenceId {
    type Error = ELicenceError;
    fn try_from(s: String) -> Result<Self, ELicenceError> {
        ELicenceId::parse(&s)
    }
}

impl From<ELicenceId> for String {
    fn from(id: ELicenceId) -> String {
        id.to_string()
    }
}

/// The e-licence identifier hutong gives a certificate: the kind's licence type code, the
/// issuer's unified social credit code, the certificate's stable integer id as the serial (in
/// decimal, no padding) and `version` ([`FIRST_ISSUE`] for a first issue).
///
/// `None` when the kind has no confirmed licence type code or the issuer no credit code (such a
/// certificate has no identifier), or when the id is negative or the version is not 1-999, which
/// no stored certificate has.
pub fn for_certificate(
    kind_licence_type_code: Option<&LicenceTypeCode>,
    issuer_credit_code: Option<&UnifiedCreditCode>,
    serial_from_id: i64,
    version: u32,
) -> Option<ELicenceId> {
    let (type_code, authority) = (kind_licence_type_code?, issuer_credit_code?);
    if serial_from_id < 0 || version == 0 {
        return None;
    }
    ELicenceId::new(
        type_code.clone(),
        authority.clone(),
        &serial_from_id.to_string(),
        version,
    )
    .ok()
}

#[cfg(test)]
mod tests;
