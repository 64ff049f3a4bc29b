//! A small HTTP/1 client for the commands that talk to a hutong service (`witness cosign`,
//! `mirror`): a timeout on every answer, a cap on its size, and errors that name the address
//! (never a token). Plain HTTP: a service reached over the internet sits behind a TLS proxy on
//! both ends.

use std::time::Duration;

use anyhow::Context as _;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Bytes;

pub struct Client {
    inner: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        Full<Bytes>,
    >,
    /// The largest answer read, in bytes.
    max_answer: usize,
}

/// How long an answer may take beyond what the request asked the server to wait.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// An answer that is not a success: its status and the first 300 characters of its body.
#[derive(Debug, thiserror::Error)]
#[error("{url} answered {status}: {body}")]
pub struct Refused {
    pub url: String,
    pub status: hyper::StatusCode,
    pub body: String,
}

impl Client {
    pub fn new(max_answer: usize) -> Client {
        Client {
            inner:
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .build_http(),
            max_answer,
        }
    }

    /// GETs `url`; a status other than 2xx is an error ([`Refused`]), and so is
    /// `accept(status)` false for it.
    pub async fn get(&self, url: &str) -> anyhow::Result<String> {
        self.send(
            hyper::Request::get(url).body(Full::default())?,
            url,
            TIMEOUT,
            |_| false,
        )
        .await
    }

    /// GETs `url` with a bearer token, allowing `wait` beyond the usual timeout.
    pub async fn get_with_token(
        &self,
        url: &str,
        token: &str,
        wait: Duration,
    ) -> anyhow::Result<String> {
        let req = hyper::Request::get(url)
            .header(hyper::header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Full::default())?;
        self.send(req, url, TIMEOUT + wait, |_| false).await
    }

    /// GETs `url`, taking the answer of a status `accept` allows as if it were a success.
    pub async fn get_accepting(
        &self,
        url: &str,
        accept: impl Fn(hyper::StatusCode) -> bool,
    ) -> anyhow::Result<String> {
        self.send(
            hyper::Request::get(url).body(Full::default())?,
            url,
            TIMEOUT,
            accept,
        )
        .await
    }

    pub async fn post(&self, url: &str, body: String) -> anyhow::Result<String> {
        let req = hyper::Request::post(url)
            .header(hyper::header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Full::new(Bytes::from(body)))?;
        self.send(req, url, TIMEOUT, |_| false).await
    }

    async fn send(
        &self,
        req: hyper::Request<Full<Bytes>>,
        url: &str,
        timeout: Duration,
        accept: impl Fn(hyper::StatusCode) -> bool,
    ) -> anyhow::Result<String> {
        let resp = tokio::time::timeout(timeout, self.inner.request(req))
            .await
            .map_err(|_| anyhow::anyhow!("{url}: no answer within {} s", timeout.as_secs()))?
            .with_context(|| format!("cannot reach {url}"))?;
        let status = resp.status();
        let body = tokio::time::timeout(
            timeout,
            Limited::new(resp.into_body(), self.max_answer).collect(),
        )
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "{url}: the answer did not arrive within {} s",
                timeout.as_secs()
            )
        })?
        .map_err(|e| anyhow::anyhow!("{url}: {e}"))?
        .to_bytes();
        let text = String::from_utf8_lossy(&body).into_owned();
        if !(status.is_success() || accept(status)) {
            return Err(Refused {
                url: url.to_string(),
                status,
                body: text.chars().take(300).collect(),
            }
            .into());
        }
        Ok(text)
    }
}
