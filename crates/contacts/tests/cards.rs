//! vCards as address books meet them: from clients (Apple's grouped labels, vCard 3.0
//! and 4.0), from `.vcf` exports with many cards, and hostile ones.

use imipd_contacts::{Card, CardError, MAX_CARD_BYTES, MAX_EMAILS, Remaining, split};

const KATE: &str = "BEGIN:VCARD\r\n\
VERSION:3.0\r\n\
UID:kate-1\r\n\
FN:Kate Smith\r\n\
N:Smith;Kate;;;\r\n\
item1.EMAIL;TYPE=INTERNET:kate.work@other.example\r\n\
item1.X-ABLabel:work\r\n\
EMAIL;TYPE=INTERNET,HOME:Kate@Example.org\r\n\
TEL:+1 555 0100\r\n\
END:VCARD\r\n";

#[test]
fn a_card_is_read_once_and_kept_as_written() {
    let card = Card::parse(KATE).unwrap();
    assert_eq!(card.text(), KATE);
    assert_eq!(card.uid(), "kate-1");
    assert_eq!(card.formatted_name(), "Kate Smith");
    assert_eq!(
        card.emails(),
        ["kate.work@other.example", "Kate@Example.org"]
    );
    let v4 =
        "BEGIN:VCARD\nVERSION:4.0\nUID:urn:uuid:0b5f\nFN:Al\nEMAIL:al@example.org\nEND:VCARD\n";
    let card = Card::parse(v4).unwrap();
    assert_eq!(
        (card.uid(), card.emails()),
        ("urn:uuid:0b5f", &["al@example.org".to_string()][..])
    );
}

#[test]
fn what_is_not_one_acceptable_vcard_is_refused_with_its_reason() {
    let card = |body: &str| format!("BEGIN:VCARD\r\n{body}END:VCARD\r\n");
    let ok = "VERSION:4.0\r\nUID:u\r\nFN:x\r\n";
    let many_emails: String = (0..=MAX_EMAILS)
        .map(|i| format!("EMAIL:a{i}@example.org\r\n"))
        .collect();
    let photo = format!(
        "PHOTO:data:image/png;base64,{}\r\n",
        "A".repeat(MAX_CARD_BYTES)
    );
    let cases: Vec<(String, CardError)> = vec![
        (String::new(), CardError::NotAVCard("it is empty".into())),
        (
            "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".into(),
            CardError::NotAVCard("it begins with \"BEGIN:VCALENDAR\"".into()),
        ),
        (
            format!("junk\r\n{}", card(ok)),
            CardError::NotAVCard("it begins with \"junk\"".into()),
        ),
        (format!("BEGIN:VCARD\r\n{ok}"), CardError::Unterminated),
        (
            card(&format!("{ok}BEGIN:VCARD\r\nFN:y\r\nEND:VCARD\r\n")),
            CardError::Nested,
        ),
        (format!("{}{}", card(ok), card(ok)), CardError::SeveralCards),
        (
            format!("{}more\r\n", card(ok)),
            CardError::TrailingText("more".into()),
        ),
        (card("UID:u\r\nFN:x\r\n"), CardError::NoVersion),
        (
            card("VERSION:2.1\r\nUID:u\r\nFN:x\r\n"),
            CardError::UnsupportedVersion("2.1".into()),
        ),
        (card("VERSION:4.0\r\nFN:x\r\n"), CardError::NoUid),
        (card("VERSION:4.0\r\nUID: \r\nFN:x\r\n"), CardError::NoUid),
        (card("VERSION:4.0\r\nUID:u\r\n"), CardError::NoFormattedName),
        (
            card(&format!("{ok}{many_emails}")),
            CardError::TooManyEmails {
                count: MAX_EMAILS + 1,
                limit: MAX_EMAILS,
            },
        ),
        (
            card(&format!("{ok}{photo}")),
            CardError::TooLarge {
                size: card(&format!("{ok}{photo}")).len(),
                limit: MAX_CARD_BYTES,
            },
        ),
        (
            card(&format!("{ok}no colon here\r\n")),
            CardError::InvalidLine("no colon here".into()),
        ),
    ];
    for (text, want) in cases {
        let shown: String = text.chars().take(80).collect();
        assert_eq!(Card::parse(&text), Err(want), "{shown:?}");
    }
}

#[test]
fn a_simple_card_escapes_what_it_is_given() {
    let card = Card::simple("urn:uuid:1", None, "kate@example.org").unwrap();
    assert_eq!(
        card.text(),
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:urn:uuid:1\r\nFN:kate@example.org\r\nN:;;;;\r\n\
         EMAIL:kate@example.org\r\nEND:VCARD\r\n"
    );
    let name = "Smith, Kate; \\ \"K\"\nsecond line";
    let card = Card::simple("u", Some(name), "a,b;c@example.org").unwrap();
    assert_eq!(card.formatted_name(), name);
    assert_eq!(card.emails(), ["a,b;c@example.org"]);
    assert_eq!(
        Card::simple("", None, "kate@example.org"),
        Err(CardError::NoUid)
    );
    assert_eq!(
        Card::simple("u", Some("Kate"), " "),
        Err(CardError::NoEmail)
    );
    let blank_name = Card::simple("u", Some(" "), "kate@example.org").unwrap();
    assert_eq!(blank_name.formatted_name(), "kate@example.org");
}

#[test]
fn taking_emails_out_keeps_the_rest_of_the_card() {
    let card = Card::parse(KATE).unwrap();
    let work = |e: &str| e == "kate.work@other.example";
    let Remaining::Card(left) = card.without_emails(work).unwrap() else {
        panic!("the card has more than its identity")
    };
    assert_eq!(left.uid(), "kate-1");
    assert_eq!(left.emails(), ["Kate@Example.org"]);
    assert!(
        !left.text().contains("X-ABLabel"),
        "the label went with its EMAIL"
    );
    assert!(left.text().contains("TEL"), "{}", left.text());
    // A TEL is more than identity: the card stays with no EMAIL at all.
    let Remaining::Card(none) = card.without_emails(|_| true).unwrap() else {
        panic!("the TEL keeps the card")
    };
    assert!(none.emails().is_empty());
    assert_eq!(
        card.without_emails(|_| false).unwrap(),
        Remaining::Unchanged
    );
    let simple = Card::simple("u", Some("Kate"), "kate@example.org").unwrap();
    assert_eq!(simple.without_emails(|_| true).unwrap(), Remaining::Nothing);
}

#[test]
fn an_imported_card_without_uid_gets_one_that_a_second_import_repeats() {
    let text = "BEGIN:VCARD\nVERSION:3.0\nFN:No Uid\nEMAIL:n@example.org\nEND:VCARD\n";
    let (card, assigned) = Card::parse_assigning_uid(text).unwrap();
    assert!(assigned);
    assert!(card.uid().starts_with("urn:uuid:"), "{}", card.uid());
    assert_eq!(
        card.text(),
        text.replace("END:VCARD", &format!("UID:{}\nEND:VCARD", card.uid()))
    );
    let (again, _) = Card::parse_assigning_uid(text).unwrap();
    assert_eq!(again.uid(), card.uid());
    let other = text.replace("No Uid", "Other");
    assert_ne!(
        Card::parse_assigning_uid(&other).unwrap().0.uid(),
        card.uid()
    );
    assert_eq!(
        Card::parse_assigning_uid(KATE).unwrap(),
        (Card::parse(KATE).unwrap(), false)
    );
    assert_eq!(
        Card::parse_assigning_uid("BEGIN:VCARD\nVERSION:3.0\nEND:VCARD\n"),
        Err(CardError::NoFormattedName)
    );
}

#[test]
fn a_file_is_cut_into_its_cards_with_their_lines() {
    let file = format!(
        "\u{feff}{KATE}\r\n\
         BEGIN:VCARD\nVERSION:2.1\nFN:Boss\nAGENT:\nBEGIN:VCARD\nFN:Assistant\nEND:VCARD\nEND:VCARD\n\
         stray words\nmore stray\n\
         BEGIN:VCARD\nVERSION:4.0\nFN:Cut off\n"
    );
    let pieces = split(&file);
    let got: Vec<(usize, &str)> = pieces.iter().map(|p| (p.line, p.text)).collect();
    assert_eq!(
        got,
        vec![
            (1, KATE),
            (
                12,
                "BEGIN:VCARD\nVERSION:2.1\nFN:Boss\nAGENT:\nBEGIN:VCARD\nFN:Assistant\nEND:VCARD\nEND:VCARD\n"
            ),
            (20, "stray words\nmore stray\n"),
            (22, "BEGIN:VCARD\nVERSION:4.0\nFN:Cut off\n"),
        ]
    );
    assert_eq!(Card::parse(pieces[1].text), Err(CardError::Nested));
    assert!(matches!(
        Card::parse(pieces[2].text),
        Err(CardError::NotAVCard(_))
    ));
    assert_eq!(Card::parse(pieces[3].text), Err(CardError::Unterminated));
    assert!(split("\n\r\n  \n").is_empty());
}

mod never_panic {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text(text in "(BEGIN:VCARD\r?\n|END:VCARD\r?\n|VERSION:[34]\\.0\n|UID:[a-z]*\n|FN:.{0,8}\n|EMAIL:.{0,12}\n|item1\\.EMAIL:x@y\n|[ -~]{0,10}\r?\n| )*") {
            for piece in split(&text) {
                let _ = Card::parse(piece.text);
                if let Ok((card, _)) = Card::parse_assigning_uid(piece.text) {
                    let _ = card.without_emails(|e| e.contains('@'));
                }
            }
            let _ = Card::parse(&text);
        }

        #[test]
        fn any_simple_card(name in "(?s).{0,20}", address in "(?s).{0,20}") {
            if let Ok(card) = Card::simple("urn:uuid:1", Some(&name), &address) {
                let shown = if name.trim().is_empty() { address.trim() } else { name.trim() };
                prop_assert_eq!(card.formatted_name(), shown);
                prop_assert_eq!(card.emails().to_vec(), vec![address.trim().to_string()]);
            }
        }
    }
}
