//! The full entry point on arbitrary input: a body streamed in chunks under a small limit, an
//! arbitrary header, with and without the replay window. Never panics, and never accepts a
//! body over the limit or a signature it did not compute.
#![no_main]

use std::time::Duration;

use bytes::Bytes;
use flowtriq_webhook::{Secret, Signature, Verifier};
use libfuzzer_sys::fuzz_target;
use time::OffsetDateTime;

const LIMIT: usize = 4096;
/// The case table's secret, so that its signed seeds reach the parser.
const SECRET: &str = "case-table-secret";

// Input: control byte (0x80 replay window on, 0x40 no header), header length, header, body.
fuzz_target!(|data: &[u8]| {
    let [control, header_len, rest @ ..] = data else { return };
    let control = *control;
    let (header, body) = rest.split_at(usize::from(*header_len).min(rest.len()));
    let mut verifier = Verifier::new(Secret::new(SECRET)).with_body_limit(LIMIT);
    if control & 0x80 != 0 {
        verifier = verifier.with_replay_window(Duration::from_secs(300));
    }

    // Stream the body in uneven chunks, as a chunked request would arrive.
    let Ok(mut buffer) = verifier.body_buffer(None) else { return };
    let mut overflowed = false;
    for chunk in body.chunks(usize::from(control % 13) + 1) {
        if buffer.push(Bytes::copy_from_slice(chunk)).is_err() {
            overflowed = true;
            break;
        }
    }
    assert_eq!(overflowed, body.len() > LIMIT);
    if overflowed {
        return;
    }
    let body = buffer.finish();

    let header = (control & 0x40 == 0).then_some(header);
    if let Ok(verified) = verifier.verify_at(header, body.clone(), OffsetDateTime::UNIX_EPOCH) {
        assert_eq!(verified.body(), &body);
        assert_eq!(
            verified.signature(),
            &Signature::compute(&Secret::new(SECRET), &body)
        );
    }
});
