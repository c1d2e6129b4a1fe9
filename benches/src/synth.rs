//! Synthetic concurrent editing traces in the format of `shared/traces` (see its README), for
//! checking on histories of other shapes what friendsforever shows: more authors, longer
//! branches, rarer or more frequent merges. Seeded, so every run sees the same trace.
//!
//! The document is one paragraph per agent, each followed by a newline; agent 0 types the
//! newlines in the first transaction, which every other transaction descends from. An agent
//! edits only its own paragraph, typing at a cursor, backspacing, and now and then jumping
//! to another spot to type or delete a stretch. Each transaction is made on top of its agent's
//! previous one and, at a chosen rate, merges the latest transactions of some other agents.
//!
//! Because no two agents ever insert at the same place, the final text is the same for every
//! correct CRDT (the format's promise), so the generator states `endContent` without running
//! one: each paragraph is its agent's last text. A position in a patch is the paragraph's
//! offset plus the lengths of the paragraphs before it as the transaction's merged parents
//! left them, which the generator tracks per agent and transaction.
//!
//! What this does not cover: concurrent typing at one spot (the case the sequence CRDT's
//! ordering rule decides), which friendsforever and the kernel's property tests exercise.

use crate::rng::{LOWER, Rng};
use crate::{Patch, Trace, Txn, raise_to};

/// The shape of a synthetic concurrent history.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Authors (at least 1).
    pub agents: usize,
    /// Transactions, the separator transaction included.
    pub txns: usize,
    /// Per mille of transactions that first merge other agents' latest transactions.
    pub merge_per_mille: u64,
    /// At most this many other agents merged at once.
    pub fan_in: usize,
    /// Per mille of transactions made by a different agent than the one before (the rest
    /// continue a session).
    pub switch_per_mille: u64,
}

/// The shapes `concurrent_report` measures, with their names and seeds.
pub fn measured_shapes() -> Vec<(&'static str, Shape, u64)> {
    let shape = |agents, txns, merge_per_mille, fan_in, switch_per_mille| Shape {
        agents,
        txns,
        merge_per_mille,
        fan_in,
        switch_per_mille,
    };
    vec![
        ("synthetic pair", shape(2, 26_000, 300, 1, 200), 1),
        ("synthetic team", shape(8, 26_000, 100, 3, 150), 2),
        ("synthetic branches", shape(32, 26_000, 20, 2, 100), 3),
        ("synthetic crowd", shape(200, 26_000, 50, 3, 300), 4),
    ]
}

/// A concurrent trace of `shape`, the same for the same `seed`.
pub fn concurrent_trace(shape: Shape, seed: u64) -> Trace {
    let agents = shape.agents.max(1);
    let mut rng = Rng::new(seed);
    // Per agent: its paragraph, cursor, and the paragraph's length after each of its
    // transactions (`lens[q][k]` after `k` of them).
    let mut paras: Vec<Vec<u8>> = vec![Vec::new(); agents];
    let mut cursors = vec![0usize; agents];
    let mut lens: Vec<Vec<usize>> = vec![vec![0]; agents];
    // Per agent, its transactions in order; per transaction, how many of each agent's
    // transactions it has seen (itself included).
    let mut own: Vec<Vec<usize>> = vec![Vec::new(); agents];
    let mut seen: Vec<Vec<u32>> = Vec::with_capacity(shape.txns);
    let mut txns = Vec::with_capacity(shape.txns);

    // The separators.
    txns.push(Txn {
        parents: Vec::new(),
        agent: 0,
        patches: vec![Patch(0, 0, "\n".repeat(agents))],
    });
    let mut first = vec![0u32; agents];
    first[0] = 1;
    seen.push(first);
    own[0].push(0);
    lens[0].push(0);

    let mut agent = 0;
    while txns.len() < shape.txns {
        if agents > 1 && rng.range(0, 999) < shape.switch_per_mille as usize {
            agent = rng.range(0, agents - 1);
        }
        let a = agent;
        let mut parents = vec![*own[a].last().unwrap_or(&0)];
        let mut view = seen[parents[0]].clone();
        if agents > 1 && (rng.range(0, 999) as u64) < shape.merge_per_mille {
            for _ in 0..rng.range(1, shape.fan_in.max(1)) {
                // Another agent's latest transaction, unless the view already holds it.
                let q = rng.range(0, agents - 1);
                if let Some(&t) = own[q].last()
                    && view[q] < own[q].len() as u32
                {
                    parents.push(t);
                    raise_to(&mut view, &seen[t]);
                }
            }
        }
        let base: usize = (0..a).map(|q| lens[q][view[q] as usize] + 1).sum();
        let patches = (0..rng.range(1, 3))
            .map(|_| edit(&mut rng, &mut paras[a], &mut cursors[a], base))
            .collect();
        view[a] += 1;
        own[a].push(txns.len());
        lens[a].push(paras[a].len());
        seen.push(view);
        txns.push(Txn {
            parents,
            agent: a,
            patches,
        });
    }

    let mut end_content = String::new();
    for p in &paras {
        end_content.push_str(std::str::from_utf8(p).expect("ASCII"));
        end_content.push('\n');
    }
    Trace {
        start_content: String::new(),
        end_content,
        num_agents: Some(agents),
        txns,
    }
}

/// One edit of a paragraph (ASCII, so chars are bytes) at document offset `base`: mostly
/// typing at the cursor, sometimes backspacing, sometimes a jump to type or delete elsewhere.
fn edit(rng: &mut Rng, para: &mut Vec<u8>, cursor: &mut usize, base: usize) -> Patch {
    let roll = rng.range(0, 99);
    if roll < 3 {
        *cursor = rng.range(0, para.len());
    }
    let at = *cursor;
    if (70..88).contains(&roll) && at > 0 {
        let n = rng.range(1, 2.min(at));
        para.drain(at - n..at);
        *cursor -= n;
        return Patch(base + at - n, n, String::new());
    }
    if roll < 2 && at < para.len() {
        let n = rng.range(1, 12.min(para.len() - at));
        para.drain(at..at + n);
        return Patch(base + at, n, String::new());
    }
    let text = if rng.range(0, 19) == 0 {
        rng.word(LOWER, 3, 9) + " "
    } else {
        rng.word(LOWER, 1, 1)
    };
    para.splice(at..at, text.bytes());
    *cursor += text.len();
    Patch(base + at, 0, text)
}
