//! `GET /metrics` in Prometheus text: requests by operation and code, vendor latency.

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    operation: &'static str,
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UpstreamLabels {
    vendor: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookLabels {
    vendor: &'static str,
    outcome: &'static str,
}

struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    upstream: Family<UpstreamLabels, Histogram>,
    webhooks: Family<WebhookLabels, Counter>,
}

fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| {
        let mut registry = Registry::with_prefix("hail_relay");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Operation requests by outcome code (ok on success)",
            requests.clone(),
        );
        let upstream = Family::<UpstreamLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 12))
        });
        registry.register(
            "upstream_seconds",
            "Vendor call latency by vendor and status",
            upstream.clone(),
        );
        let webhooks = Family::<WebhookLabels, Counter>::default();
        registry.register(
            "webhooks",
            "Vendor webhook deliveries by outcome (streamed, unbound, hidden, echo, duplicate, refused)",
            webhooks.clone(),
        );
        Metrics {
            registry,
            requests,
            upstream,
            webhooks,
        }
    })
}

/// Counts one operation request ending with `code` (`"ok"` on success).
pub fn request(operation: &'static str, code: &'static str) {
    metrics()
        .requests
        .get_or_create(&RequestLabels { operation, code })
        .inc();
}

/// Records one vendor call.
pub fn upstream(vendor: &'static str, status: u16, took: Duration) {
    metrics()
        .upstream
        .get_or_create(&UpstreamLabels { vendor, status })
        .observe(took.as_secs_f64());
}

/// Counts one webhook delivery of `vendor` ending as `outcome`.
pub fn webhook(vendor: &'static str, outcome: &'static str) {
    metrics()
        .webhooks
        .get_or_create(&WebhookLabels { vendor, outcome })
        .inc();
}

/// The Prometheus text exposition.
pub fn render() -> String {
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, &metrics().registry).is_err() {
        out.clear();
    }
    out
}
