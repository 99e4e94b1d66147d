//! Dead properties against a real SQLite file: set, replaced, removed, kept per collection
//! and gone with it.

use imipd_store::{
    AddressBooks, CalendarProps, DeadChange, DeadProperties, PropertyOwner, SqliteStore, Store,
};

const BOB: &str = "bob@example.org";

fn change(name: &str, xml: Option<&str>) -> DeadChange {
    DeadChange {
        namespace: "http://apple.com/ns/ical/".into(),
        name: name.into(),
        xml: xml.map(String::from),
    }
}

fn names(store: &SqliteStore, owner: &PropertyOwner<'_>) -> Vec<(String, String)> {
    store
        .dead_properties(BOB, owner)
        .unwrap()
        .into_iter()
        .map(|p| (p.name, p.xml))
        .collect()
}

#[test]
fn dead_properties_live_and_die_with_their_collection() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("imipd.sqlite3")).unwrap();
    store.create_user(BOB, None).unwrap();
    store
        .create_calendar(BOB, "work", &CalendarProps::named("Work"))
        .unwrap();
    store.create_address_book(BOB, "team", "Team", "").unwrap();
    let work = PropertyOwner::Calendar("work");
    let team = PropertyOwner::AddressBook("team");
    store
        .change_dead_properties(
            BOB,
            &work,
            &[
                change("calendar-order", Some("1")),
                change("x", Some("<a xmlns=\"urn:a\"/>")),
            ],
        )
        .unwrap();
    store
        .change_dead_properties(
            BOB,
            &work,
            &[change("calendar-order", Some("2")), change("x", None)],
        )
        .unwrap();
    store
        .change_dead_properties(BOB, &team, &[change("y", Some("t"))])
        .unwrap();
    let pair = |n: &str, v: &str| (n.to_string(), v.to_string());
    assert_eq!(names(&store, &work), [pair("calendar-order", "2")]);
    assert_eq!(names(&store, &team), [pair("y", "t")]);
    assert_eq!(names(&store, &PropertyOwner::Calendar("default")), []);

    store.delete_calendar(BOB, "work").unwrap();
    store.delete_address_book(BOB, "team").unwrap();
    store
        .create_calendar(BOB, "work", &CalendarProps::named("Work"))
        .unwrap();
    store.create_address_book(BOB, "team", "Team", "").unwrap();
    assert_eq!(names(&store, &work), []);
    assert_eq!(names(&store, &team), []);
}
