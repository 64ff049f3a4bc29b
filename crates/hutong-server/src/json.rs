//! A direct JSON writer for the lookup answer ([`LookupAnswer`]), the service's hottest
//! answer: every verification and every one-stop query writes one.
//!
//! Through serde, serde_json spends most of a verification's extra CPU on this answer: it
//! escapes every key and every string byte by byte, and calls through the serializer for each
//! field. Here the keys are literals, dates are written digit by digit, and strings are escaped
//! eight bytes at a time. The output is byte for byte what `serde_json::to_vec` makes of the
//! same answer, whose `Serialize` derive stays the definition (and the OpenAPI schema's
//! source): the tests below compare the two on every kind of answer, and the escaper on
//! arbitrary strings.

use chrono::Datelike;

use hutong_core::date::Day;
use hutong_core::verify::{Grant, Why};

use crate::views::{
    CertificateResult, CertificateView, CheckView, IssuerView, LookupAnswer, Named, NoteView,
    ProvisionalView,
};

/// An answer being written.
struct Out(Vec<u8>);

impl Out {
    #[inline]
    fn raw(&mut self, s: &str) {
        self.0.extend_from_slice(s.as_bytes());
    }

    /// A key that needs no escaping, with its colon: `"key":`.
    #[inline]
    fn key(&mut self, k: &'static str) {
        debug_assert!(k.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\'));
        self.0.push(b'"');
        self.0.extend_from_slice(k.as_bytes());
        self.0.extend_from_slice(b"\":");
    }

    #[inline]
    fn str(&mut self, s: &str) {
        self.0.push(b'"');
        escape_into(&mut self.0, s.as_bytes());
        self.0.push(b'"');
    }

    /// A string of the program's own (an id, a status name, a fixed sentence), copied without
    /// the check for characters to escape; debug builds, and so the tests, check it.
    #[inline]
    fn plain(&mut self, s: &'static str) {
        debug_assert!(is_plain(s.as_bytes()), "{s:?}");
        self.0.push(b'"');
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(b'"');
    }

    fn opt_plain(&mut self, s: Option<&'static str>) {
        match s {
            Some(s) => self.plain(s),
            None => self.raw("null"),
        }
    }

    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.raw("null"),
        }
    }

    fn bool(&mut self, b: bool) {
        self.raw(if b { "true" } else { "false" });
    }

    fn day(&mut self, d: Day) {
        let y = d.year();
        if !(0..=9999).contains(&y) {
            // chrono writes such years with a sign; not a date the registry holds, but keep
            // the same bytes as serde.
            self.0.push(b'"');
            self.raw(&d.to_string());
            self.0.push(b'"');
            return;
        }
        let (y, m, dd) = (y as u32, d.month(), d.day());
        let digit = |n: u32| b'0' + n as u8;
        self.0.extend_from_slice(&[
            b'"',
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
            b'"',
        ]);
    }

    fn opt_day(&mut self, d: Option<Day>) {
        match d {
            Some(d) => self.day(d),
            None => self.raw("null"),
        }
    }

    /// `,"key":` then the day, only when there is one (`skip_serializing_if = "Option::is_none"`).
    fn some_day(&mut self, key: &'static str, d: Option<Day>) {
        if let Some(d) = d {
            self.0.push(b',');
            self.key(key);
            self.day(d);
        }
    }

    fn list<T>(&mut self, items: &[T], mut each: impl FnMut(&mut Out, &T)) {
        self.0.push(b'[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.0.push(b',');
            }
            each(self, item);
        }
        self.0.push(b']');
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` escaped as serde_json escapes a string's contents: `"` and `\` with a
/// backslash, the control characters `\b \t \n \f \r` by name and the others as `\u00XX`;
/// everything else, including non-ASCII text, as it is.
fn escape_into(out: &mut Vec<u8>, s: &[u8]) {
    if is_plain(s) {
        out.extend_from_slice(s);
        return;
    }
    let mut start = 0;
    for (i, &b) in s.iter().enumerate() {
        if needs_escape(b) {
            out.extend_from_slice(&s[start..i]);
            escape_byte(out, b);
            start = i + 1;
        }
    }
    out.extend_from_slice(&s[start..]);
}

/// Whether `s` has no byte to escape, eight bytes at a time with no branch per word: in a
/// word, the high bit of a byte is set in [`word_flags`] if that byte (or, by a borrow, one
/// above a byte that is) needs escaping, so the union of the words' flags is empty exactly
/// when no byte does. The last short word is padded with a plain letter.
fn is_plain(s: &[u8]) -> bool {
    let (words, tail) = s.as_chunks::<8>();
    let mut flags = 0;
    for w in words {
        flags |= word_flags(u64::from_le_bytes(*w));
    }
    if !tail.is_empty() {
        let mut last = [b'a'; 8];
        last[..tail.len()].copy_from_slice(tail);
        flags |= word_flags(u64::from_le_bytes(last));
    }
    flags == 0
}

#[inline(always)]
fn word_flags(w: u64) -> u64 {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let control = w.wrapping_sub(LO * 0x20) & !w;
    let q = w ^ (LO * b'"' as u64);
    let quote = q.wrapping_sub(LO) & !q;
    let b = w ^ (LO * b'\\' as u64);
    let backslash = b.wrapping_sub(LO) & !b;
    (control | quote | backslash) & HI
}

#[inline]
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

fn escape_byte(out: &mut Vec<u8>, b: u8) {
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        0x08 => out.extend_from_slice(b"\\b"),
        b'\t' => out.extend_from_slice(b"\\t"),
        b'\n' => out.extend_from_slice(b"\\n"),
        0x0c => out.extend_from_slice(b"\\f"),
        b'\r' => out.extend_from_slice(b"\\r"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[(b >> 4) as usize],
            HEX[(b & 0xf) as usize],
        ]),
    }
}

impl LookupAnswer<'_> {
    /// The answer as JSON: the bytes `serde_json::to_vec(self)` makes, written directly.
    pub fn to_json(&self) -> Vec<u8> {
        // One verification answer is two to three kilobytes: one allocation, rarely regrown.
        let mut o = Out(Vec::with_capacity(4096));
        o.raw("{");
        o.key("found");
        o.bool(self.found);
        o.raw(",");
        o.key("as_of");
        o.day(self.as_of);
        o.raw(",");
        o.key("policy");
        o.str(self.policy);
        o.raw(",");
        o.key("certificates");
        o.0.push(b'[');
        for (i, c) in self.certificates.iter().enumerate() {
            if i > 0 {
                o.0.push(b',');
            }
            result(&mut o, c);
        }
        o.0.push(b']');
        if let Some(n) = &self.provisional_note {
            o.raw(",");
            o.key("provisional_note");
            o.raw("{");
            o.key("zh");
            o.plain(n.zh);
            o.raw(",");
            o.key("en");
            o.plain(n.en);
            o.raw("}");
        }
        o.raw("}");
        o.0
    }
}

fn result(o: &mut Out, c: &CertificateResult<'_>) {
    o.raw("{");
    o.key("status");
    o.opt_plain(c.status.map(|s| s.id()));
    o.raw(",");
    o.key("status_zh");
    o.opt_plain(c.status_zh);
    o.raw(",");
    o.key("status_en");
    o.opt_plain(c.status_en);
    o.raw(",");
    o.key("valid_until");
    o.opt_day(c.valid_until);
    o.some_day("review_due_on", c.review_due_on);
    o.some_day("review_due_from", c.review_due_from);
    o.some_day("expired_on", c.expired_on);
    o.some_day("suspended_on", c.suspended_on);
    o.some_day("revoked_on", c.revoked_on);
    o.raw(",");
    o.key("certificate");
    certificate(o, &c.certificate);
    o.raw(",");
    o.key("checks");
    o.0.push(b'[');
    for (i, ch) in c.checks.iter().enumerate() {
        if i > 0 {
            o.0.push(b',');
        }
        check(o, ch);
    }
    o.0.push(b']');
    o.raw(",");
    o.key("provisional");
    o.list(&c.provisional, provisional);
    if !c.notes.is_empty() {
        o.raw(",");
        o.key("notes");
        o.list(&c.notes, note);
    }
    o.raw("}");
}

fn named(o: &mut Out, n: &Named<'_>) {
    o.raw("{");
    o.key("id");
    o.str(n.id);
    o.raw(",");
    o.key("name_zh");
    o.str(n.name_zh);
    o.raw(",");
    o.key("name_en");
    o.str(n.name_en);
    o.raw("}");
}

fn certificate(o: &mut Out, c: &CertificateView<'_>) {
    o.raw("{");
    o.key("number");
    o.str(&c.number);
    o.raw(",");
    o.key("kind");
    o.str(c.kind);
    o.raw(",");
    o.key("kind_name_zh");
    o.str(&c.kind_name_zh);
    o.raw(",");
    o.key("kind_name_en");
    o.str(&c.kind_name_en);
    o.raw(",");
    o.key("department");
    named(o, &c.department);
    if let Some(n) = &c.occupation {
        o.raw(",");
        o.key("occupation");
        named(o, n);
    }
    if let Some(n) = &c.level {
        o.raw(",");
        o.key("level");
        named(o, n);
    }
    o.raw(",");
    o.key("issuer");
    issuer(o, &c.issuer);
    o.raw(",");
    o.key("issued_on");
    o.day(c.issued_on);
    o.raw(",");
    o.key("holder_name");
    o.str(&c.holder_name);
    o.raw("}");
}

fn issuer(o: &mut Out, i: &IssuerView<'_>) {
    o.raw("{");
    o.key("id");
    o.str(i.id);
    o.raw(",");
    o.key("name_zh");
    o.opt_str(i.name_zh);
    o.raw(",");
    o.key("name_en");
    o.opt_str(i.name_en);
    if let Some(r) = &i.region {
        o.raw(",");
        o.key("region");
        named(o, r);
    }
    o.raw(",");
    o.key("registration");
    o.plain(i.registration);
    o.some_day("registration_since", i.registration_since);
    if let Some(c) = i.contact {
        o.raw(",");
        o.key("contact");
        o.str(c);
    }
    o.raw("}");
}

fn check(o: &mut Out, c: &CheckView<'_>) {
    o.raw("{");
    o.key("id");
    o.plain(c.id);
    o.raw(",");
    o.key("outcome");
    o.plain(c.outcome);
    o.raw(",");
    o.key("why");
    why(o, c.why);
    o.raw(",");
    o.key("reason_zh");
    o.str(c.reason_zh);
    o.raw(",");
    o.key("reason_en");
    o.str(c.reason_en);
    o.raw(",");
    o.key("provisional");
    o.bool(c.provisional);
    o.raw("}");
}

/// `{"code": …, and what decided it}`, as `Why`'s tagged serde derive writes it.
fn why(o: &mut Out, w: &Why) {
    o.raw("{");
    o.key("code");
    o.plain(w.code());
    let field = |o: &mut Out, key: &'static str, value: &str| {
        o.raw(",");
        o.key(key);
        o.str(value);
    };
    match w {
        Why::InRegistry
        | Why::IssuerNotRegistered
        | Why::NoOccupationOrLevel
        | Why::NotInDirectory
        | Why::NotRegisteredInstitution
        | Why::Suspended
        | Why::Revoked => {}
        Why::KindNotGranted { kind } => field(o, "kind", kind),
        Why::IssuerNotInGoodStanding {
            on,
            registered_on,
            registration,
        } => {
            o.raw(",");
            o.key("on");
            o.day(*on);
            o.raw(",");
            o.key("registered_on");
            o.day(*registered_on);
            field(o, "registration", registration.id());
        }
        Why::OutOfScope { occupation, level } => {
            field(o, "occupation", occupation);
            field(o, "level", level.id());
        }
        Why::Granted { grant } => {
            o.raw(",");
            o.key("grant");
            grant_object(o, grant);
        }
        Why::GrantedBeforeDeregistration {
            grant,
            registration,
            since,
        } => {
            o.raw(",");
            o.key("grant");
            grant_object(o, grant);
            field(o, "registration", registration.id());
            o.some_day("since", *since);
        }
        Why::InDirectory { entry } => field(o, "entry", entry),
        Why::RegisteredInstitution { institution } => field(o, "institution", institution),
        Why::Valid { lifecycle } | Why::ReviewDue { lifecycle } | Why::Expired { lifecycle } => {
            field(o, "lifecycle", lifecycle)
        }
        Why::KindNotInPolicy { kind, policy } => {
            field(o, "kind", kind);
            field(o, "policy", policy);
        }
    }
    o.raw("}");
}

fn grant_object(o: &mut Out, g: &Grant) {
    o.raw("{");
    o.key("kind");
    o.str(&g.kind);
    if let Some(occ) = &g.occupation {
        o.raw(",");
        o.key("occupation");
        o.str(occ);
    }
    if let Some(l) = g.level {
        o.raw(",");
        o.key("level");
        o.str(l.id());
    }
    o.raw("}");
}

fn provisional(o: &mut Out, p: &ProvisionalView<'_>) {
    o.raw("{");
    o.key("fact");
    o.plain(p.fact.id());
    o.raw(",");
    o.key("id");
    o.str(p.id);
    o.raw("}");
}

fn note(o: &mut Out, n: &NoteView<'_>) {
    o.raw("{");
    o.key("id");
    o.str(n.id);
    o.raw(",");
    o.key("text_zh");
    o.str(n.text_zh);
    o.raw(",");
    o.key("text_en");
    o.str(n.text_en);
    o.raw(",");
    o.key("source");
    o.str(n.source);
    o.raw(",");
    o.key("provisional");
    o.bool(n.provisional);
    o.raw("}");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn escaped(s: &str) -> String {
        let mut v = Vec::new();
        escape_into(&mut v, s.as_bytes());
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn escapes_as_serde_json_does() {
        for s in [
            "",
            "a",
            "\"",
            "\\",
            "12345678\"",
            "1234567\u{1f}",
            "\u{7f}\u{0}\u{8}\t\n\u{c}\r",
            "熊*",
            "四川省住房和城乡建设厅 \"引号\" \\ 反斜杠",
        ] {
            let want = serde_json::to_string(s).unwrap();
            assert_eq!(format!("\"{}\"", escaped(s)), want, "{s:?}");
        }
    }

    #[test]
    fn writes_every_why_as_serde_json_does() {
        use hutong_core::IssuerStatus;
        use hutong_core::Level;
        let day = Day::from_ymd_opt(2021, 3, 4).unwrap();
        let grant = |occupation: Option<&str>, level| Grant {
            kind: "mohrss.skill-level".into(),
            occupation: occupation.map(Into::into),
            level,
        };
        let all = [
            Why::InRegistry,
            Why::IssuerNotRegistered,
            Why::KindNotGranted {
                kind: "k\"q".into(),
            },
            Why::IssuerNotInGoodStanding {
                on: day,
                registered_on: day,
                registration: IssuerStatus::Suspended,
            },
            Why::NoOccupationOrLevel,
            Why::OutOfScope {
                occupation: "6-31-01-03".into(),
                level: Level::Apprentice,
            },
            Why::Granted {
                grant: grant(None, None),
            },
            Why::Granted {
                grant: grant(Some("6-31-01-03"), Some(Level::L4)),
            },
            Why::GrantedBeforeDeregistration {
                grant: grant(Some("x"), None),
                registration: IssuerStatus::Removed,
                since: Some(day),
            },
            Why::GrantedBeforeDeregistration {
                grant: grant(None, Some(Level::L1)),
                registration: IssuerStatus::Registered,
                since: None,
            },
            Why::InDirectory { entry: "e".into() },
            Why::NotInDirectory,
            Why::RegisteredInstitution {
                institution: "inst".into(),
            },
            Why::NotRegisteredInstitution,
            Why::Valid {
                lifecycle: "l".into(),
            },
            Why::ReviewDue {
                lifecycle: "l".into(),
            },
            Why::Expired {
                lifecycle: "l".into(),
            },
            Why::Suspended,
            Why::Revoked,
            Why::KindNotInPolicy {
                kind: "k".into(),
                policy: "p".into(),
            },
        ];
        for w in &all {
            let mut o = Out(Vec::new());
            why(&mut o, w);
            assert_eq!(
                String::from_utf8(o.0).unwrap(),
                serde_json::to_string(w).unwrap()
            );
        }
    }

    proptest! {
        #[test]
        fn escapes_any_string_as_serde_json_does(s in any::<String>()) {
            prop_assert_eq!(format!("\"{}\"", escaped(&s)), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn escapes_near_ascii_strings_as_serde_json_does(s in "[\\x00-\\x7f\"\\\\]{0,40}") {
            prop_assert_eq!(format!("\"{}\"", escaped(&s)), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn finds_every_byte_to_escape(s in "[\\x00-\\x7f\u{80}-\u{10ffff}]{0,40}") {
            let plain = !s.bytes().any(needs_escape);
            prop_assert_eq!(is_plain(s.as_bytes()), plain);
        }

        #[test]
        fn writes_days_as_serde_json_does(n in 0i32..3_652_059) {
            let d = Day::from_num_days_from_ce_opt(n + 1).unwrap();
            let mut o = Out(Vec::new());
            o.day(d);
            prop_assert_eq!(String::from_utf8(o.0).unwrap(), serde_json::to_string(&d).unwrap());
        }
    }
}
