import ChannelSocket
import EDN
import Testing
import Transit

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

    /// The frame's own vector does not count against the nesting bound: a value at exactly
    /// the packer's bound unpacks alike as v1 `-value`, v1 `+[value]` (how a 1.14 client
    /// sends), v1 `+[value cb]` and v2 `[value cb]`; one level deeper is refused in each.
    @Test(arguments: ["edn", "transit-json", "transit-json-verbose", "transit-msgpack"])
    func valueAtTheDepthBoundUnpacksInEveryFraming(packerName: String) throws {
        let packer: any Packer = switch packerName {
        case "edn": EDNPacker()
        case "transit-json": TransitPacker(format: .json)
        case "transit-json-verbose": TransitPacker(format: .jsonVerbose)
        default: TransitPacker(format: .msgpack)
        }
        let bound = packerName == "edn" ? EDNReader.Options.defaultMaxDepth : TransitReader.Options.defaultMaxDepth
        func nested(_ levels: Int) -> EDNValue {
            var v: EDNValue = [.kw("deep")]
            for _ in 1..<levels { v = [v] }
            return v
        }
        for (levels, accepted) in [(bound, true), (bound + 1, false)] {
            let value = nested(levels)
            var framings: [(String, [UInt8], WireGeneration)] = [
                ("v1 +[value]", try Framing.pack(value, generation: .v1, packer: packer, alwaysWrap: true), .v1),
                ("v1 +[value cb]", try Framing.pack(value, callbackID: "cb1", generation: .v1, packer: packer), .v1),
                ("v2 [value nil]", try Framing.pack(value, generation: .v2, packer: packer), .v2),
                ("v2 [value cb]", try Framing.pack(value, callbackID: "cb1", generation: .v2, packer: packer), .v2),
            ]
            if !packer.isBinary {
                framings.append(("v1 -value", try Framing.pack(value, generation: .v1, packer: packer), .v1))
            }
            for (name, bytes, generation) in framings {
                let frame = try? Framing.unpack(bytes, generation: generation, packer: packer)
                #expect((frame?.value == value) == accepted, "\(packerName) \(name), \(levels) levels")
            }
        }
    }

    /// Fuzz finding 5 (framing target; first byte picks packer and generation as in
    /// `Fuzz/Sources/FuzzFraming`): a v1 `-value` at the EDN depth bound unpacked but the same
    /// value sent `+[value]` was refused. Each input now unpacks, packs in its generation,
    /// and both that and the `+[value]` form unpack to the same frame.
    static let depthBoundFramingInputs = [
        "figoKCgoKCgoKCgoKCgoKCgoKCgoKCkoKCgoKCgoKCgoKCh0YWIoKSgpKCgoKCgpKSkpKSkpKSgoKCgoKCgoKCghISkpKSApKSgpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSgoKCgoKCgoKCgoKCgoKHRhYigpKCkhKSkpKSkoKCgoKCgoKCgoKCgoKCgpKCgoKCgoKCgoKCgodGFiKCkoKSgoKCgoKSkpKSkpKSkoKCgoKCgoKCgoKSEpKSkpKSkoKSgoKSgoKCgoKCgoKCgoKHRhYigpKCkoKCgoKCkpKSgoKCgoKCgoKCh0YWIoKSgpISkpKSkpKCgoKCgoKCgoKCgoKCgoKCkoKCgoKCgoKCgoKCh0YWIoKSgpKCgoKCgpKSkpKSkpKSgoKCgoKCgoKCgpISkpKSkpKSgpKSkpKSkpKSkpKSkpKSkpKSkoKCgoKCgoKHRhYigpKCkhKSkpKSktKCkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSgoKCgoKCgoKCgoKCgoKHRhYigpKCkhKSkpKSktKCkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKCgoKCgoKCgoKCkhKSkpKSkpKSgoKCgoKCgoKCgpISkpKSkpKSgpKSkpKSkpKSkpKSkpKSkpKSkpKSktKSgoKCgoKCgoKCgoKCgoKHRhYigpKSkpKSkpKSkpKSkpKSkpKSkoKCgoKCgoKCgoKCgodGFiKCkoKSEpKSkpKS0oKSkpKCgpKCgoKCgoKCgoKCgodGFiKCkoKSgoKCgoKSkpKSkpKSkoKCgoKCgoKCgoKSEpKSkpKSkoKSgoKSgoKCgoKCgoKCgoKHRhYigpKCkoKCgoKCkpKSkpKSkpKCgoKCgoKCgoKCkhKSkpKSkpKCgoKCgoKCgoKCkhKSkpKSkpKCkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKCgoKCgoKCgoKCgoKCgodGFiKCkoKSEpKSkpKSgoKCgoKCgoKCgoKCgoKCgpKCgoKCgoKCgoKCgodGFiKCkoKSgoKCgoKSkpKSkpKSkoKCgoKCgoKCgoKSEpKSkpKSkoKSkpKSkpKSkpKSkpKSkpKSkpKCgoKCgoKCh0YWIoKSgpISkpKSkpLSgpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSkoKCgoKCgoKCgoKCgoKCh0YWIoKSgpISkpKSkpLSgpKSkpKSkpKSkpKSkpKSkpKSkpKSkpKSgoKCgoKCgoKCgpISkpKSkpKSkpKSwpKSkpKSkpKSkoKSkpKSkoKCgoKChjAHo=",
        "AC0jT3B0aWdwdGlvbmcyICNuUlJSUlJJUjJSUlJSUlJSUlJSUlJSUlJSUlJwdGlvbjIgI25SUlJSUlJSUlJSUlJSUlJSUiRSMyAjcHRJUlJSUlJSUlJwdGlvbjIgI25SUlJSUlJSUlJSUlJSUlJSUiRSMyAjcHRJb24yICNuUlJSUlJJUjJSUlJSUlJSUlJwdGlvbjEgI25SUlJSUklSQlJSUlJSUiRSMyAjcHRpb24yICNuUlJSUlIzICNwdElvbjIgI25SUlJSUklSMlJSUlJSUlJSUnB0aW9uMiAjblJSUlJSSVJCUlJSUlJSJFIzICNwdGlvbjIgI25SUlIzICNwdGlvbjIgI25SUlJSUklSMlJSUjMgI3B0SW9uMiAjUlJSUlJSUlJSUlJScHRpb24yICNuUlJSUlJSUlJSUlJSUlJSUlIkUjMgI3B0SW9uMiAjblJSUlJSSVIyUlJSUlJSUlJScHRpb24xICNSUlJSUlJSUnB0aW9uMSAjblJSUlJSSVJCUlJSUlJSJFIzICNwdGlvbjIgI25SUlJSUjMgI3B0SW9uMiAjblJSUlJSSVIyUlJSUlJSUlJScHRpb24yICNuUlJSUlJJUkJSUlJSUlIkUjMgI3B0aW9uMiAjblJSUjMgI3B0aW9uMiAjblJSUlJSSVIyUlJSMyAjcFJScHRpb24yICNuUlJSUlJJUkJSUlJSUlIkUjMgI3B0aW9uMiAjblJSUjMgI3B0aW9uMiAjblJSUlJSSVIyUlJSMyAjcHRJb24yICNSUlJSUlJSUlJSUlJwdGlvbjIgI25SUlJSUlJSUlJSUlJSUlJSUiRSMyAjcHRJb24yICNuUlJSUlJJUjJSUlJSUlJSUlJwdGlvbjEgI1JSUlJSUlJScHRpb24xICNuUlJSUlJJUkJSUlJSUlIkUjMgI3B0aW9uMiAjblJSUlJSMyAjcHRJb24yICNuUlJSUlJJUjJSUlJSUlJSUlJwdGlvbjIgI25SUlJSUklSQlJSUlJSUiRSMyAjcHRpb24yICNuUlJSMyAjcHRpb24yICNuUlJSUlJJUjJSUlIzICNwdElvbjIgI1JSUlJSUlJSUlJSUnB0aW9uMiAjblJSUlJSUlJSUlJSUlJSUlJSJFIzICNwdElvbjIgI25SUlJSUklSMlJSUlJSUlJSUnB0aW9uMSAjblJSUlJSSVJCUlJSUlJSJFIzICNwdGlvbjIgI25SUlJSUklSMlJSUlJSUlJJUm9uMiAjUlJSUlJSUlJSUlJScHRpb24yICNuUlJSUlJSUlJSUlJSUlJSUlIkUjMgI3B0SW9uMiAjblJSUlJSSVIyUlJSUlJSUlJScHRpb24xICNuUlJSUlJJUkJSUlJSUlIkUjMgI3B0aW9uMiAjblJSUlJSSVIyUlJSUlJSUlJSSVIyUlJSUlJSUlJScHRpb24yICNuUlJSUlJJUlJSUlJSUlIkUjMgI3B0Z29uMiAjaW9uZzIgI25SUlJSUklSMlJSUlJSUlJSUlJYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhSUlJSUlJSUnB0aW9uMiAjblJSUlJSUlJSUlJSUlJSUlJSJFIzICNwdElvbjIgI25SUlJSUklSMlJSUlJSUlJSUnB0aW9uMiAjblJSUlJSSVJCUlJSUlJSJFIzICNwdGlvbjIgI25SUlIzICNwdGlvbjIgI25SUlJSUklSMlJSUjMgI3B0SW9uMiAjUlJSUlJSUlJSUlJScHRpb24yICNuUlJSUlJSUlJSUlJSUlJSUlIkLjMgI3B0SW9uMiAjblJSUlJSSVJuUlJSUlJJUkJSUlJSUlIkUjMgI3B0aW9uMiAjblJSUlJSSVIyUlJSUlJSUklSb24yICNSUlJSUlJSUlJSUlJwdGlvbjIgI25SUlJSUlJSUlJSUlJSUlJSUiRSMyAjcHRJb24yICNuUlJSUlJJUjJSUlJSUlJSUlJwdGlvbjEgI25SUlJSUklSQlJSUlJSUiRSMyAjcHRpb24yICNuUlJSUlJJUjJSUlJSUlJSUlJJUjJSUlJSUlJSUlJwdGlvbjIgI25SUlJSUklSUlJSUlJSUiRSMyAjcHRnb24yICNpb25nMiAjblJSUlJSSVIyUlJSUlJSUlJSUlhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhSSVIyUlJSUlJSUklSMlJSUlJSUlJSIDMz",
    ]

    @Test(arguments: depthBoundFramingInputs)
    func fuzzFramingInputsRoundTrip(base64: String) throws {
        let input = try #require(Base64.decode(base64))
        let selector = input[0], message = Array(input.dropFirst())
        let generation: WireGeneration? = switch (selector >> 2) % 3 { case 0: nil; case 1: .v1; default: .v2 }
        let packer: any Packer = switch selector % 3 {
        case 0: EDNPacker()
        case 1: TransitPacker(format: .json)
        default: TransitPacker(format: .msgpack)
        }
        let frame = try Framing.unpack(message, generation: generation, packer: packer)
        let packed = try Framing.pack(frame.value, callbackID: frame.callbackID, generation: frame.generation, packer: packer)
        #expect(try Framing.unpack(packed, generation: frame.generation, packer: packer) == frame)
        if frame.generation == .v1, frame.callbackID == nil {
            let wrapped = try Framing.pack(frame.value, generation: .v1, packer: packer, alwaysWrap: true)
            #expect(try Framing.unpack(wrapped, generation: .v1, packer: packer) == frame)
        }
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
