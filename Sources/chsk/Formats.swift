import ArgumentParser
import ChannelSocket
import EDN
import Transit

/// The payload formats of `--packer`.
enum PackerName: String, ExpressibleByArgument, CaseIterable {
    case edn
    case transitJSON = "transit-json"
    case transitJSONVerbose = "transit-json-verbose"
    case transitMsgpack = "transit-msgpack"

    static var allValueStrings: [String] { allCases.map(\.rawValue) }

    /// The packer object, or a one-line error for formats this build lacks.
    func makePacker(transitCache: TransitCacheOption = .utf16) throws -> any Packer {
        let unit: TransitCacheLength = transitCache == .scalars ? .unicodeScalars : .utf16
        func transit(_ format: TransitFormat) -> TransitPacker {
            TransitPacker(format: format, writerOptions: .init(cacheLength: unit), readerOptions: .init(cacheLength: unit))
        }
        switch self {
        case .edn: return EDNPacker()
        case .transitJSON: return transit(.json)
        case .transitJSONVerbose: return transit(.jsonVerbose)
        case .transitMsgpack: return transit(.msgpack)
        }
    }
}

/// `--transit-cache`: how Transit's cache measures a string's length (writer and reader must
/// agree; they differ only for characters beyond U+FFFF).
enum TransitCacheOption: String, ExpressibleByArgument, CaseIterable {
    /// UTF-16 code units: transit-java and transit-js, i.e. Clojure and ClojureScript peers.
    case utf16
    /// Unicode code points: transit-python.
    case scalars
}

/// The human-side formats of `--from` / `--to`.
enum HumanFormat: String, ExpressibleByArgument, CaseIterable {
    case edn
    case json
}

/// `--frame`: which Sente framing wraps each payload.
enum FrameOption: String, ExpressibleByArgument, CaseIterable {
    case none
    case auto
    case v1
    case v2

    var generation: WireGeneration? {
        switch self {
        case .v1: .v1
        case .v2: .v2
        case .none, .auto: nil
        }
    }
}

/// Parses `--cb`: `0` → 0, `:ajax` → keyword, `"x"` → string, `nil` → nil, anything else a string.
func parseCallbackID(_ text: String) -> EDNValue {
    if let v = try? EDNReader.read(text) {
        switch v {
        case .integer, .bigInteger, .keyword, .string, .null: return v
        default: break
        }
    }
    return .string(text)
}

/// Splits a payload stream of the given packer into single payloads: EDN and Transit JSON
/// streams are values separated by whitespace (one per line as `pack` writes them).
struct ValueSource {
    let label: String
    let bytes: [UInt8]
}

/// Prints an error with its source label and position: `file:line:column: message`.
func describe(_ error: any Error, source: String) -> String {
    switch error {
    case let e as EDNReadError: return "\(source):\(e.line):\(e.column): \(e.message)"
    case let e as JSONBridge.Error where e.line > 0: return "\(source):\(e.line):\(e.column): \(e.message)"
    case let e as TransitError where e.line > 0: return "\(source):\(e.line):\(e.column): \(e.message)"
    case let e as TransitError where e.offset >= 0: return "\(source): byte \(e.offset): \(e.message)"
    default: return "\(source): \(error)"
    }
}
