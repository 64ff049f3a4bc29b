//! The HTTP face of hutong: the JSON API under `/api/v1`, server-rendered pages, health and
//! metrics. [`app`] builds the whole service from an [`AppState`]; tests call it without a socket.

pub mod credentials;
pub mod error;
pub mod exam;
pub mod handlers;
mod json;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod ratelimit;
mod router;
pub mod state;
pub mod tlog;
pub mod views;

pub use error::ApiError;
pub use router::{app, metrics_app};
pub use state::{AppState, ConnectionSettings, DemoHolder, DemoSample, Settings};
pub use tlog::LogSettings;

/// Connections open at once on the metrics listener (a scraper needs one or two).
pub const METRICS_CONNECTIONS: usize = 16;

/// How many connections may wait to be accepted. The standard library's 128 is soon full when
/// the connection cap is reached; past it, the kernel drops new connections.
pub const LISTEN_BACKLOG: u32 = 1024;

/// A listener on `addr` (`127.0.0.1:8080`, `localhost:8080`, `[::]:80`) with a listen queue of
/// [`LISTEN_BACKLOG`]: connections over the cap wait there.
pub async fn bind(addr: &str) -> std::io::Result<tokio::net::TcpListener> {
    let mut last = None;
    for a in tokio::net::lookup_host(addr).await? {
        let socket = if a.is_ipv4() {
            tokio::net::TcpSocket::new_v4()?
        } else {
            tokio::net::TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        match socket.bind(a).and_then(|()| socket.listen(LISTEN_BACKLOG)) {
            Ok(l) => return Ok(l),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::AddrNotAvailable,
            format!("{addr} names no address"),
        )
    }))
}

/// Serves `app` on `listener` until `shutdown` resolves, then finishes the requests under way.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_metrics(listener, None, state, shutdown).await
}

/// [`serve`], and the Prometheus metrics ([`metrics_app`]) on `metrics` when one is given.
/// Both listeners enforce the connection timeouts of [`Settings::connections`]; the public one
/// has its cap, and the metrics one [`METRICS_CONNECTIONS`] places of its own, so that a flood
/// of the public address does not blind the monitoring.
pub async fn serve_with_metrics(
    listener: tokio::net::TcpListener,
    metrics: Option<tokio::net::TcpListener>,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Err(e) = state.refresh_issuers().await {
        tracing::warn!(error = %e, "could not read the issuer register; verification will query it");
    }
    if let Err(e) = state.refresh_policy().await {
        tracing::warn!(error = %e, "could not read the published policy; the policy folder's is in force");
    }
    state.spawn_background_tasks();
    let limits = state.settings.connections.clone();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop.send(true);
    });
    let metrics = metrics.map(|l| {
        let mut limits = limits.clone();
        limits.max_connections = METRICS_CONNECTIONS as u32;
        tokio::spawn(conn::accept_loop(
            l,
            metrics_app(state.clone()),
            limits,
            stopped.clone(),
        ))
    });
    let public = conn::accept_loop(listener, app(state), limits, stopped).await;
    if let Some(m) = metrics {
        m.await.map_err(std::io::Error::other)??;
    }
    public
}

/// Connections: the accept loop, the timeouts and the cap.
mod conn {
    use std::future::Future;
    use std::io;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
    use std::task::{Context, Poll};
    use std::time::{Duration, Instant};

    use axum::Router;
    use axum::body::Bytes;
    use axum::extract::ConnectInfo;
    use hyper::body::{Body, Frame, Incoming, SizeHint};
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::server::graceful::GracefulShutdown;
    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
    use tower::ServiceExt as _;

    use crate::state::ConnectionSettings;

    /// Accepts connections on `listener`, at most `limits.max_connections` open at once, until
    /// `stop` turns true, then waits for the open ones to finish their requests (idle ones close
    /// at once).
    pub(super) async fn accept_loop(
        listener: TcpListener,
        router: Router,
        limits: ConnectionSettings,
        mut stop: watch::Receiver<bool>,
    ) -> io::Result<()> {
        let cap = Arc::new(Semaphore::new(limits.max_connections.max(1) as usize));
        let graceful = GracefulShutdown::new();
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read_timeout);
        let full = Arc::new(AtomicBool::new(false));
        loop {
            let permit = tokio::select! {
                () = stopping(&mut stop) => break,
                p = permit(&cap, &full, limits.max_connections) => p,
            };
            let (stream, peer) = tokio::select! {
                () = stopping(&mut stop) => break,
                r = listener.accept() => match r {
                    Ok(c) => c,
                    Err(e) => {
                        accept_failed(e).await;
                        continue;
                    }
                },
            };
            let activity = Arc::new(Activity::new());
            let io = TokioIo::new(Watched {
                io: stream,
                activity: activity.clone(),
            });
            let router = router.clone();
            let in_handler = activity.clone();
            let body_timeout = limits.body_timeout;
            let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                let busy = Busy::start(in_handler.clone());
                let mut req = req.map(|body| {
                    if body.is_end_stream() {
                        // Nothing to wait for (a GET): no timer to set.
                        axum::body::Body::new(body)
                    } else {
                        axum::body::Body::new(TimedBody {
                            inner: body,
                            deadline: Box::pin(tokio::time::sleep(body_timeout)),
                            limit: body_timeout,
                        })
                    }
                });
                req.extensions_mut().insert(ConnectInfo(peer));
                let router = router.clone();
                async move {
                    let resp = router.oneshot(req).await;
                    drop(busy);
                    resp
                }
            });
            let conn = graceful.watch(builder.serve_connection(io, service));
            let limits = limits.clone();
            tokio::spawn(async move {
                let _permit = permit;
                tokio::select! {
                    r = conn => if let Err(e) = r {
                        closed_with(&e, &activity, &limits);
                    },
                    () = idle(&activity, limits.idle_timeout) => tracing::warn!(
                        limit = %humanize(limits.idle_timeout),
                        "closed a connection: nothing received or sent within the idle timeout"
                    ),
                }
            });
        }
        drop(listener);
        graceful.shutdown().await;
        Ok(())
    }

    /// Resolves when the server is to stop.
    async fn stopping(stop: &mut watch::Receiver<bool>) {
        let _ = stop.wait_for(|s| *s).await;
    }

    /// A place under the cap, waiting for one when all are taken (and saying so, once).
    async fn permit(cap: &Arc<Semaphore>, full: &AtomicBool, max: u32) -> OwnedSemaphorePermit {
        if let Ok(p) = cap.clone().try_acquire_owned() {
            full.store(false, Ordering::Relaxed);
            return p;
        }
        if !full.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                max_connections = max,
                "all connections are in use: new connections wait until one closes"
            );
        }
        cap.clone()
            .acquire_owned()
            .await
            .expect("the connection cap is never closed")
    }

    /// An accept error (out of file descriptors, a connection reset before it was accepted):
    /// logged, and, when it is about this process rather than one client, followed by a pause
    /// so that the loop does not spin.
    async fn accept_failed(e: io::Error) {
        use io::ErrorKind::*;
        if matches!(
            e.kind(),
            ConnectionAborted | ConnectionReset | ConnectionRefused
        ) {
            tracing::debug!(error = %e, "a connection failed before it was accepted");
            return;
        }
        tracing::error!(error = %e, "cannot accept connections; trying again in 100 ms");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    /// Logs why hyper closed a connection. A header timeout on a connection that sent nothing
    /// since its last answer is the normal end of keep-alive; on one that never sent a byte, a
    /// client that connected and said nothing; with part of a request received, a client too
    /// slow to send its headers.
    fn closed_with(e: &hyper::Error, activity: &Activity, limits: &ConnectionSettings) {
        if e.is_timeout() {
            let limit = humanize(limits.header_read_timeout);
            if activity.read.load(Ordering::Relaxed) == 0 {
                tracing::info!(%limit, "closed a connection that sent no request within the header-read timeout");
            } else if activity.sent_nothing_new() {
                tracing::debug!(%limit, "closed an idle keep-alive connection at the header-read timeout");
            } else {
                tracing::warn!(%limit, "closed a connection: request headers incomplete at the header-read timeout");
            }
        } else if e.is_incomplete_message() || e.is_canceled() {
            tracing::debug!("a connection closed in the middle of a request");
        } else {
            // hyper's own wording, which names the fault (a malformed request line, headers too
            // large), never the bytes the client sent.
            tracing::debug!(error = %e, "a connection ended with an error");
        }
    }

    /// `10s`, `500ms`: how the configuration writes a duration.
    fn humanize(d: Duration) -> String {
        humantime::format_duration(d).to_string()
    }

    /// What a connection has done, for the idle timeout and for logging.
    struct Activity {
        opened: Instant,
        /// Milliseconds since `opened` of the last byte moved, or of the last handler finishing.
        last: AtomicU64,
        read: AtomicU64,
        /// `read` when the last byte of an answer was written.
        read_at_last_write: AtomicU64,
        /// Handlers at work on this connection: the idle timeout does not run meanwhile.
        busy: AtomicUsize,
    }

    impl Activity {
        fn new() -> Activity {
            Activity {
                opened: Instant::now(),
                last: AtomicU64::new(0),
                read: AtomicU64::new(0),
                read_at_last_write: AtomicU64::new(0),
                busy: AtomicUsize::new(0),
            }
        }

        fn touch(&self) {
            let ms = self.opened.elapsed().as_millis() as u64;
            self.last.store(ms, Ordering::Relaxed);
        }

        fn idle_for(&self) -> Duration {
            let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
            self.opened.elapsed().saturating_sub(last)
        }

        fn sent_nothing_new(&self) -> bool {
            self.read.load(Ordering::Relaxed) == self.read_at_last_write.load(Ordering::Relaxed)
        }
    }

    /// Resolves once the connection has been idle for `limit` with no handler at work.
    async fn idle(activity: &Activity, limit: Duration) {
        loop {
            let idle = activity.idle_for();
            if idle >= limit && activity.busy.load(Ordering::Relaxed) == 0 {
                return;
            }
            tokio::time::sleep(limit.saturating_sub(idle).max(Duration::from_millis(10))).await;
        }
    }

    /// Marks a handler at work until dropped.
    struct Busy(Arc<Activity>);

    impl Busy {
        fn start(activity: Arc<Activity>) -> Busy {
            activity.busy.fetch_add(1, Ordering::Relaxed);
            Busy(activity)
        }
    }

    impl Drop for Busy {
        fn drop(&mut self) {
            self.0.touch();
            self.0.busy.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// The socket, noting each byte moved.
    struct Watched {
        io: TcpStream,
        activity: Arc<Activity>,
    }

    impl AsyncRead for Watched {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let before = buf.filled().len();
            let r = Pin::new(&mut self.io).poll_read(cx, buf);
            let n = buf.filled().len() - before;
            if n > 0 {
                self.activity.read.fetch_add(n as u64, Ordering::Relaxed);
                self.activity.touch();
            }
            r
        }
    }

    impl AsyncWrite for Watched {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let r = Pin::new(&mut self.io).poll_write(cx, buf);
            if let Poll::Ready(Ok(n)) = r
                && n > 0
            {
                self.wrote();
            }
            r
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[io::IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
            if let Poll::Ready(Ok(n)) = r
                && n > 0
            {
                self.wrote();
            }
            r
        }

        fn is_write_vectored(&self) -> bool {
            self.io.is_write_vectored()
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_flush(cx)
        }

        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_shutdown(cx)
        }
    }

    impl Watched {
        fn wrote(&self) {
            let read = self.activity.read.load(Ordering::Relaxed);
            self.activity
                .read_at_last_write
                .store(read, Ordering::Relaxed);
            self.activity.touch();
        }
    }

    /// A request body that must arrive whole within the body timeout.
    struct TimedBody {
        inner: Incoming,
        deadline: Pin<Box<tokio::time::Sleep>>,
        limit: Duration,
    }

    /// The error a body gets at the body timeout.
    #[derive(Debug)]
    struct BodyTimedOut(Duration);

    impl std::fmt::Display for BodyTimedOut {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(
                f,
                "the request body did not arrive within {}",
                humanize(self.0)
            )
        }
    }

    impl std::error::Error for BodyTimedOut {}

    impl Body for TimedBody {
        type Data = Bytes;
        type Error = Box<dyn std::error::Error + Send + Sync>;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
                return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
            }
            if self.deadline.as_mut().poll(cx).is_ready() {
                tracing::warn!(
                    limit = %humanize(self.limit),
                    "a request body was not received within the body timeout; the connection closes"
                );
                return Poll::Ready(Some(Err(Box::new(BodyTimedOut(self.limit)))));
            }
            Poll::Pending
        }

        fn is_end_stream(&self) -> bool {
            self.inner.is_end_stream()
        }

        fn size_hint(&self) -> SizeHint {
            self.inner.size_hint()
        }
    }
}
