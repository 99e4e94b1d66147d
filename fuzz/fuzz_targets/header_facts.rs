//! The message side on arbitrary bytes: normalize, the one parse (header facts, the
//! calendar-part rule), the forged-header strip and the Sieve view. Any panic is a bug.

#![no_main]

use imipd_message::{MessageView, MimeLimits, SieveView, authres, normalize};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let normalized = normalize(data);
    let view = MessageView::parse(
        &normalized,
        "a@example.org",
        &MimeLimits::default(),
        &["mx.example.org".to_string()],
    );
    assert_eq!(view.facts.authenticated, view.facts.unauthenticated.is_none());
    let _ = view.kept();
    let mut sieve = SieveView::new(&view);
    sieve.lend("X-ME-Cal-Method: request\r\n", |m| ((), m));
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = authres::parse(text);
    }
});
