//! Whatever the secret and body, our signature verifies, and flipping any bit of the body or
//! of the signature makes it fail.
#![no_main]

use flowtriq_webhook::{Error, Secret, Verifier, sign};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let (secret, body) = rest.split_at(usize::from(split).min(rest.len()));
    let secret = Secret::new(secret);
    let verifier = Verifier::new(secret.clone());
    let header = sign(&secret, body);

    let outcome = verifier.verify(Some(header.as_bytes()), body.to_vec());
    assert!(!matches!(outcome, Err(Error::SignatureMismatch { .. } | Error::Signature(_))));

    if !body.is_empty() {
        let mut tampered = body.to_vec();
        let bit = usize::from(split) % (tampered.len() * 8);
        if let Some(byte) = tampered.get_mut(bit / 8) {
            *byte ^= 1 << (bit % 8);
        }
        let outcome = verifier.verify(Some(header.as_bytes()), tampered);
        assert!(matches!(outcome, Err(Error::SignatureMismatch { .. })));
    }

    // Flip one bit of one hex digit's value: still hex, different tag.
    let mut forged = header.into_bytes();
    let at = 7 + usize::from(split) % 64;
    if let Some(digit) = forged.get_mut(at) {
        *digit = if *digit == b'0' { b'1' } else { b'0' };
    }
    let outcome = verifier.verify(Some(&forged), body.to_vec());
    assert!(matches!(outcome, Err(Error::SignatureMismatch { .. })));
});
