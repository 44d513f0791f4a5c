public import EDN

/// Custom read handlers: Transit tag → value, like transit-clj's `:handlers` reader option.
///
/// A handler receives the tag's decoded representation (for a scalar extension `"~Xrep"` the
/// string `rep`; for `["~#tag", rep]` the decoded `rep`) and returns the value to put in its
/// place. Custom handlers take precedence over the built-in ones, as in transit-java.
///
/// ```swift
/// var handlers = TransitReadHandlers()
/// handlers.register(tag: "point") { rep in
///     guard case .vector(let xy) = rep, xy.count == 2 else { throw PointError() }
///     return .map([.kw("x"): xy[0], .kw("y"): xy[1]])
/// }
/// let reader = TransitReader(format: .json, options: .init(handlers: handlers))
/// ```
///
/// To get Swift values out, register a decoder with `register(tag:as:_:)` and call
/// `decode(_:as:)` on the value read: the reader keeps such tags as `.tagged(tag, rep)`.
public struct TransitReadHandlers: Sendable {
    /// A handler: the tag's representation in, the value out.
    public typealias Handler = @Sendable (EDNValue) throws -> EDNValue

    private var handlers: [String: Handler] = [:]
    private var decoders: [String: @Sendable (EDNValue) throws -> any Sendable] = [:]

    /// No custom handlers.
    public init() {}

    /// True when no handler is registered (the reader's fast path).
    public var isEmpty: Bool { handlers.isEmpty }

    /// Registers (or replaces) the handler for `tag`.
    public mutating func register(tag: String, _ handler: @escaping Handler) {
        handlers[tag] = handler
    }

    /// Registers a decoder from a tag's representation to a Swift type, used by
    /// `decode(_:as:)`. The reader itself keeps the tag as `.tagged(tag, rep)`.
    public mutating func register<T: Sendable>(tag: String, as type: T.Type, _ decode: @escaping @Sendable (EDNValue) throws -> T) {
        decoders[tag] = { rep in try decode(rep) }
    }

    /// The Swift value of a `.tagged(tag, rep)` whose tag has a decoder registered for `T`.
    /// Throws `.handlerFailed` when the value is not such a tagged value or the decoder fails.
    public func decode<T>(_ value: EDNValue, as type: T.Type) throws(TransitError) -> T {
        guard case .tagged(let tag, let rep) = value, let d = decoders[tag.text] else {
            throw TransitError(kind: .handlerFailed, message: "No decoder for \(value.kindName) as \(T.self)")
        }
        let result: any Sendable
        do { result = try d(rep) } catch {
            throw TransitError(kind: .handlerFailed, message: "Decoder for ~#\(tag.text) failed: \(error)")
        }
        guard let typed = result as? T else {
            throw TransitError(kind: .handlerFailed, message: "Decoder for ~#\(tag.text) does not produce \(T.self)")
        }
        return typed
    }

    func handler(for tag: String) -> Handler? { handlers[tag] }

    func run(_ handler: Handler, tag: String, _ rep: EDNValue) throws(TransitError) -> EDNValue {
        do { return try handler(rep) } catch let e as TransitError {
            throw e
        } catch {
            throw TransitError(kind: .handlerFailed, message: "Read handler for tag \(tag) failed: \(error)")
        }
    }
}

/// Custom write handlers: Swift type → Transit tag + representation, like transit-clj's
/// `write-handler` (Sente's FAQ registers one for Joda `DateTime`).
///
/// `TransitWriter.write(any:)` turns a Swift value into an `EDNValue` with `value(from:)`,
/// then writes it. A handled value becomes what a Transit reader makes of `[tag, rep]`: a
/// built-in tag gives the built-in value (tag `"m"` with integer milliseconds → an instant,
/// written `"~m…"`, exactly as the Joda handler in Sente's FAQ), any other tag a
/// `.tagged(tag, rep)` written as `["~#tag", rep]` (or `"~Xrep"` for a one-character tag
/// with a string representation).
///
/// ```swift
/// struct Point { var x, y: Int64 }
/// var handlers = TransitWriteHandlers()
/// handlers.register(Point.self, tag: "point") { p in [.integer(p.x), .integer(p.y)] }
/// let writer = TransitWriter(format: .json, options: .init(handlers: handlers))
/// try writer.write(any: [Point(x: 1, y: 2)])   // [["~#point",[1,2]]]
/// ```
public struct TransitWriteHandlers: Sendable {
    /// A handler: the value (of the registered type) in, tag and representation out.
    public typealias Handler = @Sendable (Any) throws -> (tag: String, rep: EDNValue)

    private var handlers: [ObjectIdentifier: Handler] = [:]

    /// No custom handlers.
    public init() {}

    /// True when no handler is registered.
    public var isEmpty: Bool { handlers.isEmpty }

    /// Registers (or replaces) the handler for values of type `T`, with a tag that may depend
    /// on the value.
    public mutating func register<T>(_ type: T.Type, tag: @escaping @Sendable (T) -> String,
                                     rep: @escaping @Sendable (T) throws -> EDNValue) {
        handlers[ObjectIdentifier(type)] = { value in
            let v = value as! T
            return (tag(v), try rep(v))
        }
    }

    /// Registers (or replaces) the handler for values of type `T`, with a fixed tag.
    public mutating func register<T>(_ type: T.Type, tag: String, rep: @escaping @Sendable (T) throws -> EDNValue) {
        register(type, tag: { _ in tag }, rep: rep)
    }

    /// The `EDNValue` for a Swift value: `EDNValue`s as they are; registered types through
    /// their handler; `String`, `Bool`, fixed-width integers, `Double`, `Float`, `Keyword`,
    /// `Symbol`, `Instant`, `EDNUUID`, `[UInt8]` (bytes), other arrays (vectors), sets,
    /// dictionaries (maps) and optionals (`nil` → `.null`) converted member by member.
    /// Throws `.unencodable` for other types and `.handlerFailed` when a handler throws.
    public func value(from any: Any) throws(TransitError) -> EDNValue {
        try value(from: any, depth: 0)
    }

    private func value(from any: Any, depth: Int) throws(TransitError) -> EDNValue {
        guard depth < 10_000 else { throw TransitError(kind: .unencodable, message: "Value nested too deeply") }
        if let v = any as? EDNValue { return v }
        if let h = handlers[ObjectIdentifier(type(of: any))] {
            let out: (tag: String, rep: EDNValue)
            do { out = try h(any) } catch let e as TransitError {
                throw e
            } catch {
                throw TransitError(kind: .handlerFailed, message: "Write handler for \(type(of: any)) failed: \(error)")
            }
            return try TransitDecoding.tagged(out.tag, out.rep, handlers: TransitReadHandlers())
        }
        switch any {
        case let s as String: return .string(s)
        case let b as Bool: return .bool(b)
        case let i as Int: return .integer(Int64(i))
        case let i as Int64: return .integer(i)
        case let i as Int32: return .integer(Int64(i))
        case let i as Int16: return .integer(Int64(i))
        case let i as Int8: return .integer(Int64(i))
        case let i as UInt8: return .integer(Int64(i))
        case let i as UInt16: return .integer(Int64(i))
        case let i as UInt32: return .integer(Int64(i))
        case let i as UInt64: return i <= UInt64(Int64.max) ? .integer(Int64(i)) : .bigInteger(BigInteger(i))
        case let i as UInt: return UInt64(i) <= UInt64(Int64.max) ? .integer(Int64(i)) : .bigInteger(BigInteger(UInt64(i)))
        case let d as Double: return .double(d)
        case let f as Float: return .double(Double(f))
        case let k as Keyword: return .keyword(k)
        case let s as Symbol: return .symbol(s)
        case let i as Instant: return .instant(i)
        case let u as EDNUUID: return .uuid(u)
        case let b as BigInteger: return .bigInteger(b)
        case let d as BigDecimal: return .bigDecimal(d)
        case let m as EDNMap: return .map(m)
        case let s as EDNSet: return .set(s)
        case let bytes as [UInt8]: return .bytes(bytes)
        default: break
        }
        let mirror = Mirror(reflecting: any)
        switch mirror.displayStyle {
        case .optional:
            guard let wrapped = mirror.children.first else { return .null }
            return try value(from: wrapped.value, depth: depth + 1)
        case .collection:
            var items: [EDNValue] = []
            for child in mirror.children { items.append(try value(from: child.value, depth: depth + 1)) }
            return .vector(items)
        case .set:
            var s = EDNSet()
            for child in mirror.children { s.insert(try value(from: child.value, depth: depth + 1)) }
            return .set(s)
        case .dictionary:
            var m = EDNMap()
            for child in mirror.children {
                let pair = Array(Mirror(reflecting: child.value).children)
                guard pair.count == 2 else { continue }
                m[try value(from: pair[0].value, depth: depth + 1)] = try value(from: pair[1].value, depth: depth + 1)
            }
            return .map(m)
        default:
            throw TransitError(kind: .unencodable, message: "No Transit write handler for \(type(of: any))")
        }
    }
}
