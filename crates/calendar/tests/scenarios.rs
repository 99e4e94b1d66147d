//! One table of iTIP situations: stored object + message + facts → outcome and result.

mod common;

use common::*;
use imipd_calendar::{Change, Decision, Facts, Limits, OutcomeKind, Policy, apply};

use OutcomeKind::{Added, Error, NoAction, Updated};

struct Scenario {
    name: &'static str,
    stored: Option<String>,
    message: String,
    facts: Facts,
    policy: Policy,
    limits: Limits,
    expect: OutcomeKind,
    check: fn(&Decision),
}

fn sc(
    name: &'static str,
    stored: Option<String>,
    message: String,
    expect: OutcomeKind,
    check: fn(&Decision),
) -> Scenario {
    Scenario {
        name,
        stored,
        message,
        facts: bob_facts(),
        policy: policy(),
        limits: Limits::default(),
        expect,
        check,
    }
}

impl Scenario {
    fn facts(mut self, f: impl FnOnce(&mut Facts)) -> Self {
        f(&mut self.facts);
        self
    }
    fn policy(mut self, f: impl FnOnce(&mut Policy)) -> Self {
        f(&mut self.policy);
        self
    }
    fn limits(mut self, f: impl FnOnce(&mut Limits)) -> Self {
        f(&mut self.limits);
        self
    }
    /// Alice is the user (organizer), Bob the sender.
    fn for_alice(self) -> Self {
        self.facts(|f| *f = alice_facts())
    }
}

fn no_check(_: &Decision) {}

fn unchanged(d: &Decision) {
    assert_eq!(d.change, Change::None);
}

fn reason_has(d: &Decision, words: &str) {
    assert!(
        d.outcome.reason.contains(words),
        "reason {:?} should mention {words:?}",
        d.outcome.reason
    );
}

fn stored_event(extra: &[&str]) -> Option<String> {
    Some(cal(None, &[event(extra)]))
}

fn request(comps: &[String]) -> String {
    cal(Some("REQUEST"), comps)
}

const RECURRING: &str = "RRULE:FREQ=WEEKLY;COUNT=10";

fn scenarios() -> Vec<Scenario> {
    vec![
        // ---- REQUEST: new events ----
        sc("request adds a new event", None, request(&[event(&[])]), Added, |d| {
            assert!(!put(d).contains("METHOD"), "stored objects carry no METHOD");
            let m = master(d);
            assert_eq!(m.uid, "evt-1");
            assert_eq!(m.summary, "Planning");
            assert_eq!(partstat_of(&m, BOB).as_deref(), Some("NEEDS-ACTION"));
            assert_eq!(d.uid.as_deref(), Some("evt-1"));
        }),
        sc(
            "request to a +tag and upper-case alias of the user",
            None,
            request(&[event(&["ATTENDEE:MAILTO:Bob+Work@Example.ORG"])]),
            Added,
            no_check,
        ),
        sc(
            "request the user is not invited to",
            None,
            request(&[event(&["ATTENDEE:mailto:carol@example.org"])]),
            NoAction,
            |d| {
                unchanged(d);
                reason_has(d, "not an ATTENDEE");
            },
        ),
        sc("updates-only policy refuses new events", None, request(&[event(&[])]), NoAction, |d| {
            unchanged(d);
            reason_has(d, "updates only");
        })
        .policy(|p| p.updates_only = true),
        sc("organizer allow-list refuses others", None, request(&[event(&[])]), NoAction, |d| {
            reason_has(d, "not in the allowed organizers");
        })
        .policy(|p| p.organizers = Some(vec!["carol@example.org".into()])),
        sc("organizer allow-list accepts listed organizer", None, request(&[event(&[])]), Added, no_check)
            .policy(|p| p.organizers = Some(vec!["MAILTO:Alice@Example.org".into()])),
        sc(
            "forwarded invitation is not added automatically",
            None,
            request(&[event(&[])]),
            NoAction,
            |d| {
                unchanged(d);
                reason_has(d, "sent by carol@example.org, who is neither the organizer alice@example.org nor its SENT-BY");
            },
        )
        .facts(|f| f.sender = CAROL.into()),
        sc(
            "forwarded invitation added by hand names who forwarded it",
            None,
            request(&[event(&[])]),
            Added,
            |d| reason_has(d, "from alice@example.org (sent by carol@example.org)"),
        )
        .facts(|f| f.sender = CAROL.into())
        .policy(|p| p.manual = true),
        sc(
            "new invitation sent by the organizer's SENT-BY delegate",
            None,
            request(&[event(&["ORGANIZER;SENT-BY=\"mailto:sec@example.org\":mailto:alice@example.org"])]),
            Added,
            no_check,
        )
        .facts(|f| f.sender = "Sec@Example.ORG".into()),
        sc(
            "new invitation from a trusted delegate",
            None,
            request(&[event(&[])]),
            Added,
            no_check,
        )
        .facts(|f| f.sender = "sec@example.org".into())
        .policy(|p| p.trusted_sent_by = vec!["sec@example.org".into()]),
        sc(
            "new invitation claiming the user accepted stores NEEDS-ACTION",
            None,
            request(&[
                event(&[RECURRING, "ATTENDEE;PARTSTAT=ACCEPTED;RSVP=TRUE:mailto:bob@example.org"]),
                event(&["RECURRENCE-ID:20260317T100000Z", "ATTENDEE;PARTSTAT=DECLINED:mailto:Bob+cal@example.org"]),
            ]),
            Added,
            |d| {
                for s in sums(d) {
                    let bob = s.attendees.iter().find(|(a, _)| a.starts_with("bob")).map(|(_, p)| p.as_str());
                    assert_eq!(bob, Some("NEEDS-ACTION"), "{s:?}");
                }
            },
        ),
        sc(
            "new invitation leaves the other attendees' answers as sent",
            None,
            request(&[event(&["ATTENDEE;PARTSTAT=ACCEPTED:mailto:carol@example.org", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org"])]),
            Added,
            |d| {
                assert_eq!(partstat_of(&master(d), CAROL).as_deref(), Some("ACCEPTED"));
                assert_eq!(partstat_of(&master(d), BOB).as_deref(), Some("NEEDS-ACTION"));
            },
        ),
        sc(
            "update that newly names the user cannot answer for them",
            stored_event(&["ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:carol@example.org"]),
            request(&[event(&["SEQUENCE:1", "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:carol@example.org", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org"])]),
            Updated,
            |d| assert_eq!(partstat_of(&master(d), BOB).as_deref(), Some("NEEDS-ACTION")),
        ),
        sc(
            "request without ORGANIZER is an error",
            None,
            request(&[event(&["-ORGANIZER"])]),
            Error,
            |d| reason_has(d, "no ORGANIZER"),
        ),
        sc(
            "request where the user is the organizer",
            None,
            request(&[event(&[])]),
            NoAction,
            |d| reason_has(d, "is the organizer"),
        )
        .facts(|f| f.user_addresses = vec![ALICE.into(), BOB.into()]),
        sc(
            "new request strips alarms and local attachments",
            None,
            request(&[event(&[
                "ATTACH:file:///etc/passwd",
                "ATTACH:smb://fileserver/share/payload.exe",
                "ATTACH:\\\\\\\\fileserver\\\\share\\\\x.lnk",
                "ATTACH:https://example.org/agenda.pdf",
                "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT5M\r\nEND:VALARM",
            ])]),
            Added,
            |d| {
                let text = put(d);
                assert!(!text.contains("VALARM"), "{text}");
                assert!(!text.contains("file:"), "{text}");
                assert!(!text.to_ascii_lowercase().contains("smb:"), "{text}");
                assert!(!text.contains("fileserver"), "{text}");
                assert!(text.contains("https://example.org/agenda.pdf"), "{text}");
            },
        ),
        sc(
            "request forging bookkeeping properties has them removed",
            None,
            request(&[event(&["X-IMIPD-COUNTER;X-IMIPD-FROM=mailto:x@y:DTSTART=1"])]),
            Added,
            |d| assert!(!put(d).contains("X-IMIPD"), "{}", put(d)),
        ),
        sc(
            "request with master and override in one message",
            None,
            request(&[
                event(&[RECURRING]),
                event(&["RECURRENCE-ID:20260317T100000Z", "DTSTART:20260317T120000Z", "DTEND:20260317T130000Z"]),
            ]),
            Added,
            |d| {
                let all = sums(d);
                assert_eq!(all.len(), 2);
                assert!(all.iter().any(|s| s.recurrence_id.as_deref() == Some("20260317T100000Z")));
            },
        ),
        sc("request for a VTODO", None, request(&[todo(&["-DTEND", "DUE:20260311T170000Z"])]), Added, |d| {
            assert!(put(d).contains("BEGIN:VTODO"));
            reason_has(d, "new task");
        }),
        sc(
            "all-day event",
            None,
            request(&[event(&["DTSTART;VALUE=DATE:20260310", "DTEND;VALUE=DATE:20260311"])]),
            Added,
            |d| assert_eq!(master(d).start, "20260310"),
        ),
        sc(
            "floating time stays floating",
            None,
            request(&[event(&["DTSTART:20260310T100000", "DTEND:20260310T110000"])]),
            Added,
            |d| assert_eq!(master(d).start, "20260310T100000"),
        ),
        sc(
            "unknown TZID without VTIMEZONE is kept as sent",
            None,
            request(&[event(&["DTSTART;TZID=Mars/Olympus:20260310T100000", "DTEND;TZID=Mars/Olympus:20260310T110000"])]),
            Added,
            |d| assert!(put(d).contains("TZID=Mars/Olympus"), "{}", put(d)),
        ),
        sc(
            "VTIMEZONE travels with a new event",
            None,
            format!(
                "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n{}END:VCALENDAR\r\n",
                event(&["DTSTART;TZID=Europe/Berlin:20260310T100000", "-DTEND"])
            ),
            Added,
            |d| assert!(put(d).contains("BEGIN:VTIMEZONE"), "{}", put(d)),
        ),
        // ---- REQUEST: updates ----
        sc(
            "newer SEQUENCE updates",
            stored_event(&[]),
            request(&[event(&["SEQUENCE:1", "SUMMARY:Planning (moved)", "DTSTART:20260311T100000Z"])]),
            Updated,
            |d| {
                let m = master(d);
                assert_eq!(m.summary, "Planning (moved)");
                assert_eq!(m.start, "20260311T100000Z");
            },
        ),
        sc(
            "lower SEQUENCE is ignored",
            stored_event(&["SEQUENCE:3"]),
            request(&[event(&["SEQUENCE:2", "SUMMARY:Old"])]),
            NoAction,
            |d| {
                unchanged(d);
                reason_has(d, "SEQUENCE 2");
            },
        ),
        sc(
            "same SEQUENCE with older DTSTAMP is ignored",
            stored_event(&["SEQUENCE:1", "DTSTAMP:20260105T000000Z"]),
            request(&[event(&["SEQUENCE:1", "DTSTAMP:20260104T000000Z", "SUMMARY:Old"])]),
            NoAction,
            unchanged,
        ),
        sc(
            "same SEQUENCE with newer DTSTAMP updates",
            stored_event(&["SEQUENCE:1", "DTSTAMP:20260105T000000Z"]),
            request(&[event(&["SEQUENCE:1", "DTSTAMP:20260106T000000Z", "SUMMARY:Newer"])]),
            Updated,
            |d| assert_eq!(master(d).summary, "Newer"),
        ),
        sc(
            "duplicate delivery changes nothing",
            stored_event(&[]),
            request(&[event(&[])]),
            NoAction,
            |d| reason_has(d, "already up to date"),
        ),
        sc(
            "update from someone other than the organizer",
            stored_event(&[]),
            request(&[event(&["SEQUENCE:5", "SUMMARY:Hijacked"])]),
            NoAction,
            |d| {
                unchanged(d);
                reason_has(d, "sender mallory@evil.example is not the organizer alice@example.org of evt-1");
            },
        )
        .facts(|f| f.sender = MALLORY.into()),
        sc(
            "update from a trusted delegate",
            stored_event(&[]),
            request(&[event(&["SEQUENCE:1", "ORGANIZER;SENT-BY=\"mailto:sec@example.org\":mailto:alice@example.org"])]),
            Updated,
            no_check,
        )
        .facts(|f| f.sender = "Sec@Example.org".into())
        .policy(|p| p.trusted_sent_by = vec!["mailto:sec@example.org".into()]),
        sc(
            "update from the delegate named in the stored ORGANIZER's SENT-BY",
            stored_event(&["ORGANIZER;SENT-BY=\"mailto:sec@example.org\":mailto:alice@example.org"]),
            request(&[event(&["SEQUENCE:1", "SUMMARY:Moved by the secretary"])]),
            Updated,
            |d| assert_eq!(master(d).summary, "Moved by the secretary"),
        )
        .facts(|f| f.sender = "SEC@example.org".into()),
        sc(
            "cancel from the delegate named in the stored ORGANIZER's SENT-BY",
            stored_event(&["ORGANIZER;SENT-BY=\"mailto:sec@example.org\":mailto:alice@example.org"]),
            cal(Some("CANCEL"), &[event(&["SEQUENCE:1"])]),
            Updated,
            |d| assert_eq!(master(d).status, "CANCELLED"),
        )
        .facts(|f| f.sender = "sec@example.org".into()),
        sc(
            "a SENT-BY claimed only by the message gives no right",
            stored_event(&[]),
            request(&[event(&["SEQUENCE:1", "ORGANIZER;SENT-BY=\"mailto:mallory@evil.example\":mailto:alice@example.org", "SUMMARY:Hijacked"])]),
            NoAction,
            |d| reason_has(d, "is not the organizer alice@example.org"),
        )
        .facts(|f| f.sender = MALLORY.into()),
        sc(
            "a Kelvin-sign look-alike of the SENT-BY delegate",
            stored_event(&["ORGANIZER;SENT-BY=\"mailto:kate@example.org\":mailto:alice@example.org"]),
            cal(Some("CANCEL"), &[event(&["SEQUENCE:1"])]),
            NoAction,
            |d| reason_has(d, "is not the organizer"),
        )
        .facts(|f| f.sender = "\u{212A}ate@example.org".into()),
        sc(
            "ORGANIZER change on an existing UID is never applied",
            stored_event(&[]),
            request(&[event(&["SEQUENCE:1", "ORGANIZER:mailto:mallory@evil.example"])]),
            NoAction,
            |d| reason_has(d, "ORGANIZER change"),
        )
        .facts(|f| f.sender = MALLORY.into()),
        sc(
            "update keeps the user's own answer",
            stored_event(&["ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org"]),
            request(&[event(&["SEQUENCE:1", "ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:bob@example.org"])]),
            Updated,
            |d| assert_eq!(partstat_of(&master(d), BOB).as_deref(), Some("ACCEPTED")),
        ),
        sc(
            "update keeps the user's alarms, TRANSP and CATEGORIES",
            stored_event(&[
                "TRANSP:TRANSPARENT",
                "CATEGORIES:Private",
                "BEGIN:VALARM\r\nACTION:DISPLAY\r\nTRIGGER:-PT30M\r\nEND:VALARM",
            ]),
            request(&[event(&[
                "SEQUENCE:1",
                "TRANSP:OPAQUE",
                "BEGIN:VALARM\r\nACTION:AUDIO\r\nTRIGGER:-PT1M\r\nEND:VALARM",
            ])]),
            Updated,
            |d| {
                let text = put(d);
                assert!(text.contains("TRANSP:TRANSPARENT"), "{text}");
                assert!(!text.contains("TRANSP:OPAQUE"), "{text}");
                assert!(text.contains("CATEGORIES:Private"), "{text}");
                assert!(text.contains("TRIGGER:-PT30M"), "{text}");
                assert!(!text.contains("ACTION:AUDIO"), "{text}");
            },
        ),
        sc(
            "update of one instance adds an override",
            stored_event(&[RECURRING]),
            request(&[event(&["RECURRENCE-ID:20260317T100000Z", "DTSTART:20260317T140000Z", "DTEND:20260317T150000Z", "SUMMARY:Moved once"])]),
            Updated,
            |d| {
                let all = sums(d);
                assert_eq!(all.len(), 2);
                assert_eq!(master(d).summary, "Planning");
                let o = all.iter().find(|s| s.recurrence_id.is_some()).unwrap();
                assert_eq!(o.summary, "Moved once");
                assert_eq!(partstat_of(o, BOB).as_deref(), Some("NEEDS-ACTION"));
            },
        ),
        sc(
            "this-and-future update is applied to the instance and says so",
            stored_event(&[RECURRING]),
            request(&[event(&["RECURRENCE-ID;RANGE=THISANDFUTURE:20260317T100000Z", "SUMMARY:Later"])]),
            Updated,
            |d| {
                reason_has(d, "THISANDFUTURE");
                assert_eq!(master(d).summary, "Planning");
            },
        ),
        sc(
            "update of an existing override replaces it",
            Some(cal(None, &[
                event(&[RECURRING]),
                event(&["RECURRENCE-ID:20260317T100000Z", "SUMMARY:First move"]),
            ])),
            request(&[event(&["RECURRENCE-ID:20260317T100000Z", "SEQUENCE:1", "SUMMARY:Second move"])]),
            Updated,
            |d| {
                let all = sums(d);
                assert_eq!(all.len(), 2);
                assert!(all.iter().any(|s| s.summary == "Second move"));
                assert!(!all.iter().any(|s| s.summary == "First move"));
            },
        ),
        sc(
            "full update drops overrides it no longer sends",
            Some(cal(None, &[
                event(&[RECURRING]),
                event(&["RECURRENCE-ID:20260317T100000Z", "SUMMARY:Moved"]),
            ])),
            request(&[event(&[RECURRING, "SEQUENCE:1"])]),
            Updated,
            |d| {
                assert_eq!(sums(d).len(), 1);
                reason_has(d, "removed");
            },
        ),
        sc(
            "instance update keeps the user's answer from the master",
            stored_event(&[RECURRING, "ATTENDEE;PARTSTAT=TENTATIVE:mailto:bob@example.org"]),
            request(&[event(&["RECURRENCE-ID:20260324T100000Z", "SUMMARY:Special"])]),
            Updated,
            |d| {
                let o = sums(d).into_iter().find(|s| s.recurrence_id.is_some()).unwrap();
                assert_eq!(partstat_of(&o, BOB).as_deref(), Some("TENTATIVE"));
            },
        ),
        sc(
            "request cannot take over a private event",
            stored_event(&["-ORGANIZER", "-ATTENDEE"]),
            request(&[event(&["SEQUENCE:1"])]),
            NoAction,
            |d| reason_has(d, "private event"),
        ),
        // ---- message-level checks ----
        sc("spam is never applied", None, request(&[event(&[])]), NoAction, |d| {
            unchanged(d);
            reason_has(d, "spam");
        })
        .facts(|f| f.spam = true),
        sc("unauthenticated sender is never applied", None, request(&[event(&[])]), NoAction, |d| {
            unchanged(d);
            reason_has(d, "not authenticated");
        })
        .facts(|f| f.authenticated = false),
        sc("no METHOD is not an iTIP message", None, cal(None, &[event(&[])]), NoAction, |d| {
            reason_has(d, "not an iTIP message");
            assert_eq!(d.method, None);
        }),
        sc("unknown METHOD", None, cal(Some("X-SHOUT"), &[event(&[])]), Error, |d| {
            reason_has(d, "METHOD")
        }),
        sc("garbage", None, "this is not a calendar".into(), Error, unchanged),
        sc(
            "override naming another organizer",
            None,
            request(&[
                event(&[RECURRING]),
                event(&["RECURRENCE-ID:20260317T100000Z", "ORGANIZER:mailto:mallory@evil.example"]),
            ]),
            Error,
            |d| reason_has(d, "two ORGANIZERs"),
        ),
        sc(
            "VJOURNAL is not scheduled here",
            None,
            cal(Some("PUBLISH"), &[component("VJOURNAL", &["-ATTENDEE"])]),
            NoAction,
            |d| reason_has(d, "only VEVENT and VTODO"),
        ),
        sc(
            "mixed UIDs in one message",
            None,
            request(&[event(&[]), event(&["UID:evt-2"])]),
            Error,
            |d| reason_has(d, "UID"),
        ),
        sc(
            "stored object for another UID",
            stored_event(&["UID:evt-9"]),
            request(&[event(&["SEQUENCE:1"])]),
            Error,
            |d| reason_has(d, "evt-9"),
        ),
        sc(
            "unreadable stored object",
            Some("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".into()),
            request(&[event(&["SEQUENCE:1"])]),
            Error,
            |d| reason_has(d, "stored copy"),
        ),
        sc("message without VEVENT or VTODO", None, cal(Some("REQUEST"), &[]), Error, |d| {
            reason_has(d, "no VEVENT or VTODO")
        }),
        // ---- CANCEL ----
        sc(
            "cancel marks the event cancelled",
            stored_event(&[]),
            cal(Some("CANCEL"), &[event(&["SEQUENCE:1", "STATUS:CANCELLED"])]),
            Updated,
            |d| assert_eq!(master(d).status, "CANCELLED"),
        ),
        sc(
            "cancel deletes when the policy says so",
            stored_event(&[]),
            cal(Some("CANCEL"), &[event(&["SEQUENCE:1", "STATUS:CANCELLED"])]),
            Updated,
            |d| assert_eq!(d.change, Change::Delete),
        )
        .policy(|p| p.delete_cancelled = true),
        sc(
            "cancel for an unknown UID",
            None,
            cal(Some("CANCEL"), &[event(&["SEQUENCE:1"])]),
            NoAction,
            |d| reason_has(d, "unknown"),
        ),
        sc(
            "cancel one instance adds an EXDATE",
            stored_event(&[RECURRING]),
            cal(Some("CANCEL"), &[event(&["RECURRENCE-ID:20260317T100000Z", "SEQUENCE:1"])]),
            Updated,
            |d| {
                assert!(put(d).contains("EXDATE:20260317T100000Z"), "{}", put(d));
                assert_eq!(master(d).status, "");
            },
        ),
        sc(
            "cancel an overridden instance marks the override",
            Some(cal(None, &[
                event(&[RECURRING]),
                event(&["RECURRENCE-ID:20260317T100000Z", "SUMMARY:Moved"]),
            ])),
            cal(Some("CANCEL"), &[event(&["RECURRENCE-ID:20260317T100000Z", "SEQUENCE:1"])]),
            Updated,
            |d| {
                let all = sums(d);
                let o = all.iter().find(|s| s.recurrence_id.is_some()).unwrap();
                assert_eq!(o.status, "CANCELLED");
                assert_eq!(master(d).status, "");
            },
        ),
        sc(
            "cancel from someone other than the organizer",
            stored_event(&[]),
            cal(Some("CANCEL"), &[event(&["SEQUENCE:1"])]),
            NoAction,
            |d| reason_has(d, "is not the organizer"),
        )
        .facts(|f| f.sender = MALLORY.into()),
        sc(
            "cancel older than the stored event",
            stored_event(&["SEQUENCE:4"]),
            cal(Some("CANCEL"), &[event(&["SEQUENCE:2"])]),
            NoAction,
            |d| reason_has(d, "outdated"),
        ),
        sc(
            "cancel of an already cancelled event",
            stored_event(&["STATUS:CANCELLED", "SEQUENCE:1"]),
            cal(Some("CANCEL"), &[event(&["SEQUENCE:1", "DTSTAMP:20260102T000000Z"])]),
            NoAction,
            |d| reason_has(d, "already cancelled"),
        ),
        sc(
            "cancel not addressed to the user",
            stored_event(&[]),
            cal(Some("CANCEL"), &[event(&["SEQUENCE:1", "ATTENDEE:mailto:carol@example.org"])]),
            NoAction,
            |d| reason_has(d, "not an ATTENDEE"),
        ),
        sc(
            "cancel without attendees falls back to the stored ones",
            stored_event(&[]),
            cal(Some("CANCEL"), &[event(&["SEQUENCE:1", "-ATTENDEE"])]),
            Updated,
            no_check,
        ),
        // ---- REPLY (Alice is the organizer and the user) ----
        sc(
            "reply records the attendee's answer",
            stored_event(&[]),
            cal(Some("REPLY"), &[event(&["ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org"])]),
            Updated,
            |d| {
                let m = master(d);
                assert_eq!(partstat_of(&m, BOB).as_deref(), Some("ACCEPTED"));
                assert_eq!(partstat_of(&m, ALICE).as_deref(), Some("ACCEPTED"));
                assert!(!put(d).contains("RSVP=TRUE"), "RSVP follows the reply: {}", put(d));
            },
        )
        .for_alice(),
        sc(
            "reply from a party crasher is refused",
            stored_event(&[]),
            cal(Some("REPLY"), &[event(&["ATTENDEE;PARTSTAT=ACCEPTED:mailto:carol@example.org"])]),
            NoAction,
            |d| reason_has(d, "party crasher"),
        )
        .for_alice()
        .facts(|f| f.sender = CAROL.into()),
        sc(
            "party crasher accepted when policy allows",
            stored_event(&[]),
            cal(Some("REPLY"), &[event(&["ATTENDEE;PARTSTAT=ACCEPTED:mailto:carol@example.org"])]),
            Updated,
            |d| assert_eq!(partstat_of(&master(d), CAROL).as_deref(), Some("ACCEPTED")),
        )
        .for_alice()
        .facts(|f| f.sender = CAROL.into())
        .policy(|p| p.allow_party_crashers = true),
        sc(
            "reply listing others changes only the sender",
            stored_event(&[
                "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.org",
                "ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:carol@example.org",
            ]),
            cal(Some("REPLY"), &[event(&[
                "ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org",
                "ATTENDEE;PARTSTAT=DECLINED:mailto:carol@example.org",
            ])]),
            Updated,
            |d| {
                let m = master(d);
                assert_eq!(partstat_of(&m, BOB).as_deref(), Some("ACCEPTED"));
                assert_eq!(partstat_of(&m, CAROL).as_deref(), Some("NEEDS-ACTION"));
            },
        )
        .for_alice(),
        sc(
            "reply that does not answer for its sender",
            stored_event(&[]),
            cal(Some("REPLY"), &[event(&["ATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.org"])]),
            NoAction,
            |d| {
                unchanged(d);
                reason_has(d, "does not answer for its sender");
            },
        )
        .for_alice()
        .facts(|f| f.sender = MALLORY.into()),
        sc(
            "reply to one instance creates an override",
            stored_event(&[RECURRING]),
            cal(Some("REPLY"), &[event(&["RECURRENCE-ID:20260317T100000Z", "ATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.org"])]),
            Updated,
            |d| {
                let all = sums(d);
                assert_eq!(all.len(), 2);
                assert_eq!(partstat_of(&master(d), BOB).as_deref(), Some("NEEDS-ACTION"));
                let o = all.iter().find(|s| s.recurrence_id.is_some()).unwrap();
                assert_eq!(partstat_of(o, BOB).as_deref(), Some("DECLINED"));
                assert_eq!(o.start, "20260317T100000Z");
                assert!(put(d).contains("DTEND:20260317T110000Z"), "{}", put(d));
            },
        )
        .for_alice(),
        sc(
            "series reply leaves instances answered apart",
            Some(cal(None, &[
                event(&[RECURRING]),
                event(&["RECURRENCE-ID:20260317T100000Z", "ATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.org"]),
                event(&["RECURRENCE-ID:20260324T100000Z"]),
            ])),
            cal(Some("REPLY"), &[event(&["ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org"])]),
            Updated,
            |d| {
                for s in sums(d) {
                    let want = if s.recurrence_id.as_deref() == Some("20260317T100000Z") {
                        "DECLINED"
                    } else {
                        "ACCEPTED"
                    };
                    assert_eq!(partstat_of(&s, BOB).as_deref(), Some(want), "{s:?}");
                }
            },
        )
        .for_alice(),
        sc(
            "Outlook reply without ORGANIZER",
            stored_event(&[]),
            cal(Some("REPLY"), &[event(&["-ORGANIZER", "ATTENDEE;PARTSTAT=TENTATIVE:mailto:bob@example.org"])]),
            Updated,
            |d| assert_eq!(partstat_of(&master(d), BOB).as_deref(), Some("TENTATIVE")),
        )
        .for_alice(),
        sc(
            "reply REQUEST-STATUS becomes SCHEDULE-STATUS",
            stored_event(&[]),
            cal(Some("REPLY"), &[event(&["ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org", "REQUEST-STATUS:2.0;Success"])]),
            Updated,
            |d| assert!(put(d).contains("SCHEDULE-STATUS=2.0"), "{}", put(d)),
        )
        .for_alice(),
        sc(
            "reply to an older SEQUENCE",
            stored_event(&["SEQUENCE:3"]),
            cal(Some("REPLY"), &[event(&["SEQUENCE:2", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org"])]),
            NoAction,
            |d| reason_has(d, "outdated"),
        )
        .for_alice(),
        sc(
            "late reply with an older DTSTAMP",
            stored_event(&["ATTENDEE;PARTSTAT=ACCEPTED;X-IMIPD-REPLY-DTSTAMP=20260105T000000Z:mailto:bob@example.org"]),
            cal(Some("REPLY"), &[event(&["DTSTAMP:20260104T000000Z", "ATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.org"])]),
            NoAction,
            |d| reason_has(d, "older"),
        )
        .for_alice(),
        sc(
            "reply delegating adds the delegate",
            stored_event(&[]),
            cal(Some("REPLY"), &[event(&["ATTENDEE;PARTSTAT=DELEGATED;DELEGATED-TO=\"mailto:carol@example.org\":mailto:bob@example.org"])]),
            Updated,
            |d| {
                let m = master(d);
                assert_eq!(partstat_of(&m, BOB).as_deref(), Some("DELEGATED"));
                assert_eq!(partstat_of(&m, CAROL).as_deref(), Some("NEEDS-ACTION"));
                assert!(put(d).contains("DELEGATED-FROM"), "{}", put(d));
            },
        )
        .for_alice(),
        sc(
            "reply to someone who is not the organizer",
            stored_event(&[]),
            cal(Some("REPLY"), &[event(&["ATTENDEE;PARTSTAT=ACCEPTED:mailto:carol@example.org"])]),
            NoAction,
            |d| reason_has(d, "not the organizer"),
        )
        .facts(|f| f.sender = CAROL.into()),
        sc(
            "reply for an unknown UID",
            None,
            cal(Some("REPLY"), &[event(&["ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org"])]),
            NoAction,
            |d| reason_has(d, "unknown"),
        )
        .for_alice(),
        sc(
            "same reply twice is already recorded",
            stored_event(&["ATTENDEE;PARTSTAT=ACCEPTED;X-IMIPD-REPLY-DTSTAMP=20260101T090000Z:mailto:bob@example.org"]),
            cal(Some("REPLY"), &[event(&["ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org"])]),
            NoAction,
            |d| reason_has(d, "already recorded"),
        )
        .for_alice(),
        sc(
            "reply without PARTSTAT",
            stored_event(&[]),
            cal(Some("REPLY"), &[event(&["ATTENDEE:mailto:bob@example.org"])]),
            NoAction,
            |d| reason_has(d, "no PARTSTAT"),
        )
        .for_alice(),
        // ---- ADD ----
        sc(
            "add a new instance",
            stored_event(&[RECURRING]),
            cal(Some("ADD"), &[event(&["SEQUENCE:1", "DTSTART:20260401T100000Z", "DTEND:20260401T110000Z", "SUMMARY:Extra"])]),
            Updated,
            |d| {
                assert!(put(d).contains("RDATE:20260401T100000Z"), "{}", put(d));
                assert!(sums(d).iter().any(|s| s.recurrence_id.as_deref() == Some("20260401T100000Z")));
            },
        ),
        sc(
            "add for an unknown UID",
            None,
            cal(Some("ADD"), &[event(&["SEQUENCE:1"])]),
            NoAction,
            |d| reason_has(d, "ADD for unknown"),
        ),
        sc(
            "add from someone other than the organizer",
            stored_event(&[RECURRING]),
            cal(Some("ADD"), &[event(&["SEQUENCE:1", "DTSTART:20260401T100000Z"])]),
            NoAction,
            |d| reason_has(d, "is not the organizer"),
        )
        .facts(|f| f.sender = MALLORY.into()),
        // ---- REFRESH ----
        sc(
            "refresh from an attendee is answered with a REQUEST",
            stored_event(&[]),
            cal(Some("REFRESH"), &[event(&["-DTSTART", "-DTEND", "-SUMMARY", "ATTENDEE:mailto:bob@example.org"])]),
            NoAction,
            |d| {
                unchanged(d);
                let response = d.response.as_deref().expect("a response");
                assert!(response.contains("METHOD:REQUEST"), "{response}");
                assert!(response.contains("UID:evt-1"), "{response}");
                assert!(response.contains("DTSTAMP:20260101T000000Z"), "stamped with policy.now: {response}");
            },
        )
        .for_alice(),
        sc(
            "refresh from a stranger is not answered",
            stored_event(&[]),
            cal(Some("REFRESH"), &[event(&["ATTENDEE:mailto:mallory@evil.example"])]),
            NoAction,
            |d| assert!(d.response.is_none()),
        )
        .for_alice()
        .facts(|f| f.sender = MALLORY.into()),
        sc(
            "refresh to a non-organizer",
            stored_event(&[]),
            cal(Some("REFRESH"), &[event(&["ATTENDEE:mailto:carol@example.org"])]),
            NoAction,
            |d| assert!(d.response.is_none()),
        )
        .facts(|f| f.sender = CAROL.into()),
        // ---- COUNTER / DECLINECOUNTER ----
        sc(
            "counter is recorded, never applied",
            stored_event(&[]),
            cal(Some("COUNTER"), &[event(&["DTSTART:20260312T100000Z", "DTEND:20260312T110000Z", "ATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org", "COMMENT:Thursday is better"])]),
            Updated,
            |d| {
                assert_eq!(master(d).start, "20260310T100000Z");
                let text = put(d);
                assert!(text.contains("X-IMIPD-COUNTER"), "{text}");
                assert!(text.contains("20260312T100000Z"), "{text}");
                assert!(text.contains("Thursday is better"), "{text}");
            },
        )
        .for_alice(),
        sc(
            "counter from a stranger",
            stored_event(&[]),
            cal(Some("COUNTER"), &[event(&["DTSTART:20260312T100000Z", "ATTENDEE:mailto:mallory@evil.example"])]),
            NoAction,
            unchanged,
        )
        .for_alice()
        .facts(|f| f.sender = MALLORY.into()),
        sc(
            "declinecounter from the organizer is recorded",
            stored_event(&[]),
            cal(Some("DECLINECOUNTER"), &[event(&["COMMENT:No, Tuesday it is"])]),
            Updated,
            |d| {
                let text = put(d);
                assert!(text.contains("X-IMIPD-DECLINECOUNTER"), "{text}");
                assert!(text.contains("Tuesday it is"), "{text}");
                assert_eq!(master(d).summary, "Planning");
            },
        ),
        sc(
            "declinecounter from someone else",
            stored_event(&[]),
            cal(Some("DECLINECOUNTER"), &[event(&[])]),
            NoAction,
            |d| reason_has(d, "is not the organizer"),
        )
        .facts(|f| f.sender = MALLORY.into()),
        // ---- PUBLISH ----
        sc("publish refused by default", None, cal(Some("PUBLISH"), &[event(&["-ATTENDEE"])]), NoAction, |d| {
            reason_has(d, "PUBLISH")
        }),
        sc("publish accepted when allowed", None, cal(Some("PUBLISH"), &[event(&["-ATTENDEE"])]), Added, no_check)
            .policy(|p| p.allow_publish = true),
        sc(
            "publish update from another sender",
            stored_event(&["-ATTENDEE"]),
            cal(Some("PUBLISH"), &[event(&["-ATTENDEE", "SEQUENCE:1"])]),
            NoAction,
            |d| reason_has(d, "is not the organizer"),
        )
        .policy(|p| p.allow_publish = true)
        .facts(|f| f.sender = MALLORY.into()),
        // ---- instances: only those the stored recurrence set has ----
        sc(
            "reply to an invented instance of a series",
            stored_event(&[RECURRING]),
            cal(Some("REPLY"), &[event(&["RECURRENCE-ID:20260318T100000Z", "ATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.org"])]),
            NoAction,
            |d| reason_has(d, "names instance 20260318T100000Z, which the series does not have"),
        )
        .for_alice(),
        sc(
            "reply to an instance after the series ends",
            stored_event(&[RECURRING]),
            cal(Some("REPLY"), &[event(&["RECURRENCE-ID:20260519T100000Z", "ATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.org"])]),
            NoAction,
            |d| reason_has(d, "series does not have"),
        )
        .for_alice(),
        sc(
            "reply to the last instance of the series",
            stored_event(&[RECURRING]),
            cal(Some("REPLY"), &[event(&["RECURRENCE-ID:20260512T100000Z", "ATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.org"])]),
            Updated,
            |d| assert_eq!(sums(d).len(), 2),
        )
        .for_alice(),
        sc(
            "reply to an excluded instance",
            stored_event(&[RECURRING, "EXDATE:20260317T100000Z"]),
            cal(Some("REPLY"), &[event(&["RECURRENCE-ID:20260317T100000Z", "ATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.org"])]),
            NoAction,
            |d| reason_has(d, "series does not have"),
        )
        .for_alice(),
        sc(
            "reply to an RDATE instance",
            stored_event(&[RECURRING, "RDATE:20260401T150000Z"]),
            cal(Some("REPLY"), &[event(&["RECURRENCE-ID:20260401T150000Z", "ATTENDEE;PARTSTAT=TENTATIVE:mailto:bob@example.org"])]),
            Updated,
            |d| assert!(sums(d).iter().any(|s| s.recurrence_id.as_deref() == Some("20260401T150000Z"))),
        )
        .for_alice(),
        sc(
            "reply naming a local-time instance in UTC",
            stored_event(&["DTSTART;TZID=Europe/Berlin:20260310T110000", "DTEND;TZID=Europe/Berlin:20260310T120000", RECURRING]),
            cal(Some("REPLY"), &[event(&["RECURRENCE-ID:20260317T100000Z", "ATTENDEE;PARTSTAT=TENTATIVE:mailto:bob@example.org"])]),
            Updated,
            no_check,
        )
        .for_alice(),
        sc(
            "reply with RECURRENCE-ID to an event that does not recur (phantom occurrence)",
            stored_event(&[]),
            cal(Some("REPLY"), &[event(&["RECURRENCE-ID:20260310T100000Z", "ATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.org"])]),
            NoAction,
            |d| {
                unchanged(d);
                reason_has(d, "does not recur");
            },
        )
        .for_alice(),
        sc(
            "reply to an instance beyond the expansion budget",
            stored_event(&["RRULE:FREQ=DAILY"]),
            cal(Some("REPLY"), &[event(&["RECURRENCE-ID:21000101T100000Z", "ATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.org"])]),
            NoAction,
            |d| reason_has(d, "cannot be checked"),
        )
        .for_alice(),
        sc(
            "cancel of an invented instance",
            stored_event(&[RECURRING]),
            cal(Some("CANCEL"), &[event(&["RECURRENCE-ID:20260318T100000Z", "SEQUENCE:1"])]),
            NoAction,
            |d| {
                unchanged(d);
                reason_has(d, "series does not have");
            },
        ),
        sc(
            "cancel with RECURRENCE-ID of an event that does not recur",
            stored_event(&[]),
            cal(Some("CANCEL"), &[event(&["RECURRENCE-ID:20260310T100000Z", "SEQUENCE:1"])]),
            NoAction,
            |d| reason_has(d, "does not recur"),
        ),
        sc(
            "cancel of an instance already excluded changes nothing",
            stored_event(&[RECURRING, "EXDATE:20260317T100000Z"]),
            cal(Some("CANCEL"), &[event(&["RECURRENCE-ID:20260317T100000Z", "SEQUENCE:1"])]),
            NoAction,
            |d| reason_has(d, "no instance that is still in the calendar"),
        ),
        sc(
            "many instance cancels become a few EXDATE lists",
            stored_event(&["RRULE:FREQ=DAILY;COUNT=100"]),
            cal(Some("CANCEL"), &(1..=28).map(|day| event(&[&format!("RECURRENCE-ID:202604{day:02}T100000Z"), "SEQUENCE:1"])).collect::<Vec<_>>()),
            Updated,
            |d| assert_eq!(put(d).matches("EXDATE").count(), 1, "{}", put(d)),
        ),
        sc(
            "update of an invented instance",
            stored_event(&[RECURRING]),
            request(&[event(&["RECURRENCE-ID:20260318T100000Z", "SEQUENCE:1", "SUMMARY:Phantom"])]),
            NoAction,
            |d| reason_has(d, "series does not have"),
        ),
        sc(
            "full update whose override its own series does not have",
            stored_event(&[RECURRING]),
            request(&[
                event(&[RECURRING, "SEQUENCE:1"]),
                event(&["RECURRENCE-ID:20260318T100000Z", "SEQUENCE:1", "SUMMARY:Phantom"]),
            ]),
            NoAction,
            |d| reason_has(d, "series does not have"),
        ),
        sc(
            "new event with an override of an instance it does not have",
            None,
            request(&[event(&[]), event(&["RECURRENCE-ID:20260317T100000Z", "SUMMARY:Phantom"])]),
            NoAction,
            |d| reason_has(d, "does not recur"),
        ),
        sc(
            "invitation to one instance only (no master) is added",
            None,
            request(&[event(&["RECURRENCE-ID:20260317T100000Z", "DTSTART:20260317T100000Z", "DTEND:20260317T110000Z"])]),
            Added,
            no_check,
        ),
        sc(
            "a second single-instance invitation joins the first",
            Some(cal(None, &[event(&["RECURRENCE-ID:20260317T100000Z"])])),
            request(&[event(&["RECURRENCE-ID:20260324T100000Z", "SEQUENCE:1"])]),
            Updated,
            |d| assert_eq!(sums(d).len(), 2),
        ),
        // ---- look-alike addresses: ASCII case only, never Unicode case folding ----
        sc(
            "cancel from a Kelvin-sign look-alike of the organizer",
            stored_event(&["ORGANIZER:mailto:kate@example.org"]),
            cal(Some("CANCEL"), &[event(&["ORGANIZER:mailto:kate@example.org", "SEQUENCE:1"])]),
            NoAction,
            |d| {
                unchanged(d);
                reason_has(d, "is not the organizer kate@example.org");
            },
        )
        .facts(|f| f.sender = "\u{212A}ate@example.org".into()),
        sc(
            "cancel naming a Kelvin-sign organizer is an organizer change",
            stored_event(&["ORGANIZER:mailto:kate@example.org"]),
            cal(Some("CANCEL"), &[event(&["ORGANIZER:mailto:\u{212A}ate@example.org", "SEQUENCE:1"])]),
            NoAction,
            |d| reason_has(d, "ORGANIZER change"),
        )
        .facts(|f| f.sender = "\u{212A}ate@example.org".into()),
        sc(
            "invitation to a Kelvin-sign look-alike is not for the user",
            None,
            request(&[event(&["ATTENDEE:mailto:\u{212A}ate@example.org"])]),
            NoAction,
            |d| reason_has(d, "not an ATTENDEE"),
        )
        .facts(|f| {
            f.recipient = "kate@example.org".into();
            f.user_addresses = vec!["kate@example.org".into()];
        }),
        sc(
            "non-ASCII local part matches byte for byte, domain case-insensitively",
            None,
            request(&[event(&["ATTENDEE:mailto:j\u{f6}rg@EXAMPLE.org"])]),
            Added,
            no_check,
        )
        .facts(|f| {
            f.recipient = "j\u{f6}rg@example.org".into();
            f.user_addresses = vec!["j\u{f6}rg@example.org".into()];
        }),
        sc(
            "non-ASCII letters are not case-folded",
            None,
            request(&[event(&["ATTENDEE:mailto:J\u{d6}RG@example.org"])]),
            NoAction,
            |d| reason_has(d, "not an ATTENDEE"),
        )
        .facts(|f| {
            f.recipient = "j\u{f6}rg@example.org".into();
            f.user_addresses = vec!["j\u{f6}rg@example.org".into()];
        }),
        sc(
            "reply from a look-alike of an attendee is a party crasher",
            stored_event(&["ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:kate@example.org"]),
            cal(Some("REPLY"), &[event(&["ATTENDEE;PARTSTAT=DECLINED:mailto:\u{212A}ate@example.org"])]),
            NoAction,
            |d| reason_has(d, "party crasher"),
        )
        .for_alice()
        .facts(|f| f.sender = "\u{212A}ate@example.org".into()),
        // ---- hostile input ----
        sc(
            "huge COUNT",
            None,
            request(&[event(&["RRULE:FREQ=SECONDLY;COUNT=1000000000"])]),
            Error,
            |d| reason_has(d, "COUNT"),
        ),
        sc(
            "SECONDLY without end",
            None,
            request(&[event(&["RRULE:FREQ=SECONDLY"])]),
            Error,
            |d| reason_has(d, "COUNT or UNTIL"),
        ),
        sc(
            "MINUTELY with a far UNTIL",
            None,
            request(&[event(&["RRULE:FREQ=MINUTELY;UNTIL=20990101T000000Z"])]),
            Error,
            |d| reason_has(d, "UNTIL"),
        ),
        sc(
            "unsatisfiable BY-rules",
            None,
            request(&[event(&["RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"])]),
            Error,
            |d| reason_has(d, "never occurs"),
        ),
        sc(
            "impossible BYDAY ordinal",
            None,
            request(&[event(&["RRULE:FREQ=MONTHLY;BYDAY=6MO"])]),
            Error,
            |d| reason_has(d, "never occurs"),
        ),
        sc(
            "ten megabyte line",
            None,
            request(&[event(&[&format!("DESCRIPTION:{}", "x".repeat(10 * 1024 * 1024))])]),
            Error,
            unchanged,
        ),
        sc(
            "long folded line within the size limit",
            None,
            request(&[event(&[&format!("DESCRIPTION:{}", "y\r\n ".repeat(20_000))])]),
            Error,
            |d| reason_has(d, "line longer"),
        ),
        sc(
            "deep nesting",
            None,
            request(&[event(&[&"BEGIN:X-A\r\n".repeat(200), &"END:X-A\r\n".repeat(200)])]),
            Error,
            |d| reason_has(d, "nested"),
        ),
        sc(
            "too many attendees",
            None,
            request(&[event(&[
                "ATTENDEE:mailto:bob@example.org",
                "ATTENDEE:mailto:a1@example.org",
                "ATTENDEE:mailto:a2@example.org",
            ])]),
            Error,
            |d| reason_has(d, "ATTENDEE"),
        )
        .limits(|l| l.max_attendees = 2),
        sc(
            "SECONDLY with an impossible UNTIL",
            None,
            request(&[event(&["RRULE:FREQ=SECONDLY;UNTIL=99991331T235959Z"])]),
            Error,
            |d| reason_has(d, "UNTIL"),
        ),
        sc(
            "SECONDLY with UNTIL on February 30th",
            None,
            request(&[event(&["RRULE:FREQ=SECONDLY;UNTIL=20260230T000000Z"])]),
            Error,
            |d| reason_has(d, "UNTIL"),
        ),
        sc(
            "rule without DTSTART",
            None,
            request(&[event(&["-DTSTART", "-DTEND", "RRULE:FREQ=SECONDLY;UNTIL=20260310T110000Z"])]),
            Error,
            |d| reason_has(d, "DTSTART"),
        ),
        sc(
            "rule with a year-only DTSTART",
            None,
            request(&[event(&["DTSTART:2026", "-DTEND", "RRULE:FREQ=SECONDLY;UNTIL=20260310T110000Z"])]),
            Error,
            |d| reason_has(d, "DTSTART"),
        ),
        sc(
            "rule with DTSTART in month 13",
            None,
            request(&[event(&["DTSTART:20261301T100000Z", "-DTEND", "RRULE:FREQ=SECONDLY;UNTIL=20270101T000000Z"])]),
            Error,
            |d| reason_has(d, "DTSTART"),
        ),
        sc(
            "rule with DTSTART on February 30th",
            None,
            request(&[event(&["DTSTART:20260230T100000Z", "-DTEND", "RRULE:FREQ=MINUTELY;UNTIL=20260301T000000Z"])]),
            Error,
            |d| reason_has(d, "DTSTART"),
        ),
        sc(
            "a thousand RRULE lines of COUNT=10000 each",
            None,
            request(&[event(&["RRULE:FREQ=SECONDLY;COUNT=10000\r\n".repeat(1_000).trim_end()])]),
            Error,
            |d| reason_has(d, "recurrence rules in one component"),
        ),
        sc(
            "rules that together allow too many instances",
            None,
            request(&[event(&["RRULE:FREQ=DAILY;COUNT=6000", "RRULE:FREQ=WEEKLY;UNTIL=21260101T000000Z"])]),
            Error,
            |d| reason_has(d, "instances"),
        ),
        sc(
            "two modest rules pass",
            None,
            request(&[event(&["RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=10", "RRULE:FREQ=MONTHLY;BYMONTHDAY=1;COUNT=12"])]),
            Added,
            no_check,
        ),
        sc(
            "hourly on weekdays with a COUNT passes",
            None,
            request(&[event(&["RRULE:FREQ=HOURLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9,10,11;COUNT=500"])]),
            Added,
            no_check,
        ),
        sc(
            "ordinary weekly rule passes the checks",
            None,
            request(&[event(&["RRULE:FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20270101T000000Z"])]),
            Added,
            no_check,
        ),
    ]
}

#[test]
fn every_scenario() {
    let all = scenarios();
    assert!(all.len() >= 60, "only {} scenarios", all.len());
    let mut failures = Vec::new();
    for s in &all {
        let d = apply(
            s.stored.as_deref(),
            &s.message,
            &s.facts,
            &s.policy,
            &s.limits,
        );
        println!("{:<55} {}", s.name, d.outcome);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            assert_eq!(d.outcome.kind, s.expect, "outcome {}", d.outcome);
            assert!(!d.outcome.reason.is_empty(), "every outcome has a reason");
            if d.outcome.kind == Error || d.outcome.kind == NoAction {
                assert!(
                    !matches!(d.change, Change::Put(_) | Change::Delete),
                    "no change on {}",
                    d.outcome
                );
            }
            (s.check)(&d);
        }));
        if let Err(e) = result {
            let msg = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            let shown: String = s.message.chars().take(1_500).collect();
            failures.push(format!(
                "{}: expected {}, got {}\n  {msg}\n  sender {:?}, user {:?}\n  message:\n{shown}",
                s.name, s.expect, d.outcome, s.facts.sender, s.facts.user_addresses
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
