//! The advice page (我的证书能做什么) in a real browser at phone width: headless Chromium driven
//! through WebDriver, against the service on a loopback socket.
//!
//! At 390 pixels (and at 1280, for the screenshots), in Chinese and in English, it fills the
//! tick form (a qualification certificate, a skill level certificate, years of work), submits
//! it, and on both the form and the answer measures every table cell against two characters of
//! the cell's own font, and every field against the window's width. Then the registered mode,
//! from the holder's own one-stop result. Screenshots of every page are saved under the target
//! directory (`target/tmp/advice-*.png`) to be looked at.
//!
//! Runs when `HUTONG_BROWSER_TESTS=1`, as `browser.rs` does.

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::Value;

use super::fixture;
use super::state;
use super::webdriver::{self, Session};

/// What the page measures of itself: two characters of each cell's font against the cell's
/// content width, and the fields' right edges against the viewport.
const MEASURE: &str = r#"
const out = {inner: window.innerWidth, scroll: document.documentElement.scrollWidth, cells: [], fields: [], boxes: []};
for (const b of document.querySelectorAll('.scroll')) {
  out.boxes.push({scroll: b.scrollWidth, client: b.clientWidth, text: b.textContent.trim().slice(0, 30)});
}
for (const c of document.querySelectorAll('td, th')) {
  const probe = document.createElement('span');
  probe.textContent = '中中';
  probe.style.cssText = 'position:absolute;visibility:hidden;white-space:nowrap;padding:0;margin:0';
  c.appendChild(probe);
  const two = probe.getBoundingClientRect().width;
  probe.remove();
  const s = getComputedStyle(c);
  const content = c.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
  out.cells.push({text: c.textContent.trim().slice(0, 30), width: content, two: two});
}
for (const f of document.querySelectorAll('input:not([type=hidden]), select, button')) {
  const r = f.getBoundingClientRect();
  out.fields.push({name: f.name || f.id, left: r.left, right: r.right});
}
return out;
"#;

/// Checks the page in the browser: no table cell narrower than two characters, no field cut
/// off, no table wider than its box, nothing wider than the window. Returns how many cells were measured.
async fn check_layout(c: &Client, what: &str) -> usize {
    let m = c.execute(MEASURE, vec![]).await.unwrap();
    let inner = m["inner"].as_f64().unwrap();
    assert!(
        m["scroll"].as_f64().unwrap() <= inner + 0.5,
        "{what}: the page is wider than the window: {m}"
    );
    // A table in a scrolling box is cut off as surely as one past the window's edge.
    for b in m["boxes"].as_array().unwrap() {
        assert!(
            b["scroll"].as_f64().unwrap() <= b["client"].as_f64().unwrap() + 0.5,
            "{what}: a table is wider than its box, part of it hidden: {b}"
        );
    }
    let cells = m["cells"].as_array().unwrap();
    for cell in cells {
        let (w, two) = (
            cell["width"].as_f64().unwrap(),
            cell["two"].as_f64().unwrap(),
        );
        assert!(two > 0.0, "{what}: {cell}");
        assert!(
            w + 0.5 >= two,
            "{what}: a table cell is narrower than two characters ({w:.1} < {two:.1} px): {cell}"
        );
    }
    for f in m["fields"].as_array().unwrap() {
        assert!(
            f["left"].as_f64().unwrap() >= -0.5 && f["right"].as_f64().unwrap() <= inner + 0.5,
            "{what}: a field is cut off: {f} (window {inner})"
        );
    }
    cells.len()
}

/// Sets the viewport's width (the window's, less what the browser takes).
async fn set_width(c: &Client, width: u32) {
    c.set_window_size(width, 900).await.unwrap();
    let inner = c
        .execute("return window.innerWidth", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap() as u32;
    if inner != width {
        c.set_window_size(width + (width - inner.min(width)), 900)
            .await
            .unwrap();
    }
    let inner = c.execute("return window.innerWidth", vec![]).await.unwrap();
    assert_eq!(inner, Value::from(width), "the viewport's width");
}

/// A screenshot of the whole page, at its full height, saved under the target directory.
async fn screenshot(c: &Client, width: u32, name: &str) -> std::path::PathBuf {
    let height = c
        .execute(
            "return Math.ceil(document.documentElement.scrollHeight)",
            vec![],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap() as u32;
    let (w, _) = c.get_window_size().await.unwrap();
    c.set_window_size(w as u32, height.clamp(300, 12_000))
        .await
        .unwrap();
    let png = c.screenshot().await.unwrap();
    c.set_window_size(w as u32, 900).await.unwrap();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("advice-{name}-{width}.png"));
    std::fs::write(&path, png).unwrap();
    path
}

/// Prints the page as the browser would (A4), saves the PDF under the target directory and
/// checks that it is one page.
async fn print_one_page(c: &Client, lang: &str) -> std::path::PathBuf {
    let a4 = fantoccini::wd::PrintConfiguration::builder()
        .size(fantoccini::wd::PrintSize {
            width: 21.0,
            height: 29.7,
        })
        .build()
        .unwrap();
    let pdf = c.print(a4).await.unwrap();
    let path =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("advice-print-{lang}.pdf"));
    std::fs::write(&path, &pdf).unwrap();
    let text = String::from_utf8_lossy(&pdf);
    let pages = text.matches("/Type /Page").count() - text.matches("/Type /Pages").count();
    assert_eq!(
        pages,
        1,
        "the printed summary ({lang}) is one page: {}",
        path.display()
    );
    // And a picture of the print layout, to be looked at: the print rules applied on screen, at
    // the width of A4, then put back.
    let (w, _) = c.get_window_size().await.unwrap();
    c.execute(
        "for (const s of document.styleSheets) for (const r of s.cssRules)
           if (r.media && r.media.mediaText === 'print') r.media.mediaText = 'all';",
        vec![],
    )
    .await
    .unwrap();
    c.set_window_size(794, 900).await.unwrap();
    let preview = screenshot(c, 794, &format!("print-preview-{lang}")).await;
    c.execute(
        "for (const s of document.styleSheets) for (const r of s.cssRules)
           if (r.media && r.media.mediaText === 'all') r.media.mediaText = 'print';",
        vec![],
    )
    .await
    .unwrap();
    c.set_window_size(w as u32, 900).await.unwrap();
    assert!(preview.is_file());
    path
}

fn by_id(id: &str) -> String {
    format!("[id='{id}']")
}

/// Fills the tick form: a low-voltage electrician card, a welder skill level certificate and
/// years of work as a welder, and submits it.
async fn fill_tick_form(c: &Client, lang: &str) {
    c.find(Locator::Css(&by_id("hold-mem.electrical.low-voltage")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // A date field is typed as the browser's locale wants; the value is set directly.
    c.execute(
        "document.getElementById('issued-mem.electrical.low-voltage').value = '2023-05-10';
         document.getElementById('skill-issued-1').value = '2022-03-01';",
        vec![],
    )
    .await
    .unwrap();
    c.find(Locator::Css("#skill-occupation-1"))
        .await
        .unwrap()
        .select_by_value("6-18-02-04")
        .await
        .unwrap();
    c.find(Locator::Css("#skill-level-1"))
        .await
        .unwrap()
        .select_by_value("5")
        .await
        .unwrap();
    // The ticked certificate opens its status and date; both are seen whole.
    let block = c
        .find(Locator::XPath(
            "//input[@id='hold-mem.electrical.low-voltage']/ancestor::div[@class='cert']",
        ))
        .await
        .unwrap();
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    let width = c.execute("return window.innerWidth", vec![]).await.unwrap();
    std::fs::write(
        dir.join(format!("advice-ticked-{lang}-{width}.png")),
        block.screenshot().await.unwrap(),
    )
    .unwrap();
    c.find(Locator::Css(&by_id("t-exp-6-18-02-04")))
        .await
        .unwrap()
        .send_keys("3")
        .await
        .unwrap();
    c.find(Locator::Css("#advice-ticked"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Css("#apply")).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_advice_page_works_on_a_phone_in_a_real_browser() {
    if !webdriver::enabled() {
        return;
    }
    let (s, _dir) = state().await;
    let f = fixture::fill(&s).await;
    let b = Session::start(&s).await;
    let outcome = tokio::time::timeout(Duration::from_secs(240), run(&b.client, &b.base, &f)).await;
    b.end().await;
    outcome.expect("the browser test took more than four minutes");
}

async fn run(c: &Client, base: &str, f: &fixture::Fixture) {
    let mut saved = Vec::new();
    for width in [390, 1280] {
        for (lang, query) in [("zh", ""), ("en", "?lang=en")] {
            set_width(c, width).await;
            c.goto(&format!("{base}/advice{query}")).await.unwrap();
            check_layout(c, &format!("the form, {lang}, {width} px")).await;
            saved.push(screenshot(c, width, &format!("form-{lang}")).await);

            fill_tick_form(c, lang).await;
            let cells = check_layout(c, &format!("the answer, {lang}, {width} px")).await;
            assert!(
                cells >= 3 * 3,
                "the answer's table of certificates: {cells} cells"
            );
            let page = c.source().await.unwrap();
            assert!(page.contains("data-basis=\"ticked\""), "{page}");
            assert!(page.contains("<details"), "the details are folded away");
            let say = c
                .find(Locator::Css("#apply .say"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(!say.contains("m1/") && !say.contains("rule"), "{say}");
            saved.push(screenshot(c, width, &format!("result-{lang}")).await);
            if width == 390 {
                saved.push(print_one_page(c, lang).await);
            }
        }
    }

    // The registered mode, from the holder's own one-stop result, at phone width.
    set_width(c, 390).await;
    c.goto(&format!("{base}/verify")).await.unwrap();
    c.find(Locator::Css("#hid"))
        .await
        .unwrap()
        .send_keys(&f.valid.id)
        .await
        .unwrap();
    c.find(Locator::Css("#hname"))
        .await
        .unwrap()
        .send_keys(f.valid.name)
        .await
        .unwrap();
    c.find(Locator::Css("#holder"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("#advice-from-holder"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Css("#apply")).await.unwrap();
    let page = c.source().await.unwrap();
    assert!(page.contains("data-basis=\"registered\""), "{page}");
    assert!(
        !page.contains(&f.valid.id),
        "the ID number is never on the page"
    );
    let url = c.current_url().await.unwrap();
    assert!(!url.as_str().contains(&f.valid.id), "{url}");
    check_layout(c, "the registered answer, zh, 390 px").await;
    saved.push(screenshot(c, 390, "registered-zh").await);

    use std::io::Write as _;
    for p in saved {
        let _ = writeln!(std::io::stderr(), "screenshot: {}", p.display());
    }
}
