//! Maildir delivery on real directories.

use imipd_delivery::maildir::Maildir;
use std::fs;
use std::io::ErrorKind;
use std::path::Path;

fn names_in(dir: &Path) -> Vec<String> {
    match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[test]
fn inbox_delivery_writes_exact_bytes_into_new() {
    let root = tempfile::tempdir().unwrap();
    let maildir = Maildir::new(root.path());
    let pieces: [&[u8]; 3] = [b"X-Imipd: 1\r\n", b"Subject: hi\n\n", b"body\r\n.line\n"];
    let path = maildir.deliver("alice", None, &[], &pieces).unwrap();
    let inbox = root.path().join("alice/Maildir");
    assert_eq!(path.parent(), Some(inbox.join("new").as_path()));
    assert_eq!(fs::read(&path).unwrap(), pieces.concat());
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.ends_with(&format!(",S={}", pieces.concat().len())),
        "{name}"
    );
    assert!(names_in(&inbox.join("tmp")).is_empty(), "tmp/ not cleaned");
    assert!(names_in(&inbox.join("cur")).is_empty());
    assert!(
        !inbox.join("maildirfolder").exists(),
        "INBOX is not a Maildir++ folder"
    );

    let second = maildir
        .deliver("alice", Some("INBOX"), &[], &[b"two"])
        .unwrap();
    assert_ne!(second, path);
    assert_eq!(names_in(&inbox.join("new")).len(), 2);
}

#[test]
fn folders_are_created_as_maildir_plus_plus() {
    let root = tempfile::tempdir().unwrap();
    let maildir = Maildir::new(root.path());
    assert!(!maildir.folder_exists("bob", "Calendar/Invites"));
    let path = maildir
        .deliver("bob", Some("Calendar/Invites"), &[], &[b"m"])
        .unwrap();
    let folder = root.path().join("bob/Maildir/.Calendar.Invites");
    assert_eq!(path.parent(), Some(folder.join("new").as_path()));
    for sub in ["cur", "new", "tmp"] {
        assert!(folder.join(sub).is_dir(), "{sub}/ missing");
    }
    assert!(folder.join("maildirfolder").is_file());
    let subscribed = || fs::read_to_string(root.path().join("bob/Maildir/subscriptions")).ok();
    assert_eq!(
        subscribed().as_deref(),
        Some("V\t2\n\nCalendar\tInvites\n"),
        "a folder delivery creates is subscribed"
    );
    maildir.deliver("bob", None, &[], &[b"m"]).unwrap();
    maildir
        .deliver("bob", Some("Calendar.Invites"), &[], &[b"m"])
        .unwrap();
    assert_eq!(
        subscribed().as_deref(),
        Some("V\t2\n\nCalendar\tInvites\n"),
        "INBOX and existing folders leave the list alone"
    );
    assert!(maildir.folder_exists("bob", "Calendar/Invites"));
    assert!(maildir.folder_exists("bob", "Calendar.Invites"));
    assert!(!maildir.folder_exists("bob", "Calendar"));
    assert!(maildir.folder_exists("bob", "INBOX"));
    assert!(!maildir.folder_exists("bob", "../bob"));
}

#[test]
fn flags_go_to_cur_with_info_suffix() {
    let root = tempfile::tempdir().unwrap();
    let maildir = Maildir::new(root.path());
    let path = maildir
        .deliver("carol", Some("Archive"), &["\\Seen", "$Junk"], &[b"m"])
        .unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.ends_with(":2,S"), "{name}");
    assert_eq!(
        path.parent(),
        Some(root.path().join("carol/Maildir/.Archive/cur").as_path())
    );
    let path = maildir
        .deliver(
            "carol",
            None,
            &["\\Flagged", "\\Seen", "\\Answered"],
            &[b"m"],
        )
        .unwrap();
    assert!(path.to_string_lossy().ends_with(":2,FRS"), "{path:?}");
    let path = maildir
        .deliver("carol", None, &["$Label"], &[b"m"])
        .unwrap();
    assert!(path.parent().unwrap().ends_with("new"), "{path:?}");
}

#[test]
fn invalid_names_are_rejected_before_touching_the_disk() {
    let root = tempfile::tempdir().unwrap();
    let maildir = Maildir::new(root.path().join("mail"));
    let cases: &[(&str, Option<&str>, &str)] = &[
        ("..", None, "user"),
        ("../x", None, "user"),
        (".x", None, "user"),
        ("a/b", None, "user"),
        ("a\nb", None, "user"),
        ("", None, "user"),
        ("ok", Some("../../etc"), "folder"),
        ("ok", Some(".hidden"), "folder"),
        ("ok", Some("a\u{7}b"), "folder"),
        ("ok", Some("a//b"), "folder"),
    ];
    let long = "x".repeat(300);
    let long_cases = [
        (long.as_str(), None, "user"),
        ("ok", Some(long.as_str()), "folder"),
    ];
    for &(user, folder, what) in cases.iter().chain(long_cases.iter()) {
        let err = maildir
            .deliver(user, folder, &[], &[b"m"])
            .expect_err("invalid name accepted");
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{user:?} {folder:?}");
        assert!(
            err.to_string().contains(&format!("invalid {what} name")),
            "{user:?} {folder:?}: {err}"
        );
    }
    assert!(!root.path().join("mail").exists(), "nothing may be created");
}

#[test]
fn unwritable_root_is_an_error_naming_the_path() {
    let root = tempfile::tempdir().unwrap();
    let file = root.path().join("not-a-dir");
    fs::write(&file, b"").unwrap();
    let err = Maildir::new(&file)
        .deliver("dave", None, &[], &[b"m"])
        .expect_err("delivery under a file must fail");
    assert!(err.to_string().contains("not-a-dir"), "{err}");
}
