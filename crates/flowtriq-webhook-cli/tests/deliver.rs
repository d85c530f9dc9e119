//! `send` and `simulate` against a local recording server: headers, signature, retry schedule,
//! timeout, and one incident's lifecycle.
//!
//! Timings are wall-clock measurements on a shared machine, so they are only compared loosely.

// A failing `unwrap`/`expect` is how these tests report a broken setup, and they index into
// lists whose length they have just asserted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::{process::Output, time::Duration};

use common::{Recorded, TestServer, bin, expected_header, text};
use serde_json::Value;

const SECRET: &str = "s3cret-ключ";

fn run(args: &[&str]) -> Output {
    bin()
        .args(["--secret", SECRET])
        .args(args)
        .output()
        .unwrap()
}

fn attempt_lines(output: &Output) -> Vec<String> {
    text(&output.stdout)
        .lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with("attempt "))
        .map(str::to_owned)
        .collect()
}

fn assert_signed(request: &Recorded) {
    assert_eq!(
        request.header("content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        request.header("x-flowtriq-signature"),
        Some(expected_header(SECRET.as_bytes(), &request.body))
    );
}

fn json_str<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn json_u64(value: &Value, pointer: &str) -> u64 {
    value
        .pointer(pointer)
        .and_then(Value::as_u64)
        .unwrap_or_default()
}

#[test]
fn send_builds_a_signed_realistic_event() {
    let server = TestServer::start(|_| (200, Duration::ZERO));
    let output = run(&["send", "--url", &server.url, "--event", "attack_start"]);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(attempt_lines(&output).len(), 1);
    assert!(attempt_lines(&output)[0].starts_with("attempt 1/4: HTTP 200 OK"));

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_signed(request);
    let event = request.json();
    assert_eq!(json_str(&event, "/event_type"), "attack_start");
    assert!(json_u64(&event, "/incident/id") > 0);
    assert_eq!(json_str(&event, "/incident/uuid").len(), 36);
    assert_eq!(json_str(&event, "/incident/attack_family"), "udp_flood");
    assert_eq!(json_str(&event, "/node/name"), "web-prod-1");
    assert!(json_u64(&event, "/incident/peak_pps") > 0);
    assert!(json_u64(&event, "/incident/peak_bps") > 0);
    let timestamp = json_str(&event, "/timestamp");
    assert!(
        timestamp.ends_with('Z') && timestamp.contains('T'),
        "{timestamp}"
    );
    // The core library accepts it as an event.
    let parsed = flowtriq_webhook::Event::from_slice(&request.body).unwrap();
    assert_eq!(parsed.incident_id(), Some(json_u64(&event, "/incident/id")));

    // A second send is a fresh incident.
    let output = run(&["send", "--url", &server.url, "--event", "attack_start"]);
    assert!(output.status.success());
    let again = server.requests()[1].json();
    assert_ne!(
        json_str(&again, "/incident/uuid"),
        json_str(&event, "/incident/uuid")
    );
}

#[test]
fn send_defaults_to_a_test_event_and_sends_every_type() {
    let server = TestServer::start(|_| (204, Duration::ZERO));
    let output = run(&["send", "--url", &server.url]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    for kind in ["attack_start", "attack_update", "attack_end", "test"] {
        let output = run(&["send", "--url", &server.url, "--event", kind]);
        assert!(output.status.success(), "{kind}: {}", text(&output.stderr));
    }
    let types: Vec<String> = server
        .requests()
        .iter()
        .map(|r| json_str(&r.json(), "/event_type").to_owned())
        .collect();
    assert_eq!(
        types,
        [
            "test",
            "attack_start",
            "attack_update",
            "attack_end",
            "test"
        ]
    );
}

#[test]
fn send_payload_goes_out_byte_for_byte() {
    let server = TestServer::start(|_| (200, Duration::ZERO));
    let body: Vec<u8> = b"{ \"event_type\" : \"test\",\n  \"x\": \"\xc3\xa9\" }\n".to_vec();
    let path =
        std::env::temp_dir().join(format!("flowtriq-cli-payload-{}.json", std::process::id()));
    std::fs::write(&path, &body).unwrap();
    let output = run(&[
        "send",
        "--url",
        &server.url,
        "--payload",
        path.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].body.as_ref(), body.as_slice());
    assert_signed(&requests[0]);
}

#[test]
fn send_retries_after_failures_with_gaps_of_ten_to_sixty() {
    // Fails the first two attempts, accepts the third.
    let server = TestServer::start(|n| (if n < 2 { 500 } else { 200 }, Duration::ZERO));
    let output = run(&[
        "send",
        "--url",
        &server.url,
        "--event",
        "attack_update",
        "--time-scale",
        "0.02",
    ]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );

    let lines = attempt_lines(&output);
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].starts_with("attempt 1/4: HTTP 500"), "{stdout}");
    assert!(lines[0].ends_with("next attempt in 200 ms"), "{stdout}");
    assert!(lines[1].starts_with("attempt 2/4: HTTP 500"), "{stdout}");
    assert!(lines[1].ends_with("next attempt in 1.2 s"), "{stdout}");
    assert!(lines[2].starts_with("attempt 3/4: HTTP 200"), "{stdout}");

    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    // Retries carry the same body and so the same signature.
    assert!(requests.iter().all(|r| r.body == requests[0].body));
    requests.iter().for_each(assert_signed);
    let first_gap = requests[1].at - requests[0].at;
    let second_gap = requests[2].at - requests[1].at;
    assert!(first_gap >= Duration::from_millis(190), "{first_gap:?}");
    let ratio = second_gap.as_secs_f64() / first_gap.as_secs_f64();
    assert!(
        (3.0..=12.0).contains(&ratio),
        "{first_gap:?} {second_gap:?} ratio {ratio}"
    );
}

#[test]
fn send_gives_up_after_four_attempts() {
    let server = TestServer::start(|_| (503, Duration::ZERO));
    let output = run(&["send", "--url", &server.url, "--time-scale", "0.001"]);
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}{stderr}");
    assert_eq!(server.requests().len(), 4);
    let lines = attempt_lines(&output);
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(lines[3].starts_with("attempt 4/4: HTTP 503"), "{stdout}");
    assert!(lines[3].ends_with("giving up"), "{stdout}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(!stderr.contains("panicked"));
}

#[test]
fn send_no_retry_makes_one_attempt() {
    let server = TestServer::start(|_| (500, Duration::ZERO));
    let output = run(&["send", "--url", &server.url, "--no-retry"]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(server.requests().len(), 1);
    assert_eq!(attempt_lines(&output).len(), 1);
}

#[test]
fn a_redirect_is_a_failed_attempt() {
    let server = TestServer::start(|_| (302, Duration::ZERO));
    let output = run(&["send", "--url", &server.url, "--no-retry"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(attempt_lines(&output)[0].contains("HTTP 302"));
}

#[test]
fn a_server_slower_than_the_timeout_fails_the_attempt() {
    // The first answer would come after 5 s; the timeout is 0.5 s. The retry is answered at once.
    let server = TestServer::start(|n| {
        let delay = if n == 0 {
            Duration::from_secs(5)
        } else {
            Duration::ZERO
        };
        (200, delay)
    });
    let output = run(&[
        "send",
        "--url",
        &server.url,
        "--timeout",
        "0.5",
        "--time-scale",
        "0.001",
    ]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    let lines = attempt_lines(&output);
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with("attempt 1/4: no answer within 500 ms"),
        "{stdout}"
    );
    assert!(lines[1].starts_with("attempt 2/4: HTTP 200"), "{stdout}");
    assert_eq!(server.requests().len(), 2);

    // Always too slow and no retry: the delivery fails.
    let slow = TestServer::start(|_| (200, Duration::from_secs(5)));
    let output = run(&["send", "--url", &slow.url, "--timeout", "0.3", "--no-retry"]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stdout));
    assert!(attempt_lines(&output)[0].contains("no answer within 300 ms"));
}

#[test]
fn connection_refused_is_a_failed_attempt() {
    // Bind and drop a listener to get a port that refuses connections.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/webhook");
    let output = run(&["send", "--url", &url, "--time-scale", "0.001"]);
    assert_eq!(output.status.code(), Some(1));
    let lines = attempt_lines(&output);
    assert_eq!(lines.len(), 4, "{}", text(&output.stdout));
    assert!(lines[0].contains("cannot connect"), "{}", lines[0]);
}

#[test]
fn simulate_delivers_one_incident_lifecycle() {
    // One failure on the second event: that delivery is retried and the lifecycle goes on.
    let server = TestServer::start(|n| (if n == 1 { 500 } else { 200 }, Duration::ZERO));
    let output = run(&[
        "simulate",
        "--url",
        &server.url,
        "--updates",
        "3",
        "--interval",
        "0",
        "--time-scale",
        "0.001",
    ]);
    let stdout = text(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        text(&output.stderr)
    );
    assert!(stdout.contains("delivered 5 of 5 events"), "{stdout}");

    let requests = server.requests();
    assert_eq!(requests.len(), 6, "{stdout}");
    requests.iter().for_each(assert_signed);
    // The failed delivery and its retry are the same bytes.
    assert_eq!(requests[1].body, requests[2].body);
    let events: Vec<Value> = requests
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 1)
        .map(|(_, r)| r.json())
        .collect();
    let types: Vec<&str> = events.iter().map(|e| json_str(e, "/event_type")).collect();
    assert_eq!(
        types,
        [
            "attack_start",
            "attack_update",
            "attack_update",
            "attack_update",
            "attack_end"
        ]
    );
    let id = json_u64(&events[0], "/incident/id");
    let uuid = json_str(&events[0], "/incident/uuid");
    assert!(id > 0 && !uuid.is_empty());
    for event in &events {
        assert_eq!(json_u64(event, "/incident/id"), id);
        assert_eq!(json_str(event, "/incident/uuid"), uuid);
        assert_eq!(
            json_str(event, "/incident/started_at"),
            json_str(&events[0], "/incident/started_at")
        );
    }
    for pair in events[..4].windows(2) {
        assert!(
            json_u64(&pair[1], "/incident/peak_pps") > json_u64(&pair[0], "/incident/peak_pps")
        );
        assert!(
            json_u64(&pair[1], "/incident/peak_bps") > json_u64(&pair[0], "/incident/peak_bps")
        );
    }
    assert_eq!(
        json_u64(&events[4], "/incident/peak_bps"),
        json_u64(&events[3], "/incident/peak_bps")
    );
}

#[test]
fn simulate_fails_when_a_delivery_fails() {
    let server = TestServer::start(|_| (500, Duration::ZERO));
    let output = run(&[
        "simulate",
        "--url",
        &server.url,
        "--updates",
        "0",
        "--interval",
        "0",
        "--no-retry",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(server.requests().len(), 2);
    assert!(text(&output.stdout).contains("delivered 0 of 2 events"));
}
