//! Each processcalendar argument, and the outcome and reason variables.

mod common;

use common::*;
use imipd_calendar::{Outcome, OutcomeKind};
use imipd_sieve::{CalendarJob, CalendarRequest};

fn requests(source: &str, host: &FakeHost) -> Vec<CalendarRequest> {
    let r = run_with(
        source,
        &invitation("friend@example.org", ""),
        &facts(),
        host,
    );
    assert_eq!(r.errors, Vec::<String>::new());
    r.calendar_jobs
        .into_iter()
        .map(|job| match job {
            CalendarJob::Process(req) => req,
            other => panic!("expected a processcalendar job, got {other:?}"),
        })
        .collect()
}

fn one(source: &str) -> CalendarRequest {
    let host = FakeHost::default();
    let mut all = requests(source, &host);
    assert_eq!(all.len(), 1, "one job for {source}");
    assert_eq!(*host.asked.borrow(), all, "the core saw the same request");
    all.remove(0)
}

#[test]
fn plain_processcalendar_asks_the_core_and_queues_a_job() {
    let host = FakeHost::default();
    let r = run_with(
        "require \"processcalendar\";\nprocesscalendar;\n",
        &invitation("friend@example.org", ""),
        &facts(),
        &host,
    );
    assert_eq!(r.errors, Vec::<String>::new());
    assert_eq!(folders(&r), ["INBOX"]);
    assert_eq!(
        r.calendar_jobs,
        [CalendarJob::Process(CalendarRequest::default())]
    );
    assert_eq!(r.outcome, Some(host.answer.clone()));
}

#[test]
fn allowpublic() {
    let req = one("require \"processcalendar\";\nprocesscalendar :allowpublic;");
    assert!(req.allow_public);
    assert!(!req.updates_only && !req.delete_cancelled);
}

#[test]
fn addresses_as_list_and_as_single_string() {
    let req = one(
        "require \"processcalendar\";\nprocesscalendar :addresses [\"bob@example.org\", \"robert@example.org\"];",
    );
    assert_eq!(
        req.addresses,
        Some(vec!["bob@example.org".into(), "robert@example.org".into()])
    );
    let req = one("require \"processcalendar\";\nprocesscalendar :addresses \"bob@example.org\";");
    assert_eq!(req.addresses, Some(vec!["bob@example.org".into()]));
}

#[test]
fn addresses_expand_variables() {
    let req = one(
        "require [\"processcalendar\", \"variables\"];\nset \"me\" \"bob\";\n\
         processcalendar :addresses [\"${me}@example.org\", \"x@example.org\"] :calendarid \"${me}-cal\";",
    );
    assert_eq!(
        req.addresses,
        Some(vec!["bob@example.org".into(), "x@example.org".into()])
    );
    assert_eq!(req.calendar_id.as_deref(), Some("bob-cal"));
}

#[test]
fn organizers_from_contacts_resolves_the_organizer() {
    for list in [":addrbook:Default", "addrbook:Default"] {
        let req = one(&format!(
            "require [\"processcalendar\", \"extlists\"];\nprocesscalendar :organizers \"{list}\";"
        ));
        assert!(req.organizers_from_contacts);
        assert_eq!(req.organizers, Some(vec!["friend@example.org".into()]));
    }
    let host = FakeHost {
        contacts: vec![],
        ..FakeHost::default()
    };
    let reqs = requests(
        "require [\"processcalendar\", \"extlists\"];\nprocesscalendar :organizers \":addrbook:Default\";",
        &host,
    );
    assert_eq!(
        reqs[0].organizers,
        Some(vec![]),
        "an organizer who is no contact"
    );
}

#[test]
fn unknown_organizer_list_is_a_compile_error() {
    let e = imipd_sieve::compile(
        "require [\"processcalendar\", \"extlists\"];\nprocesscalendar :organizers \":addrbook:Other\";",
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (2, 29));
    assert!(e.message.contains(":addrbook:Default"), "{}", e.message);
}

#[test]
fn updatesonly() {
    let req = one("require \"processcalendar\";\nprocesscalendar :updatesonly;");
    assert!(req.updates_only);
    assert_eq!(req.calendar_id, None);
}

#[test]
fn calendarid() {
    let req = one("require \"processcalendar\";\nprocesscalendar :calendarid \"work\";");
    assert_eq!(req.calendar_id.as_deref(), Some("work"));
    assert!(!req.updates_only);
}

#[test]
fn updatesonly_with_calendarid_is_refused() {
    let e = imipd_sieve::compile(
        "require \"processcalendar\";\nprocesscalendar :updatesonly :calendarid \"work\";",
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (2, 42));
    assert!(
        e.message.contains("cannot be used together"),
        "{}",
        e.message
    );
}

#[test]
fn deletecancelled() {
    let req = one("require \"processcalendar\";\nprocesscalendar :deletecancelled;");
    assert!(req.delete_cancelled);
}

#[test]
fn all_arguments_together() {
    let req = one(
        "require [\"processcalendar\", \"variables\", \"extlists\"];\n\
         processcalendar :allowpublic :addresses [\"a@example.org\"] :organizers \":addrbook:Default\"\n\
           :calendarid \"work\" :deletecancelled :outcome \"o\" :reason \"r\";",
    );
    assert_eq!(
        req,
        CalendarRequest {
            allow_public: true,
            addresses: Some(vec!["a@example.org".into()]),
            organizers: Some(vec!["friend@example.org".into()]),
            organizers_from_contacts: true,
            updates_only: false,
            calendar_id: Some("work".into()),
            delete_cancelled: true,
        }
    );
}

#[test]
fn outcome_and_reason_in_fileinto_and_addflag() {
    let host = FakeHost::default();
    let r = run_with(
        "require [\"processcalendar\", \"variables\", \"fileinto\", \"imap4flags\"];\n\
         processcalendar :outcome \"result\" :reason \"why\";\n\
         addflag \"cal-${result}\";\n\
         if string :contains \"${why}\" \"Lunch\" { addflag \"lunch\"; }\n\
         fileinto \"Calendar/${result}\";\n",
        &invitation("friend@example.org", ""),
        &facts(),
        &host,
    );
    assert_eq!(r.errors, Vec::<String>::new());
    assert_eq!(folders(&r), ["Calendar/added"]);
    assert_eq!(r.deliveries[0].flags, ["cal-added", "lunch"]);
}

#[test]
fn outcome_variable_before_processcalendar_is_empty_and_no_action_is_reported() {
    let host = FakeHost {
        answer: Outcome::no_action("already up to date"),
        ..FakeHost::default()
    };
    let r = run_with(
        "require [\"processcalendar\", \"variables\", \"fileinto\"];\n\
         if string :is \"${o}\" \"\" { fileinto \"Before\"; }\n\
         processcalendar :outcome \"o\";\n\
         if string :is \"${o}\" \"no_action\" { fileinto \"Nothing\"; }\n",
        &invitation("friend@example.org", ""),
        &facts(),
        &host,
    );
    assert_eq!(folders(&r), ["Before", "Nothing"]);
    assert_eq!(r.outcome.map(|o| o.kind), Some(OutcomeKind::NoAction));
}

#[test]
fn outcome_needs_variables() {
    let e = imipd_sieve::compile("require \"processcalendar\";\nprocesscalendar :outcome \"o\";")
        .unwrap_err();
    assert_eq!((e.line, e.column), (2, 17));
    assert!(e.message.contains("variables"), "{}", e.message);
}

#[test]
fn processcalendar_needs_its_require() {
    let e = imipd_sieve::compile("if true {\n  processcalendar;\n}\n").unwrap_err();
    assert_eq!((e.line, e.column), (2, 3));
    assert!(
        e.message.contains("require \"processcalendar\""),
        "{}",
        e.message
    );
}

#[test]
fn unknown_and_repeated_tags_are_refused() {
    let e =
        imipd_sieve::compile("require \"processcalendar\";\nprocesscalendar :nope;").unwrap_err();
    assert_eq!((e.line, e.column), (2, 17));
    let e = imipd_sieve::compile(
        "require \"processcalendar\";\nprocesscalendar :allowpublic :allowpublic;",
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (2, 30));
    assert!(e.message.contains("twice"), "{}", e.message);
}

#[test]
fn errors_after_a_rewrite_keep_their_columns() {
    let e = imipd_sieve::compile(
        "require [\"processcalendar\", \"fileinto\"];\nprocesscalendar :allowpublic; fileinto 5;\n",
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (2, 40), "{e}");
}

#[test]
fn processcalendar_inside_blocks_runs_only_when_reached() {
    let host = FakeHost::default();
    let source = "require [\"processcalendar\"];\n\
                  if header :contains \"Subject\" \"Lunch\" { processcalendar :allowpublic; }\n\
                  elsif true { processcalendar :deletecancelled; }\n";
    let reqs = requests(source, &host);
    assert_eq!(reqs.len(), 1);
    assert!(reqs[0].allow_public);
}

#[test]
fn outcome_set_in_a_nested_block_is_seen_after_it() {
    let host = FakeHost::default();
    let r = run_with(
        "require [\"processcalendar\", \"variables\", \"imap4flags\"];\n\
         if true { if true { processcalendar :outcome \"result\" :reason \"why\"; } }\n\
         addflag \"${result}\";\n\
         if string :is \"${why}\" \"\" { addflag \"no-reason\"; }\n",
        &invitation("friend@example.org", ""),
        &facts(),
        &host,
    );
    assert_eq!(r.deliveries[0].flags, ["added"]);
}

#[test]
fn variables_named_like_the_internal_functions_do_not_interfere() {
    let host = FakeHost::default();
    let r = run_with(
        "require [\"processcalendar\", \"variables\", \"imap4flags\"];\n\
         set \"imipd_outcome\" \"before\";\n\
         processcalendar :outcome \"imipd_outcome\";\n\
         addflag \"${imipd_outcome}\";\n",
        &invitation("friend@example.org", ""),
        &facts(),
        &host,
    );
    assert_eq!(r.deliveries[0].flags, ["added"]);
}

#[test]
fn comments_and_multi_line_strings_around_arguments() {
    let req = one("require [\"processcalendar\"]; # calendar rules\n\
         processcalendar /* inline; with ; */ :calendarid # why\n  \"wo\\\"rk\" ;\n");
    assert_eq!(req.calendar_id.as_deref(), Some("wo\"rk"));
    let req = one(
        "require [\"processcalendar\"];\nprocesscalendar :addresses text:\nbob@example.org\n.\n;\n",
    );
    assert_eq!(req.addresses, Some(vec!["bob@example.org\n".into()]));
}

#[test]
fn ihave_processcalendar_is_true() {
    let host = FakeHost::default();
    let reqs = requests(
        "require [\"ihave\", \"processcalendar\"];\n\
         if ihave \"processcalendar\" { processcalendar :allowpublic; }\n",
        &host,
    );
    assert_eq!(reqs.len(), 1);
}

#[test]
fn syntax_errors_inside_arguments_point_at_them() {
    let e = imipd_sieve::compile(
        "require \"processcalendar\";\nprocesscalendar :addresses [\"a@x\" \"b@x\"];",
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (2, 35));
    let e = imipd_sieve::compile("require \"processcalendar\";\nprocesscalendar :allowpublic\n")
        .unwrap_err();
    assert_eq!((e.line, e.column), (2, 1));
    assert!(e.message.contains("';'"), "{}", e.message);
}

#[test]
fn errors_inside_copied_values_point_into_them() {
    let e = imipd_sieve::compile(
        "require [\"processcalendar\", \"variables\"];\n\
         processcalendar :allowpublic\n    :calendarid \"cal-${99}\";\n",
    )
    .unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(e.column >= 17, "{e}");
}

/// Issue 14 item 16: a contacts lookup that fails is an error the filter sees, not "not a
/// contact".
#[test]
fn a_contacts_outage_stops_the_run_and_says_so() {
    let host = FakeHost {
        contacts_unavailable: true,
        ..FakeHost::default()
    };
    let scripts = [
        "require [\"processcalendar\", \"extlists\"];\n\
         if address :all :list \"From\" \":addrbook:Default\" { processcalendar; }",
        "require [\"processcalendar\", \"extlists\"];\nprocesscalendar :organizers \":addrbook:Default\";",
    ];
    for source in scripts {
        let r = run_with(
            source,
            &invitation("friend@example.org", ""),
            &facts(),
            &host,
        );
        assert_eq!(
            r.unavailable.as_deref(),
            Some("contacts unavailable"),
            "script {source:?}: {r:?}"
        );
        assert!(r.calendar_jobs.is_empty(), "script {source:?}: {r:?}");
        assert_eq!(folders(&r), ["INBOX"], "script {source:?}");
        assert!(host.asked.borrow().is_empty(), "script {source:?}");
    }
}
