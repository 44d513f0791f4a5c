/// Plain JSON ⇄ `EDNValue`, for `chsk pack --from json` / `unpack --to json` and for apps that
/// meet JSON at their edges. Byte level (no Foundation): integers stay integers, `1.0` stays a
/// double, big integers keep every digit.
///
/// An object key that occurs twice (also `"a"` and `"\u0061"`) is not an error: the key keeps
/// its first place and takes the last value, as Clojure's JSON readers do (clojure.data.json's
/// `read-object` and cheshire's parser `assoc!` into a transient map; Jackson's duplicate
/// detection is off by default).
public enum JSONBridge {
    /// Why JSON could not be read or a value could not be written as JSON.
    public struct Error: Swift.Error, Sendable, Equatable, CustomStringConvertible {
        /// The class of problem, for programmatic handling.
        public enum Kind: String, Sendable, Equatable {
            /// Malformed JSON, or a value with no JSON form (when writing).
            case invalid
            /// Nesting deeper than `ReadOptions.maxDepth`.
            case tooDeep
            /// A number with more digits than `ReadOptions.maxNumberLength`.
            case numberTooLong
        }

        /// What went wrong.
        public let message: String
        /// 1-based line (0 when writing).
        public let line: Int
        /// 1-based column (0 when writing).
        public let column: Int
        /// Byte offset (0 when writing).
        public let offset: Int

        /// The class of problem.
        public var kind: Kind = .invalid

        /// `line:column: message`, or just the message for write errors.
        public var description: String { line > 0 ? "\(line):\(column): \(message)" : message }
    }

    /// Reading options.
    public struct ReadOptions: Sendable {
        /// Object keys become keywords (`{"a": 1}` → `{:a 1}`), like jet's `--keywordize`.
        public var keywordizeKeys: Bool
        /// Deepest nesting accepted (default 100, as `EDNReader.Options.defaultMaxDepth`).
        public var maxDepth: Int
        /// Most digits accepted in one number, in the integer part, the fraction and the
        /// exponent each (default 4 096, as `EDNReader.Options.defaultMaxNumberLength`);
        /// longer numbers are refused (`.numberTooLong`) before any big-integer work.
        public var maxNumberLength: Int
        /// Defaults: keywordize keys, depth 100, numbers of up to 4 096 digits.
        public init(keywordizeKeys: Bool = true, maxDepth: Int = EDNReader.Options.defaultMaxDepth,
                    maxNumberLength: Int = EDNReader.Options.defaultMaxNumberLength) {
            self.keywordizeKeys = keywordizeKeys
            self.maxDepth = maxDepth
            self.maxNumberLength = maxNumberLength
        }
    }

    /// Reads every JSON value of a whitespace-separated stream.
    public static func readAll(_ bytes: [UInt8], options: ReadOptions = ReadOptions()) throws(Error) -> [EDNValue] {
        var reader = JSONStreamReader(bytes, options: options)
        var out: [EDNValue] = []
        while let v = try reader.next() { out.append(v) }
        return out
    }

    /// Writes a value as compact JSON: keywords and symbols as their text (`"ns/name"`),
    /// sets and lists as arrays, instants as RFC 3339 strings, UUIDs/URIs/chars as strings,
    /// non-string map keys as their EDN text, ratios and big decimals as numbers.
    /// `##NaN` and infinities have no JSON form: an error, never a silent `null`.
    public static func write(_ value: EDNValue, into out: inout [UInt8]) throws(Error) {
        switch value {
        case .null: out += "null".utf8
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .integer(let i): EDNPrinter.writeInt(i, into: &out)
        case .bigInteger(let b): out += b.description.utf8
        case .double(let d):
            guard d.isFinite else { throw Error(message: "\(EDNPrinter.string(value)) has no JSON representation", line: 0, column: 0, offset: 0) }
            EDNPrinter.writeDouble(d, into: &out)
        case .bigDecimal(let d): out += d.description.utf8
        case .ratio(let r): EDNPrinter.writeDouble(r.doubleValue, into: &out)
        case .string(let s): writeString(s, into: &out)
        case .character(let c): writeString(String(Character(c)), into: &out)
        case .keyword(let k): writeString(k.text, into: &out)
        case .symbol(let s): writeString(s.text, into: &out)
        case .list(let a), .vector(let a): try writeArray(a, into: &out)
        case .set(let s): try writeArray(s.elements, into: &out)
        case .map(let m):
            out.append(UInt8(ascii: "{"))
            var first = true
            for (k, v) in m {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                switch k {
                case .string(let s): writeString(s, into: &out)
                case .keyword(let kw): writeString(kw.text, into: &out)
                case .symbol(let sy): writeString(sy.text, into: &out)
                default: writeString(EDNPrinter.string(k), into: &out)
                }
                out.append(UInt8(ascii: ":"))
                try write(v, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .instant(let i): writeString(i.transitString, into: &out)
        case .uuid(let u): writeString(u.description, into: &out)
        case .uri(let u): writeString(u, into: &out)
        case .bytes(let b): writeString(Base64.encode(b), into: &out)
        case .tagged(_, let v): try write(v, into: &out)
        }
    }

    static func writeArray(_ items: [EDNValue], into out: inout [UInt8]) throws(Error) {
        out.append(UInt8(ascii: "["))
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            try write(item, into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    static let hexDigits = Array("0123456789abcdef".utf8)

    /// Writes a JSON string literal: `"` `\` and control characters escaped, UTF-8 kept.
    public static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { u in
            var runStart = 0
            for i in 0..<u.count {
                let b = u[i]
                guard b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") else { continue }
                if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<i])) }
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
                    out += "u00".utf8
                    out.append(hexDigits[Int(b >> 4)])
                    out.append(hexDigits[Int(b & 15)])
                }
                runStart = i + 1
            }
            if runStart < u.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: u[runStart..<u.count])) }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// A JSON value as the tokenizer sees it, before any Transit or EDN meaning is given to it.
/// Numbers keep their text so no precision is lost.
public indirect enum JSONValue: Sendable, Equatable {
    /// `null`.
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// An integer literal that fits 64 bits.
    case integer(Int64)
    /// Any other number: its literal text (big integer or decimal/exponent form).
    case number(String)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object, members in document order (duplicates kept).
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.integer(let x), .integer(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }
}

/// Reads a stream of JSON values from UTF-8 bytes (RFC 8259, strict: no comments, no trailing
/// commas, no NaN). Errors carry line and column.
public struct JSONStreamReader {
    let bytes: [UInt8]
    /// Byte offset of the next unread input.
    public private(set) var offset = 0
    let options: JSONBridge.ReadOptions

    /// A reader over UTF-8 bytes.
    public init(_ bytes: [UInt8], options: JSONBridge.ReadOptions = JSONBridge.ReadOptions()) {
        self.bytes = bytes
        self.options = options
    }

    /// The next value converted to EDN (objects → maps, keys keywordized per the options).
    public mutating func next() throws(JSONBridge.Error) -> EDNValue? {
        guard let raw = try nextRaw() else { return nil }
        return JSONStreamReader.toEDN(raw, keywordize: options.keywordizeKeys)
    }

    /// The next value as a raw `JSONValue`; `nil` at the end of input.
    public mutating func nextRaw() throws(JSONBridge.Error) -> JSONValue? {
        let start = offset
        let maxDepth = options.maxDepth
        let maxNumberLength = options.maxNumberLength
        let result: Result<(JSONValue?, Int), JSONBridge.Error> = bytes.withUnsafeBufferPointer { buffer in
            var p = JSONParser(buffer: buffer, position: start, maxDepth: maxDepth, maxNumberLength: maxNumberLength)
            do throws(JSONBridge.Error) {
                p.skipWhitespace()
                if p.position >= buffer.count { return .success((nil, p.position)) }
                let v = try p.parseValue(depth: 0)
                return .success((v, p.position))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let (v, end)):
            offset = end
            return v
        case .failure(let e):
            offset = bytes.count
            throw e
        }
    }

    static func toEDN(_ v: JSONValue, keywordize: Bool) -> EDNValue {
        switch v {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .integer(let i): return .integer(i)
        case .number(let text):
            if let big = BigInteger(text) { return .bigInteger(big) }
            return .double(Double(text) ?? .nan)
        case .string(let s): return .string(s)
        case .array(let a): return .vector(a.map { toEDN($0, keywordize: keywordize) })
        case .object(let members):
            var m = EDNMap()
            m.reserveCapacity(members.count)
            for (k, value) in members {
                m[keywordize ? .keyword(Keyword(k)) : .string(k)] = toEDN(value, keywordize: keywordize)
            }
            return .map(m)
        }
    }
}

/// The byte-level JSON parser shared by plain JSON and Transit JSON.
public struct JSONParser {
    let buffer: UnsafeBufferPointer<UInt8>
    /// Current byte offset.
    public var position: Int
    let maxDepth: Int
    let maxNumberLength: Int

    /// A parser over a buffer, from `position`, with the nesting and number-length bounds of
    /// `JSONBridge.ReadOptions`.
    public init(buffer: UnsafeBufferPointer<UInt8>, position: Int = 0, maxDepth: Int = EDNReader.Options.defaultMaxDepth,
                maxNumberLength: Int = EDNReader.Options.defaultMaxNumberLength) {
        self.buffer = buffer
        self.position = position
        self.maxDepth = maxDepth
        self.maxNumberLength = maxNumberLength
    }

    /// An error at `offset` (default: the current position) with line and column.
    public func fail(_ message: String, at offset: Int? = nil, kind: JSONBridge.Error.Kind = .invalid) -> JSONBridge.Error {
        let at = offset ?? position
        var line = 1, column = 1
        var i = 0
        while i < at && i < buffer.count {
            if buffer[i] == 10 { line += 1; column = 1 } else if buffer[i] & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        return JSONBridge.Error(message: message, line: line, column: column, offset: at, kind: kind)
    }

    /// Skips JSON whitespace.
    public mutating func skipWhitespace() {
        while position < buffer.count {
            let b = buffer[position]
            guard b == 32 || b == 10 || b == 13 || b == 9 else { return }
            position += 1
        }
    }

    /// Parses one value.
    public mutating func parseValue(depth: Int) throws(JSONBridge.Error) -> JSONValue {
        guard depth <= maxDepth else { throw fail("Nesting deeper than \(maxDepth) levels", kind: .tooDeep) }
        skipWhitespace()
        guard position < buffer.count else { throw fail("Unexpected end of JSON input") }
        switch buffer[position] {
        case UInt8(ascii: "{"):
            let start = position
            position += 1
            var members: [(String, JSONValue)] = []
            skipWhitespace()
            if position < buffer.count, buffer[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard position < buffer.count else { throw fail("Unterminated object", at: start) }
                guard buffer[position] == UInt8(ascii: "\"") else { throw fail("Expected a string key in object") }
                let key = try parseString()
                skipWhitespace()
                guard position < buffer.count, buffer[position] == UInt8(ascii: ":") else { throw fail("Expected ':' after object key") }
                position += 1
                members.append((key, try parseValue(depth: depth + 1)))
                skipWhitespace()
                guard position < buffer.count else { throw fail("Unterminated object", at: start) }
                if buffer[position] == UInt8(ascii: ",") { position += 1; continue }
                if buffer[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
                throw fail("Expected ',' or '}' in object")
            }
        case UInt8(ascii: "["):
            let start = position
            position += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if position < buffer.count, buffer[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
            while true {
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard position < buffer.count else { throw fail("Unterminated array", at: start) }
                if buffer[position] == UInt8(ascii: ",") { position += 1; continue }
                if buffer[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
                throw fail("Expected ',' or ']' in array")
            }
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        default:
            throw fail("Unexpected character in JSON")
        }
    }

    mutating func expectLiteral(_ word: StaticString) throws(JSONBridge.Error) {
        let n = word.utf8CodeUnitCount
        guard position + n <= buffer.count else { throw fail("Invalid literal") }
        let p = word.utf8Start
        for k in 0..<n where buffer[position + k] != p[k] { throw fail("Invalid literal") }
        position += n
    }

    /// Parses a number (RFC 8259 grammar); integers fitting 64 bits come back as `.integer`.
    public mutating func parseNumber() throws(JSONBridge.Error) -> JSONValue {
        let start = position
        var negative = false
        if buffer[position] == UInt8(ascii: "-") { negative = true; position += 1 }
        let intStart = position
        var value: UInt64 = 0
        var overflow = false
        while position < buffer.count, buffer[position] >= 48, buffer[position] <= 57 {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(buffer[position] - 48))
            value = a
            overflow = overflow || o1 || o2
            position += 1
        }
        let intDigits = position - intStart
        guard intDigits > 0 else { throw fail("Invalid number", at: start) }
        guard !(intDigits > 1 && buffer[intStart] == UInt8(ascii: "0")) else { throw fail("Leading zeros are not allowed in JSON numbers", at: start) }
        var isInteger = true
        if position < buffer.count, buffer[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            let f = position
            while position < buffer.count, buffer[position] >= 48, buffer[position] <= 57 { position += 1 }
            guard position > f else { throw fail("Invalid number: digits expected after '.'", at: start) }
        }
        if position < buffer.count, buffer[position] == UInt8(ascii: "e") || buffer[position] == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if position < buffer.count, buffer[position] == UInt8(ascii: "+") || buffer[position] == UInt8(ascii: "-") { position += 1 }
            let e = position
            while position < buffer.count, buffer[position] >= 48, buffer[position] <= 57 { position += 1 }
            guard position > e else { throw fail("Invalid number: digits expected in exponent", at: start) }
        }
        let text = UnsafeBufferPointer(rebasing: buffer[start..<position])
        if text.count > maxNumberLength, longestNumberPart(text) > maxNumberLength {
            throw fail("Number longer than \(maxNumberLength) digits", at: start, kind: .numberTooLong)
        }
        if isInteger && !overflow {
            if negative, value <= UInt64(Int64.max) + 1 { return .integer(value == UInt64(Int64.max) + 1 ? .min : -Int64(value)) }
            if !negative, value <= UInt64(Int64.max) { return .integer(Int64(value)) }
        }
        return .number(String(decoding: text, as: UTF8.self))
    }

    /// Parses a string literal at the current position (which holds the opening quote).
    public mutating func parseString() throws(JSONBridge.Error) -> String {
        let start = position
        position += 1
        var i = position
        var ascii = true
        while i < buffer.count {
            let b = buffer[i]
            if b == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: buffer[position..<i])
                position = i + 1
                if ascii { return String(decoding: slice, as: UTF8.self) }
                guard let s = String(validating: slice, as: UTF8.self) else { throw fail("String is not valid UTF-8", at: start) }
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw fail("Control character in string", at: i) }
            if b >= 0x80 { ascii = false }
            i += 1
        }
        guard i < buffer.count else { throw fail("Unterminated string", at: start) }
        var out = Array(UnsafeBufferPointer(rebasing: buffer[position..<i]))
        position = i
        while true {
            guard position < buffer.count else { throw fail("Unterminated string", at: start) }
            let b = buffer[position]
            if b == UInt8(ascii: "\"") {
                position += 1
                guard let s = String(validating: out, as: UTF8.self) else { throw fail("String is not valid UTF-8", at: start) }
                return s
            }
            if b < 0x20 { throw fail("Control character in string") }
            if b != UInt8(ascii: "\\") { out.append(b); position += 1; continue }
            let escAt = position
            position += 1
            guard position < buffer.count else { throw fail("Unterminated string", at: start) }
            let e = buffer[position]
            position += 1
            switch e {
            case UInt8(ascii: "\""): out.append(34)
            case UInt8(ascii: "\\"): out.append(92)
            case UInt8(ascii: "/"): out.append(47)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"):
                var unit = try hex4(escAt)
                if (0xD800...0xDBFF).contains(unit) {
                    guard position + 1 < buffer.count, buffer[position] == UInt8(ascii: "\\"), buffer[position + 1] == UInt8(ascii: "u") else {
                        throw fail("Lone surrogate in string", at: escAt)
                    }
                    position += 2
                    let low = try hex4(escAt)
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("Lone surrogate in string", at: escAt) }
                    unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(unit) {
                    throw fail("Lone surrogate in string", at: escAt)
                }
                UTF8.encode(Unicode.Scalar(unit)!) { out.append($0) }
            default:
                throw fail("Invalid escape in string", at: escAt)
            }
        }
    }

    mutating func hex4(_ escAt: Int) throws(JSONBridge.Error) -> UInt32 {
        guard position + 4 <= buffer.count else { throw fail("Invalid \\u escape", at: escAt) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let d = EDNParser.hexValue(buffer[position]) else { throw fail("Invalid \\u escape", at: escAt) }
            v = v << 4 | d
            position += 1
        }
        return v
    }
}
