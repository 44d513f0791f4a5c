/// An arbitrary-precision signed integer: Clojure's `BigInt` / Java's `BigInteger` (`42N`,
/// literals past the 64-bit range, Transit `~n`).
///
/// Only what the codecs need is implemented (parsing in any radix 2–36, decimal printing,
/// comparison, exact division and gcd for ratios); it is not a general math library. It has
/// no Foundation dependency, which keeps `chsk` start-up fast.
public struct BigInteger: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// True for values below zero (zero is never negative).
    public private(set) var isNegative: Bool
    /// Magnitude, little-endian 32-bit limbs, no trailing zero limbs; zero is `[]`.
    var limbs: [UInt32]

    /// Zero.
    public static let zero = BigInteger(isNegative: false, limbs: [])

    init(isNegative: Bool, limbs: [UInt32]) {
        var l = limbs
        while let last = l.last, last == 0 { l.removeLast() }
        self.limbs = l
        self.isNegative = l.isEmpty ? false : isNegative
    }

    /// Creates the value of a 64-bit integer.
    public init(_ value: Int64) {
        let m = value.magnitude
        self.init(isNegative: value < 0, limbs: [UInt32(truncatingIfNeeded: m), UInt32(truncatingIfNeeded: m >> 32)])
    }

    /// Creates the value of an unsigned 64-bit integer.
    public init(_ value: UInt64) {
        self.init(isNegative: false, limbs: [UInt32(truncatingIfNeeded: value), UInt32(truncatingIfNeeded: value >> 32)])
    }

    /// Parses `[+-]?digits` in the given radix (2–36); `nil` when the text is not such a number.
    public init?<S: StringProtocol>(_ text: S, radix: Int = 10) {
        guard (2...36).contains(radix) else { return nil }
        var utf8 = Substring(text).utf8[...]
        var negative = false
        if let first = utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            utf8 = utf8.dropFirst()
        }
        if utf8.isEmpty { return nil }
        var limbs: [UInt32] = []
        // Consume in chunks whose value fits in a UInt32 multiplier.
        var chunkValue: UInt32 = 0
        var chunkScale: UInt32 = 1
        let r = UInt32(radix)
        for byte in utf8 {
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): digit = UInt32(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): digit = UInt32(byte - UInt8(ascii: "A")) + 10
            default: return nil
            }
            guard digit < r else { return nil }
            if chunkScale > UInt32.max / r {
                BigInteger.multiplyAdd(&limbs, chunkScale, chunkValue)
                chunkValue = 0
                chunkScale = 1
            }
            chunkValue = chunkValue * r + digit
            chunkScale *= r
        }
        BigInteger.multiplyAdd(&limbs, chunkScale, chunkValue)
        self.init(isNegative: negative, limbs: limbs)
    }

    /// The value as an `Int64`, or `nil` when it does not fit.
    public var int64Value: Int64? {
        if limbs.count > 2 { return nil }
        var m: UInt64 = 0
        if limbs.count > 0 { m = UInt64(limbs[0]) }
        if limbs.count > 1 { m |= UInt64(limbs[1]) << 32 }
        if isNegative {
            if m <= UInt64(Int64.max) { return -Int64(m) }
            if m == UInt64(Int64.max) + 1 { return Int64.min }
            return nil
        }
        return m <= UInt64(Int64.max) ? Int64(m) : nil
    }

    /// True for zero.
    public var isZero: Bool { limbs.isEmpty }

    /// The nearest `Double` (exact for values below 2^53).
    public var doubleValue: Double {
        var d = 0.0
        for limb in limbs.reversed() { d = d * 4_294_967_296.0 + Double(limb) }
        return isNegative ? -d : d
    }

    /// Decimal digits with a leading `-` for negative values (no `N` suffix).
    public var description: String {
        if limbs.isEmpty { return "0" }
        if let small = int64Value { return String(small) }
        var work = limbs
        var groups: [UInt32] = []
        while !work.isEmpty { groups.append(BigInteger.divideSmall(&work, 1_000_000_000)) }
        var out = isNegative ? "-" : ""
        out += String(groups.last!)
        for g in groups.dropLast().reversed() {
            let s = String(g)
            out += String(repeating: "0", count: 9 - s.utf8.count) + s
        }
        return out
    }

    /// The absolute value.
    public var magnitude: BigInteger { BigInteger(isNegative: false, limbs: limbs) }

    /// The negated value.
    public static prefix func - (x: BigInteger) -> BigInteger { BigInteger(isNegative: !x.isNegative, limbs: x.limbs) }

    public static func < (a: BigInteger, b: BigInteger) -> Bool {
        if a.isNegative != b.isNegative { return a.isNegative }
        let c = compareMagnitudes(a.limbs, b.limbs)
        return a.isNegative ? c > 0 : c < 0
    }

    /// Greatest common divisor of the magnitudes (Euclid).
    public static func gcd(_ a: BigInteger, _ b: BigInteger) -> BigInteger {
        var x = a.limbs, y = b.limbs
        while !y.isEmpty {
            let r = divMod(x, y).remainder
            x = y
            y = r
        }
        return BigInteger(isNegative: false, limbs: x)
    }

    /// Truncating division; `nil` when dividing by zero.
    public func quotientAndRemainder(dividingBy d: BigInteger) -> (quotient: BigInteger, remainder: BigInteger)? {
        if d.isZero { return nil }
        let (q, r) = BigInteger.divMod(limbs, d.limbs)
        return (BigInteger(isNegative: isNegative != d.isNegative, limbs: q), BigInteger(isNegative: isNegative, limbs: r))
    }

    // MARK: limb arithmetic

    static func multiplyAdd(_ limbs: inout [UInt32], _ mul: UInt32, _ add: UInt32) {
        var carry = UInt64(add)
        for i in limbs.indices {
            let p = UInt64(limbs[i]) * UInt64(mul) + carry
            limbs[i] = UInt32(truncatingIfNeeded: p)
            carry = p >> 32
        }
        if carry != 0 { limbs.append(UInt32(carry)) }
    }

    /// Divides in place by a small divisor, returns the remainder; trims the result.
    static func divideSmall(_ limbs: inout [UInt32], _ d: UInt32) -> UInt32 {
        var rem: UInt64 = 0
        for i in limbs.indices.reversed() {
            let cur = (rem << 32) | UInt64(limbs[i])
            limbs[i] = UInt32(cur / UInt64(d))
            rem = cur % UInt64(d)
        }
        while let last = limbs.last, last == 0 { limbs.removeLast() }
        return UInt32(rem)
    }

    static func compareMagnitudes(_ a: [UInt32], _ b: [UInt32]) -> Int {
        if a.count != b.count { return a.count < b.count ? -1 : 1 }
        for i in a.indices.reversed() where a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
        return 0
    }

    /// Long division of magnitudes (Knuth, TAOCP vol. 2, 4.3.1, algorithm D) on 32-bit limbs:
    /// O(len(b) × (len(a) − len(b) + 1)) limb operations, so gcd by Euclid (ratio
    /// normalisation) is quadratic in the length, not cubic. `b` must not be zero.
    static func divMod(_ a: [UInt32], _ b: [UInt32]) -> (quotient: [UInt32], remainder: [UInt32]) {
        precondition(!b.isEmpty, "division by zero")
        if compareMagnitudes(a, b) < 0 { return ([], a) }
        if b.count == 1 {
            var q = a
            let r = divideSmall(&q, b[0])
            return (q, r == 0 ? [] : [r])
        }
        let n = b.count, m = a.count - n
        // D1: normalise so that the divisor's top limb has its high bit set.
        let shift = UInt32(b[n - 1].leadingZeroBitCount)
        let v = shiftedLeft(b, by: shift, extraLimb: false)
        var u = shiftedLeft(a, by: shift, extraLimb: true)
        var q = [UInt32](repeating: 0, count: m + 1)
        let base: UInt64 = 1 << 32
        let vTop = UInt64(v[n - 1]), vNext = UInt64(v[n - 2])
        for j in stride(from: m, through: 0, by: -1) {
            // D3: estimate the quotient limb from the top two limbs, then correct it (at most twice).
            let top = UInt64(u[j + n]) << 32 | UInt64(u[j + n - 1])
            var qhat = top / vTop
            var rhat = top % vTop
            while qhat >= base || qhat * vNext > (rhat << 32 | UInt64(u[j + n - 2])) {
                qhat -= 1
                rhat += vTop
                if rhat >= base { break }
            }
            // D4: u[j...j+n] -= qhat × v.
            var carry: UInt64 = 0
            var borrow: Int64 = 0
            for i in 0..<n {
                let p = qhat * UInt64(v[i]) + carry
                carry = p >> 32
                let t = Int64(u[i + j]) - Int64(p & 0xFFFF_FFFF) + borrow
                u[i + j] = UInt32(truncatingIfNeeded: t)
                borrow = t >> 32
            }
            let t = Int64(u[j + n]) - Int64(carry) + borrow
            u[j + n] = UInt32(truncatingIfNeeded: t)
            // D6: the estimate was one too large (rare): add v back.
            if t < 0 {
                qhat -= 1
                var c: UInt64 = 0
                for i in 0..<n {
                    let s = UInt64(u[i + j]) + UInt64(v[i]) + c
                    u[i + j] = UInt32(truncatingIfNeeded: s)
                    c = s >> 32
                }
                u[j + n] = u[j + n] &+ UInt32(truncatingIfNeeded: c)
            }
            q[j] = UInt32(truncatingIfNeeded: qhat)
        }
        // D8: the remainder is the low n limbs of u, shifted back.
        var r = [UInt32](repeating: 0, count: n)
        for i in 0..<n {
            let low = u[i] >> shift
            let high = shift == 0 ? 0 : u[i + 1] << (32 - shift)
            r[i] = low | high
        }
        while let last = r.last, last == 0 { r.removeLast() }
        while let last = q.last, last == 0 { q.removeLast() }
        return (q, r)
    }

    /// `x << shift` (shift < 32), keeping the limb count (the caller knows it fits) or adding one.
    static func shiftedLeft(_ x: [UInt32], by shift: UInt32, extraLimb: Bool) -> [UInt32] {
        var out = [UInt32](repeating: 0, count: x.count + (extraLimb ? 1 : 0))
        var carry: UInt32 = 0
        for i in x.indices {
            out[i] = x[i] << shift | carry
            carry = shift == 0 ? 0 : x[i] >> (32 - shift)
        }
        if extraLimb { out[x.count] = carry }
        return out
    }

    /// The old shift-and-subtract division, one bit at a time: kept only as the reference the
    /// tests check `divMod` against.
    static func divModBitwise(_ a: [UInt32], _ b: [UInt32]) -> (quotient: [UInt32], remainder: [UInt32]) {
        if compareMagnitudes(a, b) < 0 { return ([], a) }
        var quotient = [UInt32](repeating: 0, count: a.count)
        var rem: [UInt32] = []
        for bit in stride(from: a.count * 32 - 1, through: 0, by: -1) {
            var carry: UInt32 = (a[bit / 32] >> UInt32(bit % 32)) & 1
            for i in rem.indices {
                let next = rem[i] >> 31
                rem[i] = (rem[i] << 1) | carry
                carry = next
            }
            if carry != 0 { rem.append(carry) }
            if compareMagnitudes(rem, b) >= 0 {
                subtractInPlace(&rem, b)
                quotient[bit / 32] |= 1 << UInt32(bit % 32)
            }
        }
        while let last = quotient.last, last == 0 { quotient.removeLast() }
        return (quotient, rem)
    }

    static func subtractInPlace(_ a: inout [UInt32], _ b: [UInt32]) {
        var borrow: Int64 = 0
        for i in a.indices {
            var d = Int64(a[i]) - borrow - (i < b.count ? Int64(b[i]) : 0)
            if d < 0 { d += 1 << 32; borrow = 1 } else { borrow = 0 }
            a[i] = UInt32(d)
        }
        while let last = a.last, last == 0 { a.removeLast() }
    }
}
