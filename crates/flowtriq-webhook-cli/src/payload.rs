//! Realistic event payloads, shaped like the sample on Flowtriq's webhook reference page.

use clap::ValueEnum;
use serde::Serialize;
use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;

use crate::units::{format_bps, format_pps, group_thousands};

/// The event types Flowtriq sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EventKind {
    /// A new incident was opened: an attack was detected.
    #[value(name = "attack_start")]
    AttackStart,
    /// The ongoing attack's peak PPS or BPS went up.
    #[value(name = "attack_update")]
    AttackUpdate,
    /// The attack was resolved.
    #[value(name = "attack_end")]
    AttackEnd,
    /// A manual test from the dashboard.
    #[value(name = "test")]
    Test,
}

impl EventKind {
    /// The `event_type` value on the wire.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::AttackStart => "attack_start",
            Self::AttackUpdate => "attack_update",
            Self::AttackEnd => "attack_end",
            Self::Test => "test",
        }
    }
}

/// An attack's peak figures at one point of its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Peaks {
    /// Peak packets per second.
    pub(crate) pps: u64,
    /// Peak bits per second.
    pub(crate) bps: u64,
    /// Distinct source addresses.
    pub(crate) sources: u64,
}

impl Peaks {
    /// The figures of the vendor's sample at `step` 0, each step adding half of them again.
    pub(crate) fn ramp(step: u32) -> Self {
        let grow = |base: u64| base.saturating_add(base.saturating_mul(u64::from(step)) / 2);
        Self {
            pps: grow(2_450_000),
            bps: grow(1_547_000_000),
            sources: grow(8_429),
        }
    }

    /// Severity as a function of the bit rate.
    fn severity(self) -> &'static str {
        match self.bps {
            0..50_000_000 => "low",
            50_000_000..200_000_000 => "medium",
            200_000_000..1_000_000_000 => "high",
            _ => "critical",
        }
    }
}

/// The monitored node the simulated attacks hit.
const NODE_ID: u64 = 1;
const NODE_NAME: &str = "web-prod-1";
const NODE_IP: &str = "203.0.113.10";

/// One incident: the identity every event about it shares.
#[derive(Debug, Clone)]
pub(crate) struct Incident {
    /// Numeric incident id.
    pub(crate) id: u64,
    /// Incident UUID.
    pub(crate) uuid: Uuid,
    /// When the attack started, to whole seconds.
    pub(crate) started_at: OffsetDateTime,
}

impl Incident {
    /// A fresh incident, started now, with a random id and UUID.
    pub(crate) fn new(now: OffsetDateTime) -> Self {
        let uuid = Uuid::new_v4();
        // Six-digit ids, like a dashboard that has seen some incidents already.
        let id = u64::try_from(uuid.as_u128() % 900_000).unwrap_or(0) + 100_000;
        Self {
            id,
            uuid,
            started_at: whole_seconds(now),
        }
    }

    /// The JSON body Flowtriq would send for `kind` with these peaks at `now`.
    pub(crate) fn payload(
        &self,
        kind: EventKind,
        peaks: Peaks,
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, String> {
        let rfc3339 = |t: OffsetDateTime| {
            whole_seconds(t)
                .format(&Rfc3339)
                .map_err(|e| format!("cannot format a timestamp: {e}"))
        };
        let family = "UDP flood";
        let summary = match kind {
            EventKind::AttackStart => format!(
                "A {} {family} from {} source IPs is hitting {NODE_NAME} ({NODE_IP}) at up to {}.",
                format_bps(peaks.bps),
                group_thousands(peaks.sources),
                format_pps(peaks.pps),
            ),
            EventKind::AttackUpdate => format!(
                "The {family} on {NODE_NAME} is growing: {} from {} source IPs, up to {}.",
                format_bps(peaks.bps),
                group_thousands(peaks.sources),
                format_pps(peaks.pps),
            ),
            EventKind::AttackEnd => format!(
                "The {family} on {NODE_NAME} has ended after {}; it peaked at {} and {} \
                 from {} source IPs.",
                format_age(now - self.started_at),
                format_bps(peaks.bps),
                format_pps(peaks.pps),
                group_thousands(peaks.sources),
            ),
            EventKind::Test => {
                "This is a test notification sent from the Flowtriq dashboard.".to_owned()
            }
        };
        let title = match kind {
            EventKind::Test => "Test notification from Flowtriq".to_owned(),
            _ => format!("UDP Flood on {NODE_NAME}"),
        };
        let body = Payload {
            event_type: kind.as_str(),
            timestamp: rfc3339(now)?,
            incident: IncidentJson {
                id: self.id,
                uuid: self.uuid.to_string(),
                title,
                attack_family: "udp_flood",
                severity: peaks.severity(),
                peak_pps: peaks.pps,
                peak_bps: peaks.bps,
                source_ip_count: peaks.sources,
                started_at: rfc3339(self.started_at)?,
                ai_summary: summary,
                dashboard_url: format!("https://flowtriq.com/dashboard/incident?id={}", self.id),
            },
            node: NodeJson {
                id: NODE_ID,
                name: NODE_NAME,
                ip_address: NODE_IP,
            },
        };
        serde_json::to_vec(&body).map_err(|e| format!("cannot encode the payload: {e}"))
    }
}

fn whole_seconds(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap_or(t)
}

/// `4m 12s`, `1h 3m`, `9s`.
fn format_age(age: Duration) -> String {
    let secs = age.whole_seconds().max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m {}s", secs / 60, secs % 60),
        _ => format!("{}h {}m", secs / 3600, secs % 3600 / 60),
    }
}

/// The wire layout, fields in the order of the vendor's sample.
#[derive(Serialize)]
struct Payload {
    event_type: &'static str,
    timestamp: String,
    incident: IncidentJson,
    node: NodeJson,
}

#[derive(Serialize)]
struct IncidentJson {
    id: u64,
    uuid: String,
    title: String,
    attack_family: &'static str,
    severity: &'static str,
    peak_pps: u64,
    peak_bps: u64,
    source_ip_count: u64,
    started_at: String,
    ai_summary: String,
    dashboard_url: String,
}

#[derive(Serialize)]
struct NodeJson {
    id: u64,
    name: &'static str,
    ip_address: &'static str,
}

#[cfg(test)]
mod tests {
    use flowtriq_webhook::{AttackFamily, Event, EventType, Severity};

    use super::*;

    #[test]
    fn every_kind_parses_as_a_flowtriq_event() -> Result<(), String> {
        let now = OffsetDateTime::now_utc();
        let incident = Incident::new(now);
        for kind in EventKind::value_variants() {
            let body = incident.payload(*kind, Peaks::ramp(0), now)?;
            let event = Event::from_slice(&body).map_err(|e| e.to_string())?;
            assert_eq!(event.event_type, EventType::from(kind.as_str()));
            assert_eq!(event.incident_id(), Some(incident.id));
            assert_eq!(event.node_name(), Some(NODE_NAME));
            let parsed = event.incident.unwrap_or_default();
            assert_eq!(parsed.uuid, Some(incident.uuid.to_string()));
            assert_eq!(parsed.attack_family, Some(AttackFamily::UdpFlood));
            assert_eq!(parsed.severity, Some(Severity::Critical));
            assert_eq!(parsed.peak_pps, Some(2_450_000));
            assert_eq!(parsed.started_at, Some(incident.started_at));
            assert!(event.timestamp.is_some());
            assert!(event.extra.is_empty() && parsed.extra.is_empty());
        }
        Ok(())
    }

    #[test]
    fn timestamps_are_rfc3339_utc_to_the_second() -> Result<(), String> {
        let now = OffsetDateTime::now_utc();
        let body = Incident::new(now).payload(EventKind::AttackStart, Peaks::ramp(0), now)?;
        let value: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        let timestamp = value
            .pointer("/timestamp")
            .and_then(|t| t.as_str())
            .unwrap_or_default();
        assert_eq!(timestamp.len(), "2025-03-10T14:22:00Z".len(), "{timestamp}");
        assert!(timestamp.ends_with('Z'), "{timestamp}");
        Ok(())
    }

    #[test]
    fn incidents_differ_and_ids_have_six_digits() {
        let now = OffsetDateTime::now_utc();
        let (a, b) = (Incident::new(now), Incident::new(now));
        assert_ne!(a.uuid, b.uuid);
        assert!((100_000..1_000_000).contains(&a.id));
    }

    #[test]
    fn ramp_rises_and_does_not_overflow() {
        assert_eq!(Peaks::ramp(0).bps, 1_547_000_000);
        assert!(Peaks::ramp(1).pps > Peaks::ramp(0).pps);
        assert!(Peaks::ramp(2).bps > Peaks::ramp(1).bps);
        assert!(Peaks::ramp(3).sources > Peaks::ramp(2).sources);
        assert!(Peaks::ramp(u32::MAX).bps > 0);
    }

    #[test]
    fn severity_follows_the_bit_rate() {
        let at = |bps| Peaks {
            pps: 0,
            bps,
            sources: 0,
        };
        assert_eq!(at(1).severity(), "low");
        assert_eq!(at(60_000_000).severity(), "medium");
        assert_eq!(at(500_000_000).severity(), "high");
        assert_eq!(at(1_000_000_000).severity(), "critical");
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(format_age(Duration::seconds(9)), "9s");
        assert_eq!(format_age(Duration::seconds(252)), "4m 12s");
        assert_eq!(format_age(Duration::seconds(3780)), "1h 3m");
        assert_eq!(format_age(Duration::seconds(-5)), "0s");
    }
}
