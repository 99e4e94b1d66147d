//! Every kind of outcome, delivered over LMTP to the real binary: the
//! `X-Imipd-Cal-Outcome` header of each delivered copy is the decision its job carries
//! (`imipd jobs show`: `decided:`), and the worker's result is that decision; a message
//! that makes no job says why in its header.

mod common;

use common::itip::Mail;
use common::*;
use std::path::Path;

const BOB: &str = "bob@example.org";
/// Runs `processcalendar` on everything, whatever the sender.
const ERIN: &str = "erin@example.org";
/// Default preferences: invitations from contacts only.
const FRANK: &str = "frank@example.org";
/// The sender's hourly limit the server runs with.
const LIMIT: usize = 3;

const ERIN_RULES: &str = "require [\"processcalendar\", \"enotify\"];\n\
if header :contains \"Subject\" \"into-nope\" { processcalendar :calendarid \"nope\"; }\n\
elsif header :contains \"Subject\" \"addcal-gone\" { notify :method \"addcal\" :options [\"calendarId\", \"gone\"]; }\n\
elsif header :contains \"Subject\" \"addcal-work\" { notify :method \"addcal\" :options [\"calendarId\", \"work\"]; }\n\
elsif exists \"X-ME-Cal-Method\" { processcalendar; }\n";

/// Bob's own event, with Dave invited.
const ORGANIZED: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Test//EN\r\n\
BEGIN:VEVENT\r\nUID:own@example.org\r\nSEQUENCE:0\r\nDTSTAMP:20300101T090000Z\r\n\
DTSTART:20300105T100000Z\r\nDURATION:PT1H\r\nSUMMARY:Review\r\n\
ORGANIZER;CN=Bob:mailto:bob@example.org\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:bob@example.org\r\n\
ATTENDEE;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:dave@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

fn setup(dir: &Path) {
    must(dir, &["user", "add", BOB]);
    must(dir, &["prefs", "set", BOB, "add_invitations=everyone"]);
    must(dir, &["user", "add", ERIN]);
    must(dir, &["calendars", "add", ERIN, "work"]);
    must(
        dir,
        &[
            "prefs",
            "set",
            ERIN,
            "add_invitations=never",
            "apply_updates=off",
        ],
    );
    let rules = dir.join("erin.sieve");
    std::fs::write(&rules, ERIN_RULES).unwrap();
    must(dir, &["sieve", "set", ERIN, rules.to_str().unwrap()]);
    must(dir, &["user", "add", FRANK]);
    let event = dir.join("own.ics");
    std::fs::write(&event, ORGANIZED).unwrap();
    must(dir, &["events", "save", BOB, event.to_str().unwrap()]);
}

/// A mail from Dave about Bob's event: `method` and the VEVENT's own lines.
fn from_dave(subject: &str, method: &str, lines: &str) -> Vec<u8> {
    format!(
        "Authentication-Results: mx.test; dmarc=pass header.from=example.org\r\n\
         From: Dave <dave@example.org>\r\nTo: bob@example.org\r\nSubject: {subject}\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/calendar; charset=utf-8; method={method}\r\n\r\n\
         BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Test//EN\r\nMETHOD:{method}\r\n\
         BEGIN:VEVENT\r\nUID:own@example.org\r\nDTSTAMP:20300102T090000Z\r\n\
         ORGANIZER:mailto:bob@example.org\r\n{lines}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    .into_bytes()
}

/// One delivery: who it is for, what it is, and what its header must say.
struct Case {
    subject: String,
    user: &'static str,
    mail: Vec<u8>,
    kind: &'static str,
    /// Words the reason has.
    words: &'static str,
    /// Whether a calendar job is made.
    job: bool,
}

fn case(
    subject: &str,
    user: &'static str,
    mail: Vec<u8>,
    kind: &'static str,
    words: &'static str,
    job: bool,
) -> Case {
    Case {
        subject: subject.to_string(),
        user,
        mail,
        kind,
        words,
        job,
    }
}

/// `mail` with `user` invited instead of Bob.
fn inviting(user: &str, mail: Vec<u8>) -> Vec<u8> {
    String::from_utf8(mail)
        .unwrap()
        .replace("mailto:bob@example.org", &format!("mailto:{user}"))
        .into_bytes()
}

fn cases() -> Vec<Case> {
    let request = |uid, seq, subject| {
        Mail {
            sequence: seq,
            subject: Some(subject),
            ..Mail::request(uid)
        }
        .bytes()
    };
    // An older SEQUENCE, stamped later than the first: a message of its own, not a repeat.
    let older = String::from_utf8(request("ev@example.org", 0, "not newer"))
        .unwrap()
        .replace("DTSTAMP:20300101T090000Z", "DTSTAMP:20300109T090000Z")
        .into_bytes();
    let erin = |uid, subject| inviting(ERIN, request(uid, 0, subject));
    let not_invited = String::from_utf8(request("other@example.org", 0, "not invited"))
        .unwrap()
        .replace(
            "ATTENDEE;CN=Bob;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.org\r\n",
            "",
        )
        .into_bytes();
    let forwarded = String::from_utf8(
        Mail {
            from: "carol@example.org",
            subject: Some("forwarded"),
            ..Mail::request("fwd@example.org")
        }
        .bytes(),
    )
    .unwrap()
    .replace(
        "ORGANIZER;CN=Organizer:mailto:carol@example.org",
        "ORGANIZER;CN=Alice:mailto:alice@example.org",
    )
    .into_bytes();
    let broken = String::from_utf8(request("broken@example.org", 0, "broken"))
        .unwrap()
        .replace("END:VEVENT\r\n", "")
        .into_bytes();
    let no_method = String::from_utf8(request("nomethod@example.org", 0, "no method"))
        .unwrap()
        .replace("METHOD:REQUEST\r\n", "")
        .replace("; method=REQUEST", "")
        .into_bytes();
    let mut all = vec![
        case(
            "added",
            BOB,
            request("ev@example.org", 0, "added"),
            "added",
            "new event",
            true,
        ),
        case(
            "updated",
            BOB,
            request("ev@example.org", 1, "updated"),
            "updated",
            "updated event ev@example.org",
            true,
        ),
        case(
            "not newer",
            BOB,
            older,
            "no_action",
            "outdated REQUEST",
            true,
        ),
        case(
            "cancelled",
            BOB,
            Mail {
                subject: Some("cancelled"),
                ..Mail::cancel("ev@example.org", 2)
            }
            .bytes(),
            "updated",
            "ev@example.org cancelled by alice@example.org",
            true,
        ),
        case(
            "reply applied",
            BOB,
            from_dave(
                "reply applied",
                "REPLY",
                "SEQUENCE:0\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:dave@example.org\r\n",
            ),
            "updated",
            "dave@example.org answered own@example.org",
            true,
        ),
        case(
            "refresh answered",
            BOB,
            from_dave(
                "refresh answered",
                "REFRESH",
                "ATTENDEE:mailto:dave@example.org\r\n",
            ),
            "no_action",
            "the current version is sent back",
            true,
        ),
        case(
            "counter recorded",
            BOB,
            from_dave(
                "counter recorded",
                "COUNTER",
                "SEQUENCE:0\r\nDTSTART:20300106T100000Z\r\nDURATION:PT1H\r\n\
                 ATTENDEE;PARTSTAT=TENTATIVE:mailto:dave@example.org\r\n",
            ),
            "updated",
            "counter-proposal",
            true,
        ),
        case(
            "not invited",
            BOB,
            not_invited,
            "no_action",
            "is not an ATTENDEE",
            true,
        ),
        // Not the organizer's own: the user can add it by hand.
        case(
            "forwarded",
            BOB,
            forwarded,
            "no_action",
            "a forwarded invitation; it can be added by hand",
            true,
        ),
        case(
            "spam",
            BOB,
            Mail {
                spam: true,
                subject: Some("spam"),
                ..Mail::request("spam@example.org")
            }
            .bytes(),
            "no_action",
            "marked as spam",
            false,
        ),
        case(
            "unauthenticated",
            BOB,
            Mail {
                auth: Some(("mx.test", "fail")),
                subject: Some("unauthenticated"),
                ..Mail::request("unauth@example.org")
            }
            .bytes(),
            "no_action",
            "not authenticated",
            // Kept, applying nothing, so the web page can offer to add it by hand.
            true,
        ),
        case("broken", BOB, broken, "no_action", "unparsable", false),
        case("no method", BOB, no_method, "no_action", "no METHOD", false),
        case(
            "left to the user",
            FRANK,
            inviting(
                FRANK,
                request("stranger@example.org", 0, "left to the user"),
            ),
            "no_action",
            "no Sieve rule asked for calendar processing",
            true,
        ),
        case(
            "into-nope",
            ERIN,
            erin("nope@example.org", "into-nope"),
            "error",
            "no calendar \\\"nope\\\"",
            true,
        ),
        case(
            "addcal-gone",
            ERIN,
            erin("gone@example.org", "addcal-gone"),
            "error",
            "no calendar \\\"gone\\\"",
            false,
        ),
        case(
            "addcal-work",
            ERIN,
            erin("work@example.org", "addcal-work"),
            "added",
            "new event",
            true,
        ),
        case(
            "unauthenticated, processed",
            ERIN,
            inviting(
                ERIN,
                Mail {
                    auth: Some(("mx.test", "fail")),
                    subject: Some("unauthenticated, processed"),
                    ..Mail::request("erin-unauth@example.org")
                }
                .bytes(),
            ),
            "no_action",
            "not authenticated",
            true,
        ),
        case(
            "spam, processed",
            ERIN,
            inviting(
                ERIN,
                Mail {
                    spam: true,
                    subject: Some("spam, processed"),
                    ..Mail::request("erin-spam@example.org")
                }
                .bytes(),
            ),
            "no_action",
            "spam",
            true,
        ),
    ];
    // One sender past the limit: the last of its invitations is refused at delivery.
    for n in 0..=LIMIT {
        let (subject, uid) = (format!("flood {n}"), format!("flood-{n}@example.org"));
        let mail = Mail {
            from: "flood@example.org",
            subject: Some(&subject),
            ..Mail::request(&uid)
        }
        .bytes();
        let (kind, words) = match n {
            LIMIT => (
                "no_action",
                "rate limit: 3 automatic actions for flood@example.org in the last hour",
            ),
            _ => ("added", "new event"),
        };
        all.push(case(&subject, BOB, mail, kind, words, true));
    }
    all
}

/// The `(queued as ID)` of a reply.
fn queue_id(reply: &str) -> &str {
    reply
        .trim_end()
        .strip_suffix(')')
        .and_then(|r| r.rsplit_once("(queued as "))
        .map(|(_, id)| id)
        .unwrap_or_else(|| panic!("no queue id in {reply:?}"))
}

/// The delivered copy of `case`: the one with its Subject.
fn delivered(server: &Imipd, case: &Case) -> String {
    messages(&server.maildir(case.user), "")
        .into_iter()
        .find(|m| header_values(m, "Subject") == [case.subject.clone()])
        .unwrap_or_else(|| panic!("{}: no delivered copy for {}", case.subject, case.user))
}

/// `imipd jobs show` line `name:`'s value.
fn field(show: &str, name: &str) -> String {
    show.lines()
        .find_map(|l| l.strip_prefix(name))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("no {name} in\n{show}"))
}

#[test]
fn every_outcome_in_the_header_is_the_decision_its_job_carries() {
    let limit = LIMIT.to_string();
    let server = Imipd::start(setup, &[("IMIPD_MAX_PER_SENDER_PER_HOUR", limit.as_str())]);
    let cases = cases();
    let mut ids = Vec::new();
    for case in &cases {
        let mut client = server.connect();
        let (_, replies) = client.deliver("sender@example.org", &[case.user], &case.mail);
        client.quit();
        assert!(
            replies[0].starts_with("250 "),
            "{}: {replies:?}",
            case.subject
        );
        ids.push(queue_id(&replies[0]).to_string());
        // Each decided on what the calendar holds once the one before it has run.
        settled(&server);
    }
    let jobs = must(server.data(), &["jobs", "list", "--limit", "1000"]);
    for (case, id) in cases.iter().zip(&ids) {
        let name = &case.subject;
        let copy = delivered(&server, case);
        let header = header_values(&copy, "X-Imipd-Cal-Outcome").join(" ");
        let want = format!("{}; reason=\"", case.kind);
        assert!(
            header.starts_with(&want) && header.contains(case.words),
            "{name}: want {want}…{}…, the header says {header}",
            case.words
        );
        let line = jobs.lines().find(|l| l.contains(id.as_str()));
        match (case.job, line) {
            (true, Some(line)) => {
                let job = line.split_whitespace().next().unwrap();
                let show = must(server.data(), &["jobs", "show", job]);
                assert_eq!(field(&show, "decided:"), header, "{name}: header and job");
                assert_eq!(
                    field(&show, "result:"),
                    header,
                    "{name}: the worker carried out what was decided\n{show}"
                );
            }
            (false, None) => {}
            (true, None) => panic!("{name}: no job for queue id {id}:\n{jobs}"),
            (false, Some(line)) => panic!("{name}: a job was made: {line}"),
        }
    }
    assert!(!jobs.contains("result:"), "no result differs:\n{jobs}");
}
