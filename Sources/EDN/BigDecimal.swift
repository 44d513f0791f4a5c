/// An arbitrary-precision decimal: Java's `BigDecimal` as Clojure reads `1.5M` and Transit
/// carries it (`~f`). Kept as an unscaled digit string and a scale, so printing follows
/// `BigDecimal.toString` exactly (`45.4E+43M` reads back as `4.54E+44M`, `-1.0e-1M` as `-0.10M`).
///
/// Equality is Clojure's `=` on big decimals (`compareTo`): `1.0M` = `1.00M`.
public struct BigDecimal: Sendable, Hashable, CustomStringConvertible {
    /// True for values below zero.
    public let isNegative: Bool
    /// The unscaled value's decimal digits, no sign, no leading zeros (`"0"` for zero).
    public let unscaledDigits: String
    /// The scale: value = unscaled × 10^-scale.
    public let scale: Int

    /// Creates a decimal from its parts; digits must be ASCII decimal digits.
    public init(isNegative: Bool, unscaledDigits: String, scale: Int) {
        let u = unscaledDigits.utf8
        var start = u.startIndex
        while u.distance(from: start, to: u.endIndex) > 1, u[start] == UInt8(ascii: "0") { start = u.index(after: start) }
        let d = u.isEmpty ? "0" : String(unscaledDigits[start...])
        self.unscaledDigits = d
        self.isNegative = d == "0" ? false : isNegative
        self.scale = scale
    }

    /// Parses what Java's `new BigDecimal(String)` accepts: `[+-]?digits[.digits][eE[+-]?digits]`
    /// (either side of the point may be empty, not both). `nil` when malformed.
    public init?<S: StringProtocol>(_ text: S) {
        let bytes = Array(text.utf8)
        var i = 0
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
            negative = bytes[i] == UInt8(ascii: "-"); i += 1
        }
        var digits: [UInt8] = []
        var fractionCount = 0
        var sawPoint = false
        while i < bytes.count {
            let b = bytes[i]
            if b >= 48 && b <= 57 {
                digits.append(b)
                if sawPoint { fractionCount += 1 }
            } else if b == UInt8(ascii: "."), !sawPoint {
                sawPoint = true
            } else { break }
            i += 1
        }
        if digits.isEmpty { return nil }
        var exponent = 0
        if i < bytes.count {
            guard bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") else { return nil }
            i += 1
            var expNegative = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") {
                expNegative = bytes[i] == UInt8(ascii: "-"); i += 1
            }
            guard i < bytes.count else { return nil }
            while i < bytes.count {
                let b = bytes[i]
                guard b >= 48 && b <= 57, exponent < 1_000_000_000 else { return nil }
                exponent = exponent * 10 + Int(b - 48)
                i += 1
            }
            if expNegative { exponent = -exponent }
        }
        self.init(isNegative: negative, unscaledDigits: String(decoding: digits, as: UTF8.self), scale: fractionCount - exponent)
    }

    /// Creates the exact decimal value of an integer.
    public init(_ value: Int64) {
        self.init(isNegative: value < 0, unscaledDigits: String(value.magnitude), scale: 0)
    }

    /// `BigDecimal.toString()`: plain notation when scale ≥ 0 and the adjusted exponent ≥ -6,
    /// otherwise scientific (`4.54E+44`, `1E-7`).
    public var description: String {
        let digits = unscaledDigits
        let n = digits.utf8.count
        let adjusted = -scale + (n - 1)
        var out = isNegative ? "-" : ""
        if scale == 0 {
            out += digits
        } else if scale > 0 && adjusted >= -6 {
            if n > scale {
                let cut = digits.utf8.index(digits.utf8.startIndex, offsetBy: n - scale)
                out += String(digits[..<cut]) + "." + String(digits[cut...])
            } else {
                out += "0." + String(repeating: "0", count: scale - n) + digits
            }
        } else {
            out += String(digits.prefix(1))
            if n > 1 { out += "." + String(digits.dropFirst()) }
            out += "E" + (adjusted >= 0 ? "+" : "") + String(adjusted)
        }
        return out
    }

    /// Digits without trailing zeros and the matching scale: the key for Clojure-style equality.
    var normalized: (negative: Bool, digits: Substring, scale: Int) {
        var d = Substring(unscaledDigits)
        var s = scale
        if d == "0" { return (false, d, 0) }
        var n = d.utf8.count
        while n > 1, d.utf8.last == UInt8(ascii: "0") { d = d.dropLast(); s -= 1; n -= 1 }
        return (isNegative, d, s)
    }

    public static func == (a: BigDecimal, b: BigDecimal) -> Bool {
        let x = a.normalized, y = b.normalized
        return x.negative == y.negative && x.digits == y.digits && x.scale == y.scale
    }

    public func hash(into hasher: inout Hasher) {
        let x = normalized
        hasher.combine(x.negative)
        hasher.combine(x.digits)
        hasher.combine(x.scale)
    }

    /// The nearest `Double`.
    public var doubleValue: Double { Double(description) ?? .nan }
}

/// A Clojure ratio (`1/3`), always normalised: positive denominator > 1, lowest terms.
/// Integral quotients are not ratios: the reader turns `4/2` into the integer `2`.
public struct Ratio: Sendable, Hashable, CustomStringConvertible {
    /// The numerator (carries the sign).
    public let numerator: BigInteger
    /// The denominator (> 1).
    public let denominator: BigInteger

    /// Normalises `numerator/denominator`; returns an integer `EDNValue` when it divides evenly,
    /// `nil` for a zero denominator.
    public static func make(_ numerator: BigInteger, _ denominator: BigInteger) -> EDNValue? {
        if denominator.isZero { return nil }
        let g = BigInteger.gcd(numerator, denominator)
        var n = numerator.quotientAndRemainder(dividingBy: g)!.quotient
        var d = denominator.quotientAndRemainder(dividingBy: g)!.quotient
        if d.isNegative { n = -n; d = -d }
        if d == BigInteger(1 as Int64) {
            if let small = n.int64Value { return .integer(small) }
            return .bigInteger(n)
        }
        return .ratio(Ratio(numerator: n, denominator: d))
    }

    init(numerator: BigInteger, denominator: BigInteger) {
        self.numerator = numerator
        self.denominator = denominator
    }

    /// `n/d` as Clojure prints it.
    public var description: String { "\(numerator)/\(denominator)" }

    /// The nearest `Double`.
    public var doubleValue: Double { numerator.doubleValue / denominator.doubleValue }
}
