import EDN
import Testing

struct ChatMessage: Codable, Equatable {
    var room: String
    var text: String
    var count: Int
    var score: Double?
    var tags: [String]
    var meta: [String: Int]
    var nested: Nested
    struct Nested: Codable, Equatable { var flag: Bool; var when: Instant; var extra: EDNValue }
}

enum Mood: String, Codable { case happy, sad }

@Suite struct CodableTests {
    let sample = ChatMessage(room: "lobby", text: "hi", count: 3, score: nil, tags: ["a", "b"], meta: ["x": 1],
                             nested: .init(flag: true, when: Instant(millisecondsSinceEpoch: 0), extra: [.kw("k"), 1]))

    @Test func structBecomesKeywordMap() throws {
        let v = try EDNEncoder().encode(sample)
        #expect(v[.kw("room")] == "lobby")
        #expect(v[.kw("count")] == 3)
        #expect(v[.kw("tags")] == ["a", "b"])
        #expect(v[.kw("nested")]?[.kw("when")] == .instant(Instant(millisecondsSinceEpoch: 0)))
        #expect(v[.kw("nested")]?[.kw("extra")] == [.kw("k"), 1])
        let back = try EDNDecoder().decode(ChatMessage.self, from: v)
        #expect(back == sample)
    }

    @Test func decodesFromEDNTextWithStringOrKeywordKeys() throws {
        let v = try EDNReader.read(#"{"room" "r", :text "t", :count 2N, :score 1, :tags ("x"), :meta {:y 2}, :nested {:flag false, :when #inst "2000-01-01T00:00:00Z", :extra nil}}"#)
        let m = try EDNDecoder().decode(ChatMessage.self, from: v)
        #expect(m.room == "r" && m.count == 2 && m.score == 1.0 && m.tags == ["x"] && m.meta == ["y": 2])
        #expect(m.nested.when.millisecondsSinceEpoch == 946_684_800_000)
    }

    @Test func typedErrors() {
        #expect(throws: DecodingError.self) { try EDNDecoder().decode(Int8.self, from: 300) }
        #expect(throws: DecodingError.self) { try EDNDecoder().decode(ChatMessage.self, from: [.kw("room"): "x"]) }
        #expect(throws: DecodingError.self) { try EDNDecoder().decode(String.self, from: 1) }
        #expect(throws: DecodingError.self) { try EDNDecoder().decode(Keyword.self, from: "x") }
    }

    @Test func enumsAndStringKeys() throws {
        var enc = EDNEncoder()
        enc.keyEncoding = .string
        #expect(try enc.encode(["a": Mood.happy]) == ["a": "happy"])
        #expect(try EDNDecoder().decode([Mood].self, from: ["sad"]) == [.sad])
        #expect(try EDNEncoder().encode(UInt64.max) == .bigInteger(BigInteger(UInt64.max)))
        #expect(try EDNDecoder().decode(UInt64.self, from: .bigInteger(BigInteger(UInt64.max))) == UInt64.max)
    }
}
