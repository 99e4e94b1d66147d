//! Contacts as vCards, from the command line and over LMTP: `contacts add|del|list` over
//! cards, `contacts import` saying what it did with each card of an address book export,
//! `contacts export` giving the cards back as written, and the contacts gate knowing every
//! EMAIL of a card — compared in ASCII case only, so a look-alike is a stranger.

mod common;

use common::itip::Mail;
use common::*;
use imipd_contacts::{Card, split};
use imipd_store::{AddressBooks, DEFAULT_ADDRESS_BOOK, Expect, SqliteStore, card_href_for_uid};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const BOB: &str = "bob@example.org";

fn bob(dir: &Path) {
    must(dir, &["user", "add", BOB]);
}

fn address_book() -> String {
    String::from_utf8(fixture("address-book.vcf")).unwrap()
}

/// The line each card of `file` begins on, counting from 1.
fn card_lines(file: &str) -> Vec<usize> {
    file.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_end() == "BEGIN:VCARD")
        .map(|(i, _)| i + 1)
        .collect()
}

fn write(dir: &Path, name: &str, text: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn add_del_and_list_keep_working_over_cards() {
    let dir = tempfile::tempdir().unwrap();
    bob(dir.path());
    let d = dir.path();
    assert_eq!(
        must(d, &["contacts", "add", BOB, "Alice@Example.org"]).trim(),
        "Alice@Example.org is a contact of bob@example.org"
    );
    assert_eq!(
        must(d, &["contacts", "add", BOB, "alice@example.org"]).trim(),
        "alice@example.org is a contact of bob@example.org already"
    );
    assert_eq!(
        must(d, &["contacts", "list", BOB]).trim(),
        "alice@example.org"
    );
    let exported = must(d, &["contacts", "export", BOB]);
    let card = Card::parse(&exported).unwrap();
    assert_eq!(card.emails(), ["alice@example.org"]);
    assert_eq!(card.formatted_name(), "alice@example.org");
    assert_eq!(
        must(d, &["contacts", "del", BOB, "ALICE@example.org"]).trim(),
        "removed ALICE@example.org from bob@example.org's contacts"
    );
    assert_eq!(
        must(d, &["contacts", "list", BOB]).trim(),
        "bob@example.org has no contacts"
    );
    let (code, out, err) = cli(d, &["contacts", "export", BOB]);
    assert_eq!(
        (code, out.as_str(), err.trim()),
        (0, "", "bob@example.org has no cards")
    );
    let (code, _, err) = cli(d, &["contacts", "del", BOB, "alice@example.org"]);
    assert!(
        code == 1 && err.contains("is not a contact of bob@example.org"),
        "{err}"
    );
    let (code, _, err) = cli(d, &["contacts", "add", BOB, "not-an-address"]);
    assert!(code == 1 && err.contains("expected local@domain"), "{err}");
}

#[test]
fn import_says_what_it_did_with_each_card_and_export_gives_them_back() {
    let dir = tempfile::tempdir().unwrap();
    bob(dir.path());
    let d = dir.path();
    let book = address_book();
    let file = write(d, "book.vcf", book.as_bytes());
    let (code, out, err) = cli(d, &["contacts", "import", BOB, &file]);
    assert_eq!(
        code, 1,
        "a refused card makes the import exit 1: {out}{err}"
    );
    let lines: Vec<&str> = out.lines().collect();
    let starts = card_lines(&book);
    assert_eq!(lines.len(), starts.len() + 1, "{out}");
    let expected = [
        "added Kate Smith <kate.work@other.example>, <kate@example.org>",
        "added Al Example <al@example.org>, with the UID urn:uuid:",
        "refused: vCard has no FN property",
        "refused: vCard version 2.1 is not accepted",
    ];
    for (i, (line, want)) in lines.iter().zip(expected).enumerate() {
        let prefix = format!("card {} (line {}): {want}", i + 1, starts[i]);
        assert!(
            line.starts_with(&prefix),
            "{line:?} should start with {prefix:?}"
        );
    }
    assert!(
        lines[4].contains("2 added, 0 updated, 0 unchanged, 2 refused, of 4 in"),
        "{}",
        lines[4]
    );
    assert_eq!(
        must(d, &["contacts", "list", BOB]),
        "al@example.org\nkate.work@other.example\nkate@example.org\n"
    );

    // The same file again changes nothing, the card without UID included.
    let (_, again, _) = cli(d, &["contacts", "import", BOB, &file]);
    assert!(
        again.contains("0 added, 0 updated, 2 unchanged, 2 refused"),
        "{again}"
    );

    // Export gives every card back, as it was written (plus the UID given to Al's).
    let exported = must(d, &["contacts", "export", BOB]);
    let pieces = split(&exported);
    assert_eq!(pieces.len(), 2, "{exported}");
    let kate = split(&book)[0].text;
    assert!(pieces.iter().any(|p| p.text == kate), "{exported}");
    let al = pieces
        .iter()
        .find(|p| p.text.contains("Al Example"))
        .unwrap();
    assert!(Card::parse(al.text).unwrap().uid().starts_with("urn:uuid:"));

    // A card with a UID that is there already replaces it.
    let changed = kate.replace("+1 555 0100", "+1 555 0199");
    let file = write(d, "kate.vcf", changed.as_bytes());
    let out = must(d, &["contacts", "import", BOB, &file]);
    assert!(
        out.starts_with("card 1 (line 1): updated Kate Smith"),
        "{out}"
    );
    assert!(must(d, &["contacts", "export", BOB]).contains("+1 555 0199"));
}

#[test]
fn import_reads_standard_input_and_refuses_what_is_not_a_vcard_file() {
    let dir = tempfile::tempdir().unwrap();
    bob(dir.path());
    let d = dir.path();
    let mut child = Command::new(bin())
        .args(["contacts", "import", BOB, "-"])
        .env("IMIPD_DATA_DIR", d)
        .env_remove("IMIPD_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let card = Card::simple("piped", Some("Piped"), "piped@example.org").unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(card.text().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(must(d, &["contacts", "list", BOB]).contains("piped@example.org"));

    let cases: &[(&[u8], &str)] = &[
        (
            b"BEGIN:VCARD\r\nFN:\xff\r\nEND:VCARD\r\n",
            "is not UTF-8 text",
        ),
        (b"\r\n\r\n", "no vCards in"),
    ];
    for (i, &(bytes, words)) in cases.iter().enumerate() {
        let file = write(d, &format!("bad{i}.vcf"), bytes);
        let (code, _, err) = cli(d, &["contacts", "import", BOB, &file]);
        assert!(code == 1 && err.contains(words), "{words}: {code} {err}");
    }
    // A client's card (another UID) under the name an import would choose: the import
    // takes another name instead of refusing or replacing it.
    {
        let store = SqliteStore::open(d.join("imipd.sqlite3")).unwrap();
        let theirs = Card::simple("zzz", None, "zzz@example.org").unwrap();
        let href = card_href_for_uid("abc");
        store
            .put_card(
                BOB,
                DEFAULT_ADDRESS_BOOK,
                &href,
                &theirs,
                Expect::MustNotExist,
            )
            .unwrap();
    }
    let ours = Card::simple("abc", None, "abc@example.org").unwrap();
    let file = write(d, "abc.vcf", ours.text().as_bytes());
    let out = must(d, &["contacts", "import", BOB, &file]);
    assert!(out.contains("1 added"), "{out}");
    let list = must(d, &["contacts", "list", BOB]);
    assert!(
        list.contains("abc@example.org") && list.contains("zzz@example.org"),
        "{list}"
    );

    let (code, _, err) = cli(d, &["contacts", "import", BOB, "/nonexistent/book.vcf"]);
    assert!(
        code == 1 && err.contains("cannot read /nonexistent/book.vcf"),
        "{err}"
    );
}

fn deliver(server: &Imipd, mail: &Mail) -> String {
    let before = messages(&server.maildir(BOB), "").len();
    let (_, data) = server.connect().deliver(mail.from, &[BOB], &mail.bytes());
    assert!(data[0].starts_with("250"), "{data:?}");
    let all = messages(&server.maildir(BOB), "");
    assert_eq!(all.len(), before + 1, "one new message in INBOX");
    header_values(all.last().unwrap(), "X-Imipd-Cal-Outcome").join(" | ")
}

/// The sender is only the second EMAIL of an imported card; a Kelvin sign (U+212A)
/// folds to `k` in Unicode but is not kate in ASCII case.
#[test]
fn the_second_email_of_an_imported_card_passes_the_contacts_gate_and_a_look_alike_does_not() {
    let server = Imipd::start(bob, &[]);
    let from_kate = |uid| Mail {
        from: "kate@example.org",
        ..Mail::request(uid)
    };
    let before = deliver(&server, &from_kate("before-import@example.org"));
    assert!(
        before.starts_with("no_action"),
        "a stranger until imported: {before}"
    );

    let file = write(server.data(), "book.vcf", address_book().as_bytes());
    cli(server.data(), &["contacts", "import", BOB, &file]);
    let card = Card::parse(split(&address_book())[0].text).unwrap();
    assert_eq!(
        card.emails()[1],
        "kate@example.org",
        "the fixture's second EMAIL"
    );

    let after = deliver(&server, &from_kate("after-import@example.org"));
    assert!(after.starts_with("added"), "{after}");
    eventually(20, "kate's event", || {
        must(server.data(), &["events", "list", BOB])
            .contains("after-import@example.org")
            .then_some(())
    });

    let look_alike = Mail {
        from: "\u{212A}ate@example.org",
        ..Mail::request("look-alike@example.org")
    };
    let outcome = deliver(&server, &look_alike);
    assert!(outcome.starts_with("no_action"), "{outcome}");
    settled(&server);
    let list = must(server.data(), &["events", "list", BOB]);
    assert!(!list.contains("look-alike@example.org"), "{list}");
    assert!(!list.contains("before-import@example.org"), "{list}");
}
