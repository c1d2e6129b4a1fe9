//! Synthetic concurrent traces ([`converge_benches::synth`]) of several shapes replay to the
//! generator's `endContent` in converge, and in yrs and Loro, which checks the generator's
//! promise (one final text for every correct CRDT) against two independent implementations.

use converge::list::Text;
use converge_benches::synth::{Shape, concurrent_trace};
use converge_benches::{
    Trace, replay_concurrent, replay_concurrent_loro, replay_concurrent_yrs, yrs_text,
};

fn shapes() -> [(Shape, &'static str); 4] {
    let shape = |agents, merge_per_mille, fan_in, switch_per_mille| Shape {
        agents,
        txns: 1_500,
        merge_per_mille,
        fan_in,
        switch_per_mille,
    };
    [
        (shape(1, 0, 1, 0), "one author"),
        (shape(2, 400, 1, 300), "a pair in close contact"),
        (shape(7, 100, 3, 150), "a team"),
        (shape(40, 30, 2, 200), "many long branches"),
    ]
}

fn check_converge(trace: &Trace, what: &str) {
    let reps = replay_concurrent(trace);
    assert_eq!(reps.len(), trace.agents());
    for (a, rep) in reps.iter().enumerate() {
        rep.check_invariants();
        assert!(
            rep.to_string() == trace.end_content,
            "{what}: replica {a} differs from endContent"
        );
    }
    let back = Text::decode(&reps[0].encode()).expect("history decodes");
    assert_eq!(back.to_string(), trace.end_content, "{what}: decoded");
    assert_eq!(back.version(), reps[0].version(), "{what}: decoded version");
    let view = Text::decode_snapshot(&reps[0].snapshot()).expect("snapshot decodes");
    assert_eq!(view.to_string(), trace.end_content, "{what}: snapshot");
}

#[test]
fn synthetic_traces_replay_in_converge() {
    for (seed, (shape, what)) in shapes().into_iter().enumerate() {
        let trace = concurrent_trace(shape, seed as u64 + 1);
        assert_eq!(trace.txns.len(), shape.txns);
        for (i, t) in trace.txns.iter().enumerate() {
            assert!(t.parents.iter().all(|&p| p < i), "{what}: txn {i} parents");
            assert!(
                i == 0 || !t.parents.is_empty(),
                "{what}: txn {i} has no parent"
            );
        }
        check_converge(&trace, what);
    }
}

#[test]
fn synthetic_traces_agree_with_yrs_and_loro() {
    for (seed, (shape, what)) in shapes().into_iter().enumerate() {
        let trace = concurrent_trace(shape, seed as u64 + 1);
        for (a, doc) in replay_concurrent_yrs(&trace).iter().enumerate() {
            assert!(
                yrs_text(doc) == trace.end_content,
                "{what}: yrs document {a} differs from endContent"
            );
        }
        let loro = replay_concurrent_loro(&trace);
        assert!(
            loro.get_text("text").to_string() == trace.end_content,
            "{what}: Loro differs from endContent"
        );
    }
}

#[test]
fn same_seed_same_trace() {
    let (shape, _) = shapes()[2];
    let (a, b) = (concurrent_trace(shape, 9), concurrent_trace(shape, 9));
    assert_eq!(a.end_content, b.end_content);
    let c = concurrent_trace(shape, 10);
    assert_ne!(a.end_content, c.end_content);
}
