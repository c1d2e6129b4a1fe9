// XCTest tests for the Swift package. Written against the generated API and the thin layer;
// run on macOS with `swift test` (no Swift compiler where the bindings are generated).
import Converge
import Foundation
import XCTest

final class ConvergeTests: XCTestCase {
    func testTextEdits() throws {
        let doc = Doc(replica: 1)
        let t = doc.text(name: "body")
        try t.insert(pos: 0, s: "héllo")
        try t.insert(pos: 5, s: " world")
        XCTAssertEqual(t.string, "héllo world")
        XCTAssertEqual(try t.len(), 11)
        try t.splice(pos: 0, delete: 5, insert: "HELLO")
        XCTAssertEqual(t.string, "HELLO world")
        try t.applyPatches(patches: [TextPatch(pos: 0, delete: 0, insert: ">> ")])
        XCTAssertEqual(t.string, ">> HELLO world")
    }

    func testPatchesCountScalarsAndAreAllOrNothing() throws {
        let doc = Doc(replica: 1)
        let t = doc.text(name: "t")
        try t.applyPatches(patches: [TextPatch(pos: 0, delete: 0, insert: "🙂🙂"), TextPatch(pos: 1, delete: 1, insert: "é")])
        XCTAssertEqual(t.string, "🙂é")
        let before = try doc.save()
        for bad in [TextPatch(pos: -1, delete: 0, insert: "!"), TextPatch(pos: 9, delete: 0, insert: "!")] {
            XCTAssertThrowsError(try t.applyPatches(patches: [TextPatch(pos: 0, delete: 0, insert: "z"), bad])) { error in
                XCTAssertEqual((error as? ConvergeError)?.code, "OUT_OF_BOUNDS")
            }
        }
        XCTAssertEqual(try doc.save(), before)
    }

    func testErrorsAreTypedAndLeaveTheDocUnchanged() throws {
        let doc = Doc(replica: 1)
        try doc.text(name: "t").insert(pos: 0, s: "keep")
        let before = try doc.save()
        XCTAssertThrowsError(try doc.applyUpdate(bytes: Data([0xff, 0, 1]))) { error in
            XCTAssertEqual((error as? ConvergeError)?.code, "DECODE")
        }
        XCTAssertEqual(try doc.save(), before)
        XCTAssertThrowsError(try doc.text(name: "t").insert(pos: 99, s: "x")) { error in
            guard case ConvergeError.OutOfBounds = error else { return XCTFail("\(error)") }
        }
    }

    func testSyncBetweenTwoDocs() throws {
        let a = Doc(replica: 1)
        let b = Doc(replica: 2)
        try a.map(name: "m").set(key: "k", value: Value(42))
        _ = try b.applyUpdate(bytes: try a.encodeUpdatesSince(version: nil))
        XCTAssertEqual(try b.map(name: "m").get(key: "k")?.scalar, .int(value: 42))
        try b.counter(name: "c").add(amount: 3)
        _ = try a.applyUpdate(bytes: try b.encodeUpdatesSince(version: a.version()))
        XCTAssertEqual(a.counter(name: "c").count, 3)
        XCTAssertEqual(a.version(), b.version())
        let c = try Doc.load(bytes: try a.save())
        XCTAssertEqual(c.namedRoots(), a.namedRoots())
    }

    func testTransactionsAndEvents() throws {
        let doc = Doc(replica: 1)
        let t = doc.text(name: "t")
        let events = Events()
        let sub = doc.onChange { events.append($0) }
        try doc.transact {
            try t.insert(pos: 0, s: "ab")
            try t.insert(pos: 2, s: "cd")
        }
        XCTAssertEqual(events.all.count, 1)
        XCTAssertEqual(events.all.first?.changes.first?.what, .range(start: 0, removed: 0, inserted: 4))
        sub.cancel()
        try t.insert(pos: 0, s: "x")
        XCTAssertEqual(events.all.count, 1)
    }

    func testSharedAcrossThreads() throws {
        let doc = Doc(replica: 1)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<250 { try? doc.counter(name: "c").add(amount: 1) }
        }
        XCTAssertEqual(doc.counter(name: "c").count, 1000)
    }
}

private final class Events: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [ChangeEvent] = []
    func append(_ e: ChangeEvent) { lock.lock(); events.append(e); lock.unlock() }
    var all: [ChangeEvent] { lock.lock(); defer { lock.unlock() }; return events }
}
