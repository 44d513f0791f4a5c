import EDN

/// The meaning of Transit strings and tagged values, shared by the JSON and MessagePack
/// readers. Errors thrown here carry no position (offset -1); the parsers add it.
enum TransitDecoding {
    @inline(__always)
    static func makeString(_ s: UnsafeBufferPointer<UInt8>, ascii: Bool) throws(TransitError) -> String {
        if ascii { return String(decoding: s, as: UTF8.self) }
        if let valid = validString(s) { return valid }
        throw TransitError(kind: .invalidUTF8, message: "String is not valid UTF-8")
    }

    /// The string of strictly valid UTF-8 bytes (no overlong forms, no surrogates, nothing
    /// above U+10FFFF), else `nil`. One validation pass: `UTF8Span`'s, which `String(copying:)`
    /// then trusts (our own check followed by `String(decoding:)` validated twice).
    @inline(__always)
    static func validString(_ s: UnsafeBufferPointer<UInt8>) -> String? {
        guard let span = try? UTF8Span(validating: s.span) else { return nil }
        return String(copying: span)
    }

    /// True when no byte has its high bit set (eight bytes at a time).
    @inline(__always)
    static func isASCII(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let p = s.baseAddress else { return true }
        let n = s.count
        var i = 0
        var acc: UInt64 = 0
        while i &+ 8 <= n {
            acc |= loadWord(UnsafeRawPointer(p + i), as: UInt64.self)
            i &+= 8
        }
        var tail: UInt8 = 0
        while i < n { tail |= p[i]; i &+= 1 }
        return acc & 0x8080_8080_8080_8080 == 0 && tail < 0x80
    }

    static func bad(_ message: String) -> TransitError {
        TransitError(kind: .invalidRepresentation, message: message)
    }

    /// Decodes a string that is not a cache code: plain, escaped (`~~`, `~^`, `` ~` ``), a tag
    /// (`~#tag`) or a scalar extension (`~:kw`, `~i123`, …).
    @inline(__always)
    static func decode(_ s: UnsafeBufferPointer<UInt8>, ascii: Bool, handlers: TransitReadHandlers,
                       maxNumberLength: Int = TransitReader.Options.defaultMaxNumberLength) throws(TransitError) -> StringItem {
        let n = s.count
        if n < 2 || s[0] != UInt8(ascii: "~") {
            return .value(.string(try makeString(s, ascii: ascii)))
        }
        let t = s[1]
        let rest = UnsafeBufferPointer(rebasing: s[2...])
        switch t {
        case UInt8(ascii: "~"), UInt8(ascii: "^"), UInt8(ascii: "`"):
            return .value(.string(try makeString(UnsafeBufferPointer(rebasing: s[1...]), ascii: ascii)))
        case UInt8(ascii: "#"):
            return .tag(try makeString(rest, ascii: ascii))
        default:
            if !handlers.isEmpty {
                let whole = try makeString(UnsafeBufferPointer(rebasing: s[1...]), ascii: ascii)
                let tag = String(whole.unicodeScalars.first!)
                if let h = handlers.handler(for: tag) {
                    return .value(try handlers.run(h, tag: tag, .string(String(whole.unicodeScalars.dropFirst()))))
                }
            }
            if t >= 0x80 {
                // A non-ASCII tag character: unknown by definition.
                let whole = try makeString(UnsafeBufferPointer(rebasing: s[1...]), ascii: ascii)
                let scalars = whole.unicodeScalars
                return .value(.tagged(Symbol(String(scalars.first!)), .string(String(scalars.dropFirst()))))
            }
            return .value(try scalar(t, rest, ascii: ascii, maxNumberLength: maxNumberLength))
        }
    }

    /// The value of the scalar extension `"~" + tag + rep`.
    static func scalar(_ tag: UInt8, _ rep: UnsafeBufferPointer<UInt8>, ascii: Bool,
                       maxNumberLength: Int = TransitReader.Options.defaultMaxNumberLength) throws(TransitError) -> EDNValue {
        switch tag {
        case UInt8(ascii: "i"), UInt8(ascii: "n"), UInt8(ascii: "d"), UInt8(ascii: "f"):
            try checkNumberLength(rep, maxNumberLength)
            return try number(tag, rep, ascii: ascii)
        default:
            return try nonNumber(tag, rep, ascii: ascii)
        }
    }

    /// Refuses (`.numberTooLong`) a number text with a part longer than `limit` digits,
    /// before any arbitrary-precision work (issue 13: CPU per message).
    @inline(__always)
    static func checkNumberLength(_ text: UnsafeBufferPointer<UInt8>, _ limit: Int) throws(TransitError) {
        if text.count > limit, longestNumberPart(text) > limit {
            throw TransitError(kind: .numberTooLong, message: "Number longer than \(limit) digits")
        }
    }

    static func number(_ tag: UInt8, _ rep: UnsafeBufferPointer<UInt8>, ascii: Bool) throws(TransitError) -> EDNValue {
        switch tag {
        case UInt8(ascii: "i"):
            if let v = parseInt64(rep) { return .integer(v) }
            if let big = BigInteger(try makeString(rep, ascii: ascii)) { return .bigInteger(big) }
            throw bad("Invalid integer representation ~i\(try makeString(rep, ascii: ascii))")
        case UInt8(ascii: "n"):
            if let big = BigInteger(try makeString(rep, ascii: ascii)) { return .bigInteger(big) }
            throw bad("Invalid big integer representation ~n\(try makeString(rep, ascii: ascii))")
        case UInt8(ascii: "d"):
            if let d = parseDouble(rep) { return .double(d) }
            throw bad("Invalid double representation ~d\(try makeString(rep, ascii: ascii))")
        default:
            if let d = BigDecimal(try makeString(rep, ascii: ascii)) { return .bigDecimal(d) }
            throw bad("Invalid big decimal representation ~f\(try makeString(rep, ascii: ascii))")
        }
    }

    static func nonNumber(_ tag: UInt8, _ rep: UnsafeBufferPointer<UInt8>, ascii: Bool) throws(TransitError) -> EDNValue {
        switch tag {
        case UInt8(ascii: ":"): return .keyword(Keyword(try makeString(rep, ascii: ascii)))
        case UInt8(ascii: "$"): return .symbol(Symbol(try makeString(rep, ascii: ascii)))
        case UInt8(ascii: "z"):
            switch try makeString(rep, ascii: ascii) {
            case "NaN": return .double(.nan)
            case "INF": return .double(.infinity)
            case "-INF": return .double(-.infinity)
            case let other: throw bad("Invalid special number ~z\(other)")
            }
        case UInt8(ascii: "c"):
            let text = try makeString(rep, ascii: ascii)
            let scalars = text.unicodeScalars
            guard let c = scalars.first, scalars.count == 1 else { throw bad("A ~c character must be one character, not \"\(text)\"") }
            return .character(c)
        case UInt8(ascii: "m"):
            if let ms = parseInt64(rep) { return .instant(Instant(millisecondsSinceEpoch: ms)) }
            throw bad("Invalid instant representation ~m\(try makeString(rep, ascii: ascii))")
        case UInt8(ascii: "t"):
            let text = try makeString(rep, ascii: ascii)
            if let i = Instant(rfc3339: text) { return .instant(i) }
            throw bad("Invalid instant representation ~t\(text)")
        case UInt8(ascii: "u"):
            if let u = canonicalUUID(rep) { return .uuid(u) }
            let text = try makeString(rep, ascii: ascii)
            if let u = EDNUUID(text) { return .uuid(u) }
            throw bad("Invalid UUID representation ~u\(text)")
        case UInt8(ascii: "r"): return .uri(try makeString(rep, ascii: ascii))
        case UInt8(ascii: "b"):
            let text = try makeString(rep, ascii: ascii)
            if let bytes = Base64.decode(text) { return .bytes(bytes) }
            throw bad("Invalid base64 in ~b")
        case UInt8(ascii: "_"): return .null
        case UInt8(ascii: "?"):
            if rep.count == 1 && rep[0] == UInt8(ascii: "t") { return .bool(true) }
            if rep.count == 1 && rep[0] == UInt8(ascii: "f") { return .bool(false) }
            throw bad("Invalid boolean representation ~?\(try makeString(rep, ascii: ascii))")
        case UInt8(ascii: "'"): return .string(try makeString(rep, ascii: ascii))
        default:
            return .tagged(Symbol(String(UnicodeScalar(tag))), .string(try makeString(rep, ascii: ascii)))
        }
    }

    /// The value of the tagged value `[tag, rep]` / `{tag: rep}`.
    static func tagged(_ tag: String, _ rep: EDNValue, handlers: TransitReadHandlers,
                       maxNumberLength: Int = TransitReader.Options.defaultMaxNumberLength) throws(TransitError) -> EDNValue {
        if !handlers.isEmpty, let h = handlers.handler(for: tag) {
            return try handlers.run(h, tag: tag, rep)
        }
        switch tag {
        case "set":
            guard let items = rep.sequenceElements else { throw bad("~#set needs an array, not a \(rep.kindName)") }
            var s = EDNSet()
            for x in items { s.insert(x) }
            return .set(s)
        case "list":
            guard let items = rep.sequenceElements else { throw bad("~#list needs an array, not a \(rep.kindName)") }
            return .list(items)
        case "cmap":
            guard let items = rep.sequenceElements, items.count % 2 == 0 else {
                throw bad("~#cmap needs an array of an even number of items")
            }
            return .map(EDNMap(interleaved: items))
        case "'":
            return rep
        case "ratio":
            guard let parts = rep.sequenceElements, parts.count == 2,
                  let n = try bigInteger(parts[0], maxNumberLength), let d = try bigInteger(parts[1], maxNumberLength),
                  let r = Ratio.make(n, d) else {
                throw bad("~#ratio needs [numerator denominator] integers, denominator not 0")
            }
            return r
        case "m":
            switch rep {
            case .integer(let ms): return .instant(Instant(millisecondsSinceEpoch: ms))
            case .string(let s):
                if let ms = Int64(s) { return .instant(Instant(millisecondsSinceEpoch: ms)) }
            default: break
            }
            throw bad("~#m needs milliseconds")
        case "u":
            if case .string(let text) = rep {
                guard let u = EDNUUID(text) else { throw bad("Invalid UUID representation \(text)") }
                return .uuid(u)
            }
            guard let parts = rep.sequenceElements, parts.count == 2,
                  case .integer(let hi) = parts[0], case .integer(let lo) = parts[1] else {
                throw bad("~#u needs a UUID string or [high low] 64-bit integers")
            }
            return .uuid(EDNUUID(high: UInt64(bitPattern: hi), low: UInt64(bitPattern: lo)))
        default:
            break
        }
        if tag.utf8.count == 1, let t = tag.utf8.first, t < 0x80, isBuiltInScalarTag(t) {
            switch rep {
            case .string(let s):
                return try Array(s.utf8).withUnsafeBufferPointer { p throws(TransitError) in
                    try scalar(t, p, ascii: false, maxNumberLength: maxNumberLength)
                }
            case .integer where t == UInt8(ascii: "i"), .bigInteger where t == UInt8(ascii: "n"),
                 .double where t == UInt8(ascii: "d"), .bool where t == UInt8(ascii: "?"),
                 .null where t == UInt8(ascii: "_"):
                return rep
            default:
                throw bad("~#\(tag) has an invalid representation (\(rep.kindName))")
            }
        }
        return .tagged(Symbol(tag), rep)
    }

    /// A UUID in canonical `8-4-4-4-12` hex form, read from the bytes (no `String`), eight hex
    /// digits at a time (`hex8`); `nil` when a dash is missing or a digit is not hex.
    @inline(__always)
    static func canonicalUUID(_ u: UnsafeBufferPointer<UInt8>) -> EDNUUID? {
        guard u.count == 36, let p = u.baseAddress, p[8] == 45, p[13] == 45, p[18] == 45, p[23] == 45 else { return nil }
        let raw = UnsafeRawPointer(p)
        @inline(__always) func word(_ at: Int) -> UInt64 { UInt64(littleEndian: loadWord(raw, at, as: UInt64.self)) }
        @inline(__always) func halves(_ a: Int, _ b: Int) -> UInt64 {
            UInt64(UInt32(littleEndian: loadWord(raw, a, as: UInt32.self)))
                | UInt64(UInt32(littleEndian: loadWord(raw, b, as: UInt32.self))) << 32
        }
        var valid: UInt64 = 0x8080_8080_8080_8080
        let hi = hex8(word(0), &valid) << 32 | hex8(halves(9, 14), &valid)
        let lo = hex8(halves(19, 24), &valid) << 32 | hex8(word(28), &valid)
        return valid == 0x8080_8080_8080_8080 ? EDNUUID(high: hi, low: lo) : nil
    }

    /// The value of eight hex digits (`0-9`, `a-f`, `A-F`; the first in the lowest byte of `w`,
    /// as loaded little-endian), computed for all eight at once. Clears the high bit of the
    /// byte of `valid` of any byte that is not a hex digit.
    @inline(__always)
    static func hex8(_ w: UInt64, _ valid: inout UInt64) -> UInt64 {
        // Per-byte range tests; a byte ≥ 0x80 may carry into its neighbour, but then `ascii`
        // already marks the word invalid.
        let ascii = ~w & 0x8080_8080_8080_8080
        let folded = w | 0x2020_2020_2020_2020                                                   // A-F → a-f
        let digit = (w &+ 0x5050_5050_5050_5050) & ~(w &+ 0x4646_4646_4646_4646)              // 0x30…0x39
        let letter = (folded &+ 0x1F1F_1F1F_1F1F_1F1F) & ~(folded &+ 0x1919_1919_1919_1919)   // 0x61…0x66
        valid &= (digit | letter) & ascii
        // Each byte to its value: the low nibble, plus 9 for letters (bit 6 set).
        let nibbles = (w & 0x0F0F_0F0F_0F0F_0F0F) &+ ((w >> 6) & 0x0101_0101_0101_0101) &* 9
        // Pack the eight nibbles, the first digit most significant.
        var t = nibbles.byteSwapped
        t = (t | (t >> 4)) & 0x00FF_00FF_00FF_00FF
        t = (t | (t >> 8)) & 0x0000_FFFF_0000_FFFF
        return (t | (t >> 16)) & 0xFFFF_FFFF
    }

    static func isBuiltInScalarTag(_ t: UInt8) -> Bool {
        switch t {
        case UInt8(ascii: ":"), UInt8(ascii: "$"), UInt8(ascii: "i"), UInt8(ascii: "n"), UInt8(ascii: "d"),
             UInt8(ascii: "f"), UInt8(ascii: "z"), UInt8(ascii: "c"), UInt8(ascii: "t"), UInt8(ascii: "r"),
             UInt8(ascii: "b"), UInt8(ascii: "_"), UInt8(ascii: "?"):
            return true
        default:
            return false
        }
    }

    static func bigInteger(_ v: EDNValue, _ maxNumberLength: Int) throws(TransitError) -> BigInteger? {
        switch v {
        case .integer(let i): return BigInteger(i)
        case .bigInteger(let b): return b
        case .string(let s):
            if s.utf8.count > maxNumberLength {
                try Array(s.utf8).withUnsafeBufferPointer { p throws(TransitError) in try checkNumberLength(p, maxNumberLength) }
            }
            return BigInteger(s)
        default: return nil
        }
    }

    /// `[+-]?digits` fitting 64 bits, else `nil`.
    static func parseInt64(_ s: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        var negative = false
        if i < s.count, s[i] == UInt8(ascii: "-") || s[i] == UInt8(ascii: "+") {
            negative = s[i] == UInt8(ascii: "-")
            i += 1
        }
        guard i < s.count else { return nil }
        var m: UInt64 = 0
        while i < s.count {
            let d = s[i] &- 48
            guard d < 10 else { return nil }
            let (a, o1) = m.multipliedReportingOverflow(by: 10)
            let (b, o2) = a.addingReportingOverflow(UInt64(d))
            if o1 || o2 { return nil }
            m = b
            i += 1
        }
        if negative {
            if m <= UInt64(Int64.max) { return -Int64(m) }
            if m == UInt64(Int64.max) + 1 { return .min }
            return nil
        }
        return m <= UInt64(Int64.max) ? Int64(m) : nil
    }

    /// A double from its text (JSON grammar plus Java's `NaN`/`Infinity`).
    static func parseDouble(_ s: UnsafeBufferPointer<UInt8>) -> Double? {
        if let d = FastDouble.parse(s) { return d }
        let text = String(decoding: s, as: UTF8.self)
        switch text {
        case "NaN": return .nan
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        default: break
        }
        // Only decimal syntax: no hex floats, no "inf"/"nan" spellings.
        for b in s where !(b >= 48 && b <= 57) && b != 46 && b != 43 && b != 45 && b != 101 && b != 69 { return nil }
        return Double(text)
    }
}

/// Decimal text → `Double`: Clinger's exact fast path for up to 15 significant digits and
/// small exponents, else the standard library's correctly rounded parser.
enum FastDouble {
    static let powersOf10: [Double] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
                                       1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]

    /// Parses `-?digits(.digits)?([eE][+-]?digits)?`; `nil` when the text is not in that form.
    static func parse(_ s: UnsafeBufferPointer<UInt8>) -> Double? {
        var i = 0
        let n = s.count
        var negative = false
        if i < n, s[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var significant = 0
        var exponent = 0
        let intStart = i
        while i < n, s[i] &- 48 < 10 {
            if significant > 0 || s[i] != 48 { significant += 1 }
            if significant <= 19 { mantissa = mantissa &* 10 &+ UInt64(s[i] &- 48) } else { exponent += 1 }
            digits += 1
            i += 1
        }
        guard i > intStart else { return nil }
        if i < n, s[i] == UInt8(ascii: ".") {
            i += 1
            let f = i
            while i < n, s[i] &- 48 < 10 {
                if significant > 0 || s[i] != 48 { significant += 1 }
                if significant <= 19 { mantissa = mantissa &* 10 &+ UInt64(s[i] &- 48); exponent -= 1 }
                i += 1
            }
            guard i > f else { return nil }
        }
        if i < n, s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E") {
            i += 1
            var eNeg = false
            if i < n, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") { eNeg = s[i] == UInt8(ascii: "-"); i += 1 }
            let e0 = i
            var e = 0
            while i < n, s[i] &- 48 < 10 {
                if e < 100_000 { e = e * 10 + Int(s[i] &- 48) }
                i += 1
            }
            guard i > e0 else { return nil }
            exponent += eNeg ? -e : e
        }
        guard i == n else { return nil }
        if significant <= 15 && mantissa < (1 << 53) && exponent >= -22 && exponent <= 22 {
            var d = Double(mantissa)
            if exponent < 0 { d /= powersOf10[-exponent] } else { d *= powersOf10[exponent] }
            return negative ? -d : d
        }
        return Double(String(decoding: s, as: UTF8.self))
    }
}
