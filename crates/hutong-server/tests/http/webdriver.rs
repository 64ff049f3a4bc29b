//! Headless Chromium driven through WebDriver (chromedriver), for the browser tests: the
//! server's (`browser.rs`) and the command's (`crates/hutong/tests/browser_verdict.rs`, which
//! includes this file). Debian's `chromium` and `chromium-driver` packages.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A child process, ended when dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something listens on `port` of the loopback address, for up to `tries` tenths
/// of a second.
pub async fn wait_for_port(port: u16, what: &str, tries: u32) {
    for _ in 0..tries {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} did not start listening");
}

/// chromedriver (`HUTONG_CHROMEDRIVER`, or Debian's) on a free port.
pub async fn start_driver() -> (Running, u16) {
    let driver = std::env::var("HUTONG_CHROMEDRIVER").unwrap_or_else(|_| CHROMEDRIVER.into());
    assert!(
        std::path::Path::new(&driver).is_file() && std::path::Path::new(CHROMIUM).is_file(),
        "HUTONG_BROWSER_TESTS=1 but {driver} or {CHROMIUM} is missing: apt-get install chromium chromium-driver"
    );
    let port = free_port();
    let child = Command::new(&driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {driver}: {e}"));
    let d = Running(child);
    wait_for_port(port, &driver, 100).await;
    (d, port)
}

/// A session with headless Chromium, 412 pixels wide, with its profile in `profile`.
pub async fn browser(driver_port: u16, profile: &std::path::Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=412,900",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{driver_port}"))
        .await
        .expect("a WebDriver session with headless Chromium")
}

/// Whether the browser tests run (`HUTONG_BROWSER_TESTS=1`; CI sets it). When they do not, says
/// so on the terminal directly, past the test harness's capture, so that the skip shows.
pub fn enabled() -> bool {
    if std::env::var("HUTONG_BROWSER_TESTS").as_deref() == Ok("1") {
        return true;
    }
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED browser test: set HUTONG_BROWSER_TESTS=1 to run it (needs Debian's chromium and chromium-driver; CI sets it)"
    );
    false
}

/// A service on a free local port and a headless Chromium session driving it.
pub struct Session {
    pub client: Client,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    _driver: Running,
    _profile: tempfile::TempDir,
}

impl Session {
    pub async fn start(state: &hutong_server::AppState) -> Session {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(hutong_server::serve(listener, state.clone(), async {
            let _ = stopped.await;
        }));
        let (driver, port) = start_driver().await;
        let profile = tempfile::tempdir().unwrap();
        let client = browser(port, profile.path()).await;
        Session {
            client,
            base,
            stop,
            server,
            _driver: driver,
            _profile: profile,
        }
    }

    /// Closes the browser and stops the service.
    pub async fn end(self) {
        let _ = self.client.close().await;
        let _ = self.stop.send(());
        let _ = self.server.await;
    }
}
