//! Every preference combination through generate_section + splice + compile + run.

mod common;

use common::*;
use imipd_calendar::OutcomeKind;
use imipd_sieve::{
    AddInvitations, CalendarJob, CalendarRequest, Facts, Prefs, compile, generate_section, run,
    splice,
};

#[derive(Debug, Clone, Copy)]
struct Case {
    /// The UID is already in a calendar (detection added X-ME-Cal-Exists).
    exists: bool,
    /// The sender is in the contacts.
    contact: bool,
}

/// What the generated section must ask of the calendar for `prefs` and `case`.
fn expected(prefs: &Prefs, case: Case) -> Option<CalendarRequest> {
    let base = CalendarRequest {
        delete_cancelled: prefs.delete_cancelled,
        ..CalendarRequest::default()
    };
    if case.exists {
        return prefs.apply_updates.then_some(CalendarRequest {
            updates_only: true,
            ..base
        });
    }
    let adds = match prefs.add_invitations {
        AddInvitations::Contacts => case.contact,
        AddInvitations::Everyone => true,
        AddInvitations::Never => false,
    };
    adds.then(|| CalendarRequest {
        calendar_id: prefs.calendar.clone(),
        ..base
    })
}

fn all_prefs() -> Vec<Prefs> {
    let mut all = Vec::new();
    for add in [
        AddInvitations::Contacts,
        AddInvitations::Everyone,
        AddInvitations::Never,
    ] {
        for apply_updates in [true, false] {
            for file_into in [None, Some("Calendar \"mail\"".to_string())] {
                for calendar in [None, Some("work".to_string())] {
                    for delete_cancelled in [false, true] {
                        all.push(Prefs {
                            add_invitations: add,
                            apply_updates,
                            file_into: file_into.clone(),
                            calendar: calendar.clone(),
                            delete_cancelled,
                            time_zone: None,
                        });
                    }
                }
            }
        }
    }
    all
}

fn message(case: Case) -> Vec<u8> {
    let from = if case.contact {
        "Friend <friend@example.org>"
    } else {
        "stranger@example.net"
    };
    let exists = if case.exists {
        "X-ME-Cal-Exists: default\r\n"
    } else {
        ""
    };
    invitation(from, exists)
}

#[test]
fn every_preference_combination() {
    let user = "require \"fileinto\";\nif header :contains \"Subject\" \"never matches\" { fileinto \"X\"; }\n";
    let mut checked = 0;
    for prefs in all_prefs() {
        let full = splice(&generate_section(&prefs), user);
        let script = compile(&full).unwrap_or_else(|e| panic!("{prefs:?}: {e}\n{full}"));
        for exists in [false, true] {
            for contact in [false, true] {
                let case = Case { exists, contact };
                let host = FakeHost::default();
                let r = run(Some(&script), &message(case), &envelope(), &facts(), &host);
                let what = format!("{prefs:?} {case:?}\n{full}");
                assert_eq!(r.errors, Vec::<String>::new(), "{what}");
                let want = expected(&prefs, case);
                let jobs: Vec<CalendarJob> =
                    want.clone().map(CalendarJob::Process).into_iter().collect();
                assert_eq!(r.calendar_jobs, jobs, "{what}");
                assert_eq!(host.asked.borrow().as_slice(), want.as_slice(), "{what}");
                assert_eq!(
                    r.outcome.as_ref().map(|o| o.kind),
                    want.as_ref().map(|_| OutcomeKind::Added),
                    "{what}"
                );
                let folder = prefs.file_into.clone().unwrap_or_else(|| "INBOX".into());
                assert_eq!(folders(&r), [folder], "{what}");
                if prefs.file_into.is_some() {
                    assert!(r.deliveries[0].create, "{what}");
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 3 * 2 * 2 * 2 * 2 * 4);
}

#[test]
fn defaults_reproduce_the_original_behaviour() {
    let full = splice(&generate_section(&Prefs::default()), "");
    let script = compile(&full).unwrap_or_else(|e| panic!("{e}\n{full}"));
    let host = FakeHost::default();
    let new_from_contact = invitation("friend@example.org", "");
    let r = run(
        Some(&script),
        &new_from_contact,
        &envelope(),
        &facts(),
        &host,
    );
    assert_eq!(
        r.calendar_jobs,
        [CalendarJob::Process(CalendarRequest::default())]
    );
    assert_eq!(folders(&r), ["INBOX"]);
    let r = run(
        Some(&script),
        &invitation("stranger@example.net", ""),
        &envelope(),
        &facts(),
        &host,
    );
    assert!(
        r.calendar_jobs.is_empty(),
        "strangers' invitations wait for the user"
    );
    assert_eq!(r.outcome, None);
    let r = run(
        Some(&script),
        &invitation("stranger@example.net", "X-ME-Cal-Exists: default\r\n"),
        &envelope(),
        &facts(),
        &host,
    );
    assert!(matches!(&r.calendar_jobs[..], [CalendarJob::Process(p)] if p.updates_only));
}

#[test]
fn spam_and_unauthenticated_mail_is_never_processed() {
    let everyone = Prefs {
        add_invitations: AddInvitations::Everyone,
        file_into: Some("Invites".into()),
        ..Prefs::default()
    };
    let script = compile(&splice(&generate_section(&everyone), "")).expect("compiles");
    let host = FakeHost::default();
    let msg = invitation("friend@example.org", "X-ME-Cal-Exists: default\r\n");
    let spam = Facts {
        spam: true,
        ..facts()
    };
    let r = run(Some(&script), &msg, &envelope(), &spam, &host);
    assert!(r.calendar_jobs.is_empty());
    assert_eq!(folders(&r), ["INBOX"], "spam is not filed as calendar mail");
    let flagged = invitation("friend@example.org", "X-Spam-Flag: YES\r\n");
    let r = run(Some(&script), &flagged, &envelope(), &facts(), &host);
    assert!(r.calendar_jobs.is_empty());
    let unauthenticated = Facts {
        authenticated: false,
        ..facts()
    };
    let r = run(Some(&script), &msg, &envelope(), &unauthenticated, &host);
    assert!(r.calendar_jobs.is_empty());
    assert_eq!(
        folders(&r),
        ["Invites"],
        "still calendar mail, just not trusted"
    );
    assert!(host.asked.borrow().is_empty());
    let r = run(
        Some(&script),
        &plain("a@example.net", "hi", ""),
        &envelope(),
        &facts(),
        &host,
    );
    assert_eq!(
        folders(&r),
        ["INBOX"],
        "mail without a calendar part is untouched"
    );
}

#[test]
fn the_user_section_sees_the_outcome_variables() {
    let user = "require [\"variables\", \"imap4flags\"];\n\
                if string :is \"${imipd_outcome}\" \"added\" { addflag \"$Invite\"; }\n";
    let full = splice(&generate_section(&Prefs::default()), user);
    let r = run(
        Some(&compile(&full).expect("compiles")),
        &invitation("friend@example.org", ""),
        &envelope(),
        &facts(),
        &FakeHost::default(),
    );
    assert_eq!(r.errors, Vec::<String>::new());
    assert_eq!(r.deliveries[0].flags, ["$Invite"]);
}
