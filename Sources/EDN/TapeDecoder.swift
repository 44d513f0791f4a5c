/// The flat form a message takes on its way from wire bytes to a `Decodable` type: one node
/// per collection (with its size and where its subtree ends) and one per scalar, in document
/// order. The byte decoders (`EDNDecoder.decode(_:from:)` over bytes, and the Transit one)
/// write it in one pass over the input, instead of a tree of `EDNValue` collections, and
/// `Decodable` types then read it in any order they ask.
///
/// A scalar node holds the decoded scalar (`String`, `Int64`, `Keyword`, `Instant`, …). A few
/// rare forms are kept as one scalar node holding their `EDNValue` tree: sets (duplicates
/// must be found by value), tagged values other than `#inst`/`#uuid`, EDN namespaced maps and
/// metadata, Transit tagged values other than scalars (`~#set`, `~#list`, `~#cmap`, ratios,
/// custom tags), and maps with a collection as a key or with keys that repeat. Decoding from
/// such a node goes through `EDNDecoder`'s tree path, so both paths give the same results.
package enum TapeNode: Sendable {
    /// A scalar, or one of the rare forms above as a tree.
    case scalar(EDNValue)
    /// A map of `count` entries (key node, then value subtree, per entry); the keys are
    /// scalars and distinct. `end` is the index after its subtree.
    case map(count: Int, end: Int)
    /// A vector of `count` elements; `end` is the index after its subtree.
    case vector(count: Int, end: Int)
    /// A list of `count` elements; `end` is the index after its subtree.
    case list(count: Int, end: Int)
}

/// The tape of one message and its construction helpers.
package struct ValueTape: Sendable {
    /// The nodes, in document order.
    package var nodes: [TapeNode] = []

    /// An empty tape, with room for the nodes of about `inputBytes` of input.
    package init(inputBytes: Int = 0) { nodes.reserveCapacity(min(max(16, inputBytes / 6), 1 << 16)) }

    /// A tape of one scalar node.
    init(single value: EDNValue) { nodes = [.scalar(value)] }

    /// The tape of a value already read: its vectors, lists and maps as tape collections,
    /// everything else (sets, tagged values, scalars) as one node each.
    package init(tree value: EDNValue) {
        nodes.reserveCapacity(32)
        append(tree: value)
    }

    mutating func append(tree value: EDNValue) {
        switch value {
        case .vector(let items), .list(let items):
            let at = open()
            for item in items { append(tree: item) }
            if case .list = value {
                nodes[at] = .list(count: items.count, end: nodes.count)
            } else {
                nodes[at] = .vector(count: items.count, end: nodes.count)
            }
        case .map(let m):
            let at = open()
            m.entries.withUnsafeBufferPointer { e in
                var i = 0
                while i < e.count {
                    nodes.append(.scalar(e[i]))
                    append(tree: e[i + 1])
                    i += 2
                }
            }
            nodes[at] = .map(count: m.entries.count / 2, end: nodes.count)
        default:
            nodes.append(.scalar(value))
        }
    }

    /// Index after the subtree at `i`.
    @inline(__always)
    package func end(of i: Int) -> Int {
        switch nodes[i] {
        case .scalar: i + 1
        case .map(_, let e), .vector(_, let e), .list(_, let e): e
        }
    }

    /// Appends a placeholder for a collection that is being read; returns its index.
    @inline(__always)
    package mutating func open() -> Int {
        nodes.append(.vector(count: 0, end: 0))
        return nodes.count - 1
    }

    /// Appends a scalar node.
    @inline(__always)
    package mutating func append(_ value: consuming EDNValue) { nodes.append(.scalar(value)) }

    /// The `EDNValue` of the subtree at `i` (what the tree readers give for it). Maps keep
    /// their entries' order; the tape holds no duplicate keys.
    package func materialize(_ i: Int) -> EDNValue {
        switch nodes[i] {
        case .scalar(let v): return v
        case .vector(let n, _), .list(let n, _):
            var items: [EDNValue] = []
            items.reserveCapacity(n)
            var j = i + 1
            for _ in 0..<n {
                items.append(materialize(j))
                j = end(of: j)
            }
            if case .list = nodes[i] { return .list(items) }
            return .vector(items)
        case .map(let n, _):
            var entries: [EDNValue] = []
            entries.reserveCapacity(2 * n)
            var j = i + 1
            for _ in 0..<n {
                entries.append(materialize(j))
                entries.append(materialize(j + 1))
                j = end(of: j + 1)
            }
            return .map(EDNMap(interleaved: entries))
        }
    }

    /// The map at `i` (whose entries follow it) as one scalar node holding its tree: for maps
    /// the tape does not hold natively (a collection key, repeated keys). `build` makes the
    /// map from the interleaved entries.
    package mutating func collapse<E: Error>(_ i: Int, _ build: ([EDNValue]) throws(E) -> EDNMap) throws(E) -> EDNMap {
        var entries: [EDNValue] = []
        var j = i + 1
        while j < nodes.count {
            entries.append(materialize(j))
            j = end(of: j)
        }
        let map = try build(entries)
        nodes.removeSubrange(i...)
        nodes.append(.scalar(.map(map)))
        return map
    }

    /// True when each key of the map being read at `i` (entries up to the end of the tape) is
    /// a scalar, i.e. not a collection held in a scalar node; `isScalarKey` decides.
    package func keys(ofMapAt i: Int, count: Int, allSatisfy isScalarKey: (EDNValue) -> Bool) -> Bool {
        var j = i + 1
        for _ in 0..<count {
            guard case .scalar(let k) = nodes[j], isScalarKey(k) else { return false }
            j = end(of: j + 1)
        }
        return true
    }

    /// The first key of the map being read at `i` that equals an earlier one (by `EDNValue`'s
    /// `==`, as `EDNMap` decides), if any. Fingerprints first; a hash index for big maps, so
    /// a crafted map costs linear time.
    package func firstDuplicateKey(ofMapAt i: Int, count: Int) -> EDNValue? {
        if count < 2 { return nil }
        if count >= 16 {
            var seen: Set<EDNValue> = []
            seen.reserveCapacity(count)
            var j = i + 1
            for _ in 0..<count {
                let key = materialize(j)
                if !seen.insert(key).inserted { return key }
                j = end(of: j + 1)
            }
            return nil
        }
        return nodes.withUnsafeBufferPointer { nodes in
            withUnsafeTemporaryAllocation(of: (UInt64, Int).self, capacity: count) { seen -> EDNValue? in
                var j = i + 1
                for a in 0..<count {
                    guard case .scalar(let key) = nodes[j] else { return nil }
                    let f = key.keyFingerprint
                    for b in 0..<a where seen[b].0 == f {
                        if case .scalar(let other) = nodes[seen[b].1], other == key { return key }
                    }
                    seen[a] = (f, j)
                    let v = j + 1
                    switch nodes[v] {
                    case .scalar: j = v + 1
                    case .map(_, let e), .vector(_, let e), .list(_, let e): j = e
                    }
                }
                return nil
            }
        }
    }
}

// MARK: - Decoding from a tape

/// A coding key of an array element (its text made only when asked for).
struct IndexKey: CodingKey {
    let intValue: Int?
    init(_ i: Int) { intValue = i }
    init?(intValue: Int) { self.intValue = intValue }
    init?(stringValue: String) { nil }
    var stringValue: String { String(intValue ?? 0) }
}

/// Decodes a `Decodable` type from a tape with `EDNDecoder`'s rules (the tree path's), so
/// both paths decode alike: map keys may be keywords (preferred) or strings; integers fit any
/// integer type that holds them; doubles accept integers; the model's scalar types
/// (`Keyword`, `Instant`, …) decode as themselves.
package final class TapeDecoder: Decoder {
    let tape: ValueTape
    // The decoder is used by one thread at a time, in strictly nested calls: dynamic
    // exclusivity checks (a thread-local lookup per access) are left out.
    /// The node being decoded.
    @exclusivity(unchecked) var current = 0
    /// The coding path of `current` (pushed and popped as nested values are decoded).
    @exclusivity(unchecked) var path: [any CodingKey] = []
    /// Key → value node, built on first use for big maps (by map node).
    @exclusivity(unchecked) var indexes: [Int: [String: Int]] = [:]
    /// Where the last key lookup succeeded (map node, entry's key node), the first place the
    /// next lookup in that map looks: `Decodable` types usually ask keys in the order written.
    @exclusivity(unchecked) var hintMap = -1
    @exclusivity(unchecked) var hintKey = 0

    package var codingPath: [any CodingKey] { path }
    package var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(tape: ValueTape) { self.tape = tape }

    /// Decodes a value already read, through its tape: what `EDNDecoder.decode(_:from:)`
    /// over an `EDNValue` gives (the same conversions and errors), in about half the time.
    package static func decode<T: Decodable>(_ type: T.Type, fromTree value: EDNValue) throws -> T {
        try TapeDecoder(tape: ValueTape(tree: value)).decodeValue(type, at: 0)
    }

    /// Decodes the tape's root value.
    package static func decode<T: Decodable>(_ type: T.Type, from tape: ValueTape) throws -> T {
        try TapeDecoder(tape: tape).decodeValue(type, at: 0)
    }

    /// Decodes the subtree at `node` as if it were the root (an empty coding path): what
    /// `decode(_:fromTree:)` gives for `tape.materialize(node)`, without materializing it.
    package static func decode<T: Decodable>(_ type: T.Type, from tape: ValueTape, at node: Int) throws -> T {
        try TapeDecoder(tape: tape).decodeValue(type, at: node)
    }

    @inline(__always)
    func decodeValue<T: Decodable>(_ type: T.Type, at node: Int) throws -> T {
        current = node
        // Arrays of the common scalars without `Array.init(from:)`'s generic, per-element
        // container calls (the same conversions and errors).
        if T.self == [String].self { return try scalarArray(node) { d, n, k in try d.string(n, k) } as! T }
        if T.self == [Int].self { return try scalarArray(node) { d, n, k in try d.integer(Int.self, n, k) } as! T }
        if T.self == [Int64].self { return try scalarArray(node) { d, n, k in try d.integer(Int64.self, n, k) } as! T }
        if T.self == [Double].self { return try scalarArray(node) { d, n, k in try d.double(n, k) } as! T }
        if T.self == EDNValue.self { return tape.materialize(node) as! T }
        if T.self == EDNMap.self || T.self == EDNSet.self || T.self == Ratio.self {
            return try EDNValueDecoder(value: tape.materialize(node), codingPath: path).decodeValue(type)
        }
        return try T(from: self)
    }

    /// The elements of the vector or list at `node`, each decoded by `element`.
    @inline(__always)
    func scalarArray<E>(_ node: Int, _ element: (TapeDecoder, Int, IndexKey) throws -> E) throws -> [E] {
        switch tape.nodes[node] {
        case .vector(let count, _), .list(let count, _):
            var out: [E] = []
            out.reserveCapacity(count)
            var j = node + 1
            for i in 0..<count {
                out.append(try element(self, j, IndexKey(i)))
                j = tape.end(of: j)
            }
            return out
        default:
            // Sets and mismatches: the tree path's container, conversions and errors.
            var c = try unkeyedContainer()
            var out: [E] = []
            while !c.isAtEnd {
                let v = try c.decode(EDNValue.self)
                let sub = TapeDecoder(tape: ValueTape(single: v))
                sub.path = path
                out.append(try element(sub, 0, IndexKey(out.count)))
            }
            return out
        }
    }

    /// A decoder of its own for a nested container (which outlives the call that makes it,
    /// so it cannot share this decoder's path stack).
    func branch(at node: Int, _ key: any CodingKey) -> TapeDecoder {
        let d = TapeDecoder(tape: tape)
        d.path = path + [key]
        d.current = node
        return d
    }

    /// Decodes one of the model's scalar types (`Keyword`, `Instant`, …) at `current`.
    func decodeModelScalar<T: Decodable>(_ type: T.Type) throws -> T {
        try EDNValueDecoder(value: tape.materialize(current), codingPath: path).decodeValue(type)
    }

    /// The tree decoder's single-value container for a node: exact conversions and errors of
    /// the tree path, for what the fast paths do not take.
    func fallback(_ node: Int, _ key: (any CodingKey)?) -> SingleDecoder {
        var p = path
        if let key { p.append(key) }
        return SingleDecoder(decoder: EDNValueDecoder(value: tape.materialize(node), codingPath: p))
    }

    @inline(__always)
    func string(_ node: Int, _ key: (any CodingKey)?) throws -> String {
        if case .scalar(.string(let s)) = tape.nodes[node] { return s }
        return try fallback(node, key).decode(String.self)
    }

    @inline(__always)
    func bool(_ node: Int, _ key: (any CodingKey)?) throws -> Bool {
        if case .scalar(.bool(let b)) = tape.nodes[node] { return b }
        return try fallback(node, key).decode(Bool.self)
    }

    @inline(__always)
    func double(_ node: Int, _ key: (any CodingKey)?) throws -> Double {
        switch tape.nodes[node] {
        case .scalar(.double(let d)): return d
        case .scalar(.integer(let i)): return Double(i)
        default: return try fallback(node, key).decode(Double.self)
        }
    }

    @inline(__always)
    func integer<I: FixedWidthInteger>(_ type: I.Type, _ node: Int, _ key: (any CodingKey)?) throws -> I {
        if case .scalar(.integer(let i)) = tape.nodes[node], let v = I(exactly: i) { return v }
        return try fallback(node, key).integer(type)
    }

    func isNull(_ node: Int) -> Bool {
        if case .scalar(.null) = tape.nodes[node] { return true }
        return false
    }

    package func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        switch tape.nodes[current] {
        case .map(let count, _):
            return KeyedDecodingContainer(TapeKeyedDecoder<Key>(decoder: self, node: current, count: count, depth: path.count))
        case .scalar(let v):
            return try EDNValueDecoder(value: v, codingPath: path).container(keyedBy: type)
        default:
            return try EDNValueDecoder(value: tape.materialize(current), codingPath: path).container(keyedBy: type)
        }
    }

    package func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        switch tape.nodes[current] {
        case .vector(let count, _), .list(let count, _):
            return TapeUnkeyedDecoder(decoder: self, count: count, cursor: current + 1, depth: path.count)
        case .scalar(let v):
            return try EDNValueDecoder(value: v, codingPath: path).unkeyedContainer()
        case .map:
            return try EDNValueDecoder(value: tape.materialize(current), codingPath: path).unkeyedContainer()
        }
    }

    package func singleValueContainer() throws -> any SingleValueDecodingContainer {
        TapeSingleDecoder(decoder: self, node: current, depth: path.count)
    }

    /// The value node of `name` in the map at `node` (a keyword key before a string key).
    @inline(__always)
    func find(_ name: String, inMap node: Int, count: Int) -> Int? {
        if count > 32 { return bigIndex(node, count: count)[name] }
        let nodes = tape.nodes
        let mapEnd = tape.end(of: node)
        var j = hintMap == node ? hintKey : node + 1
        var stringMatch: Int?
        var seen = 0
        while seen < count {
            if j >= mapEnd { j = node + 1 }
            switch nodes[j] {
            case .scalar(.keyword(let k)) where k.text == name:
                hintMap = node
                hintKey = tape.end(of: j + 1)
                return j + 1
            case .scalar(.string(let s)) where s == name:
                stringMatch = j + 1
            default:
                break
            }
            j = tape.end(of: j + 1)
            seen += 1
        }
        return stringMatch
    }

    func bigIndex(_ node: Int, count: Int) -> [String: Int] {
        if let built = indexes[node] { return built }
        var index: [String: Int] = [:]
        index.reserveCapacity(count)
        var keywords: [(String, Int)] = []
        var j = node + 1
        for _ in 0..<count {
            switch tape.nodes[j] {
            case .scalar(.keyword(let k)): keywords.append((k.text, j + 1))
            case .scalar(.string(let s)): index[s] = j + 1
            default: break
            }
            j = tape.end(of: j + 1)
        }
        for (k, v) in keywords { index[k] = v }
        indexes[node] = index
        return index
    }
}

struct TapeKeyedDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: TapeDecoder
    let node: Int
    let count: Int
    let depth: Int

    var codingPath: [any CodingKey] { Array(decoder.path.prefix(depth)) }

    var allKeys: [Key] {
        var keys: [Key] = []
        keys.reserveCapacity(count)
        var j = node + 1
        for _ in 0..<count {
            switch decoder.tape.nodes[j] {
            case .scalar(.keyword(let k)): if let key = Key(stringValue: k.text) { keys.append(key) }
            case .scalar(.string(let s)): if let key = Key(stringValue: s) { keys.append(key) }
            case .scalar(.symbol(let s)): if let key = Key(stringValue: s.text) { keys.append(key) }
            default: break
            }
            j = decoder.tape.end(of: j + 1)
        }
        return keys
    }

    @inline(__always)
    func lookup(_ key: Key) -> Int? { decoder.find(key.stringValue, inMap: node, count: count) }

    @inline(__always)
    func child(_ key: Key) throws -> Int {
        guard let v = lookup(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No :\(key.stringValue) in the map"))
        }
        return v
    }

    func contains(_ key: Key) -> Bool { lookup(key) != nil }
    func decodeNil(forKey key: Key) throws -> Bool {
        guard let v = lookup(key) else { return true }
        return decoder.isNull(v)
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String { try decoder.string(child(key), key) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decoder.bool(child(key), key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try decoder.double(child(key), key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try decoder.double(child(key), key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try decoder.integer(type, child(key), key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try decoder.integer(type, child(key), key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try decoder.integer(type, child(key), key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try decoder.integer(type, child(key), key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try decoder.integer(type, child(key), key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try decoder.integer(type, child(key), key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try decoder.integer(type, child(key), key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try decoder.integer(type, child(key), key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try decoder.integer(type, child(key), key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try decoder.integer(type, child(key), key) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        let v = try child(key)
        decoder.path.append(key)
        defer { decoder.path.removeLast() }
        return try decoder.decodeValue(type, at: v)
    }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard let v = lookup(key), !decoder.isNull(v) else { return nil }
        return try decoder.string(v, key)
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        guard let v = lookup(key), !decoder.isNull(v) else { return nil }
        return try decoder.integer(type, v, key)
    }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        guard let v = lookup(key), !decoder.isNull(v) else { return nil }
        return try decoder.double(v, key)
    }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        guard let v = lookup(key), !decoder.isNull(v) else { return nil }
        return try decoder.bool(v, key)
    }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let v = lookup(key), !decoder.isNull(v) else { return nil }
        decoder.path.append(key)
        defer { decoder.path.removeLast() }
        return try decoder.decodeValue(type, at: v)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder.branch(at: child(key), key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder.branch(at: child(key), key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        let v = lookup(Key(stringValue: "super")!)
        return EDNValueDecoder(value: v.map { decoder.tape.materialize($0) } ?? .null, codingPath: codingPath)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        let v = lookup(key)
        return EDNValueDecoder(value: v.map { decoder.tape.materialize($0) } ?? .null, codingPath: codingPath + [key])
    }
}

struct TapeUnkeyedDecoder: UnkeyedDecodingContainer {
    let decoder: TapeDecoder
    let total: Int
    /// The node of the next element.
    var cursor: Int
    let depth: Int
    var currentIndex = 0

    init(decoder: TapeDecoder, count: Int, cursor: Int, depth: Int) {
        self.decoder = decoder
        self.total = count
        self.cursor = cursor
        self.depth = depth
    }

    var codingPath: [any CodingKey] { Array(decoder.path.prefix(depth)) }
    var count: Int? { total }
    var isAtEnd: Bool { currentIndex >= total }

    @inline(__always)
    mutating func next() throws -> (Int, IndexKey) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "Sequence has only \(total) elements"))
        }
        let node = cursor
        let key = IndexKey(currentIndex)
        cursor = decoder.tape.end(of: node)
        currentIndex += 1
        return (node, key)
    }

    mutating func decodeNil() throws -> Bool {
        if !isAtEnd, decoder.isNull(cursor) {
            cursor += 1
            currentIndex += 1
            return true
        }
        return false
    }

    mutating func decode(_ type: String.Type) throws -> String { let (n, k) = try next(); return try decoder.string(n, k) }
    mutating func decode(_ type: Bool.Type) throws -> Bool { let (n, k) = try next(); return try decoder.bool(n, k) }
    mutating func decode(_ type: Double.Type) throws -> Double { let (n, k) = try next(); return try decoder.double(n, k) }
    mutating func decode(_ type: Float.Type) throws -> Float { let (n, k) = try next(); return Float(try decoder.double(n, k)) }
    mutating func decode(_ type: Int.Type) throws -> Int { let (n, k) = try next(); return try decoder.integer(type, n, k) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { let (n, k) = try next(); return try decoder.integer(type, n, k) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { let (n, k) = try next(); return try decoder.integer(type, n, k) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { let (n, k) = try next(); return try decoder.integer(type, n, k) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { let (n, k) = try next(); return try decoder.integer(type, n, k) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { let (n, k) = try next(); return try decoder.integer(type, n, k) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { let (n, k) = try next(); return try decoder.integer(type, n, k) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { let (n, k) = try next(); return try decoder.integer(type, n, k) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { let (n, k) = try next(); return try decoder.integer(type, n, k) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { let (n, k) = try next(); return try decoder.integer(type, n, k) }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (n, k) = try next()
        decoder.path.append(k)
        defer { decoder.path.removeLast() }
        return try decoder.decodeValue(type, at: n)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (n, k) = try next()
        return try decoder.branch(at: n, k).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (n, k) = try next()
        return try decoder.branch(at: n, k).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (n, k) = try next()
        return EDNValueDecoder(value: decoder.tape.materialize(n), codingPath: codingPath + [k])
    }
}

struct TapeSingleDecoder: SingleValueDecodingContainer {
    let decoder: TapeDecoder
    let node: Int
    let depth: Int

    var codingPath: [any CodingKey] { Array(decoder.path.prefix(depth)) }

    func decodeNil() -> Bool { decoder.isNull(node) }
    func decode(_ type: String.Type) throws -> String { try decoder.string(node, nil) }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.bool(node, nil) }
    func decode(_ type: Double.Type) throws -> Double { try decoder.double(node, nil) }
    func decode(_ type: Float.Type) throws -> Float { Float(try decoder.double(node, nil)) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.integer(type, node, nil) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.integer(type, node, nil) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.integer(type, node, nil) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.integer(type, node, nil) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.integer(type, node, nil) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.integer(type, node, nil) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.integer(type, node, nil) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.integer(type, node, nil) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.integer(type, node, nil) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.integer(type, node, nil) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type, at: node) }
}
