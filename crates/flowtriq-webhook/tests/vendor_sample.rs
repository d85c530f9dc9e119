//! The payload from Flowtriq's webhook reference parses into the expected typed values.

use flowtriq_webhook::{AttackFamily, Event, EventType, Secret, Severity, Verifier, sign};
use time::macros::datetime;

/// The sample payload exactly as the vendor's reference page shows it.
const VENDOR_SAMPLE: &[u8] = include_bytes!("data/vendor_sample.json");

#[test]
fn every_field_of_the_vendor_sample_is_typed() -> Result<(), Box<dyn std::error::Error>> {
    let event = Event::from_slice(VENDOR_SAMPLE)?;

    assert_eq!(event.event_type, EventType::AttackStart);
    assert_eq!(event.timestamp, Some(datetime!(2025-03-10 14:22:00 UTC)));
    assert!(event.extra.is_empty(), "{:?}", event.extra);

    let incident = event.incident.as_ref().ok_or("incident missing")?;
    assert_eq!(incident.id, Some(147));
    assert_eq!(incident.uuid.as_deref(), Some("d4e5f6a7-b8c9-..."));
    assert_eq!(incident.title.as_deref(), Some("UDP Flood on web-prod-1"));
    assert_eq!(incident.attack_family, Some(AttackFamily::UdpFlood));
    assert_eq!(incident.severity, Some(Severity::Critical));
    assert_eq!(incident.peak_pps, Some(2_450_000));
    assert_eq!(incident.peak_bps, Some(1_547_000_000));
    assert_eq!(incident.source_ip_count, Some(8429));
    assert_eq!(
        incident.started_at,
        Some(datetime!(2025-03-10 14:22:00 UTC))
    );
    assert_eq!(
        incident.ai_summary.as_deref(),
        Some("A large 1.4 Gbps UDP flood from 8,429 source IPs...")
    );
    assert_eq!(
        incident.dashboard_url.as_deref(),
        Some("https://flowtriq.com/dashboard/incident?id=147")
    );
    assert!(incident.extra.is_empty(), "{:?}", incident.extra);

    let node = event.node.as_ref().ok_or("node missing")?;
    assert_eq!(node.id, Some(1));
    assert_eq!(node.name.as_deref(), Some("web-prod-1"));
    assert_eq!(node.ip_address.as_deref(), Some("203.0.113.10"));
    assert!(node.extra.is_empty(), "{:?}", node.extra);

    assert_eq!(event.incident_id(), Some(147));
    assert_eq!(event.node_name(), Some("web-prod-1"));
    Ok(())
}

#[test]
fn the_vendor_sample_goes_through_the_verifier_untouched() -> Result<(), Box<dyn std::error::Error>>
{
    let secret = Secret::new("vendor-sample-secret");
    let verifier = Verifier::new(secret.clone());
    let body = bytes::Bytes::from_static(VENDOR_SAMPLE);
    let header = sign(&secret, &body);

    let verified = verifier.verify(Some(header.as_bytes()), body.clone())?;

    assert_eq!(verified.event(), &Event::from_slice(VENDOR_SAMPLE)?);
    assert_eq!(verified.body(), &body);
    // The handler reads the very buffer that was verified, not a copy.
    assert_eq!(verified.body().as_ptr(), body.as_ptr());
    assert_eq!(verified.secret_index(), 0);
    assert_eq!(verified.signature().to_string(), header);
    Ok(())
}

#[test]
fn timestamps_with_an_offset_are_the_same_instant() -> Result<(), Box<dyn std::error::Error>> {
    let event = Event::from_slice(
        br#"{"event_type":"attack_end","timestamp":"2025-03-10T16:22:00.250+02:00",
             "incident":{"id":147,"started_at":"2025-03-10T09:22:00-05:00"}}"#,
    )?;
    assert_eq!(
        event.timestamp,
        Some(datetime!(2025-03-10 14:22:00.250 UTC))
    );
    let incident = event.incident.as_ref().ok_or("incident missing")?;
    assert_eq!(
        incident.started_at,
        Some(datetime!(2025-03-10 14:22:00 UTC))
    );
    Ok(())
}
