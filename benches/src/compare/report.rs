//! Writers for the compare results: JSON (every figure, machine-readable), a markdown report
//! (time table with converge/peer ratios, then sizes, load time and memory, then the summary:
//! converge `Doc` over the engine and each peer, time, size and load), and SVG charts of how
//! many times faster converge (the engine, or the `Doc`) is than each peer on each workload.

use std::fmt::Write as _;
use std::time::Duration;

use super::{Row, Settings, Status};

/// The bare engine's rows (`list::Text`, `list::List`, `LwwMap`, the state CRDTs).
pub const ENGINE: &str = "converge";

/// The document's rows (`converge::doc::Doc`).
pub const DOC: &str = "converge Doc";

/// Libraries in table order.
pub const LIBS: [&str; 7] = [
    ENGINE,
    DOC,
    "diamond-types",
    "yrs",
    "loro",
    "automerge",
    "crdts",
];

/// Facts about the run printed with the results.
pub struct Meta {
    /// UTC date, `YYYY-MM-DD`.
    pub date: String,
    /// UTC time, `HH:MM`.
    pub time: String,
    /// The suite's N.
    pub n: usize,
    /// Whether this was a smoke run.
    pub smoke: bool,
    /// Repetitions and cap.
    pub settings: Settings,
    /// CPU model and core count, rustc version, git commit.
    pub machine: Vec<(String, String)>,
}

/// `1.23 ms` style.
pub fn fmt_time(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.2} µs", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// `12.3 KB` style (1 KB = 1000 bytes).
pub fn fmt_bytes(b: usize) -> String {
    if b < 10_000 {
        format!("{b} B")
    } else if b < 10_000_000 {
        format!("{:.1} KB", b as f64 / 1e3)
    } else {
        format!("{:.1} MB", b as f64 / 1e6)
    }
}

fn ids(rows: &[Row]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for r in rows {
        if !out.iter().any(|(id, _)| *id == r.id) {
            out.push((r.id.clone(), r.name.clone()));
        }
    }
    out
}

fn find<'a>(rows: &'a [Row], id: &str, lib: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.id == id && r.lib == lib)
}

fn libs_present(rows: &[Row]) -> Vec<&'static str> {
    LIBS.into_iter()
        .filter(|l| rows.iter().any(|r| r.lib == *l))
        .collect()
}

/// The results as JSON.
pub fn json(rows: &[Row], meta: &Meta) -> String {
    let opt_ns = |d: Option<Duration>| d.map(|d| d.as_nanos() as u64);
    let rows: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let (status, message) = match &r.status {
                Status::Ok => ("ok", None),
                Status::Capped => ("capped", None),
                Status::HeapCapped(held) => ("heap_capped", Some(format!("held {held} bytes"))),
                Status::Wrong(m) => ("wrong", Some(m.clone())),
            };
            serde_json::json!({
                "workload": r.id,
                "description": r.name,
                "library": r.lib,
                "status": status,
                "message": message,
                "runs": r.times.len(),
                "cap_ms": r.cap.as_millis() as u64,
                "median_ns": opt_ns(r.median()),
                "min_ns": opt_ns(r.min()),
                "times_ns": r.times.iter().map(|t| t.as_nanos() as u64).collect::<Vec<_>>(),
                "avg_update_bytes": r.extra.update_bytes,
                "doc_bytes": r.extra.doc_bytes,
                "history_bytes": r.extra.history_bytes,
                "parse_ns": opt_ns(r.extra.parse),
                "load_read_ns": opt_ns(r.extra.load_read),
                "mem_bytes": r.extra.mem,
            })
        })
        .collect();
    let machine: serde_json::Map<String, serde_json::Value> = meta
        .machine
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    let doc = serde_json::json!({
        "date": meta.date,
        "time_utc": meta.time,
        "n": meta.n,
        "smoke": meta.smoke,
        "reps": meta.settings.reps,
        "cap_ms": meta.settings.cap.as_millis() as u64,
        "heap_cap_bytes": meta.settings.heap_cap,
        "machine": machine,
        "rows": rows,
    });
    serde_json::to_string_pretty(&doc).expect("json") + "\n"
}

fn time_cell(rows: &[Row], id: &str, lib: &str) -> String {
    let Some(r) = find(rows, id, lib) else {
        return "–".into();
    };
    match &r.status {
        Status::Capped => format!("> {}", fmt_time(r.cap)),
        Status::HeapCapped(held) => format!("stopped: heap > {}", fmt_bytes(*held)),
        Status::Wrong(_) => "**WRONG**".into(),
        Status::Ok => {
            let (Some(med), Some(min)) = (r.median(), r.min()) else {
                return "–".into();
            };
            let mut s = format!("{} ({})", fmt_time(med), fmt_time(min));
            let engine = find(rows, id, ENGINE).and_then(ok_median);
            match (lib, engine) {
                (ENGINE, _) | (_, None) => {}
                // The document's cell: how many times the engine's time it takes.
                (DOC, Some(engine)) => {
                    let ratio = med.as_secs_f64() / engine.as_secs_f64().max(1e-12);
                    let _ = write!(s, " · {}× engine", fmt_ratio(ratio));
                }
                (_, Some(ours)) => {
                    let ratio = ours.as_secs_f64() / med.as_secs_f64().max(1e-12);
                    let _ = write!(s, " · **{}×**", fmt_ratio(ratio));
                }
            }
            s
        }
    }
}

/// The median of a row that finished and verified.
fn ok_median(r: &Row) -> Option<Duration> {
    if r.status == Status::Ok {
        r.median()
    } else {
        None
    }
}

fn fmt_ratio(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.0}")
    } else if r >= 0.1 {
        format!("{r:.2}")
    } else {
        format!("{r:.3}")
    }
}

fn metric_table(
    out: &mut String,
    title: &str,
    rows: &[Row],
    libs: &[&str],
    cell: impl Fn(&Row) -> Option<String>,
) {
    if !rows
        .iter()
        .any(|r| r.status == Status::Ok && cell(r).is_some())
    {
        return;
    }
    let _ = writeln!(out, "\n### {title}\n");
    let _ = writeln!(out, "| workload | {} |", libs.join(" | "));
    let _ = writeln!(out, "| --- |{}", " ---: |".repeat(libs.len()));
    for (id, _) in ids(rows) {
        let cells: Vec<String> = libs
            .iter()
            .map(|l| match find(rows, &id, l) {
                Some(r) if r.status == Status::Ok => cell(r).unwrap_or_else(|| "–".into()),
                Some(_) => "·".into(),
                None => "–".into(),
            })
            .collect();
        if cells.iter().all(|c| c == "–" || c == "·") {
            continue;
        }
        let _ = writeln!(out, "| {id} | {} |", cells.join(" | "));
    }
}

/// The markdown report.
pub fn markdown(rows: &[Row], meta: &Meta, command: &str) -> String {
    let libs = libs_present(rows);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# converge vs peers — {} {} UTC{}\n",
        meta.date,
        meta.time,
        if meta.smoke { " (smoke run)" } else { "" }
    );
    let _ = writeln!(out, "Command: `{command}`  ");
    let _ = writeln!(
        out,
        "N = {}, {} repetitions per library (interleaved), cap {} per run ({}× and one \
         repetition for B4x100), heap cap {} held per run.  ",
        meta.n,
        meta.settings.reps,
        fmt_time(meta.settings.cap),
        super::HEAVY_CAP_FACTOR,
        fmt_bytes(meta.settings.heap_cap)
    );
    for (k, v) in &meta.machine {
        let _ = writeln!(out, "{k}: {v}  ");
    }
    let _ = writeln!(
        out,
        "\n### Time\n\nMedian (min) of the timed section; **r×** = converge (engine) time / peer \
         time, so below 1 means converge is faster; `r× engine` in the converge Doc column = \
         Doc time / engine time (the summary below gives the Doc's ratios to every peer). \
         `> cap`: stopped at the time cap; `stopped: heap > X`: stopped when it held more heap \
         than the heap cap. `–`: the library has no such data type. Every cell's result was \
         verified (see perf/README.md).\n"
    );
    let _ = writeln!(out, "| workload | {} |", libs.join(" | "));
    let _ = writeln!(out, "| --- |{}", " ---: |".repeat(libs.len()));
    for (id, name) in ids(rows) {
        let cells: Vec<String> = libs.iter().map(|l| time_cell(rows, &id, l)).collect();
        let _ = writeln!(out, "| {id} {name} | {} |", cells.join(" | "));
    }
    metric_table(&mut out, "Encoded document size", rows, &libs, |r| {
        r.extra.doc_bytes.map(fmt_bytes)
    });
    metric_table(
        &mut out,
        "History-only export size (where the library has one besides the above)",
        rows,
        &libs,
        |r| r.extra.history_bytes.map(fmt_bytes),
    );
    metric_table(&mut out, "Average update message size", rows, &libs, |r| {
        r.extra.update_bytes.map(fmt_bytes)
    });
    metric_table(
        &mut out,
        "Load (parse) time of the encoded document",
        rows,
        &libs,
        |r| r.extra.parse.map(fmt_time),
    );
    metric_table(
        &mut out,
        "Load + first read of the encoded document (the text, list or map value)",
        rows,
        &libs,
        |r| r.extra.load_read.map(fmt_time),
    );
    metric_table(
        &mut out,
        "Heap held by the loaded document",
        rows,
        &libs,
        |r| r.extra.mem.map(fmt_bytes),
    );
    summary(&mut out, rows, &libs);
    let wrong: Vec<&Row> = rows
        .iter()
        .filter(|r| matches!(r.status, Status::Wrong(_)))
        .collect();
    if !wrong.is_empty() {
        let _ = writeln!(out, "\n### Wrong results\n");
        for r in wrong {
            if let Status::Wrong(m) = &r.status {
                let _ = writeln!(out, "- {} {}: {m}", r.id, r.lib);
            }
        }
    }
    out
}

/// A figure compared in the summary: the `Doc`'s and the other library's (usually the same),
/// and whether a capped row's cap counts as a lower bound of the other's figure (times only).
struct Compared {
    title: &'static str,
    ours: fn(&Row) -> Option<f64>,
    theirs: fn(&Row) -> Option<f64>,
    capped_bound: bool,
}

/// The other side's figure: the value, and whether it is only a lower bound (the row was
/// stopped at the time cap, so its time is more than the cap).
fn their_figure(r: &Row, c: &Compared) -> Option<(f64, bool)> {
    match r.status {
        Status::Ok => (c.theirs)(r).map(|v| (v, false)),
        Status::Capped if c.capped_bound => Some((r.cap.as_secs_f64(), true)),
        _ => None,
    }
}

fn time_metric(r: &Row) -> Option<f64> {
    r.median().map(|d| d.as_secs_f64())
}

fn doc_bytes_metric(r: &Row) -> Option<f64> {
    r.extra.doc_bytes.map(|b| b as f64)
}

fn history_bytes_metric(r: &Row) -> Option<f64> {
    r.extra.history_bytes.map(|b| b as f64)
}

fn load_read_metric(r: &Row) -> Option<f64> {
    r.extra.load_read.map(|d| d.as_secs_f64())
}

fn heap_metric(r: &Row) -> Option<f64> {
    r.extra.mem.map(|b| b as f64)
}

/// The summary: for each figure, the converge `Doc`'s value over the engine's and each
/// peer's, per workload, and the geometric mean of each column over the workloads where both
/// have a figure (capped peers left out of the mean).
fn summary(out: &mut String, rows: &[Row], libs: &[&'static str]) {
    // The libraries the Doc shares a workload with.
    let others: Vec<&str> = libs
        .iter()
        .copied()
        .filter(|l| {
            *l != DOC
                && ids(rows)
                    .iter()
                    .any(|(id, _)| find(rows, id, DOC).is_some() && find(rows, id, l).is_some())
        })
        .collect();
    if !rows.iter().any(|r| r.lib == DOC) || others.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n## Summary: converge Doc ÷ engine and ÷ each peer\n\n\
         Each cell is the `Doc` row's figure divided by the other library's on the same \
         workload: below 1 means the `Doc` is faster or smaller. `< r`: the other library was \
         stopped at the time cap, so the ratio is at most this. `–`: no figure on one side. \
         The last row is the geometric mean of the column (bounds left out)."
    );
    let same = |title, metric: fn(&Row) -> Option<f64>, capped_bound| Compared {
        title,
        ours: metric,
        theirs: metric,
        capped_bound,
    };
    let compared = [
        same("Time (median)", time_metric, true),
        same(
            "Encoded document size (`save()` bytes for the Doc)",
            doc_bytes_metric,
            false,
        ),
        Compared {
            title: "Doc `save()` bytes ÷ the other's history-only export (where it has one)",
            ours: doc_bytes_metric,
            theirs: history_bytes_metric,
            capped_bound: false,
        },
        same("Load + first read", load_read_metric, false),
        same("Heap held by the loaded document", heap_metric, false),
    ];
    for c in &compared {
        let mut lines = Vec::new();
        let mut logs: Vec<Vec<f64>> = vec![Vec::new(); others.len()];
        for (id, _) in ids(rows) {
            let Some(ours) = find(rows, &id, DOC).filter(|r| r.status == Status::Ok) else {
                continue;
            };
            let Some(ours) = (c.ours)(ours) else {
                continue;
            };
            let cells: Vec<String> = others
                .iter()
                .zip(&mut logs)
                .map(
                    |(l, log)| match find(rows, &id, l).and_then(|r| their_figure(r, c)) {
                        Some((theirs, bound)) if theirs > 0.0 => {
                            let ratio = ours / theirs;
                            if bound {
                                format!("< {}", fmt_ratio(ratio))
                            } else {
                                log.push(ratio.ln());
                                format!("{}×", fmt_ratio(ratio))
                            }
                        }
                        _ => "–".into(),
                    },
                )
                .collect();
            if cells.iter().any(|c| c != "–") {
                lines.push(format!("| {id} | {} |", cells.join(" | ")));
            }
        }
        if lines.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n### {}\n", c.title);
        let head: Vec<String> = others
            .iter()
            .map(|l| match *l {
                ENGINE => "÷ engine".to_string(),
                l => format!("÷ {l}"),
            })
            .collect();
        let _ = writeln!(out, "| workload | {} |", head.join(" | "));
        let _ = writeln!(out, "| --- |{}", " ---: |".repeat(others.len()));
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
        let means: Vec<String> = logs
            .iter()
            .map(|log| {
                if log.is_empty() {
                    "–".into()
                } else {
                    let mean = (log.iter().sum::<f64>() / log.len() as f64).exp();
                    format!("**{}×** ({})", fmt_ratio(mean), log.len())
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "| geometric mean (workloads) | {} |",
            means.join(" | ")
        );
    }
}

fn color(lib: &str) -> &'static str {
    match lib {
        "diamond-types" => "#4e79a7",
        "yrs" => "#f28e2b",
        "loro" => "#59a14f",
        "automerge" => "#e15759",
        "crdts" => "#b07aa1",
        ENGINE => "#333333",
        DOC => "#9c755f",
        _ => "#888888",
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A horizontal bar chart, log scale: for each workload and peer, peer time / `subject` time
/// (how many times faster `subject`, [`ENGINE`] or [`DOC`], is). Capped peers get an open bar
/// to the cap's ratio. The engine's chart leaves the `Doc` out; the `Doc`'s shows the engine
/// as one more bar.
pub fn svg(rows: &[Row], meta: &Meta, subject: &str) -> String {
    let peers: Vec<&str> = libs_present(rows)
        .into_iter()
        .filter(|l| *l != subject && *l != DOC)
        .collect();
    let (left, width, bar, gap, top) = (250.0, 620.0, 9.0, 10.0, 85.0);
    let (lo, hi) = (0.1f64, 10_000.0f64);
    let x = |r: f64| left + width * (r.clamp(lo, hi).log10() - lo.log10()) / (hi / lo).log10();
    let mut body = String::new();
    let mut y = top;
    for (id, name) in ids(rows) {
        let Some(ours) = find(rows, &id, subject).and_then(ok_median) else {
            continue;
        };
        let bars: Vec<(&str, f64, bool)> = peers
            .iter()
            .filter_map(|p| {
                let r = find(rows, &id, p)?;
                match r.status {
                    Status::Ok => Some((*p, r.median()?.as_secs_f64() / ours.as_secs_f64(), false)),
                    Status::Capped => Some((*p, r.cap.as_secs_f64() / ours.as_secs_f64(), true)),
                    Status::HeapCapped(_) | Status::Wrong(_) => None,
                }
            })
            .collect();
        if bars.is_empty() {
            continue;
        }
        let h = bars.len() as f64 * bar;
        let label: String = format!("{id} {name}").chars().take(44).collect();
        let _ = writeln!(
            body,
            r#"<text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end" dominant-baseline="middle">{}</text>"#,
            left - 6.0,
            y + h / 2.0,
            esc(&label)
        );
        for (i, (p, ratio, capped)) in bars.iter().enumerate() {
            let by = y + i as f64 * bar;
            let (x0, x1) = (x(1.0).min(x(*ratio)), x(1.0).max(x(*ratio)));
            let style = if *capped {
                format!(
                    r#"fill="none" stroke="{}" stroke-dasharray="3,2""#,
                    color(p)
                )
            } else {
                format!(r#"fill="{}""#, color(p))
            };
            let _ = writeln!(
                body,
                r#"<rect x="{x0:.1}" y="{:.1}" width="{:.1}" height="{:.1}" {style}><title>{p}: {}{}×</title></rect>"#,
                by + 0.5,
                (x1 - x0).max(0.5),
                bar - 1.0,
                if *capped { "> " } else { "" },
                fmt_ratio(*ratio)
            );
        }
        y += h + gap;
    }
    let height = y + 30.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{:.0}" height="{height:.0}" font-family="sans-serif">"#,
        left + width + 30.0
    );
    let _ = writeln!(
        out,
        r#"<rect width="100%" height="100%" fill="white"/><text x="10" y="18" font-size="13" font-weight="bold">How many times faster {subject} is than each peer (peer time / {subject} time, log scale) — {} {}</text>"#,
        meta.date,
        if meta.smoke { "(smoke)" } else { "" }
    );
    for (i, p) in peers.iter().enumerate() {
        let lx = 10.0 + i as f64 * 120.0;
        let _ = writeln!(
            out,
            r#"<rect x="{lx}" y="30" width="10" height="10" fill="{}"/><text x="{}" y="39" font-size="11">{p}</text>"#,
            color(p),
            lx + 14.0
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="10" y="58" font-size="11">Right of 1×: {subject} is faster. Dashed: the peer was stopped at the time cap (it is at least this much slower).</text>"#
    );
    let mut tick = lo;
    while tick <= hi * 1.001 {
        let tx = x(tick);
        let strong = (tick - 1.0).abs() < 1e-9;
        let _ = writeln!(
            out,
            r#"<line x1="{tx:.1}" y1="{}" x2="{tx:.1}" y2="{:.1}" stroke="{}" stroke-width="{}"/><text x="{tx:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}×</text>"#,
            top - 8.0,
            y,
            if strong { "#000" } else { "#ddd" },
            if strong { 1.5 } else { 1.0 },
            y + 14.0,
            if tick < 1.0 {
                format!("{tick:.1}")
            } else {
                format!("{tick:.0}")
            }
        );
        tick *= 10.0;
    }
    out.push_str(&body);
    out.push_str("</svg>\n");
    out
}
