import EDN

/// Transit MessagePack writer (smallest MessagePack encodings, as msgpack-java writes them).
struct MsgpackEncoder {
    var out: ByteBuffer
    let maxDepth: Int
    let cacheUnit: TransitCacheLength
    var cache = WriteCache()

    init(options: TransitWriter.Options) {
        self.out = ByteBuffer(capacity: 1024)
        self.maxDepth = options.maxDepth
        self.cacheUnit = options.cacheLength
    }

    mutating func writeTop(_ v: EDNValue) throws(TransitError) {
        if TransitWriting.isScalar(v) {
            beginTagged("'")
            try write(v, asMapKey: false, depth: 1)
        } else {
            try write(v, asMapKey: false, depth: 0)
        }
    }

    // MARK: raw MessagePack

    @inline(__always)
    mutating func bigEndian(_ v: UInt64, _ n: Int) {
        var shift = (n - 1) * 8
        while shift >= 0 {
            out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift)))
            shift -= 8
        }
    }

    @inline(__always)
    mutating func int(_ i: Int64) {
        if i >= 0 {
            if i < 128 { out.append(UInt8(i)) }
            else if i <= 0xFF { out.append(0xCC, UInt8(i)) }
            else if i <= 0xFFFF { out.append(marker: 0xCD, bigEndian: UInt64(i), bytes: 2) }
            else if i <= 0xFFFF_FFFF { out.append(marker: 0xCE, bigEndian: UInt64(i), bytes: 4) }
            else { out.append(marker: 0xCF, bigEndian: UInt64(i), bytes: 8) }
        } else {
            if i >= -32 { out.append(UInt8(bitPattern: Int8(i))) }
            else if i >= -128 { out.append(0xD0, UInt8(bitPattern: Int8(i))) }
            else if i >= -32768 { out.append(marker: 0xD1, bigEndian: UInt64(bitPattern: i), bytes: 2) }
            else if i >= Int64(Int32.min) { out.append(marker: 0xD2, bigEndian: UInt64(bitPattern: i), bytes: 4) }
            else { out.append(marker: 0xD3, bigEndian: UInt64(bitPattern: i), bytes: 8) }
        }
    }

    @inline(__always)
    mutating func stringHeader(_ n: Int) {
        if n < 32 { out.append(0xA0 | UInt8(n)) }
        else if n <= 0xFF { out.append(0xD9); out.append(UInt8(n)) }
        else if n <= 0xFFFF { out.append(0xDA); bigEndian(UInt64(n), 2) }
        else { out.append(0xDB); bigEndian(UInt64(n), 4) }
    }

    @inline(__always)
    mutating func arrayHeader(_ n: Int) {
        if n < 16 { out.append(0x90 | UInt8(n)) }
        else if n <= 0xFFFF { out.append(0xDC); bigEndian(UInt64(n), 2) }
        else { out.append(0xDD); bigEndian(UInt64(n), 4) }
    }

    @inline(__always)
    mutating func mapHeader(_ n: Int) {
        if n < 16 { out.append(0x80 | UInt8(n)) }
        else if n <= 0xFFFF { out.append(0xDE); bigEndian(UInt64(n), 2) }
        else { out.append(0xDF); bigEndian(UInt64(n), 4) }
    }

    /// Writes the encoded string `prefix(tag) + text`, through the cache.
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
        let candidate = asMapKey || tag == UInt8(ascii: ":") || tag == UInt8(ascii: "$") || tag == UInt8(ascii: "#")
        if candidate && TransitWriting.isLongEnough(tag: tag, u, unit: cacheUnit),
           let index = cache.lookupOrInsert(tag: tag, bytes: u) {
            out.reserve(4)
            stringHeader(TransitCacheCodes.codeLength(index))
            TransitCacheCodes.appendCode(index, into: &out)
            return
        }
        out.reserve(u.count + 7)
        stringHeader(TransitWriting.prefixLength(tag) + u.count)
        if tag != 0 {
            out.append(UInt8(ascii: "~"))
            if tag != UInt8(ascii: "~") { out.append(tag) }
        }
        out.append(contentsOf: u)
    }

    mutating func beginTagged(_ tag: String) {
        out.append(0x92)
        emit(UInt8(ascii: "#"), tag, asMapKey: false)
    }

    /// A set's members as an array, in Clojure's hash order (see `TransitWriter`).
    mutating func writeSetMembers(_ s: EDNSet, depth: Int) throws(TransitError) {
        guard let order = s.clojureOrder else { return try writeArray(s.elements, depth: depth) }
        arrayHeader(order.count)
        try s.elements.withUnsafeBufferPointer { p throws(TransitError) in
            for i in order { try writeElement(p.baseAddress! + i, asMapKey: false, depth: depth) }
        }
    }

    mutating func writeArray(_ items: [EDNValue], depth: Int) throws(TransitError) {
        arrayHeader(items.count)
        try items.withUnsafeBufferPointer { p throws(TransitError) in
            for i in 0..<p.count { try writeElement(p.baseAddress! + i, asMapKey: false, depth: depth) }
        }
    }

    /// A map: MessagePack map of its entries, or a `cmap` when a key is a collection.
    mutating func writeMap(_ m: EDNMap, depth: Int) throws(TransitError) {
        let scalarKeys = TransitWriting.hasScalarKeys(m)
        if scalarKeys {
            mapHeader(m.count)
        } else {
            beginTagged("cmap")
            arrayHeader(m.count * 2)
        }
        try m.entries.withUnsafeBufferPointer { e throws(TransitError) in
            for i in 0..<e.count {
                try writeElement(e.baseAddress! + i, asMapKey: scalarKeys && i % 2 == 0, depth: depth)
            }
        }
    }

    // MARK: values

    /// An element of an array or map, written in place: the common scalars are matched on
    /// the stored value, without first copying the whole `EDNValue` out of its array.
    @inline(__always)
    mutating func writeElement(_ p: UnsafePointer<EDNValue>, asMapKey: Bool, depth: Int) throws(TransitError) {
        switch p.pointee {
        case .integer(let i): int(i)
        case .keyword(let k): emit(UInt8(ascii: ":"), k.text, asMapKey: asMapKey)
        case .string(let s):
            TransitWriting.withUTF8(s) { u in
                emit(TransitWriting.needsEscape(u) ? UInt8(ascii: "~") : 0, u, asMapKey: asMapKey)
            }
        case .double(let d) where d.isFinite: out.append(marker: 0xCB, bigEndian: d.bitPattern, bytes: 8)
        case .null: out.append(0xC0)
        case .bool(let b): out.append(b ? 0xC3 : 0xC2)
        default:
            try write(p.pointee, asMapKey: asMapKey, depth: depth)
        }
    }

    mutating func write(_ v: EDNValue, asMapKey: Bool, depth: Int) throws(TransitError) {
        switch v {
        case .null: out.append(0xC0)
        case .bool(let b): out.append(b ? 0xC3 : 0xC2)
        case .integer(let i): int(i)
        case .bigInteger(let b): emit(UInt8(ascii: "n"), b.description, asMapKey: asMapKey)
        case .double(let d):
            if d.isFinite {
                out.append(marker: 0xCB, bigEndian: d.bitPattern, bytes: 8)
            } else {
                emit(UInt8(ascii: "z"), TransitWriting.specialName(d), asMapKey: asMapKey)
            }
        case .bigDecimal(let d): emit(UInt8(ascii: "f"), d.description, asMapKey: asMapKey)
        case .string(let s):
            TransitWriting.withUTF8(s) { u in
                emit(TransitWriting.needsEscape(u) ? UInt8(ascii: "~") : 0, u, asMapKey: asMapKey)
            }
        case .keyword(let k): emit(UInt8(ascii: ":"), k.text, asMapKey: asMapKey)
        case .symbol(let s): emit(UInt8(ascii: "$"), s.text, asMapKey: asMapKey)
        case .character(let c): emit(UInt8(ascii: "c"), String(Character(c)), asMapKey: asMapKey)
        case .instant(let i):
            if asMapKey {
                TransitWriting.withDecimalText(i.millisecondsSinceEpoch) { emit(UInt8(ascii: "m"), $0, asMapKey: true) }
            } else {
                beginTagged("m")
                int(i.millisecondsSinceEpoch)
            }
        case .uuid(let u):
            if asMapKey {
                TransitWriting.withUUIDText(u) { emit(UInt8(ascii: "u"), $0, asMapKey: true) }
            } else {
                beginTagged("u")
                out.append(0x92)
                int(Int64(bitPattern: u.high))
                int(Int64(bitPattern: u.low))
            }
        case .uri(let u): emit(UInt8(ascii: "r"), u, asMapKey: asMapKey)
        case .bytes(let b): emit(UInt8(ascii: "b"), Base64.encode(b), asMapKey: asMapKey)
        case .vector(let items):
            guard depth < maxDepth else { throw TransitWriting.depthError(maxDepth) }
            try writeArray(items, depth: depth + 1)
        case .list(let items):
            guard depth < maxDepth else { throw TransitWriting.depthError(maxDepth) }
            beginTagged("list")
            try writeArray(items, depth: depth + 1)
        case .set(let s):
            guard depth < maxDepth else { throw TransitWriting.depthError(maxDepth) }
            beginTagged("set")
            try writeSetMembers(s, depth: depth + 1)
        case .ratio(let r):
            beginTagged("ratio")
            out.append(0x92)
            emit(UInt8(ascii: "n"), r.numerator.description, asMapKey: false)
            emit(UInt8(ascii: "n"), r.denominator.description, asMapKey: false)
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
            }
        }
    }
}
