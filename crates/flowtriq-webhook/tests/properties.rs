//! Property tests: signing and verifying agree for any body and secret, any single-bit change
//! is refused, rotation finds the right secret, and the parsers never panic.

use bytes::Bytes;
use flowtriq_webhook::{Error, Event, EventType, MAC_LEN, Secret, Signature, Verifier, sign};
use proptest::{collection::vec, prelude::*};

/// Secrets as Flowtriq keys them (UTF-8 text), and as raw bytes, of any length HMAC accepts,
/// including empty and longer than the 64-byte SHA-256 block.
fn secret_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        any::<String>().prop_map(String::into_bytes),
        vec(any::<u8>(), 0..200),
    ]
}

fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..4096),
        any::<String>().prop_map(String::into_bytes),
        event_body(),
    ]
}

/// Valid events: a known or unknown type, an incident id where needed, free text anywhere.
fn event_body() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            Just("attack_start".to_owned()),
            Just("attack_update".to_owned()),
            Just("attack_end".to_owned()),
            Just("test".to_owned()),
            "[a-z_]{0,16}",
        ],
        any::<u64>(),
        any::<String>(),
        any::<String>(),
    )
        .prop_map(|(event_type, id, title, extra)| {
            serde_json::json!({
                "event_type": event_type,
                "incident": {"id": id, "title": title},
                "unknown": extra,
            })
            .to_string()
            .into_bytes()
        })
}

/// Verification stopped at the signature: a 401 of any kind.
fn is_signature_rejection(result: &Result<flowtriq_webhook::VerifiedEvent, Error>) -> bool {
    matches!(
        result,
        Err(Error::Signature(_) | Error::SignatureMismatch { .. })
    )
}

proptest! {
    #[test]
    fn a_signed_body_always_passes_the_signature_check(
        secret in secret_bytes(),
        body in body_bytes(),
    ) {
        let secret = Secret::new(secret);
        let verifier = Verifier::new(secret.clone());
        let header = sign(&secret, &body);
        prop_assert_eq!(&header, &Signature::compute(&secret, &body).to_string());

        let result = verifier.verify(Some(header.as_bytes()), body.clone());
        match &result {
            Ok(verified) => {
                prop_assert_eq!(verified.body().as_ref(), body.as_slice());
                prop_assert_eq!(verified.secret_index(), 0);
                prop_assert_eq!(verified.signature().to_string(), header);
            }
            // A body that is not an event fails after the signature, never at it.
            Err(error) => {
                prop_assert!(matches!(error, Error::InvalidPayload(_)), "{:?}", error);
                prop_assert_eq!(error.status(), 400);
            }
        }
        // Valid events are accepted, whatever the secret.
        if Event::from_slice(&body).is_ok() {
            prop_assert!(result.is_ok());
        }
    }

    #[test]
    fn generated_events_round_trip_through_the_verifier(
        secret in secret_bytes(),
        body in event_body(),
    ) {
        let secret = Secret::new(secret);
        let header = sign(&secret, &body);
        let verified = Verifier::new(secret).verify(Some(header.as_bytes()), body);
        prop_assert!(verified.is_ok(), "{:?}", verified);
    }

    #[test]
    fn any_single_bit_flip_in_the_body_is_refused(
        secret in secret_bytes(),
        body in vec(any::<u8>(), 1..2048),
        position in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let secret = Secret::new(secret);
        let header = sign(&secret, &body);
        let mut tampered = body.clone();
        let at = position.index(tampered.len());
        if let Some(byte) = tampered.get_mut(at) {
            *byte ^= 1 << bit;
        }
        prop_assert_ne!(&tampered, &body);

        let result = Verifier::new(secret).verify(Some(header.as_bytes()), tampered);
        prop_assert!(
            matches!(result, Err(Error::SignatureMismatch { .. })),
            "{:?}",
            result
        );
    }

    #[test]
    fn any_single_bit_flip_in_the_mac_is_refused(
        secret in secret_bytes(),
        body in body_bytes(),
        bit in 0..MAC_LEN * 8,
    ) {
        let secret = Secret::new(secret);
        let mut tag = *Signature::compute(&secret, &body).as_bytes();
        if let Some(byte) = tag.get_mut(bit / 8) {
            *byte ^= 1 << (bit % 8);
        }
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        let header = format!("sha256={hex}");

        let result = Verifier::new(secret).verify(Some(header.as_bytes()), body);
        prop_assert!(
            matches!(result, Err(Error::SignatureMismatch { .. })),
            "{:?}",
            result
        );
    }

    /// Flipping one bit of one character of the header value changes the MAC or breaks the
    /// form, except when it only changes the case of a letter: `sha256=`/`SHA256=` and `a`/`A`
    /// are the same signature.
    #[test]
    fn any_single_bit_flip_in_the_header_is_refused_unless_it_only_changes_case(
        secret in secret_bytes(),
        body in body_bytes(),
        position in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let secret = Secret::new(secret);
        let verifier = Verifier::new(secret.clone());
        let mut header = sign(&secret, &body).into_bytes();
        let at = position.index(header.len());
        let mut original = 0;
        let mut flipped = 0;
        if let Some(byte) = header.get_mut(at) {
            original = *byte;
            *byte ^= 1 << bit;
            flipped = *byte;
        }
        let only_case = original != flipped
            && original.is_ascii_alphabetic()
            && original.eq_ignore_ascii_case(&flipped);

        let result = verifier.verify(Some(&header), body);
        if only_case {
            prop_assert!(!is_signature_rejection(&result), "{:?}", result);
        } else {
            prop_assert!(is_signature_rejection(&result), "{:?}", result);
            prop_assert_eq!(result.err().map(|e| e.status()), Some(401));
        }
    }

    #[test]
    fn rotation_finds_the_secret_that_signed(
        secrets in vec(secret_bytes(), 1..6),
        pick in any::<prop::sample::Index>(),
        body in body_bytes(),
    ) {
        // Distinct secrets: each one prefixed with its position.
        let secrets: Vec<Secret> = secrets
            .into_iter()
            .enumerate()
            .map(|(i, mut s)| {
                s.insert(0, u8::try_from(i).unwrap_or(u8::MAX));
                Secret::new(s)
            })
            .collect();
        let mut configured = secrets.iter();
        let mut verifier = Verifier::new(configured.next().cloned().unwrap_or_else(|| Secret::new("")));
        for secret in configured {
            verifier = verifier.with_secret(secret.clone());
        }
        prop_assert_eq!(verifier.secret_count(), secrets.len());

        let index = pick.index(secrets.len());
        let signer = secrets.get(index).cloned().unwrap_or_else(|| Secret::new(""));
        let header = sign(&signer, &body);
        match verifier.verify(Some(header.as_bytes()), body.clone()) {
            Ok(verified) => prop_assert_eq!(verified.secret_index(), index),
            Err(error) => prop_assert!(matches!(error, Error::InvalidPayload(_)), "{:?}", error),
        }

        let stranger = sign(&Secret::new(b"\xffnot configured".to_vec()), &body);
        let result = verifier.verify(Some(stranger.as_bytes()), body);
        prop_assert!(
            matches!(result, Err(Error::SignatureMismatch { secrets: n, .. }) if n == secrets.len()),
            "{:?}",
            result
        );
    }

    #[test]
    fn signature_parse_never_panics(header in vec(any::<u8>(), 0..128)) {
        if let Ok(signature) = Signature::parse(&header) {
            prop_assert_eq!(Signature::parse(signature.to_string().as_bytes()), Ok(signature));
        }
    }

    #[test]
    fn signature_parse_never_panics_near_the_valid_form(
        header in "[ \t]{0,2}(sha256|SHA256|sha1|sha|)[=:]?[0-9a-fA-F]{0,70}[g-zG-Z \t=]{0,2}",
    ) {
        if let Ok(signature) = Signature::parse(header.as_bytes()) {
            // Whatever parsed is a 64-digit hex MAC, whatever case it came in.
            let hex = signature.to_hex();
            prop_assert!(header.to_lowercase().contains(&hex), "{} -> {}", header, hex);
        }
    }

    #[test]
    fn event_from_slice_never_panics(body in vec(any::<u8>(), 0..2048)) {
        let _ = Event::from_slice(&body);
    }

    #[test]
    fn event_from_slice_never_panics_on_arbitrary_json(json in arbitrary_json()) {
        let body = json.to_string();
        let parsed = Event::from_slice(body.as_bytes());
        // Whatever parses carries the event_type that was sent.
        if let (Some(object), Ok(event)) = (json.as_object(), &parsed) {
            prop_assert_eq!(
                Some(event.event_type.as_str()),
                object.get("event_type").and_then(|t| t.as_str())
            );
        }
    }

    #[test]
    fn unknown_fields_never_make_an_event_invalid(
        event_type in prop_oneof![Just("test".to_owned()), "[a-z_]{0,12}"
            .prop_filter("not an attack event", |t| !t.starts_with("attack_"))],
        extra in prop::collection::btree_map("x_[a-z]{1,8}", arbitrary_json(), 0..6),
    ) {
        let mut object = serde_json::Map::new();
        object.insert("event_type".to_owned(), event_type.clone().into());
        for (key, value) in &extra {
            object.insert(key.clone(), value.clone());
        }
        let body = serde_json::Value::Object(object).to_string();
        let event = Event::from_slice(body.as_bytes());
        prop_assert!(event.is_ok(), "{}: {:?}", body, event);
        if let Ok(event) = event {
            prop_assert_eq!(event.event_type, EventType::from(event_type.as_str()));
            prop_assert_eq!(event.extra.len(), extra.len());
            for (key, value) in &extra {
                prop_assert_eq!(event.extra.get(key), Some(value));
            }
        }
    }
}

/// Any JSON value, nested a few levels deep, with keys that sometimes are the known ones.
fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        "(attack_start|attack_update|attack_end|test|udp_flood|critical)".prop_map(Value::from),
        "20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9](Z|[+-][01][0-9]:[0-5][0-9])"
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let key = prop_oneof![
            Just("event_type".to_owned()),
            Just("timestamp".to_owned()),
            Just("incident".to_owned()),
            Just("node".to_owned()),
            Just("id".to_owned()),
            Just("severity".to_owned()),
            Just("started_at".to_owned()),
            "[a-z_]{0,10}",
        ];
        prop_oneof![
            vec(inner.clone(), 0..8).prop_map(serde_json::Value::from),
            prop::collection::btree_map(key, inner, 0..8)
                .prop_map(|map| serde_json::Value::Object(map.into_iter().collect())),
        ]
    })
}

#[test]
fn bytes_and_slices_verify_alike() -> Result<(), Error> {
    let secret = Secret::new("k");
    let body = br#"{"event_type":"test"}"#;
    let header = sign(&secret, body);
    let verifier = Verifier::new(secret);
    let from_slice = verifier.verify(Some(header.as_bytes()), &body[..])?;
    let from_bytes = verifier.verify(Some(header.as_bytes()), Bytes::from_static(body))?;
    assert_eq!(from_slice.event(), from_bytes.event());
    Ok(())
}
