//! The calendar part of a mail: the one rule, the MIME limits, and what is refused with a
//! reason instead of reaching the calendar core (issue 14 items 6, 8 and 10).

use imipd_message::{MessageView, MimeLimits};

fn ics(method: &str, uid: &str, extra: &str) -> String {
    let method = if method.is_empty() {
        String::new()
    } else {
        format!("METHOD:{method}\r\n")
    };
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n{method}BEGIN:VEVENT\r\nUID:{uid}\r\n\
         DTSTAMP:20260101T100000Z\r\nDTSTART:20260105T100000Z\r\n{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn mail(parts: &[(&str, String)]) -> Vec<u8> {
    let mut m = String::from(
        "From: a@example.com\r\nTo: b@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"B\"\r\n\r\n",
    );
    for (ctype, body) in parts {
        m.push_str(&format!("--B\r\nContent-Type: {ctype}\r\n\r\n{body}\r\n"));
    }
    m.push_str("--B--\r\n");
    m.into_bytes()
}

#[test]
fn which_part_is_the_invitation_and_why_not() {
    let limits = MimeLimits {
        max_parts: 6,
        ..MimeLimits::default()
    };
    let long_uid = "u".repeat(1000);
    // (case, message, Ok(method, uid) or Err(part of the reason); None: no invitation)
    type Case = (
        &'static str,
        Vec<u8>,
        Option<Result<(&'static str, String), &'static str>>,
    );
    let cases: Vec<Case> = vec![
        (
            "text/calendar with a matching method",
            mail(&[
                ("text/plain", "hi".into()),
                ("text/calendar; method=REQUEST", ics("REQUEST", "u1", "")),
            ]),
            Some(Ok(("request", "u1".into()))),
        ),
        (
            "method parameter omitted",
            mail(&[("application/ics", ics("CANCEL", "u2", ""))]),
            Some(Ok(("cancel", "u2".into()))),
        ),
        (
            "method parameter in another case",
            mail(&[("text/calendar; method=cancel", ics("CANCEL", "u2", ""))]),
            Some(Ok(("cancel", "u2".into()))),
        ),
        (
            "Content-Type says CANCEL, the body says REQUEST",
            mail(&[("text/calendar; method=CANCEL", ics("REQUEST", "u3", ""))]),
            Some(Err("RFC 6047")),
        ),
        (
            "two METHOD lines",
            mail(&[(
                "text/calendar",
                ics("REQUEST", "u4", "")
                    .replace("METHOD:REQUEST\r\n", "METHOD:REQUEST\r\nMETHOD:CANCEL\r\n"),
            )]),
            Some(Err("METHOD")),
        ),
        (
            "a VCALENDAR that is never ENDed",
            mail(&[(
                "text/calendar",
                ics("REQUEST", "u5", "").replace("END:VCALENDAR\r\n", ""),
            )]),
            Some(Err("BEGIN:VCALENDAR without END")),
        ),
        (
            "junk lines",
            mail(&[(
                "text/calendar",
                ics("REQUEST", "u6", "this is not a content line\r\n"),
            )]),
            Some(Err("is not a content line")),
        ),
        (
            "an impossible date",
            mail(&[(
                "text/calendar",
                ics("REQUEST", "u7", "")
                    .replace("DTSTART:20260105T100000Z", "DTSTART:20261345T256161Z"),
            )]),
            Some(Err(
                "DTSTART \"20261345T256161Z\" in a VEVENT is not a real date",
            )),
        ),
        (
            "a 1,000-byte UID",
            mail(&[("text/calendar", ics("REQUEST", &long_uid, ""))]),
            Some(Err("longer than 984 bytes")),
        ),
        (
            "a calendar without METHOD is no invitation",
            mail(&[("text/calendar", ics("", "u8", ""))]),
            None,
        ),
        (
            "a broken part, then a good one",
            mail(&[
                ("text/calendar", "not a calendar".into()),
                ("text/calendar", ics("REQUEST", "u9", "")),
            ]),
            Some(Ok(("request", "u9".into()))),
        ),
        (
            "more parts than limits.mime_parts",
            mail(&[
                ("text/plain", "1".into()),
                ("text/plain", "2".into()),
                ("text/plain", "3".into()),
                ("text/plain", "4".into()),
                ("text/plain", "5".into()),
                ("text/calendar", ics("REQUEST", "u10", "")),
            ]),
            Some(Err("too many MIME parts (7, limit 6)")),
        ),
    ];
    for (case, message, want) in cases {
        let view = MessageView::parse(&message, "", &limits, &[]);
        let scan = &view.calendar;
        let got = match (&scan.invitation, &scan.error) {
            (Some(inv), None) => Some(Ok((inv.method.as_lower(), inv.uid.clone()))),
            (None, Some(e)) => Some(Err(e.clone())),
            (None, None) => None,
            (Some(_), Some(e)) => panic!("case {case}: an invitation and an error ({e})"),
        };
        let ok = match (&got, &want) {
            (Some(Ok(g)), Some(Ok(w))) => g.0 == w.0 && g.1 == w.1,
            (Some(Err(g)), Some(Err(w))) => g.contains(w),
            (None, None) => true,
            _ => false,
        };
        assert!(ok, "case {case}\n  expected: {want:?}\n  got: {got:?}");
        assert!(
            scan.had_calendar_part,
            "case {case}: calendar part not seen"
        );
    }
}
