import EDN

/// Transit JSON (and JSON-verbose) straight from UTF-8 bytes to `EDNValue`, one pass, no
/// intermediate JSON tree. Strict RFC 8259 syntax.
struct JSONDecoder: ~Copyable {
    let buffer: UnsafeBufferPointer<UInt8>
    var position: Int
    let maxDepth: Int
    let maxNumberLength: Int
    let handlers: TransitReadHandlers
    let cacheUnit: TransitCacheLength
    var cache = ReadCache()
    /// Unescaped bytes of the current string with escapes.
    var scratch: [UInt8] = []
    /// Elements of the collections being read.
    var stack = ValueStack()
    /// The deepest level reached in the value being read, counted as the writer will write
    /// it (see `settleMapDepth`).
    var deepest = 0

    init(buffer: UnsafeBufferPointer<UInt8>, position: Int, options: TransitReader.Options) {
        self.buffer = buffer
        self.position = position
        self.maxDepth = options.maxDepth
        self.maxNumberLength = options.maxNumberLength
        self.handlers = options.handlers
        self.cacheUnit = options.cacheLength
    }

    func fail(_ kind: TransitError.Kind, _ message: String, at offset: Int? = nil) -> TransitError {
        let at = offset ?? position
        let (line, column) = lineAndColumn(buffer, at)
        return TransitError(kind: kind, message: message, offset: at, line: line, column: column)
    }

    /// Re-throws a position-less semantic error at `offset`.
    func locate(_ e: TransitError, at offset: Int) -> TransitError {
        e.offset >= 0 ? e : fail(e.kind, e.message, at: offset)
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while position < buffer.count {
            let b = buffer[position]
            guard b == 32 || b == 10 || b == 13 || b == 9 else { return }
            position += 1
        }
    }

    /// Reads one top-level value (a fresh cache).
    mutating func readValue(depth: Int) throws(TransitError) -> EDNValue {
        cache.reset()
        return try value(depth: depth)
    }

    mutating func value(depth: Int) throws(TransitError) -> EDNValue {
        skipWhitespace()
        guard position < buffer.count else { throw fail(.unexpectedEnd, "Unexpected end of JSON input") }
        switch buffer[position] {
        case UInt8(ascii: "\""):
            let start = position
            switch try stringItem(asMapKey: false) {
            case .value(let v): return v
            case .mapMarker: return .string("^ ")
            case .tag(let t): throw fail(.invalidRepresentation, "Tag ~#\(t) outside a tagged value", at: start)
            }
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: throw fail(.invalidSyntax, "Unexpected character in JSON")
        }
    }

    @inline(__always)
    mutating func literal(_ word: StaticString) throws(TransitError) {
        let n = word.utf8CodeUnitCount
        let p = word.utf8Start
        guard position + n <= buffer.count else {
            for k in 0..<(buffer.count - position) where buffer[position + k] != p[k] { throw fail(.invalidSyntax, "Invalid literal") }
            throw fail(.unexpectedEnd, "Unexpected end of JSON input")
        }
        for k in 0..<n where buffer[position + k] != p[k] { throw fail(.invalidSyntax, "Invalid literal") }
        position += n
    }

    // MARK: containers

    @inline(__always)
    mutating func expectSeparator(close: UInt8, start: Int) throws(TransitError) -> Bool {
        skipWhitespace()
        guard position < buffer.count else { throw fail(.unexpectedEnd, close == 93 ? "Unterminated array" : "Unterminated object", at: start) }
        let b = buffer[position]
        if b == UInt8(ascii: ",") { position += 1; return true }
        if b == close { position += 1; return false }
        throw fail(.invalidSyntax, close == 93 ? "Expected ',' or ']' in array" : "Expected ',' or '}' in object")
    }

    mutating func array(depth: Int) throws(TransitError) -> EDNValue {
        guard depth <= maxDepth else { throw fail(.tooDeep, "Nesting deeper than \(maxDepth) levels") }
        if depth > deepest { deepest = depth }
        let start = position
        position += 1
        skipWhitespace()
        guard position < buffer.count else { throw fail(.unexpectedEnd, "Unterminated array", at: start) }
        if buffer[position] == UInt8(ascii: "]") { position += 1; return .vector([]) }
        let base = stack.count
        if buffer[position] == UInt8(ascii: "\"") {
            let at = position
            switch try stringItem(asMapKey: false) {
            case .value(let v): stack.push(v)
            case .mapMarker: return try mapAsArray(depth: depth, start: start)
            case .tag(let tag):
                guard try expectSeparator(close: 93, start: start) else {
                    throw fail(.invalidRepresentation, "Tag ~#\(tag) without a value", at: at)
                }
                let repAt = position
                let rep = try value(depth: depth)
                guard try !expectSeparator(close: 93, start: start) else {
                    throw fail(.invalidRepresentation, "A tagged value is [tag, value]: more than one value after ~#\(tag)", at: at)
                }
                do { return try TransitDecoding.tagged(tag, rep, handlers: handlers, maxNumberLength: maxNumberLength) } catch { throw locate(error, at: repAt) }
            }
        } else {
            stack.push(try value(depth: depth))
        }
        while try expectSeparator(close: 93, start: start) {
            stack.push(try value(depth: depth))
        }
        return .vector(stack.popArray(from: base))
    }

    /// A map key: a string (decoded as a key, so cacheable) or any other value.
    @inline(__always)
    mutating func key(depth: Int) throws(TransitError) -> EDNValue {
        skipWhitespace()
        guard position < buffer.count else { throw fail(.unexpectedEnd, "Unexpected end of JSON input") }
        if buffer[position] == UInt8(ascii: "\"") {
            let at = position
            switch try stringItem(asMapKey: true) {
            case .value(let v): return v
            case .mapMarker: return .string("^ ")
            case .tag(let t): throw fail(.invalidRepresentation, "Tag ~#\(t) used as a map key", at: at)
            }
        }
        return try value(depth: depth)
    }

    mutating func mapAsArray(depth: Int, start: Int) throws(TransitError) -> EDNValue {
        let outer = deepest
        deepest = depth
        let base = stack.count
        while try expectSeparator(close: 93, start: start) {
            stack.push(try key(depth: depth))
            guard try expectSeparator(close: 93, start: start) else {
                throw fail(.invalidRepresentation, "Map-as-array [\"^ \", …] with an odd number of items")
            }
            stack.push(try value(depth: depth))
        }
        let map = stack.popMap(from: base)
        try settleMapDepth(map, outer: outer, at: start)
        return .map(map)
    }

    /// After a map read in native form (`["^ ", …]`) whose level is `deepest` was reset to:
    /// if a key is a collection, the writer writes the map as `["~#cmap", [...]]`, one level
    /// more for the map and all it holds; counting it so here keeps "what reads, writes in a
    /// form that reads back" at the depth bound. Then `deepest` is the larger of the map's and
    /// `outer`.
    mutating func settleMapDepth(_ map: EDNMap, outer: Int, at start: Int) throws(TransitError) {
        if !TransitWriting.hasScalarKeys(map) {
            deepest += 1
            guard deepest <= maxDepth else {
                throw fail(.tooDeep, "Nesting deeper than \(maxDepth) levels (a map with collection keys counts as its written [\"~#cmap\", [...]])", at: start)
            }
        }
        if outer > deepest { deepest = outer }
    }

    mutating func object(depth: Int) throws(TransitError) -> EDNValue {
        guard depth <= maxDepth else { throw fail(.tooDeep, "Nesting deeper than \(maxDepth) levels") }
        if depth > deepest { deepest = depth }
        let start = position
        position += 1
        skipWhitespace()
        guard position < buffer.count else { throw fail(.unexpectedEnd, "Unterminated object", at: start) }
        if buffer[position] == UInt8(ascii: "}") { position += 1; return .map(EDNMap()) }
        let base = stack.count
        var first = true
        repeat {
            skipWhitespace()
            guard position < buffer.count else { throw fail(.unexpectedEnd, "Unterminated object", at: start) }
            guard buffer[position] == UInt8(ascii: "\"") else { throw fail(.invalidSyntax, "Expected a string key in object") }
            let at = position
            let item = try stringItem(asMapKey: true)
            skipWhitespace()
            guard position < buffer.count else { throw fail(.unexpectedEnd, "Unterminated object", at: start) }
            guard buffer[position] == UInt8(ascii: ":") else { throw fail(.invalidSyntax, "Expected ':' after object key") }
            position += 1
            switch item {
            case .tag(let tag):
                guard first else { throw fail(.invalidRepresentation, "Tag ~#\(tag) used as a map key", at: at) }
                let repAt = position
                let rep = try value(depth: depth)
                guard try !expectSeparator(close: 125, start: start) else {
                    throw fail(.invalidRepresentation, "A verbose tagged value {\"~#\(tag)\": value} has one entry", at: at)
                }
                do { return try TransitDecoding.tagged(tag, rep, handlers: handlers, maxNumberLength: maxNumberLength) } catch { throw locate(error, at: repAt) }
            case .value(let k):
                stack.push(k)
                stack.push(try value(depth: depth))
            case .mapMarker:
                stack.push(.string("^ "))
                stack.push(try value(depth: depth))
            }
            first = false
        } while try expectSeparator(close: 125, start: start)
        return .map(stack.popMap(from: base))
    }

    // MARK: strings

    /// Reads a JSON string (at its opening quote) and gives it its Transit meaning, using and
    /// feeding the read cache.
    @inline(__always)
    mutating func stringItem(asMapKey: Bool) throws(TransitError) -> StringItem {
        let start = position
        var i = position + 1
        var ascii = true
        let end = buffer.count
        let base = buffer.baseAddress!
        // Eight bytes at a time while none is a quote, a backslash or a control character
        // (exact SWAR tests: no false positives when no byte matches).
        var high: UInt64 = 0
        while i &+ 8 <= end {
            let w = loadWord(UnsafeRawPointer(base + i), as: UInt64.self)
            if hasJSONSpecialByte(w) { break }
            high |= w
            i &+= 8
        }
        if high & 0x8080_8080_8080_8080 != 0 { ascii = false }
        while i < end {
            let b = base[i]
            if b >= 0x80 { ascii = false; i &+= 1; continue }
            if b < 0x20 || b == 0x22 || b == 0x5C { break }
            i &+= 1
        }
        guard i < buffer.count else { throw fail(.unexpectedEnd, "Unterminated string", at: start) }
        if buffer[i] == UInt8(ascii: "\"") {
            position = i + 1
            return try interpret(UnsafeBufferPointer(rebasing: buffer[(start + 1)..<i]), ascii: ascii, asMapKey: asMapKey, at: start)
        }
        if buffer[i] != UInt8(ascii: "\\") { throw fail(.invalidSyntax, "Control character in string", at: i) }
        // Slow path: unescape into scratch.
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[(start + 1)..<i]))
        position = i
        while true {
            guard position < buffer.count else { throw fail(.unexpectedEnd, "Unterminated string", at: start) }
            let b = buffer[position]
            if b == UInt8(ascii: "\"") { position += 1; break }
            if b < 0x20 { throw fail(.invalidSyntax, "Control character in string") }
            if b != UInt8(ascii: "\\") {
                if b >= 0x80 { ascii = false }
                scratch.append(b)
                position += 1
                continue
            }
            let escAt = position
            position += 1
            guard position < buffer.count else { throw fail(.unexpectedEnd, "Unterminated string", at: start) }
            let e = buffer[position]
            position += 1
            switch e {
            case UInt8(ascii: "\""): scratch.append(34)
            case UInt8(ascii: "\\"): scratch.append(92)
            case UInt8(ascii: "/"): scratch.append(47)
            case UInt8(ascii: "b"): scratch.append(8)
            case UInt8(ascii: "f"): scratch.append(12)
            case UInt8(ascii: "n"): scratch.append(10)
            case UInt8(ascii: "r"): scratch.append(13)
            case UInt8(ascii: "t"): scratch.append(9)
            case UInt8(ascii: "u"):
                var unit = try hex4(escAt)
                if (0xD800...0xDBFF).contains(unit) {
                    guard position + 1 < buffer.count, buffer[position] == UInt8(ascii: "\\"), buffer[position + 1] == UInt8(ascii: "u") else {
                        throw fail(.invalidUTF8, "Lone surrogate in string", at: escAt)
                    }
                    position += 2
                    let low = try hex4(escAt)
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail(.invalidUTF8, "Lone surrogate in string", at: escAt) }
                    unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(unit) {
                    throw fail(.invalidUTF8, "Lone surrogate in string", at: escAt)
                }
                if unit >= 0x80 { ascii = false }
                UTF8.encode(Unicode.Scalar(unit)!) { scratch.append($0) }
            default:
                throw fail(.invalidSyntax, "Invalid escape in string", at: escAt)
            }
        }
        let bytes = scratch
        return try bytes.withUnsafeBufferPointer { p throws(TransitError) in
            try interpret(p, ascii: ascii, asMapKey: asMapKey, at: start)
        }
    }

    mutating func hex4(_ escAt: Int) throws(TransitError) -> UInt32 {
        guard position + 4 <= buffer.count else { throw fail(.invalidSyntax, "Invalid \\u escape", at: escAt) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = buffer[position]
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - 48)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - 87)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - 55)
            default: throw fail(.invalidSyntax, "Invalid \\u escape", at: escAt)
            }
            v = v << 4 | d
            position += 1
        }
        return v
    }

    /// The Transit meaning of a string's bytes, with the cache.
    @inline(__always)
    mutating func interpret(_ s: UnsafeBufferPointer<UInt8>, ascii: Bool, asMapKey: Bool, at: Int) throws(TransitError) -> StringItem {
        let n = s.count
        if n == 0 { return .value(.string("")) }
        let b0 = s[0]
        if b0 == UInt8(ascii: "^") {
            if n == 2 && s[1] == 32 { return .mapMarker }
            guard let index = TransitCacheCodes.index(of: s), let item = cache.lookup(index) else {
                throw fail(.invalidCacheReference, "Unknown cache code \(String(decoding: s, as: UTF8.self))", at: at)
            }
            return item
        }
        if n >= 4 && b0 != UInt8(ascii: "~") && !asMapKey {
            // Plain string value: never cached.
            do { return .value(.string(try TransitDecoding.makeString(s, ascii: ascii))) } catch { throw locate(error, at: at) }
        }
        let item: StringItem
        do { item = try TransitDecoding.decode(s, ascii: ascii, handlers: handlers, maxNumberLength: maxNumberLength) } catch { throw locate(error, at: at) }
        if n >= 4 {
            let cacheable = asMapKey || (b0 == UInt8(ascii: "~") && (s[1] == UInt8(ascii: ":") || s[1] == UInt8(ascii: "$") || s[1] == UInt8(ascii: "#")))
            if cacheable && TransitCacheCodes.isLongEnough(s, ascii: ascii, unit: cacheUnit) { cache.store(item) }
        }
        return item
    }

    // MARK: numbers

    mutating func number() throws(TransitError) -> EDNValue {
        let start = position
        var negative = false
        if buffer[position] == UInt8(ascii: "-") { negative = true; position += 1 }
        let intStart = position
        var value: UInt64 = 0
        var overflow = false
        while position < buffer.count {
            let d = buffer[position] &- 48
            guard d < 10 else { break }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d))
            value = a
            overflow = overflow || o1 || o2
            position += 1
        }
        let intDigits = position - intStart
        guard intDigits > 0 else {
            if position >= buffer.count { throw fail(.unexpectedEnd, "Unexpected end of JSON input") }
            throw fail(.invalidNumber, "Invalid number", at: start)
        }
        guard !(intDigits > 1 && buffer[intStart] == UInt8(ascii: "0")) else {
            throw fail(.invalidNumber, "Leading zeros are not allowed in JSON numbers", at: start)
        }
        var isInteger = true
        if position < buffer.count, buffer[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            let f = position
            while position < buffer.count, buffer[position] &- 48 < 10 { position += 1 }
            guard position > f else { throw fail(.invalidNumber, "Invalid number: digits expected after '.'", at: start) }
        }
        if position < buffer.count, buffer[position] == UInt8(ascii: "e") || buffer[position] == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if position < buffer.count, buffer[position] == UInt8(ascii: "+") || buffer[position] == UInt8(ascii: "-") { position += 1 }
            let e = position
            while position < buffer.count, buffer[position] &- 48 < 10 { position += 1 }
            guard position > e else { throw fail(.invalidNumber, "Invalid number: digits expected in exponent", at: start) }
        }
        let text = UnsafeBufferPointer(rebasing: buffer[start..<position])
        if text.count > maxNumberLength {
            do { try TransitDecoding.checkNumberLength(text, maxNumberLength) } catch { throw locate(error, at: start) }
        }
        if isInteger {
            if !overflow {
                if negative, value <= UInt64(Int64.max) + 1 { return .integer(value == UInt64(Int64.max) + 1 ? .min : -Int64(value)) }
                if !negative, value <= UInt64(Int64.max) { return .integer(Int64(value)) }
            }
            return .bigInteger(BigInteger(String(decoding: text, as: UTF8.self))!)
        }
        guard let d = FastDouble.parse(text) else { throw fail(.invalidNumber, "Invalid number", at: start) }
        return .double(d)
    }
}
