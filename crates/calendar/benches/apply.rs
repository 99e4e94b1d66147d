//! Messages applied per second for the three common cases.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imipd_calendar::{Facts, Limits, Policy, apply};
use std::hint::black_box;

fn event(sequence: u32, bob: &str, summary: &str) -> String {
    let mut attendees = String::new();
    for i in 0..20 {
        attendees.push_str(&format!(
            "ATTENDEE;CN=Guest {i};PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:guest{i}@example.net\r\n"
        ));
    }
    format!(
        "BEGIN:VEVENT\r\nUID:bench-1@example.org\r\nDTSTAMP:20260101T0900{sequence:02}Z\r\nSEQUENCE:{sequence}\r\n\
DTSTART;TZID=Europe/Berlin:20260310T100000\r\nDTEND;TZID=Europe/Berlin:20260310T110000\r\n\
RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20261231T000000Z\r\nSUMMARY:{summary}\r\nLOCATION:Room 4\r\n\
DESCRIPTION:Weekly planning\\, with notes\\; and more.\r\n\
ORGANIZER;CN=Alice:mailto:alice@example.org\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:alice@example.org\r\n\
ATTENDEE;PARTSTAT={bob};RSVP=TRUE:mailto:bob@example.org\r\n{attendees}END:VEVENT\r\n"
    )
}

fn calendar(method: Option<&str>, body: &str) -> String {
    let method = method
        .map(|m| format!("METHOD:{m}\r\n"))
        .unwrap_or_default();
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n{method}BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n\
BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n\
END:VTIMEZONE\r\n{body}END:VCALENDAR\r\n"
    )
}

fn facts(user: &str, sender: &str) -> Facts {
    Facts {
        recipient: user.into(),
        user_addresses: vec![user.into()],
        sender: sender.into(),
        authenticated: true,
        spam: false,
    }
}

fn bench(c: &mut Criterion) {
    let limits = Limits::default();
    let policy = Policy::default();
    let stored = calendar(None, &event(0, "ACCEPTED", "Planning"));
    let new = calendar(Some("REQUEST"), &event(0, "NEEDS-ACTION", "Planning"));
    let update = calendar(
        Some("REQUEST"),
        &event(1, "NEEDS-ACTION", "Planning (moved)"),
    );
    let reply = calendar(Some("REPLY"), &event(0, "TENTATIVE", "Planning"));
    let bob = facts("bob@example.org", "alice@example.org");
    let alice = facts("alice@example.org", "bob@example.org");

    let mut group = c.benchmark_group("apply");
    group.throughput(Throughput::Elements(1));
    group.bench_function("REQUEST new", |b| {
        b.iter(|| apply(None, black_box(&new), &bob, &policy, &limits))
    });
    group.bench_function("REQUEST update", |b| {
        b.iter(|| apply(Some(&stored), black_box(&update), &bob, &policy, &limits))
    });
    group.bench_function("REPLY", |b| {
        b.iter(|| apply(Some(&stored), black_box(&reply), &alice, &policy, &limits))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
