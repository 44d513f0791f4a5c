/// Small maps and sets are searched linearly; from this size on a hash index is kept.
let indexThreshold = 16

/// An EDN map: any values as keys, insertion order kept (so printing is deterministic),
/// keys unique under `EDNValue`'s Clojure-style equality. Equality ignores order.
public struct EDNMap: Sendable, Hashable, Sequence, ExpressibleByDictionaryLiteral {
    /// The keys, in insertion order.
    public private(set) var keys: [EDNValue] = []
    /// The values, parallel to `keys`.
    public private(set) var values: [EDNValue] = []
    private var index: [EDNValue: Int]?

    /// An empty map.
    public init() {}

    public init(dictionaryLiteral elements: (EDNValue, EDNValue)...) {
        for (k, v) in elements { self[k] = v }
    }

    /// A map of the parallel arrays `keys` and `values` (equal counts), built in one go: the
    /// arrays are kept as they are when the keys are distinct, which a cheap fingerprint per
    /// key shows without comparing most pairs. A key equal to an earlier one replaces that
    /// entry's value and keeps its position, as `m[k] = v` in a loop would.
    public init(keys: [EDNValue], values: [EDNValue]) {
        precondition(keys.count == values.count, "EDNMap(keys:values:) needs as many values as keys")
        if case .unique(let index) = Self.checkKeys(keys) {
            self.keys = keys
            self.values = values
            self.index = index
            return
        }
        for (k, v) in zip(keys, values) { self[k] = v }
    }

    /// Like `init(keys:values:)`, but `nil` when two keys are equal (the EDN reader's rule).
    public init?(uniqueKeys keys: [EDNValue], values: [EDNValue]) {
        precondition(keys.count == values.count, "EDNMap(uniqueKeys:values:) needs as many values as keys")
        guard case .unique(let index) = Self.checkKeys(keys) else { return nil }
        self.keys = keys
        self.values = values
        self.index = index
    }

    /// The first key that equals an earlier one, if any.
    public static func firstDuplicate(in keys: [EDNValue]) -> EDNValue? {
        if case .unique = checkKeys(keys) { return nil }
        var seen = EDNMap()
        for k in keys where !seen.insertNew(k, .null) { return k }
        return nil
    }

    private enum KeyCheck {
        case duplicate
        /// Distinct keys, and the hash index a map of them keeps (`nil` below the threshold).
        case unique([EDNValue: Int]?)
    }

    /// Whether `keys` are distinct. Below the index threshold, keys are compared with `==`
    /// only when their fingerprints agree.
    private static func checkKeys(_ keys: [EDNValue]) -> KeyCheck {
        let n = keys.count
        if n >= indexThreshold {
            var built: [EDNValue: Int] = [:]
            built.reserveCapacity(n * 2)
            for i in 0..<n where built.updateValue(i, forKey: keys[i]) != nil { return .duplicate }
            return .unique(built)
        }
        if n < 2 { return .unique(nil) }
        let distinct = withUnsafeTemporaryAllocation(of: UInt64.self, capacity: n) { fp -> Bool in
            keys.withUnsafeBufferPointer { k in
                for i in 0..<n {
                    let f = k[i].keyFingerprint
                    fp[i] = f
                    for j in 0..<i where fp[j] == f && k[j] == k[i] { return false }
                }
                return true
            }
        }
        return distinct ? .unique(nil) : .duplicate
    }

    /// Reserves room for `n` entries.
    public mutating func reserveCapacity(_ n: Int) {
        keys.reserveCapacity(n)
        values.reserveCapacity(n)
    }

    /// The number of entries.
    public var count: Int { keys.count }
    /// True when the map has no entries.
    public var isEmpty: Bool { keys.isEmpty }

    /// The position of `key`, if present.
    public func position(of key: EDNValue) -> Int? {
        if let index { return index[key] }
        return keys.firstIndex(of: key)
    }

    /// The value stored under `key`; setting `nil` removes the entry.
    public subscript(key: EDNValue) -> EDNValue? {
        get { position(of: key).map { values[$0] } }
        set {
            if let newValue { updateValue(newValue, forKey: key) } else { removeValue(forKey: key) }
        }
    }

    /// Stores `value` under `key` (keeping the key's position if present); returns the old value.
    @discardableResult
    public mutating func updateValue(_ value: EDNValue, forKey key: EDNValue) -> EDNValue? {
        if let i = position(of: key) {
            let old = values[i]
            values[i] = value
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
        keys.append(key)
        values.append(value)
        if index != nil {
            index![key] = keys.count - 1
        } else if keys.count >= indexThreshold {
            var built: [EDNValue: Int] = [:]
            built.reserveCapacity(keys.count * 2)
            for (i, k) in keys.enumerated() { built[k] = i }
            index = built
        }
    }

    /// Removes `key`; returns its value.
    @discardableResult
    public mutating func removeValue(forKey key: EDNValue) -> EDNValue? {
        guard let i = position(of: key) else { return nil }
        keys.remove(at: i)
        let old = values.remove(at: i)
        if index != nil {
            var built: [EDNValue: Int] = [:]
            for (j, k) in keys.enumerated() { built[k] = j }
            index = keys.count >= indexThreshold ? built : nil
        }
        return old
    }

    /// Entries in insertion order.
    public func makeIterator() -> Zip2Sequence<[EDNValue], [EDNValue]>.Iterator {
        zip(keys, values).makeIterator()
    }

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
        guard let i = elements.firstIndex(of: value) else { return false }
        elements.remove(at: i)
        if index != nil { index = elements.count >= indexThreshold ? Set(elements) : nil }
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
func utf8Fingerprint(_ s: String) -> UInt64 {
    var s = s
    return s.withUTF8 { b -> UInt64 in
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
    }
}
