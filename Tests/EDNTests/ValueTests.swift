import EDN
import Testing

@Suite struct ValueTests {
    @Test func clojureEquality() {
        #expect(EDNValue.integer(1) == .bigInteger(BigInteger(1 as Int64)))
        #expect(EDNValue.integer(1) != .double(1))
        #expect(EDNValue.list([1, 2]) == .vector([1, 2]))
        #expect(EDNValue.double(0) == .double(-0.0))
        #expect(EDNValue.double(.nan) == .double(.nan))
        #expect(EDNValue.bigDecimal(BigDecimal("1.0")!) == .bigDecimal(BigDecimal("1.00")!))
        #expect(EDNValue.bigDecimal(BigDecimal("1")!) != .integer(1))
        var hashes = Set<EDNValue>()
        hashes.insert(.integer(1)); hashes.insert(.bigInteger(BigInteger(1 as Int64)))
        hashes.insert(.list([1])); hashes.insert(.vector([1]))
        #expect(hashes.count == 2)
        let m1: EDNValue = [.kw("a"): 1, .kw("b"): 2]
        let m2: EDNValue = [.kw("b"): 2, .kw("a"): 1]
        #expect(m1 == m2 && m1.hashValue == m2.hashValue)
        #expect(EDNValue.set([1, 2]) == .set([2, 1]))
    }

    @Test func identityIsStricterThanEquality() {
        #expect(EDNValue.list([1]) == .vector([1]) && !EDNValue.list([1]).isIdentical(to: .vector([1])))
        #expect(!EDNValue.integer(1).isIdentical(to: .bigInteger(BigInteger(1 as Int64))))
        #expect(!EDNValue.double(0).isIdentical(to: .double(-0.0)))
        #expect(!EDNValue.map([.kw("a"): 1, .kw("b"): 2]).isIdentical(to: [.kw("b"): 2, .kw("a"): 1]))
        #expect(EDNValue.map([.kw("a"): [1, "x"]]).isIdentical(to: [.kw("a"): [1, "x"]]))
    }

    @Test func literals() {
        let v: EDNValue = [.kw("my-app/ev"), ["text": "hi", .kw("n"): 1.5, .kw("ok"): true, .kw("none"): .null]]
        #expect(v.description == "[:my-app/ev {\"text\" \"hi\", :n 1.5, :ok true, :none nil}]")
        // A string literal never turns into a keyword (":)" used to).
        #expect(EDNValue.kw("a/b") != ":a/b")
        #expect((":)" as EDNValue) == .string(":)"))
        #expect((":a/b" as EDNValue) == .string(":a/b"))
        #expect(Keyword(namespace: "ns", name: "n").description == ":ns/n")
    }

    @Test func mapsKeepInsertionOrderAndIndexLargeMaps() {
        var m = EDNMap()
        for i in 0..<100 { m[.integer(Int64(99 - i))] = .integer(Int64(i)) }
        #expect(m.count == 100)
        #expect(m.keys.first == 99 && m.keys.last == 0)
        #expect(m[.bigInteger(BigInteger(5 as Int64))] == 94)
        m[5] = nil
        #expect(m.count == 99 && m[5] == nil && m[6] == 93)
        let inserted = m.insertNew(6, 0)
        #expect(!inserted)
        var s = EDNSet()
        for i in 0..<50 { s.insert(.integer(Int64(i))) }
        let added = s.insert(.bigInteger(BigInteger(7 as Int64)))
        #expect(!added)
        let removed = s.remove(7)
        #expect(removed && !s.contains(7) && s.count == 49)
        // The hash index follows removals: the others stay members, 7 can come back, a
        // second removal finds nothing.
        #expect((0..<50).allSatisfy { $0 == 7 || s.contains(.integer(Int64($0))) })
        let again = s.remove(7)
        #expect(!again)
        let back = s.insert(7)
        #expect(back && s.contains(7) && s.count == 50)
        for i in 0..<40 { s.remove(.integer(Int64(i))) }
        #expect(s.count == 10 && s.contains(45) && !s.contains(3))
    }


    /// The readers' bulk constructor finds every duplicate `==` finds (the fingerprints must
    /// agree across kinds that compare equal), keeps the first position and the last value.
    @Test(arguments: [3, 15, 16, 40])
    func bulkMapConstructionMatchesInsertion(size: Int) {
        let big1 = EDNValue.bigInteger(BigInteger(1 as Int64))
        let equalPairs: [(EDNValue, EDNValue)] = [
            (1, big1), (.list([1, 2]), .vector([1, 2])), (.double(.nan), .double(.nan)),
            (.keyword("a/b"), .keyword(Keyword(namespace: "a", name: "b"))),
            (.string("a long string key past sixteen bytes"), .string("a long string key past sixteen" + " bytes")),
            (.map([1: 2]), .map([1: 2])), (.set([1, 2]), .set([2, 1])),
        ]
        for (first, second) in equalPairs {
            var keys: [EDNValue] = (0..<(size - 2)).map { .keyword(Keyword("k\($0)")) }
            keys.insert(first, at: 1)
            keys.append(second)
            let values = (0..<keys.count).map { EDNValue.integer(Int64($0)) }
            var expected = EDNMap()
            for (k, v) in zip(keys, values) { expected[k] = v }
            let interleaved = zip(keys, values).flatMap { [$0, $1] }
            let built = EDNMap(interleaved: interleaved)
            #expect(EDNMap(keys: keys, values: values).entries == built.entries)
            #expect(built.count == keys.count - 1, "\(first) / \(second)")
            #expect(built.keys == expected.keys && built.values == expected.values)
            #expect(built[first] == .integer(Int64(keys.count - 1)))
            #expect(EDNMap(uniqueInterleaved: interleaved) == nil)
            #expect(EDNMap.firstDuplicate(interleaved: interleaved)?.isIdentical(to: second) == true)
        }
        // Distinct keys, some of which share a fingerprint (equal lengths, same first and
        // last eight bytes), are all kept.
        let distinct: [EDNValue] = [.keyword("event/x-created-at"), .keyword("event/y-created-at"), .string("event/x-created-at"),
                                    .symbol("event/x-created-at"), 1, 2, .double(1), .list([1]), .vector([2]), .null, false]
        let values = (0..<distinct.count).map { EDNValue.integer(Int64($0)) }
        let interleaved = zip(distinct, values).flatMap { [$0, $1] }
        let m = EDNMap(uniqueInterleaved: interleaved)
        #expect(m?.count == distinct.count)
        #expect(m?[EDNValue.keyword("event/y-created-at")] == 1)
        #expect(m?.keys == distinct && m?.values == values)
        #expect(EDNMap.firstDuplicate(interleaved: interleaved) == nil)
    }
    @Test func bigIntegers() {
        let big = BigInteger("-123456789012345678901234567890")!
        #expect(big.description == "-123456789012345678901234567890")
        #expect(BigInteger("ff", radix: 16)?.int64Value == 255)
        #expect(BigInteger("zz", radix: 36)?.int64Value == 1295)
        #expect(BigInteger("12x") == nil)
        #expect(BigInteger.gcd(BigInteger("100000000000000000000")!, BigInteger("300000000000000000000")!).description == "100000000000000000000")
        let (q, r) = BigInteger("100000000000000000007")!.quotientAndRemainder(dividingBy: BigInteger("10000000000")!)!
        #expect(q.description == "10000000000" && r.description == "7")
        #expect(BigInteger(Int64.min).int64Value == Int64.min)
        #expect(BigInteger("9223372036854775808")!.int64Value == nil)
        #expect(BigInteger(UInt64.max).description == "18446744073709551615")
    }

    @Test func instantsAndUUIDs() {
        #expect(Instant(millisecondsSinceEpoch: 0).description == "1970-01-01T00:00:00.000-00:00")
        #expect(Instant(millisecondsSinceEpoch: -1).description == "1969-12-31T23:59:59.999-00:00")
        #expect(Instant(millisecondsSinceEpoch: 951_782_400_000).description == "2000-02-29T00:00:00.000-00:00")
        #expect(Instant(rfc3339: "2000-02-29T00:00:00Z")?.millisecondsSinceEpoch == 951_782_400_000)
        #expect(Instant(rfc3339: "2000-01-01T00:00:00.000-00:00")?.millisecondsSinceEpoch == 946_684_800_000)
        #expect(Instant(rfc3339: "2000-01-01T25:00") == nil)
        #expect(Instant(rfc3339: "20000") == nil)
        let u = EDNUUID.random()
        #expect(EDNUUID(u.description) == u)
        #expect(u.description.utf8.count == 36)
        #expect(EDNUUID("1-2-3-4-5")?.description == "00000001-0002-0003-0004-000000000005")
        #expect(EDNUUID("xyz") == nil)
    }

    @Test func base64() {
        for n in 0..<10 {
            let bytes = (0..<n).map { UInt8(($0 * 37) & 255) }
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64.encode(Array("hello".utf8)) == "aGVsbG8=")
        #expect(Base64.decode("a$") == nil)
    }
}

/// Duplicate object keys in plain JSON: clojure.data.json (`read-object`: `assoc!` on a
/// transient map) and cheshire (`assoc!` over Jackson's tokens; Jackson's duplicate detection
/// is off by default) keep the last value, at the first key's place; so does the bridge.
@Suite struct JSONDuplicateKeyTests {
    @Test func lastValueWins() throws {
        let v = try JSONBridge.readAll(Array(#"{"a": 1, "b": 2, "a": 3}"#.utf8))
        #expect(v.map(EDNPrinter.string) == ["{:a 3, :b 2}"])
        // "\u0061" is "a" once decoded.
        let escaped = try JSONBridge.readAll(Array(#"{"a": 1, "\u0061": 2}"#.utf8), options: .init(keywordizeKeys: false))
        #expect(escaped.map(EDNPrinter.string) == [#"{"a" 2}"#])
    }
}
