import EDN
import TestSupport
import Testing
import Transit

/// Issue 13, item 1 for Transit and the JSON bridge: each recursive form repeated 100 000
/// times is a typed error, and the deepest accepted value reads and writes, all on a 512 KB
/// thread stack (a recursion bug crashes the test).
@Suite struct TransitDepthTests {
    static let chain = 100_000

    static func transitErrorKind(_ bytes: [UInt8], _ format: TransitFormat) -> TransitError.Kind? {
        do {
            _ = try TransitReader(format: format).read(bytes)
            return nil
        } catch {
            return error.kind
        }
    }

    static func jsonErrorKind(_ bytes: [UInt8]) -> JSONBridge.Error.Kind? {
        do {
            _ = try JSONBridge.readAll(bytes)
            return nil
        } catch {
            return error.kind
        }
    }

    @Test(arguments: ["[", "{\"a\":", "[\"~#t\",", "{\"~#t\":", "[\"^ \",\"a\",", "[\"~#set\",[", "[\"~#list\",", "{\"~#cmap\":[",
                      "[\"~#set\",", "[\"~#list\",[\"^ \",", "{\"~#cmap\":[\"~#set\","])
    func transitJSONChain(form: String) async {
        let bytes = Array(String(repeating: form, count: Self.chain).utf8)
        let kind = await onSmallStack { Self.transitErrorKind(bytes, .json) }
        #expect(kind == .tooDeep)
    }

    @Test(arguments: [[0x91], [0x81, 0xA1, 0x61], [0x92, 0xA4, 0x7E, 0x23, 0x74, 0x74], [0x81, 0xA4, 0x7E, 0x23, 0x74, 0x74],
                      [0x93, 0xA2, 0x5E, 0x20, 0xA1, 0x61], [0xDD, 0, 0, 0, 1], [0xDF, 0, 0, 0, 1, 0xA1, 0x61],
                      [0x92, 0xA5, 0x7E, 0x23, 0x73, 0x65, 0x74], [0x92, 0xA5, 0x7E, 0x23, 0x73, 0x65, 0x74, 0x91]] as [[UInt8]])
    func transitMsgpackChain(form: [UInt8]) async {
        var chain: [UInt8] = []
        for _ in 0..<Self.chain { chain += form }
        let bytes = chain
        let kind = await onSmallStack { Self.transitErrorKind(bytes, .msgpack) }
        #expect(kind == .tooDeep)
    }

    @Test(arguments: ["[", "{\"a\":", "[1,{\"a\":"])
    func jsonBridgeChain(form: String) async {
        let bytes = Array(String(repeating: form, count: Self.chain).utf8)
        let kind = await onSmallStack { Self.jsonErrorKind(bytes) }
        #expect(kind == .tooDeep)
    }

    /// A map with collection keys read in native form (`["^ ", [1], v]`, a msgpack map) is
    /// written `["~#cmap", [...]]`, a level more for it and all it holds; the readers count it
    /// so. Before, ~33+ such maps nested read, wrote, and their written form was refused
    /// (fuzz finding 4). Now the deepest native nest accepted (31: the innermost key is at
    /// 2 × 31 + 1 = 63 written) writes and reads back equal on a 512 KB stack in every
    /// encoding; 32 is refused on the first read.
    @Test(arguments: [TransitFormat.json, .msgpack])
    func nativeMapsWithCollectionKeysCountAsWritten(input: TransitFormat) async {
        func native(_ maps: Int) -> [UInt8] {
            if input == .json {
                return Array((String(repeating: "[\"^ \",[1],", count: maps) + "1" + String(repeating: "]", count: maps)).utf8)
            }
            return Array(repeating: [0x81, 0x91, 0x01], count: maps).flatMap { $0 } + [0x01]
        }
        let fits = (TransitReader.Options.defaultMaxDepth - 1) / 2
        let deepest = native(fits), deeper = native(fits + 1)
        let outcome = await onSmallStack { () -> String in
            do {
                let value = try TransitReader(format: input).read(deepest)
                for format in TransitFormat.allCases {
                    let written = try TransitWriter(format: format).write(value)
                    guard try TransitReader(format: format).read(written) == value else { return "\(format): differs" }
                }
            } catch {
                return "\(error)"
            }
            return Self.transitErrorKind(deeper, input) == .tooDeep ? "ok" : "\(fits + 1) maps were not refused"
        }
        #expect(outcome == "ok")
    }

    /// The deepest value accepted by default reads, is compared and is written back in every
    /// encoding on a 512 KB stack; one level more is refused.
    @Test(arguments: TransitFormat.allCases)
    func maxDepthValueOnASmallStack(format: TransitFormat) async throws {
        let depth = TransitReader.Options.defaultMaxDepth
        var value: EDNValue = .vector([.kw("a"), 1.5, "x"])
        for level in 1..<depth { value = level % 2 == 0 ? .vector([value, 1]) : .map([.kw("k"): value]) }
        let input = value
        let outcome = await onSmallStack { () -> String in
            let bytes: [UInt8]
            do { bytes = try TransitWriter(format: format).write(input) } catch { return "write: \(error)" }
            let back: EDNValue
            do { back = try TransitReader(format: format).read(bytes) } catch { return "read: \(error)" }
            var json: [UInt8] = []
            do { try JSONBridge.write(back, into: &json); _ = try JSONBridge.readAll(json) } catch { return "json: \(error)" }
            return back == input && EDNPrinter.string(back) == EDNPrinter.string(input) ? "ok" : "differs: " + String(EDNPrinter.string(back).drop(while: { $0 == "[" || $0 == "{" || $0 == ":" || $0 == "k" || $0 == " " }).prefix(60)) + " vs " + String(EDNPrinter.string(input).prefix(60))
        }
        #expect(outcome == "ok")
        let deeper: EDNValue = .vector([value, .vector([])])
        let kind = await onSmallStack { () -> TransitError.Kind? in
            guard let bytes = try? TransitWriter(format: format).write(deeper) else { return nil }
            return Self.transitErrorKind(bytes, format)
        }
        #expect(kind == .tooDeep)
    }
}
