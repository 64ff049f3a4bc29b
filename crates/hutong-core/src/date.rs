//! Calendar days and periods (`P6Y`, `P3M`, `P60D`).

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A calendar day. Certificates are valid by the day, in China's single time zone.
pub type Day = NaiveDate;

/// Parses `YYYY-MM-DD` strictly (four-digit year, two-digit month and day).
pub fn parse_day(s: &str) -> Result<Day, String> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err(format!("\"{s}\" is not a date of the form YYYY-MM-DD"));
    }
    // The shape is checked: read the digits directly (chrono's format parser costs far more).
    let num = |r: std::ops::Range<usize>| b[r].iter().fold(0, |n, c| n * 10 + u32::from(c - b'0'));
    NaiveDate::from_ymd_opt(num(0..4) as i32, num(5..7), num(8..10))
        .ok_or_else(|| format!("\"{s}\" is not a real calendar date"))
}

/// A day as `YYYY-MM-DD`, the text `Day`'s `Display` and `Serialize` give, written digit by
/// digit instead of through chrono's formatting: answers write several dates each.
#[derive(Clone, Copy)]
pub struct Iso {
    text: [u8; 10],
}

impl Iso {
    /// `None` for a year outside 0–9999, which chrono writes with a sign.
    pub fn new(d: Day) -> Option<Iso> {
        let y = d.year();
        if !(0..=9999).contains(&y) {
            return None;
        }
        let (y, m, dd) = (y as u32, d.month(), d.day());
        let digit = |n: u32| b'0' + n as u8;
        Some(Iso {
            text: [
                digit(y / 1000),
                digit(y / 100 % 10),
                digit(y / 10 % 10),
                digit(y % 10),
                b'-',
                digit(m / 10),
                digit(m % 10),
                b'-',
                digit(dd / 10),
                digit(dd % 10),
            ],
        })
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.text).expect("ASCII digits and dashes")
    }
}

/// Appends `d` as `YYYY-MM-DD` (as `Display` writes it).
pub fn push_day(out: &mut String, d: Day) {
    match Iso::new(d) {
        Some(i) => out.push_str(i.as_str()),
        None => out.push_str(&d.to_string()),
    }
}

/// A piece of a sentence made with [`sentence`].
#[derive(Clone, Copy)]
pub enum Piece<'a> {
    Text(&'a str),
    Day(Day),
    /// A day if there is one, else nothing.
    MaybeDay(Option<Day>),
}

/// Text and days, concatenated into one allocation: the sentences of answers, which name
/// days, without the formatting machinery.
pub fn sentence(pieces: &[Piece<'_>]) -> String {
    let len: usize = pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => t.len(),
            _ => 10,
        })
        .sum();
    let mut s = String::with_capacity(len);
    for p in pieces {
        match *p {
            Piece::Text(t) => s.push_str(t),
            Piece::Day(d) | Piece::MaybeDay(Some(d)) => push_day(&mut s, d),
            Piece::MaybeDay(None) => {}
        }
    }
    s
}

/// Today in China Standard Time (UTC+8), which is the day certificates are judged by.
pub fn today_in_china() -> Day {
    let now = chrono::Utc::now() + chrono::Duration::hours(8);
    now.date_naive()
}

/// A period of whole years, months or days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Period {
    Years(u32),
    Months(u32),
    Days(u32),
}

impl Period {
    /// `day` moved forward by this period. Month arithmetic clamps to the month's last day
    /// (2024-02-29 plus one year is 2025-02-28), as administrative practice does.
    pub fn after(self, day: Day) -> Day {
        match self {
            Period::Years(n) => add_years(day, n as i32).unwrap_or(NaiveDate::MAX),
            Period::Months(n) => day
                .checked_add_months(Months::new(n))
                .unwrap_or(NaiveDate::MAX),
            Period::Days(n) => day
                .checked_add_days(Days::new(n.into()))
                .unwrap_or(NaiveDate::MAX),
        }
    }

    /// `day` moved back by this period.
    pub fn before(self, day: Day) -> Day {
        match self {
            Period::Years(n) => add_years(day, -(n as i32)).unwrap_or(NaiveDate::MIN),
            Period::Months(n) => day
                .checked_sub_months(Months::new(n))
                .unwrap_or(NaiveDate::MIN),
            Period::Days(n) => day
                .checked_sub_days(Days::new(n.into()))
                .unwrap_or(NaiveDate::MIN),
        }
    }

    pub fn describe_zh(self) -> String {
        match self {
            Period::Years(n) => format!("{n}年"),
            Period::Months(n) => format!("{n}个月"),
            Period::Days(n) => format!("{n}日"),
        }
    }

    pub fn describe_en(self) -> String {
        let (n, unit) = match self {
            Period::Years(n) => (n, "year"),
            Period::Months(n) => (n, "month"),
            Period::Days(n) => (n, "day"),
        };
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    }
}

/// `day` moved by whole years, 29 February becoming 28 February in a common year: the same as
/// moving by twelve times as many months, without the month arithmetic (this is on the hot path
/// of lifecycle and advice computations).
fn add_years(day: Day, years: i32) -> Option<Day> {
    let year = day.year().checked_add(years)?;
    day.with_year(year)
        .or_else(|| NaiveDate::from_ymd_opt(year, day.month(), 28))
}

/// Whole years from `from` to `to` (0 when `to` is before the first anniversary).
pub fn whole_years_between(from: Day, to: Day) -> i32 {
    let mut years = to.year() - from.year();
    if (to.month(), to.day()) < (from.month(), from.day()) {
        years -= 1;
    }
    years.max(0)
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Years(n) => write!(f, "P{n}Y"),
            Period::Months(n) => write!(f, "P{n}M"),
            Period::Days(n) => write!(f, "P{n}D"),
        }
    }
}

impl FromStr for Period {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("\"{s}\" is not a period such as P6Y, P3M or P60D");
        let rest = s.strip_prefix('P').ok_or_else(bad)?;
        if rest.len() < 2 {
            return Err(bad());
        }
        let (num, unit) = rest.split_at(rest.len() - 1);
        if !num.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: u32 = num.parse().map_err(|_| bad())?;
        if n == 0 || n > 100_000 {
            return Err(format!(
                "\"{s}\": a period must be between 1 and 100000 units"
            ));
        }
        match unit {
            "Y" => Ok(Period::Years(n)),
            "M" => Ok(Period::Months(n)),
            "D" => Ok(Period::Days(n)),
            _ => Err(bad()),
        }
    }
}

impl Serialize for Period {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Period {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Day {
        parse_day(s).unwrap()
    }

    #[test]
    fn iso_days_are_what_display_writes() {
        for n in (1..3_652_059).step_by(997).chain([1, 730_120, 3_652_059]) {
            let d = Day::from_num_days_from_ce_opt(n).unwrap();
            assert_eq!(Iso::new(d).unwrap().as_str(), d.to_string());
        }
        let far = Day::from_ymd_opt(12345, 1, 1).unwrap();
        assert!(Iso::new(far).is_none());
        let mut s = String::new();
        push_day(&mut s, far);
        assert_eq!(s, far.to_string());
        assert_eq!(
            sentence(&[
                Piece::Day(d("2026-01-02")),
                Piece::Text(" 至 "),
                Piece::MaybeDay(None),
                Piece::MaybeDay(Some(d("2027-03-04"))),
            ]),
            "2026-01-02 至 2027-03-04"
        );
    }

    #[test]
    fn periods_parse_and_print() {
        assert_eq!("P6Y".parse::<Period>().unwrap(), Period::Years(6));
        assert_eq!("P3M".parse::<Period>().unwrap(), Period::Months(3));
        assert_eq!("P60D".parse::<Period>().unwrap(), Period::Days(60));
        assert_eq!(Period::Days(60).to_string(), "P60D");
        for bad in ["", "P", "6Y", "P6", "PY", "P-1Y", "P0D", "P1W", "P1Y2M"] {
            assert!(bad.parse::<Period>().is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn period_arithmetic_clamps_month_ends() {
        assert_eq!(Period::Years(1).after(d("2024-02-29")), d("2025-02-28"));
        assert_eq!(Period::Months(3).before(d("2026-05-31")), d("2026-02-28"));
        assert_eq!(Period::Days(60).before(d("2026-03-01")), d("2025-12-31"));
    }

    #[test]
    fn year_arithmetic_agrees_with_month_arithmetic() {
        let mut day = d("2019-12-25");
        while day < d("2030-03-05") {
            for n in [1, 3, 4, 6, 10] {
                assert_eq!(
                    Period::Years(n).after(day),
                    day.checked_add_months(Months::new(n * 12)).unwrap(),
                    "{day} + {n} years"
                );
                assert_eq!(
                    Period::Years(n).before(day),
                    day.checked_sub_months(Months::new(n * 12)).unwrap(),
                    "{day} - {n} years"
                );
            }
            day = day.succ_opt().unwrap();
        }
    }

    #[test]
    fn day_parsing_agrees_with_chrono() {
        for s in [
            "0000-01-01",
            "0001-02-28",
            "1999-12-31",
            "2024-02-29",
            "2025-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2026-04-00",
            "9999-12-31",
            "2026-01-32",
        ] {
            assert_eq!(
                parse_day(s).ok(),
                NaiveDate::parse_from_str(s, "%Y-%m-%d").ok(),
                "{s}"
            );
        }
    }

    #[test]
    fn strict_day_parsing() {
        assert_eq!(
            d("2026-01-16"),
            NaiveDate::from_ymd_opt(2026, 1, 16).unwrap()
        );
        assert!(parse_day("2026-1-16").is_err());
        assert!(
            parse_day("2026-02-30")
                .unwrap_err()
                .contains("not a real calendar date")
        );
        assert!(parse_day("20260116").is_err());
    }

    #[test]
    fn whole_years() {
        assert_eq!(whole_years_between(d("2020-05-10"), d("2024-05-09")), 3);
        assert_eq!(whole_years_between(d("2020-05-10"), d("2024-05-10")), 4);
        assert_eq!(whole_years_between(d("2024-05-10"), d("2020-05-10")), 0);
    }
}

/// Serde helpers that read a day from either a `YYYY-MM-DD` string (JSON, CSV) or a TOML date.
pub mod day_serde {
    use super::{Day, parse_day};
    use serde::de::{self, MapAccess, Visitor};
    use serde::{Deserialize, Deserializer};
    use std::fmt;

    struct DayVisitor;

    impl<'de> Visitor<'de> for DayVisitor {
        type Value = Day;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a date YYYY-MM-DD")
        }
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Day, E> {
            parse_day(s).map_err(E::custom)
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Day, A::Error> {
            let dt =
                toml::value::Datetime::deserialize(de::value::MapAccessDeserializer::new(map))?;
            match (dt.date, dt.time, dt.offset) {
                (Some(date), None, None) => chrono::NaiveDate::from_ymd_opt(
                    i32::from(date.year),
                    u32::from(date.month),
                    u32::from(date.day),
                )
                .ok_or_else(|| de::Error::custom(format!("{dt} is not a real calendar date"))),
                _ => Err(de::Error::custom(format!(
                    "{dt}: expected a date without a time"
                ))),
            }
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Day, D::Error> {
        d.deserialize_any(DayVisitor)
    }

    /// For `Option<Day>` fields (use with `#[serde(default)]`); a JSON `null` reads as `None`.
    pub mod option {
        use super::*;

        struct OptionDayVisitor;

        impl<'de> Visitor<'de> for OptionDayVisitor {
            type Value = Option<Day>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a date YYYY-MM-DD or null")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Option<Day>, E> {
                Ok(None)
            }
            fn visit_none<E: de::Error>(self) -> Result<Option<Day>, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<Day>, D::Error> {
                d.deserialize_any(DayVisitor).map(Some)
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<Day>, E> {
                DayVisitor.visit_str(s).map(Some)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<Day>, A::Error> {
                DayVisitor.visit_map(map).map(Some)
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Day>, D::Error> {
            d.deserialize_any(OptionDayVisitor)
        }
    }
}
