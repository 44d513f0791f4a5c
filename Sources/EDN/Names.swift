/// A Clojure keyword (`:name` or `:ns/name`). Stored as its text without the colon so
/// printing and hashing are a single string operation.
public struct Keyword: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// `ns/name` or `name`, without the leading colon.
    public let text: String

    /// A keyword from `"ns/name"` or `"name"` (no colon). The text is not validated: use the
    /// EDN reader for untrusted input.
    public init(_ text: String) { self.text = text }

    /// A keyword from a namespace and a name.
    public init(namespace: String?, name: String) {
        self.text = namespace.map { "\($0)/\(name)" } ?? name
    }

    public init(stringLiteral value: String) {
        self.text = value.hasPrefix(":") ? String(value.dropFirst()) : value
    }

    /// The namespace part, if any (`"ns"` of `:ns/name`).
    public var namespace: String? { splitName(text).namespace }
    /// The name part (`"name"` of `:ns/name`).
    public var name: String { splitName(text).name }
    /// `:ns/name`, as EDN prints it.
    public var description: String { ":" + text }

    public static func < (a: Keyword, b: Keyword) -> Bool { a.text < b.text }
}

/// A Clojure symbol (`name` or `ns/name`).
public struct Symbol: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// `ns/name` or `name`.
    public let text: String

    /// A symbol from `"ns/name"` or `"name"`. The text is not validated.
    public init(_ text: String) { self.text = text }

    /// A symbol from a namespace and a name.
    public init(namespace: String?, name: String) {
        self.text = namespace.map { "\($0)/\(name)" } ?? name
    }

    public init(stringLiteral value: String) { self.text = value }

    /// The namespace part, if any.
    public var namespace: String? { splitName(text).namespace }
    /// The name part.
    public var name: String { splitName(text).name }
    /// The symbol as EDN prints it.
    public var description: String { text }

    public static func < (a: Symbol, b: Symbol) -> Bool { a.text < b.text }
}

/// Splits at the first `/` unless the text is `/` itself (`foo//` → `foo` + `/`).
func splitName(_ text: String) -> (namespace: String?, name: String) {
    let u = text.utf8
    guard text != "/", let slash = u.firstIndex(of: UInt8(ascii: "/")), slash != u.startIndex else {
        return (nil, text)
    }
    return (String(text[..<slash]), String(text[u.index(after: slash)...]))
}
