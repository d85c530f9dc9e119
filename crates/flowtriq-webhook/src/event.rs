//! The typed Flowtriq event.
//!
//! Parsing is lenient where leniency cannot hurt: unknown event types, unknown enum values and
//! unknown fields are accepted and kept, because a rejected genuine event is a lost DDoS alert.
//! It is strict where a wrong value would mislead a handler: a known field of the wrong JSON
//! type, or an `attack_*` event without `incident.id`, is an error.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use time::OffsetDateTime;

/// Declares a string enum whose unknown values land in `Other(String)` instead of failing.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, kept as sent.
            Other(String),
        }

        impl $name {
            /// The value as it appears on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $text, )+
                    Self::Other(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $text => Self::$variant, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<$name, E> {
                        Ok($name::from(value))
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }
    };
}

open_enum! {
    /// What happened: the `event_type` field.
    pub enum EventType {
        /// A new incident was opened: an attack was detected.
        AttackStart => "attack_start",
        /// An ongoing attack's peak PPS or BPS was updated.
        AttackUpdate => "attack_update",
        /// The attack was resolved, manually or automatically.
        AttackEnd => "attack_end",
        /// A manual test sent from the dashboard.
        Test => "test",
    }
}

open_enum! {
    /// The attack family Flowtriq classified the incident as: `incident.attack_family`.
    pub enum AttackFamily {
        /// UDP flood.
        UdpFlood => "udp_flood",
        /// TCP SYN flood.
        SynFlood => "syn_flood",
        /// TCP ACK flood.
        AckFlood => "ack_flood",
        /// ICMP flood.
        IcmpFlood => "icmp_flood",
        /// DNS amplification.
        DnsAmplification => "dns_amplification",
        /// NTP amplification.
        NtpAmplification => "ntp_amplification",
        /// memcached amplification.
        MemcachedAmplification => "memcached_amplification",
        /// SSDP amplification.
        SsdpAmplification => "ssdp_amplification",
        /// HTTP flood.
        HttpFlood => "http_flood",
    }
}

open_enum! {
    /// How severe the incident is: `incident.severity`.
    pub enum Severity {
        /// Low severity.
        Low => "low",
        /// Medium severity.
        Medium => "medium",
        /// High severity.
        High => "high",
        /// Critical severity.
        Critical => "critical",
    }
}

impl EventType {
    /// Whether the event is one of `attack_start`, `attack_update`, `attack_end`, which always
    /// carry an incident id.
    pub fn is_attack(&self) -> bool {
        matches!(
            self,
            Self::AttackStart | Self::AttackUpdate | Self::AttackEnd
        )
    }
}

/// One Flowtriq webhook event.
///
/// Only `event_type` is required; `attack_*` events also require `incident.id`. Fields this
/// version does not know are kept in [`extra`](Self::extra).
///
/// ```
/// use flowtriq_webhook::{Event, EventType};
///
/// let event = Event::from_slice(br#"{"event_type":"attack_end","incident":{"id":147},"new":1}"#)?;
/// assert_eq!(event.event_type, EventType::AttackEnd);
/// assert_eq!(event.incident_id(), Some(147));
/// assert_eq!(event.extra["new"], 1);
/// # Ok::<(), flowtriq_webhook::PayloadError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Event {
    /// What happened.
    pub event_type: EventType,
    /// When Flowtriq emitted the event.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub timestamp: Option<OffsetDateTime>,
    /// The incident the event is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<Incident>,
    /// The monitored node that saw the attack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<Node>,
    /// Top-level fields this version does not know, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The incident an event is about.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Incident {
    /// Numeric incident id; always present on `attack_*` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// Stable incident UUID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Human-readable title, such as `UDP Flood on web-prod-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Attack classification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack_family: Option<AttackFamily>,
    /// Severity classification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Peak packets per second seen so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_pps: Option<u64>,
    /// Peak bits per second seen so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_bps: Option<u64>,
    /// Number of distinct source addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_ip_count: Option<u64>,
    /// When the attack started.
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub started_at: Option<OffsetDateTime>,
    /// Flowtriq's generated summary of the attack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai_summary: Option<String>,
    /// Link to the incident in the Flowtriq dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard_url: Option<String>,
    /// Incident fields this version does not know, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The monitored node that saw the attack.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Node {
    /// Numeric node id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// Node name, such as `web-prod-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The node's address as Flowtriq knows it (kept as text: it may be any notation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// Node fields this version does not know, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Why a verified body is not a valid Flowtriq event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PayloadError {
    /// The body is not valid UTF-8, so it cannot be JSON.
    NotUtf8 {
        /// Offset of the first invalid byte.
        valid_up_to: usize,
    },
    /// The body is not a JSON object with a string `event_type`, or a known field has the
    /// wrong type.
    Json(String),
    /// An `attack_*` event without an integer `incident.id`.
    MissingIncidentId,
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotUtf8 { valid_up_to } => {
                write!(
                    f,
                    "the body is not valid UTF-8 (first invalid byte at offset {valid_up_to})"
                )
            }
            Self::Json(reason) => write!(f, "the body is not a valid Flowtriq event: {reason}"),
            Self::MissingIncidentId => {
                f.write_str("an attack_* event must carry an integer incident.id")
            }
        }
    }
}

impl std::error::Error for PayloadError {}

impl Event {
    /// Parses an event from the raw body: UTF-8 as a whole, then JSON, then the event rules.
    pub fn from_slice(body: &[u8]) -> Result<Self, PayloadError> {
        // serde_json does not validate strings it skips, so check the whole body first.
        let text = std::str::from_utf8(body).map_err(|e| PayloadError::NotUtf8 {
            valid_up_to: e.valid_up_to(),
        })?;
        let event: Self =
            serde_json::from_str(text).map_err(|e| PayloadError::Json(e.to_string()))?;
        if event.event_type.is_attack() && event.incident_id().is_none() {
            return Err(PayloadError::MissingIncidentId);
        }
        Ok(event)
    }

    /// The incident id, when the event has one.
    pub fn incident_id(&self) -> Option<u64> {
        self.incident.as_ref().and_then(|incident| incident.id)
    }

    /// The node name, when the event has one.
    pub fn node_name(&self) -> Option<&str> {
        self.node.as_ref().and_then(|node| node.name.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_enums_round_trip_known_and_unknown_values() {
        assert_eq!(EventType::from("attack_start"), EventType::AttackStart);
        assert_eq!(
            EventType::from("attack_paused"),
            EventType::Other("attack_paused".into())
        );
        assert_eq!(Severity::from("catastrophic").as_str(), "catastrophic");
        assert_eq!(AttackFamily::UdpFlood.to_string(), "udp_flood");
    }
}
