//! What `listen` prints for each delivery: readable text or one JSON object per line.
//!
//! Independent of the HTTP stack, so the receiver can change without touching the output.

use std::{fmt::Write as _, net::SocketAddr};

use flowtriq_webhook::{Event, VerifiedEvent};
use serde_json::{Value, json};

use crate::units::{format_bps, format_pps};

/// Formats deliveries for stdout.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Report {
    json: bool,
}

impl Report {
    /// Readable text, or JSON lines when `json` is set.
    pub(crate) fn new(json: bool) -> Self {
        Self { json }
    }

    /// The line for a verified event.
    pub(crate) fn accepted(self, peer: SocketAddr, verified: &VerifiedEvent) -> String {
        if self.json {
            // The body is valid JSON: it parsed as an event. Re-encoding keeps it on one line.
            let event = serde_json::from_slice::<Value>(verified.body()).unwrap_or(Value::Null);
            return json!({
                "accepted": true,
                "status": 200,
                "peer": peer.to_string(),
                "secret_index": verified.secret_index(),
                "event": event,
            })
            .to_string();
        }
        let mut line = format!("accepted {}", describe(verified.event()));
        let _ = write!(line, " secret=#{} from={peer}", verified.secret_index());
        line
    }

    /// The line for a rejected delivery.
    pub(crate) fn rejected(
        self,
        peer: SocketAddr,
        status: u16,
        code: &str,
        reason: &str,
    ) -> String {
        if self.json {
            return json!({
                "accepted": false,
                "status": status,
                "peer": peer.to_string(),
                "error": code,
                "reason": reason,
            })
            .to_string();
        }
        format!("rejected {status} {code} from={peer}: {reason}")
    }
}

/// `attack_start incident=147 uuid=… family=udp_flood severity=critical peak=2.45 Mpps / 1.55 Gbps
/// sources=8429 node=web-prod-1 (203.0.113.10)`; absent fields are left out.
fn describe(event: &Event) -> String {
    let mut line = event.event_type.to_string();
    if let Some(incident) = &event.incident {
        if let Some(id) = incident.id {
            let _ = write!(line, " incident={id}");
        }
        if let Some(uuid) = &incident.uuid {
            let _ = write!(line, " uuid={uuid}");
        }
        if let Some(family) = &incident.attack_family {
            let _ = write!(line, " family={family}");
        }
        if let Some(severity) = &incident.severity {
            let _ = write!(line, " severity={severity}");
        }
        match (incident.peak_pps, incident.peak_bps) {
            (Some(pps), Some(bps)) => {
                let _ = write!(line, " peak={} / {}", format_pps(pps), format_bps(bps));
            }
            (Some(pps), None) => {
                let _ = write!(line, " peak={}", format_pps(pps));
            }
            (None, Some(bps)) => {
                let _ = write!(line, " peak={}", format_bps(bps));
            }
            (None, None) => {}
        }
        if let Some(sources) = incident.source_ip_count {
            let _ = write!(line, " sources={sources}");
        }
    }
    if let Some(node) = &event.node {
        match (&node.name, &node.ip_address) {
            (Some(name), Some(ip)) => {
                let _ = write!(line, " node={name} ({ip})");
            }
            (Some(name), None) => {
                let _ = write!(line, " node={name}");
            }
            (None, Some(ip)) => {
                let _ = write!(line, " node={ip}");
            }
            (None, None) => {}
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use flowtriq_webhook::{Secret, Verifier, sign};

    use super::*;

    const SAMPLE: &[u8] = br#"{"event_type":"attack_start","timestamp":"2025-03-10T14:22:00Z","incident":{"id":147,"uuid":"d4e5f6a7","title":"UDP Flood on web-prod-1","attack_family":"udp_flood","severity":"critical","peak_pps":2450000,"peak_bps":1547000000,"source_ip_count":8429},"node":{"id":1,"name":"web-prod-1","ip_address":"203.0.113.10"}}"#;

    fn verified(body: &'static [u8]) -> Result<VerifiedEvent, flowtriq_webhook::Error> {
        let secret = Secret::new("s");
        let header = sign(&secret, body);
        Verifier::new(secret).verify(Some(header.as_bytes()), body)
    }

    #[test]
    fn readable_line_names_the_essentials() -> Result<(), flowtriq_webhook::Error> {
        let peer = SocketAddr::from(([127, 0, 0, 1], 5000));
        let line = Report::new(false).accepted(peer, &verified(SAMPLE)?);
        assert_eq!(
            line,
            "accepted attack_start incident=147 uuid=d4e5f6a7 family=udp_flood \
             severity=critical peak=2.45 Mpps / 1.55 Gbps sources=8429 \
             node=web-prod-1 (203.0.113.10) secret=#0 from=127.0.0.1:5000"
        );
        let minimal = Report::new(false).accepted(peer, &verified(br#"{"event_type":"test"}"#)?);
        assert_eq!(minimal, "accepted test secret=#0 from=127.0.0.1:5000");
        Ok(())
    }

    #[test]
    fn json_lines_carry_the_event() -> Result<(), Box<dyn std::error::Error>> {
        let peer = SocketAddr::from(([127, 0, 0, 1], 5000));
        let line = Report::new(true).accepted(peer, &verified(SAMPLE)?);
        assert!(!line.contains('\n'));
        let value: Value = serde_json::from_str(&line)?;
        assert_eq!(value.pointer("/event/incident/id"), Some(&json!(147)));
        assert_eq!(value.pointer("/accepted"), Some(&json!(true)));
        let rejected = Report::new(true).rejected(peer, 401, "signature_mismatch", "no match");
        let value: Value = serde_json::from_str(&rejected)?;
        assert_eq!(value.pointer("/error"), Some(&json!("signature_mismatch")));
        Ok(())
    }
}
