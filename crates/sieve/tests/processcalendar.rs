mod common;

use common::*;
use imipd_calendar::OutcomeKind;
use imipd_sieve::{CalendarJob, CalendarRequest};

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
    assert_eq!(r.outcome.as_ref().map(|o| o.kind), Some(OutcomeKind::Added));
    assert_eq!(host.asked.borrow().len(), 1);
}
