/// The model's scalar types are `Codable` so they can sit in Swift structs: inside
/// `EDNEncoder`/`EDNDecoder` they are stored as themselves; other coders see their text.
protocol TextCodableScalar: Codable {
    init?(codableText: String)
    var codableText: String { get }
}

extension TextCodableScalar {
    /// Encodes as the value itself (EDN) or as its text (other encoders).
    public func encode(to encoder: any Encoder) throws {
        if let edn = encoder as? EDNValueEncoder, let direct = EDNValueEncoder.direct(self) {
            edn.node = EncodingNode(value: direct)
            return
        }
        var c = encoder.singleValueContainer()
        try c.encode(codableText)
    }

    /// Decodes from the value itself (EDN) or from its text (other decoders).
    public init(from decoder: any Decoder) throws {
        if let edn = decoder as? EDNValueDecoder {
            self = try edn.decodeValue(Self.self)
            return
        }
        if let tape = decoder as? TapeDecoder {
            self = try tape.decodeModelScalar(Self.self)
            return
        }
        let c = try decoder.singleValueContainer()
        let text = try c.decode(String.self)
        guard let v = Self(codableText: text) else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "Not a valid \(Self.self): \(text)")
        }
        self = v
    }
}

extension Keyword: TextCodableScalar {
    init?(codableText: String) { self.init(codableText.hasPrefix(":") ? String(codableText.dropFirst()) : codableText) }
    var codableText: String { text }
}

extension Symbol: TextCodableScalar {
    init?(codableText: String) { self.init(codableText) }
    var codableText: String { text }
}

extension Instant: TextCodableScalar {
    init?(codableText: String) { self.init(rfc3339: codableText) }
    var codableText: String { transitString }
}

extension EDNUUID: TextCodableScalar {
    init?(codableText: String) { self.init(codableText) }
    var codableText: String { description }
}

extension BigInteger: TextCodableScalar {
    init?(codableText: String) { self.init(codableText, radix: 10) }
    var codableText: String { description }
}

extension BigDecimal: TextCodableScalar {
    init?(codableText: String) { self.init(codableText) }
    var codableText: String { description }
}

extension Ratio: TextCodableScalar {
    init?(codableText: String) {
        let parts = codableText.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let n = BigInteger(String(parts[0]), radix: 10), let d = BigInteger(String(parts[1]), radix: 10),
              case .ratio(let r)? = Ratio.make(n, d) else { return nil }
        self = r
    }
    var codableText: String { description }
}
