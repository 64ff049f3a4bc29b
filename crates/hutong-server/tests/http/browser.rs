//! A real browser on the query page: headless Chromium driven through WebDriver (chromedriver),
//! against the service on a loopback socket. It types a number and a name, submits, and finds
//! the status on the result page; then the not-found case, and the one-stop query by ID number.
//!
//! Runs when `HUTONG_BROWSER_TESTS=1` (CI sets it, and installs Debian's `chromium` and
//! `chromium-driver`); then a missing browser or driver is a failure. Otherwise it says that it
//! was skipped.

use std::time::Duration;

use fantoccini::{Client, Locator};

use super::fixture::{self, Sample};
use super::state;
use super::webdriver::{browser, start_driver};

/// Types a number and a name into the query page, submits, and returns the result's status.
async fn verify_in_browser(c: &Client, base: &str, number: &str, name: &str) -> (String, String) {
    c.goto(&format!("{base}/verify")).await.unwrap();
    c.find(Locator::Css("#number"))
        .await
        .unwrap()
        .send_keys(number)
        .await
        .unwrap();
    c.find(Locator::Css("#name"))
        .await
        .unwrap()
        .send_keys(name)
        .await
        .unwrap();
    c.find(Locator::Css("#verify"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let status = c.wait().for_element(Locator::Css("#status")).await.unwrap();
    let url = c.current_url().await.unwrap();
    assert!(
        !url.as_str().contains("number=") && !url.as_str().contains("name="),
        "the form is posted: nothing typed is in the address ({url})"
    );
    (
        status
            .attr("data-status")
            .await
            .unwrap()
            .unwrap_or_default(),
        status.text().await.unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_verifies_a_certificate_in_a_real_browser() {
    if std::env::var("HUTONG_BROWSER_TESTS").as_deref() != Ok("1") {
        // Written to the terminal directly, past the test harness's capture, so that it shows.
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED browser test: set HUTONG_BROWSER_TESTS=1 to run it (needs Debian's chromium and chromium-driver; CI sets it)"
        );
        return;
    }
    let (s, _dir) = state().await;
    let f = fixture::fill(&s).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hutong_server::serve(listener, s.clone(), async {
        let _ = stopped.await;
    }));

    let (_driver, port) = start_driver().await;
    let profile = tempfile::tempdir().unwrap();
    let c = browser(port, profile.path()).await;
    let outcome = tokio::time::timeout(Duration::from_secs(120), run(&c, &base, &f)).await;
    let _ = c.close().await;
    let _ = stop.send(());
    let _ = server.await;
    outcome.expect("the browser test took more than two minutes");
}

async fn run(c: &Client, base: &str, f: &fixture::Fixture) {
    let cases: [(&Sample, &str, &str); 3] = [
        (&f.review_due, "review-due", "有效（待复审/换证）"),
        (&f.revoked, "revoked", "已撤销"),
        (&f.suspended, "suspended", "已暂停"),
    ];
    for (sample, status, text) in cases {
        let (got, shown) = verify_in_browser(c, base, &sample.number, sample.name).await;
        assert_eq!(got, status, "{}: {shown}", sample.kind);
        assert!(shown.contains(text), "{shown}");
    }
    // A wrong name: not found, saying nothing about the number.
    let (got, shown) = verify_in_browser(c, base, &f.expired.number, "李五").await;
    assert_eq!(got, "not-found");
    assert!(shown.contains("未查到"), "{shown}");

    // The one-stop query by ID number and name, posted.
    c.goto(&format!("{base}/verify?lang=en")).await.unwrap();
    c.find(Locator::Css("#hid"))
        .await
        .unwrap()
        .send_keys(&f.review_due.id)
        .await
        .unwrap();
    c.find(Locator::Css("#hname"))
        .await
        .unwrap()
        .send_keys(f.review_due.name)
        .await
        .unwrap();
    c.find(Locator::Css("#holder"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Css("#status")).await.unwrap();
    let page = c.source().await.unwrap();
    assert!(
        page.contains("data-status=\"review-due\"") && page.contains("data-status=\"expired\"")
    );
    assert!(page.contains("Expired"), "the English page");
    let url = c.current_url().await.unwrap();
    assert!(
        !url.as_str().contains(&f.review_due.id),
        "the ID number is never in the address: {url}"
    );

    // The holder makes a share code for all their certificates, and opens its address.
    c.find(Locator::Css("#share-new"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let link = c
        .wait()
        .for_element(Locator::Css("#share-link"))
        .await
        .unwrap();
    let share_url = link.text().await.unwrap();
    let code = c
        .find(Locator::Css("#share-code"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(code.len(), 24 + 5, "{code}");
    let path = &share_url[share_url.find("/s/").expect("a share address")..];
    c.goto(&format!("{base}{path}")).await.unwrap();
    c.wait().for_element(Locator::Css("#share")).await.unwrap();
    let page = c.source().await.unwrap();
    assert!(page.contains("data-status=\"review-due\"") && page.contains("<svg"));
    let url = c.current_url().await.unwrap();
    assert!(!url.as_str().contains("number=") && !url.as_str().contains("name="));
}
