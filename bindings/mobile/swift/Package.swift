// swift-tools-version:5.9
// converge for Swift (iOS, macOS): the uniffi-generated bindings (Sources/ConvergeFFI,
// Sources/ConvergeFFIC, written by ../generate.sh) and a thin Swift layer (Sources/Converge).
//
// Not compiled on the machines this package is generated on (no Swift compiler there). On
// macOS: `cargo build --release -p converge-ffi` at the repository root, then `swift test`
// here; the linker finds libconverge_ffi in ../../../target/release (override with
// CONVERGE_LIB_DIR). For an app, build an XCFramework instead (see ../README.md).
import PackageDescription
import Foundation

let libDir = ProcessInfo.processInfo.environment["CONVERGE_LIB_DIR"]
    ?? "\(Context.packageDirectory)/../../../target/release"

let package = Package(
    name: "Converge",
    platforms: [.macOS(.v12), .iOS(.v15)],
    products: [
        .library(name: "Converge", targets: ["Converge"]),
    ],
    targets: [
        // The C header and module map of the Rust library's exported functions.
        .target(
            name: "ConvergeFFIC",
            path: "Sources/ConvergeFFIC",
            linkerSettings: [
                .unsafeFlags(["-L\(libDir)"]),
                .linkedLibrary("converge_ffi"),
            ]
        ),
        // The uniffi-generated Swift (do not edit: regenerated and drift-checked by test.sh).
        .target(name: "ConvergeFFI", dependencies: ["ConvergeFFIC"], path: "Sources/ConvergeFFI"),
        // The thin, hand-written Swift layer.
        .target(name: "Converge", dependencies: ["ConvergeFFI"], path: "Sources/Converge"),
        .testTarget(name: "ConvergeTests", dependencies: ["Converge"], path: "Tests/ConvergeTests"),
    ]
)
