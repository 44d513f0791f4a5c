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
/// Its own storage (not an array): no uniqueness check per store, no class reference to
/// retain around every call of the parser that owns it.
struct ReadCache: ~Copyable {
    private var entries: UnsafeMutablePointer<StringItem>
    private var capacity = 32
    private var count = 0

    init() { entries = .allocate(capacity: capacity) }

    deinit {
        entries.deinitialize(count: count)
        entries.deallocate()
    }

    /// Forgets every entry (a new top-level value starts a new cache).
    mutating func reset() {
        entries.deinitialize(count: count)
        count = 0
    }

    @inline(__always)
    mutating func store(_ item: consuming StringItem) {
        if count == capacity {
            if count == TransitCacheCodes.size {
                reset()
            } else {
                capacity = min(capacity * 2, TransitCacheCodes.size)
                entries = moveToNewStorage(entries, count: count, capacity: capacity)
            }
        }
        (entries + count).initialize(to: item)
        count &+= 1
    }

    @inline(__always)
    func lookup(_ index: Int) -> StringItem? {
        index < count ? entries[index] : nil
    }
}

/// The writer's cache keys an encoded string as (`tag`, `text`): `tag` 0 means `text` is the
/// whole encoded string; otherwise the encoded string is `"~" + tag + text` (tag `~` is an
/// escaped string: `"~" + text`, where `text` starts with `~`, `^` or `` ` ``).
/// The writer's cache (transit-java's `WriteCache` semantics): an open-addressing table with a
/// cheap byte hash (the standard `Hasher` dominated writing time), holding at most 1 936
/// strings before it starts over. The texts' bytes live in one arena and are compared with
/// `memcmp`-style loops: no `String` copies, no retain/release, no `String ==`.
struct WriteCache {
    private static let slotCount = 4096   // > 2 × 1936: load factor below one half
    private static let mask = slotCount - 1

    /// One cached string: its hash, tag, and where its text lies in `arena`.
    private struct Entry {
        var hash: UInt32
        var tag: UInt8
        var start: Int32
        var length: Int32
    }

    /// Entry index + 1 per slot (0 = empty).
    private var slots: UnsafeMutablePointer<Int16>?
    /// Room for the 1 936 entries of a full cache.
    private var entries: UnsafeMutablePointer<Entry>?
    private var entryCount = 0
    private var arena: UnsafeMutablePointer<UInt8>?
    private var arenaCount = 0
    private var arenaCapacity = 0

    init() {}

    /// Releases the memory; the cache must not be used afterwards.
    func free() {
        slots?.deallocate()
        entries?.deallocate()
        arena?.deallocate()
    }

    /// A cheap hash of (tag, bytes), eight bytes per step. Short texts and the last word are
    /// read with overlapping loads (no byte-by-byte tail loop: most cached texts are short
    /// keywords, for which that loop was a third of the lookup).
    @inline(__always)
    static func hash(_ tag: UInt8, _ bytes: UnsafeBufferPointer<UInt8>) -> UInt32 {
        let n = bytes.count
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(tag) ^ (UInt64(n) << 8)
        guard let p = bytes.baseAddress, n > 0 else { return UInt32(truncatingIfNeeded: h ^ (h >> 32)) }
        let raw = UnsafeRawPointer(p)
        let last: UInt64
        if n >= 8 {
            var i = 0
            while i &+ 8 < n {
                h = (h ^ loadWord(raw, i, as: UInt64.self)) &* 0x0000_0100_0000_01B3
                h ^= h >> 29
                i &+= 8
            }
            last = loadWord(raw, n &- 8, as: UInt64.self)
        } else if n >= 4 {
            last = UInt64(loadWord(raw, as: UInt32.self))
                | UInt64(loadWord(raw, n &- 4, as: UInt32.self)) << 32
        } else {
            last = UInt64(p[0]) | UInt64(p[n >> 1]) << 8 | UInt64(p[n &- 1]) << 16
        }
        h = (h ^ last) &* 0x0000_0100_0000_01B3
        h ^= h >> 32
        h = h &* 0xFF51_AFD7_ED55_8CCD
        return UInt32(truncatingIfNeeded: h ^ (h >> 29))
    }

    @inline(__always)
    private func equal(_ e: Entry, _ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = Int(e.length)
        guard n == bytes.count else { return false }
        guard n > 0, let arena, let q = bytes.baseAddress else { return true }
        let a = UnsafeRawPointer(arena + Int(e.start)), b = UnsafeRawPointer(q)
        if n >= 8 {
            var i = 0
            while i &+ 8 < n {
                if loadWord(a, i, as: UInt64.self) != loadWord(b, i, as: UInt64.self) { return false }
                i &+= 8
            }
            return loadWord(a, n &- 8, as: UInt64.self) == loadWord(b, n &- 8, as: UInt64.self)
        }
        if n >= 4 {
            return loadWord(a, as: UInt32.self) == loadWord(b, as: UInt32.self)
                && loadWord(a, n &- 4, as: UInt32.self) == loadWord(b, n &- 4, as: UInt32.self)
        }
        for i in 0..<n where a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
        return true
    }

    private mutating func setUp() {
        let s = UnsafeMutablePointer<Int16>.allocate(capacity: WriteCache.slotCount)
        s.initialize(repeating: 0, count: WriteCache.slotCount)
        slots = s
        entries = .allocate(capacity: TransitCacheCodes.size)
        arenaCapacity = 1024
        arena = .allocate(capacity: arenaCapacity)
    }

    private mutating func store(_ bytes: UnsafeBufferPointer<UInt8>) -> Int32 {
        let n = bytes.count
        if arenaCount + n > arenaCapacity {
            var c = arenaCapacity * 2
            while c < arenaCount + n { c *= 2 }
            let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
            fresh.initialize(from: arena!, count: arenaCount)
            arena!.deallocate()
            arena = fresh
            arenaCapacity = c
        }
        if n > 0, let src = bytes.baseAddress { (arena! + arenaCount).initialize(from: src, count: n) }
        let start = Int32(arenaCount)
        arenaCount += n
        return start
    }

    /// The code index of a cacheable string seen before, else `nil` after recording it.
    /// `bytes` are the UTF-8 bytes of the text.
    @inline(__always)
    mutating func lookupOrInsert(tag: UInt8, bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        if slots == nil { setUp() }
        let slots = self.slots!, entries = self.entries!
        let h = WriteCache.hash(tag, bytes)
        var i = Int(h) & WriteCache.mask
        while true {
            let e = Int(slots[i]) &- 1
            if e < 0 { break }
            let entry = entries[e]
            if entry.hash == h && entry.tag == tag && equal(entry, bytes) { return e }
            i = (i &+ 1) & WriteCache.mask
        }
        if entryCount == TransitCacheCodes.size {
            slots.update(repeating: 0, count: WriteCache.slotCount)
            entryCount = 0
            arenaCount = 0
            i = Int(h) & WriteCache.mask
        }
        slots[i] = Int16(entryCount + 1)
        let start = store(bytes)
        (entries + entryCount).initialize(to: Entry(hash: h, tag: tag, start: start, length: Int32(bytes.count)))
        entryCount += 1
        return nil
    }
}

/// A stack of values under construction, shared by all the collections of one parse: the
/// elements of an array or map are pushed here, then moved (no retain/release, no regrowth of
/// the result) into an exactly sized array or map when the collection closes.
struct ValueStack: ~Copyable {
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
    mutating func push(_ value: consuming EDNValue) {
        if count == capacity { grow() }
        (base + count).initialize(to: value)
        count += 1
    }

    private mutating func grow() {
        capacity *= 2
        base = moveToNewStorage(base, count: count, capacity: capacity)
    }

    /// The values pushed since `start`, as an array; the stack drops back to `start`.
    @inline(__always)
    mutating func popArray(from start: Int) -> [EDNValue] {
        let n = count - start
        if n == 0 { return [] }
        // reserveCapacity + moving appends, not Array(unsafeUninitializedCapacity:): that one
        // allocates through an unspecialised runtime path that looks the storage class's
        // metadata up for every array (about 300 instructions per array); this path is
        // specialised here and caches it.
        var items: [EDNValue] = []
        items.reserveCapacity(n)
        let source = base + start
        for i in 0..<n { items.append((source + i).move()) }
        count = start
        return items
    }

    /// The key/value pairs pushed since `start`, as a map (later duplicates replace earlier
    /// values); the stack drops back to `start`.
    @inline(__always)
    mutating func popMap(from start: Int) -> EDNMap {
        // Keys and values lie interleaved on the stack, as EDNMap keeps them (an odd last
        // item, which the readers never leave, is dropped).
        if (count - start) % 2 != 0 { count -= 1; (base + count).deinitialize(count: 1) }
        let entries = popArray(from: start)
        // A later duplicate key replaces the earlier value.
        return EDNMap(interleaved: entries)
    }
}

/// Moves the `count` items of `storage` into a new allocation of `capacity` items and frees
/// the old one (the growth of the readers' own stacks and caches).
func moveToNewStorage<T>(_ storage: UnsafeMutablePointer<T>, count: Int, capacity: Int) -> UnsafeMutablePointer<T> {
    let fresh = UnsafeMutablePointer<T>.allocate(capacity: capacity)
    fresh.moveInitialize(from: storage, count: count)
    storage.deallocate()
    return fresh
}
