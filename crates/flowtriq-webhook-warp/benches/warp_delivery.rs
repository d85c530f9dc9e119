//! A 1 KiB delivery through warp with our filters, beside the same route that reads the body
//! and parses the same typed event without verifying it (what a receiver does without us), and
//! the route that verifies by hand with the core's `Verifier` (what the filters add beyond that).
//!
//! Requests go through `warp::test::request().reply(..)`: the filter chain and the response
//! body, no socket. `RequestBuilder::body` copies the body into the request, for both routes
//! alike.

// A benchmark fails by panicking on a broken setup: unwrap and expect say where.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use flowtriq_webhook::{Event, Secret, VerifiedEvent, Verifier, sign};
use serde_json::{Value, json};
use warp::{Filter, Reply};

const SECRET: &str = "bench-secret";

fn summary(event: &Event) -> warp::reply::Json {
    warp::reply::json(
        &json!({ "event_type": event.event_type.as_str(), "incident_id": event.incident_id() }),
    )
}

/// The vendor's sample event, padded to 1 KiB with an unknown field (the same body as the
/// axum benchmark's).
fn body_1k() -> Bytes {
    let mut event: Value = json!({
        "event_type": "attack_start",
        "timestamp": "2025-03-10T14:22:00Z",
        "incident": {
            "id": 147, "uuid": "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70",
            "title": "UDP Flood on web-prod-1", "attack_family": "udp_flood",
            "severity": "critical", "peak_pps": 2_450_000, "peak_bps": 1_547_000_000u64,
            "source_ip_count": 8429, "started_at": "2025-03-10T14:22:00Z",
            "ai_summary": "A large 1.4 Gbps UDP flood from 8,429 source IPs...",
            "dashboard_url": "https://flowtriq.com/dashboard/incident?id=147"
        },
        "node": { "id": 1, "name": "web-prod-1", "ip_address": "203.0.113.10" },
        "pad": ""
    });
    let len = event.to_string().len();
    event["pad"] = json!("x".repeat(1024 - len));
    let body = event.to_string();
    assert_eq!(body.len(), 1024);
    Bytes::from(body)
}

fn delivery(c: &mut Criterion) {
    let body = body_1k();
    let signature = sign(&Secret::new(SECRET), &body);
    let route = || {
        warp::path("webhook")
            .and(warp::path::end())
            .and(warp::post())
    };

    let unverified = route()
        .and(warp::body::bytes())
        .map(|raw: Bytes| {
            let event: Event = serde_json::from_slice(&raw).unwrap();
            summary(&event).into_response()
        })
        .boxed();
    // Verified by hand with the core's `Verifier`: what the filters add beyond that.
    let verifier = Verifier::new(SECRET);
    let by_hand = route()
        .and(warp::header::optional::<String>("x-flowtriq-signature"))
        .and(warp::body::bytes())
        .map(move |signature: Option<String>, raw: Bytes| {
            match verifier.verify(signature.as_deref().map(str::as_bytes), raw) {
                Ok(event) => summary(&event).into_response(),
                Err(error) => warp::reply::with_status(
                    error.response_body(),
                    warp::http::StatusCode::from_u16(error.status()).unwrap(),
                )
                .into_response(),
            }
        })
        .boxed();
    // The README's form: the `event` filter, then `recover` for the rejections.
    let verified_event = route()
        .and(flowtriq_webhook_warp::event(Verifier::new(SECRET)))
        .map(|event: VerifiedEvent| summary(&event).into_response())
        .recover(flowtriq_webhook_warp::recover)
        .unify()
        .boxed();
    // The example receiver's form: `handle` answers everything itself.
    let verified_handle = route()
        .and(flowtriq_webhook_warp::handle(
            Verifier::new(SECRET),
            |event: VerifiedEvent| async move { summary(&event) },
        ))
        .boxed();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("warp_1KiB_delivery");
    for (name, filter) in [
        ("unverified_baseline", unverified),
        ("verified_by_hand", by_hand),
        ("verified_event_filter", verified_event),
        ("verified_handle", verified_handle),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let response = warp::test::request()
                    .method("POST")
                    .path("/webhook")
                    .header("content-type", "application/json")
                    .header("x-flowtriq-signature", signature.as_str())
                    .body(&body)
                    .reply(&filter)
                    .await;
                assert!(response.status().is_success());
                response
            });
        });
    }
    group.finish();
}

criterion_group!(benches, delivery);
criterion_main!(benches);
