//! A 1 KiB delivery through actix-web with the middleware, beside the same route that reads the
//! body and parses the same typed event without verifying it (what a receiver does without us),
//! and the route that verifies by hand with the core's `Verifier` (what the middleware adds
//! beyond that).
//!
//! Both apps are built with `actix_web::test::init_service` and called with `call_service` on
//! one actix `System`, so the figures are the framework's dispatch plus the route, no socket.

// A benchmark fails by panicking on a broken setup: unwrap and expect say where.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::{hint::black_box, time::Instant};

use actix_web::{
    App, HttpRequest, HttpResponse,
    dev::{Service, ServiceResponse},
    http::StatusCode,
    rt::{System, SystemRunner},
    test::{self, TestRequest},
    web::{self, Bytes},
};
use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use flowtriq_webhook::{Event, Secret, Verifier, sign};
use flowtriq_webhook_actix::{FlowtriqEvent, VerifyWebhook};
use serde_json::json;

const SECRET: &str = "bench-secret";

fn summary(event: &Event) -> HttpResponse {
    HttpResponse::Ok().json(
        json!({ "event_type": event.event_type.as_str(), "incident_id": event.incident_id() }),
    )
}

/// The vendor's sample event, padded to 1 KiB with an unknown field (the same body as the
/// axum benchmark's).
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

async fn verified(FlowtriqEvent(event): FlowtriqEvent) -> HttpResponse {
    summary(&event)
}

async fn unverified(raw: Bytes) -> HttpResponse {
    let event: Event = serde_json::from_slice(&raw).unwrap();
    summary(&event)
}

async fn by_hand(request: HttpRequest, raw: Bytes, verifier: web::Data<Verifier>) -> HttpResponse {
    let signature = request.headers().get("x-flowtriq-signature");
    match verifier.verify(signature.map(|v| v.as_bytes()), raw) {
        Ok(event) => summary(&event),
        Err(error) => HttpResponse::build(StatusCode::from_u16(error.status()).unwrap())
            .content_type("application/json")
            .body(error.response_body()),
    }
}

/// Benchmarks one app: each iteration builds the request, calls the app and checks the status.
fn bench_app<S, R, B>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    runner: &SystemRunner,
    app: &S,
    request: impl Fn() -> R,
) where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
{
    group.bench_function(name, |b| {
        b.iter_custom(|iters| {
            runner.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let response = test::call_service(app, request()).await;
                    assert!(response.status().is_success());
                    black_box(response);
                }
                start.elapsed()
            })
        });
    });
}

fn delivery(c: &mut Criterion) {
    let body = body_1k();
    let signature = sign(&Secret::new(SECRET), &body);
    let request = || {
        TestRequest::post()
            .uri("/webhook")
            .insert_header(("content-type", "application/json"))
            .insert_header(("x-flowtriq-signature", signature.as_str()))
            .set_payload(body.clone())
            .to_request()
    };
    let runner = System::new();
    let unverified_app = runner.block_on(test::init_service(
        App::new().route("/webhook", web::post().to(unverified)),
    ));
    let by_hand_app = runner.block_on(test::init_service(
        App::new()
            .app_data(web::Data::new(Verifier::new(SECRET)))
            .route("/webhook", web::post().to(by_hand)),
    ));
    let verified_app = runner.block_on(test::init_service(
        App::new().service(
            web::scope("/webhook")
                .wrap(VerifyWebhook::new(SECRET))
                .route("", web::post().to(verified)),
        ),
    ));

    let mut group = c.benchmark_group("actix_1KiB_delivery");
    bench_app(
        &mut group,
        "unverified_baseline",
        &runner,
        &unverified_app,
        request,
    );
    bench_app(
        &mut group,
        "verified_by_hand",
        &runner,
        &by_hand_app,
        request,
    );
    bench_app(
        &mut group,
        "verified_middleware",
        &runner,
        &verified_app,
        request,
    );
    group.finish();
}

criterion_group!(benches, delivery);
criterion_main!(benches);
