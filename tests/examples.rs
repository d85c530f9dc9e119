//! The example programs, run as a user runs them: the receivers answer the shared case table
//! over TCP and honour DESIGN §4's configuration contract; the quickstart exits 0.

mod support;

use flowtriq_webhook_redis::test_support::RedisServer;
use std::process::Command;
use support::receiver::{Receiver, example};

async fn receiver_answers_the_case_table(name: &str) -> Result<(), String> {
    let receiver = Receiver::start(name, &[])?;
    let addr = receiver.addr;
    support::run_cases_with(name, support::cases(), false, |request| {
        support::tcp::send(addr, request)
    })
    .await;
    Ok(())
}

/// With `FLOWTRIQ_DEDUP`, a retried delivery is answered as a duplicate; with Redis, also by
/// a second instance of the receiver.
async fn receiver_deduplicates(name: &str) -> Result<(), String> {
    let request = || {
        let body = support::vendor_sample("attack_start");
        support::WireRequest {
            signature: Some(flowtriq_webhook::sign(
                &flowtriq_webhook::Secret::new(support::SECRET),
                &body,
            )),
            body,
            chunked: false,
        }
    };
    let duplicate = br#"{"duplicate":true}"#.as_slice();

    let memory = Receiver::start(name, &[("FLOWTRIQ_DEDUP", "memory")])?;
    let first = support::tcp::send(memory.addr, request()).await?;
    let second = support::tcp::send(memory.addr, request()).await?;
    assert_eq!(first.status, 200, "{name}: {first:?}");
    assert_ne!(
        first.body, duplicate,
        "{name}: the first delivery is handled"
    );
    assert_eq!(
        (second.status, second.body.as_slice()),
        (200, duplicate),
        "{name}"
    );

    let redis = RedisServer::start().map_err(|e| format!("redis-server: {e}"))?;
    let url = redis.url();
    let a = Receiver::start(name, &[("FLOWTRIQ_DEDUP", &url)])?;
    let b = Receiver::start(name, &[("FLOWTRIQ_DEDUP", &url)])?;
    let first = support::tcp::send(a.addr, request()).await?;
    let second = support::tcp::send(b.addr, request()).await?;
    assert_ne!(first.body, duplicate, "{name}: instance A handles it");
    assert_eq!(
        (second.status, second.body.as_slice()),
        (200, duplicate),
        "{name}: instance B"
    );
    Ok(())
}

fn receiver_without_secret_exits_2(name: &str) -> Result<(), String> {
    let output = Command::new(example(name))
        .env_clear()
        .output()
        .map_err(|e| format!("cannot start {name}: {e}"))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{name}: {stderr}");
    assert!(
        stderr.contains("FLOWTRIQ_WEBHOOK_SECRET"),
        "{name}: {stderr}"
    );
    Ok(())
}

#[tokio::test]
async fn axum_receiver_answers_the_case_table() -> Result<(), String> {
    receiver_answers_the_case_table("axum_receiver").await
}

#[tokio::test]
async fn axum_receiver_deduplicates() -> Result<(), String> {
    receiver_deduplicates("axum_receiver").await
}

#[test]
fn axum_receiver_without_secret_exits_2() -> Result<(), String> {
    receiver_without_secret_exits_2("axum_receiver")
}
#[tokio::test]
async fn actix_receiver_answers_the_case_table() -> Result<(), String> {
    receiver_answers_the_case_table("actix_receiver").await
}

#[tokio::test]
async fn actix_receiver_deduplicates() -> Result<(), String> {
    receiver_deduplicates("actix_receiver").await
}

#[test]
fn actix_receiver_without_secret_exits_2() -> Result<(), String> {
    receiver_without_secret_exits_2("actix_receiver")
}
#[tokio::test]
async fn warp_receiver_answers_the_case_table() -> Result<(), String> {
    receiver_answers_the_case_table("warp_receiver").await
}

#[tokio::test]
async fn warp_receiver_deduplicates() -> Result<(), String> {
    receiver_deduplicates("warp_receiver").await
}

#[test]
fn warp_receiver_without_secret_exits_2() -> Result<(), String> {
    receiver_without_secret_exits_2("warp_receiver")
}

#[test]
fn quickstart_runs_and_exits_0() -> Result<(), String> {
    let output = Command::new(example("quickstart"))
        .output()
        .map_err(|e| format!("cannot start quickstart: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    for (label, status) in [
        ("attack_start", 200),
        ("attack_update", 200),
        ("attack_end", 200),
        ("test", 200),
        ("forged", 401),
        ("tampered", 401),
        ("oversized", 413),
    ] {
        let line = stdout
            .lines()
            .find(|line| line.starts_with(label))
            .unwrap_or_default();
        assert!(line.contains(&format!("-> {status} ")), "{label}: {line:?}");
    }
    Ok(())
}
