//! What a delivery leaves behind: the span's fields, and with the `metrics` feature the
//! counters and the verification-time histogram.

use std::sync::{Arc, Mutex};

use flowtriq_webhook::{Deduplicator, Receiver, Secret, Verifier, sign};
use tracing::{Instrument, Level};
use tracing_subscriber::fmt::format::FmtSpan;

const SECRET: &str = "telemetry-secret";
const BODY: &[u8] = br#"{"event_type":"attack_start","incident":{"id":147}}"#;

/// Runs one delivery inside its span the way adapters do, finishing with `status`.
async fn deliver(receiver: &Receiver, signature: &str, status: u16) -> u16 {
    let span = receiver.delivery_span();
    async {
        match receiver
            .admit(Some(signature.as_bytes()), BODY.into())
            .await
        {
            Ok((_event, guard)) => {
                guard.finish(status).await;
                status
            }
            Err(reply) => reply.status,
        }
    }
    .instrument(span)
    .await
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut all) = self.0.lock() {
            all.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What a `fmt` subscriber at `max_level`, reporting span closes, writes while the three
/// deliveries of every test here run: handled, its duplicate, and a forged one.
fn log_of_three_deliveries(receiver: &Receiver, max_level: Level) -> String {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(max_level)
        .with_span_events(FmtSpan::CLOSE)
        .with_writer(move || writer.clone())
        .finish();
    let valid = sign(&Secret::new(SECRET), BODY);
    let forged = sign(&Secret::new("forger"), BODY);

    tracing::subscriber::with_default(subscriber, || {
        futures_executor::block_on(async {
            assert_eq!(deliver(receiver, &valid, 200).await, 200);
            assert_eq!(deliver(receiver, &valid, 200).await, 200); // the duplicate
            assert_eq!(deliver(receiver, &forged, 200).await, 401);
        });
    });

    let logs = String::from_utf8_lossy(&captured.0.lock().map(|l| l.clone()).unwrap_or_default())
        .into_owned();
    assert!(!logs.contains(SECRET), "{logs}");
    assert!(
        !logs.contains(&valid[7..]),
        "the MAC must not be logged: {logs}"
    );
    logs
}

fn deduplicating_receiver() -> Receiver {
    Receiver::new(Verifier::new(SECRET)).with_deduplicator(Deduplicator::in_memory())
}

fn span_closes(logs: &str) -> Vec<&str> {
    logs.lines().filter(|line| line.contains("close")).collect()
}

#[test]
fn each_delivery_closes_a_span_with_its_outcome() {
    let logs = log_of_three_deliveries(&deduplicating_receiver(), Level::DEBUG);

    let closes = span_closes(&logs);
    assert_eq!(closes.len(), 3, "{logs}");
    for (line, wanted) in closes.iter().zip([
        &[
            r#"event_type="attack_start""#,
            "incident_id=147",
            "secret_index=0",
            r#"outcome="handled""#,
            "status=200",
        ][..],
        &[r#"outcome="duplicate""#, "status=200"][..],
        &[
            r#"outcome="rejected""#,
            r#"reason="signature_mismatch""#,
            "status=401",
        ][..],
    ]) {
        assert!(line.contains("DEBUG"), "{line}");
        for field in wanted {
            assert!(line.contains(field), "{field} missing from {line}");
        }
    }
}

#[test]
fn at_info_the_default_span_is_left_out_and_rejections_are_still_logged() {
    let logs = log_of_three_deliveries(&deduplicating_receiver(), Level::INFO);

    assert_eq!(span_closes(&logs), Vec::<&str>::new(), "{logs}");
    let warnings: Vec<&str> = logs.lines().filter(|l| l.contains("WARN")).collect();
    assert!(
        matches!(&warnings[..], [warning] if warning.contains("signature_mismatch")),
        "{logs}"
    );
}

#[test]
fn a_raised_span_level_shows_the_span_at_info() {
    let receiver = deduplicating_receiver().with_span_level(Level::INFO);
    let logs = log_of_three_deliveries(&receiver, Level::INFO);

    let closes = span_closes(&logs);
    assert_eq!(closes.len(), 3, "{logs}");
    assert!(closes.iter().all(|line| line.contains(" INFO ")), "{logs}");
}

#[cfg(feature = "metrics")]
#[test]
fn metrics_count_outcomes_and_time_verification() {
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let receiver = Receiver::new(Verifier::new(SECRET));
    let valid = sign(&Secret::new(SECRET), BODY);
    metrics::with_local_recorder(&recorder, || {
        futures_executor::block_on(async {
            deliver(&receiver, &valid, 200).await;
            deliver(&receiver, &valid, 500).await;
            deliver(&receiver, "sha256=", 200).await;
        });
    });

    let mut counters = std::collections::BTreeMap::new();
    let mut timings = 0;
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let key = key.key();
        match value {
            DebugValue::Counter(n) if key.name() == "flowtriq_webhook_deliveries_total" => {
                let label = |name: &str| {
                    key.labels()
                        .find(|label| label.key() == name)
                        .map(|label| label.value().to_owned())
                        .unwrap_or_default()
                };
                counters.insert((label("outcome"), label("reason")), n);
            }
            DebugValue::Histogram(values) if key.name() == "flowtriq_webhook_verify_seconds" => {
                timings += values.len();
            }
            _ => {}
        }
    }
    let count =
        |outcome: &str, reason: &str| counters.get(&(outcome.into(), reason.into())).copied();
    assert_eq!(count("handled", ""), Some(1), "{counters:?}");
    assert_eq!(count("handler_failed", ""), Some(1), "{counters:?}");
    assert_eq!(
        count("rejected", "empty_signature_digest"),
        Some(1),
        "{counters:?}"
    );
    assert_eq!(timings, 3);
}
