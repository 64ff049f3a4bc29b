//! Lookup answers are written by their own JSON writer (`LookupAnswer::to_json`), for speed;
//! its bytes must be exactly those serde_json makes of the same answer, whose `Serialize`
//! derive is the definition. Compared here on every status, every kind of the policy, with and
//! without a registered issuer, on several days, and with names that need escaping.

use chrono::Days;

use hutong_core::date::today_in_china;
use hutong_core::verify::verify;
use hutong_core::{AdminState, Level};
use hutong_server::views::{LookupAnswer, Verified};

use super::fixture;

#[tokio::test]
async fn lookup_answers_are_written_exactly_as_serde_json_writes_them() {
    let (s, _dir) = super::state().await;
    let fx = fixture::fill(&s).await;
    let policy = s.policy();
    let today = today_in_china();

    let mut certs = Vec::new();
    for sample in [
        &fx.valid,
        &fx.valid_welding,
        &fx.review_due,
        &fx.expired,
        &fx.suspended,
        &fx.revoked,
    ] {
        certs.extend(
            s.store
                .certificates_by_number(&sample.number)
                .await
                .unwrap(),
        );
    }
    assert!(certs.len() >= 6);
    // Every kind of the policy, on the valid certificate's other fields; skill levels with an
    // occupation and a level; one kind the policy does not know.
    let base = certs[0].clone();
    for kind in policy.kinds.values() {
        let mut c = base.clone();
        c.kind = kind.id.clone();
        if kind.skill_level {
            c.occupation = kind
                .occupations
                .first()
                .cloned()
                .or(Some("6-31-01-03".into()));
            c.level = Some(Level::L3);
        }
        certs.push(c);
    }
    let mut unknown = base.clone();
    unknown.kind = "mem.no-such-kind".into();
    certs.push(unknown);
    // Names and issuers that need escaping, and an unregistered issuer.
    let mut odd = base.clone();
    odd.holder_name = "O\"Brien\\\t\u{1}张".into();
    odd.issuer = "unregistered \"issuer\"".into();
    odd.occupation = Some("not-an-occupation".into());
    odd.state = AdminState::Revoked {
        on: today,
        reason: None,
    };
    certs.push(odd);

    let mut compared = 0;
    for day in [
        today,
        today - Days::new(2000),
        today + Days::new(800),
        today + Days::new(4000),
    ] {
        let mut all = Vec::new();
        for c in &certs {
            let issuer = s.issuer(&c.issuer).await.unwrap();
            let verification = verify(&policy, c, issuer.as_deref(), day);
            // Some with an e-licence identifier, some without.
            let e_licence_id = (compared % 2 == 0)
                .then(|| "1.2.156.3005.2.11100000000013338W032.11220000013544357C.1.001.F".into());
            let v = Verified {
                cert: c.clone(),
                issuer,
                verification,
                e_licence_id,
            };
            let one = [v];
            let answer = LookupAnswer::new(&policy, day, &one);
            let ours = String::from_utf8(answer.to_json()).unwrap();
            assert_eq!(ours, serde_json::to_string(&answer).unwrap());
            compared += 1;
            let [v] = one;
            all.push(v);
        }
        // Several certificates in one answer, as the one-stop query gives.
        let answer = LookupAnswer::new(&policy, day, &all);
        let ours = String::from_utf8(answer.to_json()).unwrap();
        assert_eq!(ours, serde_json::to_string(&answer).unwrap());
        let none = LookupAnswer::not_found(&policy, day);
        assert_eq!(
            String::from_utf8(none.to_json()).unwrap(),
            serde_json::to_string(&none).unwrap()
        );
    }
    assert!(compared > 40, "{compared}");
}

/// Issue 12, item 2: the result pages said why a certificate was suspended or revoked, but the
/// API's answer did not: a program relying on it saw `suspended` and no reason. Each certificate
/// of an answer now carries its status reason, with the national status code and the legal
/// basis from the policy, and none when its status needs no reason.
#[tokio::test]
async fn an_answer_says_why_a_certificate_is_suspended() {
    let (s, _dir) = super::state().await;
    let f = fixture::fill(&s).await;
    let ask = |sample: &fixture::Sample| {
        format!(
            "/api/v1/verify?number={}&name={}&kind={}",
            fixture::enc(&sample.number),
            fixture::enc(sample.name),
            sample.kind
        )
    };
    let (status, _, body) = super::get(&s, &ask(&f.suspended)).await;
    assert_eq!(status, axum::http::StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let reason = &v["certificates"][0]["status_reason"];
    assert_eq!(reason["id"], "held", "{body}");
    assert_eq!(reason["national_code"], "02", "{body}");
    assert!(
        !reason["basis_zh"].as_str().unwrap_or_default().is_empty(),
        "{body}"
    );
    let (_, _, body) = super::get(&s, &ask(&f.valid)).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        v["certificates"][0].get("status_reason").is_none(),
        "{body}"
    );
}
