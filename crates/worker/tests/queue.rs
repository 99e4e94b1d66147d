//! The update stage on a real SQLite file: jobs are applied once, survive a dead worker,
//! retry with backoff into the dead-letter state, and a flood from one sender is capped.

use imipd_calendar::{Change, ItipMessage, Limits, OutcomeKind};
use imipd_scheduling::{
    Action, Applied, ApplyConfig, Ask, Decided, Executed, JobError, JobSpec, SENDER_WINDOW_SECS,
    decide, job_for_invitation, job_for_message, process_job,
};
use imipd_store::{Batch, Job, JobState, ObjectWrite, SqliteStore, Store};
use imipd_worker::{Backoff, WorkerConfig, run_worker, worker_round};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, watch};

const BOB: &str = "bob@example.org";
const ALICE: &str = "alice@example.com";

fn open_store() -> (tempfile::TempDir, Arc<dyn Store>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("imipd.sqlite3")).unwrap();
    store.create_user(BOB, None).unwrap();
    (dir, Arc::new(store))
}

/// An iTIP message from Alice to Bob, far enough in the future to be current.
fn itip(method: &str, uid: &str, sequence: u32, status: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Test//EN\r\nMETHOD:{method}\r\n\
         BEGIN:VEVENT\r\nUID:{uid}\r\nSEQUENCE:{sequence}\r\nDTSTAMP:20300101T090000Z\r\n\
         DTSTART:20300105T100000Z\r\nDTEND:20300105T110000Z\r\nSUMMARY:Planning {uid}\r\n\
         STATUS:{status}\r\nORGANIZER;CN=Alice:mailto:{ALICE}\r\n\
         ATTENDEE;CN=Alice;PARTSTAT=ACCEPTED:mailto:{ALICE}\r\n\
         ATTENDEE;CN=Bob;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:{BOB}\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

fn spec(action: Action) -> JobSpec {
    JobSpec {
        action,
        recipient: BOB.into(),
        authenticated: true,
        spam: false,
    }
}

fn process() -> Action {
    Action::Process {
        allow_public: false,
        addresses: None,
        organizers: None,
        updates_only: false,
        calendar_id: None,
        delete_cancelled: false,
    }
}

fn process_into(calendar_id: &str) -> Action {
    match process() {
        Action::Process {
            allow_public,
            addresses,
            organizers,
            updates_only,
            delete_cancelled,
            ..
        } => Action::Process {
            allow_public,
            addresses,
            organizers,
            updates_only,
            calendar_id: Some(calendar_id.into()),
            delete_cancelled,
        },
        other => other,
    }
}

/// Queues one message for Bob; `None` when it was queued before.
fn enqueue(
    store: &Arc<dyn Store>,
    action: Action,
    method: &str,
    uid: &str,
    seq: u32,
    status: &str,
) -> Option<i64> {
    let calendar = itip(method, uid, seq, status);
    let job = job_for_message(
        BOB,
        ALICE,
        &spec(action),
        &calendar,
        &Default::default(),
        "Q-test",
    )
    .unwrap();
    store.enqueue_job(&job).unwrap()
}

fn cfg() -> WorkerConfig {
    WorkerConfig {
        backoff: Backoff {
            delays: vec![0],
            max_attempts: 3,
        },
        ..WorkerConfig::default()
    }
}

fn job(store: &Arc<dyn Store>, id: i64) -> Job {
    store.job(id).unwrap().unwrap()
}

/// What the worker recorded for a job, rendered; `None` before it ran.
fn outcome(j: &Job) -> Option<String> {
    let json = j.outcome.as_deref()?;
    Some(Executed::from_json(json).unwrap().outcome.to_string())
}

/// Runs rounds until the queue has nothing due.
async fn drain(store: &Arc<dyn Store>, cfg: &WorkerConfig) {
    while worker_round(store, cfg, process_job).await > 0 {}
}

#[tokio::test]
async fn an_invitation_lands_in_the_calendar_once() {
    let (_dir, store) = open_store();
    let start = store.feed_head().unwrap();
    let id = enqueue(&store, process(), "REQUEST", "plan-1", 0, "CONFIRMED").expect("queued");
    assert_eq!(
        enqueue(&store, process(), "REQUEST", "plan-1", 0, "CONFIRMED"),
        None,
        "the same message delivered again is the same job"
    );
    drain(&store, &cfg()).await;

    let j = job(&store, id);
    let outcome = outcome(&j).unwrap_or_default();
    assert!(
        j.state == JobState::Done && outcome.starts_with("added"),
        "job {j:?}"
    );
    let object = store
        .find_object(BOB, "plan-1")
        .unwrap()
        .expect("event stored");
    assert_eq!(object.calendar_id, "default");
    assert!(object.ics.contains("Planning plan-1"));
    let feed: Vec<(String, String, Option<String>)> = store
        .feed_since(start, 10)
        .unwrap()
        .into_iter()
        .map(|e| (e.user, e.calendar_id, e.href))
        .collect();
    assert_eq!(
        feed,
        [(BOB.into(), "default".into(), Some("plan-1.ics".into()))],
        "one calendar write, in the feed"
    );
}

/// The decision delivery takes for Bob on what the store holds now, as
/// `imipd_delivery` takes it, under the sender's hourly limit `limit`.
fn decide_now(store: &Arc<dyn Store>, calendar: &str, limit: u64) -> Decided {
    let message = ItipMessage::parse(calendar.as_bytes(), &Limits::default())
        .unwrap()
        .unwrap();
    let stored = store.find_object(BOB, message.uid()).unwrap();
    let now = now();
    let recent = || {
        store
            .actions_since(BOB, ALICE, now - SENDER_WINDOW_SECS)
            .map_err(|e| e.to_string())
    };
    decide(&Ask {
        user: BOB,
        message: &message,
        spec: &spec(process()),
        sender: ALICE,
        user_addresses: &[BOB.to_string()],
        stored: stored.as_ref(),
        calendar_exists: &|_| false,
        recent_actions: &recent,
        max_per_sender_per_hour: limit,
        now,
        limits: &Limits::default(),
    })
}

/// Queues `calendar` for Bob with `decided`, as delivery does.
fn enqueue_decided(store: &Arc<dyn Store>, calendar: &str, decided: &Decided) -> i64 {
    let message = ItipMessage::parse(calendar.as_bytes(), &Limits::default())
        .unwrap()
        .unwrap();
    let job = job_for_invitation(
        BOB,
        ALICE,
        &spec(process()),
        &message,
        calendar,
        Some(decided),
        "Q-test",
    );
    store.enqueue_job(&job).unwrap().unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn executed(j: &Job) -> Executed {
    Executed::from_json(j.outcome.as_deref().expect("the job ran")).unwrap()
}

#[tokio::test]
async fn the_worker_carries_out_the_decision_taken_at_delivery() {
    let (_dir, store) = open_store();
    let calendar = itip("REQUEST", "d-1", 0, "CONFIRMED");
    let decided = decide_now(&store, &calendar, 50);
    assert_eq!(decided.outcome.kind, OutcomeKind::Added, "{decided:?}");
    let Change::Put(ics) = &decided.change else {
        panic!("a new event is written: {decided:?}")
    };
    let id = enqueue_decided(&store, &calendar, &decided);
    drain(&store, &cfg()).await;
    let j = job(&store, id);
    assert_eq!(
        executed(&j),
        Executed::new(decided.outcome.clone()),
        "{j:?}"
    );
    let object = store.find_object(BOB, "d-1").unwrap().expect("stored");
    assert_eq!(&object.ics, ics, "what was decided is what is written");
}

#[tokio::test]
async fn a_decision_overtaken_by_another_job_is_taken_again_and_says_why() {
    let (_dir, store) = open_store();
    // Both delivered before the worker ran: the cancellation was decided on an empty
    // calendar.
    let request = itip("REQUEST", "d-2", 0, "CONFIRMED");
    let cancel = itip("CANCEL", "d-2", 0, "CANCELLED");
    let (request_decided, cancel_decided) = (
        decide_now(&store, &request, 50),
        decide_now(&store, &cancel, 50),
    );
    assert_eq!(request_decided.outcome.kind, OutcomeKind::Added);
    assert_eq!(cancel_decided.outcome.kind, OutcomeKind::NoAction);
    let first = enqueue_decided(&store, &request, &request_decided);
    let second = enqueue_decided(&store, &cancel, &cancel_decided);
    drain(&store, &cfg()).await;
    assert_eq!(executed(&job(&store, first)).redecided, None);
    let second = job(&store, second);
    let again = executed(&second);
    assert_eq!(again.outcome.kind, OutcomeKind::Updated, "{again:?}");
    assert!(
        again
            .redecided
            .as_deref()
            .is_some_and(|why| why.contains("stored after delivery")),
        "{again:?}"
    );
    assert_eq!(
        Decided::from_json(second.decided.as_deref().unwrap()).unwrap(),
        cancel_decided,
        "the first decision stays on the job, next to the second"
    );
    let object = store.find_object(BOB, "d-2").unwrap().unwrap();
    assert!(object.ics.contains("STATUS:CANCELLED"), "{}", object.ics);
}

#[tokio::test]
async fn the_sender_limit_holds_when_a_decision_is_taken_again() {
    let (_dir, store) = open_store();
    let limit = 1;
    let first = itip("REQUEST", "d-3", 0, "CONFIRMED");
    let decided = decide_now(&store, &first, limit);
    let first = enqueue_decided(&store, &first, &decided);
    // Counted from delivery: the second invitation is over the limit before the first ran.
    let update = itip("REQUEST", "d-3", 1, "TENTATIVE");
    let limited = decide_now(&store, &update, limit);
    assert!(
        limited
            .outcome
            .reason
            .starts_with("rate limit: 1 automatic actions"),
        "{limited:?}"
    );
    let second = enqueue_decided(&store, &update, &limited);
    let cfg = WorkerConfig {
        apply: ApplyConfig {
            max_per_sender_per_hour: limit,
            ..ApplyConfig::default()
        },
        ..cfg()
    };
    drain(&store, &cfg).await;
    assert_eq!(executed(&job(&store, first)).outcome, decided.outcome);
    // The first job's write made the second stale: taken again, it is still limited.
    let again = executed(&job(&store, second));
    assert_eq!(again.outcome, limited.outcome, "{again:?}");
    assert!(again.redecided.is_some(), "{again:?}");
    let object = store.find_object(BOB, "d-3").unwrap().unwrap();
    assert!(object.ics.contains("SEQUENCE:0"), "{}", object.ics);
}

#[tokio::test]
async fn updates_and_cancellations_apply_in_order() {
    let (_dir, store) = open_store();
    let first = enqueue(&store, process(), "REQUEST", "plan-2", 0, "CONFIRMED").unwrap();
    let update = enqueue(&store, process(), "REQUEST", "plan-2", 1, "TENTATIVE").unwrap();
    let cancel = enqueue(&store, process(), "CANCEL", "plan-2", 2, "CANCELLED").unwrap();
    drain(&store, &cfg()).await;
    for id in [first, update, cancel] {
        let j = job(&store, id);
        assert_eq!(j.state, JobState::Done, "job {id}: {j:?}");
    }
    assert!(
        outcome(&job(&store, update))
            .unwrap()
            .starts_with("updated")
    );
    let object = store
        .find_object(BOB, "plan-2")
        .unwrap()
        .expect("cancelled events stay, marked");
    assert!(object.ics.contains("STATUS:CANCELLED"), "{}", object.ics);
}

#[tokio::test]
async fn a_killed_worker_loses_nothing_and_the_job_applies_once() {
    let (_dir, store) = open_store();
    let start = store.feed_head().unwrap();
    let id = enqueue(&store, process(), "REQUEST", "plan-3", 0, "CONFIRMED").unwrap();

    // The first worker claims the job and dies before completing it.
    let claimed = store.claim_jobs("doomed", 0, 1).unwrap();
    assert_eq!(claimed.len(), 1);
    let dying = process_job(&*store, &claimed[0], 0, &cfg().apply).unwrap();

    // Once the lease has run out, another worker claims the job and applies it.
    let rescued = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if worker_round(&store, &cfg(), process_job).await > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(rescued.is_ok(), "the expired lease was never claimed again");
    let j = job(&store, id);
    assert_eq!((j.state, j.attempts), (JobState::Done, 2), "{j:?}");

    // The dead worker's late completion is refused: the calendar changed exactly once.
    let late = store.commit(&dying.completing(BOB, id, "doomed"));
    assert!(
        matches!(late, Err(imipd_store::Error::LeaseLost(_))),
        "{late:?}"
    );
    assert_eq!(store.feed_head().unwrap(), start + 1);
    assert_eq!(store.objects(BOB).unwrap().len(), 1);
}

fn always_fails(_: &dyn Store, _: &Job, _: i64, _: &ApplyConfig) -> Result<Applied, JobError> {
    Err(JobError::Store(imipd_store::Error::NoSuchCalendar(
        "gone".into(),
    )))
}

fn panics(_: &dyn Store, _: &Job, _: i64, _: &ApplyConfig) -> Result<Applied, JobError> {
    panic!("boom")
}

#[tokio::test]
async fn failures_retry_with_backoff_then_go_dead_with_the_error() {
    let (_dir, store) = open_store();
    let id = enqueue(&store, process(), "REQUEST", "plan-4", 0, "CONFIRMED").unwrap();
    // (processor, expected state after the round, attempts)
    let rounds: [(imipd_worker::Processor, JobState, i64, &str); 3] = [
        (
            always_fails,
            JobState::Queued,
            1,
            "calendar store: no such calendar \"gone\"",
        ),
        (panics, JobState::Queued, 2, "panic while applying: boom"),
        (
            always_fails,
            JobState::Dead,
            3,
            "calendar store: no such calendar \"gone\"",
        ),
    ];
    for (round, (processor, want_state, want_attempts, want_error)) in
        rounds.into_iter().enumerate()
    {
        assert_eq!(
            worker_round(&store, &cfg(), processor).await,
            1,
            "round {round}"
        );
        let j = job(&store, id);
        assert!(
            j.state == want_state
                && j.attempts == want_attempts
                && j.last_error.as_deref() == Some(want_error),
            "round {round}: want {want_state:?}/{want_attempts}/{want_error:?}, got {:?}/{}/{:?}",
            j.state,
            j.attempts,
            j.last_error
        );
    }
    assert_eq!(
        worker_round(&store, &cfg(), process_job).await,
        0,
        "dead jobs are not claimed"
    );
    assert!(store.find_object(BOB, "plan-4").unwrap().is_none());

    // `imipd jobs retry`: the job goes back in the queue and now succeeds.
    assert!(store.retry_job(id).unwrap());
    drain(&store, &cfg()).await;
    assert_eq!(job(&store, id).state, JobState::Done);
    assert!(store.find_object(BOB, "plan-4").unwrap().is_some());
}

#[tokio::test]
async fn backoff_defers_the_next_attempt() {
    let (_dir, store) = open_store();
    let id = enqueue(&store, process(), "REQUEST", "plan-5", 0, "CONFIRMED").unwrap();
    let cfg = WorkerConfig {
        backoff: Backoff::jobs(),
        ..cfg()
    };
    worker_round(&store, &cfg, always_fails).await;
    let j = job(&store, id);
    assert_eq!(j.state, JobState::Queued);
    assert!(
        j.not_before >= j.updated + 30,
        "first retry waits 30 s: {j:?}"
    );
    assert_eq!(
        worker_round(&store, &cfg, process_job).await,
        0,
        "not due yet"
    );
}

#[tokio::test]
async fn a_flood_from_one_sender_is_capped() {
    let (_dir, store) = open_store();
    let limit = 3;
    let cfg = WorkerConfig {
        apply: ApplyConfig {
            max_per_sender_per_hour: limit,
            ..ApplyConfig::default()
        },
        ..cfg()
    };
    let ids: Vec<i64> = (0..limit + 5)
        .map(|n| {
            enqueue(
                &store,
                process(),
                "REQUEST",
                &format!("spam-{n}"),
                0,
                "CONFIRMED",
            )
            .unwrap()
        })
        .collect();
    drain(&store, &cfg).await;
    assert_eq!(store.objects(BOB).unwrap().len(), limit as usize);
    let limited: Vec<String> = ids
        .iter()
        .filter_map(|&id| outcome(&job(&store, id)))
        .filter(|o| o.starts_with("no_action"))
        .collect();
    assert_eq!(limited.len(), 5, "{limited:?}");
    for outcome in limited {
        assert!(
            outcome
                .contains("rate limit: 3 automatic actions for alice@example.com in the last hour"),
            "{outcome}"
        );
    }
}

#[tokio::test]
async fn actions_choose_where_and_whether() {
    let (_dir, store) = open_store();
    store
        .create_calendar(BOB, "work", &imipd_store::CalendarProps::named("Work"))
        .unwrap();
    let cases: [(&str, Action, Option<&str>, &str); 4] = [
        (
            "updatecal leaves unknown events alone",
            Action::UpdateCal,
            None,
            "no_action",
        ),
        (
            "addcal puts it in the named calendar",
            Action::AddCal {
                calendar_id: Some("work".into()),
            },
            Some("work"),
            "added",
        ),
        (
            "process with :calendarid",
            process_into("work"),
            Some("work"),
            "added",
        ),
        (
            "process into a calendar that does not exist",
            process_into("nope"),
            None,
            "error",
        ),
    ];
    for (n, (name, action, want_calendar, want_outcome)) in cases.into_iter().enumerate() {
        let uid = format!("case-{n}");
        let id = enqueue(&store, action, "REQUEST", &uid, 0, "CONFIRMED").unwrap();
        drain(&store, &cfg()).await;
        let j = job(&store, id);
        let outcome = outcome(&j).unwrap_or_default();
        let calendar = store.find_object(BOB, &uid).unwrap().map(|o| o.calendar_id);
        assert!(
            j.state == JobState::Done
                && outcome.starts_with(want_outcome)
                && calendar.as_deref() == want_calendar,
            "case {name}: want {want_outcome} in {want_calendar:?}, got {outcome} in {calendar:?}"
        );
    }
}

#[tokio::test]
async fn unusable_jobs_complete_with_an_error_outcome_and_are_not_retried() {
    let (_dir, store) = open_store();
    let calendar = itip("REQUEST", "plan-6", 0, "CONFIRMED");
    let good = job_for_message(
        BOB,
        ALICE,
        &spec(process()),
        &calendar,
        &Default::default(),
        "Q-test",
    )
    .unwrap();
    let cases = [
        (
            "spec that is not JSON",
            imipd_store::NewJob {
                spec: "{".into(),
                idem_key: "k1".into(),
                ..good.clone()
            },
            "job spec is not valid",
        ),
        (
            "a whole mail instead of its calendar part",
            imipd_store::NewJob {
                message: b"Subject: hi\r\n\r\nhello\r\n".to_vec(),
                idem_key: "k2".into(),
                ..good.clone()
            },
            "no calendar part",
        ),
        (
            "user deleted since",
            imipd_store::NewJob {
                user: "gone@example.org".into(),
                idem_key: "k3".into(),
                ..good.clone()
            },
            "no longer exists",
        ),
    ];
    for (name, new_job, want) in cases {
        let id = store.enqueue_job(&new_job).unwrap().unwrap();
        drain(&store, &cfg()).await;
        let j = job(&store, id);
        let outcome = outcome(&j).unwrap_or_default();
        assert!(
            j.state == JobState::Done
                && j.attempts == 1
                && outcome.starts_with("error")
                && outcome.contains(want),
            "case {name}: want error with {want:?}, got {j:?}"
        );
    }
    assert!(store.objects(BOB).unwrap().is_empty());
}

#[tokio::test]
async fn spam_is_never_applied() {
    let (_dir, store) = open_store();
    let calendar = itip("REQUEST", "plan-7", 0, "CONFIRMED");
    let spam = JobSpec {
        spam: true,
        ..spec(process())
    };
    let new_job =
        job_for_message(BOB, ALICE, &spam, &calendar, &Default::default(), "Q-test").unwrap();
    let id = store.enqueue_job(&new_job).unwrap().unwrap();
    drain(&store, &cfg()).await;
    assert!(outcome(&job(&store, id)).unwrap().starts_with("no_action"));
    assert!(store.find_object(BOB, "plan-7").unwrap().is_none());
}

static CALLS: AtomicU32 = AtomicU32::new(0);

fn counts_calls(
    store: &dyn Store,
    job: &Job,
    now: i64,
    cfg: &ApplyConfig,
) -> Result<Applied, JobError> {
    CALLS.fetch_add(1, Ordering::SeqCst);
    process_job(store, job, now, cfg)
}

#[tokio::test]
async fn the_loop_runs_when_woken_and_stops_on_shutdown() {
    let (_dir, store) = open_store();
    let wake = Arc::new(Notify::new());
    let (stop, shutdown) = watch::channel(false);
    let cfg = WorkerConfig {
        poll_interval: Duration::from_secs(3600),
        ..cfg()
    };
    let worker = tokio::spawn(run_worker(store.clone(), cfg, wake.clone(), shutdown));
    let id = enqueue(&store, process(), "REQUEST", "plan-8", 0, "CONFIRMED").unwrap();
    wake.notify_one();
    // The poll interval is an hour: only the wake-up can have applied it.
    let applied = tokio::time::timeout(Duration::from_secs(30), async {
        while job(&store, id).state != JobState::Done {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(applied.is_ok(), "the woken worker applies the job");
    assert!(store.find_object(BOB, "plan-8").unwrap().is_some());
    stop.send(true).unwrap();
    worker.await.unwrap();
}

#[tokio::test]
async fn a_worker_commits_what_the_processor_returns_and_nothing_else() {
    let (_dir, store) = open_store();
    let id = enqueue(&store, process(), "REQUEST", "plan-9", 0, "CONFIRMED").unwrap();
    CALLS.store(0, Ordering::SeqCst);
    drain_with(&store, counts_calls).await;
    assert_eq!(CALLS.load(Ordering::SeqCst), 1, "one job, one application");
    let j = job(&store, id);
    assert_eq!(j.state, JobState::Done);
    // Completing again is refused: the job is no longer leased.
    let stored = store.find_object(BOB, "plan-9").unwrap().unwrap();
    let again = store.commit(&Batch {
        user: BOB.into(),
        writes: vec![ObjectWrite::delete(&stored)],
        job: Some(imipd_store::JobDone {
            job_id: id,
            worker: cfg().worker_id,
            ..Default::default()
        }),
        ..Batch::default()
    });
    assert!(again.is_err());
    assert!(store.find_object(BOB, "plan-9").unwrap().is_some());
}

async fn drain_with(store: &Arc<dyn Store>, processor: imipd_worker::Processor) {
    while worker_round(store, &cfg(), processor).await > 0 {}
}

#[tokio::test]
async fn a_refresh_from_an_attendee_is_answered_once_with_the_current_event() {
    let (_dir, store) = open_store();
    let organized = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Test//EN\r\n\
         BEGIN:VEVENT\r\nUID:own-1\r\nSEQUENCE:3\r\nDTSTAMP:20300101T090000Z\r\n\
         DTSTART:20300105T100000Z\r\nDTEND:20300105T110000Z\r\nSUMMARY:Bob's review\r\n\
         ORGANIZER;CN=Bob:mailto:{BOB}\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:{BOB}\r\n\
         ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:{ALICE}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    store
        .commit(&Batch {
            user: BOB.into(),
            writes: vec![ObjectWrite::new_event("default", "own-1", &organized)],
            ..Batch::default()
        })
        .unwrap();
    let refresh = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Test//EN\r\nMETHOD:REFRESH\r\n\
         BEGIN:VEVENT\r\nUID:own-1\r\nDTSTAMP:20300102T090000Z\r\n\
         ORGANIZER:mailto:{BOB}\r\nATTENDEE:mailto:{ALICE}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    let job = job_for_message(
        BOB,
        ALICE,
        &spec(process()),
        &refresh,
        &Default::default(),
        "Q-refresh",
    )
    .unwrap();
    let id = store.enqueue_job(&job).unwrap().expect("queued");
    assert_eq!(
        store.enqueue_job(&job).unwrap(),
        None,
        "a repeat is the same job"
    );
    drain(&store, &cfg()).await;
    assert_eq!(self::job(&store, id).state, JobState::Done);
    let mails = store.mails(&Default::default()).unwrap();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].rcpt_to, [ALICE]);
    assert_eq!(mails[0].mail_from, BOB);
    assert_eq!(
        mails[0].queue_id, "Q-refresh",
        "the answer is under the job's queue id"
    );
    let text = String::from_utf8_lossy(&mails[0].data).replace("\r\n ", "");
    assert!(text.contains("METHOD:REQUEST"), "{text}");
    assert!(text.contains("Bob's review"), "{text}");
    assert!(text.contains("SEQUENCE:3"), "{text}");

    // Answers count against the sender's hourly limit: REFRESH cannot make imipd a mailer.
    let again = refresh.replace("DTSTAMP:20300102T090000Z", "DTSTAMP:20300102T100000Z");
    let job = job_for_message(
        BOB,
        ALICE,
        &spec(process()),
        &again,
        &Default::default(),
        "Q-test",
    )
    .unwrap();
    let id = store.enqueue_job(&job).unwrap().expect("a new REFRESH");
    let limited = WorkerConfig {
        apply: ApplyConfig {
            max_per_sender_per_hour: 1,
            ..ApplyConfig::default()
        },
        ..cfg()
    };
    drain(&store, &limited).await;
    let outcome = outcome(&self::job(&store, id)).unwrap_or_default();
    assert!(outcome.contains("rate limit"), "{outcome}");
    assert_eq!(store.mails(&Default::default()).unwrap().len(), 1);
}

static RACED_NEW: AtomicU32 = AtomicU32::new(0);

/// Plans the job, then (the first time only) Bob saves an event of his own under the same
/// UID by another path before the worker commits, as `imipd events save` might.
fn another_path_adds_it_first(
    store: &dyn Store,
    job: &Job,
    now: i64,
    cfg: &ApplyConfig,
) -> Result<Applied, JobError> {
    let planned = process_job(store, job, now, cfg)?;
    if RACED_NEW.fetch_add(1, Ordering::SeqCst) == 0 {
        bob_saves_his_own(store, "race-1");
    }
    Ok(planned)
}

/// Bob saves an event of his own under `uid` by another path, as `imipd events save` might.
fn bob_saves_his_own(store: &dyn Store, uid: &str) {
    let own = format!(
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:Bob's own\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    );
    store
        .commit(&Batch {
            user: BOB.into(),
            writes: vec![ObjectWrite::new_event("default", uid, &own)],
            ..Batch::default()
        })
        .unwrap();
}

#[tokio::test]
async fn a_new_event_stored_by_another_path_meanwhile_is_left_alone_and_the_job_says_so() {
    let (_dir, store) = open_store();
    let id = enqueue(&store, process(), "REQUEST", "race-1", 0, "CONFIRMED").unwrap();
    drain_with(&store, another_path_adds_it_first).await;
    assert_eq!(
        RACED_NEW.load(Ordering::SeqCst),
        1,
        "planned once, not again"
    );
    let j = job(&store, id);
    let outcome = outcome(&j).unwrap_or_default();
    assert!(
        j.state == JobState::Done
            && outcome.starts_with("no_action")
            && outcome.contains("a new event never replaces one already there"),
        "{j:?}"
    );
    let stored = store.find_object(BOB, "race-1").unwrap().unwrap();
    assert!(stored.ics.contains("Bob's own"), "{}", stored.ics);
    assert_eq!(
        store.actions_since(BOB, ALICE, 0).unwrap(),
        0,
        "a job that changed nothing does not count"
    );
}

static RACED_UPDATE: AtomicU32 = AtomicU32::new(0);

/// Plans the job, then (the first time only) Bob answers the invitation before the worker
/// commits: the plan is for a version that is gone.
fn bob_answers_meanwhile(
    store: &dyn Store,
    job: &Job,
    now: i64,
    cfg: &ApplyConfig,
) -> Result<Applied, JobError> {
    let planned = process_job(store, job, now, cfg)?;
    if RACED_UPDATE.fetch_add(1, Ordering::SeqCst) == 0 {
        let answer = imipd_scheduling::rsvp::Rsvp {
            user: BOB,
            uid: "race-2",
            partstat: imipd_calendar::PartStat::Accepted,
            recurrence_id: None,
            comment: None,
        };
        imipd_scheduling::rsvp::rsvp(store, &answer, &cfg.limits, now, "Q-rsvp").unwrap();
    }
    Ok(planned)
}

#[tokio::test]
async fn an_update_planned_on_a_version_that_changed_is_planned_again() {
    let (_dir, store) = open_store();
    enqueue(&store, process(), "REQUEST", "race-2", 0, "CONFIRMED").unwrap();
    drain(&store, &cfg()).await;
    let update = enqueue(&store, process(), "REQUEST", "race-2", 1, "TENTATIVE").unwrap();
    drain_with(&store, bob_answers_meanwhile).await;
    assert_eq!(
        RACED_UPDATE.load(Ordering::SeqCst),
        2,
        "the stale plan was refused and the job planned again"
    );
    let j = job(&store, update);
    assert!(
        j.state == JobState::Done && outcome(&j).unwrap_or_default().starts_with("updated"),
        "{j:?}"
    );
    let stored = store.find_object(BOB, "race-2").unwrap().unwrap();
    assert!(stored.ics.contains("STATUS:TENTATIVE"), "{}", stored.ics);
    assert_eq!(
        store.mails(&Default::default()).unwrap().len(),
        1,
        "Bob's reply stays queued"
    );
}

/// For each job planned: its UID and whether any job was finished by then.
static PLANNED: std::sync::Mutex<Vec<(String, bool)>> = std::sync::Mutex::new(Vec::new());

/// Plans the job and notes what was finished by then; before the round commits, Bob
/// saves an event of his own under the UID `race-3` by another path.
fn notes_and_races_one(
    store: &dyn Store,
    job: &Job,
    now: i64,
    cfg: &ApplyConfig,
) -> Result<Applied, JobError> {
    let finished = store
        .jobs(&Default::default())
        .unwrap()
        .iter()
        .any(|j| j.state == JobState::Done);
    PLANNED.lock().unwrap().push((job.uid.clone(), finished));
    let planned = process_job(store, job, now, cfg)?;
    if job.uid == "race-3" {
        bob_saves_his_own(store, "race-3");
    }
    Ok(planned)
}

#[tokio::test]
async fn a_round_is_planned_then_committed_together_and_a_raced_job_settles_alone() {
    let (_dir, store) = open_store();
    let uids = ["round-1", "race-3", "round-2"];
    let ids: Vec<i64> = uids
        .iter()
        .map(|uid| enqueue(&store, process(), "REQUEST", uid, 0, "CONFIRMED").unwrap())
        .collect();
    // Without a sender limit, one sender's jobs need not wait for each other's commit.
    let cfg = WorkerConfig {
        apply: ApplyConfig {
            max_per_sender_per_hour: 0,
            ..ApplyConfig::default()
        },
        ..cfg()
    };
    assert_eq!(worker_round(&store, &cfg, notes_and_races_one).await, 3);
    let planned = PLANNED.lock().unwrap().clone();
    assert_eq!(
        planned,
        uids.iter()
            .map(|u| (u.to_string(), false))
            .collect::<Vec<_>>(),
        "all three planned before any committed"
    );
    for (id, uid) in ids.iter().zip(uids) {
        let j = job(&store, *id);
        let outcome = outcome(&j).unwrap_or_default();
        let stored = store.find_object(BOB, uid).unwrap().unwrap();
        assert_eq!(j.state, JobState::Done, "{uid}: {j:?}");
        if uid == "race-3" {
            assert!(
                outcome.contains("a new event never replaces one already there"),
                "{outcome}"
            );
            assert!(stored.ics.contains("Bob's own"), "{}", stored.ics);
        } else {
            assert!(!outcome.starts_with("no_action"), "{uid}: {outcome}");
            assert!(!stored.ics.contains("Bob's own"), "{}", stored.ics);
        }
    }
}
