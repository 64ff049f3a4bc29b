//! Advice for a registered holder: their certificates, as the registry holds them, become
//! holdings. The status is computed from the record and the policy on the advice's day, and a
//! number that embeds the holder's ID number is masked before it can reach an answer.

use super::input::Holding;
use crate::certificate::{AdminState, Certificate};
use crate::date::Day;
use crate::ids::Status;
use crate::number;
use crate::policy::Policy;

/// The holding a registered certificate stands for on `day`; `None` when the policy no longer
/// knows the certificate's kind.
pub fn holding_from_certificate(policy: &Policy, cert: &Certificate, day: Day) -> Option<Holding> {
    let kind = policy.kind(&cert.kind)?;
    let report = policy.lifecycle_of(kind).status_on(&cert.dates(), day);
    let status_since = match report.status {
        Status::Expired => report.expired_on,
        Status::Suspended | Status::Revoked => cert.state.since(),
        _ => None,
    };
    let mut h = Holding::new(&cert.kind, report.status);
    h.issued_on = Some(cert.issued_on);
    h.first_issued_on = Some(cert.first_issued_on);
    h.valid_until = report.valid_until;
    h.last_review_on = cert.last_review_on;
    h.status_since = status_since;
    h.occupation = cert.occupation.clone();
    h.level = cert.level;
    h.number = Some(number::display(kind.number_scheme, &cert.number).into_owned());
    // A decision recorded for a later day does not count yet.
    if let AdminState::Suspended { since } | AdminState::Revoked { on: since, .. } = cert.state
        && since > day
    {
        h.status_since = None;
    }
    Some(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::holder::HolderKey;

    fn policy() -> Policy {
        Policy::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policy"))
            .unwrap()
    }

    #[test]
    fn registered_certificates_become_holdings_without_id_numbers() {
        let p = policy();
        let cert = Certificate {
            number: "T11010519491231002X".into(),
            kind: "mem.electrical.low-voltage".into(),
            holder_key: HolderKey([1; 32]),
            holder_name: "张小明".into(),
            occupation: None,
            level: None,
            issuer: "mem.44".into(),
            issued_on: "2024-03-01".parse().unwrap(),
            first_issued_on: "2018-03-01".parse().unwrap(),
            valid_until: None,
            last_review_on: None,
            state: AdminState::Revoked {
                on: "2026-06-01".parse().unwrap(),
                reason: None,
            },
        };
        let before = holding_from_certificate(&p, &cert, "2026-05-31".parse().unwrap()).unwrap();
        assert_eq!(before.status, Status::Valid);
        assert_eq!(before.valid_until, Some("2030-03-01".parse().unwrap()));
        assert!(
            !before.number.as_deref().unwrap().contains("19491231"),
            "{:?}",
            before.number
        );
        let after = holding_from_certificate(&p, &cert, "2026-06-01".parse().unwrap()).unwrap();
        assert_eq!(
            (after.status, after.status_since),
            (Status::Revoked, Some("2026-06-01".parse().unwrap()))
        );
    }
}
