//! The benchmark binaries' smoke runs (tiny inputs, every result verified, nothing written),
//! run as tests so they use the binaries `cargo test` builds anyway: a separate `cargo run`
//! resolves the dependencies' features differently and compiles every peer a second time.

use std::process::Command;

fn smoke(exe: &str, args: &[&str]) {
    let out = Command::new(exe)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{exe} could not start: {e}"));
    assert!(
        out.status.success(),
        "{exe} {args:?} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn compare_smoke_verifies_every_workload() {
    smoke(env!("CARGO_BIN_EXE_compare"), &["--smoke"]);
}

#[test]
fn concurrent_report_smoke() {
    smoke(env!("CARGO_BIN_EXE_concurrent_report"), &["--smoke"]);
}

#[test]
fn load_compare_smoke() {
    smoke(env!("CARGO_BIN_EXE_load_compare"), &["--smoke"]);
}
