/// Why EDN text could not be read, and where.
public struct EDNReadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The class of problem, for programmatic handling.
    public enum Kind: String, Sendable, Equatable {
        /// Input ended inside a form (`[1 2`, `"abc`, `#_` at the end).
        case unexpectedEndOfInput
        /// A `)`, `]` or `}` with no matching opener, or the wrong closer.
        case unmatchedDelimiter
        /// A token that is no valid symbol, keyword or constant (`a/b/c`, `:`, `::a`, `@x`).
        case invalidToken
        /// A token that starts like a number but is none (`09`, `1.5.5`, `-4cats`, `1/0`).
        case invalidNumber
        /// A bad character literal (`\itstoolong`, `\ud800`).
        case invalidCharacter
        /// A bad escape inside a string (`"\q"`, a lone surrogate).
        case invalidEscape
        /// A map with an odd number of forms.
        case oddMapForms
        /// The same key twice in a map.
        case duplicateKey
        /// The same member twice in a set.
        case duplicateSetMember
        /// A bad `#tag`, `##` symbolic value, or `#inst`/`#uuid` payload.
        case invalidTag
        /// A tag with no reader, when the reader was told to reject unknown tags.
        case unknownTag
        /// Metadata that is not a map, keyword, symbol or string, or on a value that takes none.
        case invalidMetadata
        /// Bytes that are not UTF-8.
        case invalidUTF8
        /// Nesting deeper than `EDNReader.Options.maxDepth`.
        case tooDeep
        /// Input after the single value that was asked for.
        case trailingInput
        /// A number with more digits than `EDNReader.Options.maxNumberLength`.
        case numberTooLong
    }

    /// The class of problem.
    public let kind: Kind
    /// A human-readable explanation (no position).
    public let message: String
    /// 1-based line of the offending input.
    public let line: Int
    /// 1-based column (in Unicode scalars) of the offending input.
    public let column: Int
    /// 0-based byte offset of the offending input.
    public let offset: Int

    /// Creates an error; `line`/`column` are computed by the reader.
    public init(kind: Kind, message: String, line: Int, column: Int, offset: Int) {
        self.kind = kind
        self.message = message
        self.line = line
        self.column = column
        self.offset = offset
    }

    /// `line:column: message`.
    public var description: String { "\(line):\(column): \(message)" }
}
