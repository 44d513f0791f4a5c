public import EDN

/// The three Transit encodings.
public enum TransitFormat: String, Sendable, CaseIterable {
    /// Transit JSON: maps as `["^ ", k, v, …]`, tags as `["~#tag", rep]`, with the write cache.
    case json
    /// Transit JSON-verbose: maps as JSON objects, tags as `{"~#tag": rep}`, instants as `~t`,
    /// no cache. Meant for humans; every Transit JSON reader reads it.
    case jsonVerbose = "json-verbose"
    /// Transit MessagePack: native maps, ints and floats; tags as 2-arrays; with the write cache.
    case msgpack

    /// True for the MessagePack encoding (binary payloads).
    public var isBinary: Bool { self == .msgpack }
}

/// How the cache decides that a string is long enough (at least 4) to be cached.
///
/// Writer and reader must agree. transit-java and transit-js (the Clojure and ClojureScript
/// peers of Sente) count UTF-16 code units; transit-python counts Unicode code points. They
/// differ only for strings holding characters outside the Basic Multilingual Plane.
public enum TransitCacheLength: String, Sendable, CaseIterable {
    /// UTF-16 code units, as transit-java and transit-js count (the default).
    case utf16
    /// Unicode scalars (code points), as transit-python counts.
    case unicodeScalars = "scalars"
}

/// Why Transit bytes could not be read, or a value could not be written.
public struct TransitError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of problem.
    public enum Kind: String, Sendable, Equatable {
        /// Input ended inside a value (or there was no value at all).
        case unexpectedEnd
        /// Bytes that are not valid JSON or MessagePack.
        case invalidSyntax
        /// A string that is not valid UTF-8.
        case invalidUTF8
        /// A malformed number.
        case invalidNumber
        /// Nesting deeper than the reader's or writer's `maxDepth`.
        case tooDeep
        /// A cache code (`"^x"`) that refers to no cached string.
        case invalidCacheReference
        /// A Transit form with a malformed representation (`"~ix"`, `["~#set", 1]`, a tag
        /// string outside a tagged value, …).
        case invalidRepresentation
        /// A MessagePack type Transit does not use (ext types, `0xc1`).
        case unsupported
        /// Input after the single value that was asked for.
        case trailingInput
        /// A custom read or write handler threw.
        case handlerFailed
        /// A value that cannot be written (nesting too deep, a Swift value with no handler).
        case unencodable
        /// A number with more digits than the reader's `maxNumberLength`.
        case numberTooLong
    }

    /// The class of problem.
    public let kind: Kind
    /// A human-readable explanation (no position).
    public let message: String
    /// 0-based byte offset of the problem in the input (`-1` for write errors).
    public let offset: Int
    /// 1-based line of the problem in JSON input; 0 for MessagePack input and write errors.
    public let line: Int
    /// 1-based column (in Unicode scalars) in JSON input; 0 for MessagePack and write errors.
    public let column: Int

    /// Creates an error.
    public init(kind: Kind, message: String, offset: Int = -1, line: Int = 0, column: Int = 0) {
        self.kind = kind
        self.message = message
        self.offset = offset
        self.line = line
        self.column = column
    }

    /// `line:column: message` for JSON input, `byte N: message` for MessagePack input, or the
    /// bare message for write errors.
    public var description: String {
        if line > 0 { return "\(line):\(column): \(message)" }
        if offset >= 0 { return "byte \(offset): \(message)" }
        return message
    }
}

/// Reads Transit (JSON, JSON-verbose or MessagePack) into `EDNValue`s.
///
/// The JSON reader reads both JSON and JSON-verbose (and any mix of the two), as the spec
/// requires. Ground and extension types map onto `EDNValue` (`~:` keywords, `~$` symbols,
/// `~n` big integers, `~f` big decimals, `~m`/`~t` instants, `~u` UUIDs, `~r` URIs, `~c`
/// characters, `~b` bytes, `~z` special doubles, sets, lists, ratios, `cmap`s); tags with no
/// built-in or custom handler are kept as `.tagged(tag, rep)` so they round-trip. The read cache
/// is per value. Nesting deeper than `Options.maxDepth` is a typed error, never a crash.
///
/// Duplicate map keys (in `"^ "` arrays, JSON-verbose objects, MessagePack maps and `cmap`s,
/// also keys equal only once decoded, such as `"~:abc"` and its cache code `"^0"`, or `"~i1"`
/// and `"~n1"`) are not an error: the key keeps its first place and its first form and takes
/// the last value, as transit-java (`HashMap.put`) and transit-clj (`assoc!` on a transient
/// map) read them. A set keeps the first of equal members.
///
/// ```swift
/// let value = try TransitReader(format: .json).read(Array(#"["^ ","~:a",[1,2]]"#.utf8))
/// // {:a [1 2]}
/// ```
public struct TransitReader: Sendable {
    /// Reader settings.
    public struct Options: Sendable {
        /// The default `maxDepth`: 64 levels, so that reading and using the deepest value
        /// accepted fits in a 512 KB thread stack even in a debug build, where one level of
        /// a Transit map costs about 6 KB of stack (lower than `EDNReader`'s 100 for that reason).
        public static let defaultMaxDepth = 64
        /// The default `maxNumberLength`: 4 096 digits (as `EDNReader`'s).
        public static let defaultMaxNumberLength = EDNReader.Options.defaultMaxNumberLength

        /// Deepest nesting of arrays and maps accepted (default 64).
        public var maxDepth: Int
        /// Custom read handlers (tag → value); they take precedence over the built-in ones.
        public var handlers: TransitReadHandlers
        /// How cacheable strings are measured; must match the writer (default: UTF-16, as Java/JS).
        public var cacheLength: TransitCacheLength
        /// Most digits accepted in one number (`~i`, `~n`, `~d`, `~f`, the parts of a ratio, a
        /// JSON number); longer ones are refused with `.numberTooLong` before any
        /// arbitrary-precision work (default 4 096).
        public var maxNumberLength: Int

        /// Defaults: depth 64, no custom handlers, UTF-16 cache lengths, numbers of up to 4 096 digits.
        public init(maxDepth: Int = Options.defaultMaxDepth, handlers: TransitReadHandlers = TransitReadHandlers(),
                    cacheLength: TransitCacheLength = .utf16, maxNumberLength: Int = Options.defaultMaxNumberLength) {
            self.maxDepth = maxDepth
            self.handlers = handlers
            self.cacheLength = cacheLength
            self.maxNumberLength = maxNumberLength
        }
    }

    /// The encoding read (`.json` and `.jsonVerbose` read the same way).
    public let format: TransitFormat
    /// The settings in force.
    public let options: Options

    /// A reader for one encoding.
    public init(format: TransitFormat, options: Options = Options()) {
        self.format = format
        self.options = options
    }

    /// Reads exactly one value. JSON may be surrounded by whitespace; anything else after the
    /// value is a `.trailingInput` error. Empty input is an `.unexpectedEnd` error.
    public func read(_ bytes: [UInt8]) throws(TransitError) -> EDNValue {
        var stream = TransitStreamReader(bytes, format: format, options: options)
        guard let value = try stream.next() else {
            throw stream.error(.unexpectedEnd, "No Transit value in the input", at: bytes.count)
        }
        let end = stream.offset
        if try stream.hasMore() {
            throw stream.error(.trailingInput, "Input continues after the first value", at: end)
        }
        return value
    }

    /// Reads exactly one value from a string (JSON encodings).
    public func read(_ text: String) throws(TransitError) -> EDNValue {
        try read(Array(text.utf8))
    }

    /// Reads every value of a stream (JSON values separated by whitespace, or concatenated
    /// MessagePack values).
    public func readAll(_ bytes: [UInt8]) throws(TransitError) -> [EDNValue] {
        var stream = TransitStreamReader(bytes, format: format, options: options)
        var out: [EDNValue] = []
        while let v = try stream.next() { out.append(v) }
        return out
    }
}

/// Reads successive Transit values from one input: JSON values separated by whitespace (one
/// per line as `chsk pack` writes them) or concatenated MessagePack values. Each value has
/// its own read cache, as each was written by its own `write` call.
public struct TransitStreamReader: Sendable {
    /// The input bytes.
    public let bytes: [UInt8]
    /// The encoding read.
    public let format: TransitFormat
    /// The settings in force.
    public let options: TransitReader.Options
    /// Byte offset of the next unread input.
    public private(set) var offset: Int = 0

    /// A stream reader over bytes.
    public init(_ bytes: [UInt8], format: TransitFormat, options: TransitReader.Options = TransitReader.Options()) {
        self.bytes = bytes
        self.format = format
        self.options = options
    }

    /// The next value; `nil` at the end of the input (JSON: only whitespace left).
    /// After an error the stream is at its end.
    public mutating func next() throws(TransitError) -> EDNValue? {
        let start = offset
        let options = self.options
        let format = self.format
        let result: Result<(EDNValue?, Int), TransitError> = bytes.withUnsafeBufferPointer { buffer in
            do throws(TransitError) {
                if format == .msgpack {
                    if start >= buffer.count { return .success((nil, start)) }
                    var p = MsgpackDecoder(buffer: buffer, position: start, options: options)
                    let v = try p.readValue(depth: 0)
                    return .success((v, p.position))
                } else {
                    var p = JSONDecoder(buffer: buffer, position: start, options: options)
                    p.skipWhitespace()
                    if p.position >= buffer.count { return .success((nil, p.position)) }
                    let v = try p.readValue(depth: 0)
                    p.skipWhitespace()
                    return .success((v, p.position))
                }
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let (value, end)):
            offset = end
            return value
        case .failure(let e):
            offset = bytes.count
            throw e
        }
    }

    /// True when anything but (JSON) whitespace remains.
    func hasMore() throws(TransitError) -> Bool {
        if format == .msgpack { return offset < bytes.count }
        var i = offset
        while i < bytes.count {
            let b = bytes[i]
            guard b == 32 || b == 10 || b == 13 || b == 9 else { return true }
            i += 1
        }
        return false
    }

    func error(_ kind: TransitError.Kind, _ message: String, at offset: Int) -> TransitError {
        if format == .msgpack { return TransitError(kind: kind, message: message, offset: offset) }
        let (line, column) = lineAndColumn(bytes, offset)
        return TransitError(kind: kind, message: message, offset: offset, line: line, column: column)
    }
}

/// 1-based line and column (in Unicode scalars) of a byte offset.
func lineAndColumn<C: Collection>(_ bytes: C, _ offset: Int) -> (Int, Int) where C.Element == UInt8, C.Index == Int {
    var line = 1, column = 1
    var i = bytes.startIndex
    while i < offset && i < bytes.endIndex {
        let b = bytes[i]
        if b == 10 { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
        i += 1
    }
    return (line, column)
}

/// Writes `EDNValue`s as Transit JSON, JSON-verbose or MessagePack.
///
/// Output follows transit-java (the writer of the Transit exemplars) byte for byte for the same
/// value and map order: the write cache (JSON and MessagePack) assigns codes `^0`…`^[[`
/// exactly as transit-java does, top-level scalars are quoted (`["~#'", 1]`), integers beyond
/// ±(2^53−1) are `~i` strings in JSON, doubles print as Java does (`4.0E11`).
///
/// Order: transit-java/transit-clj write a collection in its own iteration order.
/// - Sets are written in Clojure's hash order (`EDNSet.clojureOrder`), as a Clojure peer
///   writes any set it has read: Clojure reads every set, from EDN or Transit, into a
///   `PersistentHashSet`. (The exemplars `set_*.json` agree.)
/// - Maps keep `EDNMap`'s insertion order. A Clojure map may be an array map, a hash map or a
///   sorted map, and the exemplars were written from sorted maps (`map_10_items.json` lists
///   `:key0000`…`:key0009` in order, where a hash map would not); chsk cannot know which kind
///   the peer held, so it keeps the order it was given. A Clojure peer that read the same
///   map of more than eight entries from EDN or Transit holds a hash map and writes it in hash
///   order: the same entries, in another order (and so other cache codes).
///
/// ```swift
/// let bytes = try TransitWriter(format: .json).write([.kw("a"): [1, 2]])
/// // ["^ ","~:a",[1,2]]
/// ```
public struct TransitWriter: Sendable {
    /// Writer settings.
    public struct Options: Sendable {
        /// Deepest nesting of collections and tagged values written (default 1 000): deeper
        /// values are an `.unencodable` error rather than a stack overflow.
        public var maxDepth: Int
        /// Custom write handlers, for `write(any:)`.
        public var handlers: TransitWriteHandlers
        /// How cacheable strings are measured; must match the reader (default: UTF-16, as Java/JS).
        public var cacheLength: TransitCacheLength

        /// Defaults: depth 1 000, no custom handlers, UTF-16 cache lengths.
        public init(maxDepth: Int = 1000, handlers: TransitWriteHandlers = TransitWriteHandlers(),
                    cacheLength: TransitCacheLength = .utf16) {
            self.maxDepth = maxDepth
            self.handlers = handlers
            self.cacheLength = cacheLength
        }
    }

    /// The encoding written.
    public let format: TransitFormat
    /// The settings in force.
    public let options: Options

    /// A writer for one encoding.
    public init(format: TransitFormat, options: Options = Options()) {
        self.format = format
        self.options = options
    }

    /// The Transit bytes of one value (with a fresh write cache).
    public func write(_ value: EDNValue) throws(TransitError) -> [UInt8] {
        var out: [UInt8] = []
        try write(value, into: &out)
        return out
    }

    /// Appends the Transit bytes of one value (with a fresh write cache) to `out`.
    public func write(_ value: EDNValue, into out: inout [UInt8]) throws(TransitError) {
        switch format {
        case .json, .jsonVerbose:
            var w = JSONEncoder(verbose: format == .jsonVerbose, options: options)
            defer { w.out.free(); w.cache.free() }
            try w.writeTop(value)
            out.append(contentsOf: w.out.bytes)
        case .msgpack:
            var w = MsgpackEncoder(options: options)
            defer { w.out.free(); w.cache.free() }
            try w.writeTop(value)
            out.append(contentsOf: w.out.bytes)
        }
    }

    /// Writes a Swift value: an `EDNValue`, a type with a registered write handler, or a
    /// common Swift value (`String`, `Bool`, integers, `Double`, `Keyword`, `Symbol`, arrays,
    /// dictionaries, sets, optionals) holding any of these. See `TransitWriteHandlers`.
    public func write(any value: Any) throws(TransitError) -> [UInt8] {
        try write(try options.handlers.value(from: value))
    }

    /// The Transit JSON / JSON-verbose text of one value.
    public func string(_ value: EDNValue) throws(TransitError) -> String {
        String(decoding: try write(value), as: UTF8.self)
    }
}
