//! The uniffi code generator, built from the same uniffi version as the library so the
//! generated checksums match: `cargo run -p converge-ffi --features cli --bin uniffi-bindgen`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
