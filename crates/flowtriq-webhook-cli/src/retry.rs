//! Flowtriq's retry policy as a pure schedule, free of clocks and I/O.

use std::time::Duration;

/// How long Flowtriq waits for an answer before it counts the attempt as failed.
pub(crate) const FLOWTRIQ_TIMEOUT: Duration = Duration::from_secs(10);

/// Flowtriq's waits after a failed attempt: before the 2nd, 3rd and 4th attempt.
pub(crate) const FLOWTRIQ_RETRY_DELAYS: [Duration; 3] = [
    Duration::from_secs(10),
    Duration::from_secs(60),
    Duration::from_secs(5 * 60),
];

/// Largest accepted `--time-scale`, so that a scaled wait stays a sensible duration.
pub(crate) const MAX_TIME_SCALE: f64 = 1000.0;

/// When to try a delivery again: one attempt, then one more after each delay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RetrySchedule {
    delays: Vec<Duration>,
}

impl RetrySchedule {
    /// Flowtriq's schedule with every wait multiplied by `scale`: 4 attempts, waits of
    /// 10 s, 60 s and 5 min at scale 1.
    ///
    /// `None` when `scale` is negative, not finite, or above [`MAX_TIME_SCALE`].
    pub(crate) fn flowtriq(scale: f64) -> Option<Self> {
        if !(scale.is_finite() && (0.0..=MAX_TIME_SCALE).contains(&scale)) {
            return None;
        }
        let delays = FLOWTRIQ_RETRY_DELAYS
            .iter()
            .map(|delay| Duration::try_from_secs_f64(delay.as_secs_f64() * scale).ok())
            .collect::<Option<Vec<_>>>()?;
        Some(Self { delays })
    }

    /// A single attempt, no retry.
    pub(crate) fn no_retry() -> Self {
        Self { delays: Vec::new() }
    }

    /// How many attempts the schedule allows in all.
    pub(crate) fn attempts(&self) -> usize {
        self.delays.len() + 1
    }

    /// The wait after attempt number `attempt` (counted from 1) failed, before the next one;
    /// `None` when that attempt was the last.
    pub(crate) fn delay_after(&self, attempt: usize) -> Option<Duration> {
        attempt
            .checked_sub(1)
            .and_then(|index| self.delays.get(index))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: f64) -> Duration {
        Duration::from_secs_f64(s)
    }

    #[test]
    fn flowtriq_schedule_is_four_attempts_ten_sixty_three_hundred() {
        let schedule = RetrySchedule::flowtriq(1.0);
        assert_eq!(
            schedule,
            Some(RetrySchedule {
                delays: FLOWTRIQ_RETRY_DELAYS.to_vec()
            })
        );
        let Some(schedule) = schedule else { return };
        assert_eq!(schedule.attempts(), 4);
        assert_eq!(schedule.delay_after(1), Some(secs(10.0)));
        assert_eq!(schedule.delay_after(2), Some(secs(60.0)));
        assert_eq!(schedule.delay_after(3), Some(secs(300.0)));
        assert_eq!(schedule.delay_after(4), None);
        assert_eq!(schedule.delay_after(0), None);
    }

    #[test]
    fn scale_multiplies_every_wait() {
        let Some(schedule) = RetrySchedule::flowtriq(0.01) else {
            unreachable!("0.01 is a valid scale")
        };
        let delays: Vec<_> = (1..=3).filter_map(|a| schedule.delay_after(a)).collect();
        assert_eq!(delays.len(), 3);
        for (got, want) in delays.iter().zip([0.1, 0.6, 3.0]) {
            assert!((got.as_secs_f64() - want).abs() < 1e-9, "{got:?} != {want}");
        }
        let zero = RetrySchedule::flowtriq(0.0);
        assert_eq!(zero.map(|s| s.delay_after(3)), Some(Some(Duration::ZERO)));
    }

    #[test]
    fn invalid_scales_are_refused() {
        for scale in [-1.0, f64::NAN, f64::INFINITY, MAX_TIME_SCALE * 2.0] {
            assert_eq!(RetrySchedule::flowtriq(scale), None, "{scale}");
        }
        assert!(RetrySchedule::flowtriq(MAX_TIME_SCALE).is_some());
    }

    #[test]
    fn no_retry_is_one_attempt() {
        let schedule = RetrySchedule::no_retry();
        assert_eq!(schedule.attempts(), 1);
        assert_eq!(schedule.delay_after(1), None);
    }
}
