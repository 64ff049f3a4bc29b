//! The regulators' view (`GET /api/v1/oversight`, `/oversight`): its figures equal counts made
//! directly in SQL on the same registry; a regulator sees its province only; other tokens are
//! refused; the page draws its plots with the same numbers.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;

use hutong_core::rights::Actor;

use crate::fixture;
use crate::writes::token;
use crate::{Answer, send};

async fn get(s: &hutong_server::AppState, path: &str, t: &str) -> Answer {
    let r = Request::get(path)
        .header("authorization", format!("Bearer {t}"))
        .body(Body::empty())
        .unwrap();
    send(s, r).await
}

fn counts(db: &rusqlite::Connection, sql: &str) -> BTreeMap<String, u64> {
    let mut stmt = db.prepare(sql).unwrap();
    stmt.query_map([], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

fn as_counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
        .collect()
}

#[tokio::test]
async fn the_regulators_figures_equal_counts_made_in_sql() {
    let (s, dir) = crate::state().await;
    let f0 = fixture::fill(&s).await;
    s.refresh_issuers().await.unwrap();
    let national = token(
        &s,
        Actor::Regulator {
            department: "mohrss".into(),
            region: None,
        },
    )
    .await;
    let guangdong = token(
        &s,
        Actor::Regulator {
            department: "mohrss".into(),
            region: Some("44".into()),
        },
    )
    .await;
    let mem = token(
        &s,
        Actor::Authority {
            department: "mem".into(),
            region: None,
        },
    )
    .await;

    // A request to issue refused as outside an issuer's rights, as the write API journals it.
    let refused = hutong_core::journal::canonical(&serde_json::json!({
        "change": "refused", "code": "outside-grant", "right": "issue",
    }));
    s.store
        .journal_only(
            &[(
                hutong_core::journal::Subject::Issuer("mem.44".into()),
                refused,
            )],
            "test",
            hutong_core::journal::now_micros(),
        )
        .await
        .unwrap();

    // Two recognition checks with the department's token, one without any.
    let check = |t: Option<String>| {
        let s = s.clone();
        let body = serde_json::json!({
            "id": f0.valid.id, "name": f0.valid.name, "target": "mohurd.construction.electrician",
        })
        .to_string();
        async move {
            let mut r = Request::post("/api/v1/recognition/check")
                .header("content-type", "application/json");
            if let Some(t) = t {
                r = r.header("authorization", format!("Bearer {t}"));
            }
            send(&s, r.body(Body::from(body)).unwrap()).await
        }
    };
    for t in [Some(mem.clone()), Some(mem.clone()), None] {
        let a = check(t).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }
    let a = check(Some("ht_not-a-token".into())).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);

    let a = get(&s, "/api/v1/oversight", &national).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let v: Value = serde_json::from_str(&a.body).unwrap();
    let f = &v["figures"];
    let db = rusqlite::Connection::open(dir.path().join("r.db")).unwrap();
    let total: i64 = db
        .query_row("SELECT count(*) FROM certificates", [], |r| r.get(0))
        .unwrap();
    assert!(total > 5);
    assert_eq!(f["certificates"].as_i64().unwrap(), total);
    assert_eq!(
        as_counts(&f["by_kind"]),
        counts(
            &db,
            "SELECT k.name, count(*) FROM certificates c JOIN kinds k ON k.id = c.kind GROUP BY k.name"
        )
    );
    let day = "strftime('%Y-%m', '0001-01-01', '+' || (issued_on - 1) || ' days')";
    let by_month = counts(
        &db,
        &format!("SELECT {day}, count(*) FROM certificates GROUP BY 1"),
    );
    for (month, departments) in f["issued_by_month"].as_object().unwrap() {
        let ours: u64 = as_counts(departments).values().sum();
        assert_eq!(ours, by_month.get(month).copied().unwrap_or(0), "{month}");
    }
    let revoked: i64 = db
        .query_row(
            "SELECT count(*) FROM certificates WHERE state = 'revoked'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(f["status"]["revoked"].as_i64().unwrap_or(0), revoked);
    assert_eq!(
        as_counts(&f["status"]).values().sum::<u64>() as i64,
        total,
        "every certificate has one status"
    );
    assert_eq!(f["issuers"]["mem.44"]["refused"], 1);
    let checks: i64 = db
        .query_row(
            "SELECT count(*) FROM journal WHERE json_extract(change, '$.change') = 'recognition-checked' \
             AND json_extract(change, '$.department') = 'mem'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(checks, 2, "the check without a token leaves no trace");
    assert_eq!(f["recognition_checks"]["mem"].as_i64(), Some(checks));
    let per_issuer = counts(
        &db,
        "SELECT issuer, count(*) FROM certificates GROUP BY issuer",
    );
    for (issuer, n) in &per_issuer {
        assert_eq!(
            f["issuers"][issuer]["issued"].as_u64(),
            Some(*n),
            "{issuer}"
        );
    }
    let by_region = counts(
        &db,
        "SELECT coalesce(json_extract(i.record, '$.region'), 'none'), count(*) \
         FROM certificates c LEFT JOIN issuers i ON i.id = c.issuer GROUP BY 1",
    );
    assert_eq!(as_counts(&f["by_province"]), by_region);

    // Guangdong's regulator sees Guangdong's, and nothing of another province.
    let a = get(&s, "/api/v1/oversight", &guangdong).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let g: Value = serde_json::from_str(&a.body).unwrap();
    assert_eq!(g["region"], "44");
    assert_eq!(
        g["figures"]["certificates"].as_u64(),
        by_region.get("44").copied()
    );
    let a = get(&s, "/api/v1/oversight?region=11", &guangdong).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    let a = get(&s, "/api/v1/oversight", &mem).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    let a = get(&s, "/api/v1/oversight?region=99", &national).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(a.body.contains("region"), "{}", a.body);
    let a = send(
        &s,
        Request::get("/api/v1/oversight")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{}", a.body);

    // The page, for the token typed into its form: plots with the same numbers.
    let form = format!("token={national}&region=");
    let page = send(
        &s,
        Request::post("/oversight")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for id in ["issued-plot", "status-plot", "due-plot"] {
        assert!(page.body.contains(&format!("<svg id=\"{id}\"")), "{id}");
    }
    let drawn: u64 = page
        .body
        .split("data-department=")
        .skip(1)
        .map(|r| {
            let n = r.split("data-count=\"").nth(1).unwrap();
            n[..n.find('"').unwrap()].parse::<u64>().unwrap()
        })
        .sum();
    let months: u64 = f["issued_by_month"]
        .as_object()
        .unwrap()
        .values()
        .map(|d| as_counts(d).values().sum::<u64>())
        .sum();
    assert!(months > 0, "no certificate issued in the last 12 months");
    assert_eq!(drawn, months, "the bars draw the month counts");
    let page = send(
        &s,
        Request::post("/oversight")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("token=ht_nothing&region="))
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNAUTHORIZED);
    assert!(!page.body.contains("ht_nothing"));
}

/// The page in a real browser, at a phone's width and a desktop's: the regulator types the
/// token, and the three plots are drawn, with their bars, inside the window.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_regulators_page_draws_its_plots_in_a_real_browser() {
    use fantoccini::Locator;
    if !crate::webdriver::enabled() {
        return;
    }
    let (s, _dir) = crate::state().await;
    fixture::fill(&s).await;
    let national = token(
        &s,
        Actor::Regulator {
            department: "mohrss".into(),
            region: None,
        },
    )
    .await;
    let b = crate::webdriver::Session::start(&s).await;
    let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("pages-oversight");
    std::fs::create_dir_all(&shots).unwrap();
    let run = async {
        let c = &b.client;
        for width in [390u32, 1280] {
            c.set_window_size(width, 1400).await.unwrap();
            c.goto(&format!("{}/oversight", b.base)).await.unwrap();
            c.find(Locator::Css("#token"))
                .await
                .unwrap()
                .send_keys(&national)
                .await
                .unwrap();
            c.find(Locator::Css("button[type=submit]"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            c.wait()
                .for_element(Locator::Css("#issued-plot"))
                .await
                .unwrap();
            let measured = c
                .execute(
                    "return ['issued-plot','status-plot','due-plot'].map(id => {
                        const r = document.getElementById(id).getBoundingClientRect();
                        return [r.width, r.height, document.querySelectorAll('#' + id + ' rect').length];
                     }).concat([[document.documentElement.scrollWidth, window.innerWidth, 0]]);",
                    vec![],
                )
                .await
                .unwrap();
            let m = measured.as_array().unwrap();
            for (i, plot) in m[..3].iter().enumerate() {
                let (w, h, bars) = (
                    plot[0].as_f64().unwrap(),
                    plot[1].as_f64().unwrap(),
                    plot[2].as_u64().unwrap(),
                );
                assert!(w > 200.0 && h > 20.0, "plot {i} at {width}: {measured}");
                assert!(bars > 0, "plot {i} at {width} has no bar: {measured}");
            }
            assert!(
                m[3][0].as_f64() <= m[3][1].as_f64(),
                "the page is wider than the window at {width}: {measured}"
            );
            let url = c.current_url().await.unwrap();
            assert!(!url.as_str().contains(&national), "{url}");
            std::fs::write(
                shots.join(format!("oversight-{width}.png")),
                c.screenshot().await.unwrap(),
            )
            .unwrap();
        }
    };
    let outcome = tokio::time::timeout(std::time::Duration::from_secs(120), run).await;
    b.end().await;
    outcome.expect("the browser test took more than two minutes");
}
