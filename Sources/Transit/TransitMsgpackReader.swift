import EDN

/// Transit MessagePack straight from bytes to `EDNValue`.
struct MsgpackDecoder: ~Copyable {
    let buffer: UnsafeBufferPointer<UInt8>
    var position: Int
    let maxDepth: Int
    let maxNumberLength: Int
    let handlers: TransitReadHandlers
    let cacheUnit: TransitCacheLength
    var cache = ReadCache()
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
        TransitError(kind: kind, message: message, offset: offset ?? position)
    }

    func locate(_ e: TransitError, at offset: Int) -> TransitError {
        e.offset >= 0 ? e : fail(e.kind, e.message, at: offset)
    }

    /// Reads one top-level value (a fresh cache).
    mutating func readValue(depth: Int) throws(TransitError) -> EDNValue {
        cache.reset()
        return try value(depth: depth)
    }

    // MARK: raw reading

    @inline(__always)
    mutating func byte() throws(TransitError) -> UInt8 {
        guard position < buffer.count else { throw fail(.unexpectedEnd, "Unexpected end of MessagePack input") }
        let b = buffer[position]
        position += 1
        return b
    }

    @inline(__always)
    mutating func bigEndian(_ n: Int) throws(TransitError) -> UInt64 {
        guard position + n <= buffer.count else {
            position = buffer.count
            throw fail(.unexpectedEnd, "Unexpected end of MessagePack input")
        }
        var v: UInt64 = 0
        for k in 0..<n { v = v << 8 | UInt64(buffer[position + k]) }
        position += n
        return v
    }

    @inline(__always)
    mutating func bytes(_ n: Int) throws(TransitError) -> UnsafeBufferPointer<UInt8> {
        guard n <= buffer.count - position else {
            position = buffer.count
            throw fail(.unexpectedEnd, "Unexpected end of MessagePack input")
        }
        let s = UnsafeBufferPointer(rebasing: buffer[position..<(position + n)])
        position += n
        return s
    }

    /// The kind of the next item without consuming it: array / map / string length, or nil.
    enum Header {
        case string(Int)
        case array(Int)
        case map(Int)
        case other
    }

    @inline(__always)
    func peekHeader() -> Header {
        guard position < buffer.count else { return .other }
        let b = buffer[position]
        switch b {
        case 0xA0...0xBF: return .string(Int(b & 0x1F))
        case 0x90...0x9F: return .array(Int(b & 0x0F))
        case 0x80...0x8F: return .map(Int(b & 0x0F))
        case 0xD9, 0xDA, 0xDB: return .string(-1)
        case 0xDC, 0xDD: return .array(-1)
        case 0xDE, 0xDF: return .map(-1)
        default: return .other
        }
    }

    /// Consumes a string header; returns the length.
    @inline(__always)
    mutating func stringLength() throws(TransitError) -> Int {
        let b = try byte()
        switch b {
        case 0xA0...0xBF: return Int(b & 0x1F)
        case 0xD9: return Int(try bigEndian(1))
        case 0xDA: return Int(try bigEndian(2))
        case 0xDB: return Int(try bigEndian(4))
        default: throw fail(.invalidSyntax, "Expected a string", at: position - 1)
        }
    }

    @inline(__always)
    mutating func containerLength(_ b: UInt8, small: UInt8, mask: UInt8) throws(TransitError) -> Int {
        let n: Int
        if b & ~mask == small {
            n = Int(b & mask)
        } else if b == 0xDC || b == 0xDE {
            n = Int(try bigEndian(2))
        } else {
            n = Int(try bigEndian(4))
        }
        // Every item takes at least one byte: refuse impossible lengths before allocating.
        guard n <= buffer.count - position else {
            position = buffer.count
            throw fail(.unexpectedEnd, "Unexpected end of MessagePack input")
        }
        return n
    }

    // MARK: values

    mutating func value(depth: Int) throws(TransitError) -> EDNValue {
        let at = position
        let b = try byte()
        switch b {
        case 0x00...0x7F: return .integer(Int64(b))
        case 0xE0...0xFF: return .integer(Int64(Int8(bitPattern: b)))
        case 0xC0: return .null
        case 0xC2: return .bool(false)
        case 0xC3: return .bool(true)
        case 0xCC: return .integer(Int64(try bigEndian(1)))
        case 0xCD: return .integer(Int64(try bigEndian(2)))
        case 0xCE: return .integer(Int64(try bigEndian(4)))
        case 0xCF:
            let v = try bigEndian(8)
            return v <= UInt64(Int64.max) ? .integer(Int64(v)) : .bigInteger(BigInteger(v))
        case 0xD0: return .integer(Int64(Int8(truncatingIfNeeded: try bigEndian(1))))
        case 0xD1: return .integer(Int64(Int16(truncatingIfNeeded: try bigEndian(2))))
        case 0xD2: return .integer(Int64(Int32(truncatingIfNeeded: try bigEndian(4))))
        case 0xD3: return .integer(Int64(bitPattern: try bigEndian(8)))
        case 0xCA: return .double(Double(Float(bitPattern: UInt32(try bigEndian(4)))))
        case 0xCB: return .double(Double(bitPattern: try bigEndian(8)))
        case 0xA0...0xBF, 0xD9, 0xDA, 0xDB:
            position = at
            switch try stringItem(asMapKey: false) {
            case .value(let v): return v
            case .mapMarker: return .string("^ ")
            case .tag(let t): throw fail(.invalidRepresentation, "Tag ~#\(t) outside a tagged value", at: at)
            }
        case 0xC4, 0xC5, 0xC6:
            let n = Int(try bigEndian(b == 0xC4 ? 1 : b == 0xC5 ? 2 : 4))
            return .bytes(Array(try bytes(n)))
        case 0x90...0x9F, 0xDC, 0xDD:
            guard depth < maxDepth else { throw fail(.tooDeep, "Nesting deeper than \(maxDepth) levels", at: at) }
            let n = try containerLength(b, small: 0x90, mask: 0x0F)
            return try array(count: n, depth: depth + 1, at: at)
        case 0x80...0x8F, 0xDE, 0xDF:
            guard depth < maxDepth else { throw fail(.tooDeep, "Nesting deeper than \(maxDepth) levels", at: at) }
            let n = try containerLength(b, small: 0x80, mask: 0x0F)
            return try map(count: n, depth: depth + 1, at: at)
        case 0xC7, 0xC8, 0xC9, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8:
            throw fail(.unsupported, "MessagePack ext types are not used by Transit", at: at)
        default:
            throw fail(.unsupported, "Invalid MessagePack byte 0x\(String(b, radix: 16))", at: at)
        }
    }

    mutating func array(count n: Int, depth: Int, at: Int) throws(TransitError) -> EDNValue {
        if depth > deepest { deepest = depth }
        if n == 0 { return .vector([]) }
        var items: [EDNValue] = []
        if case .string = peekHeader() {
            let tagAt = position
            switch try stringItem(asMapKey: false) {
            case .value(let v): items.reserveCapacity(n); items.append(v)
            case .mapMarker:
                guard n % 2 == 1 else { throw fail(.invalidRepresentation, "Map-as-array [\"^ \", …] with an odd number of items", at: at) }
                let outer = deepest
                deepest = depth
                var entries: [EDNValue] = []
                entries.reserveCapacity(n - 1)
                for _ in 0..<(n / 2) {
                    entries.append(try key(depth: depth))
                    entries.append(try value(depth: depth))
                }
                let map = EDNMap(interleaved: entries)
                try settleMapDepth(map, outer: outer, at: at)
                return .map(map)
            case .tag(let tag):
                guard n == 2 else { throw fail(.invalidRepresentation, "A tagged value is [tag, value]", at: tagAt) }
                let repAt = position
                let rep = try value(depth: depth)
                do { return try TransitDecoding.tagged(tag, rep, handlers: handlers, maxNumberLength: maxNumberLength) } catch { throw locate(error, at: repAt) }
            }
        } else {
            items.reserveCapacity(n)
            items.append(try value(depth: depth))
        }
        for _ in 1..<n { items.append(try value(depth: depth)) }
        return .vector(items)
    }

    /// After a native map (msgpack map or `["^ ", …]`) whose level is `deepest` was reset to:
    /// if a key is a collection, the writer writes the map as `["~#cmap", [...]]`, one level
    /// more for the map and all it holds; counting it so here keeps "what reads, writes in a
    /// form that reads back" at the depth bound. Then `deepest` is the larger of the map's and
    /// `outer`.
    mutating func settleMapDepth(_ map: EDNMap, outer: Int, at: Int) throws(TransitError) {
        if !TransitWriting.hasScalarKeys(map) {
            deepest += 1
            guard deepest <= maxDepth else {
                throw fail(.tooDeep, "Nesting deeper than \(maxDepth) levels (a map with collection keys counts as its written [\"~#cmap\", [...]])", at: at)
            }
        }
        if outer > deepest { deepest = outer }
    }

    @inline(__always)
    mutating func key(depth: Int) throws(TransitError) -> EDNValue {
        if case .string = peekHeader() {
            let at = position
            switch try stringItem(asMapKey: true) {
            case .value(let v): return v
            case .mapMarker: return .string("^ ")
            case .tag(let t): throw fail(.invalidRepresentation, "Tag ~#\(t) used as a map key", at: at)
            }
        }
        return try value(depth: depth)
    }

    mutating func map(count n: Int, depth: Int, at: Int) throws(TransitError) -> EDNValue {
        if depth > deepest { deepest = depth }
        if n == 0 { return .map(EDNMap()) }
        let outer = deepest
        deepest = depth
        var entries: [EDNValue] = []
        entries.reserveCapacity(2 * n)
        for i in 0..<n {
            if case .string = peekHeader() {
                let keyAt = position
                switch try stringItem(asMapKey: true) {
                case .value(let k):
                    entries.append(k)
                    entries.append(try value(depth: depth))
                case .mapMarker:
                    entries.append(.string("^ "))
                    entries.append(try value(depth: depth))
                case .tag(let tag):
                    guard i == 0, n == 1 else { throw fail(.invalidRepresentation, "Tag ~#\(tag) used as a map key", at: keyAt) }
                    let repAt = position
                    let rep = try value(depth: depth)
                    if outer > deepest { deepest = outer }
                    do { return try TransitDecoding.tagged(tag, rep, handlers: handlers, maxNumberLength: maxNumberLength) } catch { throw locate(error, at: repAt) }
                }
            } else {
                entries.append(try value(depth: depth))
                entries.append(try value(depth: depth))
            }
        }
        // A later duplicate key replaces the earlier value.
        let map = EDNMap(interleaved: entries)
        try settleMapDepth(map, outer: outer, at: at)
        return .map(map)
    }

    /// Reads a MessagePack string and gives it its Transit meaning, with the cache.
    mutating func stringItem(asMapKey: Bool) throws(TransitError) -> StringItem {
        let at = position
        let n = try stringLength()
        let s = try bytes(n)
        if n == 0 { return .value(.string("")) }
        let ascii = TransitDecoding.isASCII(s)
        let b0 = s[0]
        if b0 == UInt8(ascii: "^") {
            if n == 2 && s[1] == 32 { return .mapMarker }
            guard let index = TransitCacheCodes.index(of: s), let item = cache.lookup(index) else {
                throw fail(.invalidCacheReference, "Unknown cache code \(String(decoding: s, as: UTF8.self))", at: at)
            }
            return item
        }
        let item: StringItem
        do { item = try TransitDecoding.decode(s, ascii: ascii, handlers: handlers, maxNumberLength: maxNumberLength) } catch { throw locate(error, at: at) }
        if n >= 4 {
            let cacheable = asMapKey || (b0 == UInt8(ascii: "~") && (s[1] == UInt8(ascii: ":") || s[1] == UInt8(ascii: "$") || s[1] == UInt8(ascii: "#")))
            if cacheable && TransitCacheCodes.isLongEnough(s, ascii: ascii, unit: cacheUnit) { cache.store(item) }
        }
        return item
    }
}
