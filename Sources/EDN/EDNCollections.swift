/// Small maps and sets are searched linearly; from this size on a hash index is kept.
let indexThreshold = 16

/// An EDN map: any values as keys, insertion order kept (so printing is deterministic),
/// keys unique under `EDNValue`'s Clojure-style equality. Equality ignores order.
///
/// Storage is one array of keys and values interleaved (`[k0, v0, k1, v1, …]`): one
/// allocation per map, which the readers fill in one move and the writers walk in one pass.
public struct EDNMap: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// Keys and values interleaved: the key of entry `i` at `2 * i`, its value at `2 * i + 1`.
    public private(set) var entries: [EDNValue] = []
    /// Entry number by key, kept from `indexThreshold` entries on.
    private var index: [EDNValue: Int]?

    /// An empty map.
    public init() {}

    public init(dictionaryLiteral elements: (EDNValue, EDNValue)...) {
        self.init(interleaved: Self.flatten(elements, count: elements.count))
    }

    /// `[(k, v)…]` as `[k, v, …]` (for `init(interleaved:)`: one pass over the keys instead of
    /// an insertion per pair).
    static func flatten(_ pairs: some Sequence<(EDNValue, EDNValue)>, count: Int) -> [EDNValue] {
        var flat: [EDNValue] = []
        flat.reserveCapacity(count * 2)
        for (k, v) in pairs {
            flat.append(k)
            flat.append(v)
        }
        return flat
    }

    /// A map of keys and values interleaved (`[k0, v0, k1, v1, …]`, an even count), built in
    /// one go: the array is kept as it is when the keys are distinct, which a cheap
    /// fingerprint per key shows without comparing most pairs. A key equal to an earlier one
    /// replaces that entry's value and keeps its position, as `m[k] = v` in a loop would.
    public init(interleaved entries: [EDNValue]) {
        precondition(entries.count % 2 == 0, "EDNMap(interleaved:) needs an even number of items")
        if case .unique(let index) = Self.checkKeys(entries) {
            self.entries = entries
            self.index = index
            return
        }
        var i = 0
        while i < entries.count { self[entries[i]] = entries[i + 1]; i += 2 }
    }

    /// Like `init(interleaved:)`, but `nil` when two keys are equal (the EDN reader's rule).
    public init?(uniqueInterleaved entries: [EDNValue]) {
        precondition(entries.count % 2 == 0, "EDNMap(uniqueInterleaved:) needs an even number of items")
        guard case .unique(let index) = Self.checkKeys(entries) else { return nil }
        self.entries = entries
        self.index = index
    }

    /// A map of the parallel arrays `keys` and `values` (equal counts); a later duplicate key
    /// replaces the earlier value, as with `init(interleaved:)`.
    public init(keys: [EDNValue], values: [EDNValue]) {
        precondition(keys.count == values.count, "EDNMap(keys:values:) needs as many values as keys")
        self.init(interleaved: Self.flatten(zip(keys, values), count: keys.count))
    }

    /// The first key of interleaved `entries` that equals an earlier key, if any.
    public static func firstDuplicate(interleaved entries: [EDNValue]) -> EDNValue? {
        if case .unique = checkKeys(entries) { return nil }
        var seen = EDNMap()
        var i = 0
        while i < entries.count {
            if !seen.insertNew(entries[i], .null) { return entries[i] }
            i += 2
        }
        return nil
    }

    private enum KeyCheck {
        case duplicate
        /// Distinct keys, and the hash index a map of them keeps (`nil` below the threshold).
        case unique([EDNValue: Int]?)
    }

    /// Whether the keys of interleaved `entries` are distinct. Below the index threshold,
    /// keys are compared with `==` only when their fingerprints agree.
    private static func checkKeys(_ entries: [EDNValue]) -> KeyCheck {
        let n = entries.count / 2
        if n >= indexThreshold {
            var built: [EDNValue: Int] = [:]
            built.reserveCapacity(n * 2)
            for i in 0..<n where built.updateValue(i, forKey: entries[2 * i]) != nil { return .duplicate }
            return .unique(built)
        }
        if n < 2 { return .unique(nil) }
        let distinct = withUnsafeTemporaryAllocation(of: UInt64.self, capacity: n) { fp -> Bool in
            entries.withUnsafeBufferPointer { e in
                for i in 0..<n {
                    let f = e[2 * i].keyFingerprint
                    fp[i] = f
                    for j in 0..<i where fp[j] == f && e[2 * j] == e[2 * i] { return false }
                }
                return true
            }
        }
        return distinct ? .unique(nil) : .duplicate
    }

    /// Reserves room for `n` entries.
    public mutating func reserveCapacity(_ n: Int) {
        entries.reserveCapacity(2 * n)
    }

    /// The number of entries.
    public var count: Int { entries.count / 2 }
    /// True when the map has no entries.
    public var isEmpty: Bool { entries.isEmpty }

    /// The keys, in insertion order (a new array).
    public var keys: [EDNValue] { stride(from: 0, to: entries.count, by: 2).map { entries[$0] } }
    /// The values, parallel to `keys` (a new array).
    public var values: [EDNValue] { stride(from: 1, to: entries.count, by: 2).map { entries[$0] } }

    /// The key of entry `i` (insertion order).
    public func key(at i: Int) -> EDNValue { entries[2 * i] }
    /// The value of entry `i` (insertion order).
    public func value(at i: Int) -> EDNValue { entries[2 * i + 1] }

    /// The position (entry number) of `key`, if present.
    public func position(of key: EDNValue) -> Int? {
        if let index { return index[key] }
        return entries.withUnsafeBufferPointer { e in
            var i = 0
            while i < e.count {
                if e[i] == key { return i / 2 }
                i += 2
            }
            return nil
        }
    }

    /// The value stored under `key`; setting `nil` removes the entry.
    public subscript(key: EDNValue) -> EDNValue? {
        get { position(of: key).map { entries[2 * $0 + 1] } }
        set {
            if let newValue { updateValue(newValue, forKey: key) } else { removeValue(forKey: key) }
        }
    }

    /// Stores `value` under `key` (keeping the key's position if present); returns the old value.
    @discardableResult
    public mutating func updateValue(_ value: EDNValue, forKey key: EDNValue) -> EDNValue? {
        if let i = position(of: key) {
            let old = entries[2 * i + 1]
            entries[2 * i + 1] = value
            return old
        }
        appendNew(key, value)
        return nil
    }

    /// Adds an entry whose key must not be present yet; returns `false` (and changes nothing)
    /// when it is — the reader's duplicate-key check.
    public mutating func insertNew(_ key: EDNValue, _ value: EDNValue) -> Bool {
        if position(of: key) != nil { return false }
        appendNew(key, value)
        return true
    }

    private mutating func appendNew(_ key: EDNValue, _ value: EDNValue) {
        entries.append(key)
        entries.append(value)
        if index != nil {
            index![key] = count - 1
        } else if count >= indexThreshold {
            index = Self.buildIndex(entries)
        }
    }

    private static func buildIndex(_ entries: [EDNValue]) -> [EDNValue: Int] {
        var built: [EDNValue: Int] = [:]
        built.reserveCapacity(entries.count)
        var i = 0
        while i < entries.count { built[entries[i]] = i / 2; i += 2 }
        return built
    }

    /// Removes `key`; returns its value.
    @discardableResult
    public mutating func removeValue(forKey key: EDNValue) -> EDNValue? {
        guard let i = position(of: key) else { return nil }
        let old = entries[2 * i + 1]
        entries.removeSubrange((2 * i)..<(2 * i + 2))
        if index != nil { index = count >= indexThreshold ? Self.buildIndex(entries) : nil }
        return old
    }

    /// Entries in insertion order.
    public struct Iterator: IteratorProtocol {
        let entries: [EDNValue]
        var i = 0
        public mutating func next() -> (EDNValue, EDNValue)? {
            guard i < entries.count else { return nil }
            defer { i += 2 }
            return (entries[i], entries[i + 1])
        }
    }

    /// Entries in insertion order.
    public func makeIterator() -> Iterator { Iterator(entries: entries) }

    public var underestimatedCount: Int { count }

    public static func == (a: EDNMap, b: EDNMap) -> Bool {
        guard a.count == b.count else { return false }
        for (k, v) in a {
            guard let w = b[k], w == v else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        var sum = 0
        for (k, v) in self {
            var h = Hasher()
            h.combine(k)
            h.combine(v)
            sum &+= h.finalize()
        }
        hasher.combine(count)
        hasher.combine(sum)
    }
}

/// An EDN set: members of any kind, insertion order kept, unique under Clojure-style equality.
public struct EDNSet: Sendable, Hashable, Sequence, ExpressibleByArrayLiteral {
    /// The members, in insertion order.
    public private(set) var elements: [EDNValue] = []
    private var index: Set<EDNValue>?

    /// An empty set.
    public init() {}

    public init(arrayLiteral elements: EDNValue...) {
        for e in elements { insert(e) }
    }

    /// A set of the given members (duplicates dropped, first occurrence kept).
    public init<S: Sequence>(_ members: S) where S.Element == EDNValue {
        for e in members { insert(e) }
    }

    /// The number of members.
    public var count: Int { elements.count }
    /// True when empty.
    public var isEmpty: Bool { elements.isEmpty }

    /// True when `value` is a member.
    public func contains(_ value: EDNValue) -> Bool {
        if let index { return index.contains(value) }
        return elements.contains(value)
    }

    /// Adds `value` unless present; returns whether it was added.
    @discardableResult
    public mutating func insert(_ value: EDNValue) -> Bool {
        if contains(value) { return false }
        elements.append(value)
        if index != nil {
            index!.insert(value)
        } else if elements.count >= indexThreshold {
            var built = Set<EDNValue>(minimumCapacity: elements.count * 2)
            for e in elements { built.insert(e) }
            index = built
        }
        return true
    }

    /// Removes `value`; returns whether it was present.
    @discardableResult
    public mutating func remove(_ value: EDNValue) -> Bool {
        if let index, !index.contains(value) { return false }
        guard let i = elements.firstIndex(of: value) else { return false }
        elements.remove(at: i)
        if index != nil {
            if elements.count >= indexThreshold { index!.remove(value) } else { index = nil }
        }
        return true
    }

    public func makeIterator() -> IndexingIterator<[EDNValue]> { elements.makeIterator() }

    public static func == (a: EDNSet, b: EDNSet) -> Bool {
        a.count == b.count && a.elements.allSatisfy { b.contains($0) }
    }

    public func hash(into hasher: inout Hasher) {
        var sum = 0
        for e in elements { sum &+= e.hashValue }
        hasher.combine(count)
        hasher.combine(sum)
    }
}

extension EDNValue {
    /// A cheap 64-bit fingerprint with `a == b ⇒ a.keyFingerprint == b.keyFingerprint` (under
    /// the Clojure-style `==`, so `1` and `1N` agree, lists and vectors agree): lets map and
    /// set construction skip the full comparison of keys that plainly differ. Strings,
    /// keywords and symbols are fingerprinted by their UTF-8 bytes, integers by value; other
    /// kinds share one fingerprint per kind (and are then compared in full).
    @inline(__always)
    var keyFingerprint: UInt64 {
        switch self {
        case .keyword(let k): return utf8Fingerprint(k.text) &+ 0x8000_0000_0000_0008
        case .string(let s): return utf8Fingerprint(s) &+ 0x6000_0000_0000_0006
        case .symbol(let s): return utf8Fingerprint(s.text) &+ 0xA000_0000_0000_000A
        case .integer(let i): return UInt64(bitPattern: i) &* 0x9E37_79B9_7F4A_7C15
        case .bigInteger(let b):
            if let i = b.int64Value { return UInt64(bitPattern: i) &* 0x9E37_79B9_7F4A_7C15 }
            return 2
        case .null: return 0
        case .bool(let b): return b ? 11 : 12
        case .double: return 3
        case .list, .vector: return 13
        case .map: return 14
        case .set: return 15
        case .instant(let t): return UInt64(bitPattern: t.millisecondsSinceEpoch) &* 0xC2B2_AE3D_27D4_EB4F
        case .uuid(let u): return u.high ^ (u.low &* 0x9E37_79B9_7F4A_7C15)
        default: return 16
        }
    }
}

/// A fingerprint of a string's UTF-8 bytes: its length and its first and last eight bytes.
@inline(__always)
func utf8Fingerprint(_ s: String) -> UInt64 {
    // Native strings (all the readers make) have contiguous UTF-8; others fall back to
    // their length, which is still consistent with ==.
    s.utf8.withContiguousStorageIfAvailable { b -> UInt64 in
        let n = b.count
        guard let p = b.baseAddress, n > 0 else { return 0x51 }
        var head: UInt64 = 0, tail: UInt64 = 0
        if n >= 8 {
            head = UnsafeRawPointer(p).loadUnaligned(as: UInt64.self)
            tail = UnsafeRawPointer(p + n - 8).loadUnaligned(as: UInt64.self)
        } else {
            for i in 0..<n { head = head << 8 | UInt64(p[i]) }
        }
        var h = (head ^ UInt64(n) &* 0x9E37_79B9_7F4A_7C15) &* 0xFF51_AFD7_ED55_8CCD
        h ^= (tail &* 0xC4CE_B9FE_1A85_EC53) ^ (h >> 29)
        return h
    } ?? UInt64(s.utf8.count) &* 0x9E37_79B9_7F4A_7C15
}
