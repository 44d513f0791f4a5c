public import EDN

/// Converts values to a wire payload and back: Sente's packer interface. Both ends of a
/// channel socket must use the same packer; nothing on the wire says which one is in use.
public protocol Packer: Sendable {
    /// A short name (`edn`, `transit-json`, …), as the CLI's `--packer` spells it.
    var name: String { get }
    /// True when payloads are binary (WebSocket binary frames), false for text.
    var isBinary: Bool { get }
    /// The payload for one value.
    func pack(_ value: EDNValue) throws -> [UInt8]
    /// The value of one payload, read as the peer's packer reads it.
    func unpack(_ payload: [UInt8]) throws -> EDNValue
    /// `prefix` (if any), then the payload of `value`, or of the pair `[value second]` when
    /// `second` is given: what `Framing` sends. The default packs and then concatenates; a
    /// packer can write it in one buffer.
    func packFramed(_ value: EDNValue, pairedWith second: EDNValue?, prefix: UInt8?) throws -> [UInt8]
    /// The value of a payload that is a frame, `[value cb-id]` (every v2 message, a v1 `+`
    /// message): like `unpack`, but the frame's own vector does not count against a nesting
    /// bound, so a value unpacks the same whether it came as `-value`, `+[value]` or
    /// `[value nil]`. The default is `unpack`.
    func unpackFrame(_ payload: [UInt8]) throws -> EDNValue
}

extension Packer {
    public func packFramed(_ value: EDNValue, pairedWith second: EDNValue?, prefix: UInt8?) throws -> [UInt8] {
        let payload = try pack(second.map { .vector([value, $0]) } ?? value)
        guard let prefix else { return payload }
        return [prefix] + payload
    }

    public func unpackFrame(_ payload: [UInt8]) throws -> EDNValue { try unpack(payload) }
}

/// A packer that can also read a payload straight into a flat `ValueTape` (the byte decoders'
/// form), with exactly the bounds, errors and results of its `unpack` (`frame` false) or
/// `unpackFrame` (`frame` true): the engine's path to typed handlers without an `EDNValue`
/// tree. `EDNPacker` and `TransitPacker` have it; other packers go through `unpack`.
protocol TapeUnpacker: Sendable {
    /// The tape of a payload; `frame` allows the frame vector's extra level, as `unpackFrame`.
    func unpackTape(_ payload: [UInt8], frame: Bool) throws -> ValueTape
}

/// Sente's default `:edn` packer: Clojure's `pr-str` to write, tools.reader's `read-string` to
/// read (one form; whatever follows it is ignored; empty input reads as `nil`).
public struct EDNPacker: Packer {
    /// Reader settings for incoming payloads.
    public var readerOptions: EDNReader.Options

    /// An EDN packer.
    public init(readerOptions: EDNReader.Options = EDNReader.Options()) {
        self.readerOptions = readerOptions
    }

    public var name: String { "edn" }
    public var isBinary: Bool { false }

    /// `pr-str`'s text; throws `EDNPrintError` for a value whose text would not read back
    /// (the keyword `:`, an `#inst` past year 9999, …): a peer could not read it.
    public func pack(_ value: EDNValue) throws -> [UInt8] { try EDNPrinter.checkedBytes(value) }

    /// `pr-str` of `[value second]` is `[`, the two printed with a space between, `]`.
    public func packFramed(_ value: EDNValue, pairedWith second: EDNValue?, prefix: UInt8?) throws -> [UInt8] {
        try EDNPrinter.checkReadable(value)
        if let second { try EDNPrinter.checkReadable(second) }
        var out: [UInt8] = []
        out.reserveCapacity(64)
        if let prefix { out.append(prefix) }
        if let second {
            out.append(UInt8(ascii: "["))
            EDNPrinter.write(value, into: &out)
            out.append(UInt8(ascii: " "))
            EDNPrinter.write(second, into: &out)
            out.append(UInt8(ascii: "]"))
        } else {
            EDNPrinter.write(value, into: &out)
        }
        return out
    }

    public func unpack(_ payload: [UInt8]) throws -> EDNValue { try read(payload, extraDepth: 0) }

    /// `unpack` with one more level allowed, for the frame's vector.
    public func unpackFrame(_ payload: [UInt8]) throws -> EDNValue { try read(payload, extraDepth: 1) }

    private func read(_ payload: [UInt8], extraDepth: Int) throws -> EDNValue {
        var options = readerOptions
        options.maxDepth += extraDepth
        var reader = EDNReader(payload, options: options)
        return try reader.next() ?? .null
    }
}

extension EDNPacker: TapeUnpacker {
    /// `read`'s tape: one form, the rest ignored, empty as `nil`.
    func unpackTape(_ payload: [UInt8], frame: Bool) throws -> ValueTape {
        var options = readerOptions
        options.maxDepth += frame ? 1 : 0
        return try ValueTape.firstEDNForm(payload, options: options)
    }
}
