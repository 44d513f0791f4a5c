import EDN

/// Largest integer magnitude written as a JSON number (2^53 − 1); beyond it, `"~i…"`.
let maxJSONSafeInteger: Int64 = 9_007_199_254_740_991

/// Shared rules of the Transit writers.
enum TransitWriting {
    /// True when the value's Transit handler has a one-character tag: it can be a key of a
    /// `"^ "` / verbose / native map, and is quoted when written at the top level.
    @inline(__always)
    static func isScalar(_ v: EDNValue) -> Bool {
        switch v {
        case .list, .vector, .map, .set, .ratio: return false
        case .tagged(let t, let rep):
            if case .string = rep { return isOneCharacter(t.text) }
            return printedJavaURI(t, rep) != nil
        default: return true
        }
    }

    /// True when `s` is one character that can tag a string as `"~" + tag + rep`. Not `#`
    /// (`"~#rep"` is a tag string), `~`, `^` or `` ` `` (escapes of a plain string): those
    /// would read back as something else (found by Fuzz/ transit-json: `["~##","z:a"]`), so a
    /// value tagged with one is written as `["~#tag", rep]`.
    @inline(__always)
    static func isOneCharacter(_ s: String) -> Bool {
        var it = s.unicodeScalars.makeIterator()
        guard let c = it.next(), it.next() == nil else { return false }
        return c != "#" && c != "~" && c != "^" && c != "`"
    }

    /// True when every key of the map is scalar (else the map is written as a `cmap`).
    @inline(__always)
    static func hasScalarKeys(_ m: EDNMap) -> Bool {
        // Case tests only (no payload bound), so that no key is copied.
        m.entries.withUnsafeBufferPointer { p in
            for i in stride(from: 0, to: p.count, by: 2) {
                switch p[i] {
                case .list, .vector, .map, .set, .ratio: return false
                case .tagged: if !isScalar(p[i]) { return false }
                default: continue
                }
            }
            return true
        }
    }

    /// True when a string value must be escaped with a leading `~`.
    @inline(__always)
    static func needsEscape(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let b = u.first else { return false }
        return b == UInt8(ascii: "~") || b == UInt8(ascii: "^") || b == UInt8(ascii: "`")
    }

    /// Calls `body` with the UTF-8 bytes of `s` (in place for native strings).
    @inline(__always)
    static func withUTF8<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let r = s.utf8.withContiguousStorageIfAvailable(body) { return r }
        var copy = s
        return copy.withUTF8(body)
    }

    static func needsEscape(_ s: String) -> Bool {
        guard let b = s.utf8.first else { return false }
        return b == UInt8(ascii: "~") || b == UInt8(ascii: "^") || b == UInt8(ascii: "`")
    }

    /// Length of the encoded prefix for a cache-key tag.
    @inline(__always)
    static func prefixLength(_ tag: UInt8) -> Int { tag == 0 ? 0 : (tag == UInt8(ascii: "~") ? 1 : 2) }

    /// True when the encoded string `prefix(tag) + text` (text as UTF-8 bytes) is at least 4
    /// units long.
    @inline(__always)
    static func isLongEnough(tag: UInt8, _ u: UnsafeBufferPointer<UInt8>, unit: TransitCacheLength) -> Bool {
        let need = 4 - prefixLength(tag)
        let count = u.count
        if count < need { return false }
        // Each unit takes at most 4 bytes: enough bytes settle it only for ASCII, so count.
        guard let p = u.baseAddress else { return false }
        var n = 0
        var i = 0
        while i < count {
            let b = p[i]
            if b & 0xC0 != 0x80 {
                n &+= (b >= 0xF0 && unit == .utf16) ? 2 : 1
                if n >= need { return true }
            }
            i &+= 1
        }
        return false
    }

    /// Calls `body` with the 36 lowercase characters of a UUID (`8-4-4-4-12`), made eight
    /// digits at a time (`hexDigits`).
    @inline(__always)
    static func withUUIDText<R>(_ u: EDNUUID, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 36) { buf in
            let p = UnsafeMutableRawPointer(buf.baseAddress!)
            let a = hexDigits(UInt32(truncatingIfNeeded: u.high >> 32)), b = hexDigits(UInt32(truncatingIfNeeded: u.high))
            let c = hexDigits(UInt32(truncatingIfNeeded: u.low >> 32)), d = hexDigits(UInt32(truncatingIfNeeded: u.low))
            p.storeBytes(of: a.littleEndian, as: UInt64.self)
            p.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 8, as: UInt8.self)
            p.storeBytes(of: UInt32(truncatingIfNeeded: b).littleEndian, toByteOffset: 9, as: UInt32.self)
            p.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 13, as: UInt8.self)
            p.storeBytes(of: UInt32(truncatingIfNeeded: b >> 32).littleEndian, toByteOffset: 14, as: UInt32.self)
            p.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 18, as: UInt8.self)
            p.storeBytes(of: UInt32(truncatingIfNeeded: c).littleEndian, toByteOffset: 19, as: UInt32.self)
            p.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 23, as: UInt8.self)
            p.storeBytes(of: UInt32(truncatingIfNeeded: c >> 32).littleEndian, toByteOffset: 24, as: UInt32.self)
            p.storeBytes(of: d.littleEndian, toByteOffset: 28, as: UInt64.self)
            return body(UnsafeBufferPointer(start: buf.baseAddress!, count: 36))
        }
    }

    /// The eight lowercase hex digits of `v`, most significant first, as the bytes of a word
    /// from its lowest byte up (store it little-endian).
    @inline(__always)
    static func hexDigits(_ v: UInt32) -> UInt64 {
        // One nibble per byte, the most significant nibble in the highest byte…
        var x = UInt64(v)
        x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF
        x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF
        x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F
        // …then to ASCII ('0' + n, plus 39 more from 10 on: 'a' - '0' - 10), first digit lowest.
        let letters = ((x &+ 0x7676_7676_7676_7676) & 0x8080_8080_8080_8080) >> 7
        return (x &+ 0x3030_3030_3030_3030 &+ letters &* 39).byteSwapped
    }

    /// Calls `body` with the decimal digits of `i` (with a leading `-` when negative).
    @inline(__always)
    static func withDecimalText<R>(_ i: Int64, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buf in
            let p = buf.baseAddress!
            var m = i.magnitude
            var k = 20
            repeat {
                k -= 1
                p[k] = UInt8(truncatingIfNeeded: 48 &+ m % 10)
                m /= 10
            } while m > 0
            if i < 0 { k -= 1; p[k] = UInt8(ascii: "-") }
            return body(UnsafeBufferPointer(start: p + k, count: 20 - k))
        }
    }

    /// `#object[java.net.URI 0x… "http://…"]`, as Clojure prints a `java.net.URI` (the JVM
    /// type of a Transit URI, e.g. in the Transit exemplars' `.edn` files), is written as the
    /// URI it stands for.
    static func printedJavaURI(_ tag: Symbol, _ rep: EDNValue) -> String? {
        guard tag.text == "object", case .vector(let parts) = rep, parts.count == 3,
              case .symbol(let cls) = parts[0], cls.text == "java.net.URI",
              case .string(let uri) = parts[2] else { return nil }
        return uri
    }

    /// True for a tag the readers turn into a built-in value rather than a tagged value
    /// (`["~#set", …]` is a set, `"~m…"` an instant): a tagged value with such a tag would
    /// read back as something else, so the writers refuse it.
    static func readsAsBuiltIn(_ tag: String) -> Bool {
        switch tag {
        case "set", "list", "cmap", "ratio", "'", "m", "u": return true
        default:
            guard tag.utf8.count == 1, let t = tag.utf8.first, t < 0x80 else { return false }
            return TransitDecoding.isBuiltInScalarTag(t)
        }
    }

    static func builtInTagError(_ tag: Symbol) -> TransitError {
        TransitError(kind: .unencodable,
                     message: "A tagged value with the built-in tag \"\(tag.text)\" would read back as another kind of value")
    }

    /// JSON-verbose writes instants as `~t` text with a four-digit year (transit-java's
    /// `SimpleDateFormat`); outside the years 0001–9999 no reader reads that back.
    static func verboseInstantError(_ i: Instant) -> TransitError {
        TransitError(kind: .unencodable,
                     message: "Instant \(i.millisecondsSinceEpoch) ms is outside the years 0001-9999 that JSON-verbose ~t can carry")
    }

    static func depthError(_ max: Int) -> TransitError {
        TransitError(kind: .unencodable, message: "Value nested deeper than \(max) levels")
    }

    // MARK: numbers as text

    static func appendInt(_ i: Int64, into out: inout ByteBuffer) {
        if i >= 0 && i < 10 { out.append(UInt8(48 + i)); return }
        var m = i.magnitude
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { p in
            var n = 0
            repeat {
                p[23 - n] = UInt8(48 + m % 10)
                m /= 10
                n += 1
            } while m > 0
            if i < 0 { out.append(UInt8(ascii: "-")) }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: p.bindMemory(to: UInt8.self)[(24 - n)...]))
        }
    }

    /// A finite double as Java's `Double.toString` prints it (what transit-java's JSON writer
    /// emits): `1.0`, `0.001`, `1.0E7`, `6.626E-34`, with the shortest round-trip digits.
    static func appendJavaDouble(_ d: Double, into out: inout ByteBuffer) {
        let m = d.magnitude
        if m >= 1e-3 && m < 1e7 {
            // Swift's shortest description has Java's layout in this range (`0.001`, `100.0`,
            // `1234567.5`): no exponent, at least one digit after the point.
            var s = d.description
            s.withUTF8 { out.append(contentsOf: $0) }
            return
        }
        appendJavaDoubleGeneral(d, into: &out)
    }

    /// `appendJavaDouble` for any finite double, by reshaping Swift's shortest digits.
    static func appendJavaDoubleGeneral(_ d: Double, into out: inout ByteBuffer) {
        if d == 0 { out.append(d.sign == .minus ? "-0.0" : "0.0"); return }
        // Java prints the smallest subnormal as 4.9E-324 (Swift's shortest form is 5e-324).
        if d.magnitude == .leastNonzeroMagnitude { out.append(d < 0 ? "-4.9E-324" : "4.9E-324"); return }
        // Shortest digits from Swift's printer: "123.45", "1e-05", "6.626e-34", "1.0", read
        // in place into a stack buffer.
        var text = d.magnitude.description
        text.withUTF8 { u in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: u.count + 1) { buf in
                let digits = buf.baseAddress!
                var count = 0
                var point = -1
                var exp = 0, expNegative = false, inExp = false
                for k in 0..<u.count {
                    let b = u[k]
                    if inExp {
                        if b == UInt8(ascii: "-") { expNegative = true } else if b != UInt8(ascii: "+") { exp = exp * 10 + Int(b &- 48) }
                    } else if b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                        inExp = true
                    } else if b == UInt8(ascii: ".") {
                        point = count
                    } else {
                        digits[count] = b
                        count += 1
                    }
                }
                var intDigits = point >= 0 ? point : count
                var lead = 0
                while lead < count - 1, digits[lead] == 48 { lead += 1 }
                intDigits -= lead
                let first = digits + lead
                count -= lead
                while count > 1, first[count - 1] == 48 { count -= 1 }
                let exponent = intDigits + (expNegative ? -exp : exp)   // value = 0.DIGITS × 10^exponent
                if d < 0 { out.append(UInt8(ascii: "-")) }
                let sci = exponent - 1
                func put(_ from: Int, _ to: Int) {
                    if to > from { out.append(contentsOf: UnsafeBufferPointer(start: first + from, count: to - from)) }
                }
                if sci >= -3 && sci < 7 {
                    if exponent <= 0 {
                        out.append("0.")
                        for _ in 0..<(-exponent) { out.append(48) }
                        put(0, count)
                    } else if count <= exponent {
                        put(0, count)
                        for _ in 0..<(exponent - count) { out.append(48) }
                        out.append(".0")
                    } else {
                        put(0, exponent)
                        out.append(UInt8(ascii: "."))
                        put(exponent, count)
                    }
                } else {
                    out.append(first[0])
                    out.append(UInt8(ascii: "."))
                    if count > 1 { put(1, count) } else { out.append(48) }
                    out.append(UInt8(ascii: "E"))
                    appendInt(Int64(sci), into: &out)
                }
            }
        }
    }

    static func javaDoubleString(_ d: Double) -> String {
        var out = ByteBuffer(capacity: 32)
        defer { out.free() }
        appendJavaDouble(d, into: &out)
        return String(decoding: out.bytes, as: UTF8.self)
    }

    static func specialName(_ d: Double) -> String {
        d.isNaN ? "NaN" : (d > 0 ? "INF" : "-INF")
    }
}

private let upperHex = Array("0123456789ABCDEF".utf8)

/// Transit JSON / JSON-verbose writer.
struct JSONEncoder {
    var out: ByteBuffer
    let verbose: Bool
    let maxDepth: Int
    let cacheUnit: TransitCacheLength
    var cache = WriteCache()

    init(verbose: Bool, options: TransitWriter.Options) {
        self.out = ByteBuffer(capacity: 1024)
        self.verbose = verbose
        self.maxDepth = options.maxDepth
        self.cacheUnit = options.cacheLength
    }

    mutating func writeTop(_ v: EDNValue) throws(TransitError) {
        if TransitWriting.isScalar(v) {
            beginTagged("'")
            try write(v, asMapKey: false, depth: 1)
            endTagged()
        } else {
            try write(v, asMapKey: false, depth: 0)
        }
    }

    // MARK: strings

    /// Appends UTF-8 bytes JSON-escaped (no quotes), as Jackson escapes: `\"`, `\\`, `\n`-style
    /// short escapes, `\u00XX` for other control characters; UTF-8 kept.
    @inline(__always)
    mutating func appendEscaped(_ u: UnsafeBufferPointer<UInt8>) {
        guard let p = u.baseAddress else { return }
        let n = u.count
        // Eight bytes at a time while none needs escaping, copied as they are checked.
        var i = out.appendJSONCleanWords(p, n)
        if i == n { return }
        var runStart = i
        while i < n {
            let b = p[i]
            i &+= 1
            guard b < 0x20 || b == 0x22 || b == 0x5C else { continue }
            let at = i - 1
            if runStart < at { out.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<at])) }
            out.append(UInt8(ascii: "\\"))
            switch b {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\"))
            case 10: out.append(UInt8(ascii: "n"))
            case 13: out.append(UInt8(ascii: "r"))
            case 9: out.append(UInt8(ascii: "t"))
            case 8: out.append(UInt8(ascii: "b"))
            case 12: out.append(UInt8(ascii: "f"))
            default:
                out.append("u00")
                out.append(upperHex[Int(b >> 4)])
                out.append(upperHex[Int(b & 15)])
            }
            runStart = at + 1
        }
        if runStart < u.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<u.count])) }
    }

    /// Writes the encoded string `prefix(tag) + text`, through the cache (JSON only).
    @inline(__always)
    mutating func emit(_ tag: UInt8, _ text: String, asMapKey: Bool) {
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { u in
            emit(tag, u, asMapKey: asMapKey)
        }
        if done == nil {
            var copy = text
            copy.withUTF8 { u in emit(tag, u, asMapKey: asMapKey) }
        }
    }

    @inline(__always)
    mutating func emit(_ tag: UInt8, _ u: UnsafeBufferPointer<UInt8>, asMapKey: Bool) {
        let candidate = !verbose && (asMapKey || tag == UInt8(ascii: ":") || tag == UInt8(ascii: "$") || tag == UInt8(ascii: "#"))
        if candidate && TransitWriting.isLongEnough(tag: tag, u, unit: cacheUnit),
           let index = cache.lookupOrInsert(tag: tag, bytes: u) {
            out.reserve(5)
            out.append(UInt8(ascii: "\""))
            TransitCacheCodes.appendCode(index, into: &out)
            out.append(UInt8(ascii: "\""))
            return
        }
        out.reserve(u.count + 4)
        out.append(UInt8(ascii: "\""))
        if tag != 0 {
            out.append(UInt8(ascii: "~"))
            if tag != UInt8(ascii: "~") { out.append(tag) }
        }
        appendEscaped(u)
        out.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    mutating func emitString(_ s: String, asMapKey: Bool) {
        TransitWriting.withUTF8(s) { u in
            emit(TransitWriting.needsEscape(u) ? UInt8(ascii: "~") : 0, u, asMapKey: asMapKey)
        }
    }

    mutating func beginTagged(_ tag: String) {
        out.append(verbose ? UInt8(ascii: "{") : UInt8(ascii: "["))
        emit(UInt8(ascii: "#"), tag, asMapKey: false)
        out.append(verbose ? UInt8(ascii: ":") : UInt8(ascii: ","))
    }

    mutating func endTagged() {
        out.append(verbose ? UInt8(ascii: "}") : UInt8(ascii: "]"))
    }

    /// A set's members as an array, in Clojure's hash order (see `TransitWriter`).
    mutating func writeSetMembers(_ s: EDNSet, depth: Int) throws(TransitError) {
        guard let order = s.clojureOrder else { return try writeArray(s.elements, depth: depth) }
        out.append(UInt8(ascii: "["))
        try s.elements.withUnsafeBufferPointer { p throws(TransitError) in
            for (n, i) in order.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                try writeElement(p.baseAddress! + i, asMapKey: false, depth: depth)
            }
        }
        out.append(UInt8(ascii: "]"))
    }

    mutating func writeArray(_ items: [EDNValue], depth: Int) throws(TransitError) {
        out.append(UInt8(ascii: "["))
        try items.withUnsafeBufferPointer { p throws(TransitError) in
            for i in 0..<p.count {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                try writeElement(p.baseAddress! + i, asMapKey: false, depth: depth)
            }
        }
        out.append(UInt8(ascii: "]"))
    }

    // MARK: values

    /// An element of an array or map, written in place: the common scalars are matched on
    /// the stored value, without first copying the whole `EDNValue` out of its array.
    @inline(__always)
    mutating func writeElement(_ p: UnsafePointer<EDNValue>, asMapKey: Bool, depth: Int) throws(TransitError) {
        switch p.pointee {
        case .integer(let i) where !asMapKey && i <= maxJSONSafeInteger && i >= -maxJSONSafeInteger:
            TransitWriting.appendInt(i, into: &out)
        case .keyword(let k):
            emit(UInt8(ascii: ":"), k.text, asMapKey: asMapKey)
        case .string(let s):
            emitString(s, asMapKey: asMapKey)
        case .double(let d) where !asMapKey && d.isFinite:
            TransitWriting.appendJavaDouble(d, into: &out)
        case .null where !asMapKey:
            out.append("null")
        case .bool(let b) where !asMapKey:
            out.append(b ? "true" : "false")
        case .uuid(let u):
            TransitWriting.withUUIDText(u) { emit(UInt8(ascii: "u"), $0, asMapKey: asMapKey) }
        case .instant(let i) where !verbose:
            TransitWriting.withDecimalText(i.millisecondsSinceEpoch) { emit(UInt8(ascii: "m"), $0, asMapKey: asMapKey) }
        default:
            try write(p.pointee, asMapKey: asMapKey, depth: depth)
        }
    }

    mutating func write(_ v: EDNValue, asMapKey: Bool, depth: Int) throws(TransitError) {
        switch v {
        case .null:
            if asMapKey { emit(UInt8(ascii: "_"), "", asMapKey: true) } else { out.append("null") }
        case .bool(let b):
            if asMapKey { emit(UInt8(ascii: "?"), b ? "t" : "f", asMapKey: true) } else { out.append(b ? "true" : "false") }
        case .integer(let i):
            if asMapKey || i > maxJSONSafeInteger || i < -maxJSONSafeInteger {
                TransitWriting.withDecimalText(i) { emit(UInt8(ascii: "i"), $0, asMapKey: asMapKey) }
            } else {
                TransitWriting.appendInt(i, into: &out)
            }
        case .bigInteger(let b): emit(UInt8(ascii: "n"), b.description, asMapKey: asMapKey)
        case .double(let d):
            if !d.isFinite {
                emit(UInt8(ascii: "z"), TransitWriting.specialName(d), asMapKey: asMapKey)
            } else if asMapKey {
                emit(UInt8(ascii: "d"), TransitWriting.javaDoubleString(d), asMapKey: true)
            } else {
                TransitWriting.appendJavaDouble(d, into: &out)
            }
        case .bigDecimal(let d): emit(UInt8(ascii: "f"), d.description, asMapKey: asMapKey)
        case .string(let s): emitString(s, asMapKey: asMapKey)
        case .keyword(let k): emit(UInt8(ascii: ":"), k.text, asMapKey: asMapKey)
        case .symbol(let s): emit(UInt8(ascii: "$"), s.text, asMapKey: asMapKey)
        case .character(let c): emit(UInt8(ascii: "c"), String(Character(c)), asMapKey: asMapKey)
        case .instant(let i):
            if verbose {
                guard i.isReadable else { throw TransitWriting.verboseInstantError(i) }
                emit(UInt8(ascii: "t"), i.transitString, asMapKey: asMapKey)
            } else {
                TransitWriting.withDecimalText(i.millisecondsSinceEpoch) { emit(UInt8(ascii: "m"), $0, asMapKey: asMapKey) }
            }
        case .uuid(let u):
            TransitWriting.withUUIDText(u) { emit(UInt8(ascii: "u"), $0, asMapKey: asMapKey) }
        case .uri(let u): emit(UInt8(ascii: "r"), u, asMapKey: asMapKey)
        case .bytes(let b): emit(UInt8(ascii: "b"), Base64.encode(b), asMapKey: asMapKey)
        case .vector(let items):
            guard depth < maxDepth else { throw TransitWriting.depthError(maxDepth) }
            try writeArray(items, depth: depth + 1)
        case .list(let items):
            guard depth < maxDepth else { throw TransitWriting.depthError(maxDepth) }
            beginTagged("list")
            try writeArray(items, depth: depth + 1)
            endTagged()
        case .set(let s):
            guard depth < maxDepth else { throw TransitWriting.depthError(maxDepth) }
            beginTagged("set")
            try writeSetMembers(s, depth: depth + 1)
            endTagged()
        case .ratio(let r):
            beginTagged("ratio")
            out.append(UInt8(ascii: "["))
            emit(UInt8(ascii: "n"), r.numerator.description, asMapKey: false)
            out.append(UInt8(ascii: ","))
            emit(UInt8(ascii: "n"), r.denominator.description, asMapKey: false)
            out.append(UInt8(ascii: "]"))
            endTagged()
        case .map(let m):
            guard depth < maxDepth else { throw TransitWriting.depthError(maxDepth) }
            try writeMap(m, depth: depth + 1)
        case .tagged(let tag, let rep):
            if let uri = TransitWriting.printedJavaURI(tag, rep) {
                emit(UInt8(ascii: "r"), uri, asMapKey: asMapKey)
            } else if TransitWriting.readsAsBuiltIn(tag.text) {
                throw TransitWriting.builtInTagError(tag)
            } else if case .string(let s) = rep, TransitWriting.isOneCharacter(tag.text) {
                emit(0, "~" + tag.text + s, asMapKey: asMapKey)
            } else {
                guard depth < maxDepth else { throw TransitWriting.depthError(maxDepth) }
                beginTagged(tag.text)
                try write(rep, asMapKey: false, depth: depth + 1)
                endTagged()
            }
        }
    }

    mutating func writeMap(_ m: EDNMap, depth: Int) throws(TransitError) {
        let scalarKeys = TransitWriting.hasScalarKeys(m)
        if !scalarKeys {
            beginTagged("cmap")
            out.append(UInt8(ascii: "["))
        } else if verbose {
            out.append(UInt8(ascii: "{"))
        } else {
            out.append("[\"^ \"")
        }
        try m.entries.withUnsafeBufferPointer { e throws(TransitError) in
            var p = e.baseAddress
            for i in 0..<(e.count / 2) {
                if i > 0 || (!verbose && scalarKeys) { out.append(UInt8(ascii: ",")) }
                try writeElement(p!, asMapKey: scalarKeys, depth: depth)
                out.append(verbose && scalarKeys ? UInt8(ascii: ":") : UInt8(ascii: ","))
                try writeElement(p! + 1, asMapKey: false, depth: depth)
                p! += 2
            }
        }
        out.append(verbose && scalarKeys ? UInt8(ascii: "}") : UInt8(ascii: "]"))
        if !scalarKeys { endTagged() }
    }
}
