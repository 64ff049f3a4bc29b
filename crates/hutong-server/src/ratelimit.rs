//! Per-client rate limits on the public endpoints, with exemptions for trusted clients.
//!
//! Two tiers, each a GCRA limiter per client address (`governor`): *lookups* (verification and
//! the one-stop query, API and pages: the endpoints that could be used to probe the registry)
//! and *pages* (every other public page and the OpenAPI document). `/healthz` and `/metrics`
//! are not limited. A refused request gets `429` with `Retry-After` and a problem document.
//!
//! A client is its peer address, or, when the peer is a configured trusted proxy, the last
//! address of `X-Forwarded-For` that is not itself a trusted proxy (an entry may carry a port;
//! nothing left of an entry that cannot be read is believed). An operator exempts trusted
//! clients (an employer's integration, a monitoring probe) by address range, or by a bearer
//! token (`Authorization: Bearer TOKEN`) whose SHA-256 is configured: the token itself is never
//! stored in the configuration.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use ipnet::{IpNet, Ipv4Net};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

/// An address or a CIDR range (`10.0.0.0/8`, `::1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange(IpNet);

impl IpRange {
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&canonical(ip))
    }
}

/// IPv4 clients reached through an IPv6 socket appear as `::ffff:a.b.c.d`; they are one client.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

impl FromStr for IpRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let net = match s.split_once('/') {
            None => s.parse::<IpAddr>().map(IpNet::from).ok(),
            Some((addr, _)) => match s.parse::<IpNet>() {
                Ok(net) => Some(net),
                Err(_) => {
                    let max = match addr.parse::<IpAddr>() {
                        Ok(IpAddr::V4(_)) => 32,
                        Ok(IpAddr::V6(_)) => 128,
                        Err(_) => 0,
                    };
                    if max > 0 {
                        return Err(format!("\"{s}\": the prefix length must be 0 to {max}"));
                    }
                    None
                }
            },
        };
        let net = net.ok_or_else(|| format!("\"{s}\" is not an IP address or a CIDR range"))?;
        // `::ffff:10.0.0.0/104` is the IPv4 range `10.0.0.0/8`, which is how clients are compared.
        let net = match net {
            IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
                Some(v4) => Ipv4Net::new(v4, v6.prefix_len() - 96)
                    .map(IpNet::V4)
                    .unwrap_or(net),
                None => net,
            },
            other => other,
        };
        Ok(IpRange(net.trunc()))
    }
}

/// One `X-Forwarded-For` entry: `192.0.2.1`, `192.0.2.1:5555`, `2001:db8::1`, `[2001:db8::1]`
/// or `[2001:db8::1]:443`.
fn forwarded_ip(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(sa) = entry.parse::<SocketAddr>() {
        return Some(canonical(sa.ip()));
    }
    let inner = entry.strip_prefix('[')?.strip_suffix(']')?;
    inner
        .parse::<std::net::Ipv6Addr>()
        .ok()
        .map(|ip| canonical(IpAddr::V6(ip)))
}

/// What an operator configures.
#[derive(Debug, Clone)]
pub struct RateLimitSettings {
    /// Verification and one-stop queries per client per minute; 0 turns the limit off.
    pub lookups_per_minute: u32,
    /// How many lookups a client may make at once before the rate applies.
    pub lookup_burst: u32,
    /// Other public pages per client per minute; 0 turns the limit off.
    pub pages_per_minute: u32,
    pub page_burst: u32,
    /// Clients never limited.
    pub exempt: Vec<IpRange>,
    /// SHA-256 of bearer tokens whose holders are never limited.
    pub exempt_token_sha256: Vec<[u8; 32]>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpRange>,
}

impl Default for RateLimitSettings {
    fn default() -> Self {
        RateLimitSettings {
            lookups_per_minute: 60,
            lookup_burst: 20,
            pages_per_minute: 600,
            page_burst: 100,
            exempt: Vec::new(),
            exempt_token_sha256: Vec::new(),
            trusted_proxies: Vec::new(),
        }
    }
}

impl RateLimitSettings {
    /// One line for logs and the benchmark: the limits in force (no tokens, only their count).
    pub fn describe(&self) -> String {
        let tier = |per_min: u32, burst: u32| {
            if per_min == 0 {
                "off".to_string()
            } else {
                format!("{per_min}/min per client, burst {burst}")
            }
        };
        format!(
            "lookups {}; pages {}; {} exempt address range(s), {} exempt token(s), {} trusted prox(ies)",
            tier(self.lookups_per_minute, self.lookup_burst),
            tier(self.pages_per_minute, self.page_burst),
            self.exempt.len(),
            self.exempt_token_sha256.len(),
            self.trusted_proxies.len()
        )
    }
}

/// Parses a SHA-256 given as 64 hexadecimal characters.
pub fn parse_sha256_hex(s: &str) -> Result<[u8; 32], String> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s.trim(), &mut out).map_err(|_| {
        "a token hash is the SHA-256 of the token, 64 hexadecimal characters".to_string()
    })?;
    Ok(out)
}

/// The SHA-256 of a token, in hex: what an operator puts in the configuration.
pub fn token_sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Which limit a route is under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Lookups,
    Pages,
    /// The write API: a request with a bearer token is answered for by its token (which can be
    /// revoked) and not limited per address; one without is limited as a lookup.
    Writes,
}

/// The bearer token of a request, as sent: the `Authorization` header after `Bearer `.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    Some(
        v.strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))?
            .trim(),
    )
}

/// The key of a well-formed bearer token: the first eight bytes of its SHA-256, never the token
/// itself.
fn bearer_key(headers: &HeaderMap) -> Option<u64> {
    let token = hutong_core::token::Token::parse(bearer(headers)?).ok()?;
    Some(u64::from_be_bytes(token.hash()[..8].try_into().ok()?))
}

/// The limiters of a running service.
pub struct RateLimits {
    settings: RateLimitSettings,
    lookups: Option<DefaultKeyedRateLimiter<IpAddr>>,
    pages: Option<DefaultKeyedRateLimiter<IpAddr>>,
    /// Writes with a bearer token, by the token: generous, since each is accountable, but
    /// bounded, so that one token cannot flood the journal (with refusals, say).
    writes: DefaultKeyedRateLimiter<u64>,
}

/// Writes per minute, and their burst, allowed to one bearer token.
pub const WRITES_PER_MINUTE: u32 = 6_000;
pub const WRITE_BURST: u32 = 2_000;

fn limiter(per_minute: u32, burst: u32) -> Option<DefaultKeyedRateLimiter<IpAddr>> {
    let per_minute = NonZeroU32::new(per_minute)?;
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Some(RateLimiter::keyed(
        Quota::per_minute(per_minute).allow_burst(burst),
    ))
}

impl RateLimits {
    pub fn new(settings: RateLimitSettings) -> RateLimits {
        RateLimits {
            lookups: limiter(settings.lookups_per_minute, settings.lookup_burst),
            pages: limiter(settings.pages_per_minute, settings.page_burst),
            writes: RateLimiter::keyed(
                Quota::per_minute(NonZeroU32::new(WRITES_PER_MINUTE).unwrap_or(NonZeroU32::MIN))
                    .allow_burst(NonZeroU32::new(WRITE_BURST).unwrap_or(NonZeroU32::MIN)),
            ),
            settings,
        }
    }

    pub fn settings(&self) -> &RateLimitSettings {
        &self.settings
    }

    /// The client a request comes from.
    fn client(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> IpAddr {
        let peer = peer.map(canonical).unwrap_or(IpAddr::from([0, 0, 0, 0]));
        let trusted = |ip: IpAddr| self.settings.trusted_proxies.iter().any(|r| r.contains(ip));
        if !trusted(peer) {
            return peer;
        }
        // Each proxy appends the address it received the request from, so the list is read from
        // the right, past the trusted proxies. An entry that cannot be read stops the walk: the
        // entries left of it came through a hop that cannot be identified, so they are not
        // believed, and the last hop that was believed stands for the client.
        let entries = headers
            .get_all("x-forwarded-for")
            .iter()
            .flat_map(|v| v.as_bytes().split(|b| *b == b','))
            .collect::<Vec<_>>();
        let mut client = peer;
        for entry in entries.into_iter().rev() {
            let Some(ip) = std::str::from_utf8(entry).ok().and_then(forwarded_ip) else {
                break;
            };
            client = ip;
            if !trusted(ip) {
                break;
            }
        }
        client
    }

    fn exempt_by_token(&self, headers: &HeaderMap) -> bool {
        if self.settings.exempt_token_sha256.is_empty() {
            return false;
        }
        let Some(token) = bearer(headers) else {
            return false;
        };
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.settings.exempt_token_sha256.contains(&digest)
    }

    /// `Ok` when the request may go on, or how long the client must wait.
    pub fn check(
        &self,
        tier: Tier,
        peer: Option<IpAddr>,
        headers: &HeaderMap,
    ) -> Result<(), Duration> {
        let limiter = match tier {
            Tier::Lookups => &self.lookups,
            Tier::Pages => &self.pages,
            Tier::Writes => {
                // A well-formed bearer token is limited by the token; anything else (no token,
                // a malformed one) by the client's address, as a lookup.
                if let Some(key) = bearer_key(headers) {
                    if self.exempt_by_token(headers) {
                        return Ok(());
                    }
                    return self
                        .writes
                        .check_key(&key)
                        .map_err(|n| n.wait_time_from(DefaultClock::default().now()));
                }
                &self.lookups
            }
        };
        let Some(limiter) = limiter else {
            return Ok(());
        };
        if self.exempt_by_token(headers) {
            return Ok(());
        }
        let client = self.client(peer, headers);
        if self.settings.exempt.iter().any(|r| r.contains(client)) {
            return Ok(());
        }
        limiter
            .check_key(&client)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets clients whose allowance is full again, so that memory stays bounded.
    pub fn forget_idle_clients(&self) {
        self.writes.retain_recent();
        self.writes.shrink_to_fit();
        for l in [&self.lookups, &self.pages].into_iter().flatten() {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }
}

/// The middleware: refuses a request over its client's limit with `429` and `Retry-After`.
pub async fn limit(
    State((state, tier)): State<(AppState, Tier)>,
    req: Request,
    next: Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    match state.rate_limits.check(tier, peer, req.headers()) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            state
                .metrics
                .rate_limited
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            if !req.uri().path().starts_with("/api/") {
                return too_many_page(&state, &req, secs.max(1));
            }
            let mut resp = ApiError {
                status: StatusCode::TOO_MANY_REQUESTS,
                kind: "rate-limited",
                title: "Too many requests",
                detail: format!(
                    "this client has made too many requests; try again in {} s",
                    secs.max(1)
                ),
            }
            .into_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
            resp
        }
    }
}

/// A page refused by the limit: an HTML page in the page's language saying how long to
/// wait, as a 429 with `Retry-After`.
fn too_many_page(state: &AppState, req: &Request, secs: u64) -> Response {
    use crate::pages::{Lang, layout};
    let en = req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .any(|kv| kv == "lang=en");
    let lang = if en { Lang::En } else { Lang::Zh };
    let title = lang.t("查询过于频繁", "Too many requests");
    let body = maud::html! {
        h1 { (title) }
        div.status.notfound #status data-status="rate-limited" {
            p.big { (lang.t("请稍候再试", "Please wait a moment")) }
            p #wait data-seconds=(secs) {
                (lang.t("本机的查询次数已超过限额，请在 ", "This device has made too many requests. Try again in "))
                strong { (secs) (lang.t(" 秒", if secs == 1 { " second" } else { " seconds" })) }
                (lang.t(" 后再试。", "."))
            }
        }
        p.muted { (lang.t(
            "为防止批量探查证书信息，每台设备每分钟的查询次数有限。",
            "To keep the registry from being probed in bulk, each device may make only so many requests a minute."
        )) }
        p { a href=(lang.link("/verify")) { (lang.t("返回证书查询", "Back to the query page")) } }
    };
    let page = layout(lang, req.uri().path(), title, state.settings.demo, body);
    let mut resp = (StatusCode::TOO_MANY_REQUESTS, page).into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    crate::handlers::mark_private(&mut resp);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        let r: IpRange = "10.0.0.0/8".parse().unwrap();
        assert!(r.contains("10.200.1.2".parse().unwrap()));
        assert!(!r.contains("11.0.0.1".parse().unwrap()));
        assert!(r.contains("::ffff:10.0.0.1".parse().unwrap()));
        let one: IpRange = "127.0.0.1".parse().unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let all: IpRange = "::/0".parse().unwrap();
        assert!(all.contains("2001:db8::1".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<IpRange>().is_err());
        assert!("ten".parse::<IpRange>().is_err());
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn limits_apply_per_client_with_exemptions() {
        let token = "employer-integration-secret";
        let limits = RateLimits::new(RateLimitSettings {
            lookups_per_minute: 1,
            lookup_burst: 2,
            exempt: vec!["192.0.2.0/24".parse().unwrap()],
            exempt_token_sha256: vec![parse_sha256_hex(&token_sha256_hex(token)).unwrap()],
            trusted_proxies: vec!["10.0.0.1".parse().unwrap()],
            ..RateLimitSettings::default()
        });
        let a = Some("198.51.100.7".parse().unwrap());
        let none = HeaderMap::new();
        assert!(limits.check(Tier::Lookups, a, &none).is_ok());
        assert!(limits.check(Tier::Lookups, a, &none).is_ok());
        let wait = limits.check(Tier::Lookups, a, &none).unwrap_err();
        assert!(wait > Duration::from_secs(50), "{wait:?}");
        // Another client has its own allowance; pages are another tier.
        let b = Some("198.51.100.8".parse().unwrap());
        assert!(limits.check(Tier::Lookups, b, &none).is_ok());
        assert!(limits.check(Tier::Pages, a, &none).is_ok());
        // Exempt by range, and by token.
        let c = Some("192.0.2.9".parse().unwrap());
        for _ in 0..10 {
            assert!(limits.check(Tier::Lookups, c, &none).is_ok());
        }
        let bearer = headers(&[("authorization", &format!("Bearer {token}"))]);
        for _ in 0..10 {
            assert!(limits.check(Tier::Lookups, a, &bearer).is_ok());
        }
        let wrong = headers(&[("authorization", "Bearer guess")]);
        assert!(limits.check(Tier::Lookups, a, &wrong).is_err());
        // Behind the trusted proxy, the forwarded client is limited, not the proxy.
        let proxy = Some("10.0.0.1".parse().unwrap());
        let fwd = headers(&[("x-forwarded-for", "203.0.113.5, 10.0.0.1")]);
        assert!(limits.check(Tier::Lookups, proxy, &fwd).is_ok());
        assert!(limits.check(Tier::Lookups, proxy, &fwd).is_ok());
        assert!(limits.check(Tier::Lookups, proxy, &fwd).is_err());
        let other = headers(&[("x-forwarded-for", "203.0.113.6")]);
        assert!(limits.check(Tier::Lookups, proxy, &other).is_ok());
        // An untrusted peer cannot choose its address by header.
        let spoof = headers(&[("x-forwarded-for", "203.0.113.77")]);
        assert!(limits.check(Tier::Lookups, a, &spoof).is_err());
    }

    #[test]
    fn zero_turns_a_tier_off() {
        let limits = RateLimits::new(RateLimitSettings {
            lookups_per_minute: 0,
            ..RateLimitSettings::default()
        });
        for _ in 0..100 {
            assert!(limits.check(Tier::Lookups, None, &HeaderMap::new()).is_ok());
        }
        assert!(
            limits
                .settings()
                .describe()
                .starts_with("lookups off; pages 600/min")
        );
    }
}
