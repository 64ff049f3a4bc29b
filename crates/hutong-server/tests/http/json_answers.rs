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
    // Each issuer's last change, which answers carry.
    s.refresh_issuers().await.unwrap();
    assert!(s.data_as_of(&certs[0].issuer).is_some());
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
                data_as_of: s.data_as_of(&c.issuer),
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

/// Issue 11, item 2: each answer of the public query says how fresh the data behind it is, when
/// the registry last received a change from the certificate's issuer; a change moves it once the
/// register is read again.
#[tokio::test]
async fn an_answer_says_when_its_issuer_last_sent_a_change() {
    let (s, _dir) = super::state().await;
    let f = fixture::fill(&s).await;
    s.refresh_issuers().await.unwrap();
    let ask = format!(
        "/api/v1/verify?number={}&name={}&kind={}",
        fixture::enc(&f.suspended.number),
        fixture::enc(f.suspended.name),
        f.suspended.kind
    );
    let (status, _, body) = super::get(&s, &ask).await;
    assert_eq!(status, axum::http::StatusCode::OK, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let cert = &v["certificates"][0];
    let issuer = cert["certificate"]["issuer"]["id"].as_str().unwrap();
    let activity = s.store.issuer_activity().await.unwrap();
    let (_, at) = activity.iter().find(|(i, _)| i == issuer).unwrap();
    let shown = cert["data_as_of"].as_str().unwrap();
    assert_eq!(shown, hutong_server::state::freshness(*at), "{body}");
    assert!(shown.ends_with('Z') && shown.len() == 20, "{shown}");
    // The result page gives it in China time, to the minute.
    let (_, _, page) = super::get(
        &s,
        &format!(
            "/verify/result?number={}&name={}&kind={}",
            fixture::enc(&f.suspended.number),
            fixture::enc(f.suspended.name),
            f.suspended.kind
        ),
    )
    .await;
    let china = (chrono::DateTime::from_timestamp_micros(*at).unwrap()
        + chrono::Duration::hours(8))
    .format("%Y-%m-%d %H:%M")
    .to_string();
    assert!(
        page.contains(&format!("data-as-of=\"{shown}\"")) && page.contains(&china),
        "{page}"
    );
    // A later change to the issuer's certificates is the new freshness: the reinstatement of
    // this one.
    let later = *at + 3_600_000_000;
    let (id, before) = s
        .store
        .certificate_with_id(&f.suspended.number, f.suspended.kind)
        .await
        .unwrap()
        .unwrap();
    let ch = hutong_core::journal::CertChange::Reinstated {
        on: before.state.since().unwrap(),
    };
    let after = ch.replay(&before);
    s.store
        .update_certificate(
            &hutong_store::CertificateWrite {
                id,
                after_sha256: hutong_core::journal::certificate_digest(&after).1,
                before,
                after,
                change: ch.to_json(None),
            },
            "test",
            later,
            None,
        )
        .await
        .unwrap();
    s.refresh_issuers().await.unwrap();
    let (_, _, body) = super::get(&s, &ask).await;
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["certificates"][0]["data_as_of"],
        hutong_server::state::freshness(later),
        "{body}"
    );
}
