//! A registered certificate, as the registry holds it.

use serde::{Deserialize, Serialize};

use crate::date::Day;
use crate::holder::HolderKey;
use crate::ids::Level;

/// What an issuer has decided about a certificate, as opposed to what the calendar decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum AdminState {
    Active,
    Suspended {
        since: Day,
    },
    Revoked {
        on: Day,
        /// Why it was revoked (IDENTIFIERS.md "Status reasons"); none for a record imported
        /// without one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<RevocationReason>,
    },
}

/// Why a certificate was revoked: the reasons of IDENTIFIERS.md. Their names, national status
/// codes and legal bases are policy data (`[[status_reason]]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevocationReason {
    /// 吊销: withdrawn as a penalty.
    Withdrawn,
    /// 撤销: unlawfully obtained, or its conditions ceased.
    Annulled,
    /// 注销: the holder's death, the holder's request, or after 撤销.
    Cancelled,
    /// Issued in error, and taken back by its issuer.
    IssuedInError,
}

impl RevocationReason {
    pub const ALL: [RevocationReason; 4] = [
        RevocationReason::Withdrawn,
        RevocationReason::Annulled,
        RevocationReason::Cancelled,
        RevocationReason::IssuedInError,
    ];

    pub fn id(self) -> &'static str {
        match self {
            RevocationReason::Withdrawn => "withdrawn",
            RevocationReason::Annulled => "annulled",
            RevocationReason::Cancelled => "cancelled",
            RevocationReason::IssuedInError => "issued-in-error",
        }
    }

    pub fn parse(s: &str) -> Option<RevocationReason> {
        RevocationReason::ALL.into_iter().find(|r| r.id() == s)
    }
}

impl AdminState {
    pub fn id(&self) -> &'static str {
        match self {
            AdminState::Active => "active",
            AdminState::Suspended { .. } => "suspended",
            AdminState::Revoked { .. } => "revoked",
        }
    }

    /// The date the state took effect, if it is not `Active`.
    pub fn since(&self) -> Option<Day> {
        match self {
            AdminState::Active => None,
            AdminState::Suspended { since } => Some(*since),
            AdminState::Revoked { on, .. } => Some(*on),
        }
    }
}

/// The dates a certificate's status is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CertificateDates {
    /// When this certificate (or its current renewal) was issued.
    pub issued_on: Day,
    /// When the holder first obtained this kind of certificate (for continuous-years rules).
    pub first_issued_on: Day,
    /// The last day of validity, when the record states one.
    pub valid_until: Option<Day>,
    /// The last periodic review passed, if any.
    pub last_review_on: Option<Day>,
    pub state: AdminState,
}

/// A certificate in the registry. The holder appears only as a keyed hash and a name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub number: String,
    pub kind: String,
    pub holder_key: HolderKey,
    pub holder_name: String,
    pub occupation: Option<String>,
    pub level: Option<Level>,
    pub issuer: String,
    pub issued_on: Day,
    pub first_issued_on: Day,
    pub valid_until: Option<Day>,
    pub last_review_on: Option<Day>,
    pub state: AdminState,
}

impl Certificate {
    /// What differs between a registered record and another record of the same number and
    /// kind, for a conflict's message: the fields by their import names, with both values for
    /// dates and states (which say nothing of the holder) and the names alone for the holder's
    /// name and ID number, which an error message never repeats.
    pub fn differences(&self, other: &Certificate) -> String {
        let day = |d: Option<Day>| d.map(|d| d.to_string()).unwrap_or_else(|| "none".into());
        let state = |s: &AdminState| match s {
            AdminState::Active => "active".to_string(),
            AdminState::Suspended { since } => format!("suspended since {since}"),
            AdminState::Revoked { on, .. } => format!("revoked on {on}"),
        };
        let mut out: Vec<String> = Vec::new();
        let mut both = |field: &str, registered: String, this: String| {
            if registered != this {
                out.push(format!(
                    "{field} (registered {registered}, this row {this})"
                ));
            }
        };
        both(
            "occupation",
            self.occupation.clone().unwrap_or_else(|| "none".into()),
            other.occupation.clone().unwrap_or_else(|| "none".into()),
        );
        both(
            "level",
            self.level
                .map(|l| l.id().to_string())
                .unwrap_or_else(|| "none".into()),
            other
                .level
                .map(|l| l.id().to_string())
                .unwrap_or_else(|| "none".into()),
        );
        both("issuer", self.issuer.clone(), other.issuer.clone());
        both(
            "issued_on",
            day(Some(self.issued_on)),
            day(Some(other.issued_on)),
        );
        both(
            "first_issued_on",
            day(Some(self.first_issued_on)),
            day(Some(other.first_issued_on)),
        );
        both("valid_until", day(self.valid_until), day(other.valid_until));
        both(
            "last_review_on",
            day(self.last_review_on),
            day(other.last_review_on),
        );
        both("status", state(&self.state), state(&other.state));
        if self.state != other.state && state(&self.state) == state(&other.state) {
            out.push("status_reason".into());
        }
        if self.holder_name != other.holder_name {
            out.insert(0, "holder_name".into());
        }
        if self.holder_key != other.holder_key {
            out.insert(0, "holder_id".into());
        }
        out.join(", ")
    }

    pub fn dates(&self) -> CertificateDates {
        CertificateDates {
            issued_on: self.issued_on,
            first_issued_on: self.first_issued_on,
            valid_until: self.valid_until,
            last_review_on: self.last_review_on,
            state: self.state,
        }
    }
}
