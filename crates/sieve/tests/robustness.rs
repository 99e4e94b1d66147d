//! Broken scripts and odd messages: errors, never panics.

mod common;

use common::*;
use imipd_sieve::{Prefs, compile, generate_section, run, splice};

/// Every prefix of a real script, and copies with bytes swapped for Sieve's special
/// characters: each either compiles and runs, or fails with a positioned error.
#[test]
fn truncated_and_mangled_scripts() {
    let user = "require [\"fileinto\", \"variables\", \"enotify\", \"imap4flags\"];\n\
                if header :matches \"Subject\" \"*: *\" { set \"t\" \"${1}\"; addflag \"${t}\"; }\n\
                notify :method \"addcal\" :options [\"calendarId\", \"work\"];\n\
                fileinto text:\nFolder\n.\n;\n";
    let full = splice(&generate_section(&Prefs::default()), user);
    let host = FakeHost::default();
    let message = invitation("friend@example.org", "");
    let mut variants: Vec<String> = full
        .char_indices()
        .map(|(i, _)| full[..i].to_string())
        .collect();
    let specials = ['"', ';', '{', '}', '[', ']', ':', '\\', '#', '$', '\n'];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..600 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut bytes: Vec<char> = full.chars().collect();
        let at = (seed >> 33) as usize % bytes.len();
        bytes[at] = specials[(seed >> 13) as usize % specials.len()];
        variants.push(bytes.into_iter().collect());
    }
    let (mut compiled, mut refused) = (0, 0);
    for source in &variants {
        match compile(source) {
            Ok(script) => {
                let r = run(Some(&script), &message, &envelope(), &facts(), &host);
                assert!(!r.deliveries.is_empty() || r.errors.is_empty());
                compiled += 1;
            }
            Err(e) => {
                let lines = source.lines().count().max(1);
                assert!(e.line >= 1 && e.line <= lines + 1, "{e} for {source:?}");
                assert!(e.column >= 1, "{e}");
                refused += 1;
            }
        }
    }
    assert!(
        compiled > 0 && refused > 0,
        "{compiled} compiled, {refused} refused"
    );
}

#[test]
fn oversized_script_is_refused() {
    let big = "keep;\n".repeat(imipd_sieve::MAX_SCRIPT_BYTES / 6 + 1);
    let e = compile(&big).unwrap_err();
    assert!(e.message.contains("limit"), "{e}");
}
