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

    @Test(arguments: ["[", "{\"a\":", "[\"~#t\",", "{\"~#t\":", "[\"^ \",\"a\",", "[\"~#set\",[", "[\"~#list\",", "{\"~#cmap\":["])
    func transitJSONChain(form: String) async {
        let bytes = Array(String(repeating: form, count: Self.chain).utf8)
        let kind = await onSmallStack { Self.transitErrorKind(bytes, .json) }
        #expect(kind == .tooDeep)
    }

    @Test(arguments: [[0x91], [0x81, 0xA1, 0x61], [0x92, 0xA4, 0x7E, 0x23, 0x74, 0x74], [0x81, 0xA4, 0x7E, 0x23, 0x74, 0x74],
                      [0x93, 0xA2, 0x5E, 0x20, 0xA1, 0x61], [0xDD, 0, 0, 0, 1], [0xDF, 0, 0, 0, 1, 0xA1, 0x61]] as [[UInt8]])
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
