//! Documents: every container kind, nesting, transactions, change events, and delta sync
//! between replicas (buffering, idempotence, merging, snapshots).

use converge::doc::{
    ChangeEvent, ChangeOrigin, Changed, ContainerId, ContainerKind, Doc, DocError, Item, Node,
    Value,
};
use converge::{ReplicaId, VersionVector};

const A: ReplicaId = ReplicaId(1);
const B: ReplicaId = ReplicaId(2);
const C: ReplicaId = ReplicaId(3);

fn root(name: &str, kind: ContainerKind) -> ContainerId {
    ContainerId::root(name, kind)
}

/// Sends everything `from` has and `to` lacks; returns the report's applied count.
fn sync(from: &Doc, to: &mut Doc) -> usize {
    let msg = from.encode_updates_since(&to.version());
    to.apply_update(&msg).expect("valid update").applied
}

fn sync_both(a: &mut Doc, b: &mut Doc) {
    sync(a, b);
    sync(b, a);
}

#[test]
fn doc_every_root_kind_round_trips_between_replicas() -> Result<(), DocError> {
    let (m, l, t) = (
        root("m", ContainerKind::Map),
        root("l", ContainerKind::List),
        root("t", ContainerKind::Text),
    );
    let (c, r, s) = (
        root("c", ContainerKind::Counter),
        root("r", ContainerKind::Register),
        root("s", ContainerKind::Set),
    );
    let mut a = Doc::new(A);
    a.map_set(m, "null", Value::Null)?;
    a.map_set(m, "bool", Value::Bool(true))?;
    a.map_set(m, "int", Value::Int(-7))?;
    a.map_set(m, "float", Value::Float(2.5))?;
    a.map_set(m, "str", Value::from("hi"))?;
    a.map_set(m, "bytes", Value::Bytes(vec![0, 255]))?;
    a.list_insert_batch(l, 0, &[Value::Int(1), Value::Int(3)])?;
    a.list_insert(l, 1, Value::Int(2))?;
    a.text_insert(t, 0, "héllo")?;
    a.text_splice(t, 1, 1, "e")?;
    a.counter_add(c, 5)?;
    a.counter_add(c, -2)?;
    a.register_set(r, Value::from("x"))?;
    a.set_add_batch(s, &[Value::Int(1), Value::Int(2), Value::Int(3)])?;
    a.set_remove(s, &Value::Int(2))?;

    let mut b = Doc::new(B);
    sync(&a, &mut b);
    assert_eq!(b.map_get(m, "int")?, Some(Item::Value(Value::Int(-7))));
    assert_eq!(
        b.map_get(m, "bytes")?,
        Some(Item::Value(Value::Bytes(vec![0, 255])))
    );
    assert_eq!(b.map_keys(m)?.len(), 6);
    let ints: Vec<Item> = (1..=3).map(|i| Item::Value(Value::Int(i))).collect();
    assert_eq!(b.list_items(l)?, ints);
    assert_eq!(b.text(t)?, "hello");
    assert_eq!(b.counter(c)?, 3);
    assert_eq!(b.register(r)?, Some(Value::from("x")));
    assert_eq!(b.set_values(s)?, vec![Value::Int(1), Value::Int(3)]);
    assert_eq!(a.roots(), b.roots());
    assert_eq!(a.version(), b.version());
    Ok(())
}

#[test]
fn doc_nested_containers_sync_and_materialize() -> Result<(), DocError> {
    let todos = root("todos", ContainerKind::List);
    let mut a = Doc::new(A);
    let item = a.list_insert_container(todos, 0, ContainerKind::Map)?;
    let title = a.map_insert_container(item, "title", ContainerKind::Text)?;
    a.text_insert(title, 0, "buy milk")?;
    a.map_set(item, "done", Value::Bool(false))?;
    let votes = a.map_insert_container(item, "votes", ContainerKind::Counter)?;
    a.counter_add(votes, 1)?;

    let mut b = Doc::new(B);
    sync(&a, &mut b);
    // Ids are the same on every replica.
    assert_eq!(b.list_get(todos, 0)?, Some(Item::Container(item)));
    assert_eq!(b.map_get(item, "title")?, Some(Item::Container(title)));
    b.text_insert(title, 8, " and eggs")?;
    b.counter_add(votes, 1)?;
    sync(&b, &mut a);
    assert_eq!(a.text(title)?, "buy milk and eggs");
    assert_eq!(a.counter(votes)?, 2);
    let Node::List(items) = a.to_tree(todos) else {
        panic!("a list root materializes as a list");
    };
    let Node::Map(fields) = &items[0] else {
        panic!("the element is a map");
    };
    assert_eq!(fields["title"], Node::Text("buy milk and eggs".into()));
    assert_eq!(fields["done"], Node::Value(Value::Bool(false)));
    assert_eq!(fields["votes"], Node::Counter(2));
    assert_eq!(a.to_tree(todos), b.to_tree(todos));
    Ok(())
}

#[test]
fn doc_wrong_kind_and_unknown_container_are_errors() -> Result<(), DocError> {
    let mut a = Doc::new(A);
    let t = root("t", ContainerKind::Text);
    assert!(matches!(
        a.map_set(t, "k", Value::Null),
        Err(DocError::WrongKind { .. })
    ));
    let mut other = Doc::new(B);
    let foreign =
        other.map_insert_container(root("m", ContainerKind::Map), "x", ContainerKind::Map)?;
    assert_eq!(
        a.map_set(foreign, "k", Value::Null),
        Err(DocError::UnknownContainer(foreign))
    );
    assert_eq!(
        a.map_get(foreign, "k"),
        Err(DocError::UnknownContainer(foreign))
    );
    assert!(matches!(
        a.text_insert(t, 3, "x"),
        Err(DocError::OutOfBounds { index: 3, len: 0 })
    ));
    assert_eq!(a.version(), converge::VersionVector::new());
    Ok(())
}

#[test]
fn doc_concurrent_edits_converge() -> Result<(), DocError> {
    let (m, t, c, s, r) = (
        root("m", ContainerKind::Map),
        root("t", ContainerKind::Text),
        root("c", ContainerKind::Counter),
        root("s", ContainerKind::Set),
        root("r", ContainerKind::Register),
    );
    let mut a = Doc::new(A);
    let mut b = Doc::new(B);
    a.text_insert(t, 0, "ac")?;
    a.set_add(s, Value::Int(1))?;
    sync_both(&mut a, &mut b);

    // Concurrently: both write the same key, both edit the text, one removes an element
    // the other re-adds.
    a.map_set(m, "k", Value::from("a"))?;
    b.map_set(m, "k", Value::from("b"))?;
    a.text_insert(t, 1, "b")?;
    b.text_insert(t, 2, "d")?;
    a.counter_add(c, 10)?;
    b.counter_add(c, -3)?;
    a.set_remove(s, &Value::Int(1))?;
    b.set_add(s, Value::Int(1))?;
    a.register_set(r, Value::Int(1))?;
    b.register_set(r, Value::Int(2))?;
    sync_both(&mut a, &mut b);

    assert_eq!(a.roots(), b.roots());
    assert_eq!(a.text(t)?, "abcd");
    assert_eq!(a.counter(c)?, 7);
    // Add wins over the concurrent remove.
    assert!(a.set_contains(s, &Value::Int(1))?);
    // Equal Lamport times: the larger replica id wins, on both replicas.
    assert_eq!(a.map_get(m, "k")?, Some(Item::Value(Value::from("b"))));
    assert_eq!(a.register(r)?, Some(Value::Int(2)));
    Ok(())
}

#[test]
fn doc_out_of_order_updates_are_buffered_until_ready() -> Result<(), DocError> {
    let l = root("l", ContainerKind::List);
    let mut a = Doc::new(A);
    let mut msgs = Vec::new();
    for i in 0..3 {
        let before = a.version();
        a.list_insert(l, i, Value::Int(i as i64))?;
        msgs.push(a.encode_updates_since(&before));
    }
    let mut b = Doc::new(B);
    let r = b.apply_update(&msgs[2])?;
    assert_eq!((r.applied, r.pending), (0, 1));
    assert_eq!(r.missing.get(A), 2);
    assert!(b.list_items(l)?.is_empty());
    let r = b.apply_update(&msgs[1])?;
    assert_eq!((r.applied, r.pending), (0, 2));
    let r = b.apply_update(&msgs[0])?;
    assert_eq!((r.applied, r.pending), (3, 0));
    assert!(r.is_complete());
    assert_eq!(
        r.event.get(l),
        Some(&Changed::Range {
            start: 0,
            removed: 0,
            inserted: 3
        })
    );
    assert_eq!(a.roots(), b.roots());
    assert_eq!(b.pending_count(), 0);
    Ok(())
}

#[test]
fn doc_apply_is_idempotent() -> Result<(), DocError> {
    let c = root("c", ContainerKind::Counter);
    let mut a = Doc::new(A);
    a.counter_add(c, 2)?;
    a.counter_add(c, 3)?;
    let msg = a.encode_updates_since(&converge::VersionVector::new());
    let mut b = Doc::new(B);
    assert_eq!(b.apply_update(&msg)?.applied, 2);
    let saved = b.save()?;
    let again = b.apply_update(&msg)?;
    assert_eq!((again.applied, again.duplicates), (0, 2));
    assert!(again.event.is_empty());
    assert_eq!(b.counter(c)?, 5);
    assert_eq!(b.save()?, saved);
    Ok(())
}

#[test]
fn doc_encode_updates_since_sends_only_what_is_missing() -> Result<(), DocError> {
    let t = root("t", ContainerKind::Text);
    let mut a = Doc::new(A);
    a.text_insert(t, 0, "one")?;
    let mut b = Doc::new(B);
    sync(&a, &mut b);
    a.text_insert(t, 3, " two")?;
    let delta = a.encode_updates_since(&b.version());
    let full = a.encode_updates_since(&converge::VersionVector::new());
    assert!(delta.len() < full.len());
    let r = b.apply_update(&delta)?;
    assert_eq!((r.applied, r.duplicates), (1, 0));
    assert_eq!(b.text(t)?, "one two");
    // Nothing to send to a peer that has everything: applying it is a no-op.
    let none = a.encode_updates_since(&b.version());
    assert_eq!(b.apply_update(&none)?.applied, 0);
    Ok(())
}

#[test]
fn doc_concurrent_inserts_at_one_spot_agree_merged_or_one_by_one() -> Result<(), DocError> {
    // Many replicas insert at the start of an empty list at once (B3.4): one message holding
    // every update must give what applying them one at a time, in any order, gives.
    let l = root("l", ContainerKind::List);
    let updates: Vec<Vec<u8>> = (1..=60u64)
        .map(|r| {
            let mut d = Doc::new(ReplicaId(r));
            d.list_insert(l, 0, Value::Int(r as i64))?;
            Ok(d.encode_updates_since(&VersionVector::new()))
        })
        .collect::<Result<_, DocError>>()?;
    let refs: Vec<&[u8]> = updates.iter().map(|u| u.as_slice()).collect();
    let mut merged = Doc::new(ReplicaId(100));
    merged.apply_update(&Doc::merge_updates(&refs)?)?;
    let mut forward = Doc::new(ReplicaId(101));
    let mut backward = Doc::new(ReplicaId(102));
    for (f, b) in updates.iter().zip(updates.iter().rev()) {
        forward.apply_update(f)?;
        backward.apply_update(b)?;
    }
    let values: Vec<Node> = (1..=60).map(|r| Node::Value(Value::Int(r))).collect();
    // Concurrent inserts at one spot sit in ascending replica order.
    assert_eq!(merged.to_tree(l), Node::List(values));
    assert_eq!(forward.roots(), merged.roots());
    assert_eq!(backward.roots(), merged.roots());
    // A reload replays the logged order and keeps the list.
    let reloaded = Doc::load(&merged.save()?)?;
    assert_eq!(reloaded.roots(), merged.roots());
    Ok(())
}

#[test]
fn doc_concurrent_text_runs_at_one_spot_agree_in_any_order() -> Result<(), DocError> {
    // Replicas that all saw "ab" insert runs between `a` and `b` (a few elsewhere, a few
    // deleting), concurrently; any application order gives one text.
    let t = root("t", ContainerKind::Text);
    let mut base = Doc::new(ReplicaId(1000));
    base.text_insert(t, 0, "ab")?;
    let seed = base.encode_updates_since(&VersionVector::new());
    let updates: Vec<Vec<u8>> = (1..=40u64)
        .map(|r| {
            let mut d = Doc::new(ReplicaId(r));
            d.apply_update(&seed)?;
            let before = d.version();
            match r % 7 {
                3 => d.text_insert(t, 2, &format!("<{r}>"))?,
                5 => d.text_delete(t, 0..1)?,
                _ => d.text_insert(t, 1, &format!("[{r}]"))?,
            }
            Ok(d.encode_updates_since(&before))
        })
        .collect::<Result<_, DocError>>()?;
    let apply_in = |order: &[usize]| -> Result<String, DocError> {
        let mut d = Doc::new(ReplicaId(2000));
        d.apply_update(&seed)?;
        for &i in order {
            d.apply_update(&updates[i])?;
        }
        d.text(t)
    };
    let ascending: Vec<usize> = (0..updates.len()).collect();
    let want = apply_in(&ascending)?;
    let descending: Vec<usize> = ascending.iter().rev().copied().collect();
    assert_eq!(apply_in(&descending)?, want);
    // A fixed shuffle, and ascending runs broken up by other updates.
    let shuffled: Vec<usize> = (0..updates.len())
        .map(|i| (i * 17 + 5) % updates.len())
        .collect();
    assert_eq!(apply_in(&shuffled)?, want);
    let refs: Vec<&[u8]> = updates.iter().map(|u| u.as_slice()).collect();
    let mut merged = Doc::new(ReplicaId(2001));
    merged.apply_update(&seed)?;
    merged.apply_update(&Doc::merge_updates(&refs)?)?;
    assert_eq!(merged.text(t)?, want);
    for r in 1..=40u64 {
        match r % 7 {
            3 => assert_eq!(want.matches(&format!("<{r}>")).count(), 1),
            5 => {}
            _ => assert_eq!(want.matches(&format!("[{r}]")).count(), 1),
        }
    }
    assert!(!want.contains('a') && want.matches('b').count() == 1);
    Ok(())
}

#[test]
fn doc_merge_updates_equals_applying_each() -> Result<(), DocError> {
    let m = root("m", ContainerKind::Map);
    let mut a = Doc::new(A);
    let mut b = Doc::new(B);
    let mut msgs = Vec::new();
    for i in 0..4 {
        let (before_a, before_b) = (a.version(), b.version());
        a.map_set(m, &format!("a{i}"), Value::Int(i))?;
        b.map_set(m, "shared", Value::Int(i))?;
        msgs.push(a.encode_updates_since(&before_a));
        msgs.push(b.encode_updates_since(&before_b));
    }
    // Duplicates and reordering in the inputs are fine.
    msgs.push(msgs[0].clone());
    msgs.reverse();
    let refs: Vec<&[u8]> = msgs.iter().map(|m| m.as_slice()).collect();
    let merged = Doc::merge_updates(&refs)?;

    let mut via_merge = Doc::new(C);
    let r = via_merge.apply_update(&merged)?;
    assert_eq!((r.applied, r.pending, r.duplicates), (8, 0, 0));
    let mut one_by_one = Doc::new(C);
    for msg in &msgs {
        one_by_one.apply_update(msg)?;
    }
    assert_eq!(via_merge.roots(), one_by_one.roots());
    assert_eq!(via_merge.version(), one_by_one.version());
    sync_both(&mut a, &mut b);
    assert_eq!(via_merge.roots(), a.roots());
    assert!(merged.len() < msgs.iter().map(Vec::len).sum::<usize>());
    Ok(())
}

#[test]
fn doc_save_load_round_trips_and_keeps_editing() -> Result<(), DocError> {
    let (t, s) = (
        root("t", ContainerKind::Text),
        root("s", ContainerKind::Set),
    );
    let mut a = Doc::new(A);
    a.text_insert(t, 0, "hello")?;
    a.set_add(s, Value::from("x"))?;
    let mut b = Doc::new(B);
    b.text_insert(t, 0, "B")?;
    sync_both(&mut a, &mut b);
    // A buffered update survives a save too.
    let cc = root("c", ContainerKind::Counter);
    let mut c = Doc::new(C);
    c.counter_add(cc, 1)?;
    let v1 = c.version();
    c.counter_add(cc, 1)?;
    let second_only = c.encode_updates_since(&v1);
    assert_eq!(a.apply_update(&second_only)?.pending, 1);

    let saved = a.save()?;
    let mut restored = Doc::load(&saved)?;
    assert_eq!(restored.replica(), A);
    assert_eq!(restored.roots(), a.roots());
    assert_eq!(restored.version(), a.version());
    assert_eq!(restored.pending_count(), 1);
    assert_eq!(restored.save()?, saved);
    // The restored replica continues its own counters.
    restored.text_insert(t, 0, ">")?;
    sync(&restored, &mut b);
    assert_eq!(b.text(t)?, restored.text(t)?);
    Ok(())
}

#[test]
fn doc_transaction_commits_one_update_and_one_event() -> Result<(), DocError> {
    let (m, l, c) = (
        root("m", ContainerKind::Map),
        root("l", ContainerKind::List),
        root("c", ContainerKind::Counter),
    );
    let mut a = Doc::new(A);
    a.queue_events(true);
    a.begin()?;
    a.map_set_batch(
        m,
        &[("x".into(), Value::Int(1)), ("y".into(), Value::Int(2))],
    )?;
    a.list_insert_batch(l, 0, &[Value::Int(1), Value::Int(2)])?;
    a.counter_add(c, 4)?;
    // Reads see the open transaction.
    assert_eq!(a.counter(c)?, 4);
    assert_eq!(a.take_events(), vec![]);
    let event = a.commit()?;
    assert_eq!(event.origin, ChangeOrigin::Local);
    assert_eq!(
        event.get(m),
        Some(&Changed::Keys(vec!["x".into(), "y".into()]))
    );
    assert_eq!(
        event.get(l),
        Some(&Changed::Range {
            start: 0,
            removed: 0,
            inserted: 2
        })
    );
    assert_eq!(event.get(c), Some(&Changed::Value));
    assert_eq!(a.take_events(), vec![event]);

    let mut b = Doc::new(B);
    b.queue_events(true);
    let r = b.apply_update(&a.encode_updates_since(&b.version()))?;
    assert_eq!(r.applied, 1, "the transaction travels as one update");
    assert_eq!(r.event.changes.len(), 3);
    assert_eq!(b.take_events().len(), 1);
    Ok(())
}

#[test]
fn doc_rollback_and_failed_edits_leave_nothing_behind() -> Result<(), DocError> {
    let (m, l) = (
        root("m", ContainerKind::Map),
        root("l", ContainerKind::List),
    );
    let mut a = Doc::new(A);
    a.map_set(m, "keep", Value::Int(1))?;
    let saved = a.save()?;
    a.begin()?;
    a.map_set(m, "drop", Value::Int(2))?;
    assert_eq!(a.begin(), Err(DocError::TransactionOpen));
    assert_eq!(a.save(), Err(DocError::TransactionOpen));
    assert_eq!(a.apply_update(&saved), Err(DocError::TransactionOpen));
    a.rollback();
    assert_eq!(a.map_get(m, "drop")?, None);
    assert_eq!(a.save()?, saved);
    assert_eq!(a.commit(), Err(DocError::NoTransaction));
    // A failing edit outside a transaction commits nothing.
    assert!(a.list_delete(l, 0..1).is_err());
    assert!(a.list_insert_container(l, 2, ContainerKind::Map).is_err());
    assert_eq!(a.save()?, saved);
    Ok(())
}

/// A rolled-back transaction leaves its lists and texts exactly as they were (they are edited
/// in place and rolled back to a checkpoint, not copied), and the document goes on as one that
/// never began it.
#[test]
fn doc_rollback_restores_sequences_edited_in_place() -> Result<(), DocError> {
    let (t, l) = (
        root("t", ContainerKind::Text),
        root("l", ContainerKind::List),
    );
    let (mut a, mut b) = (Doc::new(A), Doc::new(B));
    a.text_insert(t, 0, "hello world")?;
    a.list_push_batch(l, &[Value::Int(1), Value::Int(2), Value::Int(3)])?;
    b.apply_update(&a.encode_updates_since(&b.version()))?;
    // Concurrent deletes of the same items, so some are deleted twice.
    b.text_delete(t, 0..6)?;
    b.list_delete(l, 0..2)?;
    a.text_delete(t, 4..8)?;
    a.apply_update(&b.encode_updates_since(&a.version()))?;
    let saved = a.save()?;
    let (text, items) = (a.text(t)?, a.list_items(l)?);

    a.begin()?;
    a.text_delete(t, 0..a.text_len(t)?)?;
    a.text_insert(t, 0, "éé 😀 typed")?;
    a.text_insert(t, 3, "more")?;
    a.list_insert(l, 0, Value::Int(9))?;
    a.list_delete(l, 0..2)?;
    a.rollback();
    assert_eq!((a.text(t)?, a.list_items(l)?), (text, items));
    assert_eq!(a.save()?, saved);

    // From here `a` and a replica loaded from before the transaction behave alike.
    let mut twin = Doc::load(&saved)?;
    for d in [&mut a, &mut twin] {
        d.begin()?;
        d.text_insert(t, 1, "ab")?;
        d.list_insert(l, 1, Value::Int(7))?;
        d.commit()?;
        d.text_delete(t, 0..1)?;
    }
    b.text_insert(t, 0, "B")?;
    for d in [&mut a, &mut twin] {
        d.apply_update(&b.encode_updates_since(&d.version()))?;
    }
    assert_eq!(a.save()?, twin.save()?);
    assert_eq!(a.roots(), twin.roots());
    b.apply_update(&a.encode_updates_since(&b.version()))?;
    assert_eq!(a.roots(), b.roots());
    Ok(())
}

/// A list edited in place by a transaction and then given a nested container in the same
/// transaction rolls back to where it began, and commits as one update peers agree on.
#[test]
fn doc_transaction_mixing_list_edits_and_nested_containers() -> Result<(), DocError> {
    let l = root("l", ContainerKind::List);
    let (mut a, mut b) = (Doc::new(A), Doc::new(B));
    a.list_push_batch(l, &[Value::Int(1), Value::Int(2)])?;
    sync(&a, &mut b);
    let saved = a.save()?;
    for commit in [false, true] {
        a.begin()?;
        a.list_insert(l, 1, Value::Int(3))?;
        let m = a.list_insert_container(l, 0, ContainerKind::Map)?;
        a.map_set(m, "k", Value::Int(4))?;
        a.list_delete(l, 2..3)?;
        assert_eq!(a.list_len(l)?, 3);
        if !commit {
            a.rollback();
            assert_eq!(a.save()?, saved);
            assert_eq!(
                a.list_items(l)?,
                vec![Item::Value(Value::Int(1)), Item::Value(Value::Int(2))]
            );
            continue;
        }
        a.commit()?;
        assert_eq!(sync(&a, &mut b), 1);
        assert_eq!(a.roots(), b.roots());
        assert_eq!(a.to_tree(l), b.to_tree(l));
    }
    Ok(())
}

/// Each transaction's event names only its own changes, in container-id order, whatever the
/// transactions before it did (committed or rolled back), and a set or map touched many
/// times is one entry.
#[test]
fn doc_transaction_events_are_their_own() -> Result<(), DocError> {
    let (m, n, t) = (
        root("m", ContainerKind::Map),
        root("n", ContainerKind::Map),
        root("t", ContainerKind::Text),
    );
    let (s, c) = (
        root("s", ContainerKind::Set),
        root("c", ContainerKind::Counter),
    );
    let mut a = Doc::new(A);
    a.queue_events(true);
    a.text_insert(t, 0, "abc")?;
    a.begin()?;
    a.text_insert(t, 0, "zz")?;
    a.map_set(m, "x", Value::Int(1))?;
    a.rollback();
    a.begin()?;
    a.set_add(s, Value::Int(1))?;
    a.set_add(s, Value::Int(2))?;
    a.map_set(n, "b", Value::Int(1))?;
    a.map_set(m, "y", Value::Int(1))?;
    a.map_set(m, "x", Value::Int(1))?;
    a.counter_add(c, 2)?;
    a.text_delete(t, 1..2)?;
    a.text_insert(t, 2, "d")?;
    let event = a.commit()?;
    let mut want = vec![
        (m, Changed::Keys(vec!["x".into(), "y".into()])),
        (n, Changed::Keys(vec!["b".into()])),
        (s, Changed::Value),
        (c, Changed::Value),
        (
            t,
            Changed::Range {
                start: 1,
                removed: 2,
                inserted: 2,
            },
        ),
    ];
    want.sort_by_key(|(id, _)| *id);
    let got: Vec<_> = (event.changes.iter())
        .map(|ch| (ch.container, ch.what.clone()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(a.text(t)?, "acd");
    // An empty transaction after it changes nothing.
    a.begin()?;
    assert!(a.commit()?.is_empty());
    a.begin()?;
    a.text_insert(t, 0, "")?;
    assert!(a.commit()?.is_empty());
    assert_eq!(
        a.take_events().len(),
        2,
        "the first insert and the transaction"
    );
    Ok(())
}

#[test]
fn doc_change_events_name_keys_and_ranges_of_remote_edits() -> Result<(), DocError> {
    let (m, t, s) = (
        root("m", ContainerKind::Map),
        root("t", ContainerKind::Text),
        root("s", ContainerKind::Set),
    );
    let mut a = Doc::new(A);
    a.text_insert(t, 0, "hello world")?;
    a.map_set(m, "a", Value::Int(1))?;
    let mut b = Doc::new(B);
    sync(&a, &mut b);
    b.queue_events(true);

    a.text_splice(t, 6, 5, "there")?;
    a.map_set(m, "b", Value::Int(2))?;
    a.map_set(m, "a", Value::Int(1))?; // same value: not a visible change
    a.set_add(s, Value::Null)?;
    let r = b.apply_update(&a.encode_updates_since(&b.version()))?;
    assert_eq!(r.event.origin, ChangeOrigin::Remote);
    assert_eq!(
        r.event.get(t),
        Some(&Changed::Range {
            start: 6,
            removed: 5,
            inserted: 5
        })
    );
    assert_eq!(r.event.get(m), Some(&Changed::Keys(vec!["b".into()])));
    assert_eq!(r.event.get(s), Some(&Changed::Value));
    assert_eq!(b.take_events(), vec![r.event]);
    Ok(())
}

#[test]
fn doc_roots_show_an_open_transaction_once_each() -> Result<(), DocError> {
    let mut a = Doc::new(A);
    let (m, c, z) = (
        a.root("m", ContainerKind::Map),
        a.root("c", ContainerKind::Counter),
        a.root("z", ContainerKind::Counter),
    );
    a.map_set(m, "k", Value::Int(1))?;
    a.counter_add(c, 1)?;
    a.begin()?;
    a.counter_add(c, 1)?; // held and staged
    a.counter_add(z, 5)?; // staged only
    a.map_set(m, "k", Value::Int(2))?;
    let roots = a.roots();
    assert_eq!(roots.keys().copied().collect::<Vec<_>>(), {
        let mut ids = vec![m, c, z];
        ids.sort();
        ids
    });
    assert_eq!(roots[&c], Node::Counter(2));
    assert_eq!(roots[&z], Node::Counter(5));
    let named = a.named_roots();
    assert_eq!(named.keys().collect::<Vec<_>>(), ["c", "m", "z"]);
    assert_eq!(named["c"], Node::Counter(2));
    a.commit()?;
    assert_eq!(a.roots(), roots);
    assert_eq!(a.named_roots(), named);
    Ok(())
}

#[test]
fn doc_buffered_updates_save_the_same_whatever_their_arrival_order() -> Result<(), DocError> {
    let c = root("c", ContainerKind::Counter);
    let mut a = Doc::new(A);
    let mut msgs = Vec::new();
    for i in 0..6 {
        let before = a.version();
        a.counter_add(c, i)?;
        msgs.push(a.encode_updates_since(&before));
    }
    // The first update held back: the others wait for it.
    let (mut x, mut y) = (Doc::new(B), Doc::new(B));
    for m in &msgs[1..] {
        x.apply_update(m)?;
    }
    for m in msgs[1..].iter().rev() {
        y.apply_update(m)?;
    }
    assert_eq!(x.pending_count(), 5);
    assert_eq!(x.save()?, y.save()?);
    assert_eq!(Doc::load(&x.save()?)?.save()?, x.save()?);
    x.apply_update(&msgs[0])?;
    y.apply_update(&msgs[0])?;
    assert_eq!(x.pending_count(), 0);
    assert_eq!(x.save()?, y.save()?);
    assert_eq!(x.counter(c)?, a.counter(c)?);
    Ok(())
}

#[test]
fn doc_remote_map_keys_come_once_each_in_order() -> Result<(), DocError> {
    let (m, n) = (root("m", ContainerKind::Map), root("n", ContainerKind::Map));
    let mut a = Doc::new(A);
    let mut b = Doc::new(B);
    b.queue_events(true);
    a.begin()?;
    a.map_set(n, "b", Value::Int(1))?;
    a.map_set(m, "y", Value::Int(1))?;
    a.map_set(m, "x", Value::Int(1))?;
    a.map_set(m, "y", Value::Int(2))?;
    a.map_set(n, "a", Value::Int(1))?;
    a.map_delete(n, "a")?; // set and removed: no visible change
    a.commit()?;
    let r = b.apply_update(&a.encode_updates_since(&b.version()))?;
    assert_eq!(
        r.event.get(m),
        Some(&Changed::Keys(vec!["x".into(), "y".into()]))
    );
    assert_eq!(r.event.get(n), Some(&Changed::Keys(vec!["b".into()])));
    Ok(())
}

#[test]
fn doc_event_queue_is_off_by_default() -> Result<(), DocError> {
    let c = root("c", ContainerKind::Counter);
    let mut a = Doc::new(A);
    a.counter_add(c, 1)?;
    assert!(a.take_events().is_empty());
    a.queue_events(true);
    a.counter_add(c, 1)?;
    a.counter_add(c, 0)?; // no visible change, but still a committed edit
    let events = a.take_events();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].get(c), Some(&Changed::Value));
    assert!(events[1].is_empty());
    a.queue_events(false);
    a.counter_add(c, 1)?;
    assert!(a.take_events().is_empty());
    Ok(())
}

#[test]
fn doc_text_takes_utf16_positions_too() -> Result<(), DocError> {
    let t = root("t", ContainerKind::Text);
    let mut a = Doc::new(A);
    a.queue_events(true);
    a.text_insert(t, 0, "a😀b")?;
    assert_eq!((a.text_len(t)?, a.text_len_utf16(t)?), (3, 4));
    // UTF-16 offset 3 is after the emoji (2 units), i.e. char 2.
    a.text_insert_utf16(t, 3, "!")?;
    assert_eq!(a.text(t)?, "a😀!b");
    assert_eq!(
        a.take_events().last().and_then(|e| e.get(t)).cloned(),
        Some(Changed::Range {
            start: 2,
            removed: 0,
            inserted: 1
        })
    );
    a.text_delete_utf16(t, 1..3)?;
    assert_eq!(a.text(t)?, "a!b");
    let saved = a.save()?;
    a.text_insert(t, 0, "😀")?;
    let saved2 = a.save()?;
    assert_ne!(saved, saved2);
    assert_eq!(
        a.text_insert_utf16(t, 1, "x"),
        Err(DocError::InvalidPosition)
    );
    assert_eq!(a.text_delete_utf16(t, 0..1), Err(DocError::InvalidPosition));
    assert_eq!(a.save()?, saved2);
    Ok(())
}

#[test]
fn doc_float_values_compare_by_bits() {
    assert_eq!(Value::Float(f64::NAN), Value::Float(f64::NAN));
    assert_ne!(Value::Float(0.0), Value::Float(-0.0));
    assert!(Value::Null < Value::Bool(false));
    assert!(
        Value::Int(5) < Value::Float(0.0),
        "kinds order before contents"
    );
}

/// Prints per-update costs of typing into a document, locally and remotely. Not a benchmark
/// harness and asserts nothing about time; run it in release:
/// `cargo test -p converge --release --test integration doc_perf_report -- --ignored --nocapture`.
#[test]
#[ignore]
fn doc_perf_report() -> Result<(), DocError> {
    use std::time::Instant;
    let t = root("t", ContainerKind::Text);
    for n in [1_000usize, 10_000, 50_000] {
        let per = |d: std::time::Duration| d.as_secs_f64() * 1e6 / n as f64;
        let mut a = Doc::new(A);
        let mut msgs = Vec::with_capacity(n);
        let start = Instant::now();
        for i in 0..n {
            a.text_insert(t, i, "x")?;
        }
        let local = start.elapsed();
        for i in 0..n {
            // The same keystrokes again, one message each, for the remote measurements.
            let v = a.version();
            a.text_insert(t, n + i, "y")?;
            msgs.push(a.encode_updates_since(&v));
        }
        let mut b2 = Doc::new(B);
        let base: Vec<u8> = {
            let mut first = Doc::new(A);
            for i in 0..n {
                first.text_insert(t, i, "x")?;
            }
            first.encode_updates_since(&converge::VersionVector::new())
        };
        b2.apply_update(&base)?;
        let start = Instant::now();
        for m in &msgs {
            b2.apply_update(m)?;
        }
        let remote = start.elapsed();
        let mut c = Doc::new(C);
        c.apply_update(&base)?;
        let start = Instant::now();
        for m in msgs.iter().rev() {
            c.apply_update(m)?;
        }
        let reversed = start.elapsed();
        assert_eq!(c.text(t)?, b2.text(t)?);
        let all = a.encode_updates_since(&converge::VersionVector::new());
        let start = Instant::now();
        let mut d = Doc::new(C);
        d.apply_update(&all)?;
        let bulk = start.elapsed();
        let saved = a.save()?;
        let start = Instant::now();
        let loaded = Doc::load(&saved)?;
        let load = start.elapsed();
        assert_eq!(loaded.text(t)?, a.text(t)?);
        assert_eq!(d.text(t)?, a.text(t)?);
        println!(
            "text of {n} chars: local keystroke {:.2} us; remote keystroke {:.2} us (in order), \
             {:.2} us (reversed); bulk apply {:.2} us/update; load {:.2} us/update; \
             snapshot {:.1} bytes/update",
            per(local),
            per(remote),
            per(reversed),
            per(bulk) / 2.0,
            per(load) / 2.0,
            saved.len() as f64 / (2 * n) as f64,
        );
    }
    Ok(())
}

#[test]
fn doc_text_splice_batch_is_one_edit_all_or_nothing() -> Result<(), DocError> {
    let t = root("t", ContainerKind::Text);
    let mut a = Doc::new(A);
    a.queue_events(true);
    a.text_insert(t, 0, "hello")?;
    a.take_events();
    let v = a.version();
    a.text_splice_batch(
        t,
        [(5, 0, " world"), (0, 1, "H"), (6, 5, "there"), (11, 0, "!")],
    )?;
    assert_eq!(a.text(t)?, "Hello there!");
    // One transaction: one counter step per event, one change event covering every splice.
    let events = a.take_events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].get(t),
        Some(&Changed::Range {
            start: 0,
            removed: 5,
            inserted: 12
        })
    );
    let mut b = Doc::new(B);
    b.apply_update(&a.encode_updates_since(&VersionVector::new()))?;
    assert_eq!(b.text(t)?, "Hello there!");
    // One transaction: the author's counter moved by one.
    assert_eq!(a.version().get(A), v.get(A) + 1);

    // A splice out of range undoes the ones before it, outside a transaction and inside one.
    let saved = a.save()?;
    let before = a.version();
    assert_eq!(
        a.text_splice_batch(t, [(0, 0, "x"), (99, 0, "y")]),
        Err(DocError::OutOfBounds { index: 99, len: 13 })
    );
    assert_eq!((a.save()?, a.version()), (saved.clone(), before.clone()));
    a.begin()?;
    a.text_insert(t, 0, ">")?;
    assert!(a.text_splice_batch(t, [(0, 1, ""), (0, 50, "")]).is_err());
    assert_eq!(a.text(t)?, ">Hello there!");
    a.text_splice_batch(t, [(0, 1, "> ")])?;
    a.commit()?;
    assert_eq!(a.text(t)?, "> Hello there!");
    assert_eq!(a.take_events().len(), 1);

    // UTF-16 offsets: the emoji is two units, one char.
    a.text_splice_batch_utf16(t, [(0, 2, "😀"), (2, 0, " "), (3, 5, "Hi")])?;
    assert_eq!(a.text(t)?, "😀 Hi there!");
    assert_eq!(
        a.text_splice_batch_utf16(t, [(1, 0, "x")]),
        Err(DocError::InvalidPosition)
    );
    assert_eq!(a.text(t)?, "😀 Hi there!");
    sync(&a, &mut b);
    assert_eq!(b.text(t)?, a.text(t)?);
    Ok(())
}

#[test]
fn doc_text_splice_batch_equals_one_splice_at_a_time() -> Result<(), DocError> {
    // Seeded walks of random splices, ASCII and not, mostly continuing the one before (typing,
    // backspace, forward delete: the runs the batch hands to the engine whole), applied three
    // ways: one splice at a time in one transaction, one batch, and one batch in UTF-16 units.
    // All three make the same update, history and change event.
    let t = root("t", ContainerKind::Text);
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n.max(1) as u64) as usize
    };
    let empty = VersionVector::new();
    for round in 0..60 {
        let mut text: Vec<char> = Vec::new();
        let (mut patches, mut patches16): (Vec<(usize, usize, String)>, Vec<_>) = (vec![], vec![]);
        let mut last = (0, 0, 0); // the previous splice: pos, del, inserted chars
        for _ in 0..(round * 5 + 1) {
            let len = text.len();
            let (pos, del, ins): (usize, usize, String) = match next(8) {
                // Typing on after the previous insert.
                0..=2 => (
                    (last.0 + last.2).min(len),
                    0,
                    ['a', 'é', '😀'][next(3).min(next(3))].to_string(),
                ),
                // Backspace, forward delete.
                3 => (
                    last.0.saturating_sub(1).min(len.saturating_sub(1)),
                    1.min(len),
                    String::new(),
                ),
                4 => (last.0.min(len.saturating_sub(1)), 1.min(len), String::new()),
                _ => {
                    let pos = next(len + 1);
                    let del = next(len - pos + 1).min(3);
                    let ins = (0..next(4))
                        .map(|_| ['a', 'é', '世', '😀', ' '][next(5)])
                        .collect();
                    (pos, del, ins)
                }
            };
            let units = |chars: &[char]| chars.iter().map(|c| c.len_utf16()).sum::<usize>();
            patches16.push((
                units(&text[..pos]),
                units(&text[pos..pos + del]),
                ins.clone(),
            ));
            text.splice(pos..pos + del, ins.chars());
            last = (pos, del, ins.chars().count());
            patches.push((pos, del, ins));
        }
        let start = || {
            let mut d = Doc::new(A);
            d.queue_events(true);
            d
        };
        let (mut one, mut batch, mut batch16) = (start(), start(), start());
        one.begin()?;
        for (pos, del, ins) in &patches {
            one.text_splice(t, *pos, *del, ins)?;
        }
        one.commit()?;
        batch.text_splice_batch(t, patches.iter().map(|(p, d, s)| (*p, *d, s.as_str())))?;
        batch16
            .text_splice_batch_utf16(t, patches16.iter().map(|(p, d, s)| (*p, *d, s.as_str())))?;
        let events = one.take_events();
        for d in [&mut batch, &mut batch16] {
            assert_eq!(d.text(t)?, text.iter().collect::<String>(), "round {round}");
            assert_eq!(
                d.encode_updates_since(&empty),
                one.encode_updates_since(&empty)
            );
            assert_eq!(d.save_history()?, one.save_history()?, "round {round}");
            assert_eq!(d.take_events(), events, "round {round}");
            let loaded = Doc::load(&d.save()?)?;
            assert_eq!(loaded.save_history()?, one.save_history()?, "round {round}");
        }
    }
    Ok(())
}

/// Found by the `text_batch` fuzzer: a splice that changes nothing (here at 1, after the
/// deletion at 0) widened the batch's change event; one splice at a time it makes none.
#[test]
fn doc_text_splice_batch_empty_splice_covers_nothing() -> Result<(), DocError> {
    let t = root("t", ContainerKind::Text);
    let mut a = Doc::new(A);
    a.text_insert(t, 0, "x*,")?;
    a.queue_events(true);
    a.text_splice_batch(t, [(0, 1, ""), (1, 0, "")])?;
    let events = a.take_events();
    assert_eq!(
        events[0].get(t),
        Some(&Changed::Range {
            start: 0,
            removed: 1,
            inserted: 0
        })
    );
    Ok(())
}

/// An edit that changes nothing (an empty insert or splice) leaves the document exactly as it
/// was, inside a transaction or not: no empty root appears in what it saves.
#[test]
fn doc_edit_that_changes_nothing_leaves_no_trace() -> Result<(), DocError> {
    for named in [false, true] {
        let fresh = || {
            let mut d = Doc::new(A);
            let t = if named {
                d.root("t", ContainerKind::Text)
            } else {
                root("t", ContainerKind::Text)
            };
            (d, t)
        };
        let (before, _) = fresh();
        let before = (before.save()?, before.save_history()?);
        for how in 0..6 {
            let (mut d, t) = fresh();
            let in_txn = how >= 3;
            if in_txn {
                d.begin()?;
            }
            match how % 3 {
                0 => d.text_insert(t, 0, "")?,
                1 => d.text_splice(t, 0, 0, "")?,
                _ => d.text_splice_batch(t, [(0, 0, ""), (0, 0, "")])?,
            }
            if in_txn {
                assert!(d.commit()?.is_empty());
            }
            assert_eq!(
                (d.save()?, d.save_history()?),
                before,
                "named {named}, way {how}"
            );
        }
    }
    Ok(())
}

/// Edits whose operations cancel out (an insert and a delete of the same char) queue one
/// event with no change in it, whichever way they are made: the version moved, so a
/// listener that sends updates on each event still learns of it.
#[test]
fn doc_edits_that_cancel_out_queue_an_empty_event_every_way() -> Result<(), DocError> {
    let t = root("t", ContainerKind::Text);
    let made = |how: u8| -> Result<Vec<ChangeEvent>, DocError> {
        let mut d = Doc::new(A);
        d.text_insert(t, 0, "abc")?;
        d.queue_events(true);
        match how {
            0 => d.text_splice_batch(t, [(1, 0, "x"), (1, 1, "")])?,
            1 => d.text_splice_batch_utf16(t, [(1, 0, "x"), (1, 1, "")])?,
            _ => {
                d.begin()?;
                d.text_insert(t, 1, "x")?;
                d.text_delete(t, 1..2)?;
                d.commit()?;
            }
        }
        assert_eq!(d.text(t)?, "abc");
        Ok(d.take_events())
    };
    for how in 0..3 {
        let events = made(how)?;
        assert_eq!(events.len(), 1, "way {how}");
        assert!(events[0].is_empty(), "way {how}");
    }
    Ok(())
}

/// `merge_updates` keeps one copy of an update sent twice and refuses two different updates
/// under one id.
#[test]
fn doc_merge_updates_dedups_and_refuses_conflicts() -> Result<(), DocError> {
    let m = root("m", ContainerKind::Map);
    let mut a = Doc::new(A);
    a.map_set(m, "k", Value::Int(1))?;
    let first = a.encode_updates_since(&VersionVector::new());
    a.map_set(m, "k", Value::Int(2))?;
    let all = a.encode_updates_since(&VersionVector::new());
    let merged = Doc::merge_updates(&[&first, &all, &first])?;
    let mut c = Doc::new(C);
    assert_eq!(c.apply_update(&merged)?.applied, 2);
    assert_eq!(c.roots(), a.roots());

    // Another document posing as A, with a different first write.
    let mut impostor = Doc::new(A);
    impostor.map_set(m, "k", Value::Int(9))?;
    let forged = impostor.encode_updates_since(&VersionVector::new());
    let got = Doc::merge_updates(&[&all, &forged]);
    assert!(
        matches!(
            got,
            Err(DocError::Conflict {
                author: A,
                start: 1
            })
        ),
        "{got:?}"
    );
    Ok(())
}

/// Many replicas' first edits, concurrent, none carrying a root name (each had synced the
/// name before): the receiving document's history and save grow linearly with them, not with
/// their square (each transaction lowers every other author's counter below the version it is
/// applied at).
#[test]
fn doc_many_concurrent_first_edits_keep_a_linear_history() -> Result<(), DocError> {
    let l = root("l", ContainerKind::List);
    let n = 300u64;
    let mut seed = Doc::new(ReplicaId(100_000));
    seed.list_insert(l, 0, Value::Int(-1))?;
    let base = seed.encode_updates_since(&VersionVector::new());
    let mut all = vec![base.clone()];
    for i in 1..=n {
        let mut w = Doc::new(ReplicaId(i));
        w.apply_update(&base)?;
        let before = w.version();
        w.list_insert(l, 0, Value::Int(i as i64))?;
        all.push(w.encode_updates_since(&before));
    }
    let refs: Vec<&[u8]> = all.iter().map(Vec::as_slice).collect();
    let mut hub = Doc::new(ReplicaId(200_000));
    hub.apply_update(&Doc::merge_updates(&refs)?)?;
    assert_eq!(hub.list_len(l)?, n as usize + 1);
    let saved = hub.save()?;
    assert!(saved.len() < 60 * n as usize, "{} bytes", saved.len());
    let mut again = Doc::new(C);
    again.apply_update(&hub.encode_updates_since(&VersionVector::new()))?;
    assert_eq!(again.roots(), hub.roots());
    assert_eq!(Doc::load(&saved)?.roots(), hub.roots());
    Ok(())
}

/// A peer that forwards what was new to it (`encode_updates_since` of its version before an
/// apply) may send a write to someone who lacks the write that overwrote it; that receiver must
/// still show what any replica holding the same updates shows, whichever copy arrives first.
/// (An attempt to send overwritten writes without their values failed exactly this.)
#[test]
fn doc_forwarded_overwritten_write_reads_the_same_everywhere() -> Result<(), DocError> {
    let r = root("r", ContainerKind::Register);
    let m = root("m", ContainerKind::Map);
    let mut a = Doc::new(A);
    let mut b = Doc::new(B);
    a.register_set(r, Value::Str("a".into()))?;
    a.map_set(m, "k", Value::Int(1))?;
    b.register_set(r, Value::Str("b".into()))?; // wins: same Lamport time, higher replica
    b.map_set(m, "k", Value::Int(2))?;
    let ua = a.encode_updates_since(&VersionVector::new());
    let ub = b.encode_updates_since(&VersionVector::new());
    let mut c = Doc::new(C);
    c.apply_update(&ub)?;
    let before = c.version();
    c.apply_update(&ua)?;
    let forwarded = c.encode_updates_since(&before);
    let mut d = Doc::new(ReplicaId(4));
    d.apply_update(&forwarded)?;
    let mut e = Doc::new(ReplicaId(5));
    e.apply_update(&ua)?;
    assert_eq!(d.version(), e.version());
    assert_eq!(d.roots(), e.roots());
    assert_eq!(d.register(r)?, Some(Value::Str("a".into())));
    let mut f = Doc::new(ReplicaId(6));
    f.apply_update(&ua)?;
    f.apply_update(&forwarded)?;
    let mut g = Doc::new(ReplicaId(7));
    g.apply_update(&forwarded)?;
    g.apply_update(&ua)?;
    assert_eq!(f.roots(), g.roots());
    Ok(())
}
