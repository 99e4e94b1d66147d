//! Rendering a Depth 1 PROPFIND answer over 10,000 objects (the issue's target is
//! about 30 ms for the whole request), and parsing the bodies clients send most.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use imipd_dav::headers::Prefer;
use imipd_dav::name::{Name, PropName};
use imipd_dav::propfind::{Answerer, PropertySource, ResourceKind};
use imipd_dav::response::Xml;
use imipd_dav::{Multistatus, parse_propfind, parse_report};
use std::hint::black_box;

struct Object {
    etag: String,
}

impl PropertySource for Object {
    fn kind(&self) -> ResourceKind {
        ResourceKind::CalendarObject
    }
    fn live(&self, name: &PropName, x: &mut Xml<'_>) -> bool {
        match name {
            PropName::GetEtag => x.text(&self.etag),
            _ => return false,
        }
        true
    }
    fn dead(&self, _: &Name) -> Option<&str> {
        None
    }
    fn each_dead(&self, _: &mut dyn FnMut(&Name, &str)) {}
}

const OBJECTS: usize = 10_000;

fn propfind_depth_1(c: &mut Criterion) {
    // What vdirsyncer and Thunderbird ask of every member of a calendar.
    let sel = parse_propfind(
        br#"<propfind xmlns="DAV:"><prop><resourcetype/><getcontenttype/><getetag/></prop></propfind>"#,
    )
    .unwrap();
    let objects: Vec<(String, Object)> = (0..OBJECTS)
        .map(|i| {
            (
                format!("/dav/calendars/alice@example.com/home/{i:08x}-5f2b-4c1e-9a7d-event@example.com.ics"),
                Object { etag: format!("\"{:016x}\"", i as u64 * 0x9e37_79b9_7f4a_7c15) },
            )
        })
        .collect();
    let mut group = c.benchmark_group("multistatus");
    group.throughput(Throughput::Elements(OBJECTS as u64));
    group.bench_function("propfind depth 1, 10,000 objects", |b| {
        b.iter(|| {
            let mut ms = Multistatus::with_capacity(OBJECTS * 400);
            let mut answerer = Answerer::default();
            for (path, object) in &objects {
                answerer.answer(&mut ms, path, &sel, object, Prefer::default());
            }
            black_box(ms.finish(None).len())
        })
    });
    group.finish();
}

fn parse_bodies(c: &mut Criterion) {
    let query = br#"<?xml version="1.0" encoding="UTF-8"?><CAL:calendar-query xmlns="DAV:" xmlns:CAL="urn:ietf:params:xml:ns:caldav"><prop><getetag /></prop><CAL:filter><CAL:comp-filter name="VCALENDAR"><CAL:comp-filter name="VEVENT"><CAL:time-range start="19941106T084937Z" end="20230714T084937Z" /></CAL:comp-filter></CAL:comp-filter></CAL:filter></CAL:calendar-query>"#;
    let apple = include_str!("apple-calendar-list.xml");
    let mut multiget = String::from(
        r#"<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:prop><D:getetag/><C:calendar-data/></D:prop>"#,
    );
    for i in 0..100 {
        multiget.push_str(&format!(
            "<D:href>/dav/calendars/alice%40example.com/home/{i:08x}.ics</D:href>"
        ));
    }
    multiget.push_str("</C:calendar-multiget>");
    let mut group = c.benchmark_group("parse");
    group.bench_function("calendar-query (DAVx5)", |b| {
        b.iter(|| black_box(parse_report(black_box(query)).is_ok()))
    });
    group.bench_function("propfind (Apple calendar list)", |b| {
        b.iter(|| black_box(parse_propfind(black_box(apple.as_bytes())).is_ok()))
    });
    group.bench_function("calendar-multiget of 100", |b| {
        b.iter(|| black_box(parse_report(black_box(multiget.as_bytes())).is_ok()))
    });
    group.finish();
}

criterion_group!(benches, propfind_depth_1, parse_bodies);
criterion_main!(benches);
