//! Every row of the shared behaviour table (DESIGN §3) that the core decides, through the
//! public API only.

use std::time::Duration;

use bytes::Bytes;
use flowtriq_webhook::{
    AttackFamily, BodyBuffer, DEFAULT_BODY_LIMIT, Error, EventType, PayloadError, Secret, Severity,
    Signature, SignatureError, Verifier, sign,
};
use time::{OffsetDateTime, macros::datetime};

const SECRET: &str = "whsec_behaviour-4f9d2c";
const EVENT: &[u8] =
    br#"{"event_type":"attack_start","timestamp":"2025-03-10T14:22:00Z","incident":{"id":147}}"#;

fn verifier() -> Verifier {
    Verifier::new(Secret::new(SECRET))
}

fn header_for(body: &[u8]) -> String {
    sign(&Secret::new(SECRET), body)
}

fn hex_of(body: &[u8]) -> String {
    Signature::compute(&Secret::new(SECRET), body).to_hex()
}

fn mismatch(body_len: usize) -> Error {
    Error::SignatureMismatch {
        body_len,
        secrets: 1,
        secret_has_whitespace: false,
    }
}

/// A valid `attack_update` event of exactly `size` bytes, padded with an unknown field.
fn event_of_size(size: usize) -> Vec<u8> {
    let head = br#"{"event_type":"attack_update","incident":{"id":147},"pad":""#;
    let tail = br#""}"#;
    let mut body = Vec::with_capacity(size);
    body.extend_from_slice(head);
    body.resize(size - tail.len(), b'x');
    body.extend_from_slice(tail);
    assert_eq!(body.len(), size);
    body
}

// ---------------------------------------------------------------------------------------------
// 401: the header is missing or malformed, or the MAC matches no secret.

#[test]
fn each_bad_signature_is_refused_with_401_and_its_own_reason() {
    let good_hex = hex_of(EVENT);
    let good_header = format!("sha256={good_hex}");
    let bare_hex = good_hex.clone();
    let sha1 = format!("sha1={}", &good_hex[..40]);
    let truncated = format!("sha256={}", &good_hex[..63]);
    let half = format!("sha256={}", &good_hex[..32]);
    let padded = format!("sha256={good_hex}0");
    let non_hex = format!("sha256={}g", &good_hex[..63]);
    let non_hex_space = format!("sha256={} {}", &good_hex[..31], &good_hex[32..]);
    let wrong_secret = sign(&Secret::new("whsec_some-other-secret"), EVENT);
    let other_body = header_for(br#"{"event_type":"test"}"#);
    let tampered_body = br#"{"event_type":"attack_start","timestamp":"2025-03-10T14:22:00Z","incident":{"id":148}}"#;
    let all_zero = format!("sha256={}", "0".repeat(64));

    // (case, header value, body, expected rejection)
    type Case<'a> = (&'a str, Option<&'a [u8]>, &'a [u8], Error);
    let cases: Vec<Case<'_>> = vec![
        ("missing", None, EVENT, SignatureError::Missing.into()),
        ("empty", Some(b""), EVENT, SignatureError::Empty.into()),
        (
            "whitespace only",
            Some(b" \t "),
            EVENT,
            SignatureError::Empty.into(),
        ),
        (
            "prefix alone",
            Some(b"sha256="),
            EVENT,
            SignatureError::EmptyDigest.into(),
        ),
        (
            "bare hex",
            Some(bare_hex.as_bytes()),
            EVENT,
            SignatureError::MissingPrefix.into(),
        ),
        (
            "sha1 scheme",
            Some(sha1.as_bytes()),
            EVENT,
            SignatureError::UnsupportedAlgorithm.into(),
        ),
        (
            "truncated by one digit",
            Some(truncated.as_bytes()),
            EVENT,
            SignatureError::InvalidLength { len: 63 }.into(),
        ),
        (
            "truncated to half",
            Some(half.as_bytes()),
            EVENT,
            SignatureError::InvalidLength { len: 32 }.into(),
        ),
        (
            "one digit too many",
            Some(padded.as_bytes()),
            EVENT,
            SignatureError::InvalidLength { len: 65 }.into(),
        ),
        (
            "non-hex digit",
            Some(non_hex.as_bytes()),
            EVENT,
            SignatureError::InvalidHex.into(),
        ),
        (
            "space inside the digest",
            Some(non_hex_space.as_bytes()),
            EVENT,
            SignatureError::InvalidHex.into(),
        ),
        (
            "wrong secret",
            Some(wrong_secret.as_bytes()),
            EVENT,
            mismatch(EVENT.len()),
        ),
        (
            "valid MAC of another body",
            Some(other_body.as_bytes()),
            EVENT,
            mismatch(EVENT.len()),
        ),
        (
            "tampered body",
            Some(good_header.as_bytes()),
            tampered_body,
            mismatch(tampered_body.len()),
        ),
        (
            "all-zero MAC",
            Some(all_zero.as_bytes()),
            EVENT,
            mismatch(EVENT.len()),
        ),
    ];

    let verifier = verifier();
    for (name, header, body, expected) in cases {
        let result = verifier.verify(header, Bytes::copy_from_slice(body));
        assert_eq!(result.as_ref().err(), Some(&expected), "case {name}");
        assert_eq!(expected.status(), 401, "case {name}");
        assert_eq!(
            expected.response_body(),
            format!(r#"{{"error":"{}"}}"#, expected.code()),
            "case {name}"
        );
    }
}

#[test]
fn the_signature_is_checked_before_the_body_is_parsed() {
    // A body that is not an event, under a bad signature, is a 401 and not a 400.
    let verifier = verifier();
    let forged = format!("sha256={}", "ab".repeat(32));
    for body in [&b"not json"[..], b"\xff\xfe", b"[]", b"{}"] {
        let error = verifier
            .verify(Some(forged.as_bytes()), Bytes::copy_from_slice(body))
            .err();
        assert_eq!(error, Some(mismatch(body.len())), "{body:?}");
    }
}

#[test]
fn upper_case_hex_and_scheme_are_the_same_mac() -> Result<(), Error> {
    let verifier = verifier();
    let hex = hex_of(EVENT);
    for header in [
        format!("sha256={}", hex.to_uppercase()),
        format!("SHA256={}", hex.to_uppercase()),
        format!("Sha256={hex}"),
        format!("  sha256={hex}\t"),
    ] {
        let verified = verifier.verify(Some(header.as_bytes()), EVENT)?;
        assert_eq!(verified.signature().to_hex(), hex, "{header}");
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 400: signature valid, body not a valid event.

#[test]
fn each_invalid_payload_under_a_valid_signature_is_a_400() {
    type Check = fn(&PayloadError) -> bool;
    let not_utf8: Check = |e| matches!(e, PayloadError::NotUtf8 { .. });
    let json: Check = |e| matches!(e, PayloadError::Json(_));
    let no_id: Check = |e| *e == PayloadError::MissingIncidentId;

    let cases: &[(&str, &[u8], Check)] = &[
        // Not UTF-8.
        ("lone 0xff", b"\xff", not_utf8),
        ("UTF-16 with BOM", b"\xff\xfe{\0}\0", not_utf8),
        (
            "Latin-1 in a known string",
            b"{\"event_type\":\"test\",\"node\":{\"name\":\"K\xf6ln\"}}",
            not_utf8,
        ),
        (
            "invalid UTF-8 in an unknown field",
            b"{\"event_type\":\"test\",\"note\":\"\xc3\x28\"}",
            not_utf8,
        ),
        (
            "surrogate encoded in UTF-8 in an unknown nested field",
            b"{\"event_type\":\"test\",\"incident\":{\"x\":{\"y\":[\"\xed\xa0\x80\"]}}}",
            not_utf8,
        ),
        // Not JSON.
        ("empty body", b"", json),
        ("form encoding", b"event_type=test", json),
        ("truncated object", br#"{"event_type":"test""#, json),
        ("trailing garbage", br#"{"event_type":"test"} x"#, json),
        ("single quotes", b"{'event_type':'test'}", json),
        // Not an object.
        ("array", br#"[{"event_type":"test"}]"#, json),
        ("string", br#""test""#, json),
        ("number", b"42", json),
        ("null", b"null", json),
        ("boolean", b"true", json),
        // No event_type.
        ("empty object", b"{}", json),
        ("only an incident", br#"{"incident":{"id":147}}"#, json),
        ("misspelled key", br#"{"eventType":"test"}"#, json),
        // event_type not a string.
        ("event_type number", br#"{"event_type":1}"#, json),
        ("event_type null", br#"{"event_type":null}"#, json),
        ("event_type bool", br#"{"event_type":true}"#, json),
        ("event_type array", br#"{"event_type":["test"]}"#, json),
        (
            "event_type object",
            br#"{"event_type":{"name":"test"}}"#,
            json,
        ),
        // A known field of the wrong JSON type.
        (
            "timestamp number",
            br#"{"event_type":"test","timestamp":1741616520}"#,
            json,
        ),
        (
            "timestamp not RFC 3339",
            br#"{"event_type":"test","timestamp":"10/03/2025 14:22"}"#,
            json,
        ),
        (
            "timestamp impossible date",
            br#"{"event_type":"test","timestamp":"2025-02-30T14:22:00Z"}"#,
            json,
        ),
        (
            "incident a number",
            br#"{"event_type":"test","incident":147}"#,
            json,
        ),
        (
            "incident.id a string",
            br#"{"event_type":"attack_start","incident":{"id":"147"}}"#,
            json,
        ),
        (
            "incident.id negative",
            br#"{"event_type":"attack_start","incident":{"id":-1}}"#,
            json,
        ),
        (
            "incident.id fractional",
            br#"{"event_type":"attack_start","incident":{"id":147.5}}"#,
            json,
        ),
        (
            "incident.id beyond u64",
            br#"{"event_type":"attack_start","incident":{"id":18446744073709551616}}"#,
            json,
        ),
        (
            "peak_pps a string",
            br#"{"event_type":"test","incident":{"peak_pps":"2.4M"}}"#,
            json,
        ),
        (
            "peak_bps a float",
            br#"{"event_type":"test","incident":{"peak_bps":1.5e9}}"#,
            json,
        ),
        (
            "source_ip_count a bool",
            br#"{"event_type":"test","incident":{"source_ip_count":true}}"#,
            json,
        ),
        (
            "severity a number",
            br#"{"event_type":"test","incident":{"severity":4}}"#,
            json,
        ),
        (
            "attack_family an array",
            br#"{"event_type":"test","incident":{"attack_family":["udp_flood"]}}"#,
            json,
        ),
        (
            "title an object",
            br#"{"event_type":"test","incident":{"title":{"en":"x"}}}"#,
            json,
        ),
        (
            "started_at garbage",
            br#"{"event_type":"test","incident":{"started_at":"soon"}}"#,
            json,
        ),
        (
            "node an array",
            br#"{"event_type":"test","node":["web-prod-1"]}"#,
            json,
        ),
        (
            "node.id a string",
            br#"{"event_type":"test","node":{"id":"1"}}"#,
            json,
        ),
        (
            "node.ip_address a number",
            br#"{"event_type":"test","node":{"ip_address":3405803786}}"#,
            json,
        ),
        // attack_* without incident.id.
        (
            "attack_start without incident",
            br#"{"event_type":"attack_start"}"#,
            no_id,
        ),
        (
            "attack_update with null incident",
            br#"{"event_type":"attack_update","incident":null}"#,
            no_id,
        ),
        (
            "attack_end with empty incident",
            br#"{"event_type":"attack_end","incident":{}}"#,
            no_id,
        ),
        (
            "attack_start with null id",
            br#"{"event_type":"attack_start","incident":{"id":null,"title":"x"}}"#,
            no_id,
        ),
    ];

    let verifier = verifier();
    for (name, body, check) in cases {
        let header = header_for(body);
        let result = verifier.verify(Some(header.as_bytes()), Bytes::copy_from_slice(body));
        let payload = match &result {
            Err(Error::InvalidPayload(payload)) => Some(payload),
            _ => None,
        };
        assert!(
            payload.is_some_and(check),
            "case {name}: expected this kind of 400, got {result:?}"
        );
        let error = result.err();
        assert_eq!(error.as_ref().map(Error::status), Some(400), "case {name}");
        assert_eq!(error.as_ref().map(Error::code), Some("invalid_payload"));
    }
}

#[test]
fn the_invalid_utf8_cases_are_ones_serde_json_alone_would_let_through() {
    // Guards the UTF-8 cases above: serde_json skips these strings without checking them, so
    // only an explicit UTF-8 check refuses them.
    for body in [
        &b"{\"event_type\":\"test\",\"note\":\"\xc3\x28\"}"[..],
        b"{\"event_type\":\"test\",\"incident\":{\"x\":{\"y\":[\"\xed\xa0\x80\"]}}}",
    ] {
        assert!(
            serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok(),
            "{body:?}"
        );
    }
}

#[test]
fn utf8_errors_point_at_the_first_bad_byte() {
    let body = b"{\"event_type\":\"test\",\"note\":\"\xc3\x28\"}";
    let error = verifier()
        .verify(Some(header_for(body).as_bytes()), &body[..])
        .err();
    assert_eq!(
        error,
        Some(Error::InvalidPayload(PayloadError::NotUtf8 {
            valid_up_to: 29
        }))
    );
}

#[test]
fn deeply_nested_json_is_refused_without_overflowing_the_stack() {
    let depth = 100_000;
    let mut body = br#"{"event_type":"test","deep":"#.to_vec();
    body.extend(std::iter::repeat_n(b'[', depth));
    body.extend(std::iter::repeat_n(b']', depth));
    body.push(b'}');
    let result = verifier().verify(Some(header_for(&body).as_bytes()), body);
    assert!(
        matches!(result, Err(Error::InvalidPayload(PayloadError::Json(_)))),
        "{result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 413: the body limit, at the exact edge, with the default limit.

#[test]
fn the_default_limit_accepts_one_mebibyte_and_refuses_one_byte_more() -> Result<(), Error> {
    let verifier = verifier();
    assert_eq!(verifier.body_limit(), 1_048_576);
    assert_eq!(DEFAULT_BODY_LIMIT, 1_048_576);

    let at_limit = Bytes::from(event_of_size(1_048_576));
    let verified = verifier.verify(Some(header_for(&at_limit).as_bytes()), at_limit.clone())?;
    assert_eq!(verified.body().len(), 1_048_576);
    assert_eq!(verified.incident_id(), Some(147));

    let over = Bytes::from(event_of_size(1_048_577));
    let error = verifier
        .verify(Some(header_for(&over).as_bytes()), over.clone())
        .err();
    assert_eq!(error, Some(Error::PayloadTooLarge { limit: 1_048_576 }));
    assert_eq!(error.as_ref().map(Error::status), Some(413));

    // The size is refused before the signature is looked at.
    let error = verifier.verify(None, over).err();
    assert_eq!(error, Some(Error::PayloadTooLarge { limit: 1_048_576 }));
    Ok(())
}

#[test]
fn the_body_buffer_stops_at_the_default_limit() -> Result<(), Error> {
    let verifier = verifier();
    let too_large = Error::PayloadTooLarge { limit: 1_048_576 };

    // Announced by Content-Length.
    assert!(verifier.body_buffer(Some(1_048_576)).is_ok());
    assert_eq!(
        verifier.body_buffer(Some(1_048_577)).err(),
        Some(too_large.clone())
    );
    assert_eq!(
        verifier.body_buffer(Some(u64::MAX)).err(),
        Some(too_large.clone())
    );

    // Streamed in chunks without a length.
    let mut buffer: BodyBuffer = verifier.body_buffer(None)?;
    let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
    for _ in 0..16 {
        buffer.push(chunk.clone())?;
    }
    assert_eq!(buffer.len(), 1_048_576);
    assert_eq!(
        buffer.push(Bytes::from_static(b"x")).err(),
        Some(too_large.clone())
    );
    // A chunk that crosses the limit is refused whole.
    let mut buffer = verifier.body_buffer(None)?;
    buffer.push(Bytes::from(vec![b'x'; 1_048_570]))?;
    assert_eq!(
        buffer.push(Bytes::from(vec![b'x'; 7])).err(),
        Some(too_large)
    );
    buffer.push(Bytes::from(vec![b'x'; 6]))?;
    assert_eq!(buffer.finish().len(), 1_048_576);
    Ok(())
}

#[test]
fn a_custom_limit_has_the_same_edge() -> Result<(), Error> {
    let verifier = verifier().with_body_limit(100);
    let at = event_of_size(100);
    verifier.verify(Some(header_for(&at).as_bytes()), at)?;
    let over = event_of_size(101);
    let error = verifier
        .verify(Some(header_for(&over).as_bytes()), over)
        .err();
    assert_eq!(error, Some(Error::PayloadTooLarge { limit: 100 }));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Replay window.

const STAMPED: OffsetDateTime = datetime!(2025-03-10 14:22:00 UTC);

fn verify_with_window_at(now: OffsetDateTime) -> Result<(), Error> {
    let verifier = verifier().with_replay_window(Duration::from_secs(300));
    verifier
        .verify_at(
            Some(header_for(EVENT).as_bytes()),
            Bytes::from_static(EVENT),
            now,
        )
        .map(drop)
}

#[test]
fn the_replay_window_edges() {
    let outside = |age_secs| {
        Err(Error::TimestampOutsideWindow {
            age_secs,
            window_secs: 300,
        })
    };
    let second = time::Duration::SECOND;
    let nano = time::Duration::NANOSECOND;
    let cases = [
        ("same instant", STAMPED, Ok(())),
        ("exactly the window old", STAMPED + 300 * second, Ok(())),
        (
            "a nanosecond past",
            STAMPED + 300 * second + nano,
            outside(300),
        ),
        ("one second past", STAMPED + 301 * second, outside(301)),
        ("a day old", STAMPED + 86_400 * second, outside(86_400)),
        ("exactly the window ahead", STAMPED - 300 * second, Ok(())),
        (
            "a nanosecond too far ahead",
            STAMPED - 300 * second - nano,
            outside(-300),
        ),
        (
            "one second too far ahead",
            STAMPED - 301 * second,
            outside(-301),
        ),
    ];
    for (name, now, expected) in cases {
        assert_eq!(verify_with_window_at(now), expected, "case {name}");
    }
    let refused = verify_with_window_at(STAMPED + 301 * second).err();
    assert_eq!(refused.as_ref().map(Error::status), Some(401));
    assert_eq!(
        refused.as_ref().map(Error::code),
        Some("timestamp_outside_window")
    );
}

#[test]
fn a_missing_timestamp_is_refused_only_while_the_window_is_on() -> Result<(), Error> {
    let body = br#"{"event_type":"test"}"#;
    let header = header_for(body);
    let with_window = verifier().with_replay_window(Duration::from_secs(300));
    let error = with_window
        .verify_at(Some(header.as_bytes()), Bytes::from_static(body), STAMPED)
        .err();
    assert_eq!(error, Some(Error::MissingTimestamp));
    assert_eq!(error.as_ref().map(Error::status), Some(401));

    // Off by default: any timestamp, or none, is accepted.
    let verifier = verifier();
    assert_eq!(verifier.replay_window(), None);
    verifier.verify_at(Some(header.as_bytes()), Bytes::from_static(body), STAMPED)?;
    let years_later = STAMPED + time::Duration::days(3650);
    verifier.verify_at(
        Some(header_for(EVENT).as_bytes()),
        Bytes::from_static(EVENT),
        years_later,
    )?;
    Ok(())
}

#[test]
fn the_replay_window_is_checked_after_the_signature() {
    let with_window = verifier().with_replay_window(Duration::from_secs(300));
    let forged = format!("sha256={}", "cd".repeat(32));
    let error = with_window
        .verify_at(Some(forged.as_bytes()), Bytes::from_static(EVENT), STAMPED)
        .err();
    assert_eq!(error, Some(mismatch(EVENT.len())));
}

// ---------------------------------------------------------------------------------------------
// Lenient parsing: what the sender adds later must not turn into lost alerts.

#[test]
fn unknown_event_types_enum_values_and_fields_are_kept_visible() -> Result<(), Error> {
    let body = br#"{
        "event_type": "attack_paused",
        "schema": 2,
        "incident": {
            "id": 9,
            "attack_family": "quic_flood",
            "severity": "apocalyptic",
            "vectors": ["udp", "quic"]
        },
        "node": {"id": 3, "region": "eu-west"}
    }"#;
    let verified = verifier().verify(Some(header_for(body).as_bytes()), &body[..])?;

    assert_eq!(
        verified.event_type,
        EventType::Other("attack_paused".to_owned())
    );
    assert_eq!(verified.event_type.as_str(), "attack_paused");
    assert_eq!(verified.extra.get("schema"), Some(&serde_json::json!(2)));

    let incident = verified.incident.as_ref();
    assert_eq!(
        incident.and_then(|i| i.attack_family.clone()),
        Some(AttackFamily::Other("quic_flood".to_owned()))
    );
    assert_eq!(
        incident.and_then(|i| i.severity.clone()),
        Some(Severity::Other("apocalyptic".to_owned()))
    );
    assert_eq!(
        incident.and_then(|i| i.extra.get("vectors")),
        Some(&serde_json::json!(["udp", "quic"]))
    );
    assert_eq!(
        verified.node.as_ref().and_then(|n| n.extra.get("region")),
        Some(&serde_json::json!("eu-west"))
    );
    Ok(())
}

#[test]
fn only_event_type_is_required_outside_attack_events() -> Result<(), Error> {
    let verifier = verifier();
    for (body, expected) in [
        (&br#"{"event_type":"test"}"#[..], EventType::Test),
        (
            br#"{"event_type":"maintenance"}"#,
            EventType::Other("maintenance".to_owned()),
        ),
        (br#"{"event_type":""}"#, EventType::Other(String::new())),
        (
            br#"{"event_type":"test","incident":null,"node":null,"timestamp":null}"#,
            EventType::Test,
        ),
        (br#"  {"event_type":"test"}  "#, EventType::Test),
        (
            // The enum values are matched exactly: a differently cased type is unknown, kept.
            br#"{"event_type":"ATTACK_START"}"#,
            EventType::Other("ATTACK_START".to_owned()),
        ),
    ] {
        let verified = verifier.verify(Some(header_for(body).as_bytes()), body)?;
        assert_eq!(
            verified.event_type,
            expected,
            "{}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(verified.incident_id(), None);
    }
    Ok(())
}

#[test]
fn unknown_numbers_are_kept_exactly_as_sent() -> Result<(), Error> {
    // Shortest round-trip renderings of doubles, as Python, JavaScript or Go print them.
    let numbers = [
        "-2.7094550050955323e+100",
        "0.1",
        "0.30000000000000004",
        "1.7976931348623157e+308",
        "5e-324",
        "2.2250738585072014e-308",
        "9007199254740993",
        "-0.0",
    ];
    for text in numbers {
        let body = format!(r#"{{"event_type":"test","score":{text},"node":{{"load":[{text}]}}}}"#);
        let event = flowtriq_webhook::Event::from_slice(body.as_bytes())?;
        let expected: f64 = text.parse().unwrap_or(f64::NAN);
        let top = event.extra.get("score").and_then(serde_json::Value::as_f64);
        let nested = event
            .node
            .as_ref()
            .and_then(|node| node.extra.get("load"))
            .and_then(|load| load.get(0))
            .and_then(serde_json::Value::as_f64);
        for (place, got) in [("top level", top), ("nested", nested)] {
            assert_eq!(
                got.map(f64::to_bits),
                Some(expected.to_bits()),
                "{text} at {place}: got {got:?}"
            );
        }
    }
    Ok(())
}

#[test]
fn integers_are_u64() -> Result<(), Error> {
    let body = br#"{"event_type":"attack_update","incident":{"id":18446744073709551615,"peak_bps":18446744073709551615}}"#;
    let verified = verifier().verify(Some(header_for(body).as_bytes()), &body[..])?;
    assert_eq!(verified.incident_id(), Some(u64::MAX));
    assert_eq!(
        verified.incident.as_ref().and_then(|i| i.peak_bps),
        Some(u64::MAX)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Rotation.

#[test]
fn rotation_reports_which_secret_matched() -> Result<(), Error> {
    let secrets = ["whsec_current", "whsec_previous", "whsec_oldest"];
    let verifier = Verifier::new(Secret::new(secrets[0]))
        .with_secret(Secret::new(secrets[1]))
        .with_secret(Secret::new(secrets[2]));
    assert_eq!(verifier.secret_count(), 3);

    for (index, secret) in secrets.iter().enumerate() {
        let header = sign(&Secret::new(*secret), EVENT);
        let verified = verifier.verify(Some(header.as_bytes()), EVENT)?;
        assert_eq!(verified.secret_index(), index, "{secret}");
    }

    let stranger = sign(&Secret::new("whsec_never-configured"), EVENT);
    assert_eq!(
        verifier.verify(Some(stranger.as_bytes()), EVENT).err(),
        Some(Error::SignatureMismatch {
            body_len: EVENT.len(),
            secrets: 3,
            secret_has_whitespace: false,
        })
    );
    Ok(())
}

#[test]
fn a_secret_configured_twice_reports_the_first_position() -> Result<(), Error> {
    let verifier = Verifier::new("a").with_secret("b").with_secret("a");
    let verified = verifier.verify(Some(sign(&Secret::new("a"), EVENT).as_bytes()), EVENT)?;
    assert_eq!(verified.secret_index(), 0);
    Ok(())
}

#[test]
fn a_secret_with_surrounding_whitespace_is_used_as_is_and_hinted_at() -> Result<(), Error> {
    // Flowtriq keys with the secret exactly as typed: a trailing newline is part of it.
    let verifier = Verifier::new(Secret::new("whsec_pasted\n"));
    let with_newline = sign(&Secret::new("whsec_pasted\n"), EVENT);
    verifier.verify(Some(with_newline.as_bytes()), EVENT)?;

    let without = sign(&Secret::new("whsec_pasted"), EVENT);
    let error = verifier.verify(Some(without.as_bytes()), EVENT).err();
    assert_eq!(
        error,
        Some(Error::SignatureMismatch {
            body_len: EVENT.len(),
            secrets: 1,
            secret_has_whitespace: true,
        })
    );
    let message = error.map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("whitespace"), "{message}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Secrets and expected MACs never leak.

#[test]
fn debug_output_never_contains_the_secret() -> Result<(), Error> {
    let secret_text = "whsec_TOP-SECRET-7c1e";
    let secret = Secret::new(secret_text);
    let verifier = Verifier::new(secret.clone())
        .with_secret(Secret::new("whsec_OTHER-SECRET-99aa"))
        .with_replay_window(Duration::from_secs(60));
    let verified = verifier.verify_at(
        Some(sign(&secret, EVENT).as_bytes()),
        Bytes::from_static(EVENT),
        STAMPED,
    )?;

    let printed = [
        format!("{secret:?}"),
        format!("{secret:#?}"),
        format!("{verifier:?}"),
        format!("{verifier:#?}"),
        format!("{verified:?}"),
        format!("{verified:#?}"),
    ];
    for text in &printed {
        for leaked in [secret_text, "TOP-SECRET", "OTHER-SECRET"] {
            assert!(!text.contains(leaked), "{leaked} in {text}");
        }
        // Nor the key bytes in hex, as a derived Debug of a byte vector would print them.
        let secret_hex: String = secret_text.bytes().map(|b| format!("{b:02x}")).collect();
        assert!(!text.contains(&secret_hex), "{text}");
        let secret_bytes = format!("{:?}", secret_text.as_bytes());
        assert!(
            !text.contains(&secret_bytes[1..secret_bytes.len() - 1]),
            "{text}"
        );
    }
    assert_eq!(printed[0], "Secret(<redacted>)");
    assert!(printed[2].contains("<2 redacted>"), "{}", printed[2]);
    Ok(())
}

#[test]
fn rejections_never_show_the_secret_or_the_expected_mac() {
    let secret_text = "whsec_TOP-SECRET-7c1e";
    let verifier = Verifier::new(Secret::new(secret_text))
        .with_secret(Secret::new(" whsec_OTHER-SECRET-99aa "))
        .with_replay_window(Duration::from_secs(60));
    let stale = br#"{"event_type":"test","timestamp":"2001-01-01T00:00:00Z"}"#;
    let unstamped = br#"{"event_type":"test"}"#;
    let sign_with = |body: &[u8]| sign(&Secret::new(secret_text), body);

    let truncated = format!(
        "sha256={}",
        &Signature::compute(&Secret::new(secret_text), EVENT).to_hex()[..63]
    );
    let requests: Vec<(Option<String>, Vec<u8>)> = vec![
        (None, EVENT.to_vec()),
        (Some(String::new()), EVENT.to_vec()),
        (Some("sha256=".to_owned()), EVENT.to_vec()),
        (Some(truncated), EVENT.to_vec()),
        (Some(sign(&Secret::new("wrong"), EVENT)), EVENT.to_vec()),
        (Some(sign_with(b"not json")), b"not json".to_vec()),
        (Some(sign_with(b"\xff")), b"\xff".to_vec()),
        (Some(sign_with(stale)), stale.to_vec()),
        (Some(sign_with(unstamped)), unstamped.to_vec()),
        (
            Some(sign_with(EVENT)),
            event_of_size(DEFAULT_BODY_LIMIT + 1),
        ),
    ];

    let mut codes = Vec::new();
    for (header, body) in requests {
        let expected_macs: Vec<String> = [secret_text, " whsec_OTHER-SECRET-99aa "]
            .iter()
            .map(|s| Signature::compute(&Secret::new(*s), &body).to_hex())
            .collect();
        let Err(error) =
            verifier.verify_at(header.as_deref().map(str::as_bytes), body.into(), STAMPED)
        else {
            codes.push("accepted");
            continue;
        };
        codes.push(error.code());
        let shown = [
            error.to_string(),
            format!("{error:?}"),
            format!("{error:#?}"),
            error.response_body(),
        ];
        for text in shown {
            for secret in ["TOP-SECRET", "OTHER-SECRET"] {
                assert!(!text.contains(secret), "{text}");
            }
            for mac in &expected_macs {
                assert!(!text.contains(mac.as_str()), "{text}");
                assert!(!text.contains(&mac.to_uppercase()), "{text}");
                // Not even a prefix long enough to help a forger.
                assert!(!text.contains(&mac[..16]), "{text}");
            }
        }
    }
    assert_eq!(
        codes,
        [
            "missing_signature",
            "empty_signature",
            "empty_signature_digest",
            "invalid_signature_length",
            "signature_mismatch",
            "invalid_payload",
            "invalid_payload",
            "timestamp_outside_window",
            "missing_timestamp",
            "payload_too_large",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Stable codes and statuses.

#[test]
fn every_error_has_a_stable_code_and_status() {
    let cases: Vec<(Error, &str, u16)> = vec![
        (SignatureError::Missing.into(), "missing_signature", 401),
        (SignatureError::Empty.into(), "empty_signature", 401),
        (
            SignatureError::MissingPrefix.into(),
            "missing_signature_prefix",
            401,
        ),
        (
            SignatureError::UnsupportedAlgorithm.into(),
            "unsupported_signature_algorithm",
            401,
        ),
        (
            SignatureError::EmptyDigest.into(),
            "empty_signature_digest",
            401,
        ),
        (
            SignatureError::InvalidLength { len: 3 }.into(),
            "invalid_signature_length",
            401,
        ),
        (
            SignatureError::InvalidHex.into(),
            "invalid_signature_hex",
            401,
        ),
        (mismatch(1), "signature_mismatch", 401),
        (
            Error::TimestampOutsideWindow {
                age_secs: 1,
                window_secs: 0,
            },
            "timestamp_outside_window",
            401,
        ),
        (Error::MissingTimestamp, "missing_timestamp", 401),
        (
            Error::PayloadTooLarge { limit: 1 },
            "payload_too_large",
            413,
        ),
        (
            PayloadError::MissingIncidentId.into(),
            "invalid_payload",
            400,
        ),
        (Error::DeliveryInFlight, "delivery_in_flight", 409),
        (
            Error::StoreUnavailable("connection refused".to_owned()),
            "store_unavailable",
            503,
        ),
    ];
    for (error, code, status) in cases {
        assert_eq!(error.code(), code, "{error:?}");
        assert_eq!(error.status(), status, "{error:?}");
        assert_eq!(error.response_body(), format!(r#"{{"error":"{code}"}}"#));
        assert!(!error.to_string().is_empty());
    }
}
