//! Quickstart: three replicas edit offline, then exchange deltas in a shuffled order with
//! duplicates, and end in the same state.
//!
//! Run with `cargo run --release -p converge --example quickstart`.

use std::hint::black_box;
use std::time::Instant;

use converge::{AwSet, AwSetDelta, Crdt, LwwMap, PNCounter, ReplicaId, decode, encode};

/// One replica's state: a like counter, a profile map and a tag set.
#[derive(Clone, Default)]
struct Replica {
    likes: PNCounter,
    profile: LwwMap<String, String>,
    tags: AwSet<String>,
}

/// A delta travelling between replicas, as bytes on the wire.
#[derive(Clone)]
enum Message {
    Likes(Vec<u8>),
    Profile(Vec<u8>),
    Tags(Vec<u8>),
}

impl Replica {
    fn deliver(&mut self, msg: &Message) {
        match msg {
            Message::Likes(b) => self
                .likes
                .merge_delta(&decode::<PNCounter>(b).expect("valid delta")),
            Message::Profile(b) => self
                .profile
                .merge_delta(&decode::<LwwMap<String, String>>(b).expect("valid delta")),
            Message::Tags(b) => self
                .tags
                .merge_delta(&decode::<AwSetDelta<String>>(b).expect("valid delta")),
        }
    }

    fn summary(&self) -> String {
        let mut profile: Vec<_> = self.profile.iter().collect();
        profile.sort();
        let mut tags: Vec<_> = self.tags.iter().collect();
        tags.sort();
        format!(
            "likes = {:>3} | profile = {:?} | tags = {:?}",
            self.likes.value(),
            profile,
            tags
        )
    }
}

/// A tiny deterministic PRNG (xorshift64*) so the shuffle is the same on every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn main() {
    let ids = [ReplicaId(1), ReplicaId(2), ReplicaId(3)];
    let mut replicas = vec![Replica::default(); 3];
    let mut outbox: Vec<(usize, Message)> = Vec::new();

    // --- Offline edits: every local operation returns a delta, which we queue as bytes.
    let mut send = |from: usize, msg: Message| outbox.push((from, msg));
    {
        let (r, id) = (&mut replicas[0], ids[0]);
        send(0, Message::Likes(encode(&r.likes.inc(id, 5))));
        send(
            0,
            Message::Profile(encode(&r.profile.insert(id, "name".into(), "Ada".into()))),
        );
        send(0, Message::Tags(encode(&r.tags.insert(id, "rust".into()))));
        send(0, Message::Tags(encode(&r.tags.insert(id, "crdt".into()))));
    }
    {
        let (r, id) = (&mut replicas[1], ids[1]);
        send(1, Message::Likes(encode(&r.likes.dec(id, 2))));
        send(
            1,
            Message::Profile(encode(&r.profile.insert(id, "name".into(), "Grace".into()))),
        );
        send(
            1,
            Message::Profile(encode(&r.profile.insert(
                id,
                "city".into(),
                "Arlington".into(),
            ))),
        );
        send(1, Message::Tags(encode(&r.tags.insert(id, "crdt".into()))));
    }
    {
        let (r, id) = (&mut replicas[2], ids[2]);
        send(2, Message::Likes(encode(&r.likes.inc(id, 1))));
        send(
            2,
            Message::Tags(encode(&r.tags.insert(id, "offline".into()))),
        );
        // Replica 3 adds and then removes a tag it alone has seen: the removal wins there.
        send(2, Message::Tags(encode(&r.tags.insert(id, "draft".into()))));
        send(
            2,
            Message::Tags(encode(&r.tags.remove(&"draft".to_string()))),
        );
    }

    println!("before sync:");
    for (i, r) in replicas.iter().enumerate() {
        println!("  {} {}", ids[i], r.summary());
    }

    // --- The network: every message goes to every other replica, shuffled, with duplicates.
    let mut rng = Rng(0x5EED_CAFE);
    let mut deliveries: Vec<(usize, usize)> = Vec::new();
    for (m, (from, _)) in outbox.iter().enumerate() {
        for to in 0..3 {
            if to != *from {
                deliveries.push((to, m));
                if rng.below(3) == 0 {
                    deliveries.push((to, m)); // a duplicate
                }
            }
        }
    }
    for i in (1..deliveries.len()).rev() {
        deliveries.swap(i, rng.below(i + 1));
    }
    for &(to, m) in &deliveries {
        replicas[to].deliver(&outbox[m].1);
    }

    println!(
        "\nafter {} deliveries ({} messages, shuffled, with duplicates):",
        deliveries.len(),
        outbox.len()
    );
    for (i, r) in replicas.iter().enumerate() {
        println!("  {} {}", ids[i], r.summary());
    }
    let converged = replicas
        .iter()
        .all(|r| r.summary() == replicas[0].summary());
    println!("\nconverged: {converged}");
    assert!(converged, "replicas diverged");

    timings(&ids);
}

/// Measures time per operation for the same kinds of operations at a larger scale.
fn timings(ids: &[ReplicaId; 3]) {
    const N: usize = 100_000;
    println!("\ntime per operation ({N} operations each, this machine, release build):");

    let keys: Vec<String> = (0..N).map(|i| format!("key-{i}")).collect();

    let mut counter = PNCounter::default();
    let t = Instant::now();
    for i in 0..N {
        black_box(counter.inc(ids[i % 3], 1));
    }
    report("PNCounter::inc (returns delta)", t, N);

    let mut map: LwwMap<String, u64> = LwwMap::new();
    let t = Instant::now();
    let mut deltas = Vec::with_capacity(N);
    for (i, k) in keys.iter().enumerate() {
        deltas.push(map.insert(ids[i % 3], k.clone(), i as u64));
    }
    report("LwwMap::insert (returns delta)", t, N);

    let mut other: LwwMap<String, u64> = LwwMap::new();
    let t = Instant::now();
    other.merge_batch(&deltas);
    report("LwwMap::merge_batch, per delta", t, N);
    assert_eq!(other.len(), N);

    let mut set: AwSet<String> = AwSet::new();
    let t = Instant::now();
    let mut set_deltas = Vec::with_capacity(N);
    for (i, k) in keys.iter().enumerate() {
        set_deltas.push(set.insert(ids[i % 3], k.clone()));
    }
    report("AwSet::insert (returns delta)", t, N);

    let mut set2: AwSet<String> = AwSet::new();
    let t = Instant::now();
    for d in &set_deltas {
        set2.merge_delta(d);
    }
    report("AwSet::merge_delta", t, N);

    let t = Instant::now();
    let mut set3: AwSet<String> = AwSet::new();
    set3.merge(&set);
    report("AwSet::merge (full state), per element", t, N);
    assert_eq!(set2.len(), N);
    assert_eq!(set3.len(), N);

    let t = Instant::now();
    let bytes = encode(&set);
    let back: AwSet<String> = decode(&bytes).expect("round trip");
    report("AwSet encode + decode, per element", t, N);
    assert_eq!(back.len(), N);
    println!("  AwSet of {N} strings encodes to {} bytes", bytes.len());
}

fn report(what: &str, start: Instant, n: usize) {
    let ns = start.elapsed().as_nanos() as f64 / n as f64;
    println!("  {what:<42} {ns:>8.1} ns");
}
