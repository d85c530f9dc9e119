//! Where deliveries are recorded: the current span's fields and, with the `metrics` feature,
//! counters and a histogram. Kept in one place so every adapter reports the same way.

use tracing::Span;

/// Records a delivery's outcome on the current span and in the metrics.
pub(crate) fn outcome(outcome: &'static str, reason: Option<&'static str>, status: u16) {
    let span = Span::current();
    span.record("outcome", outcome);
    if let Some(reason) = reason {
        span.record("reason", reason);
    }
    span.record("status", status);
    #[cfg(feature = "metrics")]
    metrics::counter!(
        "flowtriq_webhook_deliveries_total",
        "outcome" => outcome,
        "reason" => reason.unwrap_or(""),
    )
    .increment(1);
}

/// Runs the verification, timing it into the `flowtriq_webhook_verify_seconds` histogram when
/// the `metrics` feature is on.
pub(crate) fn timed_verification<T>(verify: impl FnOnce() -> T) -> T {
    #[cfg(feature = "metrics")]
    {
        let started = std::time::Instant::now();
        let result = verify();
        metrics::histogram!("flowtriq_webhook_verify_seconds").record(started.elapsed());
        result
    }
    #[cfg(not(feature = "metrics"))]
    verify()
}
