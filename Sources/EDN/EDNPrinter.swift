/// Prints `EDNValue`s as EDN text, byte for byte what Clojure's `pr-str` prints for the same
/// value (what a Sente peer sends and expects): `, ` between map entries, doubles as Java's
/// `Double.toString` (`1.0E-5`, `-0.0`), `N`/`M` suffixes, `#inst "…-00:00"`, `\newline`.
///
/// Sets, and maps of more than eight entries, print in the order Clojure's hash collections
/// iterate (see `ClojureHash`): `pr-str` of a `PersistentHashSet`/`PersistentHashMap` walks
/// its hash trie. Maps of up to eight entries are `PersistentArrayMap`s there and print in
/// insertion order, as here.
///
/// `pretty(_:)` gives an indented layout for humans.
public enum EDNPrinter {
    /// The value as compact EDN text.
    public static func string(_ value: EDNValue) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        write(value, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The value as compact EDN, UTF-8 bytes.
    public static func bytes(_ value: EDNValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        write(value, into: &out)
        return out
    }

    /// Appends the value's compact EDN text to `out`.
    public static func write(_ value: EDNValue, into out: inout [UInt8]) {
        switch value {
        case .null: appendStatic("nil", &out)
        case .bool(let b): appendStatic(b ? "true" : "false", &out)
        case .integer(let i): writeInt(i, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .keyword(let k): out.append(UInt8(ascii: ":")); appendUTF8(k.text, &out)
        case .list(let items): writeSequence(items, open: UInt8(ascii: "("), close: UInt8(ascii: ")"), into: &out)
        case .vector(let items): writeSequence(items, open: UInt8(ascii: "["), close: UInt8(ascii: "]"), into: &out)
        case .set(let set):
            if set.count > 1 {
                writeHashOrdered(set, into: &out)
            } else {
                out.append(UInt8(ascii: "#"))
                writeSequence(set.elements, open: UInt8(ascii: "{"), close: UInt8(ascii: "}"), into: &out)
            }
        case .map(let map):
            if map.count > EDNMap.arrayMapLimit {
                writeHashOrdered(map, into: &out)
                return
            }
            // Up to 8 entries Clojure keeps a PersistentArrayMap: insertion order.
            out.append(UInt8(ascii: "{"))
            var first = true
            for (k, v) in map {
                if !first { out.append(UInt8(ascii: ",")); out.append(UInt8(ascii: " ")) }
                first = false
                write(k, into: &out)
                out.append(UInt8(ascii: " "))
                write(v, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .tagged(let tag, let v):
            out.append(UInt8(ascii: "#"))
            appendUTF8(tag.text, &out)
            out.append(UInt8(ascii: " "))
            write(v, into: &out)
        default:
            writeAtom(value, into: &out)
        }
    }

    /// A set of two or more members in Clojure's hash order: every set Clojure reads is a
    /// `PersistentHashSet`, which `pr-str` prints by walking its hash trie.
    static func writeHashOrdered(_ set: EDNSet, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "#"))
        out.append(UInt8(ascii: "{"))
        set.elements.withUnsafeBufferPointer { e in
            ClojureHash.withTrieOrder(e, stride: 1) { nilKey, slots in
                if nilKey != nil { appendStatic("nil", &out) }
                var first = nilKey == nil
                for s in slots {
                    if !first { out.append(UInt8(ascii: " ")) }
                    first = false
                    write(e[Int(truncatingIfNeeded: s & 0xFFFF_FFFF)], into: &out)
                }
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// A map of more than 8 entries in Clojure's hash order (a `PersistentHashMap` there).
    static func writeHashOrdered(_ map: EDNMap, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        map.entries.withUnsafeBufferPointer { e in
            ClojureHash.withTrieOrder(e, stride: 2) { nilKey, slots in
                var first = true
                func entry(_ i: Int) {
                    if !first { out.append(UInt8(ascii: ",")); out.append(UInt8(ascii: " ")) }
                    first = false
                    write(e[2 * i], into: &out)
                    out.append(UInt8(ascii: " "))
                    write(e[2 * i + 1], into: &out)
                }
                if let nilKey { entry(nilKey) }
                for s in slots { entry(Int(truncatingIfNeeded: s & 0xFFFF_FFFF)) }
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The value as compact EDN with every set and map in its insertion order rather than
    /// Clojure's hash order: what `sorted(_:)` arranged stays visible (`chsk pack --sort`).
    public static func bytesInInsertionOrder(_ value: EDNValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        writeInInsertionOrder(value, into: &out)
        return out
    }

    static func writeInInsertionOrder(_ value: EDNValue, into out: inout [UInt8]) {
        func items(_ a: [EDNValue], _ open: StaticString, _ close: UInt8, separator: StaticString) {
            appendStatic(open, &out)
            for (n, x) in a.enumerated() {
                if n > 0 { appendStatic(separator, &out) }
                writeInInsertionOrder(x, into: &out)
            }
            out.append(close)
        }
        switch value {
        case .list(let a): items(a, "(", UInt8(ascii: ")"), separator: " ")
        case .vector(let a): items(a, "[", UInt8(ascii: "]"), separator: " ")
        case .set(let s): items(s.elements, "#{", UInt8(ascii: "}"), separator: " ")
        case .map(let m):
            out.append(UInt8(ascii: "{"))
            for (n, (k, v)) in m.enumerated() {
                if n > 0 { appendStatic(", ", &out) }
                writeInInsertionOrder(k, into: &out)
                out.append(UInt8(ascii: " "))
                writeInInsertionOrder(v, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .tagged(let tag, let v):
            out.append(UInt8(ascii: "#"))
            appendUTF8(tag.text, &out)
            out.append(UInt8(ascii: " "))
            writeInInsertionOrder(v, into: &out)
        default:
            writeAtom(value, into: &out)
        }
    }

    /// A value that holds no other value.
    static func writeAtom(_ value: EDNValue, into out: inout [UInt8]) {
        switch value {
        case .null: appendStatic("nil", &out)
        case .bool(let b): appendStatic(b ? "true" : "false", &out)
        case .integer(let i): writeInt(i, into: &out)
        case .bigInteger(let b): out += b.description.utf8; out.append(UInt8(ascii: "N"))
        case .double(let d): writeDouble(d, into: &out)
        case .bigDecimal(let d): out += d.description.utf8; out.append(UInt8(ascii: "M"))
        case .ratio(let r): out += r.description.utf8
        case .string(let s): writeString(s, into: &out)
        case .character(let c): writeCharacter(c, into: &out)
        case .keyword(let k): out.append(UInt8(ascii: ":")); appendUTF8(k.text, &out)
        case .symbol(let s): appendUTF8(s.text, &out)
        case .instant(let i): appendStatic("#inst \"", &out); i.writeUTC(into: &out); appendStatic("-00:00\"", &out)
        case .uuid(let u): appendStatic("#uuid \"", &out); u.write(into: &out); out.append(UInt8(ascii: "\""))
        case .uri(let u): out += "#uri ".utf8; writeString(u, into: &out)
        case .bytes(let b): out += "#bytes ".utf8; writeString(Base64.encode(b), into: &out)
        case .list, .vector, .set, .map, .tagged:
            write(value, into: &out)
        }
    }

    @inline(__always) static func appendStatic(_ s: StaticString, _ out: inout [UInt8]) {
        s.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    @inline(__always) static func appendUTF8(_ s: String, _ out: inout [UInt8]) {
        var s = s
        s.withUTF8 { out.append(contentsOf: $0) }
    }

    static func writeSequence(_ items: [EDNValue], open: UInt8, close: UInt8, into out: inout [UInt8]) {
        out.append(open)
        var first = true
        for item in items {
            if !first { out.append(UInt8(ascii: " ")) }
            first = false
            write(item, into: &out)
        }
        out.append(close)
    }

    static func writeInt(_ i: Int64, into out: inout [UInt8]) {
        if i >= 0 && i < 10 { out.append(UInt8(48 + i)); return }
        var m = i.magnitude
        var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                  UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &tmp) { p in
            repeat {
                p[19 - n] = UInt8(48 + m % 10)
                m /= 10
                n += 1
            } while m > 0
            if i < 0 { out.append(UInt8(ascii: "-")) }
            out.append(contentsOf: p[(20 - n)...])
        }
    }

    /// Java's `Double.toString` layout over Swift's shortest round-trip digits: plain notation
    /// for 10^-3 ≤ |d| < 10^7 (`100.0`, `0.001`), else `d.dddE±n` (`1.0E7`, `1.0E-5`).
    /// (JDK ≤ 18 sometimes printed more digits than the shortest form; the JDK 19+ algorithm
    /// prints the shortest, as here.)
    static func writeDouble(_ d: Double, into out: inout [UInt8]) {
        if d.isNaN { out += "##NaN".utf8; return }
        if d.isInfinite { out += (d > 0 ? "##Inf" : "##-Inf").utf8; return }
        if d == 0 { out += (d.sign == .minus ? "-0.0" : "0.0").utf8; return }
        let m = d.magnitude
        if m >= 1e-3 && m < 1e7 {
            // Swift's shortest form is already Java's layout here (`100.0`, `0.001`, `1234567.5`).
            var text = d.description
            text.withUTF8 { out.append(contentsOf: $0) }
            return
        }
        var (digits, exponent) = shortestDigits(d)   // value = 0.d1d2… × 10^exponent
        if digits.count == 1 && d.isSubnormal { (digits, exponent) = twoDigitsForSubnormal(d, exponent) }
        if d < 0 { out.append(UInt8(ascii: "-")) }
        let sci = exponent - 1                        // value = d1.d2… × 10^sci
        if sci >= -3 && sci < 7 {
            if exponent <= 0 {
                out += "0.".utf8
                for _ in 0..<(-exponent) { out.append(UInt8(ascii: "0")) }
                out += digits
            } else if digits.count <= exponent {
                out += digits
                for _ in 0..<(exponent - digits.count) { out.append(UInt8(ascii: "0")) }
                out += ".0".utf8
            } else {
                out += digits[0..<exponent]
                out.append(UInt8(ascii: "."))
                out += digits[exponent...]
            }
        } else {
            out.append(digits[0])
            out.append(UInt8(ascii: "."))
            if digits.count > 1 { out += digits[1...] } else { out.append(UInt8(ascii: "0")) }
            out.append(UInt8(ascii: "E"))
            writeInt(Int64(sci), into: &out)
        }
    }

    /// Java prints at least two significant digits and, when the shortest form has one,
    /// takes the two-digit decimal nearest the exact value: `4.9E-324`, not `5.0E-324`. Only
    /// subnormals are imprecise enough for that to differ from `d.0`.
    static func twoDigitsForSubnormal(_ d: Double, _ exponent: Int) -> ([UInt8], Int) {
        #if arch(x86_64) || arch(i386)
        var scaled = Float80(d.magnitude)
        // value = 0.d1d2 × 10^exponent  ⇒  d1d2 = value × 10^(2 - exponent)
        var p = 2 - exponent
        while p > 0 { scaled *= 10; p -= 1 }
        let twoDigits = Int(scaled.rounded())
        if twoDigits >= 10 && twoDigits <= 99 {
            var digits = [UInt8(48 + twoDigits / 10), UInt8(48 + twoDigits % 10)]
            if digits[1] == UInt8(ascii: "0") { digits.removeLast() }
            return (digits, exponent)
        }
        #endif
        return (shortestDigits(d).digits, exponent)
    }

    /// Shortest round-trip decimal digits of a finite non-zero double (from Swift's own
    /// shortest-representation printer) and the exponent `e` with value = 0.digits × 10^e.
    static func shortestDigits(_ d: Double) -> (digits: [UInt8], exponent: Int) {
        let text = d.magnitude.description
        var digits: [UInt8] = []
        var pointPosition: Int? = nil
        var exp = 0
        var expNegative = false
        var inExponent = false
        for b in text.utf8 {
            if inExponent {
                if b == UInt8(ascii: "-") { expNegative = true } else if b != UInt8(ascii: "+") { exp = exp * 10 + Int(b - 48) }
            } else if b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                inExponent = true
            } else if b == UInt8(ascii: ".") {
                pointPosition = digits.count
            } else {
                digits.append(b)
            }
        }
        if expNegative { exp = -exp }
        var intDigits = pointPosition ?? digits.count
        // Drop leading zeros ("0.001" → "1" with the point moved).
        var lead = 0
        while lead < digits.count - 1, digits[lead] == UInt8(ascii: "0") { lead += 1 }
        digits.removeFirst(lead)
        intDigits -= lead
        while digits.count > 1, digits.last == UInt8(ascii: "0") { digits.removeLast() }
        return (digits, intDigits + exp)
    }

    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { u in
            var runStart = 0
            for i in 0..<u.count {
                let b = u[i]
                let escape: UInt8
                switch b {
                case UInt8(ascii: "\""): escape = UInt8(ascii: "\"")
                case UInt8(ascii: "\\"): escape = UInt8(ascii: "\\")
                case 10: escape = UInt8(ascii: "n")
                case 9: escape = UInt8(ascii: "t")
                case 13: escape = UInt8(ascii: "r")
                case 8: escape = UInt8(ascii: "b")
                case 12: escape = UInt8(ascii: "f")
                default: continue
                }
                if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<i])) }
                out.append(UInt8(ascii: "\\"))
                out.append(escape)
                runStart = i + 1
            }
            if runStart < u.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<u.count])) }
        }
        out.append(UInt8(ascii: "\""))
    }

    static func writeCharacter(_ c: Unicode.Scalar, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        switch c {
        case "\n": out += "newline".utf8
        case "\t": out += "tab".utf8
        case " ": out += "space".utf8
        case "\u{08}": out += "backspace".utf8
        case "\u{0C}": out += "formfeed".utf8
        case "\r": out += "return".utf8
        default: UTF8.encode(c) { out.append($0) }
        }
    }

    /// The value with every map's entries and every set's members in a canonical order (by
    /// their printed text), so equal values print identically: for diffs and tests (`jq -S`).
    /// `string`/`bytes` print sets and large maps in Clojure's hash order whatever their
    /// insertion order; `bytesInInsertionOrder` shows the sorted order.
    public static func sorted(_ value: EDNValue) -> EDNValue {
        switch value {
        case .list(let a): return .list(a.map(sorted))
        case .vector(let a): return .vector(a.map(sorted))
        case .set(let s):
            let members = s.elements.map(sorted).map { (EDNPrinter.bytes($0), $0) }
                .sorted { $0.0.lexicographicallyPrecedes($1.0) }
            return .set(EDNSet(members.map(\.1)))
        case .map(let m):
            let entries = m.map { (sorted($0.0), sorted($0.1)) }.map { (EDNPrinter.bytes($0.0), $0) }
                .sorted { $0.0.lexicographicallyPrecedes($1.0) }
            var out = EDNMap()
            out.reserveCapacity(entries.count)
            for (_, kv) in entries { out[kv.0] = kv.1 }
            return .map(out)
        case .tagged(let t, let v): return .tagged(t, sorted(v))
        default: return value
        }
    }

    // MARK: pretty

    /// The value laid out for humans: collections that fit in `width` columns stay on one
    /// line, others put one element (or map entry) per line, indented under the opener.
    /// With `insertionOrder`, sets and maps keep their insertion order (what `sorted(_:)`
    /// arranged) instead of Clojure's hash order.
    public static func pretty(_ value: EDNValue, width: Int = 80, insertionOrder: Bool = false) -> String {
        var out: [UInt8] = []
        writePretty(value, indent: 0, width: width, insertionOrder: insertionOrder, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func writePretty(_ value: EDNValue, indent: Int, width: Int, insertionOrder: Bool, into out: inout [UInt8]) {
        func flatText(_ v: EDNValue) -> [UInt8] { insertionOrder ? bytesInInsertionOrder(v) : bytes(v) }
        let flat = flatText(value)
        if indent + flat.count <= width {
            out += flat
            return
        }
        func newline(_ n: Int) {
            out.append(10)
            for _ in 0..<n { out.append(UInt8(ascii: " ")) }
        }
        switch value {
        case .list(let items), .vector(let items):
            let isList = { if case .list = value { true } else { false } }()
            out.append(isList ? UInt8(ascii: "(") : UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { newline(indent + 1) }
                writePretty(item, indent: indent + 1, width: width, insertionOrder: insertionOrder, into: &out)
            }
            out.append(isList ? UInt8(ascii: ")") : UInt8(ascii: "]"))
        case .set(let set):
            out += "#{".utf8
            let members = (insertionOrder ? nil : set.clojureOrder).map { $0.map { set.elements[$0] } } ?? set.elements
            for (i, item) in members.enumerated() {
                if i > 0 { newline(indent + 2) }
                writePretty(item, indent: indent + 2, width: width, insertionOrder: insertionOrder, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .map(let map):
            out.append(UInt8(ascii: "{"))
            var first = true
            let order = (insertionOrder ? nil : map.clojureOrder) ?? Array(0..<map.count)
            for (k, v) in order.lazy.map({ (map.key(at: $0), map.value(at: $0)) }) {
                if !first { newline(indent + 1) }
                first = false
                let keyText = flatText(k)
                writePretty(k, indent: indent + 1, width: width, insertionOrder: insertionOrder, into: &out)
                let valueIndent = indent + 1 + keyText.count + 1
                let flatValue = flatText(v)
                if valueIndent + flatValue.count <= width || !isCollection(v) {
                    out.append(UInt8(ascii: " "))
                    writePretty(v, indent: valueIndent, width: width, insertionOrder: insertionOrder, into: &out)
                } else {
                    newline(indent + 2)
                    writePretty(v, indent: indent + 2, width: width, insertionOrder: insertionOrder, into: &out)
                }
            }
            out.append(UInt8(ascii: "}"))
        case .tagged(let tag, let v):
            out.append(UInt8(ascii: "#"))
            appendUTF8(tag.text, &out)
            out.append(UInt8(ascii: " "))
            writePretty(v, indent: indent + tag.text.utf8.count + 2, width: width, insertionOrder: insertionOrder, into: &out)
        default:
            out += flat
        }
    }

    static func isCollection(_ v: EDNValue) -> Bool {
        switch v {
        case .list, .vector, .map, .set, .tagged: true
        default: false
        }
    }
}
