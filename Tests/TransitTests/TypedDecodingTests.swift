import EDN
import Foundation
import TestSupport
import Testing
import Transit

/// The byte decoders (`EDNDecoder`/`TransitDecoder` `.decode(T.self, from: bytes)`) against
/// the tree path (read an `EDNValue`, then `EDNDecoder().decode(T.self, from: value)`): the
/// same values, the same accepted and refused inputs, with the same errors.
@Suite struct TypedDecodingTests {
    typealias Writer = RoundTripPropertyTests.Writer

    /// A value decoded through the `Decoder` containers only (keyed, unkeyed, single), the
    /// way `Decodable` types see the data.
    indirect enum Shape: Decodable, Equatable {
        case null, bool(Bool), int(Int64), double(Double), string(String), array([Shape]), object([String: Shape]), other(String)

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            if let c = try? decoder.container(keyedBy: Key.self) {
                var d: [String: Shape] = [:]
                for key in c.allKeys { d[key.stringValue] = try c.decode(Shape.self, forKey: key) }
                self = .object(d)
            } else if var u = try? decoder.unkeyedContainer() {
                var a: [Shape] = []
                while !u.isAtEnd { a.append(try u.decode(Shape.self)) }
                self = .array(a)
            } else {
                let c = try decoder.singleValueContainer()
                if c.decodeNil() { self = .null }
                else if let b = try? c.decode(Bool.self) { self = .bool(b) }
                else if let i = try? c.decode(Int64.self) { self = .int(i) }
                else if let d = try? c.decode(Double.self) { self = .double(d.isNaN ? 0.123456 : d) }
                else if let s = try? c.decode(String.self) { self = .string(s) }
                else { self = .other("\(try c.decode(EDNValue.self))") }
            }
        }
    }

    /// What the byte path and the tree path make of the same bytes.
    enum Result: Equatable {
        case value(EDNValue, Shape?)
        case readError(String)
        case decodeError

        static func == (a: Result, b: Result) -> Bool {
            switch (a, b) {
            case (.value(let x, let s), .value(let y, let t)): RoundTripPropertyTests.same(x, y) && s == t
            case (.readError(let x), .readError(let y)): x == y
            case (.decodeError, .decodeError): true
            default: false
            }
        }
    }

    static func kind(_ error: any Error) -> String? {
        if let e = error as? EDNReadError { return "edn \(e.kind)" }
        if let e = error as? TransitError { return "transit \(e.kind)" }
        return nil
    }

    static func viaBytes(_ bytes: [UInt8], _ writer: Writer) -> Result {
        do {
            let v: EDNValue
            let s: Shape?
            switch writer {
            case .edn:
                v = try EDNDecoder().decode(EDNValue.self, from: bytes)
                s = try? EDNDecoder().decode(Shape.self, from: bytes)
            default:
                let d = TransitDecoder(format: format(writer))
                v = try d.decode(EDNValue.self, from: bytes)
                s = try? d.decode(Shape.self, from: bytes)
            }
            return .value(v, s)
        } catch {
            return kind(error).map(Result.readError) ?? .decodeError
        }
    }

    static func viaTree(_ bytes: [UInt8], _ writer: Writer) -> Result {
        do {
            let v = writer == .edn ? try EDNReader.read(bytes) : try TransitReader(format: format(writer)).read(bytes)
            return .value(v, try? EDNDecoder().decode(Shape.self, from: v))
        } catch {
            return kind(error).map(Result.readError) ?? .decodeError
        }
    }

    static func format(_ w: Writer) -> TransitFormat {
        switch w {
        case .json: .json
        case .jsonVerbose: .jsonVerbose
        default: .msgpack
        }
    }

    static func written(_ v: EDNValue, _ writer: Writer) -> [UInt8]? {
        writer == .edn ? try? EDNPrinter.checkedBytes(v) : try? TransitWriter(format: format(writer)).write(v)
    }

    @Test(arguments: Writer.allCases)
    func bytesAndTreeAgreeOnRandomValues(_ writer: Writer) {
        var rng = SplitMix64(seed: 0x7E9E_D0C5)
        var failures = 0
        for _ in 0..<1000 {
            var gen = Generator(rng: rng)
            let value = gen.value(depth: 0)
            rng = gen.rng
            guard let bytes = Self.written(value, writer) else { continue }
            let tree = Self.viaTree(bytes, writer), direct = Self.viaBytes(bytes, writer)
            if tree != direct {
                failures += 1
                if failures <= 3 { Issue.record("\(writer): \(String(decoding: bytes.prefix(300), as: UTF8.self)): tree \(tree), bytes \(direct)") }
            }
        }
        #expect(failures == 0)
    }

    /// The tape of a value already read (how the router and the client decode events)
    /// decodes as the tree decoder does: the same values, the same errors.
    @Test func tapeOfATreeDecodesAsTheTreeDecoder() {
        var rng = SplitMix64(seed: 0x7A9E_0F7E)
        var failures = 0
        /// nil when both agree, else what each gave.
        func disagreement<T: Decodable & Equatable>(_ type: T.Type, _ v: EDNValue) -> String? {
            let tape = Swift.Result { try TapeDecoder.decode(type, fromTree: v) }
            let tree = Swift.Result { try EDNDecoder().decode(type, from: v) }
            switch (tape, tree) {
            case (.success(let a), .success(let b)) where a == b: return nil
            case (.failure(let a), .failure(let b)) where "\(a)" == "\(b)": return nil
            default: return "\(T.self): tape \(tape), tree \(tree)"
            }
        }
        for _ in 0..<1000 {
            var gen = Generator(rng: rng)
            let value = gen.value(depth: 0)
            rng = gen.rng
            let problems = [disagreement(Shape.self, value), disagreement([String: Int].self, value), disagreement([Double].self, value),
                            disagreement([String].self, value), disagreement(Attachment.self, value), disagreement([Int?].self, value)]
            for case let problem? in problems {
                failures += 1
                if failures <= 3 { Issue.record("\(EDNPrinter.string(value).prefix(300)): \(problem.prefix(600))") }
            }
        }
        #expect(failures == 0)
    }

    /// Damaged input (bytes flipped, cut, inserted, duplicated): both paths refuse it with
    /// the same error, or read the same value.
    @Test(arguments: Writer.allCases)
    func bytesAndTreeAgreeOnDamagedInput(_ writer: Writer) {
        var rng = SplitMix64(seed: 0xBAD_1DEA)
        var failures = 0
        let specials: [UInt8] = Array("[]{}()#:^\"\\~ ,;_01-.NM/".utf8) + [0x80, 0x90, 0xC0, 0xDC, 0xDE, 0xA3]
        for _ in 0..<1500 {
            var gen = Generator(rng: rng)
            let value = gen.value(depth: 0)
            rng = gen.rng
            guard var bytes = Self.written(value, writer), !bytes.isEmpty else { continue }
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 4 {
                case 0: bytes[at] = specials[Int(rng.next() % UInt64(specials.count))]
                case 1: bytes.removeSubrange(at...)
                case 2: bytes.insert(specials[Int(rng.next() % UInt64(specials.count))], at: at)
                default: bytes.insert(contentsOf: bytes[at...].prefix(8), at: at)
                }
                if bytes.isEmpty { break }
            }
            let tree = Self.viaTree(bytes, writer), direct = Self.viaBytes(bytes, writer)
            if tree != direct {
                failures += 1
                if failures <= 3 { Issue.record("\(writer): \(String(decoding: bytes.prefix(300), as: UTF8.self)) \(bytes.prefix(40)): tree \(tree), bytes \(direct)") }
            }
        }
        #expect(failures == 0)
    }

    @Test func bytesAndTreeAgreeOnTheEDNCorpus() throws {
        let inputs = EDNCorpus.inputs
        try #require(inputs.count > 100, "the EDN corpus (shared/conformance/edn-corpus) is missing")
        for input in inputs {
            let bytes = Array(input.utf8)
            #expect(Self.viaTree(bytes, .edn) == Self.viaBytes(bytes, .edn), "\(input.prefix(200))")
        }
    }

    @Test func bytesAndTreeAgreeOnTheTransitExemplars() throws {
        try #require(Corpus.available, "the Transit exemplars (shared/conformance/transit-exemplars) are missing")
        var checked = 0
        for name in Corpus.names {
            for (ext, writer) in [(".json", Writer.json), (".verbose.json", .jsonVerbose), (".mp", .msgpack)] {
                guard let bytes = Corpus.file(name, ext) else { continue }
                #expect(Self.viaTree(bytes, writer) == Self.viaBytes(bytes, writer), "\(name)\(ext)")
                checked += 1
            }
        }
        #expect(checked > 100)
    }

    // MARK: stack

    /// Crafted chains are typed errors, and the deepest values accepted decode (as an
    /// `EDNValue` and through the containers), on a small (512 KB) thread stack.
    @Test(arguments: Writer.allCases)
    func byteDecodersAreSafeOnASmallStack(_ writer: Writer) async {
        let chain: [UInt8]
        let deepest: EDNValue
        switch writer {
        case .edn:
            chain = Array(String(repeating: "[{:a ", count: 100_000).utf8)
            deepest = (0..<99).reduce(EDNValue.vector([1])) { v, _ in .vector([v]) }
        case .msgpack:
            chain = [UInt8](repeating: 0x91, count: 100_000)
            deepest = (0..<(TransitReader.Options.defaultMaxDepth - 1)).reduce(EDNValue.vector([1])) { v, _ in .vector([v]) }
        default:
            chain = Array(String(repeating: #"["^ ","~:a","#, count: 100_000).utf8)
            deepest = (0..<(TransitReader.Options.defaultMaxDepth - 1)).reduce(EDNValue.vector([1])) { v, _ in .vector([v]) }
        }
        let chainRefused = await onSmallStack { if case .readError = Self.viaBytes(chain, writer) { true } else { false } }
        #expect(chainRefused)
        guard let bytes = Self.written(deepest, writer) else {
            Issue.record("the deepest value was not written")
            return
        }
        let decoded = await onSmallStack { Self.viaBytes(bytes, writer) }
        guard case .value(let v, let shape) = decoded else {
            Issue.record("\(writer): the deepest value did not decode: \(decoded)")
            return
        }
        #expect(v == deepest)
        #expect(shape != nil)
        let viaTree = await onSmallStack { (try? TapeDecoder.decode(Shape.self, fromTree: deepest)) != nil }
        #expect(viaTree)
    }

    // MARK: typed Transit

    struct Attachment: Codable, Equatable, Hashable {
        var name: String
        var size: Int
    }

    struct Chat: Codable, Equatable {
        var id: Int64
        var room: Keyword
        var text: String
        var sentAt: Instant
        var uuid: EDNUUID
        var big: BigInteger
        var tags: Set<String>
        var attachments: [Attachment]
        var replyTo: Int?
    }

    static let chat = Chat(id: 7, room: "chat/lobby", text: "~hi ^ ` ✓", sentAt: Instant(millisecondsSinceEpoch: 1_700_000_000_123),
                           uuid: EDNUUID("550e8400-e29b-41d4-a716-446655440000")!, big: BigInteger("123456789012345678901234567890", radix: 10)!,
                           tags: ["a", "b"], attachments: [Attachment(name: "x", size: 1), Attachment(name: "y", size: 2)], replyTo: nil)

    @Test(arguments: TransitFormat.allCases)
    func roundTripsThroughTransitBytes(_ format: TransitFormat) throws {
        let bytes = try TransitEncoder(format: format).encode(Self.chat)
        #expect(try TransitDecoder(format: format).decode(Chat.self, from: bytes) == Self.chat)
        #expect(try EDNDecoder().decode(Chat.self, from: TransitReader(format: format).read(bytes)) == Self.chat)
    }

    @Test func honoursTheReadCache() throws {
        // Keys are cached as they are first read ("^0" = :name, "^1" = :size), inside the
        // message, across nesting, and a cached keyword can be a value.
        let text = #"[["^ ","~:name","x","~:size",1],["^ ","^0","y","^1",2],["^ ","^0","~:size","^1",3]]"#
        let out = try TransitDecoder(format: .json).decode([EDNValue].self, from: Array(text.utf8))
        #expect(out[2] == [.kw("name"): .kw("size"), .kw("size"): 3])
        let two = #"[["^ ","~:name","x","~:size",1],["^ ","^0","y","^1",2]]"#
        let attachments = try TransitDecoder(format: .json).decode([Attachment].self, from: Array(two.utf8))
        #expect(attachments == [Attachment(name: "x", size: 1), Attachment(name: "y", size: 2)])
        #expect(throws: TransitError.self) { try TransitDecoder(format: .json).decode([Attachment].self, from: Array(#"[["^ ","^0","x"]]"#.utf8)) }
        // Duplicate keys keep the last value, as TransitReader does.
        #expect(try TransitDecoder(format: .json).decode(Attachment.self, from: Array(#"["^ ","~:name","a","~:size",1,"~:name","b"]"#.utf8))
                == Attachment(name: "b", size: 1))
    }

    @Test func aTransitMismatchNamesItsCodingPath() throws {
        let text = #"["^ ","~:attachments",[["^ ","~:name","a","~:size","big"]]]"#
        struct Holder: Decodable { var attachments: [Attachment] }
        do {
            _ = try TransitDecoder(format: .json).decode(Holder.self, from: Array(text.utf8))
            Issue.record("decoded a mismatch")
        } catch let DecodingError.typeMismatch(_, context) {
            #expect(context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue } == ["attachments", "0", "size"])
        }
    }

    @Test func craftedTransitGivesTypedErrors() throws {
        func kind(_ text: String, _ format: TransitFormat = .json) -> TransitError.Kind? {
            do { _ = try TransitDecoder(format: format).decode(EDNValue.self, from: Array(text.utf8)); return nil } catch let e as TransitError { return e.kind } catch { return nil }
        }
        #expect(kind(String(repeating: "[", count: 100_000)) == .tooDeep)
        #expect(kind(String(repeating: #"["^ ","a","#, count: 100)) == .tooDeep)
        #expect(kind("[" + String(repeating: "1", count: 5000) + "]") == .numberTooLong)
        #expect(kind(#"["~i"# + String(repeating: "1", count: 5000) + #""]"#) == .numberTooLong)
        #expect(kind(#"["^5"]"#) == .invalidCacheReference)
        #expect(kind("") == .unexpectedEnd)
        #expect(kind("[1] 2") == .trailingInput)
        #expect(kind(#"["~#set",[1],2]"#) == .invalidRepresentation)
        let deepMsgpack = [UInt8](repeating: 0x91, count: 100_000) + [0x01]
        #expect(throws: TransitError.self) { try TransitDecoder(format: .msgpack).decode(EDNValue.self, from: deepMsgpack) }
        // A big map decodes in linear time.
        var text = #"["^ ""#
        for i in 0..<50_000 { text += #","~:k\#(i)",\#(i)"# }
        text += "]"
        let start = ContinuousClock.now
        #expect(try TransitDecoder(format: .json).decode([String: Int].self, from: Array(text.utf8)).count == 50_000)
        #expect(ContinuousClock.now - start < .seconds(10))
    }
}
