import EDN
import Foundation
import TestSupport
import Transit

/// Writes a value and returns the text (JSON kinds).
func text(_ value: EDNValue, _ format: TransitFormat = .json, cache: TransitCacheLength = .utf16) throws(TransitError) -> String {
    String(decoding: try TransitWriter(format: format, options: .init(cacheLength: cache)).write(value), as: UTF8.self)
}

/// Reads Transit JSON text.
func read(_ json: String, cache: TransitCacheLength = .utf16) throws(TransitError) -> EDNValue {
    try TransitReader(format: .json, options: .init(cacheLength: cache)).read(Array(json.utf8))
}

/// Reads EDN text.
func edn(_ text: String) throws -> EDNValue { try EDNReader.read(text) }

/// Writes with `format` and reads back.
func roundTrip(_ value: EDNValue, _ format: TransitFormat) throws(TransitError) -> EDNValue {
    try TransitReader(format: format).read(try TransitWriter(format: format).write(value))
}

/// Hex of bytes, for MessagePack expectations.
func hex(_ bytes: [UInt8]) -> String {
    bytes.map { b in (b < 16 ? "0" : "") + String(b, radix: 16) }.joined()
}

/// Bytes from hex.
func unhex(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = s.utf8.makeIterator()
    while let a = it.next(), let b = it.next() {
        out.append(UInt8(String(decoding: [a, b], as: UTF8.self), radix: 16)!)
    }
    return out
}

/// The Transit exemplar corpus (cognitect/transit-format `examples/0.8/simple`), read from
/// `../shared/conformance/transit-exemplars` relative to the package root.
enum Corpus {
    static let root: String = Checkout.shared.appendingPathComponent("conformance/transit-exemplars/0.8").path

    static var simple: String { root + "/simple" }

    static let available: Bool = FileManager.default.fileExists(atPath: root + "/simple/nil.edn")

    /// Exemplar names (files `NAME.edn`), sorted.
    static let names: [String] = {
        guard let items = try? FileManager.default.contentsOfDirectory(atPath: root + "/simple") else { return [] }
        return items.filter { $0.hasSuffix(".edn") }.map { String($0.dropLast(4)) }.sorted()
    }()

    static func bytes(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    static func file(_ name: String, _ ext: String) -> [UInt8]? { bytes(simple + "/" + name + ext) }

    /// The expected value of an exemplar: its `.edn` file, where Clojure's printed
    /// `#object[java.net.URI …]` stands for a URI. `maps_unrecognized_keys.edn` holds printed
    /// TaggedValue objects with no EDN form: its value is given here.
    static func expected(_ name: String) throws -> EDNValue {
        if name == "maps_unrecognized_keys" {
            return .vector([.tagged("abcde", .kw("anything")), .tagged("fghij", .kw("anything-else"))])
        }
        let text = String(decoding: file(name, ".edn") ?? [], as: UTF8.self)
        return normalizeURIs(try EDNReader.read(text))
    }

    static func normalizeURIs(_ v: EDNValue) -> EDNValue {
        switch v {
        case .tagged(let t, .vector(let parts)) where t.text == "object" && parts.count == 3 && parts[0] == .sym("java.net.URI"):
            if case .string(let s) = parts[2] { return .uri(s) }
            return v
        case .vector(let a): return .vector(a.map(normalizeURIs))
        default: return v
        }
    }
}

/// Deterministic PRNG (SplitMix64) for the fuzz tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
