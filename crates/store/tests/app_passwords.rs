//! App passwords against a real SQLite file: issued once, listed without secrets, found by
//! their id, revoked by label, gone with their user.

use imipd_store::{
    AppPasswords, Error, MAX_APP_PASSWORDS, SqliteStore, Store, app_password_parts,
    issue_app_password, list_app_passwords, revoke_app_password, verify_password_in,
};

const BOB: &str = "bob@example.org";

fn open() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("imipd.sqlite3")).unwrap();
    store.create_user(BOB, None).unwrap();
    (dir, store)
}

#[test]
fn an_issued_password_is_found_by_its_id_and_checks_against_its_hash() {
    let (_dir, store) = open();
    let issued = issue_app_password(&store, BOB, " phone ").unwrap();
    assert_eq!(issued.label, "phone");
    let (id, canonical) = app_password_parts(&issued.password).unwrap();
    let hash = store.app_password_hash(BOB, &id).unwrap().unwrap();
    assert!(!hash.contains(&issued.password));
    let mut memory = imipd_store::HashMemory::new();
    assert!(verify_password_in(&mut memory, &hash, &canonical));
    assert!(!verify_password_in(&mut memory, &hash, "phone"));
    assert_eq!(
        store.app_password_hash("alice@example.org", &id).unwrap(),
        None
    );

    let listed = list_app_passwords(&store, BOB).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].label.as_str(), listed[0].last_used),
        ("phone", None)
    );
    store.app_password_used(BOB, &id, 1_700_000_000).unwrap();
    assert_eq!(
        list_app_passwords(&store, BOB).unwrap()[0].last_used,
        Some(1_700_000_000)
    );
}

#[test]
fn labels_are_unique_per_user_and_revoked_by_name() {
    let (_dir, store) = open();
    issue_app_password(&store, BOB, "phone").unwrap();
    issue_app_password(&store, BOB, "laptop").unwrap();
    let again = issue_app_password(&store, BOB, "phone");
    assert!(
        matches!(&again, Err(Error::AppPasswordExists { label, .. }) if label == "phone"),
        "{again:?}"
    );
    let missing = revoke_app_password(&store, BOB, "tablet").unwrap_err();
    assert_eq!(
        missing.to_string(),
        "bob@example.org has no app password labelled \"tablet\" (its app passwords: laptop, phone)"
    );
    revoke_app_password(&store, BOB, "phone").unwrap();
    let labels: Vec<_> = list_app_passwords(&store, BOB)
        .unwrap()
        .into_iter()
        .map(|p| p.label)
        .collect();
    assert_eq!(labels, ["laptop"]);
    let unknown = issue_app_password(&store, "nobody@example.org", "phone");
    assert!(matches!(unknown, Err(Error::NoSuchUser(_))), "{unknown:?}");
}

#[test]
fn a_user_has_a_bounded_number_and_takes_them_along_when_deleted() {
    let (_dir, store) = open();
    for n in 0..MAX_APP_PASSWORDS {
        store
            .insert_app_password(BOB, &format!("device {n}"), &format!("id{n}"), "$h")
            .unwrap();
    }
    let over = issue_app_password(&store, BOB, "one more").unwrap_err();
    assert!(over.to_string().contains("revoke one first"), "{over}");
    store.delete_user(BOB).unwrap();
    store.create_user(BOB, None).unwrap();
    assert_eq!(list_app_passwords(&store, BOB).unwrap(), []);
    assert_eq!(store.app_password_hash(BOB, "id0").unwrap(), None);
}
