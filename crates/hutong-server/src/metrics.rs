//! Request metrics in the Prometheus text format, labelled by route template (never the raw
//! URI, which may carry personal data) and status class.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Default)]
struct Route {
    by_class: [AtomicU64; 5],
    /// Requests per bucket alone (not cumulative): one atomic add per request instead of one
    /// per bucket; the exposition sums them.
    buckets: [AtomicU64; BUCKETS.len()],
    sum_micros: AtomicU64,
    count: AtomicU64,
}

#[derive(Default)]
pub struct Metrics {
    routes: RwLock<HashMap<String, Arc<Route>>>,
    pub rate_limited: AtomicU64,
}

impl Metrics {
    pub fn record(&self, route: &str, status: u16, elapsed: Duration) {
        let existing = self
            .routes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(route)
            .cloned();
        let r = match existing {
            Some(r) => r,
            None => self
                .routes
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .entry(route.to_string())
                .or_default()
                .clone(),
        };
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        r.by_class[class].fetch_add(1, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            r.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        r.sum_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
        r.count.fetch_add(1, Ordering::Relaxed);
    }

    /// The Prometheus exposition text.
    pub fn render(&self, uptime: Duration, certificates: Option<u64>) -> String {
        let mut out = String::new();
        let routes = self.routes.read().unwrap_or_else(|p| p.into_inner());
        let mut names: Vec<&String> = routes.keys().collect();
        names.sort();
        out.push_str(
            "# HELP hutong_http_requests_total HTTP requests by route template and status class.\n",
        );
        out.push_str("# TYPE hutong_http_requests_total counter\n");
        for name in &names {
            let r = &routes[*name];
            for (i, c) in r.by_class.iter().enumerate() {
                let n = c.load(Ordering::Relaxed);
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "hutong_http_requests_total{{route=\"{name}\",status=\"{}xx\"}} {n}",
                        i + 1
                    );
                }
            }
        }
        out.push_str(
            "# HELP hutong_http_request_duration_seconds Time to answer, by route template.\n",
        );
        out.push_str("# TYPE hutong_http_request_duration_seconds histogram\n");
        for name in &names {
            let r = &routes[*name];
            let mut cumulative = 0;
            for (i, b) in BUCKETS.iter().enumerate() {
                cumulative += r.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "hutong_http_request_duration_seconds_bucket{{route=\"{name}\",le=\"{b}\"}} {cumulative}"
                );
            }
            let count = r.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "hutong_http_request_duration_seconds_bucket{{route=\"{name}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "hutong_http_request_duration_seconds_sum{{route=\"{name}\"}} {}",
                r.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "hutong_http_request_duration_seconds_count{{route=\"{name}\"}} {count}"
            );
        }
        out.push_str(
            "# HELP hutong_rate_limited_total Requests refused by the per-client rate limit.\n",
        );
        out.push_str("# TYPE hutong_rate_limited_total counter\n");
        let _ = writeln!(
            out,
            "hutong_rate_limited_total {}",
            self.rate_limited.load(Ordering::Relaxed)
        );
        out.push_str("# HELP hutong_uptime_seconds Seconds since the server started.\n# TYPE hutong_uptime_seconds gauge\n");
        let _ = writeln!(out, "hutong_uptime_seconds {}", uptime.as_secs());
        if let Some(n) = certificates {
            out.push_str("# HELP hutong_registry_certificates Certificates in the registry (refreshed periodically).\n");
            out.push_str("# TYPE hutong_registry_certificates gauge\n");
            let _ = writeln!(out, "hutong_registry_certificates {n}");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.record("/x", 200, Duration::from_micros(300));
        m.record("/x", 200, Duration::from_millis(3));
        m.record("/x", 500, Duration::from_secs(9));
        let text = m.render(Duration::from_secs(1), None);
        for line in [
            "hutong_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.0005\"} 1",
            "hutong_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.002\"} 1",
            "hutong_http_request_duration_seconds_bucket{route=\"/x\",le=\"0.005\"} 2",
            "hutong_http_request_duration_seconds_bucket{route=\"/x\",le=\"5\"} 2",
            "hutong_http_request_duration_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3",
            "hutong_http_requests_total{route=\"/x\",status=\"5xx\"} 1",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
    }
}
