public import EDN

/// The two generations of Sente's wire framing.
public enum WireGeneration: String, Sendable, CaseIterable {
    /// Sente ≤ 1.16 (the 1.14 line): `-payload` plain, `+payload` = `[value cb-id]`.
    case v1
    /// Sente 1.18+: every message is `[value cb-id-or-nil]`, no prefix.
    case v2
}

/// One framed message: a value and, when a reply is wanted, its callback id.
public struct Frame: Sendable, Equatable {
    /// The event, reply or batch carried.
    public var value: EDNValue
    /// The callback id (`"a1b2c3"`, `0`, `:ajax`) or `nil` when no reply is wanted.
    public var callbackID: EDNValue?
    /// The framing the message used.
    public var generation: WireGeneration

    /// A frame.
    public init(value: EDNValue, callbackID: EDNValue? = nil, generation: WireGeneration) {
        self.value = value
        self.callbackID = callbackID
        self.generation = generation
    }
}

/// Why a framed message could not be unpacked.
public struct FramingError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public let message: String
    /// The packer's own error, when the payload itself was unreadable.
    public let underlying: (any Error)?

    /// A framing error.
    public init(_ message: String, underlying: (any Error)? = nil) {
        self.message = message
        self.underlying = underlying
    }

    public var description: String {
        if let underlying { return "\(message): \(underlying)" }
        return message
    }
}

/// Sente's message framing (sente-protocol.md §4.2, §4.3).
public enum Framing {
    /// Packs `value` in the given generation's framing.
    ///
    /// - v1: `-` + pack(value) without a callback id (unless `alwaysWrap`, which is how a
    ///   1.14 client sends everything: `+[value]`), else `+` + pack([value cb]).
    /// - v2: pack([value cb-or-nil]).
    public static func pack(_ value: EDNValue, callbackID: EDNValue? = nil, generation: WireGeneration,
                            packer: some Packer, alwaysWrap: Bool = false) throws -> [UInt8] {
        switch generation {
        case .v1:
            if let callbackID {
                return try packer.packFramed(value, pairedWith: callbackID, prefix: UInt8(ascii: "+"))
            }
            if alwaysWrap { return [UInt8(ascii: "+")] + (try packer.pack(.vector([value]))) }
            return try packer.packFramed(value, pairedWith: nil, prefix: UInt8(ascii: "-"))
        case .v2:
            return try packer.packFramed(value, pairedWith: callbackID ?? .null, prefix: nil)
        }
    }

    /// The generation a message was framed in: a leading `+` or `-` means v1, anything else v2.
    /// (Text packers only: a v2 EDN or Transit payload never starts with `+` or `-`.)
    public static func detectGeneration(_ payload: [UInt8]) -> WireGeneration {
        guard let first = payload.first else { return .v2 }
        return first == UInt8(ascii: "+") || first == UInt8(ascii: "-") ? .v1 : .v2
    }

    /// Unpacks a framed message, detecting the generation unless one is given.
    ///
    /// v1 follows the 1.14 reader exactly: the first character is always dropped; with `+`
    /// the value is destructured as `[value cb]`. v2 destructures `[value cb]`; a 1-element
    /// vector (1.18–1.20 writers) reads as no callback.
    public static func unpack(_ payload: [UInt8], generation: WireGeneration? = nil, packer: some Packer) throws(FramingError) -> Frame {
        let gen = generation ?? detectGeneration(payload)
        switch gen {
        case .v1:
            guard let first = payload.first else { throw FramingError("Empty v1 message (no +/- prefix)") }
            let body = Array(payload.dropFirst())
            let value: EDNValue
            do { value = try first == UInt8(ascii: "+") ? packer.unpackFrame(body) : packer.unpack(body) } catch {
                throw FramingError("Unreadable \(packer.name) payload", underlying: error)
            }
            if first == UInt8(ascii: "+") {
                guard let items = value.sequenceElements, !items.isEmpty else {
                    throw FramingError("A +-wrapped v1 message must hold [value cb-id], got \(value.kindName)")
                }
                let cb: EDNValue? = items.count > 1 ? .some(items[1]) : .none
                return Frame(value: items[0], callbackID: nonNil(cb), generation: .v1)
            }
            return Frame(value: value, callbackID: nil, generation: .v1)
        case .v2:
            let value: EDNValue
            do { value = try packer.unpackFrame(payload) } catch {
                throw FramingError("Unreadable \(packer.name) payload", underlying: error)
            }
            guard case .vector(let items) = value, !items.isEmpty else {
                throw FramingError("A v2 message must be [value cb-id-or-nil], got \(value.kindName)")
            }
            let cb: EDNValue? = items.count > 1 ? .some(items[1]) : .none
            return Frame(value: items[0], callbackID: nonNil(cb), generation: .v2)
        }
    }
}

/// A framed message read to a tape (`Framing.unpackTape`): the tape, the node of the frame's
/// value on it, and the callback id.
struct TapeFrame {
    let tape: ValueTape
    let node: Int
    let callbackID: EDNValue?
}

extension Framing {
    /// `unpack` through a packer's tape reader: the same rules, bounds and errors, but the
    /// message is read once into a flat tape and the value stays on it (the client's path to
    /// typed replies and pushes without an `EDNValue` tree). A frame the tape holds as one
    /// value node (a Transit `~#list`, EDN metadata, …) is destructured as `unpack` does and
    /// its value put on a tape of its own.
    static func unpackTape(_ payload: [UInt8], generation: WireGeneration, reader: any TapeUnpacker,
                           packerName: String) throws(FramingError) -> TapeFrame {
        func read(_ bytes: [UInt8], frame: Bool) throws(FramingError) -> ValueTape {
            do { return try reader.unpackTape(bytes, frame: frame) } catch {
                throw FramingError("Unreadable \(packerName) payload", underlying: error)
            }
        }
        switch generation {
        case .v1:
            guard let first = payload.first else { throw FramingError("Empty v1 message (no +/- prefix)") }
            let isFrame = first == UInt8(ascii: "+")
            let tape = try read(Array(payload.dropFirst()), frame: isFrame)
            guard isFrame else { return TapeFrame(tape: tape, node: 0, callbackID: nil) }
            switch tape.nodes[0] {
            case .vector(let n, _) where n > 0, .list(let n, _) where n > 0:
                return TapeFrame(tape: tape, node: 1, callbackID: n > 1 ? nonNil(tape.materialize(tape.end(of: 1))) : nil)
            case .scalar(let value):
                if let items = value.sequenceElements, !items.isEmpty {
                    return TapeFrame(tape: ValueTape(tree: items[0]), node: 0, callbackID: items.count > 1 ? nonNil(items[1]) : nil)
                }
            default: break
            }
            throw FramingError("A +-wrapped v1 message must hold [value cb-id], got \(tape.materialize(0).kindName)")
        case .v2:
            let tape = try read(payload, frame: true)
            switch tape.nodes[0] {
            case .vector(let n, _) where n > 0:
                return TapeFrame(tape: tape, node: 1, callbackID: n > 1 ? nonNil(tape.materialize(tape.end(of: 1))) : nil)
            case .scalar(.vector(let items)) where !items.isEmpty:
                return TapeFrame(tape: ValueTape(tree: items[0]), node: 0, callbackID: items.count > 1 ? nonNil(items[1]) : nil)
            default:
                throw FramingError("A v2 message must be [value cb-id-or-nil], got \(tape.materialize(0).kindName)")
            }
        }
    }
}

/// `nil` for a missing callback id or one that is EDN `nil`.
func nonNil(_ v: EDNValue?) -> EDNValue? {
    guard let v, !v.isNull else { return Optional<EDNValue>.none }
    return v
}
