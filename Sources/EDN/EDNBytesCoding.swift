extension EDNDecoder {
    /// Decodes a value straight from EDN text (UTF-8 bytes), without building an `EDNValue`
    /// tree first: the bytes are read once into a flat tape the type then reads.
    ///
    /// The input is read exactly as `EDNReader.read(_:options:)` reads it (with
    /// `readerOptions`): the same syntax, the same bounds (nesting depth, digits per number),
    /// the same errors (`EDNReadError`, with line and column) for malformed or hostile input,
    /// duplicate map keys and set members refused; an empty input decodes as `nil`, and input
    /// after the value is `.trailingInput`. A value of the wrong shape for `T` is a
    /// `DecodingError` whose `codingPath` names where (as `decode(_:from:)` over an `EDNValue`
    /// reports it); both paths decode every input alike.
    ///
    /// How EDN maps to Swift (as for `decode(_:from:)` over an `EDNValue`): maps to structs and
    /// dictionaries (keys as keywords, preferred, or strings); vectors, lists and sets to
    /// arrays (and sets to `Set`); strings, booleans, integers (into any integer type that
    /// holds them, big integers included), doubles (integers, big numbers and ratios accepted);
    /// `nil` to optionals; `:kw` to `Keyword`, symbols to `Symbol`, `#inst` to `Instant`,
    /// `#uuid` to `EDNUUID`, `1N`/big literals to `BigInteger`, `1.5M` to `BigDecimal`,
    /// `1/3` to `Ratio`, characters and anything else to `EDNValue`. (The codecs are
    /// Foundation-free: `Instant.millisecondsSinceEpoch` and `EDNUUID`'s text convert to
    /// `Date` and `UUID`.)
    ///
    /// ```swift
    /// struct Chat: Codable { var room: String; var text: String }
    /// let chat = try EDNDecoder().decode(Chat.self, from: Array(#"{:room "lobby" :text "hi"}"#.utf8))
    /// ```
    public func decode<T: Decodable, Bytes: Collection<UInt8>>(_ type: T.Type, from bytes: Bytes) throws -> T {
        let tape: ValueTape
        if let t = try bytes.withContiguousStorageIfAvailable({ buffer throws(EDNReadError) in
            try EDNParser.tape(buffer, options: readerOptions)
        }) {
            tape = t
        } else {
            tape = try Array(bytes).withUnsafeBufferPointer { buffer throws(EDNReadError) in
                try EDNParser.tape(buffer, options: readerOptions)
            }
        }
        return try TapeDecoder.decode(type, from: tape)
    }
}

extension EDNEncoder {
    /// Encodes a value as EDN text (UTF-8 bytes), as `EDNPrinter` prints `encode(_:)`'s value;
    /// throws `EDNPrintError` for a value whose text would not read back (see
    /// `EDNPrinter.checkedBytes`).
    ///
    /// (It builds the `EDNValue` and prints it: `Encodable` may fill containers in any order,
    /// and printing is the cheap half; the decoder is the one that reads bytes directly.)
    public func encodeBytes<T: Encodable>(_ value: T) throws -> [UInt8] {
        try EDNPrinter.checkedBytes(encode(value))
    }
}

extension ValueTape {
    /// The tape of the first form of `bytes`, read as tools.reader's `read-string` reads (and
    /// `EDNReader.next()` with the same options): one form, whatever follows it ignored
    /// (unread, so it cannot fail), empty input (or only whitespace and comments) as `nil`.
    /// The same syntax, bounds and errors (`EDNReadError`) as `EDNReader`. This is how
    /// Sente's EDN packer reads a payload.
    package static func firstEDNForm(_ bytes: [UInt8], options: EDNReader.Options) throws(EDNReadError) -> ValueTape {
        try bytes.withUnsafeBufferPointer { buffer throws(EDNReadError) in
            try EDNParser.firstForm(buffer, options: options).tape
        }
    }
}

extension EDNParser {
    /// The tape of the one value in `buffer` (`nil` for empty input), read with the tree
    /// reader's rules and bounds.
    static func tape(_ buffer: UnsafeBufferPointer<UInt8>, options: EDNReader.Options) throws(EDNReadError) -> ValueTape {
        let first = try firstForm(buffer, options: options)
        var parser = first.parser
        let end = parser.position
        try parser.skipTrivia(depth: 0)
        if parser.position < buffer.count {
            // As `EDNReader.read`: the next form is read (its own error wins), then refused.
            _ = try parser.readValue(depth: 0)
            throw EDNParser.makeError(.trailingInput, "Input continues after the first value", in: buffer, at: end)
        }
        return first.tape
    }

    /// The tape of the first form in `buffer` (`nil` for empty input, or only whitespace and
    /// comments), and the parser just after it.
    static func firstForm(_ buffer: UnsafeBufferPointer<UInt8>, options: EDNReader.Options) throws(EDNReadError) -> (tape: ValueTape, parser: EDNParser) {
        var parser = EDNParser(buffer: buffer, position: 0, options: options)
        var tape = ValueTape(inputBytes: buffer.count)
        try parser.skipTrivia(depth: 0)
        if parser.position >= buffer.count {
            tape.append(.null)
        } else {
            try parser.tapeValue(depth: 0, into: &tape)
        }
        return (tape, parser)
    }

    /// Reads one form onto the tape: vectors, lists and maps as tape collections; every other
    /// form (atoms, `#` dispatch, metadata) through `readValue`, as one scalar node.
    mutating func tapeValue(depth: Int, into tape: inout ValueTape) throws(EDNReadError) {
        if depth > options.maxDepth { throw tooDeep() }
        try skipTrivia(depth: depth)
        guard position < buffer.count else { throw eof() }
        let start = position
        let b = buffer[position]
        switch b {
        case UInt8(ascii: "["), UInt8(ascii: "("):
            position += 1
            let at = tape.open()
            let n = try tapeSequence(closing: b == UInt8(ascii: "[") ? UInt8(ascii: "]") : UInt8(ascii: ")"), start: start, depth: depth, into: &tape)
            tape.nodes[at] = b == UInt8(ascii: "[") ? .vector(count: n, end: tape.nodes.count) : .list(count: n, end: tape.nodes.count)
        case UInt8(ascii: "{"):
            position += 1
            try tapeMap(start: start, depth: depth, into: &tape)
        default:
            tape.append(try readValue(depth: depth))
        }
    }

    /// The forms up to `closing`, onto the tape; returns how many.
    mutating func tapeSequence(closing: UInt8, start: Int, depth: Int, into tape: inout ValueTape) throws(EDNReadError) -> Int {
        var n = 0
        while true {
            try skipTrivia(depth: depth + 1)
            guard position < buffer.count else { throw eofInCollection(start: start) }
            let b = buffer[position]
            if b == closing {
                position += 1
                return n
            }
            if b == UInt8(ascii: ")") || b == UInt8(ascii: "]") || b == UInt8(ascii: "}") {
                throw unmatched(b, expected: closing)
            }
            try tapeValue(depth: depth + 1, into: &tape)
            n += 1
        }
    }

    /// `{…}` after the `{`: a tape map when its keys are distinct scalars; a map with a
    /// collection key is made by `makeMap` (the tree reader's checks) and kept as one node.
    mutating func tapeMap(start: Int, depth: Int, into tape: inout ValueTape) throws(EDNReadError) {
        let at = tape.open()
        let forms = try tapeSequence(closing: UInt8(ascii: "}"), start: start, depth: depth, into: &tape)
        if forms % 2 != 0 {
            throw fail(.oddMapForms, "Map literal must contain an even number of forms", at: start)
        }
        let count = forms / 2
        tape.nodes[at] = .map(count: count, end: tape.nodes.count)
        let scalarKeys = tape.keys(ofMapAt: at, count: count) { key in
            switch key {
            case .list, .vector, .map, .set, .tagged: false
            default: true
            }
        }
        if !scalarKeys {
            let parser = self
            _ = try tape.collapse(at) { entries throws(EDNReadError) in try parser.makeMap(entries, start: start, namespace: nil) }
            return
        }
        if let key = tape.firstDuplicateKey(ofMapAt: at, count: count) {
            throw fail(.duplicateKey, "Duplicate key: \(EDNPrinter.string(key))", at: start)
        }
    }
}
