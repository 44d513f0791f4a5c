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
