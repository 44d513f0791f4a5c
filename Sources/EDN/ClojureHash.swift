/// Clojure's own hash functions over `EDNValue`s, bit for bit as Clojure 1.11 on the JVM
/// computes them for the value its EDN reader makes of the same text: `Util.hasheq` (what
/// `PersistentHashMap` and `PersistentHashSet` place keys by) and Java's `hashCode()` (what
/// a `TaggedLiteral` hashes its tag and form with).
///
/// Only the printing order depends on them: `pr-str` prints a hash set or hash map in the
/// order of its hash trie, so chsk needs Clojure's hashes to print the same bytes. Value
/// equality and Swift `Hashable` conformance stay as they are.
///
/// Mapping from chsk kinds to what Clojure's reader makes:
/// `.integer` → `Long`; `.bigInteger` → `clojure.lang.BigInt`; `.double` → `Double`;
/// `.bigDecimal` → `BigDecimal`; `.ratio` → `Ratio`; `.character` → `Character`;
/// `.instant` → `java.util.Date`; `.uuid` → `java.util.UUID`; `.list` → `PersistentList`;
/// `.tagged`, and `.uri`/`.bytes` (printed as `#uri "…"`/`#bytes "…"`) → `TaggedLiteral`.
public enum ClojureHash {
    // MARK: Murmur3 (clojure.lang.Murmur3)

    @inline(__always) static func mixK1(_ k: UInt32) -> UInt32 {
        var k1 = k &* 0xcc9e_2d51
        k1 = (k1 << 15) | (k1 >> 17)
        return k1 &* 0x1b87_3593
    }

    @inline(__always) static func mixH1(_ h: UInt32, _ k1: UInt32) -> UInt32 {
        var h1 = h ^ k1
        h1 = (h1 << 13) | (h1 >> 19)
        return h1 &* 5 &+ 0xe654_6b64
    }

    @inline(__always) static func fmix(_ h: UInt32, _ length: UInt32) -> UInt32 {
        var h1 = h ^ length
        h1 ^= h1 >> 16
        h1 = h1 &* 0x85eb_ca6b
        h1 ^= h1 >> 13
        h1 = h1 &* 0xc2b2_ae35
        h1 ^= h1 >> 16
        return h1
    }

    /// `Murmur3.hashInt`.
    static func hashInt(_ input: UInt32) -> UInt32 {
        if input == 0 { return 0 }
        return fmix(mixH1(0, mixK1(input)), 4)
    }

    /// `Murmur3.hashLong`.
    static func hashLong(_ input: Int64) -> UInt32 {
        if input == 0 { return 0 }
        let bits = UInt64(bitPattern: input)
        var h1 = mixH1(0, mixK1(UInt32(truncatingIfNeeded: bits)))
        h1 = mixH1(h1, mixK1(UInt32(truncatingIfNeeded: bits >> 32)))
        return fmix(h1, 8)
    }

    /// The UTF-16 code units of UTF-8 bytes, one at a time: Java strings hash their UTF-16
    /// units, chsk keeps UTF-8, so the hashes decode on the fly (no transcoded copy).
    struct UTF16Units {
        let bytes: UnsafeBufferPointer<UInt8>
        var i: Int
        let end: Int
        var pendingLow: UInt16 = 0

        init(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) {
            self.bytes = bytes
            self.i = start
            self.end = end
        }

        @inline(__always) mutating func next() -> UInt16? {
            if pendingLow != 0 {
                defer { pendingLow = 0 }
                return pendingLow
            }
            guard i < end else { return nil }
            let b0 = UInt32(bytes[i])
            if b0 < 0x80 { i += 1; return UInt16(b0) }
            var scalar: UInt32
            if b0 < 0xE0 {
                scalar = (b0 & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F)
                i += 2
            } else if b0 < 0xF0 {
                scalar = (b0 & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F)
                i += 3
            } else {
                scalar = (b0 & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12 | UInt32(bytes[i + 2] & 0x3F) << 6
                    | UInt32(bytes[i + 3] & 0x3F)
                i += 4
                scalar -= 0x10000
                pendingLow = UInt16(0xDC00 | (scalar & 0x3FF))
                return UInt16(0xD800 | (scalar >> 10))
            }
            return UInt16(scalar)
        }
    }

    /// Calls `body` with the UTF-8 bytes of `s` (in place for native strings).
    @inline(__always)
    static func withUTF8<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let r = s.utf8.withContiguousStorageIfAvailable(body) { return r }
        var copy = s
        return copy.withUTF8(body)
    }

    /// `Murmur3.hashUnencodedChars` of the UTF-16 units of `bytes[start..<end]`.
    static func hashUnencodedChars(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> UInt32 {
        var h1: UInt32 = 0
        var count: UInt32 = 0
        // Pairs of ASCII bytes are pairs of UTF-16 units: no decoding.
        var i = start
        while i + 1 < end, bytes[i] < 0x80, bytes[i + 1] < 0x80 {
            h1 = mixH1(h1, mixK1(UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 16))
            count &+= 2
            i += 2
        }
        var units = UTF16Units(bytes, from: i, to: end)
        while let first = units.next() {
            count &+= 1
            guard let second = units.next() else {
                h1 ^= mixK1(UInt32(first))
                break
            }
            count &+= 1
            h1 = mixH1(h1, mixK1(UInt32(first) | UInt32(second) << 16))
        }
        return fmix(h1, 2 &* count)
    }

    /// `String.hashCode()` of the UTF-16 units of `bytes[start..<end]`.
    static func stringHashCode(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> UInt32 {
        var h: UInt32 = 0
        var i = start
        // ASCII runs need no decoding.
        while i < end, bytes[i] < 0x80 {
            h = 31 &* h &+ UInt32(bytes[i])
            i += 1
        }
        if i < end {
            var units = UTF16Units(bytes, from: i, to: end)
            while let unit = units.next() { h = 31 &* h &+ UInt32(unit) }
        }
        return h
    }

    /// `String.hashCode()`: over UTF-16 code units.
    static func stringHashCode(_ s: String) -> UInt32 {
        withUTF8(s) { stringHashCode($0, from: 0, to: $0.count) }
    }

    /// `Murmur3.mixCollHash`.
    static func mixCollHash(_ hash: UInt32, _ count: Int) -> UInt32 {
        fmix(mixH1(0, mixK1(hash)), UInt32(truncatingIfNeeded: count))
    }

    /// `Murmur3.hashOrdered` of `xs`.
    static func hashOrdered(_ xs: [EDNValue]) -> UInt32 {
        var h: UInt32 = 1
        for x in xs { h = 31 &* h &+ hasheqBits(x) }
        return mixCollHash(h, xs.count)
    }

    // MARK: Java hashCode() of the standard classes

    /// `Long.hashCode()`.
    @inline(__always) static func longHashCode(_ v: Int64) -> UInt32 {
        let bits = UInt64(bitPattern: v)
        return UInt32(truncatingIfNeeded: bits ^ (bits >> 32))
    }

    /// `Double.hashCode()` (`doubleToLongBits`: every NaN is the canonical NaN).
    static func doubleHashCode(_ d: Double) -> UInt32 {
        let bits = d.isNaN ? 0x7ff8_0000_0000_0000 : d.bitPattern
        return UInt32(truncatingIfNeeded: bits ^ (bits >> 32))
    }

    /// `java.math.BigInteger.hashCode()`: the big-endian 32-bit magnitude words, times the sign.
    static func bigIntegerHashCode(_ b: BigInteger) -> UInt32 {
        var h: UInt32 = 0
        for limb in b.limbs.reversed() { h = 31 &* h &+ limb }
        return b.isNegative ? 0 &- h : h
    }

    /// `BigDecimal.hashCode()` of `negative`, `digits`, `scale`: 31 × unscaled.hashCode() + scale.
    static func bigDecimalHashCode(negative: Bool, digits: Substring, scale: Int) -> UInt32 {
        let unscaled = BigInteger(digits) ?? .zero
        return 31 &* bigIntegerHashCode(negative ? -unscaled : unscaled) &+ UInt32(truncatingIfNeeded: scale)
    }

    /// `clojure.lang.BigInt.hashCode()` (a value that fits a long hashes as that long).
    static func bigIntHashCode(_ b: BigInteger) -> UInt32 {
        if let small = b.int64Value { return longHashCode(small) }
        return bigIntegerHashCode(b)
    }

    /// `Util.hashCombine` (boost's; `>>` is Java's arithmetic shift).
    @inline(__always) static func hashCombine(_ seed: UInt32, _ hash: UInt32) -> UInt32 {
        let s = Int32(bitPattern: seed)
        let mixed = hash &+ 0x9e37_79b9 &+ UInt32(bitPattern: s << 6) &+ UInt32(bitPattern: s >> 2)
        return seed ^ mixed
    }

    /// The end of the namespace in a symbol's UTF-8 text (the first `/`, unless the text is
    /// `/` itself or starts with it, as `splitName` splits), or `nil` for no namespace.
    @inline(__always)
    static func namespaceEnd(_ u: UnsafeBufferPointer<UInt8>) -> Int? {
        guard u.count > 1, u[0] != UInt8(ascii: "/") else { return nil }
        var i = 1
        while i < u.count {
            if u[i] == UInt8(ascii: "/") { return i }
            i += 1
        }
        return nil
    }

    /// `Symbol.hashCode()` of a symbol's text (`ns/name`).
    static func symbolHashCode(_ text: String) -> UInt32 {
        withUTF8(text) { u in
            guard let slash = namespaceEnd(u) else { return hashCombine(stringHashCode(u, from: 0, to: u.count), 0) }
            return hashCombine(stringHashCode(u, from: slash + 1, to: u.count), stringHashCode(u, from: 0, to: slash))
        }
    }

    /// `Symbol.hasheq()` of a symbol's text.
    static func symbolHasheq(_ text: String) -> UInt32 {
        withUTF8(text) { u in
            guard let slash = namespaceEnd(u) else { return hashCombine(hashUnencodedChars(u, from: 0, to: u.count), 0) }
            return hashCombine(hashUnencodedChars(u, from: slash + 1, to: u.count), stringHashCode(u, from: 0, to: slash))
        }
    }

    /// `java.util.Date.hashCode()`.
    static func dateHashCode(_ t: Instant) -> UInt32 {
        let ms = t.millisecondsSinceEpoch
        return UInt32(truncatingIfNeeded: ms) ^ UInt32(truncatingIfNeeded: ms >> 32)
    }

    /// `java.util.UUID.hashCode()`.
    static func uuidHashCode(_ u: EDNUUID) -> UInt32 {
        let hilo = u.high ^ u.low
        return UInt32(truncatingIfNeeded: hilo >> 32) ^ UInt32(truncatingIfNeeded: hilo)
    }

    /// `Ratio.hashCode()` (also its `hasheq`: `Ratio` is no `IHashEq`).
    static func ratioHashCode(_ r: Ratio) -> UInt32 {
        bigIntegerHashCode(r.numerator) ^ bigIntegerHashCode(r.denominator)
    }

    /// `TaggedLiteral.hashCode()` (also its `hasheq`): 31 × tag.hashCode() + form.hashCode().
    static func taggedHashCode(_ tag: String, _ form: EDNValue) -> UInt32 {
        31 &* symbolHashCode(tag) &+ javaHashCodeBits(form)
    }

    // MARK: hasheq

    /// `clojure.lang.Util.hasheq` of the value Clojure reads from `value`'s EDN text.
    public static func hasheq(_ value: EDNValue) -> Int32 { Int32(bitPattern: hasheqBits(value)) }

    /// Java's `hashCode()` of the value Clojure reads from `value`'s EDN text.
    public static func javaHashCode(_ value: EDNValue) -> Int32 { Int32(bitPattern: javaHashCodeBits(value)) }

    static func hasheqBits(_ value: EDNValue) -> UInt32 {
        switch value {
        case .null: return 0
        case .bool(let b): return b ? 1231 : 1237
        case .integer(let i): return hashLong(i)
        case .bigInteger(let b):
            if let small = b.int64Value { return hashLong(small) }
            return bigIntegerHashCode(b)
        case .double(let d): return d == 0 ? 0 : doubleHashCode(d)
        case .bigDecimal(let d):
            let n = d.normalized   // stripTrailingZeros(); zero hashes as BigDecimal.ZERO
            return bigDecimalHashCode(negative: n.negative, digits: n.digits, scale: n.scale)
        case .ratio(let r): return ratioHashCode(r)
        case .string(let s): return hashInt(stringHashCode(s))
        case .character(let c): return c.value
        case .keyword(let k): return symbolHasheq(k.text) &+ 0x9e37_79b9
        case .symbol(let s): return symbolHasheq(s.text)
        case .list(let a), .vector(let a): return hashOrdered(a)
        case .map(let m):
            var sum: UInt32 = 0
            var i = 0
            let e = m.entries
            while i < e.count {
                let entry = 31 &* (31 &+ hasheqBits(e[i])) &+ hasheqBits(e[i + 1])
                sum &+= mixCollHash(entry, 2)
                i += 2
            }
            return mixCollHash(sum, m.count)
        case .set(let s):
            var sum: UInt32 = 0
            for x in s.elements { sum &+= hasheqBits(x) }
            return mixCollHash(sum, s.count)
        case .instant(let t): return dateHashCode(t)
        case .uuid(let u): return uuidHashCode(u)
        case .uri(let u): return taggedHashCode("uri", .string(u))
        case .bytes(let b): return taggedHashCode("bytes", .string(Base64.encode(b)))
        case .tagged(let tag, let form): return taggedHashCode(tag.text, form)
        }
    }

    static func javaHashCodeBits(_ value: EDNValue) -> UInt32 {
        switch value {
        case .null: return 0
        case .bool(let b): return b ? 1231 : 1237
        case .integer(let i): return longHashCode(i)
        case .bigInteger(let b): return bigIntHashCode(b)
        case .double(let d): return doubleHashCode(d)
        case .bigDecimal(let d):
            return bigDecimalHashCode(negative: d.isNegative, digits: Substring(d.unscaledDigits), scale: d.scale)
        case .ratio(let r): return ratioHashCode(r)
        case .string(let s): return stringHashCode(s)
        case .character(let c): return c.value
        case .keyword(let k): return symbolHashCode(k.text) &+ 0x9e37_79b9
        case .symbol(let s): return symbolHashCode(s.text)
        case .list(let a), .vector(let a):
            var h: UInt32 = 1
            for x in a { h = 31 &* h &+ javaHashCodeBits(x) }
            return h
        case .map(let m):
            var sum: UInt32 = 0
            var i = 0
            let e = m.entries
            while i < e.count {
                sum &+= javaHashCodeBits(e[i]) ^ javaHashCodeBits(e[i + 1])
                i += 2
            }
            return sum
        case .set(let s):
            var sum: UInt32 = 0
            for x in s.elements { sum &+= javaHashCodeBits(x) }
            return sum
        case .instant(let t): return dateHashCode(t)
        case .uuid(let u): return uuidHashCode(u)
        case .uri(let u): return taggedHashCode("uri", .string(u))
        case .bytes(let b): return taggedHashCode("bytes", .string(Base64.encode(b)))
        case .tagged(let tag, let form): return taggedHashCode(tag.text, form)
        }
    }

    // MARK: hash-trie order

    /// The position a hash takes in `PersistentHashMap`'s trie walk: the trie branches on
    /// five bits at a time from the low end (bits 0–4 first, then 5–9, …, then 30–31), so
    /// the walk visits hashes in the order of these 5-bit groups read low group first.
    @inline(__always) static func trieKey(_ h: UInt32) -> UInt32 {
        var key: UInt32 = 0
        var shift: UInt32 = 0
        while shift < 30 {
            key = key << 5 | (h >> shift & 31)
            shift += 5
        }
        return key << 2 | h >> 30
    }

    /// Calls `body` with the order in which Clojure's `PersistentHashMap`/`PersistentHashSet`,
    /// built by inserting the keys `keys[0]`, `keys[stride]`, `keys[2 * stride]`, … in that
    /// order, iterates them: `nil` first (the map keeps it beside the trie; `body` gets its
    /// key number, if any), then the others by trie position, each slot holding
    /// `trieKey << 32 | key number`, sorted; keys with equal hashes share a collision node,
    /// which keeps them in insertion order (the key number breaks the tie).
    @inline(__always)
    static func withTrieOrder<R>(_ keys: UnsafeBufferPointer<EDNValue>, stride: Int,
                                 _ body: (_ nilKey: Int?, _ slots: UnsafeMutableBufferPointer<UInt64>) -> R) -> R {
        let count = keys.count / stride
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: count) { buffer in
            var n = 0
            var nilKey: Int? = nil
            for i in 0..<count {
                let k = keys[i * stride]
                if case .null = k { nilKey = i; continue }
                buffer.initializeElement(at: n, to: UInt64(trieKey(hasheqBits(k))) << 32 | UInt64(i))
                n += 1
            }
            var slots = UnsafeMutableBufferPointer(rebasing: buffer[0..<n])
            slots.sort()
            return body(nilKey, slots)
        }
    }

    /// Key numbers in Clojure's iteration order (see `withTrieOrder`).
    static func trieOrder(_ keys: UnsafeBufferPointer<EDNValue>, stride: Int) -> [Int] {
        withTrieOrder(keys, stride: stride) { nilKey, slots in
            var order: [Int] = []
            order.reserveCapacity(slots.count + 1)
            if let nilKey { order.append(nilKey) }
            for s in slots { order.append(Int(truncatingIfNeeded: s & 0xFFFF_FFFF)) }
            return order
        }
    }
}

extension EDNMap {
    /// Clojure keeps a map of at most this many entries as a `PersistentArrayMap` (insertion
    /// order); larger maps are `PersistentHashMap`s (hash order). `RT.map` and transient maps
    /// switch at the same size.
    public static var arrayMapLimit: Int { 8 }

    /// The entry numbers in the order Clojure iterates (and so `pr-str` prints and
    /// transit-clj writes) this map as its reader would build it: `nil` (insertion order)
    /// for at most `arrayMapLimit` entries, else the hash-map order.
    public var clojureOrder: [Int]? {
        count <= Self.arrayMapLimit ? nil : entries.withUnsafeBufferPointer { ClojureHash.trieOrder($0, stride: 2) }
    }
}

extension EDNSet {
    /// The member positions in the order Clojure iterates this set (every set its reader
    /// makes is a `PersistentHashSet`, whatever the size); `nil` when that is insertion order
    /// (fewer than two members).
    public var clojureOrder: [Int]? {
        count < 2 ? nil : elements.withUnsafeBufferPointer { ClojureHash.trieOrder($0, stride: 1) }
    }
}
