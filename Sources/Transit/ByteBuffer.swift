/// A growable byte buffer for the writers: raw stores instead of `Array.append`'s per-call
/// uniqueness and capacity checks. Its owner frees it with `free()`.
struct ByteBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int = 256) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    /// Releases the memory; the buffer must not be used afterwards.
    func free() { base.deallocate() }

    /// The bytes written, as an array.
    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    @inline(__always)
    mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    private mutating func grow(_ needed: Int) {
        var c = capacity * 2
        while c < needed { c *= 2 }
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        fresh.initialize(from: base, count: count)
        base.deallocate()
        base = fresh
        capacity = c
    }

    @inline(__always)
    mutating func append(_ b: UInt8) {
        if count == capacity { grow(count + 1) }
        base[count] = b
        count += 1
    }

    @inline(__always)
    mutating func append(_ a: UInt8, _ b: UInt8) {
        reserve(2)
        base[count] = a
        base[count + 1] = b
        count += 2
    }

    /// Copies `src` eight bytes at a time while no byte of the word needs JSON escaping (`"`,
    /// `\`, control bytes; exact SWAR tests); returns how many bytes were copied (a multiple
    /// of eight). The caller handles the rest.
    @inline(__always)
    mutating func appendJSONCleanWords(_ src: UnsafePointer<UInt8>, _ n: Int) -> Int {
        reserve(n)
        let dst = UnsafeMutableRawPointer(base + count)
        var i = 0
        while i &+ 8 <= n {
            let w = loadWord(UnsafeRawPointer(src + i), as: UInt64.self)
            if hasJSONSpecialByte(w) { break }
            dst.storeBytes(of: w, toByteOffset: i, as: UInt64.self)
            i &+= 8
        }
        count += i
        return i
    }

    /// Appends a marker byte and the low `n` bytes of `v`, big-endian (MessagePack numbers).
    @inline(__always)
    mutating func append(marker: UInt8, bigEndian v: UInt64, bytes n: Int) {
        reserve(9)
        let p = base + count
        p[0] = marker
        UnsafeMutableRawPointer(p + 1).storeBytes(of: (v << UInt64((8 - n) * 8)).bigEndian, as: UInt64.self)
        count += 1 + n
    }

    @inline(__always)
    mutating func append(contentsOf p: UnsafeBufferPointer<UInt8>) {
        guard let src = p.baseAddress else { return }
        let n = p.count
        reserve(n)
        let dst = base + count
        if n <= 16 {
            // Short runs (keys, keywords, numbers): two overlapping word moves beat a call to
            // memcpy (which a plain byte loop would be compiled into).
            let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
            if n >= 8 {
                let a = loadWord(s, as: UInt64.self), b = loadWord(s, n &- 8, as: UInt64.self)
                d.storeBytes(of: a, as: UInt64.self)
                d.storeBytes(of: b, toByteOffset: n &- 8, as: UInt64.self)
            } else if n >= 4 {
                let a = loadWord(s, as: UInt32.self), b = loadWord(s, n &- 4, as: UInt32.self)
                d.storeBytes(of: a, as: UInt32.self)
                d.storeBytes(of: b, toByteOffset: n &- 4, as: UInt32.self)
            } else if n > 0 {
                dst[0] = src[0]
                dst[n &- 1] = src[n &- 1]
                if n == 3 { dst[1] = src[1] }
            }
        } else {
            dst.update(from: src, count: n)
        }
        count += n
    }

    @inline(__always)
    mutating func append(_ s: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    mutating func append(contentsOf a: [UInt8]) {
        a.withUnsafeBufferPointer { append(contentsOf: $0) }
    }

    mutating func append(contentsOf a: ArraySlice<UInt8>) {
        a.withUnsafeBufferPointer { append(contentsOf: $0) }
    }

    mutating func append(_ s: String) {
        var s = s
        s.withUTF8 { append(contentsOf: $0) }
    }
}

/// True when one of the eight bytes of `w` is `"`, `\` or a control byte (below 0x20): the
/// bytes JSON strings escape. Exact SWAR tests, no false positives; the writer's escaper and
/// the reader's string scanner both skip clean words with it.
@inline(__always)
func hasJSONSpecialByte(_ w: UInt64) -> Bool {
    let q = w ^ 0x2222_2222_2222_2222
    let bs = w ^ 0x5C5C_5C5C_5C5C_5C5C
    let special = ((q &- 0x0101_0101_0101_0101) & ~q)
        | ((bs &- 0x0101_0101_0101_0101) & ~bs)
        | ((w &- 0x2020_2020_2020_2020) & ~w)
    return special & 0x8080_8080_8080_8080 != 0
}

/// An unaligned load of a `T` at `p + offset`. The standard library's `loadUnaligned` was
/// left as an out-of-line call in the hot loops; a fixed-size copy always becomes one load.
@inline(__always)
func loadWord<T: FixedWidthInteger>(_ p: UnsafeRawPointer, _ offset: Int = 0, as: T.Type) -> T {
    var v: T = 0
    withUnsafeMutableBytes(of: &v) { $0.baseAddress!.copyMemory(from: p + offset, byteCount: MemoryLayout<T>.size) }
    return v
}
