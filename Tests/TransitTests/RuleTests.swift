import EDN
import Testing
import Transit

@Suite struct GroundAndExtensionTypes {
    @Test func scalarsAtTheTopAreQuoted() throws {
        #expect(try text(.null) == #"["~#'",null]"#)
        #expect(try text(true) == #"["~#'",true]"#)
        #expect(try text(1) == #"["~#'",1]"#)
        #expect(try text("hello") == #"["~#'","hello"]"#)
        #expect(try text(.kw("a"), .jsonVerbose) == #"{"~#'":"~:a"}"#)
        #expect(hex(try TransitWriter(format: .msgpack).write(1)) == "92a37e232701")
        #expect(try read(#"["~#'",1]"#) == 1)
        #expect(try read(#"{"~#'":"~:a"}"#) == .kw("a"))
        // Collections are not quoted.
        #expect(try text([1, 2]) == "[1,2]")
    }

    @Test func keywordsSymbolsCharsURIsBytes() throws {
        #expect(try text([.kw("ns/name"), .sym("s"), .character("x"), .uri("http://a.b/"), .bytes([1, 2, 3])])
                == #"["~:ns/name","~$s","~cx","~rhttp://a.b/","~bAQID"]"#)
        #expect(try read(#"["~:ns/name","~$s","~cx","~rhttp://a.b/","~bAQID"]"#)
                == [.kw("ns/name"), .sym("s"), .character("x"), .uri("http://a.b/"), .bytes([1, 2, 3])])
    }

    @Test func integers() throws {
        let big = try #require(BigInteger("9223372036854775808"))
        #expect(try text([9_007_199_254_740_991, 9_007_199_254_740_992, -9_007_199_254_740_991, -9_007_199_254_740_992, .integer(.max), .integer(.min)])
                == #"[9007199254740991,"~i9007199254740992",-9007199254740991,"~i-9007199254740992","~i9223372036854775807","~i-9223372036854775808"]"#)
        #expect(try text([.bigInteger(big), .bigInteger(BigInteger(1 as Int64))]) == #"["~n9223372036854775808","~n1"]"#)
        #expect(try read(#"["~i9007199254740992",9223372036854775808,"~n1","~i99999999999999999999"]"#)
                == [9_007_199_254_740_992, .bigInteger(big), .bigInteger(BigInteger(1 as Int64)), .bigInteger(BigInteger("99999999999999999999")!)])
        // MessagePack: every int64 native, big ints as ~n.
        #expect(hex(try TransitWriter(format: .msgpack).write([127, 128, -32, -33, 65536, .integer(.min), .bigInteger(big)]))
                == "977fcc80e0d0dfce00010000d38000000000000000b57e6e39323233333732303336383534373735383038")
        #expect(try roundTrip([.integer(.max), .integer(.min), -1, 0, 255, 256, -129], .msgpack) == [.integer(.max), .integer(.min), -1, 0, 255, 256, -129])
    }

    @Test func doublesAsJavaPrintsThem() throws {
        #expect(try text([-3.14159, 4.0e11, 2.998e8, 6.626e-34, 1.0, 0.001, 1.0e-4, 1.0e7, 100.0, -0.0, 1.7976931348623157e308])
                == "[-3.14159,4.0E11,2.998E8,6.626E-34,1.0,0.001,1.0E-4,1.0E7,100.0,-0.0,1.7976931348623157E308]")
        #expect(try read("[4.0E11,6.626e-34,1.5,-0.0,1e400]") == [4.0e11, 6.626e-34, 1.5, -0.0, .double(.infinity)])
        #expect(try text([.double(.nan), .double(.infinity), .double(-.infinity)]) == #"["~zNaN","~zINF","~z-INF"]"#)
        let specials = try read(#"["~zNaN","~zINF","~z-INF"]"#)
        #expect(specials == [.double(.nan), .double(.infinity), .double(-.infinity)])
        #expect(hex(try TransitWriter(format: .msgpack).write([1.5])) == "91cb3ff8000000000000")
        #expect(throws: TransitError.self) { try read(#"["~zWAT"]"#) }
    }

    @Test func bigDecimalsAndRatios() throws {
        #expect(try text([.bigDecimal(BigDecimal("1.50")!)]) == #"["~f1.50"]"#)
        #expect(try read(#"["~f1.50"]"#) == [.bigDecimal(BigDecimal("1.5")!)])
        let third = try edn("1/3")
        #expect(try text(third) == #"["~#ratio",["~n1","~n3"]]"#)
        #expect(try read(#"["~#ratio",["~n1","~n3"]]"#) == third)
        #expect(try read(#"["~#ratio",[2,4]]"#) == (try edn("1/2")))
        #expect(throws: TransitError.self) { try read(#"["~#ratio",[1,0]]"#) }
    }

    @Test func instants() throws {
        let v: EDNValue = [.instant(Instant(millisecondsSinceEpoch: 946_728_000_000)), .instant(Instant(millisecondsSinceEpoch: -6_106_017_600_000))]
        #expect(try text(v) == #"["~m946728000000","~m-6106017600000"]"#)
        #expect(try text(v, .jsonVerbose) == #"["~t2000-01-01T12:00:00.000Z","~t1776-07-04T12:00:00.000Z"]"#)
        #expect(try read(#"["~m946728000000","~t1776-07-04T12:00:00.000Z"]"#) == v)
        #expect(hex(try TransitWriter(format: .msgpack).write([v.sequenceElements![0]])) == "9192a37e236dcf000000dc6d62da00")
        // ~#m with a string rep, as some writers send it.
        #expect(try read(#"["~#m","946728000000"]"#) == v.sequenceElements![0])
        #expect(throws: TransitError.self) { try read(#"["~tnot a date"]"#) }
    }

    @Test func uuids() throws {
        let u = EDNUUID("5a2cbea3-e8c6-428b-b525-21239370dd55")!
        #expect(try text([.uuid(u)]) == #"["~u5a2cbea3-e8c6-428b-b525-21239370dd55"]"#)
        let mp = try TransitWriter(format: .msgpack).write([.uuid(u)])
        #expect(hex(mp) == "9192a37e237592cf5a2cbea3e8c6428bd3b52521239370dd55")
        #expect(try TransitReader(format: .msgpack).read(mp) == [.uuid(u)])
        #expect(try read(#"[["~#u",[6497777973583037067,-5393868542025081515]]]"#) == [.uuid(u)])
        #expect(try read(#"[["~#u","5a2cbea3-e8c6-428b-b525-21239370dd55"]]"#) == [.uuid(u)])
        #expect(throws: TransitError.self) { try read(#"[["~#u","nope"]]"#) }
        #expect(throws: TransitError.self) { try read(#"[["~#u",[1]]]"#) }
    }

    @Test func collections() throws {
        #expect(try text([[1], .list([2]), .set([3])]) == #"[[1],["~#list",[2]],["~#set",[3]]]"#)
        #expect(try text([.list([2]), .set([3])], .jsonVerbose) == #"[{"~#list":[2]},{"~#set":[3]}]"#)
        #expect(try read(#"[[1],["~#list",[2]],["~#set",[3]],{"~#set":[4]}]"#) == [[1], .list([2]), .set([3]), .set([4])])
        // Vectors and lists stay distinct through every encoding.
        for f in TransitFormat.allCases {
            guard case .vector(let items) = try roundTrip([.list([1]), [1]], f) else { Issue.record("not a vector"); continue }
            if case .list = items[0] {} else { Issue.record("list lost in \(f)") }
            if case .vector = items[1] {} else { Issue.record("vector lost in \(f)") }
        }
    }

    @Test func maps() throws {
        let m: EDNValue = [.kw("a"): 1, "b": [.kw("c"): true]]
        #expect(try text(m) == #"["^ ","~:a",1,"b",["^ ","~:c",true]]"#)
        #expect(try text(m, .jsonVerbose) == #"{"~:a":1,"b":{"~:c":true}}"#)
        #expect(try read(#"["^ ","~:a",1,"b",["^ ","~:c",true]]"#) == m)
        #expect(try read(#"{"~:a":1,"b":{"~:c":true}}"#) == m)
        // Scalar keys of every kind go as strings in JSON, natively in MessagePack.
        let keys: EDNValue = [.null: 1, true: 2, 3: 3, 1.5: 4, .kw("k"): 5, .instant(Instant(millisecondsSinceEpoch: 7)): 6]
        #expect(try text(keys) == #"["^ ","~_",1,"~?t",2,"~i3",3,"~d1.5",4,"~:k",5,"~m7",6]"#)
        #expect(try read(try text(keys)) == keys)
        #expect(hex(try TransitWriter(format: .msgpack).write([.null: 1, 3: 3] as EDNValue)) == "82c0010303")
        for f in TransitFormat.allCases { #expect(try roundTrip(keys, f) == keys) }
    }

    @Test func compositeKeysMakeACmap() throws {
        let m: EDNValue = [.null: "null as map key", [1, 2]: "Array as key to force cmap"]
        #expect(try text(m) == #"["~#cmap",[null,"null as map key",[1,2],"Array as key to force cmap"]]"#)
        #expect(try text(m, .jsonVerbose) == #"{"~#cmap":[null,"null as map key",[1,2],"Array as key to force cmap"]}"#)
        for f in TransitFormat.allCases { #expect(try roundTrip(m, f) == m) }
        #expect(throws: TransitError.self) { try read(#"["~#cmap",[1]]"#) }
    }

    @Test func escaping() throws {
        let v: EDNValue = ["~x", "^x", "`x", "#x", "^ ", "~", "^", ""]
        #expect(try text(v) == ##"["~~x","~^x","~`x","#x","~^ ","~~","~^",""]"##)
        for f in TransitFormat.allCases { #expect(try roundTrip(v, f) == v) }
        #expect(try read(##"["~~x","~^x","~`x","#x"]"##) == ["~x", "^x", "`x", "#x"])
    }

    @Test func jsonStringEscapesAndUnicode() throws {
        let s = "a\"b\\c\n\t\u{1}\u{1F}é詹😀/"
        #expect(try text([.string(s)]) == #"["a\"b\\c\n\t\u0001\u001Fé詹😀/"]"#)
        #expect(try read(#"["a\"b\\c\n\t\u0001\u001f\u00e9詹\ud83d\ude00\/"]"#) == [.string(s)])
        for f in TransitFormat.allCases { #expect(try roundTrip([.string(s)], f) == [.string(s)]) }
    }

    @Test func unknownTagsRoundTrip() throws {
        let v: EDNValue = [.tagged("my.app/point", [1, 2]), .tagged("X", "foo"), .tagged("abcde", .kw("anything"))]
        #expect(try text(v) == #"[["~#my.app/point",[1,2]],"~Xfoo",["~#abcde","~:anything"]]"#)
        #expect(try text(v, .jsonVerbose) == #"[{"~#my.app/point":[1,2]},"~Xfoo",{"~#abcde":"~:anything"}]"#)
        for f in TransitFormat.allCases { #expect(try roundTrip(v, f) == v) }
        // A one-character tag with a string rep is a scalar: a valid map key.
        let m: EDNValue = [.tagged("X", "foo"): 1]
        #expect(try text(m) == #"["^ ","~Xfoo",1]"#)
        // link is kept as a tagged value.
        #expect(try read(#"["~#link",["^ ","href","~rhttp://x"]]"#) == .tagged("link", ["href": .uri("http://x")]))
    }

    @Test func bytesThroughEveryEncoding() throws {
        let v: EDNValue = [.bytes(Array(0...255))]
        for f in TransitFormat.allCases { #expect(try roundTrip(v, f) == v) }
        // A MessagePack bin value reads as bytes too.
        #expect(try TransitReader(format: .msgpack).read([0x91, 0xC4, 0x02, 0xAB, 0xCD]) == [.bytes([0xAB, 0xCD])])
    }
}

@Suite struct CacheRules {
    @Test func whatIsCacheable() throws {
        // Keywords/symbols/tags of ≥ 4 encoded characters anywhere; other strings only as map keys.
        #expect(try text([.kw("ab"), .kw("ab"), .kw("a"), .kw("a"), .sym("ab"), .sym("ab")]) == #"["~:ab","^0","~:a","~:a","~$ab","^1"]"#)
        #expect(try text(["abcd", "abcd"]) == #"["abcd","abcd"]"#)
        #expect(try text([["abcd": 1], ["abcd": 2], "abcd"]) == #"[["^ ","abcd",1],["^ ","^0",2],"abcd"]"#)
        #expect(try text([["abc": 1], ["abc": 2]]) == #"[["^ ","abc",1],["^ ","abc",2]]"#)
        #expect(try text([.set([]), .set([])]) == #"[["~#set",[]],["^0",[]]]"#)
        #expect(try text([.list([]), .list([])], .jsonVerbose) == #"[{"~#list":[]},{"~#list":[]}]"#)
        // Escaped and scalar-extension strings: map keys only.
        #expect(try text([["~ab": 1], ["~ab": 2], "~ab"]) == #"[["^ ","~~ab",1],["^ ","^0",2],"~~ab"]"#)
        #expect(try text([[1234: 1], [1234: 2]]) == #"[["^ ","~i1234",1],["^ ","^0",2]]"#)
        // The reader mirrors it.
        #expect(try read(#"[["^ ","abcd",1],["^ ","^0",2],"abcd"]"#) == [["abcd": 1], ["abcd": 2], "abcd"])
        #expect(try read(#"[["~#set",[]],["^0",[]]]"#) == [.set([]), .set([])])
    }

    @Test func cmapPathological() throws {
        let v = try edn(#"[{:any-value {["this vector makes this a cmap"] "any value", "any string" :victim}} {:victim :any-other-value}]"#)
        let want = #"[["^ ","~:any-value",["~#cmap",[["this vector makes this a cmap"],"any value","any string","~:victim"]]],["^ ","^2","~:any-other-value"]]"#
        #expect(try text(v) == want)
        #expect(try read(want) == v)
    }

    @Test func codesAndRollover() throws {
        func keywords(_ n: Int) -> [EDNValue] { (0..<n).map { .kw("k\(1000 + $0)") } }
        // 1936 distinct keywords fill the code space ^0 … ^[[; repeated, they are all codes.
        let v1936 = EDNValue.vector(keywords(1936) + keywords(1936))
        let out = try text(v1936)
        #expect(out.contains(#""^0","^1""#))
        #expect(out.hasSuffix(#""^[Z","^[["]"#))
        #expect(try read(out) == v1936)
        // The 1937th resets the cache: the second round is written in full.
        let v1937 = EDNValue.vector(keywords(1937) + keywords(1937))
        let out2 = try text(v1937)
        #expect(!out2.contains(#""^1""#))
        #expect(out2.contains(#""~:k1000","~:k1001""#))
        #expect(try read(out2) == v1937)
        for f in TransitFormat.allCases {
            #expect(try roundTrip(v1936, f) == v1936)
            #expect(try roundTrip(v1937, f) == v1937)
        }
        // Reading: the 1937th cacheable string starts the cache over, so ^0 then stands for it
        // and ^1 for nothing yet; the same in MessagePack.
        let names = keywords(1937).map { "\"~:\($0.keywordValue!.text)\"" }.joined(separator: ",")
        #expect(try read("[" + names + ",\"^0\"]") == .vector(keywords(1937) + [.kw("k2936")]))
        #expect(throws: TransitError.self) { try read("[" + names + ",\"^1\"]") }
        let msgpack = try TransitWriter(format: .msgpack).write(.vector(keywords(1937)))
        let withCode = [0xDC, 0x07, 0x92] + msgpack.dropFirst(3) + [0xA2, 0x5E, 0x30]   // 1938 items, the last "^0"
        #expect(try TransitReader(format: .msgpack).read(Array(withCode)) == .vector(keywords(1937) + [.kw("k2936")]))
        // Codes past 43 use two digits.
        let v50 = EDNValue.vector(keywords(50) + [.kw("k1044")])
        #expect(try text(v50).hasSuffix(#""^10"]"#))
    }

    @Test func cacheLengthUnit() throws {
        // "😀😀" is 2 code points but 4 UTF-16 units: transit-java/js cache it, transit-python does not.
        let v: EDNValue = [["😀😀": 1], ["😀😀": 2]]
        #expect(try text(v) == #"[["^ ","😀😀",1],["^ ","^0",2]]"#)
        #expect(try text(v, cache: .unicodeScalars) == #"[["^ ","😀😀",1],["^ ","😀😀",2]]"#)
        #expect(try read(#"[["^ ","😀😀",1],["^ ","~:abc",2],["^ ","^0",3]]"#) == [["😀😀": 1], [.kw("abc"): 2], ["😀😀": 3]])
        #expect(try read(#"[["^ ","😀😀",1],["^ ","~:abc",2],["^ ","^0",3]]"#, cache: .unicodeScalars) == [["😀😀": 1], [.kw("abc"): 2], [.kw("abc"): 3]])
        // Non-ASCII but within the BMP: the two units agree (é is one unit and one scalar).
        #expect(try text([["éé": 1], ["ééé": 2], ["éééé": 3], ["éééé": 4]]) == #"[["^ ","éé",1],["^ ","ééé",2],["^ ","éééé",3],["^ ","^0",4]]"#)
    }

    @Test func cacheIsPerValue() throws {
        var stream = TransitStreamReader(Array("[\"~:abc\",\"^0\"]\n[\"~:xyz\",\"^0\"]\n".utf8), format: .json)
        #expect(try stream.next() == [.kw("abc"), .kw("abc")])
        #expect(try stream.next() == [.kw("xyz"), .kw("xyz")])
        #expect(try stream.next() == nil)
    }

    @Test func badCacheCodes() {
        for bad in [#"["^0"]"#, #"["^"]"#, #"["^abc"]"#, #"["~:abcd","^1"]"#, #"["^ ~"]"#] {
            #expect(throws: TransitError.self, "\(bad)") { try read(bad) }
        }
        do {
            _ = try read(#"["~:abcd","^1"]"#)
        } catch {
            #expect(error.kind == .invalidCacheReference)
        }
    }
}

@Suite struct ReaderErrors {
    func error(_ json: String) -> TransitError? {
        do { _ = try read(json); return nil } catch { return error }
    }

    func mpError(_ bytes: [UInt8]) -> TransitError? {
        do { _ = try TransitReader(format: .msgpack).read(bytes); return nil } catch { return error }
    }

    @Test func jsonErrorsHavePositions() throws {
        let e = try #require(error("[1,\n  2,\n  x]"))
        #expect(e.kind == .invalidSyntax)
        #expect(e.line == 3 && e.column == 3 && e.offset == 11)
        #expect(error("[1, 2")?.kind == .unexpectedEnd)
        #expect(error("")?.kind == .unexpectedEnd)
        #expect(error("[1] [2]")?.kind == .trailingInput)
        #expect(error("[01]")?.kind == .invalidNumber)
        #expect(error("[1.]")?.kind == .invalidNumber)
        #expect(error(#"["\ud800"]"#)?.kind == .invalidUTF8)
        #expect(error(#"["\q"]"#)?.kind == .invalidSyntax)
        #expect(error("[\"a\u{1}\"]")?.kind == .invalidSyntax)
        #expect(error(#"["~#set",1]"#)?.kind == .invalidRepresentation)
        #expect(error(#"["~#set"]"#)?.kind == .invalidRepresentation)
        #expect(error(#"["~#set",[],[]]"#)?.kind == .invalidRepresentation)
        #expect(error(#"["~ifoo"]"#)?.kind == .invalidRepresentation)
        #expect(error(#"["~cab"]"#)?.kind == .invalidRepresentation)
        #expect(error(#"["~uxyz"]"#)?.kind == .invalidRepresentation)
        #expect(error(#"["^ ","a"]"#)?.kind == .invalidRepresentation)
        #expect(error(#"[1,"~#set"]"#)?.kind == .invalidRepresentation)
        #expect(error(#"{"~#set":[],"a":1}"#)?.kind == .invalidRepresentation)
        #expect(try read(" [1] \n") == [1])
        // A typed error describes itself with line:column.
        #expect(error("[\n x]")?.description == "2:2: Unexpected character in JSON")
    }

    @Test func invalidUTF8() {
        let bytes: [UInt8] = [0x5B, 0x22, 0xC3, 0x28, 0x22, 0x5D]
        #expect(throws: TransitError.self) { try TransitReader(format: .json).read(bytes) }
        #expect(throws: TransitError.self) { try TransitReader(format: .msgpack).read([0xA2, 0xC3, 0x28]) }
    }

    @Test func msgpackErrorsHaveOffsets() throws {
        let e = try #require(mpError([0x92, 0x01]))
        #expect(e.kind == .unexpectedEnd && e.line == 0 && e.offset == 2)
        #expect(mpError([0xC1])?.kind == .unsupported)
        #expect(mpError([0xD4, 0x01, 0x02])?.kind == .unsupported)
        #expect(mpError([0xDD, 0xFF, 0xFF, 0xFF, 0xFF])?.kind == .unexpectedEnd)   // no 4G-element allocation
        #expect(mpError([0x01, 0x02])?.kind == .trailingInput)
        #expect(mpError([])?.kind == .unexpectedEnd)
        #expect(mpError([0x91, 0xA2, 0x5E, 0x30])?.kind == .invalidCacheReference)
        #expect(mpError([0x92, 0xA3, 0x7E, 0x23, 0x75, 0x01])?.kind == .invalidRepresentation)
    }

    @Test func nestingLimit() throws {
        let max = TransitReader.Options.defaultMaxDepth
        let ok = String(repeating: "[", count: max) + String(repeating: "]", count: max)
        #expect(throws: Never.self) { try read(ok) }
        let deep = String(repeating: "[", count: max + 1) + String(repeating: "]", count: max + 1)
        #expect(error(deep)?.kind == .tooDeep)
        // Far deeper than any stack: still a typed error.
        #expect(error(String(repeating: "[", count: 200_000))?.kind == .tooDeep)
        #expect(error(String(repeating: "{\"a\":", count: 200_000))?.kind == .tooDeep)
        #expect(mpError([UInt8](repeating: 0x91, count: 200_000) + [0x01])?.kind == .tooDeep)
        #expect(mpError([UInt8](repeating: 0x81, count: 200_000))?.kind == .tooDeep)
        let custom = TransitReader(format: .json, options: .init(maxDepth: 2))
        #expect(throws: TransitError.self) { try custom.read(Array("[[[1]]]".utf8)) }
        #expect(try custom.read(Array("[[1]]".utf8)) == [[1]])
    }

    @Test func writerDepthLimit() {
        var v: EDNValue = 1
        for _ in 0..<1500 { v = [v] }
        for f in TransitFormat.allCases {
            #expect(throws: TransitError.self) { try TransitWriter(format: f).write(v) }
        }
    }
}

@Suite struct Streams {
    @Test func jsonPayloadsOnePerLine() throws {
        let w = TransitWriter(format: .json)
        var bytes: [UInt8] = []
        let values: [EDNValue] = [[.kw("a"): 1], .kw("abc"), [.kw("abc"), .kw("abc")], .null]
        for v in values { bytes += try w.write(v); bytes.append(10) }
        #expect(try TransitReader(format: .json).readAll(bytes) == values)
        #expect(try TransitReader(format: .json).readAll(Array("  \n".utf8)) == [])
    }

    @Test func msgpackConcatenated() throws {
        let w = TransitWriter(format: .msgpack)
        var bytes: [UInt8] = []
        let values: [EDNValue] = [[.kw("a"): 1], .kw("abc"), [.kw("abc"), .kw("abc")], .null, .set([1])]
        for v in values { bytes += try w.write(v) }
        var stream = TransitStreamReader(bytes, format: .msgpack)
        var got: [EDNValue] = []
        while let v = try stream.next() { got.append(v) }
        #expect(got == values)
        #expect(stream.offset == bytes.count)
    }

    @Test func errorStopsTheStream() throws {
        var stream = TransitStreamReader(Array("[1]\n[2\n[3]".utf8), format: .json)
        #expect(try stream.next() == [1])
        #expect(throws: TransitError.self) { try stream.next() }
        #expect(try stream.next() == nil)
    }
}

@Suite struct RoundTrips {
    static let sample: EDNValue = {
        try! EDNReader.read(#"""
        {:a [1 -1 0 9007199254740992 -9223372036854775808 18446744073709551616N 1.5 -0.0 ##NaN ##Inf 1.50M 2/3]
         "s" #{"~tilde" "^hat" "`tick" "#hash" "" "ünï😀" \c \newline}
         nil {[1 2] (3 4), {:x 1} #{:y}}
         true [#inst "1776-07-04T12:00:00.000-00:00" #uuid "5a2cbea3-e8c6-428b-b525-21239370dd55" #uri "http://x" #bytes "AQID"]
         :ns/kw (sym ns/sym #my/tag [1 {:b 2}] #x "y")
         1 {nil nil, true false, 2.5 3, #inst "2000-01-01T00:00:00.000-00:00" :at}}
        """#)
    }()

    @Test func everyEncoding() throws {
        for f in TransitFormat.allCases {
            #expect(try roundTrip(Self.sample, f) == Self.sample, "\(f)")
        }
    }

    @Test func amongEncodingsAndEDN() throws {
        for a in TransitFormat.allCases {
            let once = try roundTrip(Self.sample, a)
            for b in TransitFormat.allCases { #expect(try roundTrip(once, b) == Self.sample) }
            #expect(try EDNReader.read(EDNPrinter.string(once)) == Self.sample)
        }
    }

    @Test func jsonReaderReadsVerboseAndMixed() throws {
        let verbose = try TransitWriter(format: .jsonVerbose).write(Self.sample)
        #expect(try TransitReader(format: .json).read(verbose) == Self.sample)
        #expect(try read(#"[{"~:a":["^ ","~:b",{"~#set":[1]}]}]"#) == [[.kw("a"): [.kw("b"): .set([1])]]])
    }

    @Test func writeIntoAppends() throws {
        var out: [UInt8] = Array("x".utf8)
        try TransitWriter(format: .json).write([1], into: &out)
        #expect(out == Array("x[1]".utf8))
    }
}
