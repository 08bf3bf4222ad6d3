//! The contract every backend keeps: the same assertions run against the memory backend, the
//! Automerge backend opened in-process, and (in `node::client`) the client over a control
//! socket, so a library user's tests against the mock hold against the real thing.

use std::time::Duration;

use serde_json::{Value, json};

use crate::sync::{
    ChangeEvent, ChangeKind, ChangeOp, ChangeStream, DataSyncBackend, Deleted, DocInput, ErrorKind,
    ORIGIN_LOCAL, Path, Query, QueryRequest, Start, SyncDirection,
};

/// Runs every clause of the contract against a fresh backend that is not syncing.
pub(crate) async fn check(backend: &dyn DataSyncBackend) {
    documents(backend).await;
    batches_are_atomic(backend).await;
    removal(backend).await;
    queries(backend).await;
    history(backend).await;
    observation(backend).await;
    peers_and_sync(backend).await;
}

fn doc(value: Value) -> DocInput {
    DocInput::from_object(value.as_object().expect("an object").clone(), false).expect("valid input")
}

async fn fields(backend: &dyn DataSyncBackend, collection: &str, id: &str) -> Value {
    let found = backend.document_store().get(collection, id).await.expect("get");
    Value::Object(found.unwrap_or_else(|| panic!("{collection}/{id} exists")).fields)
}

async fn documents(backend: &dyn DataSyncBackend) {
    let store = backend.document_store();
    let ids = store
        .upsert(
            "docs",
            vec![
                doc(json!({"id": "a", "n": 1, "f": 1.5, "nested": {"x": [1, "two"]}})),
                doc(json!({"n": 2})),
            ],
        )
        .await
        .expect("upsert");
    assert_eq!(ids[0], "a", "ids come back in input order");
    let generated = uuid::Uuid::parse_str(&ids[1]).expect("a generated id is a UUID");
    assert_eq!(generated.get_version_num(), 7, "a generated id is a UUID v7");
    assert_eq!(fields(backend, "docs", "a").await, json!({"n": 1, "f": 1.5, "nested": {"x": [1, "two"]}}));
    assert!(fields(backend, "docs", "a").await["n"].is_u64(), "integers stay integers");
    assert!(store.get("docs", "missing").await.expect("get").is_none());

    store.upsert("docs", vec![doc(json!({"id": "a", "m": 2}))]).await.expect("merge");
    assert_eq!(fields(backend, "docs", "a").await["m"], json!(2));
    assert_eq!(fields(backend, "docs", "a").await["n"], json!(1), "a merge keeps fields it does not name");

    let replace = DocInput { replace: true, ..doc(json!({"id": "a", "k": 3})) };
    store.upsert("docs", vec![replace]).await.expect("replace");
    assert_eq!(fields(backend, "docs", "a").await, json!({"k": 3}), "--replace drops the rest");

    let set =
        DocInput { id: Some("a".into()), sets: vec![(path("nested.y"), json!(true))], ..DocInput::default() };
    store.upsert("docs", vec![set]).await.expect("set a path");
    assert_eq!(fields(backend, "docs", "a").await, json!({"k": 3, "nested": {"y": true}}));

    store.upsert("docs", vec![doc(json!({"id": "empty"}))]).await.expect("empty document");
    assert_eq!(fields(backend, "docs", "empty").await, json!({}), "a document with no fields exists");
}

fn path(src: &str) -> Path {
    Path::parse(src).expect("path")
}

async fn batches_are_atomic(backend: &dyn DataSyncBackend) {
    let store = backend.document_store();
    let bad = DocInput { sets: vec![(path("tags.x"), json!(1))], ..doc(json!({"id": "bad", "tags": [1]})) };
    let err = store.upsert("atomic", vec![doc(json!({"id": "good", "x": 1})), bad]).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Invalid, "{err}");
    assert!(store.get("atomic", "good").await.expect("get").is_none(), "a failed batch stores nothing");
    assert_eq!(store.count("atomic", &QueryRequest::default()).await.expect("count"), 0);
}

async fn removal(backend: &dyn DataSyncBackend) {
    let store = backend.document_store();
    store
        .upsert("rm", vec![doc(json!({"id": "r1", "v": 1})), doc(json!({"id": "r2", "v": 2}))])
        .await
        .expect("upsert");
    store.remove("rm", "r1").await.expect("remove");
    assert_eq!(store.remove("rm", "r1").await.unwrap_err().kind, ErrorKind::NotFound, "removed twice");
    assert_eq!(store.remove("rm", "nope").await.unwrap_err().kind, ErrorKind::NotFound, "never existed");
    assert!(store.get("rm", "r1").await.expect("get").expect("a tombstone").deleted);
    let ids = |deleted| async move {
        let request = QueryRequest { deleted, ..QueryRequest::default() };
        let docs = store.query("rm", &request).await.expect("query").collect().await.expect("results");
        docs.into_iter().map(|d| d.id).collect::<Vec<_>>()
    };
    assert_eq!(ids(Deleted::Hide).await, ["r2"]);
    assert_eq!(ids(Deleted::Include).await, ["r1", "r2"]);
    assert_eq!(ids(Deleted::Only).await, ["r1"]);
    let collections = store.collections().await.expect("collections");
    let rm = collections.iter().find(|c| c.name == "rm").expect("the collection is listed");
    assert_eq!(rm.documents, 1, "collections count live documents");
    store.upsert("rm", vec![doc(json!({"id": "r1", "v": 3}))]).await.expect("revive");
    assert!(!store.get("rm", "r1").await.expect("get").expect("r1").deleted, "an upsert revives");
}

async fn queries(backend: &dyn DataSyncBackend) {
    let store = backend.document_store();
    let docs = (1..=5).map(|i| doc(json!({"id": format!("s{i}"), "speed": i, "name": format!("unit {i}")})));
    store.upsert("q", docs.collect()).await.expect("upsert");
    let request = QueryRequest {
        filter: Query::parse("speed > 2").expect("filter"),
        order_by: Some(path("speed")),
        descending: true,
        limit: Some(2),
        ..QueryRequest::default()
    };
    let query = |request: QueryRequest| async move {
        let found = store.query("q", &request).await.expect("query").collect().await.expect("results");
        found.into_iter().map(|d| d.id).collect::<Vec<_>>()
    };
    assert_eq!(query(request.clone()).await, ["s5", "s4"], "filtered, ordered, limited");
    assert_eq!(store.count("q", &request).await.expect("count"), 3, "count ignores the limit");
    let unlimited = QueryRequest { limit: None, descending: false, ..request.clone() };
    assert_eq!(query(unlimited).await, ["s3", "s4", "s5"], "ordered without a limit");
    let by_id = QueryRequest::matching(Query::parse("id in (s4, s1, s9) and speed > 1").expect("filter"));
    assert_eq!(query(by_id).await, ["s4"], "a key lookup still applies the rest of the filter");
    assert!(query_none(store).await.is_empty());
}

async fn query_none(store: &dyn crate::sync::DocumentStore) -> Vec<crate::sync::Document> {
    store.query("none", &QueryRequest::default()).await.expect("query").collect().await.expect("results")
}

async fn history(backend: &dyn DataSyncBackend) {
    let store = backend.document_store();
    store.upsert("h", vec![doc(json!({"id": "h1", "speed": 1}))]).await.expect("create");
    store.upsert("h", vec![doc(json!({"id": "h1", "speed": 2, "pos": {"lat": 5}}))]).await.expect("change");
    store.remove("h", "h1").await.expect("remove");
    let history = store.history("h", "h1").await.expect("history").expect("h1 has a history");
    let edits: Vec<Vec<(String, ChangeOp, Option<Value>)>> = history
        .iter()
        .map(|e| e.changes.iter().map(|c| (c.path.clone(), c.op, c.value.clone())).collect())
        .collect();
    let set = |path: &str, v: Value| (path.to_string(), ChangeOp::Set, Some(v));
    let gone = |path: &str| (path.to_string(), ChangeOp::Delete, None);
    assert_eq!(
        edits,
        [
            vec![set("speed", json!(1))],
            vec![set("pos", json!({})), set("speed", json!(2)), set("pos.lat", json!(5))],
            // A removal keeps no fields: the tombstone change deletes them.
            vec![set("_deleted", json!(true)), gone("pos"), gone("speed")],
        ],
        "oldest first, each change's own edits"
    );
    assert!(history.iter().all(|e| e.time.is_some() && !e.node.is_empty()), "time and author: {history:?}");
    assert_eq!(store.history("h", "none").await.expect("history"), None);
    assert_eq!(
        store.conflicts("h", "h1").await.expect("conflicts"),
        Some(vec![]),
        "one writer, no conflicts"
    );
    assert_eq!(store.conflicts("h", "none").await.expect("conflicts"), None);
}

async fn next(stream: &mut ChangeStream) -> ChangeEvent {
    tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("an event within 5s")
        .expect("the stream is open")
}

async fn observation(backend: &dyn DataSyncBackend) {
    let store = backend.document_store();
    let up = |v: Value| async move { store.upsert("obs", vec![doc(v)]).await.expect("upsert") };
    let filter = || Query::parse("speed > 1").expect("filter");
    up(json!({"id": "o1", "speed": 5})).await;
    up(json!({"id": "o2", "speed": 0})).await;
    let mut events = store.observe("obs", filter(), Start::Now { initial: true }).await.expect("observe");
    let first = next(&mut events).await;
    assert_eq!((first.event, first.id.as_str(), first.initial), (ChangeKind::Added, "o1", true));
    up(json!({"id": "o2", "speed": 9})).await;
    let event = next(&mut events).await;
    assert_eq!((event.event, event.id.as_str()), (ChangeKind::Added, "o2"), "o2 enters the filter");
    assert_eq!(event.origin.as_deref(), Some(ORIGIN_LOCAL));
    assert!(event.seq > first.seq, "positions grow: {} then {}", first.seq, event.seq);
    up(json!({"id": "o1", "speed": 5})).await; // unchanged: no event
    store.upsert("elsewhere", vec![doc(json!({"id": "o1", "speed": 50}))]).await.expect("upsert");
    up(json!({"id": "o1", "speed": 6})).await;
    let event = next(&mut events).await;
    assert_eq!(
        (event.event, event.id.as_str(), &event.document["speed"]),
        (ChangeKind::Updated, "o1", &json!(6))
    );
    up(json!({"id": "o1", "speed": 1})).await;
    let event = next(&mut events).await;
    assert_eq!((event.event, event.id.as_str()), (ChangeKind::Left, "o1"), "o1 leaves the filter");
    let resume_at = event.seq;
    store.remove("obs", "o2").await.expect("remove");
    let event = next(&mut events).await;
    assert_eq!((event.event, event.id.as_str()), (ChangeKind::Removed, "o2"));

    // Resuming after the `left` event, with what matched then (o2): every change since,
    // once, classified against that.
    up(json!({"id": "o3", "speed": 7})).await;
    let start = Start::After { seq: resume_at, matching: vec!["o2".into()] };
    let mut resumed = store.observe("obs", filter(), start).await.expect("resume");
    let (a, b) = (next(&mut resumed).await, next(&mut resumed).await);
    assert_eq!(
        [(a.event, a.id.as_str()), (b.event, b.id.as_str())],
        [(ChangeKind::Removed, "o2"), (ChangeKind::Added, "o3")]
    );
    up(json!({"id": "o3", "speed": 8})).await;
    let live = next(&mut resumed).await;
    assert_eq!((live.event, live.id.as_str()), (ChangeKind::Updated, "o3"), "then live, nothing twice");
}

async fn peers_and_sync(backend: &dyn DataSyncBackend) {
    let peers = backend.peer_discovery();
    let sync = backend.sync_engine();
    assert!(peers.peers().await.expect("peers").is_empty());
    assert_eq!(peers.add_peer("garbage").await.unwrap_err().kind, ErrorKind::Invalid);
    assert_eq!(peers.remove_peer(&"ab".repeat(32)).await.unwrap_err().kind, ErrorKind::NotFound);
    assert!(!sync.status().await.expect("status").running);
    assert!(
        sync.wait_for_sync(SyncDirection::Both, Duration::from_millis(100)).await.is_err(),
        "nothing to wait for without peers"
    );
    peers.start().await.expect("start discovery");
    assert!(sync.status().await.expect("status").running, "discovery runs sync");
    peers.stop().await.expect("stop discovery");
    assert!(!sync.status().await.expect("status").running);
}

/// The Automerge backend on a new node directory whose endpoint binds a free loopback port.
pub(crate) async fn test_backend(
    tmp: &tempfile::TempDir,
) -> (crate::home::NodeDir, crate::backend::automerge::AutomergeBackend) {
    let home = crate::home::NodeDir::new(tmp.path().join("node"));
    let mut config = crate::home::Config::new("contract");
    config.listen = "127.0.0.1:0".parse().expect("address");
    home.init(config, None, false).expect("init");
    let lock = crate::home::DirLock::try_acquire(&home).expect("lock").expect("free");
    let backend = crate::backend::automerge::AutomergeBackend::new(lock, home.config_file());
    backend.initialize(home.backend_config().expect("config")).await.expect("initialize");
    (home, backend)
}

mod tests {
    use super::{check, test_backend};
    use crate::backend::memory::MemoryBackend;
    use crate::sync::DataSyncBackend;

    #[tokio::test]
    async fn the_memory_backend_keeps_the_contract() {
        check(&MemoryBackend::new("mock")).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_automerge_backend_keeps_the_contract() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let (_home, backend) = test_backend(&tmp).await;
        check(&backend).await;
        backend.shutdown().await.expect("shutdown");
    }
}
