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
    static func appendCode(_ index: Int, into out: inout [UInt8]) {
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

/// The key of an encoded string in the write cache: `tag` 0 means `text` is the whole encoded
/// string; otherwise the encoded string is `"~" + tag + text` (tag `~` is an escaped string:
/// `"~" + text`, where `text` starts with `~`, `^` or `` ` ``).
struct WriteCacheKey: Hashable {
    let tag: UInt8
    let text: String
}

/// The writer's cache (transit-java's `WriteCache`).
struct WriteCache {
    private var codes: [WriteCacheKey: Int] = [:]
    private var next = 0

    /// The code index of a cacheable string seen before, else `nil` after recording it.
    @inline(__always)
    mutating func lookupOrInsert(_ key: WriteCacheKey) -> Int? {
        if let i = codes[key] { return i }
        if next == TransitCacheCodes.size {
            codes.removeAll(keepingCapacity: true)
            next = 0
        }
        codes[key] = next
        next += 1
        return nil
    }
}

/// Length in the cache's unit of a Swift string, capped: returns as soon as it reaches `atLeast`.
@inline(__always)
func cacheLength(_ s: String, unit: TransitCacheLength, atLeast: Int) -> Bool {
    let u = s.utf8
    if u.count < atLeast { return false }
    switch unit {
    case .utf16: return s.utf16.count >= atLeast
    case .unicodeScalars:
        var n = 0
        for b in u where b & 0xC0 != 0x80 {
            n += 1
            if n >= atLeast { return true }
        }
        return false
    }
}
