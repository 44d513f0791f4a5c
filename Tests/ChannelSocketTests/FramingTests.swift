import ChannelSocket
import EDN
import Testing

@Suite struct FramingTests {
    let packer = EDNPacker()

    @Test func v1PlainAndWrapped() throws {
        let ev: EDNValue = [.kw("my/ev"), [.kw("a"): 1]]
        #expect(String(decoding: try Framing.pack(ev, generation: .v1, packer: packer), as: UTF8.self) == "-[:my/ev {:a 1}]")
        let wrapped = try Framing.pack(ev, callbackID: "a1b2c3", generation: .v1, packer: packer)
        #expect(String(decoding: wrapped, as: UTF8.self) == "+[[:my/ev {:a 1}] \"a1b2c3\"]")
        let alwaysWrapped = try Framing.pack(ev, generation: .v1, packer: packer, alwaysWrap: true)
        #expect(String(decoding: alwaysWrapped, as: UTF8.self) == "+[[:my/ev {:a 1}]]")
        let frame = try Framing.unpack(wrapped, packer: packer)
        #expect(frame == Frame(value: ev, callbackID: "a1b2c3", generation: .v1))
        let plain = try Framing.unpack(Array("-[:chsk/ws-ping]".utf8), packer: packer)
        #expect(plain == Frame(value: [.kw("chsk/ws-ping")], callbackID: nil, generation: .v1))
        let noCb = try Framing.unpack(Array("+[[:my/ev]]".utf8), packer: packer)
        #expect(noCb.callbackID == nil)
        #expect(noCb.value == [.kw("my/ev")])
    }

    @Test func v2Framing() throws {
        let packed = try Framing.pack([.kw("chsk/handshake"), ["alice", .null, .null]], generation: .v2, packer: packer)
        #expect(String(decoding: packed, as: UTF8.self) == "[[:chsk/handshake [\"alice\" nil nil]] nil]")
        let reply = try Framing.unpack(Array("[{:ok true} \"a1b2c3\"]".utf8), packer: packer)
        #expect(reply == Frame(value: [.kw("ok"): true], callbackID: "a1b2c3", generation: .v2))
        // 1.18–1.20 clients send [ev] without the nil.
        let short = try Framing.unpack(Array("[[:my/ev]]".utf8), packer: packer)
        #expect(short == Frame(value: [.kw("my/ev")], callbackID: nil, generation: .v2))
        #expect(Framing.detectGeneration(Array("[1 nil]".utf8)) == .v2)
        #expect(Framing.detectGeneration(Array("-1".utf8)) == .v1)
    }

    @Test func badFramesAreTypedErrors() {
        #expect(throws: FramingError.self) { try Framing.unpack(Array("{:a".utf8), packer: packer) }
        #expect(throws: FramingError.self) { try Framing.unpack(Array(":x".utf8), generation: .v2, packer: packer) }
        #expect(throws: FramingError.self) { try Framing.unpack(Array("+:x".utf8), packer: packer) }
    }

    @Test func formDecodingOfQueriesAndBodies() {
        let d = FormDecoding.decode("a=1&b=x%20y+z&handshake%3F=1&empty=&novalue&&c=%zz&a=2&ppstr=%5B%5B%3Aa%2Fb%5D%20nil%5D&u=%C3%A9")
        #expect(d == ["a": "2", "b": "x y z", "handshake?": "1", "empty": "", "novalue": "", "c": "%zz",
                      "ppstr": "[[:a/b] nil]", "u": "é"])
        #expect(FormDecoding.decode("") == [:])
        #expect(FormDecoding.decode(FormDecoding.escape("k") + "=" + FormDecoding.escape("a&b=c d/é")) == ["k": "a&b=c d/é"])
    }

    /// A packer that keeps `Packer`'s default `packFramed` (pack, then concatenate).
    struct PlainEDN: Packer {
        var name: String { "edn" }
        var isBinary: Bool { false }
        func pack(_ value: EDNValue) throws -> [UInt8] { try EDNPacker().pack(value) }
        func unpack(_ payload: [UInt8]) throws -> EDNValue { try EDNPacker().unpack(payload) }
    }

    @Test func ednPackersOneBufferFramingEqualsPackingThePair() throws {
        let values: [EDNValue] = [.null, "x\"y", [.kw("a"): [1, 2.5, .set([.kw("k")])]], [.kw("chsk/handshake"), ["u", .null, .null]], .keyword("chsk/ws-ping")]
        let cbs: [EDNValue?] = [nil, .null, "a1b2c3", 0, .keyword("ajax")]
        for v in values {
            for cb in cbs {
                for generation in WireGeneration.allCases {
                    let fast = try Framing.pack(v, callbackID: cb, generation: generation, packer: EDNPacker())
                    let plain = try Framing.pack(v, callbackID: cb, generation: generation, packer: PlainEDN())
                    #expect(fast == plain, "\(v) \(String(describing: cb)) \(generation)")
                }
            }
        }
    }
}
