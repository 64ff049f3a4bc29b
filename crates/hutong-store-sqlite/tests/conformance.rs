//! The store conformance suite, on a fresh SQLite file per check.

use std::sync::Arc;

use hutong_store::Store;
use hutong_store_sqlite::SqliteStore;

async fn fresh() -> Option<Arc<dyn Store>> {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = SqliteStore::open(&dir.path().join("registry.db")).expect("open");
    // Keep the folder for the life of the test process; it is removed with the temp dir root.
    std::mem::forget(dir);
    Some(Arc::new(store))
}

hutong_store::conformance_tests!(fresh());

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.db");
    drop(SqliteStore::open(&path).unwrap());
    let c = rusqlite::Connection::open(&path).unwrap();
    c.pragma_update(None, "user_version", 99).unwrap();
    drop(c);
    let err = SqliteStore::open(&path)
        .err()
        .expect("must refuse")
        .to_string();
    assert!(err.contains("newer than this hutong knows"), "{err}");
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "these are my notes, not a database\n".repeat(200)).unwrap();
    assert!(SqliteStore::open(&path).is_err());
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .starts_with("these are my notes")
    );
}
