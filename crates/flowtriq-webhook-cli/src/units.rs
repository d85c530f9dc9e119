//! Human-readable numbers: rates, counts and durations.

use std::time::Duration;

/// `1.55 Gbps`, `560 Mbps`, `900 bps` (decimal prefixes, as network rates are quoted).
pub(crate) fn format_bps(bps: u64) -> String {
    scaled(bps, "bps")
}

/// `2.45 Mpps`, `850 kpps`.
pub(crate) fn format_pps(pps: u64) -> String {
    scaled(pps, "pps")
}

fn scaled(value: u64, unit: &str) -> String {
    const PREFIXES: [(f64, &str); 4] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")];
    // Precision loss above 2^53 does not matter for three significant digits.
    #[allow(clippy::cast_precision_loss)]
    let value = value as f64;
    for (factor, prefix) in PREFIXES {
        if value >= factor {
            let scaled = value / factor;
            let digits = if scaled >= 100.0 {
                0
            } else if scaled >= 10.0 {
                1
            } else {
                2
            };
            return format!("{scaled:.digits$} {prefix}{unit}");
        }
    }
    format!("{value} {unit}")
}

/// `8,429`.
pub(crate) fn group_thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `850 ms`, `1.2 s`, `10 s`, `5 min`.
pub(crate) fn format_duration(duration: Duration) -> String {
    let secs = duration.as_secs_f64();
    if secs < 1.0 {
        format!("{} ms", duration.as_millis())
    } else if secs < 10.0 && duration.subsec_millis() != 0 {
        format!("{secs:.1} s")
    } else if secs < 120.0 || !duration.as_secs().is_multiple_of(60) {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} min", duration.as_secs() / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates() {
        assert_eq!(format_bps(1_547_000_000), "1.55 Gbps");
        assert_eq!(format_bps(560_000_000), "560 Mbps");
        assert_eq!(format_bps(12_300_000_000), "12.3 Gbps");
        assert_eq!(format_bps(900), "900 bps");
        assert_eq!(format_pps(2_450_000), "2.45 Mpps");
        assert_eq!(format_pps(850_000), "850 kpps");
        assert_eq!(format_pps(0), "0 pps");
    }

    #[test]
    fn thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(8_429), "8,429");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn durations() {
        assert_eq!(format_duration(Duration::from_millis(3)), "3 ms");
        assert_eq!(format_duration(Duration::from_millis(1_240)), "1.2 s");
        assert_eq!(format_duration(Duration::from_secs(3)), "3 s");
        assert_eq!(format_duration(Duration::from_secs(10)), "10 s");
        assert_eq!(format_duration(Duration::from_secs(60)), "60 s");
        assert_eq!(format_duration(Duration::from_secs(300)), "5 min");
        assert_eq!(format_duration(Duration::from_secs(150)), "150 s");
    }
}
