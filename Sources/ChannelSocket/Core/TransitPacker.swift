public import EDN
public import Transit

/// Sente's Transit packer (`taoensso.sente.packers.transit`): each payload is one Transit
/// value, written and read with a fresh cache. JSON and JSON-verbose payloads are text,
/// MessagePack payloads binary (Sente itself ships only the JSON kinds).
public struct TransitPacker: Packer {
    /// The Transit encoding.
    public let format: TransitFormat
    /// Writer settings (custom write handlers, cache length unit).
    public var writerOptions: TransitWriter.Options
    /// Reader settings (custom read handlers, nesting limit, cache length unit).
    public var readerOptions: TransitReader.Options

    /// A Transit packer for one encoding.
    public init(format: TransitFormat, writerOptions: TransitWriter.Options = TransitWriter.Options(),
                readerOptions: TransitReader.Options = TransitReader.Options()) {
        self.format = format
        self.writerOptions = writerOptions
        self.readerOptions = readerOptions
    }

    /// `transit-json`, `transit-json-verbose` or `transit-msgpack`.
    public var name: String { "transit-" + format.rawValue }
    /// True for MessagePack (binary WebSocket frames), false for the JSON kinds.
    public var isBinary: Bool { format.isBinary }

    /// The Transit payload of one value (a top-level scalar is quoted, `["~#'", x]`).
    /// Throws `TransitError` for values nested deeper than the writer's limit.
    public func pack(_ value: EDNValue) throws -> [UInt8] {
        try TransitWriter(format: format, options: writerOptions).write(value)
    }

    /// The value of one payload; throws `TransitError` (with a position) for bad input.
    public func unpack(_ payload: [UInt8]) throws -> EDNValue { try read(payload, extraDepth: 0) }

    /// `unpack` with one more level allowed, for the frame's vector.
    public func unpackFrame(_ payload: [UInt8]) throws -> EDNValue { try read(payload, extraDepth: 1) }

    private func read(_ payload: [UInt8], extraDepth: Int) throws -> EDNValue {
        var options = readerOptions
        options.maxDepth += extraDepth
        return try TransitReader(format: format, options: options).read(payload)
    }

    /// A reader of a stream of payloads (one per line for JSON, concatenated for MessagePack).
    public func streamReader(_ bytes: [UInt8]) -> TransitStreamReader {
        TransitStreamReader(bytes, format: format, options: readerOptions)
    }
}

extension TransitPacker: TapeUnpacker {
    /// `read`'s tape (`TransitDecoder`'s, with the same options).
    func unpackTape(_ payload: [UInt8], frame: Bool) throws -> ValueTape {
        var options = readerOptions
        options.maxDepth += frame ? 1 : 0
        return try TransitDecoder(format: format, options: options).tape(payload)
    }
}
