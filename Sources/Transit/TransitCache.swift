import EDN

/// Cache constants and helpers shared by readers and writers (spec §"Caching").
enum TransitCacheCodes {
    /// Codes use 44 digits, `'0'` (48) … `'['` (91).
    static let digits = 44
    /// Number of codes before the cache starts over (44²).
    static let size = 44 * 44
    /// First digit character.
    static let firstDigit: UInt8 = 48

    /// Appends the code of `index` (without quotes): `^0`, `^[`, `^10`, … `^[[`.
    @inline(__always)
    static func appendCode(_ index: Int, into out: inout ByteBuffer) {
        out.append(UInt8(ascii: "^"))
        if index < digits {
            out.append(firstDigit &+ UInt8(truncatingIfNeeded: index))
        } else {
            out.append(firstDigit &+ UInt8(truncatingIfNeeded: index / digits))
            out.append(firstDigit &+ UInt8(truncatingIfNeeded: index % digits))
        }
    }

    /// Byte length of the code of `index`.
    @inline(__always)
    static func codeLength(_ index: Int) -> Int { index < digits ? 2 : 3 }

    /// The index of a code `^x` / `^xy` (bytes include the `^`), or `nil` when malformed.
    @inline(__always)
    static func index(of s: UnsafeBufferPointer<UInt8>) -> Int? {
        if s.count == 2 {
            let d = Int(s[1]) - Int(firstDigit)
            return d >= 0 && d < digits ? d : nil
        }
        if s.count == 3 {
            let hi = Int(s[1]) - Int(firstDigit), lo = Int(s[2]) - Int(firstDigit)
            guard hi >= 0, hi < digits, lo >= 0, lo < digits else { return nil }
            return hi * digits + lo
        }
        return nil
    }

    /// True when the encoded string (as UTF-8 bytes) is long enough to be cached: at least 4
    /// UTF-16 code units (or Unicode scalars) long.
    @inline(__always)
    static func isLongEnough(_ s: UnsafeBufferPointer<UInt8>, ascii: Bool, unit: TransitCacheLength) -> Bool {
        if s.count < 4 { return false }
        if ascii { return true }
        var n = 0
        for b in s {
            if b & 0xC0 != 0x80 {
                n += 1
                if b >= 0xF0 && unit == .utf16 { n += 1 }
                if n >= 4 { return true }
            }
        }
        return false
    }
}

/// What a Transit string means before it is placed: a value, a tag (`"~#tag"`), or the
/// map-as-array marker `"^ "`.
enum StringItem {
    case value(EDNValue)
    case tag(String)
    case mapMarker
}

/// The reader's cache: decoded values (or tags) in the order their strings were first read.
struct ReadCache {
    private var entries: [StringItem] = []

    init() { entries.reserveCapacity(32) }

    @inline(__always)
    mutating func store(_ item: StringItem) {
        if entries.count == TransitCacheCodes.size { entries.removeAll(keepingCapacity: true) }
        entries.append(item)
    }

    @inline(__always)
    func lookup(_ index: Int) -> StringItem? {
        index < entries.count ? entries[index] : nil
    }
}

/// The writer's cache keys an encoded string as (`tag`, `text`): `tag` 0 means `text` is the
/// whole encoded string; otherwise the encoded string is `"~" + tag + text` (tag `~` is an
/// escaped string: `"~" + text`, where `text` starts with `~`, `^` or `` ` ``).
/// The writer's cache (transit-java's `WriteCache` semantics): an open-addressing table with a
/// cheap byte hash (the standard `Hasher` dominated writing time), holding at most 1 936
/// strings before it starts over.
struct WriteCache {
    private static let slotCount = 4096   // > 2 × 1936: load factor below one half
    private var slots: [Int16]
    private var texts: [String] = []
    private var tags: [UInt8] = []
    private var hashes: [UInt32] = []

    init() {
        slots = []
    }

    @inline(__always)
    static func hash(_ tag: UInt8, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var h: UInt32 = 2_166_136_261 ^ UInt32(tag)
        for b in bytes { h = (h ^ UInt32(b)) &* 16_777_619 }
        return h ^ (h >> 15)
    }

    /// The code index of a cacheable string seen before, else `nil` after recording it.
    /// `bytes` are the UTF-8 bytes of `text`.
    @inline(__always)
    mutating func lookupOrInsert(tag: UInt8, text: String, bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        if slots.isEmpty {
            slots = [Int16](repeating: -1, count: WriteCache.slotCount)
            texts.reserveCapacity(64)
            tags.reserveCapacity(64)
            hashes.reserveCapacity(64)
        }
        let h = WriteCache.hash(tag, bytes)
        let mask = WriteCache.slotCount - 1
        var i = Int(h) & mask
        while true {
            let e = Int(slots[i])
            if e < 0 { break }
            if hashes[e] == h && tags[e] == tag && texts[e] == text { return e }
            i = (i + 1) & mask
        }
        if texts.count == TransitCacheCodes.size {
            for k in slots.indices { slots[k] = -1 }
            texts.removeAll(keepingCapacity: true)
            tags.removeAll(keepingCapacity: true)
            hashes.removeAll(keepingCapacity: true)
            i = Int(h) & mask
        }
        slots[i] = Int16(texts.count)
        texts.append(text)
        tags.append(tag)
        hashes.append(h)
        return nil
    }
}

/// A stack of values under construction, shared by all the collections of one parse: the
/// elements of an array or map are pushed here, then moved (no retain/release, no regrowth of
/// the result) into an exactly sized array or map when the collection closes.
final class ValueStack {
    private var base: UnsafeMutablePointer<EDNValue>
    private var capacity: Int
    private(set) var count = 0

    init() {
        capacity = 64
        base = .allocate(capacity: capacity)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    @inline(__always)
    func push(_ value: consuming EDNValue) {
        if count == capacity { grow() }
        (base + count).initialize(to: value)
        count += 1
    }

    private func grow() {
        let newCapacity = capacity * 2
        let fresh = UnsafeMutablePointer<EDNValue>.allocate(capacity: newCapacity)
        fresh.moveInitialize(from: base, count: count)
        base.deallocate()
        base = fresh
        capacity = newCapacity
    }

    /// The values pushed since `start`, as an array; the stack drops back to `start`.
    @inline(__always)
    func popArray(from start: Int) -> [EDNValue] {
        let n = count - start
        if n == 0 { return [] }
        let source = base + start
        let items = [EDNValue](unsafeUninitializedCapacity: n) { buffer, initialized in
            buffer.baseAddress!.moveInitialize(from: source, count: n)
            initialized = n
        }
        count = start
        return items
    }

    /// The key/value pairs pushed since `start`, as a map (later duplicates replace earlier
    /// values); the stack drops back to `start`.
    @inline(__always)
    func popMap(from start: Int) -> EDNMap {
        var m = EDNMap()
        let n = (count - start) / 2
        if n == 0 { return m }
        m.reserveCapacity(n)
        var p = base + start
        for _ in 0..<n {
            let k = p.move()
            let v = (p + 1).move()
            m[k] = v
            p += 2
        }
        count = start
        return m
    }
}
