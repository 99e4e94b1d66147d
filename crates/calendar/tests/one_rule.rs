//! Detection (`peek`) and the core (`apply`) read METHOD and UID by one rule: for every
//! message below both either pick the same UID or both refuse it. Decoys are the attack:
//! a component with another UID placed where a looser rule would look first.

mod common;

use common::*;
use imipd_calendar::{Change, Limits, Method, OutcomeKind, PeekError, apply, peek};

/// `Ok(uid)`: both act on that UID; `Err(words)`: both refuse, and the reasons say `words`.
struct Case {
    name: &'static str,
    message: String,
    expect: Result<&'static str, &'static str>,
}

fn journal(uid: &str) -> String {
    format!(
        "BEGIN:VJOURNAL\r\nUID:{uid}\r\nDTSTAMP:20260101T090000Z\r\nSUMMARY:decoy\r\nEND:VJOURNAL\r\n"
    )
}

/// The attacker's VEVENT: the UID of Alice's event, with Mallory as organizer.
fn takeover() -> String {
    event(&[
        "ORGANIZER:mailto:mallory@evil.example",
        "SEQUENCE:9",
        "STATUS:CANCELLED",
        "ATTENDEE:mailto:alice@example.org",
    ])
}

fn wrapped(kind: &str, inner: &str) -> String {
    format!("BEGIN:{kind}\r\n{inner}END:{kind}\r\n")
}

fn cases() -> Vec<Case> {
    let decoy_event = event(&["UID:decoy"]);
    vec![
        Case {
            name: "plain request",
            message: cal(Some("REQUEST"), &[event(&[])]),
            expect: Ok("evt-1"),
        },
        Case {
            name: "VJOURNAL decoy before the real VEVENT",
            message: cal(Some("REQUEST"), &[journal("decoy"), takeover()]),
            expect: Err("mixes UIDs"),
        },
        Case {
            name: "VJOURNAL decoy after the real VEVENT",
            message: cal(Some("REQUEST"), &[takeover(), journal("decoy")]),
            expect: Err("mixes UIDs"),
        },
        Case {
            name: "VFREEBUSY decoy",
            message: cal(
                Some("REQUEST"),
                &[
                    "BEGIN:VFREEBUSY\r\nUID:decoy\r\nDTSTAMP:20260101T090000Z\r\nEND:VFREEBUSY\r\n"
                        .into(),
                    takeover(),
                ],
            ),
            expect: Err("mixes UIDs"),
        },
        Case {
            name: "VTODO decoy",
            message: cal(Some("REQUEST"), &[todo(&["UID:decoy"]), takeover()]),
            expect: Err("mixes UIDs"),
        },
        Case {
            name: "VEVENT and VTODO with one UID",
            message: cal(Some("REQUEST"), &[todo(&[]), event(&[])]),
            expect: Err("mixes VTODO and VEVENT"),
        },
        Case {
            name: "VEVENT nested in an X- component is not a calendar component",
            message: cal(
                Some("REQUEST"),
                &[wrapped("X-WRAPPER", &decoy_event), event(&[])],
            ),
            expect: Ok("evt-1"),
        },
        Case {
            name: "only a nested VEVENT",
            message: cal(Some("REQUEST"), &[wrapped("X-WRAPPER", &decoy_event)]),
            expect: Err("no "),
        },
        Case {
            name: "VEVENT nested in the VEVENT",
            message: cal(
                Some("REQUEST"),
                &[event(&[decoy_event.trim_end_matches("\r\n")])],
            ),
            expect: Ok("evt-1"),
        },
        Case {
            name: "component without UID next to one with",
            message: cal(Some("REQUEST"), &[event(&["-UID"]), event(&[])]),
            expect: Err("UID"),
        },
        Case {
            name: "two METHOD lines",
            message: cal(Some("REQUEST"), &[event(&[])])
                .replace("METHOD:REQUEST\r\n", "METHOD:REQUEST\r\nMETHOD:CANCEL\r\n"),
            expect: Err("2 METHOD values (REQUEST, CANCEL)"),
        },
        Case {
            name: "two METHOD lines that agree",
            message: cal(Some("REQUEST"), &[event(&[])])
                .replace("METHOD:REQUEST\r\n", "METHOD:REQUEST\r\nMETHOD:REQUEST\r\n"),
            expect: Err("2 METHOD values"),
        },
        Case {
            name: "two methods on one METHOD line",
            message: cal(Some("REQUEST,CANCEL"), &[event(&[])]),
            expect: Err("METHOD"),
        },
        Case {
            name: "a METHOD after the components still counts",
            message: cal(Some("CANCEL"), &[event(&[])])
                .replace("END:VCALENDAR\r\n", "METHOD:REQUEST\r\nEND:VCALENDAR\r\n"),
            expect: Err("2 METHOD values (CANCEL, REQUEST)"),
        },
        Case {
            name: "a METHOD inside the VEVENT is not the calendar's",
            message: cal(Some("REQUEST"), &[event(&["METHOD:CANCEL"])]),
            expect: Ok("evt-1"),
        },
    ]
}

#[test]
fn peek_and_apply_pick_the_same_uid_or_both_refuse() {
    let limits = Limits::default();
    let mut failures = Vec::new();
    for case in cases() {
        let peeked = peek(case.message.as_bytes(), &limits);
        let decision = apply(None, &case.message, &bob_facts(), &policy(), &limits);
        let applied_uid = decision.uid.clone();
        let ok = match case.expect {
            Ok(uid) => {
                peeked.as_ref().ok().and_then(|p| p.uid.as_deref()) == Some(uid)
                    && applied_uid.as_deref() == Some(uid)
            }
            Err(words) => {
                let peek_refused = peeked
                    .as_ref()
                    .err()
                    .is_some_and(|e| e.to_string().contains(words));
                let apply_refused = decision.change == Change::None
                    && decision.outcome.kind == OutcomeKind::Error
                    && decision.outcome.reason.contains(words);
                peek_refused && apply_refused
            }
        };
        if !ok {
            failures.push(format!(
                "{}: expected {:?}\n  peek: {peeked:?}\n  apply: {} (uid {applied_uid:?})\n  message:\n{}",
                case.name, case.expect, decision.outcome, case.message
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The reported attack, as the worker runs it: the stored event is looked up by the UID
/// detection found, then applied. Alice's own event must come out untouched.
#[test]
fn a_decoy_cannot_take_over_the_users_event() {
    let limits = Limits::default();
    let stored = cal(None, &[event(&[])]);
    let facts = imipd_calendar::Facts {
        sender: MALLORY.into(),
        ..alice_facts()
    };
    for first in [
        journal("decoy"),
        wrapped("X-WRAPPER", &event(&["UID:decoy"])),
    ] {
        let message = cal(Some("REQUEST"), &[first.clone(), takeover()]);
        let found = peek(message.as_bytes(), &limits).ok().and_then(|p| p.uid);
        let looked_up = (found.as_deref() == Some("evt-1")).then_some(stored.as_str());
        let d = apply(looked_up, &message, &facts, &policy(), &limits);
        assert_eq!(
            d.change,
            Change::None,
            "decoy {first:?}: peek found {found:?}, apply said {}",
            d.outcome
        );
    }
}

#[test]
fn content_type_method_must_match_the_body() {
    let limits = Limits::default();
    let request = peek(cal(Some("REQUEST"), &[event(&[])]).as_bytes(), &limits).unwrap();
    let not_itip = peek(cal(None, &[event(&[])]).as_bytes(), &limits).unwrap();
    for (name, peeked, parameter, ok) in [
        ("same method", &request, Some("REQUEST"), true),
        ("same method, other case", &request, Some(" request"), true),
        ("no parameter", &request, None, true),
        (
            "CANCEL header, REQUEST body",
            &request,
            Some("CANCEL"),
            false,
        ),
        ("unknown parameter", &request, Some("X-SHOUT"), false),
        ("empty parameter", &request, Some(""), false),
        (
            "parameter on a calendar without METHOD",
            &not_itip,
            Some("REQUEST"),
            false,
        ),
    ] {
        let got = peeked.check_content_type_method(parameter);
        assert_eq!(got.is_ok(), ok, "{name}: {parameter:?} → {got:?}");
        if let Err(e) = got {
            assert!(
                matches!(e, PeekError::MethodMismatch { .. }),
                "{name}: {e:?}"
            );
            assert!(e.to_string().contains("RFC 6047"), "{name}: {e}");
        }
    }
    assert_eq!(request.method, Some(Method::Request));
}
