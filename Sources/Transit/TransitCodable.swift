public import EDN

/// Decodes `Decodable` Swift values straight from Transit bytes (JSON, JSON-verbose or
/// MessagePack), without building an `EDNValue` tree first: the bytes are read once into a
/// flat tape (see `EDNDecoder.decode(_:from:)` over bytes) that the type then reads.
///
/// The input is read exactly as `TransitReader.read(_:)` reads it with the same `options`:
/// the same syntax, bounds (`maxDepth`, `maxNumberLength`), read cache (a `"^N"` code may
/// stand for any cacheable string read before it in the message: keys, keywords, symbols,
/// tags), custom read handlers and errors (`TransitError`, with a position); duplicate map
/// keys keep the last value, as the reader does. A value of the wrong shape for `T` is a
/// `DecodingError` naming its `codingPath`.
///
/// Transit maps onto Swift as EDN does (`EDNDecoder`): `~:kw` keys or plain string keys to
/// struct fields, `~:kw` values to `Keyword`, `~$` to `Symbol`, `~m`/`~t` to `Instant`, `~u`
/// to `EDNUUID`, `~n` to `BigInteger` (or any integer type that holds it), `~f` to
/// `BigDecimal`, ratios to `Ratio`, sets (`~#set`) and lists to arrays or `Set`.
///
/// ```swift
/// struct Chat: Codable { var room: String; var text: String }
/// let chat = try TransitDecoder(format: .json).decode(Chat.self, from: Array(#"["^ ","~:room","lobby","~:text","hi"]"#.utf8))
/// ```
public struct TransitDecoder: Sendable {
    /// The encoding read (`.json` and `.jsonVerbose` read the same way).
    public let format: TransitFormat
    /// Reader settings (bounds, custom read handlers, cache length unit).
    public var options: TransitReader.Options

    /// A decoder for one encoding.
    public init(format: TransitFormat, options: TransitReader.Options = TransitReader.Options()) {
        self.format = format
        self.options = options
    }

    /// Decodes the one Transit value of `bytes` as a `T`.
    public func decode<T: Decodable, Bytes: Collection<UInt8>>(_ type: T.Type, from bytes: Bytes) throws -> T {
        let tape: ValueTape
        if let t = try bytes.withContiguousStorageIfAvailable({ buffer throws(TransitError) in try read(buffer) }) {
            tape = t
        } else {
            tape = try Array(bytes).withUnsafeBufferPointer { buffer throws(TransitError) in try read(buffer) }
        }
        return try TapeDecoder.decode(type, from: tape)
    }

    /// Decodes a value already read (`EDNDecoder`'s tree path).
    public func decode<T: Decodable>(_ type: T.Type, from value: EDNValue) throws -> T {
        try EDNDecoder().decode(type, from: value)
    }

    /// The tape of the one Transit value of `bytes`, read as `TransitReader.read(_:)` reads
    /// it with the same options (bounds, cache, handlers, errors): what `decode(_:from:)`
    /// decodes from.
    package func tape(_ bytes: [UInt8]) throws(TransitError) -> ValueTape {
        try bytes.withUnsafeBufferPointer { buffer throws(TransitError) in try read(buffer) }
    }

    func read(_ buffer: UnsafeBufferPointer<UInt8>) throws(TransitError) -> ValueTape {
        var tape = ValueTape(inputBytes: buffer.count)
        if format == .msgpack {
            var p = MsgpackDecoder(buffer: buffer, position: 0, options: options)
            guard buffer.count > 0 else {
                throw TransitError(kind: .unexpectedEnd, message: "No Transit value in the input", offset: 0)
            }
            p.cache.reset()
            try p.tapeValue(depth: 0, into: &tape)
            if p.position < buffer.count {
                throw TransitError(kind: .trailingInput, message: "Input continues after the first value", offset: p.position)
            }
        } else {
            var p = JSONDecoder(buffer: buffer, position: 0, options: options)
            p.skipWhitespace()
            guard p.position < buffer.count else {
                throw p.fail(.unexpectedEnd, "No Transit value in the input", at: buffer.count)
            }
            p.cache.reset()
            try p.tapeValue(depth: 0, into: &tape)
            let end = p.position
            p.skipWhitespace()
            if p.position < buffer.count {
                throw p.fail(.trailingInput, "Input continues after the first value", at: end)
            }
        }
        return tape
    }
}

/// Encodes `Encodable` Swift values as Transit bytes: `EDNEncoder`'s value (struct fields as
/// keyword keys by default), written by `TransitWriter`.
///
/// ```swift
/// let bytes = try TransitEncoder(format: .json).encode(Chat(room: "lobby", text: "hi"))
/// // ["^ ","~:room","lobby","~:text","hi"]
/// ```
public struct TransitEncoder: Sendable {
    /// The encoding written.
    public let format: TransitFormat
    /// Writer settings.
    public var options: TransitWriter.Options
    /// How coding keys are written (keywords by default).
    public var keyEncoding: EDNEncoder.KeyEncoding = .keyword

    /// An encoder for one encoding.
    public init(format: TransitFormat, options: TransitWriter.Options = TransitWriter.Options()) {
        self.format = format
        self.options = options
    }

    /// The Transit bytes of a value.
    public func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        var encoder = EDNEncoder()
        encoder.keyEncoding = keyEncoding
        return try TransitWriter(format: format, options: options).write(encoder.encode(value))
    }
}

/// The map at `at` on the tape, just read: nil when the tape holds it natively (distinct
/// scalar keys), else the map made as the tree readers make it (a later duplicate replaces
/// the value of the first), collapsed into one node.
func closeTransitMap(_ tape: inout ValueTape, at: Int, count: Int) -> EDNMap? {
    tape.nodes[at] = .map(count: count, end: tape.nodes.count)
    if tape.keys(ofMapAt: at, count: count, allSatisfy: TransitWriting.isScalar),
       tape.firstDuplicateKey(ofMapAt: at, count: count) == nil {
        return nil
    }
    return tape.collapse(at) { entries in EDNMap(interleaved: entries) }
}

extension JSONDecoder {
    /// `value(depth:)` onto the tape: arrays, `["^ ", …]` maps and JSON objects as tape
    /// collections, everything else (scalars, tagged values) as one node.
    mutating func tapeValue(depth: Int, into tape: inout ValueTape) throws(TransitError) {
        skipWhitespace()
        guard position < buffer.count else { throw fail(.unexpectedEnd, "Unexpected end of JSON input") }
        switch buffer[position] {
        case UInt8(ascii: "["): try tapeArray(depth: depth + 1, into: &tape)
        case UInt8(ascii: "{"): try tapeObject(depth: depth + 1, into: &tape)
        default: tape.append(try value(depth: depth))
        }
    }

    mutating func tapeArray(depth: Int, into tape: inout ValueTape) throws(TransitError) {
        guard depth <= maxDepth else { throw fail(.tooDeep, "Nesting deeper than \(maxDepth) levels") }
        if depth > deepest { deepest = depth }
        let start = position
        position += 1
        skipWhitespace()
        guard position < buffer.count else { throw fail(.unexpectedEnd, "Unterminated array", at: start) }
        if buffer[position] == UInt8(ascii: "]") {
            position += 1
            tape.nodes.append(.vector(count: 0, end: tape.nodes.count + 1))
            return
        }
        if buffer[position] == UInt8(ascii: "\"") {
            let at = position
            switch try stringItem(asMapKey: false) {
            case .value(let v):
                let node = tape.open()
                tape.append(v)
                try tapeElements(node: node, first: 1, depth: depth, start: start, into: &tape)
            case .mapMarker:
                try tapeMapAsArray(depth: depth, start: start, into: &tape)
            case .tag(let tag):
                guard try expectSeparator(close: 93, start: start) else {
                    throw fail(.invalidRepresentation, "Tag ~#\(tag) without a value", at: at)
                }
                let repAt = position
                let rep = try value(depth: depth)
                guard try !expectSeparator(close: 93, start: start) else {
                    throw fail(.invalidRepresentation, "A tagged value is [tag, value]: more than one value after ~#\(tag)", at: at)
                }
                do { tape.append(try TransitDecoding.tagged(tag, rep, handlers: handlers, maxNumberLength: maxNumberLength)) } catch { throw locate(error, at: repAt) }
            }
            return
        }
        let node = tape.open()
        try tapeValue(depth: depth, into: &tape)
        try tapeElements(node: node, first: 1, depth: depth, start: start, into: &tape)
    }

    mutating func tapeElements(node: Int, first: Int, depth: Int, start: Int, into tape: inout ValueTape) throws(TransitError) {
        var n = first
        while try expectSeparator(close: 93, start: start) {
            try tapeValue(depth: depth, into: &tape)
            n += 1
        }
        tape.nodes[node] = .vector(count: n, end: tape.nodes.count)
    }

    mutating func tapeMapAsArray(depth: Int, start: Int, into tape: inout ValueTape) throws(TransitError) {
        let outer = deepest
        deepest = depth
        let node = tape.open()
        var count = 0
        while try expectSeparator(close: 93, start: start) {
            tape.append(try key(depth: depth))
            guard try expectSeparator(close: 93, start: start) else {
                throw fail(.invalidRepresentation, "Map-as-array [\"^ \", …] with an odd number of items")
            }
            try tapeValue(depth: depth, into: &tape)
            count += 1
        }
        if let map = closeTransitMap(&tape, at: node, count: count) {
            try settleMapDepth(map, outer: outer, at: start)
        } else if outer > deepest {
            deepest = outer
        }
    }

    mutating func tapeObject(depth: Int, into tape: inout ValueTape) throws(TransitError) {
        guard depth <= maxDepth else { throw fail(.tooDeep, "Nesting deeper than \(maxDepth) levels") }
        if depth > deepest { deepest = depth }
        let start = position
        position += 1
        skipWhitespace()
        guard position < buffer.count else { throw fail(.unexpectedEnd, "Unterminated object", at: start) }
        if buffer[position] == UInt8(ascii: "}") {
            position += 1
            tape.nodes.append(.map(count: 0, end: tape.nodes.count + 1))
            return
        }
        let node = tape.open()
        var count = 0
        repeat {
            skipWhitespace()
            guard position < buffer.count else { throw fail(.unexpectedEnd, "Unterminated object", at: start) }
            guard buffer[position] == UInt8(ascii: "\"") else { throw fail(.invalidSyntax, "Expected a string key in object") }
            let at = position
            let item = try stringItem(asMapKey: true)
            skipWhitespace()
            guard position < buffer.count else { throw fail(.unexpectedEnd, "Unterminated object", at: start) }
            guard buffer[position] == UInt8(ascii: ":") else { throw fail(.invalidSyntax, "Expected ':' after object key") }
            position += 1
            switch item {
            case .tag(let tag):
                guard count == 0 else { throw fail(.invalidRepresentation, "Tag ~#\(tag) used as a map key", at: at) }
                tape.nodes.removeLast()
                let repAt = position
                let rep = try value(depth: depth)
                guard try !expectSeparator(close: 125, start: start) else {
                    throw fail(.invalidRepresentation, "A verbose tagged value {\"~#\(tag)\": value} has one entry", at: at)
                }
                do { tape.append(try TransitDecoding.tagged(tag, rep, handlers: handlers, maxNumberLength: maxNumberLength)) } catch { throw locate(error, at: repAt) }
                return
            case .value(let k):
                tape.append(k)
            case .mapMarker:
                tape.append(.string("^ "))
            }
            try tapeValue(depth: depth, into: &tape)
            count += 1
        } while try expectSeparator(close: 125, start: start)
        _ = closeTransitMap(&tape, at: node, count: count)
    }
}

extension MsgpackDecoder {
    /// `value(depth:)` onto the tape (see `JSONDecoder.tapeValue`).
    mutating func tapeValue(depth: Int, into tape: inout ValueTape) throws(TransitError) {
        guard position < buffer.count else { throw fail(.unexpectedEnd, "Unexpected end of MessagePack input") }
        let b = buffer[position]
        switch b {
        case 0x90...0x9F, 0xDC, 0xDD:
            let at = position
            position += 1
            guard depth < maxDepth else { throw fail(.tooDeep, "Nesting deeper than \(maxDepth) levels", at: at) }
            let n = try containerLength(b, small: 0x90, mask: 0x0F)
            try tapeArray(count: n, depth: depth + 1, at: at, into: &tape)
        case 0x80...0x8F, 0xDE, 0xDF:
            let at = position
            position += 1
            guard depth < maxDepth else { throw fail(.tooDeep, "Nesting deeper than \(maxDepth) levels", at: at) }
            let n = try containerLength(b, small: 0x80, mask: 0x0F)
            try tapeMap(count: n, depth: depth + 1, at: at, into: &tape)
        default:
            tape.append(try value(depth: depth))
        }
    }

    mutating func tapeArray(count n: Int, depth: Int, at: Int, into tape: inout ValueTape) throws(TransitError) {
        if depth > deepest { deepest = depth }
        if n == 0 {
            tape.nodes.append(.vector(count: 0, end: tape.nodes.count + 1))
            return
        }
        let node: Int
        if case .string = peekHeader() {
            let tagAt = position
            switch try stringItem(asMapKey: false) {
            case .value(let v):
                node = tape.open()
                tape.append(v)
            case .mapMarker:
                guard n % 2 == 1 else { throw fail(.invalidRepresentation, "Map-as-array [\"^ \", …] with an odd number of items", at: at) }
                let outer = deepest
                deepest = depth
                let map = tape.open()
                for _ in 0..<(n / 2) {
                    tape.append(try key(depth: depth))
                    try tapeValue(depth: depth, into: &tape)
                }
                if let m = closeTransitMap(&tape, at: map, count: n / 2) {
                    try settleMapDepth(m, outer: outer, at: at)
                } else if outer > deepest {
                    deepest = outer
                }
                return
            case .tag(let tag):
                guard n == 2 else { throw fail(.invalidRepresentation, "A tagged value is [tag, value]", at: tagAt) }
                let repAt = position
                let rep = try value(depth: depth)
                do { tape.append(try TransitDecoding.tagged(tag, rep, handlers: handlers, maxNumberLength: maxNumberLength)) } catch { throw locate(error, at: repAt) }
                return
            }
        } else {
            node = tape.open()
            try tapeValue(depth: depth, into: &tape)
        }
        for _ in 1..<n { try tapeValue(depth: depth, into: &tape) }
        tape.nodes[node] = .vector(count: n, end: tape.nodes.count)
    }

    mutating func tapeMap(count n: Int, depth: Int, at: Int, into tape: inout ValueTape) throws(TransitError) {
        if depth > deepest { deepest = depth }
        if n == 0 {
            tape.nodes.append(.map(count: 0, end: tape.nodes.count + 1))
            return
        }
        let outer = deepest
        deepest = depth
        let node = tape.open()
        for i in 0..<n {
            if case .string = peekHeader() {
                let keyAt = position
                switch try stringItem(asMapKey: true) {
                case .value(let k):
                    tape.append(k)
                case .mapMarker:
                    tape.append(.string("^ "))
                case .tag(let tag):
                    guard i == 0, n == 1 else { throw fail(.invalidRepresentation, "Tag ~#\(tag) used as a map key", at: keyAt) }
                    tape.nodes.removeLast()
                    let repAt = position
                    let rep = try value(depth: depth)
                    if outer > deepest { deepest = outer }
                    do { tape.append(try TransitDecoding.tagged(tag, rep, handlers: handlers, maxNumberLength: maxNumberLength)) } catch { throw locate(error, at: repAt) }
                    return
                }
            } else {
                tape.append(try value(depth: depth))
            }
            try tapeValue(depth: depth, into: &tape)
        }
        if let m = closeTransitMap(&tape, at: node, count: n) {
            try settleMapDepth(m, outer: outer, at: at)
        } else if outer > deepest {
            deepest = outer
        }
    }
}
