/// Why a value has no EDN text that reads back as the same value.
///
/// Clojure's `pr-str` prints such values anyway (`:` for an empty keyword,
/// `#inst "10000-01-01T…"`), and neither Clojure's reader nor chsk's reads that text back
/// as the value. `EDNPrinter.checkedBytes(_:)` refuses them with this error instead; the
/// plain `EDNPrinter.string(_:)`/`bytes(_:)` print exactly what `pr-str` prints.
public struct EDNPrintError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of problem, for programmatic handling.
    public enum Kind: String, Sendable, Equatable {
        /// A keyword whose text is no valid EDN keyword (`""`, `"a b"`, `"a/"`, `"1"`…),
        /// as Transit (`"~:"`) or the JSON bridge can carry.
        case unreadableKeyword
        /// A symbol whose text is no valid EDN symbol, or reads as something else (`nil`, `1`).
        case unreadableSymbol
        /// A character that does not read back after `\` (a whitespace or control character
        /// other than the named ones).
        case unreadableCharacter
        /// A tagged value whose tag is no valid EDN tag, or one the reader turns into another
        /// kind (`#inst`, `#uuid`, `#uri`, `#bytes` with a payload of theirs).
        case unreadableTag
        /// An instant outside the years 0001–9999, which `#inst` cannot carry.
        case instantOutOfRange
    }

    /// The class of problem.
    public let kind: Kind
    /// A human-readable explanation.
    public let message: String

    /// Creates an error.
    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

extension EDNPrinter {
    /// The value as compact EDN bytes, or an error when some part of it has no EDN text that
    /// reads back as that part (see `EDNPrintError`): the printer for anything that must
    /// round-trip (`chsk pack`/`unpack`, packers).
    public static func checkedBytes(_ value: EDNValue) throws(EDNPrintError) -> [UInt8] {
        try checkReadable(value)
        return bytes(value)
    }

    /// Throws when some part of `value` prints as text that does not read back as that part.
    public static func checkReadable(_ value: EDNValue) throws(EDNPrintError) {
        switch value {
        case .null, .bool, .integer, .bigInteger, .double, .bigDecimal, .ratio, .string, .uuid, .uri, .bytes:
            return
        case .keyword(let k):
            if !isPlainName(k.text) && !readsBack(value) {
                throw EDNPrintError(kind: .unreadableKeyword,
                                    message: "keyword \(quoted(k.text)) has no EDN form (it would print as \(EDNPrinter.string(value)))")
            }
        case .symbol(let s):
            if !isPlainName(s.text) && !readsBack(value) || isConstantName(s.text) {
                throw EDNPrintError(kind: .unreadableSymbol,
                                    message: "symbol \(quoted(s.text)) has no EDN form (it would print as \(EDNPrinter.string(value)))")
            }
        case .character(let c):
            if !(c.value > 0x20 && c.value < 0x7F) && !readsBack(value) {
                throw EDNPrintError(kind: .unreadableCharacter,
                                    message: "character U+\(String(c.value, radix: 16, uppercase: true)) has no EDN form")
            }
        case .instant(let t):
            if !t.isReadable {
                throw EDNPrintError(kind: .instantOutOfRange,
                                    message: "instant \(t.millisecondsSinceEpoch) ms is outside the years 0001-9999 that #inst can carry (Clojure would print \(EDNPrinter.string(value)))")
            }
        case .list(let items), .vector(let items):
            for item in items { try checkReadable(item) }
        case .set(let s):
            for item in s.elements { try checkReadable(item) }
        case .map(let m):
            for item in m.entries { try checkReadable(item) }
        case .tagged(let tag, let form):
            try checkReadable(form)
            if ["inst", "uuid", "uri", "bytes"].contains(tag.text) {
                // The reader handles these tags itself (`#inst "…"` is an instant, not a tagged value).
                if readsBack(value) { return }
                throw EDNPrintError(kind: .unreadableTag,
                                    message: "#\(tag.text) \(EDNPrinter.string(form)) does not read back as a tagged value")
            }
            // The tag on a form no built-in tag takes: a valid tag reads back as itself.
            let probe = EDNValue.tagged(tag, .vector([]))
            guard readsBack(probe) else {
                throw EDNPrintError(kind: .unreadableTag, message: "tag \(quoted(tag.text)) is no valid EDN tag")
            }
        }
    }

    /// True when the printed text of `value` (an atom or a tag) reads back as an identical value.
    static func readsBack(_ value: EDNValue) -> Bool {
        guard let back = try? EDNReader.read(bytes(value)) else { return false }
        return back.isIdentical(to: value)
    }

    /// A fast yes for the common names: ASCII letters first, then letters, digits and `-_.?!*`,
    /// with at most one inner `/` followed by a letter. (Anything else is checked by reading.)
    static func isPlainName(_ text: String) -> Bool {
        var utf8 = text.utf8.makeIterator()
        guard let first = utf8.next(), isLetter(first) else { return false }
        var afterSlash = false
        var sawSlash = false
        var previous = first
        while let b = utf8.next() {
            if b == UInt8(ascii: "/") {
                if sawSlash { return false }
                sawSlash = true
                afterSlash = true
            } else if afterSlash {
                guard isLetter(b) else { return false }
                afterSlash = false
            } else {
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                     UInt8(ascii: "?"), UInt8(ascii: "!"), UInt8(ascii: "*"):
                    break
                default:
                    if !isLetter(b) { return false }
                }
            }
            previous = b
        }
        return previous != UInt8(ascii: "/")
    }

    @inline(__always) static func isLetter(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
    }

    /// `nil`, `true`, `false`: symbols of these names print as the constants.
    static func isConstantName(_ text: String) -> Bool {
        text == "nil" || text == "true" || text == "false"
    }

    static func quoted(_ s: String) -> String { EDNPrinter.string(.string(s)) }
}
