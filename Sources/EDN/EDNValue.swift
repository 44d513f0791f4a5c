/// A Clojure value as EDN and Transit carry it: the data model shared by every codec of chsk.
///
/// ## Equality
/// `==` and hashing follow Clojure's `=` where it decides map keys and set members:
/// - a list equals a vector with equal elements (`(1 2)` = `[1 2]`);
/// - integers compare by value whatever their width (`1` = `1N`), but never equal a double
///   (`1` ≠ `1.0`), a big decimal or a ratio;
/// - big decimals compare by value (`1.0M` = `1.00M`, Java's `compareTo`);
/// - `0.0` = `-0.0`; and, unlike Clojure, `##NaN` equals itself, so that values stay usable
///   as dictionary keys (Swift's `Hashable` requires reflexivity);
/// - maps and sets compare without regard to order.
/// Printing keeps the distinctions (`1N` prints as `1N`, a list as `(…)`).
public enum EDNValue: Sendable {
    /// `nil`.
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// A 64-bit integer (`42`, Java `long`).
    case integer(Int64)
    /// An arbitrary-precision integer: written with `N`, or a literal past the 64-bit range.
    case bigInteger(BigInteger)
    /// A 64-bit float, including `##Inf`, `##-Inf` and `##NaN`.
    case double(Double)
    /// An arbitrary-precision decimal (`1.5M`).
    indirect case bigDecimal(BigDecimal)
    /// A ratio (`1/3`), always in lowest terms.
    indirect case ratio(Ratio)
    /// A string.
    case string(String)
    /// A character (`\a`); a Java `char`, so never above U+FFFF.
    case character(Unicode.Scalar)
    /// A keyword (`:ns/name`).
    case keyword(Keyword)
    /// A symbol (`ns/name`).
    case symbol(Symbol)
    /// A list (`(…)`).
    case list([EDNValue])
    /// A vector (`[…]`).
    case vector([EDNValue])
    /// A map with keys of any kind, in insertion order. (`EDNPrinter` prints a map of more
    /// than 8 entries in Clojure's hash order, as `pr-str` prints a `PersistentHashMap`.)
    case map(EDNMap)
    /// A set with members of any kind, in insertion order. (`EDNPrinter` and the Transit
    /// writers write sets in Clojure's hash order, as Clojure's `PersistentHashSet` iterates.)
    case set(EDNSet)
    /// `#inst "…"`: an instant with millisecond precision.
    case instant(Instant)
    /// `#uuid "…"`.
    case uuid(EDNUUID)
    /// A URI (Transit `~r`); EDN text has no URI type, so it prints as `#uri "…"`.
    case uri(String)
    /// Binary data (Transit `~b`); EDN prints it as `#bytes "<base64>"`.
    case bytes([UInt8])
    /// Any other tagged literal (`#my.app/point [1 2]`), kept as tag + value so it round-trips.
    indirect case tagged(Symbol, EDNValue)
}

extension EDNValue {
    /// A keyword value from `"ns/name"` (no colon).
    public static func kw(_ text: String) -> EDNValue { .keyword(Keyword(text)) }
    /// A symbol value from `"ns/name"`.
    public static func sym(_ text: String) -> EDNValue { .symbol(Symbol(text)) }

    /// The value's kind as a short word, for error messages.
    public var kindName: String {
        switch self {
        case .null: "nil"
        case .bool: "boolean"
        case .integer, .bigInteger: "integer"
        case .double: "double"
        case .bigDecimal: "big decimal"
        case .ratio: "ratio"
        case .string: "string"
        case .character: "character"
        case .keyword: "keyword"
        case .symbol: "symbol"
        case .list: "list"
        case .vector: "vector"
        case .map: "map"
        case .set: "set"
        case .instant: "instant"
        case .uuid: "uuid"
        case .uri: "uri"
        case .bytes: "bytes"
        case .tagged: "tagged value"
        }
    }

    /// The elements of a list or vector, else `nil`.
    public var sequenceElements: [EDNValue]? {
        switch self {
        case .list(let a), .vector(let a): a
        default: nil
        }
    }

    /// The string of a `.string`, else `nil`.
    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    /// The keyword of a `.keyword`, else `nil`.
    public var keywordValue: Keyword? { if case .keyword(let k) = self { k } else { nil } }
    /// The integer value of `.integer` or a `.bigInteger` that fits 64 bits, else `nil`.
    public var int64Value: Int64? {
        switch self {
        case .integer(let i): i
        case .bigInteger(let b): b.int64Value
        default: nil
        }
    }
    /// The map of a `.map`, else `nil`.
    public var mapValue: EDNMap? { if case .map(let m) = self { m } else { nil } }
    /// True for `.null`.
    public var isNull: Bool { if case .null = self { true } else { false } }

    /// Looks up `key` in a map value; `nil` for other kinds or a missing key.
    public subscript(key: EDNValue) -> EDNValue? {
        if case .map(let m) = self { return m[key] }
        return nil
    }
}

extension EDNValue: Hashable {
    public static func == (a: EDNValue, b: EDNValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.integer(let x), .integer(let y)): return x == y
        case (.integer(let x), .bigInteger(let y)), (.bigInteger(let y), .integer(let x)): return y.int64Value == x
        case (.bigInteger(let x), .bigInteger(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y || (x.isNaN && y.isNaN)
        case (.bigDecimal(let x), .bigDecimal(let y)): return x == y
        case (.ratio(let x), .ratio(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.character(let x), .character(let y)): return x == y
        case (.keyword(let x), .keyword(let y)): return x == y
        case (.symbol(let x), .symbol(let y)): return x == y
        case (.list(let x), .list(let y)), (.vector(let x), .vector(let y)),
             (.list(let x), .vector(let y)), (.vector(let x), .list(let y)): return x == y
        case (.map(let x), .map(let y)): return x == y
        case (.set(let x), .set(let y)): return x == y
        case (.instant(let x), .instant(let y)): return x == y
        case (.uuid(let x), .uuid(let y)): return x == y
        case (.uri(let x), .uri(let y)): return x == y
        case (.bytes(let x), .bytes(let y)): return x == y
        case (.tagged(let t1, let v1), .tagged(let t2, let v2)): return t1 == t2 && v1 == v2
        default: return false
        }
    }

    public func hash(into h: inout Hasher) {
        switch self {
        case .null: h.combine(0 as UInt8)
        case .bool(let b): h.combine(1 as UInt8); h.combine(b)
        case .integer(let i): h.combine(2 as UInt8); h.combine(i)
        case .bigInteger(let b):
            h.combine(2 as UInt8)
            if let i = b.int64Value { h.combine(i) } else { h.combine(b) }
        case .double(let d): h.combine(3 as UInt8); h.combine(d.isNaN ? Double.nan.bitPattern : (d == 0 ? 0 : d.bitPattern))
        case .bigDecimal(let d): h.combine(4 as UInt8); h.combine(d)
        case .ratio(let r): h.combine(5 as UInt8); h.combine(r)
        case .string(let s): h.combine(6 as UInt8); h.combine(s)
        case .character(let c): h.combine(7 as UInt8); h.combine(c.value)
        case .keyword(let k): h.combine(8 as UInt8); h.combine(k.text)
        case .symbol(let s): h.combine(9 as UInt8); h.combine(s.text)
        case .list(let a), .vector(let a): h.combine(10 as UInt8); h.combine(a)
        case .map(let m): h.combine(11 as UInt8); h.combine(m)
        case .set(let s): h.combine(12 as UInt8); h.combine(s)
        case .instant(let i): h.combine(13 as UInt8); h.combine(i)
        case .uuid(let u): h.combine(14 as UInt8); h.combine(u)
        case .uri(let u): h.combine(15 as UInt8); h.combine(u)
        case .bytes(let b): h.combine(16 as UInt8); h.combine(b)
        case .tagged(let t, let v): h.combine(17 as UInt8); h.combine(t); h.combine(v)
        }
    }
}

// MARK: Swift literals

// Deliberately not ExpressibleByNilLiteral: with it, `cond ? value : nil` silently became
// `.null` where `EDNValue?` was meant (a trap hit three times while building chsk). Write `.null`.
extension EDNValue: ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    /// A string literal is a string, whatever it holds (`":)"` too); keywords are explicit:
    /// `.kw("ns/name")` or `.keyword(…)`.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An array literal is a vector.
    public init(arrayLiteral elements: EDNValue...) { self = .vector(elements) }
    /// A dictionary literal is a map, in the literal's order (later duplicates replace earlier).
    public init(dictionaryLiteral elements: (EDNValue, EDNValue)...) {
        self = .map(EDNMap(interleaved: EDNMap.flatten(elements, count: elements.count)))
    }
}

extension EDNValue: CustomStringConvertible {
    /// The value as Clojure's `pr-str` prints it.
    public var description: String { EDNPrinter.string(self) }
}

extension EDNValue {
    /// Strict structural identity: same kinds, same order, same digits — true exactly when
    /// both print the same. (`==` is Clojure's `=`, under which `(1 2)` equals `[1 2]` and
    /// `1` equals `1N`.)
    public func isIdentical(to other: EDNValue) -> Bool {
        switch (self, other) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.bigInteger(let a), .bigInteger(let b)): return a == b
        case (.double(let a), .double(let b)): return a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN)
        case (.bigDecimal(let a), .bigDecimal(let b)):
            return a.isNegative == b.isNegative && a.unscaledDigits == b.unscaledDigits && a.scale == b.scale
        case (.ratio(let a), .ratio(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.character(let a), .character(let b)): return a == b
        case (.keyword(let a), .keyword(let b)): return a == b
        case (.symbol(let a), .symbol(let b)): return a == b
        case (.list(let a), .list(let b)), (.vector(let a), .vector(let b)): return EDNValue.identical(a, b)
        case (.set(let a), .set(let b)): return EDNValue.identical(a.elements, b.elements)
        case (.map(let a), .map(let b)): return EDNValue.identical(a.entries, b.entries)
        case (.instant(let a), .instant(let b)): return a == b
        case (.uuid(let a), .uuid(let b)): return a == b
        case (.uri(let a), .uri(let b)): return a == b
        case (.bytes(let a), .bytes(let b)): return a == b
        case (.tagged(let t1, let v1), .tagged(let t2, let v2)): return t1 == t2 && v1.isIdentical(to: v2)
        default: return false
        }
    }

    /// Element-wise `isIdentical(to:)`.
    public static func identical(_ a: [EDNValue], _ b: [EDNValue]) -> Bool {
        guard a.count == b.count else { return false }
        for i in a.indices where !a[i].isIdentical(to: b[i]) { return false }
        return true
    }
}
