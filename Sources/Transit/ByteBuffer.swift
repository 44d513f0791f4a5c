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
            // Short runs (keys, keywords, numbers): a byte loop beats a call to memcpy.
            var i = 0
            while i < n { dst[i] = src[i]; i &+= 1 }
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
