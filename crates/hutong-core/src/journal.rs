//! The change journal: every write to the registry is one entry, and this module owns what each
//! change does to its record.
//!
//! The backends persist the record that [`CertChange::apply`] (or the issuer register's
//! `IssuerChange::apply`) returns together with the entry, in one transaction; they decide
//! nothing. See `docs/write-side.md`.
//!
//! Privacy: no entry holds a plain ID number. A certificate whose number embeds the holder's ID
//! number (`mem` `T…` numbers, `samr` numbers) appears in the journal, and in the canonical form
//! its hash is taken of, under its masked number ([`crate::number::mask_id_numbers`]) beside the
//! holder's keyed hash. The hash therefore cannot be used to search for the ID number; an audit, which
//! holds the holder key, checks the plain number against the keyed hash instead.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::certificate::{AdminState, Certificate, RevocationReason};
use crate::date::{Day, Period};
use crate::json;
use crate::lifecycle::Lifecycle;
use crate::number;

/// What an entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    /// A certificate, by its registry id (never by its number, which may embed an ID number).
    Certificate(i64),
    Issuer(String),
    Token(String),
    /// An issuer's signing key, by its key id.
    Key(String),
    /// A policy, by its digest.
    Policy(String),
    /// A holder's share code, by its public id (never by the code).
    Share(String),
    /// A refused request that named nothing stored.
    Nothing,
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Certificate(id) => write!(f, "cert:{id}"),
            Subject::Issuer(id) => write!(f, "issuer:{id}"),
            Subject::Token(id) => write!(f, "token:{id}"),
            Subject::Key(id) => write!(f, "key:{id}"),
            Subject::Policy(d) => write!(f, "policy:{d}"),
            Subject::Share(id) => write!(f, "share:{id}"),
            Subject::Nothing => f.write_str("none"),
        }
    }
}

impl std::str::FromStr for Subject {
    type Err = String;
    fn from_str(s: &str) -> Result<Subject, String> {
        if s == "none" {
            return Ok(Subject::Nothing);
        }
        let (prefix, rest) = s
            .split_once(':')
            .ok_or_else(|| format!("\"{s}\" is not a journal subject"))?;
        Ok(match prefix {
            "cert" => Subject::Certificate(
                rest.parse()
                    .map_err(|_| format!("\"{s}\": the certificate id is not a number"))?,
            ),
            "issuer" => Subject::Issuer(rest.to_string()),
            "token" => Subject::Token(rest.to_string()),
            "key" => Subject::Key(rest.to_string()),
            "policy" => Subject::Policy(rest.to_string()),
            "share" => Subject::Share(rest.to_string()),
            _ => return Err(format!("\"{s}\" is not a journal subject")),
        })
    }
}

impl Serialize for Subject {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Subject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Subject, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One entry of the journal, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Gapless and strictly increasing within one registry, from 1.
    pub seq: u64,
    /// The UTC instant, in microseconds since 1970-01-01T00:00:00Z.
    pub at_micros: i64,
    /// A token id, or `import`, `demo`, `cli:<user>` for local commands, `migration` for
    /// entries made from an earlier schema.
    pub actor: String,
    pub subject: Subject,
    /// The change, as canonical JSON (RFC 8785). Its `"change"` member names its kind.
    pub change: String,
    /// SHA-256 of the affected record's canonical form after the change, in lower-case hex;
    /// none for changes without a record (refusals, policy publishing).
    pub record_sha256: Option<String>,
}

impl Entry {
    /// The kind of change (`issued`, `revoked`, `scope-granted`, …), read from the change.
    pub fn kind(&self) -> &str {
        change_kind(&self.change).unwrap_or("unknown")
    }

    /// The instant as RFC 3339 with microseconds, `Z`.
    pub fn at_rfc3339(&self) -> String {
        instant_rfc3339(self.at_micros)
    }

    /// Whether this entry is a leaf of the transparency log: every change to a certificate, an
    /// issuer's rights or a signing key, and nothing else (tokens, policy publishing and
    /// refusals stay in the journal only).
    pub fn is_log_leaf(&self) -> bool {
        matches!(
            self.subject,
            Subject::Certificate(_) | Subject::Issuer(_) | Subject::Key(_)
        ) && self.kind() != "refused"
    }

    /// The entry's leaf in the transparency log: the RFC 8785 JSON of its sequence number,
    /// instant, actor, subject, kind of change, the SHA-256 of the change's canonical JSON and
    /// the record hash. The change itself is committed to by its hash, not copied: the log is
    /// public (anyone may mirror its entry bundles) and a change can hold a holder's name, which
    /// public answers only ever show masked. What the leaf commits to is exactly what an audit
    /// recomputes from the stored journal, so an edited change is caught all the same.
    pub fn leaf_bytes(&self) -> Vec<u8> {
        let v = serde_json::json!({
            "seq": self.seq,
            "at": self.at_rfc3339(),
            "actor": self.actor,
            "subject": self.subject.to_string(),
            "change": self.kind(),
            "change_sha256": sha256_hex(self.change.as_bytes()),
            "record_sha256": self.record_sha256,
        });
        canonical(&v).into_bytes()
    }
}

/// An instant in microseconds as RFC 3339 (UTC, microseconds).
pub fn instant_rfc3339(micros: i64) -> String {
    match chrono::DateTime::from_timestamp_micros(micros) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        None => format!("@{micros}us"),
    }
}

/// The day in China (UTC+8, the registry's calendar) of an instant in microseconds.
pub fn day_in_china(micros: i64) -> Option<Day> {
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|t| (t + chrono::Duration::hours(8)).date_naive())
}

/// Now, in microseconds since the Unix epoch.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// The `"change"` member of a change's canonical JSON, which is its first member when the name
/// sorts first; found by a scan so that listing a journal does not parse every entry.
pub fn change_kind(change_json: &str) -> Option<&str> {
    let i = change_json.find("\"change\":\"")? + "\"change\":\"".len();
    let rest = &change_json[i..];
    Some(&rest[..rest.find('"')?])
}

/// A change to one certificate. Serialised, it is the `change` of its journal entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "kebab-case", deny_unknown_fields)]
pub enum CertChange {
    /// Issued (or registered by an import). The record is stored as given.
    Issued,
    /// A periodic review (复审) passed on `on`.
    Reviewed { on: Day },
    /// Renewed (延续, 延期复审) on `on`; validity runs to `valid_until`.
    Renewed { on: Day, valid_until: Day },
    /// Renewed on `on` by re-issuing the card as `number` (of the same kind), whose validity
    /// runs to `valid_until`: this card is cancelled (注销) that day, as the national code table
    /// has a renewal that replaces a card do, and the new card's `issued` entry names this one
    /// (`renews`), so each links to the other.
    #[serde(rename = "renewed-as")]
    RenewedAs {
        on: Day,
        valid_until: Day,
        number: String,
    },
    /// Suspended (暂扣) from `on`.
    Suspended { on: Day },
    /// Reinstated (暂扣发还) on `on`.
    Reinstated { on: Day },
    /// Revoked from `on`, for `reason`.
    Revoked { on: Day, reason: RevocationReason },
    /// Cancelled (注销) on `on`: the holder's death or request, or after 撤销.
    Cancelled { on: Day },
    /// The holder's name corrected; the old name stays in this entry.
    #[serde(rename = "holder-name-corrected")]
    NameCorrected { from: String, to: String },
}

impl CertChange {
    pub fn id(&self) -> &'static str {
        match self {
            CertChange::Issued => "issued",
            CertChange::Reviewed { .. } => "reviewed",
            CertChange::Renewed { .. } => "renewed",
            CertChange::RenewedAs { .. } => "renewed-as",
            CertChange::Suspended { .. } => "suspended",
            CertChange::Reinstated { .. } => "reinstated",
            CertChange::Revoked { .. } => "revoked",
            CertChange::Cancelled { .. } => "cancelled",
            CertChange::NameCorrected { .. } => "holder-name-corrected",
        }
    }

    /// The change as the canonical JSON of its journal entry. For an issue, the record itself
    /// (in its canonical form) is the change's `record`.
    pub fn to_json(&self, record_canonical: Option<&str>) -> String {
        match (self, record_canonical) {
            (CertChange::Issued, Some(record)) => {
                let mut w = Vec::with_capacity(record.len() + 32);
                w.extend_from_slice(b"{\"change\":\"issued\",\"record\":");
                w.extend_from_slice(record.as_bytes());
                w.push(b'}');
                String::from_utf8(w).expect("canonical JSON is UTF-8")
            }
            _ => canonical(self),
        }
    }

    /// The change of the `issued` entry of a card that a renewal re-issued: the record, and
    /// `renews`, the number of the card it replaces (as public answers show numbers).
    pub fn issued_renewing(record_canonical: &str, renews: &str) -> String {
        let mut w = Vec::with_capacity(record_canonical.len() + 64);
        w.extend_from_slice(b"{\"change\":\"issued\",\"record\":");
        w.extend_from_slice(record_canonical.as_bytes());
        w.extend_from_slice(b",\"renews\":");
        json::str(&mut w, &number::mask_id_numbers(renews));
        w.push(b'}');
        String::from_utf8(w).expect("canonical JSON is UTF-8")
    }

    /// Applies the change to the certificate as it is, on `today`, under the kind's lifecycle
    /// rule. This is the only place where a change meets a certificate: the backends persist
    /// what it returns.
    pub fn apply(
        &self,
        before: &Certificate,
        rule: &Lifecycle,
        today: Day,
    ) -> Result<Certificate, Refusal> {
        let not_before_issue = |on: Day| {
            if on < before.issued_on {
                Err(Refusal::BeforeIssue {
                    on,
                    issued_on: before.issued_on,
                })
            } else if on > today {
                Err(Refusal::InTheFuture { on, today })
            } else {
                Ok(())
            }
        };
        match self {
            CertChange::Issued => return Err(Refusal::AlreadyIssued),
            CertChange::Reviewed { on } => {
                not_before_issue(*on)?;
                in_force(before)?;
                let window = review_window(before, rule)?;
                window.contains(*on, rule)?;
            }
            CertChange::Renewed { on, valid_until } => {
                not_before_issue(*on)?;
                if matches!(before.state, AdminState::Revoked { .. }) {
                    return Err(Refusal::State {
                        change: self.id(),
                        state: before.state.id(),
                    });
                }
                renewal_in_window(before, rule, *on, *valid_until)?;
            }
            CertChange::RenewedAs {
                on,
                valid_until,
                number,
            } => {
                not_before_issue(*on)?;
                // A held card is not replaced while it is held, nor a revoked one ever.
                if before.state != AdminState::Active {
                    return Err(Refusal::State {
                        change: self.id(),
                        state: before.state.id(),
                    });
                }
                if number::normalize(number) == before.number {
                    return Err(Refusal::SameNumber);
                }
                renewal_in_window(before, rule, *on, *valid_until)?;
            }
            CertChange::Suspended { on } => {
                not_before_issue(*on)?;
                if before.state != AdminState::Active {
                    return Err(Refusal::State {
                        change: self.id(),
                        state: before.state.id(),
                    });
                }
            }
            CertChange::Reinstated { on } => {
                let AdminState::Suspended { since } = before.state else {
                    return Err(Refusal::State {
                        change: self.id(),
                        state: before.state.id(),
                    });
                };
                not_before_issue(*on)?;
                if *on < since {
                    return Err(Refusal::BeforeIssue {
                        on: *on,
                        issued_on: since,
                    });
                }
            }
            CertChange::Revoked { on, .. } => {
                not_before_issue(*on)?;
                if matches!(before.state, AdminState::Revoked { .. }) {
                    return Err(Refusal::State {
                        change: self.id(),
                        state: before.state.id(),
                    });
                }
            }
            CertChange::Cancelled { on } => {
                not_before_issue(*on)?;
                if let AdminState::Revoked {
                    reason: Some(RevocationReason::Cancelled),
                    ..
                } = before.state
                {
                    return Err(Refusal::State {
                        change: self.id(),
                        state: "cancelled",
                    });
                }
            }
            CertChange::NameCorrected { from, to } => {
                let to = to.trim();
                // The same rule as a record's holder_name (`record::check_record`).
                if to.is_empty() || to.chars().count() > 60 || to.chars().any(char::is_control) {
                    return Err(Refusal::Name(
                        "the corrected name must be 1 to 60 characters with no control character"
                            .into(),
                    ));
                }
                if *from != before.holder_name {
                    return Err(Refusal::Name(
                        "the name to correct is not the registered name".into(),
                    ));
                }
                if to == before.holder_name {
                    return Err(Refusal::Name("the name is unchanged".into()));
                }
            }
        }
        Ok(self.replay(before))
    }

    /// What the change does to the certificate, without judging it: the effect that
    /// [`CertChange::apply`] returns once the rule, the window and the state allow the change.
    /// A mirror, which receives changes that its source has judged already, replays them with
    /// this and checks the record's hash against the source's (`hutong mirror`). `issued` has
    /// no effect on a stored record.
    pub fn replay(&self, before: &Certificate) -> Certificate {
        let mut after = before.clone();
        match self {
            CertChange::Issued => {}
            CertChange::Reviewed { on } => after.last_review_on = Some(*on),
            CertChange::Renewed { on, valid_until } => {
                after.valid_until = Some(*valid_until);
                after.last_review_on = Some(*on);
            }
            CertChange::RenewedAs { on, .. } => {
                after.state = AdminState::Revoked {
                    on: *on,
                    reason: Some(RevocationReason::Cancelled),
                };
            }
            CertChange::Suspended { on } => after.state = AdminState::Suspended { since: *on },
            CertChange::Reinstated { .. } => after.state = AdminState::Active,
            CertChange::Revoked { on, reason } => {
                after.state = AdminState::Revoked {
                    on: *on,
                    reason: Some(*reason),
                };
            }
            CertChange::Cancelled { on } => {
                // After 撤销 the card is cancelled too; the revocation's date stays the first.
                let on = match before.state {
                    AdminState::Revoked { on: first, .. } => first.min(*on),
                    _ => *on,
                };
                after.state = AdminState::Revoked {
                    on,
                    reason: Some(RevocationReason::Cancelled),
                };
            }
            CertChange::NameCorrected { to, .. } => after.holder_name = to.trim().to_string(),
        }
        after
    }
}

/// A renewal on `on` must fall in the rule's window and extend validity to the day it gives.
fn renewal_in_window(
    before: &Certificate,
    rule: &Lifecycle,
    on: Day,
    valid_until: Day,
) -> Result<(), Refusal> {
    let window = renewal_window(before, rule)?;
    window.contains(on, rule)?;
    if valid_until != window.extended_to {
        return Err(Refusal::RenewalDate {
            rule: rule.id.clone(),
            given: valid_until,
            expected: window.extended_to,
        });
    }
    Ok(())
}

/// The card that re-issues `before` on `on` as `number` (a renewal with [`CertChange::RenewedAs`]):
/// the same holder, kind, occupation, level and issuer, and the first issue date of the first
/// card (continuous-years rules count from it), issued on `on` and valid to `valid_until`.
pub fn successor(before: &Certificate, on: Day, valid_until: Day, number: &str) -> Certificate {
    Certificate {
        number: number::normalize(number),
        issued_on: on,
        valid_until: Some(valid_until),
        last_review_on: None,
        state: AdminState::Active,
        ..before.clone()
    }
}

fn in_force(c: &Certificate) -> Result<(), Refusal> {
    match c.state {
        AdminState::Active => Ok(()),
        s => Err(Refusal::State {
            change: "reviewed",
            state: s.id(),
        }),
    }
}

/// A window in which a review or renewal is accepted, from the kind's lifecycle rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub what: &'static str,
    pub from: Day,
    pub until: Day,
    /// For a renewal: the validity it extends to.
    pub extended_to: Day,
}

impl Window {
    fn contains(&self, on: Day, rule: &Lifecycle) -> Result<(), Refusal> {
        if on < self.from || on > self.until {
            return Err(Refusal::OutsideWindow {
                what: self.what,
                rule: rule.id.clone(),
                basis: rule.source.clone(),
                on,
                from: self.from,
                until: self.until,
            });
        }
        Ok(())
    }
}

/// The window of the next periodic review: `review_window` before its due date, up to the due
/// date itself.
pub fn review_window(c: &Certificate, rule: &Lifecycle) -> Result<Window, Refusal> {
    let dates = c.dates();
    let Some(due) = rule.next_review_due(&dates) else {
        return Err(Refusal::NoSuchRule {
            what: "review",
            rule: rule.id.clone(),
        });
    };
    let window = rule.review_window.unwrap_or(Period::Months(3));
    Ok(Window {
        what: "review",
        from: window.before(due),
        until: due,
        extended_to: due,
    })
}

/// The window of a renewal: `renewal_window` (else `review_window`) before the last day of
/// validity, up to that day, or to `renewal_deadline` after it where the rule allows a late
/// renewal. A renewal extends validity by `renewal_extends`, else by the kind's validity.
pub fn renewal_window(c: &Certificate, rule: &Lifecycle) -> Result<Window, Refusal> {
    let no_rule = || Refusal::NoSuchRule {
        what: "renewal",
        rule: rule.id.clone(),
    };
    let until = rule.valid_until(&c.dates()).ok_or_else(no_rule)?;
    let window = rule
        .renewal_window
        .or(rule.review_window)
        .ok_or_else(no_rule)?;
    let extends = rule.renewal_extends.or(rule.validity).ok_or_else(no_rule)?;
    let last = match rule.renewal_deadline {
        Some(p) => p.after(until),
        None => until,
    };
    Ok(Window {
        what: "renewal",
        from: window.before(until),
        until: last,
        extended_to: extends.after(until),
    })
}

/// Why a change was refused. Each names the rule, the window or the state that refused it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the certificate is already issued")]
    AlreadyIssued,
    #[error("{on} is before the date it applies from ({issued_on})")]
    BeforeIssue { on: Day, issued_on: Day },
    #[error("{on} is after today ({today}): a change cannot be dated ahead")]
    InTheFuture { on: Day, today: Day },
    #[error("a {state} certificate cannot be {change}")]
    State {
        change: &'static str,
        state: &'static str,
    },
    #[error("the lifecycle rule {rule} has no {what}")]
    NoSuchRule { what: &'static str, rule: String },
    #[error(
        "a {what} on {on} is outside the window of the lifecycle rule {rule}: from {from} to {until} ({basis})"
    )]
    OutsideWindow {
        what: &'static str,
        rule: String,
        /// The rule's source text (the regulation it follows).
        basis: String,
        on: Day,
        from: Day,
        until: Day,
    },
    #[error(
        "the renewal must extend validity to {expected} under the lifecycle rule {rule}, not {given}"
    )]
    RenewalDate {
        rule: String,
        given: Day,
        expected: Day,
    },
    #[error("{0}")]
    Name(String),
    #[error("a card re-issued by a renewal needs a number of its own, not the number it replaces")]
    SameNumber,
}

impl Refusal {
    /// A stable kebab-case code for problem details.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::AlreadyIssued => "already-issued",
            Refusal::BeforeIssue { .. } => "before-issue",
            Refusal::InTheFuture { .. } => "dated-ahead",
            Refusal::State { .. } => "wrong-state",
            Refusal::NoSuchRule { .. } => "no-such-rule",
            Refusal::OutsideWindow { .. } => "outside-window",
            Refusal::RenewalDate { .. } => "renewal-date",
            Refusal::Name(_) => "bad-name",
            Refusal::SameNumber => "same-number",
        }
    }
}

/// The canonical JSON (RFC 8785) of a serialisable value.
pub fn canonical<T: Serialize>(v: &T) -> String {
    serde_json_canonicalizer::to_string(v).expect("journal values serialise")
}

/// SHA-256 in lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A certificate's canonical form: the JCS of its stored fields, with the number masked when
/// it embeds the holder's ID number. Members in JCS order (ASCII keys sort bytewise), absent
/// ones omitted. Written directly, as a bulk load makes one per row; a test checks it against
/// `serde_json_canonicalizer`.
pub fn certificate_canonical(c: &Certificate) -> String {
    let mut w = Vec::with_capacity(320);
    w.push(b'{');
    let key = |w: &mut Vec<u8>, k: &'static str| {
        if w.len() > 1 {
            w.push(b',');
        }
        json::plain(w, k);
        w.push(b':');
    };
    key(&mut w, "first_issued_on");
    json::day(&mut w, c.first_issued_on);
    key(&mut w, "holder_key");
    w.push(b'"');
    let mut hexbuf = [0u8; 64];
    hex::encode_to_slice(c.holder_key.0, &mut hexbuf).expect("64 hex digits for 32 bytes");
    w.extend_from_slice(&hexbuf);
    w.push(b'"');
    key(&mut w, "holder_name");
    json::str(&mut w, &c.holder_name);
    key(&mut w, "issued_on");
    json::day(&mut w, c.issued_on);
    key(&mut w, "issuer");
    json::str(&mut w, &c.issuer);
    key(&mut w, "kind");
    json::str(&mut w, &c.kind);
    if let Some(d) = c.last_review_on {
        key(&mut w, "last_review_on");
        json::day(&mut w, d);
    }
    if let Some(l) = c.level {
        key(&mut w, "level");
        json::plain(&mut w, l.id());
    }
    key(&mut w, "number");
    json::str(&mut w, &number::mask_id_numbers(&c.number));
    if let Some(o) = &c.occupation {
        key(&mut w, "occupation");
        json::str(&mut w, o);
    }
    key(&mut w, "state");
    json::plain(&mut w, c.state.id());
    if let AdminState::Revoked {
        reason: Some(r), ..
    } = c.state
    {
        key(&mut w, "state_reason");
        json::plain(&mut w, r.id());
    }
    if let Some(d) = c.state.since() {
        key(&mut w, "state_since");
        json::day(&mut w, d);
    }
    if let Some(d) = c.valid_until {
        key(&mut w, "valid_until");
        json::day(&mut w, d);
    }
    w.push(b'}');
    String::from_utf8(w).expect("JSON of UTF-8 strings is UTF-8")
}

/// Reads a certificate back from its canonical form ([`certificate_canonical`]), as an
/// `issued` entry's `record` holds it, with its plain `number`, which the canonical form masks
/// where it embeds an ID number (the number must be the one masked there). A mirror rebuilds
/// the records it receives with this; the hash of the result is checked against the entry's.
pub fn certificate_from_canonical(record: &str, number: &str) -> Result<Certificate, String> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Canonical {
        first_issued_on: String,
        holder_key: String,
        holder_name: String,
        issued_on: String,
        issuer: String,
        kind: String,
        last_review_on: Option<String>,
        level: Option<String>,
        number: String,
        occupation: Option<String>,
        state: String,
        state_reason: Option<String>,
        state_since: Option<String>,
        valid_until: Option<String>,
    }
    let r: Canonical =
        serde_json::from_str(record).map_err(|e| format!("the record does not read: {e}"))?;
    if number::mask_id_numbers(number) != r.number {
        return Err(format!(
            "the record's number {} is not the number given ({})",
            r.number,
            number::mask_id_numbers(number)
        ));
    }
    let day = |field: &str, v: &str| {
        crate::date::parse_day(v).map_err(|e| format!("the record's {field}: {e}"))
    };
    let opt_day = |field: &str, v: &Option<String>| v.as_deref().map(|v| day(field, v)).transpose();
    let holder_key = hex::decode(&r.holder_key)
        .ok()
        .and_then(|b| crate::holder::HolderKey::from_slice(&b))
        .ok_or("the record's holder_key is not 64 hex digits")?;
    let since = opt_day("state_since", &r.state_since)?;
    let state = match (r.state.as_str(), since) {
        ("active", None) => AdminState::Active,
        ("suspended", Some(since)) => AdminState::Suspended { since },
        ("revoked", Some(on)) => AdminState::Revoked {
            on,
            reason: r
                .state_reason
                .as_deref()
                .map(|v| {
                    RevocationReason::parse(v)
                        .ok_or_else(|| format!("the record's state_reason \"{v}\" is unknown"))
                })
                .transpose()?,
        },
        (s, _) => {
            return Err(format!(
                "the record's state \"{s}\" does not read with its date"
            ));
        }
    };
    Ok(Certificate {
        number: number.to_string(),
        kind: r.kind,
        holder_key,
        holder_name: r.holder_name,
        occupation: r.occupation,
        level: r
            .level
            .as_deref()
            .map(|l| {
                l.parse()
                    .map_err(|_| format!("the record's level \"{l}\" is unknown"))
            })
            .transpose()?,
        issuer: r.issuer,
        issued_on: day("issued_on", &r.issued_on)?,
        first_issued_on: day("first_issued_on", &r.first_issued_on)?,
        valid_until: opt_day("valid_until", &r.valid_until)?,
        last_review_on: opt_day("last_review_on", &r.last_review_on)?,
        state,
    })
}

/// A certificate's canonical form and its SHA-256, as a journal entry records them.
pub fn certificate_digest(c: &Certificate) -> (String, String) {
    let canonical = certificate_canonical(c);
    let hash = sha256_hex(canonical.as_bytes());
    (canonical, hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::holder::HolderKey;
    use crate::ids::Level;
    use crate::number::NumberScheme;

    fn d(s: &str) -> Day {
        s.parse().unwrap()
    }

    #[test]
    fn leaf_bytes_are_the_canonical_entry_and_only_record_changes_are_leaves() {
        let mut e = Entry {
            seq: 7,
            at_micros: 1_700_000_000_000_001,
            actor: "demo".into(),
            subject: Subject::Key("k1".into()),
            change: r#"{"change":"key-created","issuer":"mem.11"}"#.into(),
            record_sha256: Some("ab".into()),
        };
        assert_eq!(
            String::from_utf8(e.leaf_bytes()).unwrap(),
            format!(
                r#"{{"actor":"demo","at":"2023-11-14T22:13:20.000001Z","change":"key-created","change_sha256":"{}","record_sha256":"ab","seq":7,"subject":"key:k1"}}"#,
                sha256_hex(br#"{"change":"key-created","issuer":"mem.11"}"#)
            )
        );
        assert!(e.is_log_leaf());
        assert_eq!("key:k1".parse::<Subject>().unwrap(), e.subject);
        e.subject = Subject::Token("t".into());
        assert!(!e.is_log_leaf());
        e.subject = Subject::Certificate(3);
        e.change = r#"{"change":"refused","reason":"x"}"#.into();
        assert!(!e.is_log_leaf());
    }

    fn cert() -> Certificate {
        Certificate {
            number: "T110101196601010044".into(),
            kind: "mem.electrical.low-voltage".into(),
            holder_key: HolderKey([7; 32]),
            holder_name: "张\"三\\\u{1}".into(),
            occupation: None,
            level: None,
            issuer: "mem.11".into(),
            issued_on: d("2024-03-01"),
            first_issued_on: d("2018-03-01"),
            valid_until: Some(d("2030-03-01")),
            last_review_on: None,
            state: AdminState::Active,
        }
    }

    fn mem_rule() -> Lifecycle {
        Lifecycle {
            id: "mem-special-operation".into(),
            expires: true,
            validity: Some(Period::Years(6)),
            review_interval: Some(Period::Years(3)),
            review_window: Some(Period::Days(60)),
            extended_review_interval: None,
            extended_review_after: None,
            renewal_window: None,
            renewal_deadline: None,
            renewal_extends: None,
            source: "Order 30".into(),
            provisional: false,
        }
    }

    #[test]
    fn a_record_reads_back_from_its_canonical_form_with_its_plain_number() {
        let mut c = cert();
        let states = [
            AdminState::Active,
            AdminState::Suspended {
                since: d("2026-01-02"),
            },
            AdminState::Revoked {
                on: d("2026-01-03"),
                reason: None,
            },
            AdminState::Revoked {
                on: d("2026-01-03"),
                reason: Some(RevocationReason::Annulled),
            },
        ];
        for (i, state) in states.into_iter().enumerate() {
            c.state = state;
            c.last_review_on = (i % 2 == 1).then(|| d("2027-01-01"));
            c.level = (i > 1).then_some(Level::L3);
            c.occupation = (i > 1).then(|| "6-07-06-05".to_string());
            c.valid_until = (i != 2).then(|| d("2030-03-01"));
            let canonical = certificate_canonical(&c);
            assert!(!canonical.contains("110101196601010044"), "{canonical}");
            assert_eq!(
                certificate_from_canonical(&canonical, &c.number),
                Ok(c.clone())
            );
        }
        let canonical = certificate_canonical(&c);
        let e = certificate_from_canonical(&canonical, "T110101196601010052").unwrap_err();
        assert!(e.contains("not the number given"), "{e}");
        let e = certificate_from_canonical(&canonical.replace("revoked", "gone"), &c.number)
            .unwrap_err();
        assert!(e.contains("state"), "{e}");
        assert!(certificate_from_canonical("{\"x\":1}", &c.number).is_err());
    }

    #[test]
    fn the_canonical_form_is_jcs_and_masks_an_embedded_id_number() {
        let mut c = cert();
        for (scheme, level, state) in [
            (NumberScheme::MemTId, None, AdminState::Active),
            (
                NumberScheme::Free,
                Some(Level::L3),
                AdminState::Revoked {
                    on: d("2025-01-01"),
                    reason: Some(RevocationReason::IssuedInError),
                },
            ),
            (
                NumberScheme::ResidentId,
                None,
                AdminState::Suspended {
                    since: d("2025-02-02"),
                },
            ),
        ] {
            c.level = level;
            c.state = state;
            c.occupation = level.map(|_| "6-31-01-03".to_string());
            c.last_review_on = level.map(|_| d("2025-01-01"));
            if scheme == NumberScheme::ResidentId {
                c.number = "110101196601010044".into();
            }
            let direct = certificate_canonical(&c);
            let mut v = serde_json::json!({
                "first_issued_on": c.first_issued_on,
                "holder_key": c.holder_key.to_hex(),
                "holder_name": c.holder_name,
                "issued_on": c.issued_on,
                "issuer": c.issuer,
                "kind": c.kind,
                "number": number::mask_id_numbers(&c.number),
                "state": c.state.id(),
                "valid_until": c.valid_until,
            });
            let m = v.as_object_mut().unwrap();
            if let Some(l) = c.level {
                m.insert("level".into(), l.id().into());
                m.insert("occupation".into(), "6-31-01-03".into());
                m.insert("last_review_on".into(), "2025-01-01".into());
            }
            if let Some(s) = c.state.since() {
                m.insert("state_since".into(), s.to_string().into());
            }
            if let AdminState::Revoked {
                reason: Some(r), ..
            } = c.state
            {
                m.insert("state_reason".into(), r.id().into());
            }
            assert_eq!(direct, canonical(&v));
            assert!(!direct.contains("110101196601010044"), "{direct}");
            assert!(direct.contains("0044"), "{direct}");
        }
    }

    #[test]
    fn the_hash_changes_with_every_stored_field() {
        let c = cert();
        let (_, base) = certificate_digest(&c);
        let mut changed = vec![];
        let mut x = c.clone();
        x.holder_name = "李四".into();
        changed.push(x);
        let mut x = c.clone();
        x.valid_until = None;
        changed.push(x);
        let mut x = c.clone();
        x.holder_key = HolderKey([8; 32]);
        changed.push(x);
        let mut x = c.clone();
        x.state = AdminState::Suspended {
            since: d("2025-01-01"),
        };
        changed.push(x);
        let mut x = c.clone();
        x.number.push('1');
        changed.push(x);
        for x in changed {
            assert_ne!(certificate_digest(&x).1, base);
        }
    }

    #[test]
    fn reviews_are_accepted_only_inside_their_window() {
        let rule = mem_rule();
        let c = cert();
        // Due 2027-03-01, window of 60 days before.
        let ok = CertChange::Reviewed {
            on: d("2027-02-01"),
        }
        .apply(&c, &rule, d("2027-02-01"))
        .unwrap();
        assert_eq!(ok.last_review_on, Some(d("2027-02-01")));
        let e = CertChange::Reviewed {
            on: d("2026-06-01"),
        }
        .apply(&c, &rule, d("2026-06-01"))
        .unwrap_err();
        assert_eq!(e.code(), "outside-window");
        let msg = e.to_string();
        assert!(
            msg.contains("2026-12-31") && msg.contains("2027-03-01"),
            "{msg}"
        );
        assert!(msg.contains("mem-special-operation"), "{msg}");
        let e = CertChange::Reviewed {
            on: d("2027-02-01"),
        }
        .apply(&c, &rule, d("2027-01-01"))
        .unwrap_err();
        assert_eq!(e.code(), "dated-ahead");
    }

    #[test]
    fn renewals_extend_validity_as_the_rule_says() {
        let rule = mem_rule();
        let c = cert();
        let w = renewal_window(&c, &rule).unwrap();
        assert_eq!(w.extended_to, d("2036-03-01"));
        let r = CertChange::Renewed {
            on: d("2030-02-01"),
            valid_until: d("2036-03-01"),
        }
        .apply(&c, &rule, d("2030-02-01"))
        .unwrap();
        assert_eq!(r.valid_until, Some(d("2036-03-01")));
        let e = CertChange::Renewed {
            on: d("2030-02-01"),
            valid_until: d("2040-03-01"),
        }
        .apply(&c, &rule, d("2030-02-01"))
        .unwrap_err();
        assert_eq!(e.code(), "renewal-date");
        let e = CertChange::Renewed {
            on: d("2029-02-01"),
            valid_until: d("2036-03-01"),
        }
        .apply(&c, &rule, d("2029-02-01"))
        .unwrap_err();
        assert_eq!(e.code(), "outside-window");
        let mut skill = rule.clone();
        skill.expires = false;
        let e = CertChange::Renewed {
            on: d("2030-02-01"),
            valid_until: d("2036-03-01"),
        }
        .apply(&c, &skill, d("2030-02-01"))
        .unwrap_err();
        assert_eq!(e.code(), "no-such-rule");
    }

    #[test]
    fn a_renewal_that_reissues_the_card_cancels_it_and_makes_its_successor() {
        let rule = mem_rule();
        let mut c = cert();
        c.number = "OLD-1".into();
        let renew = |number: &str, valid_until: &str, on: &str| CertChange::RenewedAs {
            on: d(on),
            valid_until: d(valid_until),
            number: number.into(),
        };
        let old = renew("NEW-1", "2036-03-01", "2030-02-01")
            .apply(&c, &rule, d("2030-02-01"))
            .unwrap();
        assert_eq!(
            old.state,
            AdminState::Revoked {
                on: d("2030-02-01"),
                reason: Some(RevocationReason::Cancelled)
            }
        );
        assert_eq!(
            old.valid_until, c.valid_until,
            "the old card keeps its dates"
        );
        let new = successor(&c, d("2030-02-01"), d("2036-03-01"), " new-1 ");
        assert_eq!(new.number, "NEW-1");
        assert_eq!(new.issued_on, d("2030-02-01"));
        assert_eq!(new.first_issued_on, c.first_issued_on);
        assert_eq!(new.valid_until, Some(d("2036-03-01")));
        assert_eq!((new.holder_key, &new.kind), (c.holder_key, &c.kind));
        // The same window and validity rule as a renewal in place.
        let e = renew("NEW-1", "2040-03-01", "2030-02-01")
            .apply(&c, &rule, d("2030-02-01"))
            .unwrap_err();
        assert_eq!(e.code(), "renewal-date");
        let e = renew("NEW-1", "2036-03-01", "2029-02-01")
            .apply(&c, &rule, d("2029-02-01"))
            .unwrap_err();
        assert_eq!(e.code(), "outside-window");
        let e = renew(&c.number.to_lowercase(), "2036-03-01", "2030-02-01")
            .apply(&c, &rule, d("2030-02-01"))
            .unwrap_err();
        assert_eq!(e.code(), "same-number");
        let mut held = c.clone();
        held.state = AdminState::Suspended {
            since: d("2029-01-01"),
        };
        let e = renew("NEW-1", "2036-03-01", "2030-02-01")
            .apply(&held, &rule, d("2030-02-01"))
            .unwrap_err();
        assert_eq!(e.code(), "wrong-state");
        // The entries link both ways.
        let ch = renew("NEW-1", "2036-03-01", "2030-02-01").to_json(None);
        assert_eq!(
            ch,
            r#"{"change":"renewed-as","number":"NEW-1","on":"2030-02-01","valid_until":"2036-03-01"}"#
        );
        let record = certificate_canonical(&new);
        let issued = CertChange::issued_renewing(&record, &c.number);
        let v: serde_json::Value = serde_json::from_str(&issued).unwrap();
        assert_eq!(v["renews"], "OLD-1");
        // A number that embeds an ID number is masked, as everywhere in the journal.
        let masked = CertChange::issued_renewing(&record, &cert().number);
        assert!(!masked.contains("110101196601010044"), "{masked}");
        assert_eq!(canonical(&v), issued, "the entry is canonical JSON");
    }

    #[test]
    fn states_move_only_along_the_lifecycle() {
        let rule = mem_rule();
        let today = d("2025-06-01");
        let c = cert();
        let e = CertChange::Reinstated { on: today }
            .apply(&c, &rule, today)
            .unwrap_err();
        assert_eq!(e.code(), "wrong-state");
        let s = CertChange::Suspended {
            on: d("2025-05-01"),
        }
        .apply(&c, &rule, today)
        .unwrap();
        assert_eq!(
            s.state,
            AdminState::Suspended {
                since: d("2025-05-01")
            }
        );
        assert!(
            CertChange::Suspended { on: today }
                .apply(&s, &rule, today)
                .is_err()
        );
        let back = CertChange::Reinstated { on: today }
            .apply(&s, &rule, today)
            .unwrap();
        assert_eq!(back.state, AdminState::Active);
        let r = CertChange::Revoked {
            on: today,
            reason: RevocationReason::Annulled,
        }
        .apply(&s, &rule, today)
        .unwrap();
        assert!(
            CertChange::Revoked {
                on: today,
                reason: RevocationReason::Withdrawn
            }
            .apply(&r, &rule, today)
            .is_err()
        );
        let later = d("2025-07-01");
        let cancelled = CertChange::Cancelled { on: later }
            .apply(&r, &rule, later)
            .unwrap();
        assert_eq!(
            cancelled.state,
            AdminState::Revoked {
                on: today,
                reason: Some(RevocationReason::Cancelled)
            }
        );
        assert!(
            CertChange::Cancelled { on: later }
                .apply(&cancelled, &rule, later)
                .is_err()
        );
        let e = CertChange::Suspended {
            on: d("2020-01-01"),
        }
        .apply(&c, &rule, today)
        .unwrap_err();
        assert_eq!(e.code(), "before-issue");
    }

    #[test]
    fn a_name_correction_keeps_the_old_name_in_the_change() {
        let rule = mem_rule();
        let c = cert();
        let ch = CertChange::NameCorrected {
            from: c.holder_name.clone(),
            to: "张三".into(),
        };
        let after = ch.apply(&c, &rule, d("2025-01-01")).unwrap();
        assert_eq!(after.holder_name, "张三");
        let json = ch.to_json(None);
        assert!(json.contains("\"from\":"), "{json}");
        assert_eq!(change_kind(&json), Some("holder-name-corrected"));
        let wrong = CertChange::NameCorrected {
            from: "王五".into(),
            to: "张三".into(),
        };
        assert_eq!(
            wrong.apply(&c, &rule, d("2025-01-01")).unwrap_err().code(),
            "bad-name"
        );
    }

    #[test]
    fn changes_round_trip_through_their_json() {
        let all = [
            CertChange::Reviewed {
                on: d("2025-01-01"),
            },
            CertChange::Renewed {
                on: d("2025-01-01"),
                valid_until: d("2031-01-01"),
            },
            CertChange::Suspended {
                on: d("2025-01-01"),
            },
            CertChange::Reinstated {
                on: d("2025-01-01"),
            },
            CertChange::Revoked {
                on: d("2025-01-01"),
                reason: RevocationReason::Withdrawn,
            },
            CertChange::Cancelled {
                on: d("2025-01-01"),
            },
            CertChange::NameCorrected {
                from: "a".into(),
                to: "b".into(),
            },
        ];
        for c in all {
            let j = c.to_json(None);
            assert_eq!(change_kind(&j), Some(c.id()), "{j}");
            assert_eq!(serde_json::from_str::<CertChange>(&j).unwrap(), c);
        }
        let issued = CertChange::Issued.to_json(Some("{\"a\":1}"));
        assert_eq!(issued, "{\"change\":\"issued\",\"record\":{\"a\":1}}");
        assert_eq!(change_kind(&issued), Some("issued"));
    }

    #[test]
    fn subjects_round_trip() {
        for s in [
            Subject::Certificate(42),
            Subject::Issuer("mem.44".into()),
            Subject::Token("tok_1".into()),
            Subject::Policy("abc".into()),
            Subject::Nothing,
        ] {
            assert_eq!(s.to_string().parse::<Subject>().unwrap(), s);
        }
        assert!("cert:x".parse::<Subject>().is_err());
        assert!("what".parse::<Subject>().is_err());
    }
}
