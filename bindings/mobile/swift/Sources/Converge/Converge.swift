// The thin Swift layer over the uniffi-generated bindings (ConvergeFFI): host idiom only.
// Written against the generated API but not compiled where it is generated (no Swift compiler
// there); `swift test` on macOS builds and tests it.
@_exported import ConvergeFFI
import Foundation

extension Value {
    /// A Swift value as a converge value: nil, Bool, Int, Int64, Double, String or Data.
    public init(_ x: Any?) {
        switch x {
        case nil: self = .null
        case let v as Value: self = v
        case let b as Bool: self = .bool(value: b)
        case let i as Int: self = .int(value: Int64(i))
        case let i as Int64: self = .int(value: i)
        case let d as Double: self = .float(value: d)
        case let s as String: self = .str(value: s)
        case let d as Data: self = .bytes(value: d)
        default: preconditionFailure("no converge value for \(type(of: x!))")
        }
    }

    /// This value as a plain Swift value (nil, Bool, Int64, Double, String or Data).
    public var swiftValue: Any? {
        switch self {
        case .null: return nil
        case let .bool(value): return value
        case let .int(value): return value
        case let .float(value): return value
        case let .str(value): return value
        case let .bytes(value): return value
        }
    }
}

extension ConvergeError {
    /// The stable error code (`"DECODE"`, `"OUT_OF_BOUNDS"`, ...), the same in every binding.
    public var code: String {
        switch self {
        case .Decode: return "DECODE"
        case .OutOfBounds: return "OUT_OF_BOUNDS"
        case .InvalidPosition: return "INVALID_POSITION"
        case .WrongKind: return "WRONG_KIND"
        case .UnknownContainer: return "UNKNOWN_CONTAINER"
        case .InvalidUpdate: return "INVALID_UPDATE"
        case .Conflict: return "CONFLICT"
        case .BudgetExceeded: return "BUDGET_EXCEEDED"
        case .TooDeep: return "TOO_DEEP"
        case .TransactionOpen: return "TRANSACTION_OPEN"
        case .NoTransaction: return "NO_TRANSACTION"
        case let .Other(message): return String(message.prefix { $0 != ":" })
        }
    }
}

extension Doc {
    /// Runs `body` in a transaction: its edits commit as one update and one change event, or
    /// are rolled back if it throws.
    @discardableResult
    public func transact<T>(_ body: () throws -> T) throws -> T {
        try begin()
        do {
            let result = try body()
            _ = try commit()
            return result
        } catch {
            rollback()
            throw error
        }
    }

    /// Calls `handler` with every change event from now on, after the call that caused it
    /// returns (on that call's thread). Cancel the returned token to stop.
    public func onChange(_ handler: @escaping @Sendable (ChangeEvent) -> Void) -> Subscription {
        Subscription(doc: self, id: subscribe(listener: ClosureListener(handler)))
    }
}

/// A change-listener registration; stops when cancelled or deinitialized.
public final class Subscription {
    private let doc: Doc
    private let id: UInt64

    init(doc: Doc, id: UInt64) {
        self.doc = doc
        self.id = id
    }

    /// Stops delivering events.
    public func cancel() { _ = doc.unsubscribe(id: id) }

    deinit { cancel() }
}

private final class ClosureListener: ChangeListener, @unchecked Sendable {
    let handler: @Sendable (ChangeEvent) -> Void
    init(_ handler: @escaping @Sendable (ChangeEvent) -> Void) { self.handler = handler }
    func onChange(event: ChangeEvent) { handler(event) }
}

extension DocText {
    /// The text's content (empty if it cannot be read).
    public var string: String { (try? value()) ?? "" }

    /// Applies `patches` in order in one call: one transaction (or the open one), one event.
    /// If a patch fails, none is applied (inside a transaction too). Positions count Unicode
    /// scalar values, as `splice` does. The patches cross the FFI as one byte buffer (the
    /// format of the Rust crate's `src/edits.rs`), not as a list of records.
    public func applyPatches(patches: [TextPatch]) throws {
        var out = Data()
        out.reserveCapacity(patches.count * 8)
        for p in patches {
            guard p.pos >= 0 else { throw ConvergeError.OutOfBounds(message: "position \(p.pos) is negative") }
            guard p.delete >= 0 else { throw ConvergeError.OutOfBounds(message: "delete \(p.delete) is negative") }
            let utf8 = Array(p.insert.utf8)
            appendVarint(&out, UInt64(p.pos))
            appendVarint(&out, UInt64(p.delete))
            appendVarint(&out, UInt64(utf8.count))
            out.append(contentsOf: utf8)
        }
        try applyPatchesEncoded(patches: out)
    }
}

/// One text edit for `DocText.applyPatches`: delete `delete` scalars at `pos`, then insert
/// `insert` there.
public struct TextPatch: Equatable, Hashable, Sendable {
    public var pos: Int32
    public var delete: Int32
    public var insert: String

    public init(pos: Int32, delete: Int32, insert: String) {
        self.pos = pos
        self.delete = delete
        self.insert = insert
    }
}

/// Unsigned LEB128, as `src/edits.rs` reads it.
private func appendVarint(_ out: inout Data, _ value: UInt64) {
    var v = value
    while v >= 0x80 {
        out.append(UInt8(truncatingIfNeeded: v) | 0x80)
        v >>= 7
    }
    out.append(UInt8(v))
}

extension DocCounter {
    /// The counter's value.
    public var count: Int64 { (try? value()) ?? 0 }
}

extension Item {
    /// The nested text, if this item is one.
    public var text: DocText? { if case let .text(t) = self { return t } else { return nil } }
    /// The nested map, if this item is one.
    public var map: DocMap? { if case let .map(m) = self { return m } else { return nil } }
    /// The nested list, if this item is one.
    public var list: DocList? { if case let .list(l) = self { return l } else { return nil } }
    /// The scalar, if this item is one.
    public var scalar: Value? { if case let .scalar(v) = self { return v } else { return nil } }
}
