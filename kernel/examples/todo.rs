//! A collaborative todo list: three replicas edit offline, then sync, and all print the same
//! converged list.
//!
//! Each todo is a map in the root list `todos`: a text `title`, a register `done` and a
//! counter `votes`. Run with `cargo run -p converge --example todo`.

use converge::ReplicaId;
use converge::doc::{ContainerId, ContainerKind, Doc, DocError, Item, Node, Value};

fn todos() -> ContainerId {
    ContainerId::root("todos", ContainerKind::List)
}

/// Appends a todo in one transaction (one update, one change event); returns its map.
fn add_todo(doc: &mut Doc, title: &str) -> Result<ContainerId, DocError> {
    doc.begin()?;
    let len = doc.list_len(todos())?;
    let item = doc.list_insert_container(todos(), len, ContainerKind::Map)?;
    let text = doc.map_insert_container(item, "title", ContainerKind::Text)?;
    doc.text_insert(text, 0, title)?;
    let done = doc.map_insert_container(item, "done", ContainerKind::Register)?;
    doc.register_set(done, Value::Bool(false))?;
    doc.map_insert_container(item, "votes", ContainerKind::Counter)?;
    doc.commit()?;
    Ok(item)
}

/// The container stored under `key` of the todo `item`.
fn field(doc: &Doc, item: ContainerId, key: &str) -> Result<ContainerId, DocError> {
    doc.map_get(item, key)?
        .and_then(|i| i.as_container())
        .ok_or(DocError::UnknownContainer(item))
}

/// The todo at `index`.
fn todo_at(doc: &Doc, index: usize) -> Result<ContainerId, DocError> {
    doc.list_get(todos(), index)?
        .and_then(|i| i.as_container())
        .ok_or(DocError::OutOfBounds {
            index,
            len: doc.list_len(todos()).unwrap_or(0),
        })
}

fn print(name: &str, doc: &Doc) {
    println!("{name} (version {:?}):", doc.version());
    let Node::List(items) = doc.to_tree(todos()) else {
        return;
    };
    for node in items {
        let Node::Map(fields) = node else { continue };
        let title = match fields.get("title") {
            Some(Node::Text(t)) => t.as_str(),
            _ => "?",
        };
        let done = matches!(
            fields.get("done"),
            Some(Node::Register(Some(Value::Bool(true))))
        );
        let votes = match fields.get("votes") {
            Some(Node::Counter(v)) => *v,
            _ => 0,
        };
        println!(
            "  [{}] {title} ({votes} votes)",
            if done { "x" } else { " " }
        );
    }
}

fn main() -> Result<(), DocError> {
    let mut alice = Doc::new(ReplicaId(1));
    let mut bob = Doc::new(ReplicaId(2));
    let mut carol = Doc::new(ReplicaId(3));

    // Alice starts the list and shares it with everyone.
    add_todo(&mut alice, "buy milk")?;
    add_todo(&mut alice, "write report")?;
    let start = alice.encode_updates_since(&bob.version());
    bob.apply_update(&start)?;
    carol.apply_update(&start)?;

    // Everyone goes offline and edits.
    let milk = todo_at(&alice, 0)?;
    let report = todo_at(&alice, 1)?;
    let milk_title = field(&alice, milk, "title")?;
    alice.text_insert(milk_title, 8, " and eggs")?;
    alice.counter_add(field(&alice, report, "votes")?, 1)?;

    bob.register_set(field(&bob, milk, "done")?, Value::Bool(true))?;
    bob.counter_add(field(&bob, report, "votes")?, 1)?;
    add_todo(&mut bob, "call mum")?;

    let report_title = field(&carol, report, "title")?;
    carol.text_insert(report_title, 0, "finish and ")?;
    carol.counter_add(field(&carol, report, "votes")?, 1)?;
    add_todo(&mut carol, "water plants")?;

    print("alice, offline", &alice);
    print("bob, offline", &bob);
    print("carol, offline", &carol);

    // Back online: each pair exchanges version vectors and the updates the other lacks.
    let mut docs = [alice, bob, carol];
    for i in 0..3 {
        for j in 0..3 {
            if i != j {
                let msg = docs[i].encode_updates_since(&docs[j].version());
                let report = docs[j].apply_update(&msg)?;
                assert!(report.is_complete());
            }
        }
    }

    println!();
    for (name, doc) in ["alice", "bob", "carol"].iter().zip(&docs) {
        print(name, doc);
    }
    assert!(
        docs.iter()
            .all(|d| d.to_tree(todos()) == docs[0].to_tree(todos()))
    );
    let n = docs[0].list_len(todos())?;
    assert_eq!(n, 4);
    assert!(matches!(
        docs[0].list_get(todos(), 0)?,
        Some(Item::Container(_))
    ));
    println!("\nall three replicas converged on {n} todos");
    Ok(())
}
