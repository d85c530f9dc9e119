//! A 1 KiB delivery through axum with the layer, beside the same route that reads the body and
//! parses the same typed event without verifying it (what a receiver does without us), and the
//! route that verifies by hand with the core's `Verifier` (what the layer adds beyond that).

#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use axum::{
    Json, Router,
    body::{Body, Bytes},
    http::{HeaderMap, Request, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
};
use criterion::{Criterion, criterion_group, criterion_main};
use flowtriq_webhook::{Event, Secret, Verifier, sign};
use flowtriq_webhook_tower::{FlowtriqEvent, VerifyWebhookLayer};
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "bench-secret";

fn summary(event: &Event) -> Json<Value> {
    Json(json!({ "event_type": event.event_type.as_str(), "incident_id": event.incident_id() }))
}

/// The vendor's sample event, padded to 1 KiB with an unknown field.
fn body_1k() -> Bytes {
    let mut event = json!({
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

fn request(body: &Bytes, signature: &str) -> Request<Body> {
    Request::post("/webhook")
        .header("content-type", "application/json")
        .header("content-length", body.len())
        .header("x-flowtriq-signature", signature)
        .body(Body::from(body.clone()))
        .unwrap()
}

fn delivery(c: &mut Criterion) {
    let body = body_1k();
    let signature = sign(&Secret::new(SECRET), &body);
    let verified = Router::new()
        .route(
            "/webhook",
            post(|FlowtriqEvent(event): FlowtriqEvent| async move { summary(&event) }),
        )
        .route_layer(VerifyWebhookLayer::new(SECRET));
    let unverified = Router::new().route(
        "/webhook",
        post(|raw: Bytes| async move {
            let event: Event = serde_json::from_slice(&raw).unwrap();
            summary(&event)
        }),
    );
    let verifier = Verifier::new(SECRET);
    let by_hand = Router::new().route(
        "/webhook",
        post(move |headers: HeaderMap, raw: Bytes| async move {
            let signature = headers.get("x-flowtriq-signature").map(|v| v.as_bytes());
            match verifier.verify(signature, raw) {
                Ok(event) => summary(&event).into_response(),
                Err(error) => Response::builder()
                    .status(StatusCode::from_u16(error.status()).unwrap())
                    .body(Body::from(error.response_body()))
                    .unwrap(),
            }
        }),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    let mut group = c.benchmark_group("axum_1KiB_delivery");
    for (name, app) in [
        ("unverified_baseline", unverified),
        ("verified_by_hand", by_hand),
        ("verified_layer", verified),
    ] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let response = app
                    .clone()
                    .oneshot(request(&body, &signature))
                    .await
                    .unwrap();
                assert!(response.status().is_success());
                response
            });
        });
    }
    group.finish();
}

criterion_group!(benches, delivery);
criterion_main!(benches);
