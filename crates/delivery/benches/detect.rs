//! What detection adds to a delivery: `scan` (the one parse of a message: MIME, header
//! facts, the calendar part) on the message shapes the load tool sends.
//! Compare with the per-message delivery latency `imipd-bench` reports (BENCHMARKS.md).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imipd_delivery::detect::{MimeLimits, scan};
use std::hint::black_box;

const ICS: &str = "BEGIN:VCALENDAR\r\nPRODID:-//bench//EN\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n\
BEGIN:VEVENT\r\nUID:bench-1@example.org\r\nSEQUENCE:0\r\nDTSTAMP:20261120T090000Z\r\n\
DTSTART:20261201T100000Z\r\nDTEND:20261201T110000Z\r\nSUMMARY:Bench meeting\r\n\
ORGANIZER;CN=Alice:mailto:alice@example.org\r\n\
ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

fn filler(size: usize) -> String {
    let line = "The quick brown fox jumps over the lazy dog, again and again and again.\r\n";
    line.repeat(size / line.len() + 1)
}

fn plain(size: usize) -> Vec<u8> {
    format!(
        "From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: plain\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}",
        filler(size)
    )
    .into_bytes()
}

fn invitation(body: usize) -> Vec<u8> {
    format!(
        "From: Alice <alice@example.org>\r\nTo: bob@example.org\r\nSubject: invite\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\n{}\r\n\
         --b\r\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\r\n{ICS}\r\n--b--\r\n",
        filler(body)
    )
    .into_bytes()
}

fn detect(c: &mut Criterion) {
    let config = MimeLimits::default();
    let cases = [
        ("plain-2k", plain(2 * 1024)),
        ("plain-100k", plain(100 * 1024)),
        ("invite-1k", invitation(1024)),
        ("invite-100k", invitation(100 * 1024)),
    ];
    let mut group = c.benchmark_group("detect");
    for (name, message) in &cases {
        group.throughput(Throughput::Bytes(message.len() as u64));
        group.bench_function(*name, |b| {
            b.iter(|| {
                scan(black_box(message), "", &config, &[])
                    .calendar
                    .invitation
                    .is_some()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, detect);
criterion_main!(benches);
