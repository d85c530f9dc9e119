//! Signature header parsing never panics, and what parses prints back to an equal signature.
#![no_main]

use flowtriq_webhook::Signature;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|header: &[u8]| {
    if let Ok(signature) = Signature::parse(header) {
        assert_eq!(Signature::parse(signature.to_string().as_bytes()), Ok(signature));
    }
});
