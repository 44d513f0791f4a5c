/// Reads EDN text (UTF-8 bytes) into `EDNValue`s: the whole EDN spec plus what Clojure's
/// `clojure.tools.reader.edn` accepts, the reader a real Sente peer uses (octal/hex/radix
/// integers, ratios, `1.`/`1.M`, `\b \f` and octal escapes, `\oNNN`/`\backspace`/`\formfeed`
/// characters, `#:ns{}` namespaced maps, metadata read and dropped, `#!` comments).
///
/// Reads a stream of values with `next()`, or one value with `read(_:)`.
/// Errors are typed (`EDNReadError`) and carry line and column. Nesting is bounded by
/// `Options.maxDepth`, so hostile input gives an error, never a stack overflow.
///
/// Deliberate differences from tools.reader: unknown tags are kept as `.tagged` values by
/// default (Sente's stock reader throws; set `unknownTags: .reject` for that); `#uri` and
/// `#bytes` (how chsk prints Transit URIs and binary data) read back as `.uri` / `.bytes`;
/// `##NaN` equals itself (see `EDNValue`).
public struct EDNReader: Sendable {
    /// What to do with a tag that has no built-in reader.
    public enum UnknownTagPolicy: Sendable {
        /// Keep it as `.tagged(tag, value)` (round-trips).
        case keep
        /// Fail with `.unknownTag`, as Sente's stock `read-edn` does.
        case reject
    }

    /// Reader settings.
    public struct Options: Sendable {
        /// The default `maxDepth`: 100 levels. Chosen so that the reader, and what consumes
        /// its output (`==`, hashing, the printers, Codable), fit in a 512 KB thread stack
        /// even in a debug build, where one level of nesting costs about 2–3 KB of stack.
        /// Sente messages nest a handful of levels.
        public static let defaultMaxDepth = 100
        /// The default `maxNumberLength`: 4 096 digits (a ratio at the bound reads in
        /// milliseconds; unbounded, a 24 KB ratio took 44 s).
        public static let defaultMaxNumberLength = 4096

        /// Deepest nesting of collections, tags, metadata and discarded forms accepted.
        public var maxDepth: Int
        /// What to do with unknown tags.
        public var unknownTags: UnknownTagPolicy
        /// Most digits accepted in one number: in an integer (any radix), in each part of a
        /// ratio, in the significand of a double or big decimal, and in an exponent. Longer
        /// numbers are refused (`.numberTooLong`) before any arbitrary-precision work, which
        /// bounds the CPU one number can cost.
        public var maxNumberLength: Int

        /// Defaults: depth 100, numbers of up to 4 096 digits, unknown tags kept.
        public init(maxDepth: Int = Options.defaultMaxDepth, unknownTags: UnknownTagPolicy = .keep,
                    maxNumberLength: Int = Options.defaultMaxNumberLength) {
            self.maxDepth = maxDepth
            self.unknownTags = unknownTags
            self.maxNumberLength = maxNumberLength
        }
    }

    /// The input bytes.
    public let bytes: [UInt8]
    /// Byte offset of the next unread input.
    public private(set) var offset: Int = 0
    /// The settings in force.
    public let options: Options

    /// A reader over UTF-8 bytes.
    public init(_ bytes: [UInt8], options: Options = Options()) {
        self.bytes = bytes
        self.options = options
    }

    /// A reader over a string.
    public init(_ text: String, options: Options = Options()) {
        self.init(Array(text.utf8), options: options)
    }

    /// Reads the next value; `nil` when only whitespace, comments and discarded forms remain.
    public mutating func next() throws(EDNReadError) -> EDNValue? {
        let start = offset
        let options = self.options
        let result: Result<(EDNValue?, Int), EDNReadError> = bytes.withUnsafeBufferPointer { buffer in
            var parser = EDNParser(buffer: buffer, position: start, options: options)
            do throws(EDNReadError) {
                let v = try parser.readTopLevel()
                return .success((v, parser.position))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let (value, end)):
            offset = end
            return value
        case .failure(let error):
            offset = bytes.count
            throw error
        }
    }

    /// True when nothing but whitespace and comments is left.
    public var isAtEnd: Bool {
        var copy = self
        return (try? copy.next()) == nil && copy.offset >= bytes.count
    }

    /// Reads exactly one value: empty input reads as `nil` (as `read-string` does), and input
    /// after the value is an error (`.trailingInput`).
    public static func read(_ bytes: [UInt8], options: Options = Options()) throws(EDNReadError) -> EDNValue {
        var reader = EDNReader(bytes, options: options)
        guard let value = try reader.next() else { return .null }
        let end = reader.offset
        if try reader.next() != nil {
            throw EDNParser.makeError(.trailingInput, "Input continues after the first value", in: bytes, at: end)
        }
        return value
    }

    /// Reads exactly one value from a string (see `read(_:options:)`).
    public static func read(_ text: String, options: Options = Options()) throws(EDNReadError) -> EDNValue {
        try read(Array(text.utf8), options: options)
    }

    /// Reads every value of a stream.
    public static func readAll(_ bytes: [UInt8], options: Options = Options()) throws(EDNReadError) -> [EDNValue] {
        var reader = EDNReader(bytes, options: options)
        var out: [EDNValue] = []
        while let v = try reader.next() { out.append(v) }
        return out
    }
}

// MARK: - The parser proper (byte level, over an unsafe buffer for speed)

@usableFromInline
struct EDNParser {
    let buffer: UnsafeBufferPointer<UInt8>
    var position: Int
    let options: EDNReader.Options

    init(buffer: UnsafeBufferPointer<UInt8>, position: Int, options: EDNReader.Options) {
        self.buffer = buffer
        self.position = position
        self.options = options
    }

    // MARK: errors

    static func makeError(_ kind: EDNReadError.Kind, _ message: String, in bytes: some Collection<UInt8>, at offset: Int) -> EDNReadError {
        var line = 1, column = 1, i = 0
        for b in bytes {
            if i >= offset { break }
            if b == 10 { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
            i += 1
        }
        return EDNReadError(kind: kind, message: message, line: line, column: column, offset: offset)
    }

    func fail(_ kind: EDNReadError.Kind, _ message: String, at offset: Int? = nil) -> EDNReadError {
        EDNParser.makeError(kind, message, in: buffer, at: offset ?? position)
    }

    // MARK: character classes

    @inline(__always) static func isASCIIWhitespace(_ b: UInt8) -> Bool {
        // Java Character.isWhitespace for ASCII, plus the comma.
        b == 32 || b == 44 || (b >= 9 && b <= 13) || (b >= 28 && b <= 31)
    }

    /// Byte length of the whitespace at `i`, or 0 when there is none.
    @inline(__always) func whitespaceLength(at i: Int) -> Int {
        let b = buffer[i]
        if b < 0x80 { return EDNParser.isASCIIWhitespace(b) ? 1 : 0 }
        guard let (scalar, len) = decodeScalar(at: i) else { return 0 }
        switch scalar {
        case 0x1680, 0x2000...0x2006, 0x2008...0x200A, 0x2028, 0x2029, 0x205F, 0x3000: return len
        default: return 0
        }
    }

    /// Decodes one UTF-8 scalar at `i` (nil if malformed).
    func decodeScalar(at i: Int) -> (UInt32, Int)? {
        let b0 = buffer[i]
        if b0 < 0x80 { return (UInt32(b0), 1) }
        let len: Int
        var v: UInt32
        if b0 & 0xE0 == 0xC0 { len = 2; v = UInt32(b0 & 0x1F) }
        else if b0 & 0xF0 == 0xE0 { len = 3; v = UInt32(b0 & 0x0F) }
        else if b0 & 0xF8 == 0xF0 { len = 4; v = UInt32(b0 & 0x07) }
        else { return nil }
        guard i + len <= buffer.count else { return nil }
        for k in 1..<len {
            let b = buffer[i + k]
            guard b & 0xC0 == 0x80 else { return nil }
            v = v << 6 | UInt32(b & 0x3F)
        }
        let minimum: UInt32 = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000
        guard v >= minimum, v <= 0x10FFFF, !(0xD800...0xDFFF).contains(v) else { return nil }
        return (v, len)
    }

    /// Terminating macro characters of tools.reader.edn: `" ; ^ ( ) [ ] { } \`.
    @inline(__always) static func isTerminator(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: ";"), UInt8(ascii: "^"), UInt8(ascii: "("), UInt8(ascii: ")"),
             UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "\\"):
            return true
        default:
            return false
        }
    }

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }

    /// End offset of the token starting at `start` (up to whitespace or a terminator).
    func tokenEnd(from start: Int) -> Int {
        var i = start
        while i < buffer.count {
            let b = buffer[i]
            if b < 0x80 {
                if EDNParser.isASCIIWhitespace(b) || EDNParser.isTerminator(b) { break }
            } else if whitespaceLength(at: i) > 0 {
                break
            }
            i += 1
        }
        return i
    }

    func string(_ start: Int, _ end: Int) throws(EDNReadError) -> String {
        let slice = UnsafeBufferPointer(rebasing: buffer[start..<end])
        var ascii = true
        for b in slice where b >= 0x80 { ascii = false; break }
        if ascii { return String(decoding: slice, as: UTF8.self) }
        guard let s = String(validating: slice, as: UTF8.self) else {
            throw fail(.invalidUTF8, "Input is not valid UTF-8", at: start)
        }
        return s
    }

    // MARK: trivia

    /// Skips whitespace, commas, `;` and `#!` comments and `#_` discarded forms.
    ///
    /// Iterative: a run of `#_` is counted, then paid off one discarded form at a time (each
    /// read at `depth + 1`, so its own nesting is bounded), so a chain of any length costs no
    /// stack (`#_ #_ a b` discards both `a` and `b`, as in Clojure).
    mutating func skipTrivia(depth: Int) throws(EDNReadError) {
        var pendingDiscards = 0
        var lastDiscardAt = 0
        while position < buffer.count {
            let b = buffer[position]
            if b < 0x80 && EDNParser.isASCIIWhitespace(b) {
                position += 1
            } else if b == UInt8(ascii: ";") || (b == UInt8(ascii: "#") && position + 1 < buffer.count && buffer[position + 1] == UInt8(ascii: "!")) {
                while position < buffer.count, buffer[position] != 10, buffer[position] != 13 { position += 1 }
            } else if b == UInt8(ascii: "#") && position + 1 < buffer.count && buffer[position + 1] == UInt8(ascii: "_") {
                lastDiscardAt = position
                pendingDiscards += 1
                position += 2
            } else if b >= 0x80, case let n = whitespaceLength(at: position), n > 0 {
                position += n
            } else if pendingDiscards > 0 {
                _ = try readValue(depth: depth + 1)
                pendingDiscards -= 1
            } else {
                return
            }
        }
        if pendingDiscards > 0 {
            throw fail(.unexpectedEndOfInput, "EOF after #_ (nothing to discard)", at: lastDiscardAt)
        }
    }

    mutating func readTopLevel() throws(EDNReadError) -> EDNValue? {
        try skipTrivia(depth: 0)
        if position >= buffer.count { return nil }
        return try readValue(depth: 0)
    }

    // MARK: values

    func tooDeep() -> EDNReadError { fail(.tooDeep, "Nesting deeper than \(options.maxDepth) levels") }

    /// Reads one form. Only the forms that nest are read here; atoms are read by `readAtom`:
    /// every `try` of a typed-throwing call takes its own error slot in a debug build's
    /// frame, and this function is on the stack once per level of nesting.
    mutating func readValue(depth: Int) throws(EDNReadError) -> EDNValue {
        if depth > options.maxDepth { throw tooDeep() }
        try skipTrivia(depth: depth)
        guard position < buffer.count else { throw eof() }
        let start = position
        let b = buffer[position]
        switch b {
        case UInt8(ascii: "["), UInt8(ascii: "("):
            position += 1
            let items = try readSequence(closing: b == UInt8(ascii: "[") ? UInt8(ascii: "]") : UInt8(ascii: ")"), start: start, depth: depth)
            return b == UInt8(ascii: "[") ? .vector(items) : .list(items)
        case UInt8(ascii: "{"):
            position += 1
            return .map(try readMap(start: start, depth: depth, namespace: nil))
        case UInt8(ascii: "#"):
            // The nesting forms `#{` and `#tag` go straight to their readers (one frame less per level).
            if position + 1 < buffer.count {
                let next = buffer[position + 1]
                if next == UInt8(ascii: "{") {
                    position += 2
                    return try readSet(start: start, depth: depth)
                }
                if next == UInt8(ascii: ":") {
                    return try readNamespacedMap(start: start, depth: depth)
                }
                if EDNParser.startsTag(next) {
                    position += 1
                    return try readTagged(start: start, depth: depth)
                }
            }
            return try readDispatch(depth: depth)
        case UInt8(ascii: "^"):
            position += 1
            return try readMetadata(start: start, depth: depth)
        default:
            return try readAtom()
        }
    }

    /// True for a byte after `#` that starts a tag (`#inst`, `#my/tag`): none of the dispatch
    /// characters `{ # : ^ < _ !`, no whitespace, no terminator.
    @inline(__always) static func startsTag(_ b: UInt8) -> Bool {
        if b >= 0x80 { return false }   // rare; readDispatch decides
        switch b {
        case UInt8(ascii: "{"), UInt8(ascii: "#"), UInt8(ascii: ":"), UInt8(ascii: "^"), UInt8(ascii: "<"),
             UInt8(ascii: "_"), UInt8(ascii: "!"):
            return false
        default:
            return !isASCIIWhitespace(b) && !isTerminator(b)
        }
    }

    func eof() -> EDNReadError { fail(.unexpectedEndOfInput, "EOF while reading") }

    /// Reads a form that does not nest (string, number, keyword, symbol, constant, character).
    mutating func readAtom() throws(EDNReadError) -> EDNValue {
        let b = buffer[position]
        switch b {
        case UInt8(ascii: "\""):
            return .string(try readString())
        case UInt8(ascii: ":"):
            return try readKeyword()
        case UInt8(ascii: "\\"):
            return try readCharacter()
        case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"):
            throw unmatched(b, expected: nil)
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try readNumber()
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            if position + 1 < buffer.count, EDNParser.isDigit(buffer[position + 1]) { return try readNumber() }
            return try readSymbolOrConstant()
        default:
            return try readSymbolOrConstant()
        }
    }

    mutating func readSequence(closing: UInt8, start: Int, depth: Int) throws(EDNReadError) -> [EDNValue] {
        var items: [EDNValue] = []
        while true {
            try skipTrivia(depth: depth + 1)
            guard position < buffer.count else { throw eofInCollection(start: start) }
            let b = buffer[position]
            if b == closing {
                position += 1
                return items
            }
            if b == UInt8(ascii: ")") || b == UInt8(ascii: "]") || b == UInt8(ascii: "}") {
                throw unmatched(b, expected: closing)
            }
            items.append(try readValue(depth: depth + 1))
        }
    }

    func eofInCollection(start: Int) -> EDNReadError {
        fail(.unexpectedEndOfInput, "EOF while reading, starting at line \(fail(.unexpectedEndOfInput, "", at: start).line)", at: start)
    }

    func unmatched(_ b: UInt8, expected closing: UInt8?) -> EDNReadError {
        if let closing {
            return fail(.unmatchedDelimiter, "Unmatched delimiter: \(Character(Unicode.Scalar(b))), expected \(Character(Unicode.Scalar(closing)))")
        }
        return fail(.unmatchedDelimiter, "Unmatched delimiter: \(Character(Unicode.Scalar(b)))")
    }

    mutating func readMap(start: Int, depth: Int, namespace: String?) throws(EDNReadError) -> EDNMap {
        try makeMap(readSequence(closing: UInt8(ascii: "}"), start: start, depth: depth), start: start, namespace: namespace)
    }

    /// The map of the forms read between `{` and `}` (not on the recursive path).
    func makeMap(_ forms: [EDNValue], start: Int, namespace: String?) throws(EDNReadError) -> EDNMap {
        if forms.count % 2 != 0 {
            throw fail(.oddMapForms, "Map literal must contain an even number of forms", at: start)
        }
        var entries = forms
        if let namespace {
            for i in stride(from: 0, to: entries.count, by: 2) {
                // `:1` reads (as in Clojure), but `:ns/1` does not: refuse a key that would
                // print as something no reader takes (found by Fuzz/ edn: `#:ns{:1 a}`).
                if case .keyword(let k) = entries[i], k.namespace == nil, let c = k.text.utf8.first, EDNParser.isDigit(c) {
                    throw fail(.invalidToken, "Invalid keyword :\(namespace)/\(k.text) (a namespaced map key)", at: start)
                }
                entries[i] = EDNParser.qualify(entries[i], namespace)
                // Likewise any key that `_/` or the namespace turns into a name no reader takes
                // (`#:ns{:_/:a 1}` makes the keyword `::a`; found by Fuzz/ edn).
                do { try EDNPrinter.checkReadable(entries[i]) } catch {
                    throw fail(.invalidToken, "Invalid key \(EDNPrinter.string(entries[i])) in a namespaced map (it would not read back)", at: start)
                }
            }
        }
        guard let map = EDNMap(uniqueInterleaved: entries) else {
            let key = EDNMap.firstDuplicate(interleaved: entries) ?? .null
            throw fail(.duplicateKey, "Duplicate key: \(EDNPrinter.string(key))", at: start)
        }
        return map
    }

    /// `#:ns{…}` key rule: unqualified keywords and symbols get `ns`; `_/x` loses its namespace.
    static func qualify(_ key: EDNValue, _ ns: String) -> EDNValue {
        switch key {
        case .keyword(let k):
            if let kns = k.namespace { return kns == "_" ? .keyword(Keyword(k.name)) : key }
            return .keyword(Keyword(namespace: ns, name: k.text))
        case .symbol(let s):
            if let sns = s.namespace { return sns == "_" ? .symbol(Symbol(s.name)) : key }
            return .symbol(Symbol(namespace: ns, name: s.text))
        default:
            return key
        }
    }

    // MARK: strings

    mutating func readString() throws(EDNReadError) -> String {
        let start = position
        position += 1
        // Fast path: no escapes.
        var i = position
        var ascii = true
        while i < buffer.count {
            let b = buffer[i]
            if b == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: buffer[position..<i])
                position = i + 1
                if ascii { return String(decoding: slice, as: UTF8.self) }
                guard let s = String(validating: slice, as: UTF8.self) else {
                    throw fail(.invalidUTF8, "String is not valid UTF-8", at: start)
                }
                return s
            }
            if b == UInt8(ascii: "\\") { break }
            if b >= 0x80 { ascii = false }
            i += 1
        }
        if i >= buffer.count { throw fail(.unexpectedEndOfInput, "EOF while reading string", at: start) }
        // Slow path with escapes.
        var out: [UInt8] = Array(UnsafeBufferPointer(rebasing: buffer[position..<i]))
        position = i
        while true {
            guard position < buffer.count else { throw fail(.unexpectedEndOfInput, "EOF while reading string", at: start) }
            let b = buffer[position]
            if b == UInt8(ascii: "\"") {
                position += 1
                guard let s = String(validating: out, as: UTF8.self) else {
                    throw fail(.invalidUTF8, "String is not valid UTF-8", at: start)
                }
                return s
            }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                position += 1
                continue
            }
            let escAt = position
            position += 1
            guard position < buffer.count else { throw fail(.unexpectedEndOfInput, "EOF while reading string", at: start) }
            let e = buffer[position]
            position += 1
            switch e {
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "\\"): out.append(92)
            case UInt8(ascii: "\""): out.append(34)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "u"):
                var unit = try readHex4(escapeAt: escAt)
                if (0xD800...0xDBFF).contains(unit) {
                    // A surrogate pair written as two escapes joins into one scalar.
                    guard position + 1 < buffer.count, buffer[position] == UInt8(ascii: "\\"), buffer[position + 1] == UInt8(ascii: "u") else {
                        throw fail(.invalidEscape, "Lone surrogate \\u\(String(unit, radix: 16)) in string", at: escAt)
                    }
                    position += 2
                    let low = try readHex4(escapeAt: escAt)
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw fail(.invalidEscape, "Lone surrogate \\u\(String(unit, radix: 16)) in string", at: escAt)
                    }
                    unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(unit) {
                    throw fail(.invalidEscape, "Lone surrogate \\u\(String(unit, radix: 16)) in string", at: escAt)
                }
                EDNParser.appendUTF8(Unicode.Scalar(unit)!, to: &out)
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var v = UInt32(e - 48)
                var n = 1
                while n < 3, position < buffer.count, buffer[position] >= 48, buffer[position] <= 55 {
                    v = v * 8 + UInt32(buffer[position] - 48)
                    position += 1
                    n += 1
                }
                guard v <= 0o377 else { throw fail(.invalidEscape, "Octal escape sequence must be in range [0, 377]", at: escAt) }
                EDNParser.appendUTF8(Unicode.Scalar(v)!, to: &out)
            default:
                let shown = e < 0x80 ? String(Character(Unicode.Scalar(e))) : "\\x\(String(e, radix: 16))"
                throw fail(.invalidEscape, "Unsupported escape character: \\\(shown)", at: escAt)
            }
        }
    }

    mutating func readHex4(escapeAt: Int) throws(EDNReadError) -> UInt32 {
        guard position + 4 <= buffer.count else { throw fail(.invalidEscape, "Invalid unicode escape: \\u needs 4 hex digits", at: escapeAt) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let d = EDNParser.hexValue(buffer[position]) else {
                throw fail(.invalidEscape, "Invalid unicode escape: \\u needs 4 hex digits", at: escapeAt)
            }
            v = v << 4 | d
            position += 1
        }
        return v
    }

    static func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case 48...57: UInt32(b - 48)
        case 97...102: UInt32(b - 87)
        case 65...70: UInt32(b - 55)
        default: nil
        }
    }

    static func appendUTF8(_ s: Unicode.Scalar, to out: inout [UInt8]) {
        UTF8.encode(s) { out.append($0) }
    }

    // MARK: characters

    mutating func readCharacter() throws(EDNReadError) -> EDNValue {
        let start = position
        position += 1
        guard position < buffer.count else { throw fail(.unexpectedEndOfInput, "EOF while reading character", at: start) }
        let first = buffer[position]
        var end: Int
        if first < 0x80 && (EDNParser.isASCIIWhitespace(first) || EDNParser.isTerminator(first)) {
            end = position + 1
        } else {
            guard let (_, len) = decodeScalar(at: position) else { throw fail(.invalidUTF8, "Input is not valid UTF-8", at: position) }
            end = tokenEnd(from: position + len)
        }
        let token = try string(position, end)
        position = end
        let scalars = token.unicodeScalars
        if scalars.count == 1 {
            let s = scalars.first!
            guard s.value <= 0xFFFF else { throw fail(.invalidCharacter, "Unsupported character: \\\(token) (outside the Basic Multilingual Plane)", at: start) }
            return .character(s)
        }
        switch token {
        case "newline": return .character("\n")
        case "space": return .character(" ")
        case "tab": return .character("\t")
        case "backspace": return .character("\u{08}")
        case "formfeed": return .character("\u{0C}")
        case "return": return .character("\r")
        default: break
        }
        let u = Array(token.utf8)
        if u[0] == UInt8(ascii: "u") {
            guard u.count == 5 else { throw fail(.invalidCharacter, "Invalid unicode character: \\\(token)", at: start) }
            var v: UInt32 = 0
            for b in u[1...] {
                guard let d = EDNParser.hexValue(b) else { throw fail(.invalidCharacter, "Invalid unicode character: \\\(token)", at: start) }
                v = v << 4 | d
            }
            guard !(0xD800...0xDFFF).contains(v) else { throw fail(.invalidCharacter, "Invalid character constant: \\\(token) (surrogate)", at: start) }
            return .character(Unicode.Scalar(v)!)
        }
        if u[0] == UInt8(ascii: "o") {
            guard u.count <= 4 else { throw fail(.invalidCharacter, "Invalid octal escape sequence length: \\\(token)", at: start) }
            var v: UInt32 = 0
            for b in u[1...] {
                guard b >= 48 && b <= 55 else { throw fail(.invalidCharacter, "Invalid octal character: \\\(token)", at: start) }
                v = v * 8 + UInt32(b - 48)
            }
            guard v <= 0o377 else { throw fail(.invalidCharacter, "Octal escape sequence must be in range [0, 377]: \\\(token)", at: start) }
            return .character(Unicode.Scalar(v)!)
        }
        throw fail(.invalidCharacter, "Unsupported character: \\\(token)", at: start)
    }

    // MARK: symbols, keywords, constants

    /// Symbol constituents of EDN (plus `'` after the first character, as Clojure allows).
    static func isSymbolByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "."), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "!"), UInt8(ascii: "-"), UInt8(ascii: "_"),
             UInt8(ascii: "?"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "="), UInt8(ascii: "<"),
             UInt8(ascii: ">"), UInt8(ascii: ":"), UInt8(ascii: "#"), UInt8(ascii: "/"), UInt8(ascii: "'"):
            return true
        default:
            return b >= 0x80
        }
    }

    /// tools.reader's `parse-symbol` plus EDN's character set: true when `token` is a valid
    /// symbol (or keyword body).
    static func isValidSymbolToken(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = u.first else { return false }
        if first == UInt8(ascii: "'") { return false }
        for b in u where !isSymbolByte(b) { return false }
        if u.last == UInt8(ascii: ":") { return false }
        if u.count >= 2 && u[0] == UInt8(ascii: ":") && u[1] == UInt8(ascii: ":") { return false }
        guard let slash = u.firstIndex(of: UInt8(ascii: "/")) else { return true }
        if slash == 0 { return u.count == 1 }
        let nameStart = slash + 1
        if nameStart == u.count { return false }
        if u[slash - 1] == UInt8(ascii: ":") { return false }
        if isDigit(u[nameStart]) { return false }
        let nameLength = u.count - nameStart
        if nameLength == 1 && u[nameStart] == UInt8(ascii: "/") { return true }
        for k in nameStart..<u.count where u[k] == UInt8(ascii: "/") { return false }
        return true
    }

    mutating func readSymbolOrConstant() throws(EDNReadError) -> EDNValue {
        let start = position
        let end = tokenEnd(from: position)
        let token = UnsafeBufferPointer(rebasing: buffer[start..<end])
        if end == start {
            throw fail(.invalidToken, "Unexpected character")
        }
        position = end
        switch token.count {
        case 3 where token[0] == UInt8(ascii: "n") && token[1] == UInt8(ascii: "i") && token[2] == UInt8(ascii: "l"): return .null
        case 4 where token[0] == UInt8(ascii: "t") && token[1] == UInt8(ascii: "r") && token[2] == UInt8(ascii: "u") && token[3] == UInt8(ascii: "e"): return .bool(true)
        case 5 where Array(token) == Array("false".utf8): return .bool(false)
        default: break
        }
        guard EDNParser.isValidSymbolToken(token) else {
            throw fail(.invalidToken, "Invalid symbol: \(String(decoding: token, as: UTF8.self))", at: start)
        }
        return .symbol(Symbol(try string(start, end)))
    }

    mutating func readKeyword() throws(EDNReadError) -> EDNValue {
        let start = position
        position += 1
        let end = tokenEnd(from: position)
        let token = UnsafeBufferPointer(rebasing: buffer[position..<end])
        guard EDNParser.isValidSymbolToken(token), token.first != UInt8(ascii: ":") else {
            throw fail(.invalidToken, "Invalid keyword: :\(String(decoding: token, as: UTF8.self))", at: start)
        }
        let text = try string(position, end)
        position = end
        return .keyword(Keyword(text))
    }

    // MARK: numbers

    mutating func readNumber() throws(EDNReadError) -> EDNValue {
        let start = position
        let end = tokenEnd(from: position)
        position = end
        let t = UnsafeBufferPointer(rebasing: buffer[start..<end])
        if t.count > options.maxNumberLength, longestNumberPart(t) > options.maxNumberLength {
            throw fail(.numberTooLong, "Number longer than \(options.maxNumberLength) digits", at: start)
        }
        if let v = EDNParser.parseNumber(t) { return v }
        throw fail(.invalidNumber, "Invalid number: \(String(decoding: t, as: UTF8.self))", at: start)
    }

    /// tools.reader's int, ratio and float patterns, in that order.
    static func parseNumber(_ t: UnsafeBufferPointer<UInt8>) -> EDNValue? {
        var i = 0
        var negative = false
        if t[0] == UInt8(ascii: "+") || t[0] == UInt8(ascii: "-") {
            negative = t[0] == UInt8(ascii: "-")
            i = 1
        }
        let digitsStart = i
        // Fast path: plain decimal integer that fits 64 bits.
        var value: UInt64 = 0
        var overflow = false
        while i < t.count, isDigit(t[i]) {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(t[i] - 48))
            value = a
            overflow = overflow || o1 || o2
            i += 1
        }
        let digitCount = i - digitsStart
        guard digitCount > 0 else { return nil }
        let leadingZero = t[digitsStart] == UInt8(ascii: "0")
        if i == t.count {
            if leadingZero && digitCount > 1 {
                // Octal (`042`); `09` is no number.
                return bigIntegerValue(t, from: digitsStart + 1, to: t.count, radix: 8, negative: negative, forceBig: false)
            }
            if !overflow {
                if negative {
                    if value <= UInt64(Int64.max) + 1 { return .integer(value == UInt64(Int64.max) + 1 ? Int64.min : -Int64(value)) }
                } else if value <= UInt64(Int64.max) {
                    return .integer(Int64(value))
                }
            }
            return bigIntegerValue(t, from: digitsStart, to: t.count, radix: 10, negative: negative, forceBig: true)
        }
        let next = t[i]
        if next == UInt8(ascii: "N") && i == t.count - 1 {
            if leadingZero && digitCount > 1 {
                return bigIntegerValue(t, from: digitsStart + 1, to: i, radix: 8, negative: negative, forceBig: true, alwaysBig: true)
            }
            return bigIntegerValue(t, from: digitsStart, to: i, radix: 10, negative: negative, forceBig: true, alwaysBig: true)
        }
        if (next == UInt8(ascii: "x") || next == UInt8(ascii: "X")) && leadingZero && digitCount == 1 {
            var end = t.count
            var big = false
            if t[end - 1] == UInt8(ascii: "N") { end -= 1; big = true }
            guard end > i + 1 else { return nil }
            return bigIntegerValue(t, from: i + 1, to: end, radix: 16, negative: negative, forceBig: big, alwaysBig: big)
        }
        if (next == UInt8(ascii: "r") || next == UInt8(ascii: "R")) && !leadingZero && digitCount <= 2 {
            let radix = Int(value)
            guard (2...36).contains(radix) else { return nil }
            var end = t.count
            var big = false
            if t[end - 1] == UInt8(ascii: "N") && radix <= 23 { end -= 1; big = true }
            guard end > i + 1 else { return nil }
            return bigIntegerValue(t, from: i + 1, to: end, radix: radix, negative: negative, forceBig: big, alwaysBig: big)
        }
        if next == UInt8(ascii: "/") {
            var j = i + 1
            guard j < t.count else { return nil }
            while j < t.count, isDigit(t[j]) { j += 1 }
            guard j == t.count else { return nil }
            let num = BigInteger(String(decoding: UnsafeBufferPointer(rebasing: t[digitsStart..<i]), as: UTF8.self))!
            let den = BigInteger(String(decoding: UnsafeBufferPointer(rebasing: t[(i + 1)..<t.count]), as: UTF8.self))!
            return Ratio.make(negative ? -num : num, den)
        }
        // Float: digits ( . digits* )? ( [eE] [+-]? digits )? M?
        if leadingZero && digitCount > 1 {
            // tools.reader's float pattern allows leading zeros (`01.5`); keep that.
        }
        var j = i
        if j < t.count, t[j] == UInt8(ascii: ".") {
            j += 1
            while j < t.count, isDigit(t[j]) { j += 1 }
        }
        if j < t.count, t[j] == UInt8(ascii: "e") || t[j] == UInt8(ascii: "E") {
            j += 1
            if j < t.count, t[j] == UInt8(ascii: "+") || t[j] == UInt8(ascii: "-") { j += 1 }
            let expStart = j
            while j < t.count, isDigit(t[j]) { j += 1 }
            guard j > expStart else { return nil }
        }
        var isDecimal = false
        if j < t.count, t[j] == UInt8(ascii: "M") {
            isDecimal = true
            j += 1
        }
        guard j == t.count, j > i || isDecimal else { return nil }
        let text = String(decoding: UnsafeBufferPointer(rebasing: t[0..<(isDecimal ? t.count - 1 : t.count)]), as: UTF8.self)
        if isDecimal {
            return BigDecimal(text).map(EDNValue.bigDecimal)
        }
        return parseDouble(text).map(EDNValue.double)
    }

    static func parseDouble(_ text: String) -> Double? {
        if let d = Double(text) { return d }
        // "1." and "1.e5": Swift's parser wants a digit after the point.
        var fixed: [UInt8] = []
        let u = Array(text.utf8)
        for (k, b) in u.enumerated() {
            fixed.append(b)
            if b == UInt8(ascii: "."), k + 1 == u.count || !isDigit(u[k + 1]) { fixed.append(UInt8(ascii: "0")) }
        }
        return Double(String(decoding: fixed, as: UTF8.self))
    }

    static func bigIntegerValue(_ t: UnsafeBufferPointer<UInt8>, from: Int, to: Int, radix: Int, negative: Bool,
                                forceBig: Bool, alwaysBig: Bool = false) -> EDNValue? {
        guard from < to else { return nil }
        let digits = String(decoding: UnsafeBufferPointer(rebasing: t[from..<to]), as: UTF8.self)
        guard var big = BigInteger(digits, radix: radix) else { return nil }
        if negative { big = -big }
        if !alwaysBig, let small = big.int64Value { return .integer(small) }
        return .bigInteger(big)
    }

    // MARK: dispatch (#)

    mutating func readDispatch(depth: Int) throws(EDNReadError) -> EDNValue {
        let start = position
        position += 1
        guard position < buffer.count else { throw fail(.unexpectedEndOfInput, "EOF while reading dispatch macro", at: start) }
        let b = buffer[position]
        switch b {
        case UInt8(ascii: "{"):
            position += 1
            return try readSet(start: start, depth: depth)
        case UInt8(ascii: "#"):
            return try readSymbolicValue(start: start)
        case UInt8(ascii: ":"):
            return try readNamespacedMap(start: start, depth: depth)
        case UInt8(ascii: "^"):
            position += 1
            return try readMetadata(start: start, depth: depth)
        case UInt8(ascii: "<"):
            throw fail(.invalidToken, "Unreadable form", at: start)
        case UInt8(ascii: "_"), UInt8(ascii: "!"):
            // Reached only when a discard/comment stands where trivia was already skipped.
            position = start
            try skipTrivia(depth: depth)
            return try readValue(depth: depth)
        default:
            if b < 0x80 && (EDNParser.isASCIIWhitespace(b) || EDNParser.isTerminator(b)) {
                throw noDispatchMacro(b, at: start)
            }
            return try readTagged(start: start, depth: depth)
        }
    }

    // The cases of `readDispatch` live in functions of their own: in debug builds every local
    // of a function gets its own stack slot, so one big function would make every level of
    // nesting pay for all of them (issue 13: the readers must be safe on a 512 KB stack).

    func noDispatchMacro(_ b: UInt8, at start: Int) -> EDNReadError {
        fail(.invalidTag, "No dispatch macro for \(Character(Unicode.Scalar(b)))", at: start)
    }

    /// `#{…}` after the `{`.
    mutating func readSet(start: Int, depth: Int) throws(EDNReadError) -> EDNValue {
        let items = try readSequence(closing: UInt8(ascii: "}"), start: start, depth: depth)
        var set = EDNSet()
        for item in items where !set.insert(item) {
            throw fail(.duplicateSetMember, "Duplicate key: \(EDNPrinter.string(item))", at: start)
        }
        return .set(set)
    }

    /// `##Inf`, `##-Inf`, `##NaN` at the second `#`.
    mutating func readSymbolicValue(start: Int) throws(EDNReadError) -> EDNValue {
        position += 1
        let end = tokenEnd(from: position)
        let token = try string(position, end)
        position = end
        switch token {
        case "Inf": return .double(.infinity)
        case "-Inf": return .double(-.infinity)
        case "NaN": return .double(.nan)
        default: throw fail(.invalidTag, "Invalid token: ##\(token)", at: start)
        }
    }

    /// `#:ns{…}` at the `#`.
    mutating func readNamespacedMap(start: Int, depth: Int) throws(EDNReadError) -> EDNValue {
        position = start + 2
        let end = tokenEnd(from: position)
        let nsToken = UnsafeBufferPointer(rebasing: buffer[position..<end])
        // Nor `#…`, a digit or `+1`/`-1` first: keys in such a namespace would print as a
        // dispatch or a number (found by Fuzz/ edn: `#:#:ns{a 1}`).
        let numeric = nsToken.count > 1 && (nsToken[0] == UInt8(ascii: "+") || nsToken[0] == UInt8(ascii: "-")) && EDNParser.isDigit(nsToken[1])
        guard !nsToken.isEmpty, nsToken.first != UInt8(ascii: ":"), EDNParser.isValidSymbolToken(nsToken),
              nsToken[0] != UInt8(ascii: "#"), !EDNParser.isDigit(nsToken[0]), !numeric,
              !nsToken.contains(UInt8(ascii: "/")) else {
            throw fail(.invalidToken, "Invalid value used as namespace in namespaced map: \(String(decoding: nsToken, as: UTF8.self))", at: start)
        }
        let ns = try string(position, end)
        position = end
        while position < buffer.count, whitespaceLength(at: position) > 0 { position += whitespaceLength(at: position) }
        guard position < buffer.count, buffer[position] == UInt8(ascii: "{") else {
            throw fail(.invalidToken, "Namespaced map with namespace \(ns) does not specify a map", at: start)
        }
        position += 1
        return .map(try readMap(start: start, depth: depth, namespace: ns))
    }

    /// `#tag value` at the tag.
    mutating func readTagged(start: Int, depth: Int) throws(EDNReadError) -> EDNValue {
        let tagValue = try readValue(depth: depth + 1)
        guard case .symbol(let tag) = tagValue else {
            throw fail(.invalidTag, "Reader tag must be a symbol", at: start)
        }
        let valueStart = position
        let value = try readValue(depth: depth + 1)
        return try tagged(tag, value, at: start, valueAt: valueStart)
    }

    func tagged(_ tag: Symbol, _ value: EDNValue, at start: Int, valueAt: Int) throws(EDNReadError) -> EDNValue {
        switch tag.text {
        case "inst":
            guard case .string(let s) = value else { throw fail(.invalidTag, "#inst requires a string, got a \(value.kindName)", at: start) }
            guard let instant = Instant(rfc3339: s) else { throw fail(.invalidTag, "Unrecognized date/time syntax: \(s)", at: start) }
            // Year 0000 (or an offset that moves the moment out of 0001–9999) reads in
            // Clojure, but prints as another moment (java.util.Date's year of era has no 0):
            // refused, so that every #inst chsk reads prints back as itself (found by Fuzz/ edn).
            guard instant.isReadable else {
                throw fail(.invalidTag, "#inst \(s) is outside the years 0001-9999 (UTC), which #inst prints back as the same moment", at: start)
            }
            return .instant(instant)
        case "uuid":
            guard case .string(let s) = value else { throw fail(.invalidTag, "#uuid requires a string, got a \(value.kindName)", at: start) }
            guard let uuid = EDNUUID(s) else { throw fail(.invalidTag, "Invalid UUID string: \(s)", at: start) }
            return .uuid(uuid)
        case "uri":
            if case .string(let s) = value { return .uri(s) }
        case "bytes":
            if case .string(let s) = value, let data = Base64.decode(s) { return .bytes(data) }
        default:
            break
        }
        if options.unknownTags == .reject {
            throw fail(.unknownTag, "No reader function for tag \(tag.text)", at: start)
        }
        return .tagged(tag, value)
    }

    // MARK: metadata

    mutating func readMetadata(start: Int, depth: Int) throws(EDNReadError) -> EDNValue {
        let meta = try readValue(depth: depth + 1)
        switch meta {
        case .map, .keyword, .symbol, .string: break
        default: throw fail(.invalidMetadata, "Metadata must be Symbol, Keyword, String or Map", at: start)
        }
        let target = try readValue(depth: depth + 1)
        switch target {
        case .symbol, .list, .vector, .map, .set: return target
        default: throw metadataTarget(target, at: start)
        }
    }

    func metadataTarget(_ target: EDNValue, at start: Int) -> EDNReadError {
        fail(.invalidMetadata, "Metadata can only be applied to symbols and collections, not to a \(target.kindName)", at: start)
    }
}

/// The longest part of a number token, in characters: the token is cut at `/` (ratio),
/// at `e`/`E` (exponent, except in hex and radix integers), and a sign, the `.` and an
/// `N`/`M` suffix do not count. What `maxNumberLength` bounds, in the EDN, Transit and
/// JSON readers.
package func longestNumberPart(_ t: UnsafeBufferPointer<UInt8>) -> Int {
    var longest = 0, current = 0
    var exponentCuts = true
    for (k, b) in t.enumerated() {
        switch b {
        case UInt8(ascii: "x"), UInt8(ascii: "X"), UInt8(ascii: "r"), UInt8(ascii: "R"):
            exponentCuts = false
            current += 1
        case UInt8(ascii: "/"):
            longest = max(longest, current)
            current = 0
        case UInt8(ascii: "e"), UInt8(ascii: "E"):
            if exponentCuts {
                longest = max(longest, current)
                current = 0
            } else {
                current += 1
            }
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."):
            break
        case UInt8(ascii: "N") where k == t.count - 1, UInt8(ascii: "M") where k == t.count - 1:
            break
        default:
            current += 1
        }
    }
    return max(longest, current)
}
