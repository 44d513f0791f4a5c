/// Encodes `Encodable` Swift values as `EDNValue`s, so a Swift struct becomes a Sente event
/// payload: structs and dictionaries become maps (keys as keywords by default, the way
/// Clojure apps write them), arrays become vectors, `nil` becomes `nil`.
///
/// `EDNValue`, `Keyword`, `Symbol`, `Instant`, `EDNUUID`, `BigInteger`, `BigDecimal` and
/// `Ratio` encode as themselves.
///
/// ```swift
/// struct Chat: Codable { var room: String; var text: String }
/// let payload = try EDNEncoder().encode(Chat(room: "lobby", text: "hi"))   // {:room "lobby", :text "hi"}
/// ```
public struct EDNEncoder: Sendable {
    /// How coding keys are written.
    public enum KeyEncoding: Sendable {
        /// `:room` (default; what Clojure code expects).
        case keyword
        /// `"room"`.
        case string
    }

    /// How coding keys are written.
    public var keyEncoding: KeyEncoding = .keyword

    /// An encoder with default settings.
    public init() {}

    /// Encodes a value.
    public func encode<T: Encodable>(_ value: T) throws -> EDNValue {
        let encoder = EDNValueEncoder(codingPath: [], keyEncoding: keyEncoding)
        return try encoder.box(value)
    }
}

/// Decodes `Decodable` Swift values from `EDNValue`s (the inverse of `EDNEncoder`). Map keys
/// may be keywords or strings; integers decode into any integer type that holds them;
/// doubles accept integers too.
public struct EDNDecoder: Sendable {
    /// How `decode(_:from:)` over bytes reads its input (depth and number bounds, unknown tags).
    public var readerOptions: EDNReader.Options

    /// A decoder (bytes are read with `readerOptions`, default `EDNReader.Options()`).
    public init(readerOptions: EDNReader.Options = EDNReader.Options()) {
        self.readerOptions = readerOptions
    }

    /// Decodes a value of the given type.
    public func decode<T: Decodable>(_ type: T.Type, from value: EDNValue) throws -> T {
        try EDNValueDecoder(value: value, codingPath: []).decodeValue(type)
    }
}

// MARK: - Encoding machinery

/// A value being encoded: finished, or a node whose containers may still be filled.
enum EncodingChild {
    case value(EDNValue)
    case node(EncodingNode)

    func finish() -> EDNValue {
        switch self {
        case .value(let v): v
        case .node(let n): n.finish()
        }
    }
}

/// A mutable node of the tree being encoded; containers hand out references so nested
/// containers can be filled after they are created, as Codable requires.
final class EncodingNode {
    enum Kind {
        case value
        case map
        case array
    }
    var kind: Kind
    var value: EDNValue = .null
    /// Map keys and values (parallel), or array items (`children` only).
    var keys: [EDNValue] = []
    var children: [EncodingChild] = []
    /// Entry number by key, once a map is big enough that a linear search for a repeated
    /// key would cost quadratic time.
    var index: [EDNValue: Int]?

    init(_ kind: Kind) { self.kind = kind }

    init(value: EDNValue) {
        kind = .value
        self.value = value
    }

    /// Sets the entry of `key` (a repeated key replaces the value, keeping its place).
    func set(_ key: EDNValue, _ child: EncodingChild) {
        if let index {
            if let i = index[key] { children[i] = child; return }
            self.index![key] = keys.count
        } else if keys.count < 16 {
            for i in keys.indices where keys[i] == key {
                children[i] = child
                return
            }
        } else {
            var built: [EDNValue: Int] = [:]
            built.reserveCapacity(keys.count * 2)
            for (i, k) in keys.enumerated() { built[k] = i }
            if let i = built[key] { children[i] = child; index = built; return }
            built[key] = keys.count
            index = built
        }
        keys.append(key)
        children.append(child)
    }

    func finish() -> EDNValue {
        switch kind {
        case .value: return value
        case .array: return .vector(children.map { $0.finish() })
        case .map:
            var entries: [EDNValue] = []
            entries.reserveCapacity(2 * keys.count)
            for (k, c) in zip(keys, children) {
                entries.append(k)
                entries.append(c.finish())
            }
            return .map(EDNMap(interleaved: entries))
        }
    }
}

struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue; self.intValue = nil }
    init(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
}

/// The model's types that encode as themselves (one conformance check instead of a cast per type).
protocol EDNDirectlyEncodable {
    var directEDNValue: EDNValue { get }
}

extension EDNValue: EDNDirectlyEncodable { var directEDNValue: EDNValue { self } }
extension Keyword: EDNDirectlyEncodable { var directEDNValue: EDNValue { .keyword(self) } }
extension Symbol: EDNDirectlyEncodable { var directEDNValue: EDNValue { .symbol(self) } }
extension Instant: EDNDirectlyEncodable { var directEDNValue: EDNValue { .instant(self) } }
extension EDNUUID: EDNDirectlyEncodable { var directEDNValue: EDNValue { .uuid(self) } }
extension BigInteger: EDNDirectlyEncodable { var directEDNValue: EDNValue { .bigInteger(self) } }
extension BigDecimal: EDNDirectlyEncodable { var directEDNValue: EDNValue { .bigDecimal(self) } }
extension Ratio: EDNDirectlyEncodable { var directEDNValue: EDNValue { .ratio(self) } }
extension EDNMap: EDNDirectlyEncodable { var directEDNValue: EDNValue { .map(self) } }
extension EDNSet: EDNDirectlyEncodable { var directEDNValue: EDNValue { .set(self) } }

final class EDNValueEncoder: Encoder {
    let codingPath: [any CodingKey]
    let userInfo: [CodingUserInfoKey: Any] = [:]
    let keyEncoding: EDNEncoder.KeyEncoding
    var node: EncodingNode?

    init(codingPath: [any CodingKey], keyEncoding: EDNEncoder.KeyEncoding) {
        self.codingPath = codingPath
        self.keyEncoding = keyEncoding
    }

    func key(_ k: some CodingKey) -> EDNValue {
        keyEncoding == .keyword ? .keyword(Keyword(k.stringValue)) : .string(k.stringValue)
    }

    /// Encodes a value to a finished `EDNValue`.
    func box<T: Encodable>(_ value: T) throws -> EDNValue {
        try boxChild(value, path: codingPath).finish()
    }

    /// Encodes a value: the common scalars and the model's types at once, anything else
    /// through its `encode(to:)`.
    @inline(__always)
    func boxChild<T: Encodable>(_ value: T, path: @autoclosure () -> [any CodingKey]) throws -> EncodingChild {
        if T.self == String.self { return .value(.string(value as! String)) }
        if T.self == Int.self { return .value(.integer(Int64(value as! Int))) }
        if T.self == Int64.self { return .value(.integer(value as! Int64)) }
        if T.self == Double.self { return .value(.double(value as! Double)) }
        if T.self == Bool.self { return .value(.bool(value as! Bool)) }
        if let direct = EDNValueEncoder.direct(value) { return .value(direct) }
        let sub = EDNValueEncoder(codingPath: path(), keyEncoding: keyEncoding)
        try value.encode(to: sub)
        return sub.node.map(EncodingChild.node) ?? .value(.map(EDNMap()))
    }

    @inline(__always)
    static func direct<T>(_ value: T) -> EDNValue? {
        (value as? any EDNDirectlyEncodable)?.directEDNValue
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let n: EncodingNode
        if let existing = node, existing.kind == .map { n = existing } else {
            n = EncodingNode(.map)
            node = n
        }
        return KeyedEncodingContainer(KeyedEncoder<Key>(encoder: self, node: n, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let n: EncodingNode
        if let existing = node, existing.kind == .array { n = existing } else {
            n = EncodingNode(.array)
            node = n
        }
        return UnkeyedEncoder(encoder: self, node: n, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleEncoder(encoder: self) }
}

struct KeyedEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: EDNValueEncoder
    let node: EncodingNode
    let codingPath: [any CodingKey]

    @inline(__always)
    func append(_ key: Key, _ child: EncodingChild) { node.set(encoder.key(key), child) }

    mutating func encodeNil(forKey key: Key) throws { append(key, .value(.null)) }
    mutating func encode(_ value: String, forKey key: Key) throws { append(key, .value(.string(value))) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { append(key, .value(.bool(value))) }
    mutating func encode(_ value: Double, forKey key: Key) throws { append(key, .value(.double(value))) }
    mutating func encode(_ value: Int, forKey key: Key) throws { append(key, .value(.integer(Int64(value)))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { append(key, .value(.integer(value))) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        append(key, try encoder.boxChild(value, path: codingPath + [key]))
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = EncodingNode(.map)
        append(key, .node(child))
        return KeyedEncodingContainer(KeyedEncoder<NestedKey>(encoder: encoder, node: child, codingPath: codingPath + [key]))
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = EncodingNode(.array)
        append(key, .node(child))
        return UnkeyedEncoder(encoder: encoder, node: child, codingPath: codingPath + [key])
    }
    mutating func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let sub = EDNValueEncoder(codingPath: codingPath + [key], keyEncoding: encoder.keyEncoding)
        let child = EncodingNode(value: .null)
        sub.node = child
        append(key, .node(child))
        return sub
    }
}

struct UnkeyedEncoder: UnkeyedEncodingContainer {
    let encoder: EDNValueEncoder
    let node: EncodingNode
    let codingPath: [any CodingKey]
    var count: Int { node.children.count }

    @inline(__always)
    func append(_ child: EncodingChild) { node.children.append(child) }

    mutating func encodeNil() throws { append(.value(.null)) }
    mutating func encode(_ value: String) throws { append(.value(.string(value))) }
    mutating func encode(_ value: Bool) throws { append(.value(.bool(value))) }
    mutating func encode(_ value: Double) throws { append(.value(.double(value))) }
    mutating func encode(_ value: Int) throws { append(.value(.integer(Int64(value)))) }
    mutating func encode(_ value: Int64) throws { append(.value(.integer(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        append(try encoder.boxChild(value, path: codingPath + [AnyCodingKey(intValue: count)]))
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = EncodingNode(.map)
        let path = codingPath + [AnyCodingKey(intValue: count)]
        append(.node(child))
        return KeyedEncodingContainer(KeyedEncoder<NestedKey>(encoder: encoder, node: child, codingPath: path))
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = EncodingNode(.array)
        let path = codingPath + [AnyCodingKey(intValue: count)]
        append(.node(child))
        return UnkeyedEncoder(encoder: encoder, node: child, codingPath: path)
    }
    mutating func superEncoder() -> any Encoder {
        let sub = EDNValueEncoder(codingPath: codingPath + [AnyCodingKey(intValue: count)], keyEncoding: encoder.keyEncoding)
        let child = EncodingNode(value: .null)
        sub.node = child
        append(.node(child))
        return sub
    }
}

struct SingleEncoder: SingleValueEncodingContainer {
    let encoder: EDNValueEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    func set(_ v: EDNValue) { encoder.node = EncodingNode(value: v) }

    mutating func encodeNil() throws { set(.null) }
    mutating func encode(_ value: Bool) throws { set(.bool(value)) }
    mutating func encode(_ value: String) throws { set(.string(value)) }
    mutating func encode(_ value: Double) throws { set(.double(value)) }
    mutating func encode(_ value: Float) throws { set(.double(Double(value))) }
    mutating func encode(_ value: Int) throws { set(.integer(Int64(value))) }
    mutating func encode(_ value: Int8) throws { set(.integer(Int64(value))) }
    mutating func encode(_ value: Int16) throws { set(.integer(Int64(value))) }
    mutating func encode(_ value: Int32) throws { set(.integer(Int64(value))) }
    mutating func encode(_ value: Int64) throws { set(.integer(value)) }
    mutating func encode(_ value: UInt) throws { try encode(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { set(.integer(Int64(value))) }
    mutating func encode(_ value: UInt16) throws { set(.integer(Int64(value))) }
    mutating func encode(_ value: UInt32) throws { set(.integer(Int64(value))) }
    mutating func encode(_ value: UInt64) throws {
        set(value <= UInt64(Int64.max) ? .integer(Int64(value)) : .bigInteger(BigInteger(value)))
    }
    mutating func encode<T: Encodable>(_ value: T) throws { set(try encoder.box(value)) }
}

// MARK: - Decoding machinery

struct EDNValueDecoder: Decoder {
    let value: EDNValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch(_ expected: String) -> DecodingError {
        .typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "Expected \(expected), found \(value.kindName) \(EDNPrinter.string(value).prefix(60))"))
    }

    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if type == EDNValue.self { return value as! T }
        if type is any TextCodableScalar.Type || type == Ratio.self || type == EDNMap.self || type == EDNSet.self {
            switch value {
            case .keyword(let k) where type == Keyword.self: return k as! T
            case .symbol(let s) where type == Symbol.self: return s as! T
            case .instant(let i) where type == Instant.self: return i as! T
            case .uuid(let u) where type == EDNUUID.self: return u as! T
            case .bigInteger(let b) where type == BigInteger.self: return b as! T
            case .integer(let i) where type == BigInteger.self: return BigInteger(i) as! T
            case .bigDecimal(let d) where type == BigDecimal.self: return d as! T
            case .ratio(let r) where type == Ratio.self: return r as! T
            case .map(let m) where type == EDNMap.self: return m as! T
            case .set(let s) where type == EDNSet.self: return s as! T
            default: throw mismatch(String(describing: type))
            }
        }
        return try T(from: self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .map(let m) = value else { throw mismatch("a map") }
        return KeyedDecodingContainer(KeyedDecoder<Key>(map: m, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch value {
        case .vector(let a), .list(let a): return UnkeyedDecoder(items: a, codingPath: codingPath)
        case .set(let s): return UnkeyedDecoder(items: s.elements, codingPath: codingPath)
        default: throw mismatch("a vector, list or set")
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleDecoder(decoder: self) }
}

struct KeyedDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let map: EDNMap
    let codingPath: [any CodingKey]

    var allKeys: [Key] {
        map.keys.compactMap { k in
            switch k {
            case .keyword(let kw): Key(stringValue: kw.text)
            case .string(let s): Key(stringValue: s)
            case .symbol(let s): Key(stringValue: s.text)
            default: nil
            }
        }
    }

    func lookup(_ key: Key) -> EDNValue? {
        map[.keyword(Keyword(key.stringValue))] ?? map[.string(key.stringValue)]
    }

    func child(_ key: Key) throws -> EDNValueDecoder {
        guard let v = lookup(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No :\(key.stringValue) in the map"))
        }
        return EDNValueDecoder(value: v, codingPath: codingPath + [key])
    }

    func contains(_ key: Key) -> Bool { lookup(key) != nil }
    func decodeNil(forKey key: Key) throws -> Bool { lookup(key)?.isNull ?? true }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decodeValue(type) }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try child(key).unkeyedContainer() }
    func superDecoder() throws -> any Decoder { EDNValueDecoder(value: lookup(Key(stringValue: "super")!) ?? .null, codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder { EDNValueDecoder(value: lookup(key) ?? .null, codingPath: codingPath + [key]) }
}

struct UnkeyedDecoder: UnkeyedDecodingContainer {
    let items: [EDNValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(items: [EDNValue], codingPath: [any CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    mutating func next() throws -> EDNValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "Sequence has only \(items.count) elements"))
        }
        defer { currentIndex += 1 }
        return EDNValueDecoder(value: items[currentIndex], codingPath: codingPath + [AnyCodingKey(intValue: currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        if !isAtEnd, items[currentIndex].isNull { currentIndex += 1; return true }
        return false
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decodeValue(type) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}

struct SingleDecoder: SingleValueDecodingContainer {
    let decoder: EDNValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    var value: EDNValue { decoder.value }

    func decodeNil() -> Bool { value.isNull }
    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = value else { throw decoder.mismatch("a boolean") }
        return b
    }
    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = value else { throw decoder.mismatch("a string") }
        return s
    }
    func decode(_ type: Double.Type) throws -> Double {
        switch value {
        case .double(let d): return d
        case .integer(let i): return Double(i)
        case .bigInteger(let b): return b.doubleValue
        case .bigDecimal(let d): return d.doubleValue
        case .ratio(let r): return r.doubleValue
        default: throw decoder.mismatch("a number")
        }
    }
    func decode(_ type: Float.Type) throws -> Float { Float(try decode(Double.self)) }
    func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        let big: BigInteger
        switch value {
        case .integer(let i):
            guard let v = I(exactly: i) else { throw decoder.mismatch("an integer that fits \(I.self)") }
            return v
        case .bigInteger(let b): big = b
        default: throw decoder.mismatch("an integer")
        }
        if let i = big.int64Value, let v = I(exactly: i) { return v }
        if !big.isNegative, big.limbs.count <= 2 {
            let u = big.limbs.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (32 * UInt64($1.offset)) }
            if let r = I(exactly: u) { return r }
        }
        throw decoder.mismatch("an integer that fits \(I.self)")
    }
    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
}

// MARK: - EDNValue inside Codable types

extension EDNValue: Codable {
    /// Inside `EDNEncoder` the value is stored as it is; other encoders (e.g. a JSON encoder)
    /// get its plain-JSON shape (keywords and symbols as strings, sets as arrays).
    public func encode(to encoder: any Encoder) throws {
        if let edn = encoder as? EDNValueEncoder {
            edn.node = EncodingNode(value: self)
            return
        }
        switch self {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .integer(let i):
            var c = encoder.singleValueContainer()
            try c.encode(i)
        case .double(let d):
            var c = encoder.singleValueContainer()
            try c.encode(d)
        case .list(let a), .vector(let a):
            var c = encoder.unkeyedContainer()
            for item in a { try c.encode(item) }
        case .set(let s):
            var c = encoder.unkeyedContainer()
            for item in s { try c.encode(item) }
        case .map(let m):
            var c = encoder.container(keyedBy: AnyCodingKey.self)
            for (k, v) in m {
                let name: String
                switch k {
                case .keyword(let kw): name = kw.text
                case .string(let s): name = s
                case .symbol(let s): name = s.text
                default: name = EDNPrinter.string(k)
                }
                try c.encode(v, forKey: AnyCodingKey(stringValue: name))
            }
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .keyword(let k):
            var c = encoder.singleValueContainer()
            try c.encode(k.text)
        case .symbol(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s.text)
        case .tagged(_, let v):
            try v.encode(to: encoder)
        default:
            // Big numbers, ratios, chars, instants, UUIDs, URIs, bytes: their EDN text.
            var c = encoder.singleValueContainer()
            try c.encode(EDNPrinter.string(self))
        }
    }

    /// Inside `EDNDecoder` the value is taken as it is; from other decoders, JSON-shaped data
    /// is read (objects become maps with keyword keys).
    public init(from decoder: any Decoder) throws {
        if let edn = decoder as? EDNValueDecoder {
            self = edn.value
            return
        }
        if let tape = decoder as? TapeDecoder {
            self = tape.tape.materialize(tape.current)
            return
        }
        if let keyed = try? decoder.container(keyedBy: AnyCodingKey.self) {
            var m = EDNMap()
            for key in keyed.allKeys { m[.keyword(Keyword(key.stringValue))] = try keyed.decode(EDNValue.self, forKey: key) }
            self = .map(m)
            return
        }
        if var unkeyed = try? decoder.unkeyedContainer() {
            var items: [EDNValue] = []
            while !unkeyed.isAtEnd { items.append(try unkeyed.decode(EDNValue.self)) }
            self = .vector(items)
            return
        }
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .integer(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else { self = .string(try c.decode(String.self)) }
    }
}
