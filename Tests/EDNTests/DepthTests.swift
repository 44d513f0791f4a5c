import EDN
import TestSupport
import Testing

/// Issue 13, item 1: every recursive path of the EDN codecs is bounded, and safe on a small
/// (512 KB) thread stack, so a recursion bug crashes these tests instead of passing by luck.
@Suite struct DepthTests {
    static let chain = 100_000

    /// Each recursive form of EDN, repeated 100 000 times, is a typed error.
    @Test(arguments: [
        ("[", EDNReadError.Kind.tooDeep), ("(", .tooDeep), ("{", .tooDeep), ("#{", .tooDeep),
        ("^{} ", .tooDeep), ("^:a ", .tooDeep), ("#tag ", .tooDeep), ("#:ns{", .tooDeep),
        ("#_ ", .unexpectedEndOfInput), ("#_", .unexpectedEndOfInput), ("[#_ ", .tooDeep), ("#_[", .tooDeep),
        ("{:a ", .tooDeep), ("#_ ^:a ", .tooDeep), ("#a ^:b #_ [", .tooDeep),
    ])
    func chainIsATypedError(form: String, kind: EDNReadError.Kind) async {
        let text = String(repeating: form, count: Self.chain)
        let got = await onSmallStack { readErrorKind(text) }
        #expect(got == kind)
    }

    /// `#_` chains cost no stack: 100 000 discards followed by 100 000 forms read fine.
    @Test func longDiscardChainIsAccepted() async {
        let text = String(repeating: "#_ ", count: Self.chain) + String(repeating: "1 ", count: Self.chain) + "2"
        let got = await onSmallStack { try? EDNReader.read(text) }
        #expect(got == 2)
        let inVector = "[" + String(repeating: "#_", count: Self.chain) + String(repeating: "[]", count: Self.chain) + "3]"
        let vector = await onSmallStack { try? EDNReader.read(inVector) }
        #expect(vector == [3])
    }

    /// The EOF error of a `#_` chain points at the last `#_`.
    @Test func discardErrorHasAnOffset() throws {
        do {
            _ = try EDNReader.read("1 #_ #_ 2")
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .unexpectedEndOfInput)
            #expect(error.offset == 5)
        }
    }

    /// The deepest value the reader accepts by default (`maxDepth` levels) reads, prints,
    /// compares, hashes, converts to JSON and decodes on a 512 KB stack.
    @Test(arguments: ["[", "(", "#{", "#tag ", "^:m ["])
    func maxDepthValueIsUsableOnASmallStack(form: String) async throws {
        let depth = EDNReader.Options().maxDepth
        let closer: String = switch form { case "(": ")"; case "#tag ": ""; default: form.hasSuffix("{") ? "}" : "]" }
        // `^:m [` is two levels (the metadata and the vector).
        let count = form == "^:m [" ? depth / 2 : depth
        let text = String(repeating: form, count: count) + "1" + String(repeating: closer, count: count)
        let printed = await onSmallStack { () -> String? in
            guard let v = try? EDNReader.read(text) else { return nil }
            // == and hash of two distinct copies, then the printer.
            guard let w = try? EDNReader.read(text), v == w, v.hashValue == w.hashValue else { return "unequal" }
            var set = EDNSet()
            _ = set.insert(v)
            guard !set.insert(w) else { return "hash" }
            // The JSON bridge's writer and the Codable decoder walk it too.
            var json: [UInt8] = []
            guard (try? JSONBridge.write(v, into: &json)) != nil || form == "#tag " else { return "json" }
            guard (try? EDNDecoder().decode(Nested.self, from: v)) != nil || form != "[" else { return "decode" }
            return EDNPrinter.string(v)
        }
        let expected = form == "^:m [" ? String(repeating: "[", count: count) + "1" + String(repeating: "]", count: count) : text
        #expect(printed == expected)
        // One level deeper is refused.
        let deeper = form + form + text + closer + closer
        let kind = await onSmallStack { readErrorKind(deeper) }
        #expect(kind == .tooDeep)
    }

    /// A set of two deep members that are equal (the duplicate check compares them in full).
    @Test func deepDuplicateSetMembers() async {
        let depth = EDNReader.Options().maxDepth - 1
        let member = String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth)
        let text = "#{" + member + " " + member + "}"
        let kind = await onSmallStack { readErrorKind(text) }
        #expect(kind == .duplicateSetMember)
    }
}

/// The kind of error reading `text` gives, or `nil` when it reads.
func readErrorKind(_ text: String) -> EDNReadError.Kind? {
    do {
        _ = try EDNReader.read(text)
        return nil
    } catch {
        return error.kind
    }
}

/// A recursive Decodable: a vector of vectors ending in an integer.
indirect enum Nested: Decodable {
    case leaf(Int)
    case node([Nested])

    init(from decoder: any Decoder) throws {
        if let leaf = try? decoder.singleValueContainer().decode(Int.self) {
            self = .leaf(leaf)
        } else {
            var items = try decoder.unkeyedContainer()
            var out: [Nested] = []
            while !items.isAtEnd { out.append(try items.decode(Nested.self)) }
            self = .node(out)
        }
    }
}
