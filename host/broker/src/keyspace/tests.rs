//! The keyspace's own behaviour: emptied collections go, and what its typed accessors
//! answer.

use super::*;

#[test]
fn an_emptied_collection_is_removed() {
    let db = Db::default();
    let pushed = db.write_or_create_as::<list::List, _>(b"l", 0, |l, created| {
        l.push(b"x", true);
        created
    });
    assert_eq!(pushed, Ok(true));
    assert_eq!(db.type_of(b"l", 0), Some("list"));
    assert_eq!(
        db.read_as::<string::Str, _>(b"l", 0, |_| ()),
        Err(WrongType)
    );
    let popped = db.write_as::<list::List, _>(b"l", 0, |l| l.pop(true));
    assert!(matches!(popped, Ok(Some(Some(_)))));
    assert!(!db.exists(b"l", 0));
    // A write that adds nothing to a new collection leaves no key.
    let _ = db.write_or_create_as::<set::Set, _>(b"s", 0, |_, _| ());
    assert!(!db.exists(b"s", 0));
}
