import EDN
import Foundation
import Testing

/// `EDNDecoder().decode(T.self, from: bytes)`: straight from EDN text into `Decodable` types,
/// with the tree reader's rules, bounds and errors.
@Suite struct TypedBytesTests {
    struct Attachment: Codable, Equatable {
        var name: String
        var size: Int
    }

    struct Chat: Codable, Equatable {
        var id: Int64
        var room: String
        var text: String
        var sentAt: Instant
        var tags: [String]
        var attachments: [Attachment]
        var replyTo: Int?
        var score: Double
    }

    static let chat = Chat(id: 42, room: "lobby", text: "hi \"there\" ü ✓\n", sentAt: Instant(millisecondsSinceEpoch: 1_700_000_000_123),
                           tags: ["a", "b"], attachments: [Attachment(name: "x.png", size: 1024)], replyTo: nil, score: 0.5)

    func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try EDNDecoder().decode(type, from: Array(text.utf8))
    }

    @Test func roundTripsThroughBytes() throws {
        let bytes = try EDNEncoder().encodeBytes(Self.chat)
        #expect(try EDNDecoder().decode(Chat.self, from: bytes) == Self.chat)
        // The tree path agrees.
        #expect(try EDNDecoder().decode(Chat.self, from: EDNReader.read(bytes)) == Self.chat)
        // Any collection of bytes (here not contiguous) decodes the same.
        #expect(try EDNDecoder().decode(Chat.self, from: bytes.lazy.map { $0 }) == Self.chat)
    }

    @Test func readsWhatClojureWrites() throws {
        let text = """
            ; a comment
            {:id 42, :room "lobby" :text "hi" :sentAt #inst "2023-11-14T22:13:20.123-00:00"
             :tags ("a" #_ "dropped" "b") :attachments [{"name" "x.png" :size 1024 :extra {:ignored #{1 2}}}]
             :replyTo nil :score 1/2 :unknown #my/tag [1 2]}
            """
        let chat = try decode(Chat.self, text)
        #expect(chat.sentAt == Instant(millisecondsSinceEpoch: 1_700_000_000_123))
        #expect(chat.tags == ["a", "b"])
        #expect(chat.attachments == [Attachment(name: "x.png", size: 1024)])
        #expect(chat.score == 0.5)
        #expect(chat.replyTo == nil)
    }

    struct Model: Codable, Equatable {
        var kw: Keyword
        var sym: Symbol
        var inst: Instant
        var uuid: EDNUUID
        var big: BigInteger
        var dec: BigDecimal
        var set: Set<String>
        var char: EDNValue
        var any: EDNValue
        var u64: UInt64
        var i8: Int8
    }

    @Test func mapsEachEDNTypeToItsDocumentedSwiftType() throws {
        let m = try decode(Model.self, """
            {:kw :my-app/chat :sym foo/bar :inst #inst "2020-01-01T00:00:00.000-00:00"
             :uuid #uuid "550e8400-e29b-41d4-a716-446655440000" :big 123456789012345678901234567890N
             :dec 1.50M :set #{"x" "y"} :char \\a :any {:a [1 2.5 "s"]} :u64 18446744073709551615 :i8 -128}
            """)
        #expect(m.kw == Keyword("my-app/chat"))
        #expect(m.sym == Symbol("foo/bar"))
        #expect(m.inst == Instant(millisecondsSinceEpoch: 1_577_836_800_000))
        #expect(m.uuid == EDNUUID("550e8400-e29b-41d4-a716-446655440000"))
        #expect(m.big == BigInteger("123456789012345678901234567890", radix: 10))
        #expect(m.dec == BigDecimal("1.50"))
        #expect(m.set == ["x", "y"])
        #expect(m.char == .character("a"))
        #expect(m.any == [.kw("a"): [1, 2.5, "s"]])
        #expect(m.u64 == .max)
        #expect(m.i8 == -128)
        // Encoded and decoded again: the same.
        #expect(try EDNDecoder().decode(Model.self, from: EDNEncoder().encodeBytes(m)) == m)
        if case .ratio(let r) = try EDNReader.read("1/3") { #expect(try decode(Ratio.self, "1/3") == r) } else { Issue.record("1/3 is no ratio") }
        #expect(try decode([String: Int].self, #"{"a" 1 :b 2}"#) == ["a": 1, "b": 2])
        #expect(try decode(Int?.self, "") == nil)
        #expect(try decode([Int?].self, "[1 nil 3]") == [1, nil, 3])
    }

    @Test func aMismatchNamesItsCodingPath() throws {
        do {
            _ = try decode(Chat.self, #"{:id 1 :room "r" :text "t" :sentAt #inst "2020-01-01T00:00:00Z" :tags [] :score 1 :attachments [{:name "a" :size 1} {:name "b" :size "big"}]}"#)
            Issue.record("decoded a mismatch")
        } catch let DecodingError.typeMismatch(_, context) {
            #expect(context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue } == ["attachments", "1", "size"])
            #expect(context.debugDescription.contains("Expected an integer"))
        }
        do {
            _ = try decode(Attachment.self, #"{:name "a"}"#)
            Issue.record("decoded a missing key")
        } catch let DecodingError.keyNotFound(key, _) {
            #expect(key.stringValue == "size")
        }
        #expect(throws: DecodingError.self) { try decode(Int8.self, "128") }
        #expect(throws: DecodingError.self) { try decode([Int].self, "{:a 1}") }
        #expect(throws: DecodingError.self) { try decode(Attachment.self, "[1 2]") }
    }

    /// Byte decoding gives the same error as the tree path for the same mismatch.
    @Test func errorsMatchTheTreePath() throws {
        let text = #"{:id 1 :room "r" :text 5}"#
        var bytesError = "", treeError = ""
        do { _ = try decode(Chat.self, text) } catch { bytesError = "\(error)" }
        do { _ = try EDNDecoder().decode(Chat.self, from: EDNReader.read(text)) } catch { treeError = "\(error)" }
        #expect(!bytesError.isEmpty)
        #expect(bytesError == treeError)
    }

    @Test func craftedInputGivesTypedErrors() throws {
        func kind(_ text: String, _ options: EDNReader.Options = .init()) -> EDNReadError.Kind? {
            do { _ = try EDNDecoder(readerOptions: options).decode(EDNValue.self, from: Array(text.utf8)); return nil } catch let e as EDNReadError { return e.kind } catch { return nil }
        }
        #expect(kind(String(repeating: "[", count: 100_000)) == .tooDeep)
        #expect(kind(String(repeating: "{:a ", count: 500)) == .tooDeep)
        #expect(kind("[" + String(repeating: "1", count: 5000) + "]") == .numberTooLong)
        #expect(kind("{:a 1 :a 2}") == .duplicateKey)
        #expect(kind("{[1] 1 [1] 2}") == .duplicateKey)
        #expect(kind("#{1 1}") == .duplicateSetMember)
        #expect(kind("{:a}") == .oddMapForms)
        #expect(kind("[1 2") == .unexpectedEndOfInput)
        #expect(kind("1 2") == .trailingInput)
        #expect(kind("[1 2]]") == .unmatchedDelimiter)   // as EDNReader.read: the next form is read first
        #expect(kind("#inst \"x\"") == .invalidTag)
        #expect(kind("[1] \"\\q\"") == .invalidEscape)   // the trailing form's own error, as EDNReader.read
        #expect(kind("\"\\q\"") == .invalidEscape)
        #expect(kind("[1 2 3]", .init(maxDepth: 0)) == .tooDeep)
        #expect(kind("[[1]]", .init(maxDepth: 1)) == .tooDeep)
        #expect(kind("[1]", .init(maxDepth: 1)) == nil)
        // The same bounds as the tree reader: the deepest accepted nesting reads both ways.
        let deepest = String(repeating: "[", count: 101) + String(repeating: "]", count: 101)
        #expect((try? EDNReader.read(deepest)) != nil)
        #expect(kind(deepest) == nil)
        #expect(kind("[" + deepest + "]") == .tooDeep)
        // Every case errs as the tree reader does.
        for text in ["[1 2]]", "1 2", "{:a 1 :a 2}", "#{1 1}", "{:a}", "[1 2", "\"\\q\"", "#:ns{:a 1 :ns/a 2}", "^:m 1", "#foo", "{#{1} 1 #{1} 2}"] {
            var tree: EDNReadError.Kind?
            do { _ = try EDNReader.read(text) } catch { tree = error.kind }
            #expect(kind(text) == tree, "\(text)")
        }
    }

    /// A map with many keys costs linear time, as a dictionary and as a struct.
    @Test func bigMapsDecodeInLinearTime() throws {
        let n = 50_000
        var text = "{"
        for i in 0..<n { text += ":k\(i) \(i) " }
        text += ":size 7 :name \"x\"}"
        let clock = ContinuousClock()
        let start = clock.now
        let dict = try decode([String: EDNValue].self, text)
        let attachment = try decode(Attachment.self, text)
        #expect(dict.count == n + 2)
        #expect(attachment == Attachment(name: "x", size: 7))
        #expect(clock.now - start < .seconds(10))
        // Duplicates among many keys are found too.
        #expect(throws: EDNReadError.self) { try decode([String: EDNValue].self, text.replacingOccurrences(of: ":k1 1 ", with: ":k2 1 ")) }
    }
}
