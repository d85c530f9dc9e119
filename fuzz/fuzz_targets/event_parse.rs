//! Event parsing never panics; an accepted attack event always has an incident id.
#![no_main]

use flowtriq_webhook::Event;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    if let Ok(event) = Event::from_slice(body) {
        assert!(!event.event_type.is_attack() || event.incident_id().is_some());
        assert!(std::str::from_utf8(body).is_ok());
    }
});
