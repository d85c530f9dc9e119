//! Start a verifying receiver, deliver a few events to it the way Flowtriq does, and show what
//! each delivery got back. Needs nothing: the secret is generated and the port is ephemeral.
//!
//! ```sh
//! cargo run --example quickstart
//! ```
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::{
    collections::hash_map::RandomState,
    hash::{BuildHasher, Hasher},
    net::SocketAddr,
    process::ExitCode,
};

use axum::{Json, Router, routing::post};
use flowtriq_webhook::{DEFAULT_BODY_LIMIT, SIGNATURE_HEADER, Secret, sign};
use flowtriq_webhook_examples::{echo, exchange};
use flowtriq_webhook_tower::{FlowtriqEvent, VerifyWebhookLayer};
use serde_json::{Value, json};

/// The receiver: one route, guarded by the layer.
fn receiver(secret: Secret) -> Router {
    Router::new()
        .route(
            "/webhook",
            post(|FlowtriqEvent(event): FlowtriqEvent| async move { Json(echo(&event)) }),
        )
        .route_layer(VerifyWebhookLayer::new(secret))
}

/// A fresh 256-bit secret, hex-encoded (std's `RandomState` is seeded from the OS).
fn generated_secret() -> Secret {
    let hex: String = (0..4)
        .map(|_| format!("{:016x}", RandomState::new().build_hasher().finish()))
        .collect();
    Secret::new(hex)
}

fn event(event_type: &str) -> Vec<u8> {
    let body = json!({
        "event_type": event_type,
        "timestamp": "2025-03-10T14:22:00Z",
        "incident": {
            "id": 147,
            "title": "UDP Flood on web-prod-1",
            "attack_family": "udp_flood",
            "severity": "critical",
            "peak_pps": 2_450_000,
            "peak_bps": 1_547_000_000u64,
        },
        "node": { "id": 1, "name": "web-prod-1", "ip_address": "203.0.113.10" }
    });
    body.to_string().into_bytes()
}

/// One delivery: what it is, its signature header, its body, and the status it must get.
struct Delivery {
    label: &'static str,
    signature: String,
    body: Vec<u8>,
    expected: u16,
}

fn deliveries(secret: &Secret) -> Vec<Delivery> {
    let signed = |label, body: Vec<u8>, expected| Delivery {
        label,
        signature: sign(secret, &body),
        body,
        expected,
    };
    let mut list: Vec<Delivery> = ["attack_start", "attack_update", "attack_end", "test"]
        .into_iter()
        .map(|event_type| signed(event_type, event(event_type), 200))
        .collect();

    let forger = Secret::new("a-guess");
    list.push(Delivery {
        label: "forged",
        signature: sign(&forger, &event("attack_start")),
        body: event("attack_start"),
        expected: 401,
    });
    let mut tampered = signed("tampered", event("attack_end"), 401);
    tampered.body = event("attack_start");
    list.push(tampered);

    // One byte over the default 1 MiB limit.
    let mut oversized = br#"{"event_type":"test","pad":""#.to_vec();
    oversized.resize(DEFAULT_BODY_LIMIT - 1, b'x');
    oversized.extend_from_slice(br#""}"#);
    list.push(signed("oversized", oversized, 413));
    list
}

#[tokio::main]
async fn main() -> ExitCode {
    let secret = generated_secret();
    let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("quickstart: cannot listen on loopback: {error}");
            return ExitCode::FAILURE;
        }
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(error) => {
            eprintln!("quickstart: {error}");
            return ExitCode::FAILURE;
        }
    };
    let server = tokio::spawn(axum::serve(listener, receiver(secret.clone())).into_future());
    println!("receiver listening at http://{addr}/webhook\n");

    let mut all_as_expected = true;
    for delivery in deliveries(&secret) {
        let (status, answer) = match deliver(addr, &delivery).await {
            Ok((status, text)) => {
                let answer = serde_json::from_str::<Value>(&text).map_or(text, |v| v.to_string());
                (status, answer)
            }
            Err(error) => (0, error),
        };
        let verdict = if status == delivery.expected {
            "ok"
        } else {
            "UNEXPECTED"
        };
        all_as_expected &= status == delivery.expected;
        println!(
            "{:<14} {:>8} bytes -> {status} {answer}  [{verdict}]",
            delivery.label,
            delivery.body.len(),
        );
    }
    server.abort();

    if all_as_expected {
        println!("\nevery delivery got the answer it should");
        ExitCode::SUCCESS
    } else {
        println!("\nsome deliveries got an unexpected answer");
        ExitCode::FAILURE
    }
}

/// POSTs `delivery` to `/webhook` as Flowtriq does (HTTP/1.1, `Content-Length`) and returns the
/// answer's status and body. It reads while it writes ([`exchange`]), so the oversized delivery
/// gets its 413 rather than, now and then, a reset connection.
async fn deliver(addr: SocketAddr, delivery: &Delivery) -> Result<(u16, String), String> {
    let head = format!(
        "POST /webhook HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\
         content-type: application/json\r\n{SIGNATURE_HEADER}: {}\r\ncontent-length: {}\r\n\r\n",
        delivery.signature,
        delivery.body.len()
    );
    let request = [head.as_bytes(), &delivery.body].concat();
    // `connection: close`: the answer ends where the connection does.
    let (raw, read_error) = exchange(addr, request, |_| false)
        .await
        .map_err(|e| e.to_string())?;

    let text = String::from_utf8_lossy(&raw);
    let parsed = text.split_once("\r\n\r\n").and_then(|(head, body)| {
        let status = head.split(' ').nth(1)?.parse().ok()?;
        Some((status, body.to_owned()))
    });
    parsed.ok_or_else(|| match read_error {
        Some(error) => format!("no answer: {error}"),
        None => format!("no answer: {} bytes of something else", raw.len()),
    })
}
