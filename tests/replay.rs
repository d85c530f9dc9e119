//! Replays against a de-duplicating example receiver with a replay window
//! (`FLOWTRIQ_REPLAY_WINDOW_SECS`, `FLOWTRIQ_DEDUP=memory`): a captured delivery replayed
//! inside the window is answered as a duplicate and not handled twice; once the window has
//! passed, or when its timestamp was outside the window from the start, it gets 401.
//!
//! Each example receiver runs it; a new one joins the `receivers!` list at the bottom.

// Tests fail by panicking, and index into JSON they built themselves.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod support;

use std::time::Duration;

use flowtriq_webhook::{Secret, sign};
use serde_json::{Value, json};
use support::{WireRequest, WireResponse, receiver::Receiver, tcp};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// The receiver's replay window, in seconds.
const WINDOW_SECS: u64 = 2;

/// A signed `attack_start` with its own incident id and this `timestamp` (`None`: no field).
fn delivery(incident_id: u64, timestamp: Option<OffsetDateTime>) -> WireRequest {
    let mut body: Value = serde_json::from_slice(&support::vendor_sample("attack_start")).unwrap();
    body["incident"]["id"] = json!(incident_id);
    match timestamp {
        Some(at) => {
            let at = at.replace_nanosecond(0).unwrap().format(&Rfc3339).unwrap();
            body["timestamp"] = json!(at);
        }
        None => {
            body.as_object_mut().unwrap().remove("timestamp");
        }
    }
    let body = body.to_string().into_bytes();
    WireRequest {
        signature: Some(sign(&Secret::new(support::SECRET), &body)),
        body,
        chunked: false,
    }
}

fn json_body(response: &WireResponse) -> Value {
    serde_json::from_slice(&response.body).unwrap_or(Value::Null)
}

fn echo(incident_id: u64) -> Value {
    json!({ "event_type": "attack_start", "incident_id": incident_id, "node": "web-prod-1" })
}

fn rejected(code: &str) -> Value {
    json!({ "error": code })
}

async fn replays_are_duplicates_then_refused(name: &str) {
    let window = WINDOW_SECS.to_string();
    let receiver = Receiver::start(
        name,
        &[
            ("FLOWTRIQ_REPLAY_WINDOW_SECS", &window),
            ("FLOWTRIQ_DEDUP", "memory"),
        ],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let send = |request: WireRequest| async move {
        let response = tcp::send(receiver.addr, request)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        (response.status, json_body(&response))
    };

    // A delivery stamped now is handled; replayed inside the window, it is a duplicate.
    let now = OffsetDateTime::now_utc();
    let captured = delivery(1, Some(now));
    assert_eq!(
        send(captured.clone()).await,
        (200, echo(1)),
        "{name}: first delivery"
    );
    assert_eq!(
        send(captured.clone()).await,
        (200, json!({ "duplicate": true })),
        "{name}: replayed inside the window"
    );

    // Timestamps outside the window, either way, and no timestamp at all: 401.
    let hour = time::Duration::hours(1);
    for (label, request) in [
        ("an hour old", delivery(2, Some(now - hour))),
        ("an hour ahead", delivery(3, Some(now + hour))),
    ] {
        assert_eq!(
            send(request).await,
            (401, rejected("timestamp_outside_window")),
            "{name}: timestamp {label}"
        );
    }
    assert_eq!(
        send(delivery(4, None)).await,
        (401, rejected("missing_timestamp")),
        "{name}: no timestamp"
    );

    // Once the window has passed, the captured delivery is refused, not handled again.
    let passed = Duration::from_secs(WINDOW_SECS) + Duration::from_millis(1500);
    let waited = OffsetDateTime::now_utc() - now;
    tokio::time::sleep(passed.saturating_sub(waited.try_into().unwrap_or_default())).await;
    assert_eq!(
        send(captured).await,
        (401, rejected("timestamp_outside_window")),
        "{name}: replayed after the window"
    );
}

/// One module per de-duplicating example receiver.
macro_rules! receivers {
    ($($receiver:ident),* $(,)?) => {$(
        mod $receiver {
            #[tokio::test]
            async fn replays_are_duplicates_then_refused() {
                super::replays_are_duplicates_then_refused(stringify!($receiver)).await;
            }
        }
    )*};
}

receivers!(axum_receiver, actix_receiver, warp_receiver);
