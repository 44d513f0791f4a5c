import EDN
import Synchronization

/// What writing a value as plain JSON loses: JSON has strings, numbers, arrays and objects
/// with string keys, so other EDN kinds are written as one of those and do not read back as
/// they were (see `JSONBridge.write`). The policy of every JSON output of chsk (`convert --to
/// json`, `unpack --to json`, the `--json` of the client commands): the output is written, and each kind lost is named once per
/// run in a warning on stderr. Keyword and string map keys are JSON's own keys (read back as
/// keywords, or as strings with `--no-keywordize`), lists are arrays (a list and a vector of
/// the same items are equal in Clojure), so neither is warned about.
enum JSONLoss: Int, CaseIterable, Comparable {
    case ratio, bigNumber, set, keyword, symbol, character, instant, uuid, uri, bytes, tagged, nonStringKey, keyCollision

    static func < (a: JSONLoss, b: JSONLoss) -> Bool { a.rawValue < b.rawValue }

    /// The warning's text, after `lossy JSON: `.
    var message: String {
        switch self {
        case .ratio: "ratios written as doubles (1/3 → 0.3333333333333333)"
        case .bigNumber: "N and M numbers and integers beyond ±2^53 written as plain numbers (1.5M → 1.5; readers using doubles round big ones)"
        case .set: "sets written as arrays (#{1} → [1])"
        case .keyword: "keywords written as strings (:a/b → \"a/b\")"
        case .symbol: "symbols written as strings (a/b → \"a/b\")"
        case .character: "characters written as strings (\\a → \"a\")"
        case .instant: "#inst written as RFC 3339 strings"
        case .uuid: "#uuid written as strings"
        case .uri: "URIs written as strings"
        case .bytes: "bytes written as base64 strings"
        case .tagged: "tagged values written without their tag (#my/tag [1] → [1])"
        case .nonStringKey: "map keys other than strings and keywords written as their EDN text ({1 :a} → {\"1\":\"a\"})"
        case .keyCollision: "map keys that are the same JSON string written twice ({:a 1 \"a\" 2} → {\"a\":1,\"a\":2})"
        }
    }

    /// Every kind that writing `value` as JSON loses.
    static func of(_ value: EDNValue) -> Set<JSONLoss> {
        var found: Set<JSONLoss> = []
        collect(value, into: &found)
        return found
    }

    private static let exactDoubleLimit: Int64 = 1 << 53

    private static func collect(_ value: EDNValue, into found: inout Set<JSONLoss>) {
        switch value {
        case .null, .bool, .double, .string: break
        case .integer(let i): if i > exactDoubleLimit || i < -exactDoubleLimit { found.insert(.bigNumber) }
        case .bigInteger, .bigDecimal: found.insert(.bigNumber)
        case .ratio: found.insert(.ratio)
        case .character: found.insert(.character)
        case .keyword: found.insert(.keyword)
        case .symbol: found.insert(.symbol)
        case .instant: found.insert(.instant)
        case .uuid: found.insert(.uuid)
        case .uri: found.insert(.uri)
        case .bytes: found.insert(.bytes)
        case .tagged(_, let inner):
            found.insert(.tagged)
            collect(inner, into: &found)
        case .list(let items), .vector(let items):
            for item in items { collect(item, into: &found) }
        case .set(let s):
            found.insert(.set)
            for item in s.elements { collect(item, into: &found) }
        case .map(let m):
            var names: Set<String> = []
            var count = 0
            for (k, v) in m {
                count += 1
                switch k {
                case .string(let s): names.insert(s)
                case .keyword(let kw): names.insert(kw.text)
                default:
                    found.insert(.nonStringKey)
                    names.insert(k.jsonKeyText)
                }
                collect(v, into: &found)
            }
            if names.count < count { found.insert(.keyCollision) }
        }
    }
}

extension EDNValue {
    /// The JSON key text `JSONBridge.write` gives a map key.
    var jsonKeyText: String {
        switch self {
        case .string(let s): s
        case .keyword(let k): k.text
        case .symbol(let s): s.text
        default: EDNPrinter.string(self)
        }
    }
}

/// Kinds of lossy JSON already named in this run (each kind is named once).
let warnedJSONLosses = Mutex<Set<JSONLoss>>([])

/// Names on stderr (or through `warn`) each kind of value that writing `value` as JSON loses
/// and that this run has not named yet: `chsk: warning: lossy JSON: …`.
func reportJSONLosses(_ value: EDNValue, warn: (String) -> Void = { printError($0) }) {
    let found = JSONLoss.of(value)
    guard !found.isEmpty else { return }
    let new = warnedJSONLosses.withLock { warned in
        let new = found.subtracting(warned)
        warned.formUnion(new)
        return new
    }
    for kind in new.sorted() { warn("warning: lossy JSON: \(kind.message)") }
}

/// Writes values as JSON (`convert --to json`, `unpack --to json`), naming what JSON loses.
struct JSONOutput {
    /// Indented output (two spaces a level).
    var pretty: Bool

    /// The JSON text of `value` (no newline); throws for values with no JSON form (`##NaN`).
    func bytes(_ value: EDNValue) throws -> [UInt8] {
        var out: [UInt8] = []
        try JSONBridge.write(value, into: &out)
        reportJSONLosses(value)
        return pretty ? Array(indentJSON(String(decoding: out, as: UTF8.self)).utf8) : out
    }
}
