//! The lookup answer ([`LookupAnswer`]) as JSON, written directly: the service's hottest
//! answer, made by every verification and every one-stop query. It is the bytes
//! `serde_json::to_vec` makes of the same answer, whose `Serialize` derive stays the definition
//! (and the OpenAPI schema's source), from the pieces in `hutong_core::json`: keys are
//! literals, strings are copied whole when they need no escaping, days are written digit by
//! digit. The tests compare the two on every kind of answer (`tests/http/json_answers.rs`).

use hutong_core::date::Day;
use hutong_core::json;
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
        debug_assert!(!json::needs_escaping(k.as_bytes()));
        self.0.push(b'"');
        self.0.extend_from_slice(k.as_bytes());
        self.0.extend_from_slice(b"\":");
    }

    #[inline]
    fn str(&mut self, s: &str) {
        json::str(&mut self.0, s);
    }

    #[inline]
    fn plain(&mut self, s: &'static str) {
        json::plain(&mut self.0, s);
    }

    fn opt_plain(&mut self, s: Option<&'static str>) {
        json::opt_plain(&mut self.0, s);
    }

    fn opt_str(&mut self, s: Option<&str>) {
        json::opt_str(&mut self.0, s);
    }

    fn bool(&mut self, b: bool) {
        json::bool(&mut self.0, b);
    }

    fn day(&mut self, d: Day) {
        json::day(&mut self.0, d);
    }

    fn opt_day(&mut self, d: Option<Day>) {
        json::opt_day(&mut self.0, d);
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
    o.key("verdict");
    o.plain(c.verdict.id());
    o.raw(",");
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
    if let Some(r) = c.status_reason {
        o.raw(",");
        o.key("status_reason");
        o.raw("{");
        for (i, (k, v)) in [
            ("id", r.id.as_str()),
            ("name_zh", &r.name_zh),
            ("name_en", &r.name_en),
            ("national_code", &r.national_code),
            ("basis_zh", &r.basis_zh),
            ("basis_en", &r.basis_en),
            ("source", &r.source),
        ]
        .into_iter()
        .enumerate()
        {
            if i > 0 {
                o.raw(",");
            }
            o.key(k);
            o.str(v);
        }
        o.raw(",");
        o.key("provisional");
        o.bool(r.provisional);
        o.raw("}");
    }
    if let Some(at) = c.data_as_of {
        o.raw(",");
        o.key("data_as_of");
        o.str(at);
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
    if let Some(id) = c.e_licence_id {
        o.raw(",");
        o.key("e_licence_id");
        o.str(id);
    }
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
        Why::IssuerSuspended { on, from, until } => {
            o.raw(",");
            o.key("on");
            o.day(*on);
            o.raw(",");
            o.key("from");
            o.day(*from);
            o.some_day("until", *until);
        }
        Why::GrantEnded { grant, ended } => {
            o.raw(",");
            o.key("grant");
            grant_object(o, grant);
            o.raw(",");
            o.key("ended");
            o.day(*ended);
        }
        Why::GrantNotYetInForce { grant, from } => {
            o.raw(",");
            o.key("grant");
            grant_object(o, grant);
            o.raw(",");
            o.key("from");
            o.day(*from);
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
            Why::IssuerSuspended {
                on: day,
                from: day,
                until: Some(day),
            },
            Why::IssuerSuspended {
                on: day,
                from: day,
                until: None,
            },
            Why::GrantEnded {
                grant: grant(Some("6-31-01-03"), Some(Level::L4)),
                ended: day,
            },
            Why::GrantNotYetInForce {
                grant: grant(None, None),
                from: day,
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
}
