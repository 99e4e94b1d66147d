//! Preferences, the generated section and splicing.

use imipd_sieve::{
    AddInvitations, BEGIN_MARKER, END_MARKER, PrefError, Prefs, compile, generate_section, splice,
    user_section,
};

#[test]
fn prefs_defaults_set_and_pairs_round_trip() {
    let p = Prefs::default();
    assert_eq!(p.add_invitations, AddInvitations::Contacts);
    assert!(p.apply_updates && !p.delete_cancelled);
    assert_eq!(
        (p.file_into.as_deref(), p.calendar.as_deref()),
        (None, None)
    );

    let mut p = Prefs::default();
    p.set("add_invitations", "Everyone").expect("valid");
    p.set("apply_updates", "off").expect("valid");
    p.set("file_into", "Calendar").expect("valid");
    p.set("calendar", "work").expect("valid");
    p.set("delete_cancelled", "on").expect("valid");
    p.set("time_zone", "Europe/Berlin").expect("valid");
    assert_eq!(
        p.to_pairs(),
        [
            ("add_invitations", "everyone"),
            ("apply_updates", "off"),
            ("file_into", "Calendar"),
            ("calendar", "work"),
            ("delete_cancelled", "on"),
            ("time_zone", "Europe/Berlin"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()))
    );
    assert_eq!(Prefs::from_pairs(&p.to_pairs()), Ok(p.clone()));
    p.set("file_into", "").expect("empty clears");
    assert_eq!(p.file_into, None);
    assert_eq!(p.zone(), chrono_tz::Europe::Berlin);
    p.set("time_zone", "").expect("empty is UTC");
    assert_eq!((p.time_zone.as_deref(), p.zone()), (None, chrono_tz::UTC));
    assert_eq!(Prefs::from_pairs(&[]), Ok(Prefs::default()));
}

#[test]
fn pref_errors_name_key_value_and_allowed_values() {
    let mut p = Prefs::default();
    let e = p.set("add_invitations", "friends").unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("add_invitations")
            && text.contains("friends")
            && text.contains("contacts, everyone, never"),
        "{text}"
    );
    let text = p.set("apply_updates", "yes").unwrap_err().to_string();
    assert!(
        text.contains("apply_updates") && text.contains("\"yes\"") && text.contains("on, off"),
        "{text}"
    );
    let e = p.set("colour", "blue").unwrap_err();
    assert!(matches!(&e, PrefError::UnknownKey { key } if key == "colour"));
    assert!(e.to_string().contains("delete_cancelled"));
    let text = p.set("time_zone", "Mars/Olympus").unwrap_err().to_string();
    assert!(
        text.contains("time_zone") && text.contains("\"Mars/Olympus\"") && text.contains("IANA"),
        "{text}"
    );
    assert_eq!(p.time_zone, None, "a rejected zone changes nothing");
    for bad in ["a\nb", "x\\y", "${evil}"] {
        let text = p.set("file_into", bad).unwrap_err().to_string();
        assert!(text.contains("file_into"), "{text}");
    }
    assert!(
        Prefs::from_pairs(&[
            ("calendar".into(), "c\r\n".into()),
            ("x".into(), "y".into())
        ])
        .is_err()
    );
}

#[test]
fn generated_section_is_delimited_and_compiles_alone() {
    let section = generate_section(&Prefs::default());
    assert!(section.starts_with(&format!("{BEGIN_MARKER}\n")));
    assert!(section.ends_with(&format!("{END_MARKER}\n")));
    assert_eq!(
        BEGIN_MARKER,
        "# BEGIN imipd generated section — edit with `imipd prefs set`"
    );
    compile(&section).unwrap_or_else(|e| panic!("{e}\n{section}"));
}

#[test]
fn splice_puts_requires_first_and_user_section_comes_back_unchanged() {
    let user = "# my rules\nrequire [\"fileinto\", \"imap4flags\"]; # for folders\n\
                require \"body\";\n\nif body :contains \"invoice\" { fileinto \"Bills\"; }\n";
    let generated = generate_section(&Prefs::default());
    let full = splice(&generated, user);
    let begin = full.find(BEGIN_MARKER).expect("marker");
    let first_command = full.find("if body").expect("user command");
    assert!(
        full[..begin].contains("require \"body\";"),
        "user requires before the section"
    );
    assert!(begin < first_command);
    assert!(
        full.find("require [\"processcalendar\"")
            .expect("section require")
            < full.find("if allof").expect("section code"),
    );
    compile(&full).unwrap_or_else(|e| panic!("{e}\n{full}"));
    assert_eq!(user_section(&full), user);
    assert_eq!(user_section(&splice(&generated, "")), "");
    assert_eq!(
        user_section("keep;\n"),
        "keep;\n",
        "no markers: all of it is the user's"
    );
    let replaced = splice(
        &generate_section(&Prefs {
            add_invitations: AddInvitations::Never,
            ..Prefs::default()
        }),
        &user_section(&full),
    );
    assert_eq!(user_section(&replaced), user);
    assert_eq!(replaced.matches(BEGIN_MARKER).count(), 1);
}

#[test]
fn splice_without_user_requires() {
    let user = "keep;\n";
    let full = splice(&generate_section(&Prefs::default()), user);
    assert!(full.starts_with(BEGIN_MARKER));
    assert!(full.ends_with("keep;\n"));
    compile(&full).expect("compiles");
}
