import EDN
import Testing

@Suite struct PrinterTests {
    @Test func clojurePrStr() throws {
        let text = #"{:a 1, "b" [1 2.0 3N 4M 1/3 \a \backspace "x\n" #inst "2000-01-01T00:00:00.000-00:00" #uuid "5a2c0e4e-7a5b-4f6e-9a8b-0c1d2e3f4a5b" ##NaN ##-Inf (a b) #{1} :ns/k ns/s 1.0E-5 -0.0 9223372036854775808N]}"#
        #expect(try roundTrip(text) == text)
    }

    @Test func javaDoubleToString() {
        let cases: [(Double, String)] = [
            (1, "1.0"), (0.5, "0.5"), (100, "100.0"), (1e7, "1.0E7"), (9_999_999, "9999999.0"), (1e-3, "0.001"),
            (1e-4, "1.0E-4"), (123_456.789, "123456.789"), (1.0e21, "1.0E21"), (1.5e300, "1.5E300"),
            (-2.5e-10, "-2.5E-10"), (0.1 + 0.2, "0.30000000000000004"), (Double.leastNonzeroMagnitude, "4.9E-324"),
            (Double.greatestFiniteMagnitude, "1.7976931348623157E308"), (12_345_678, "1.2345678E7"),
        ]
        for (d, s) in cases { #expect(EDNValue.double(d).description == s, "\(d)") }
    }

    @Test func stringEscapesAndCharacters() {
        #expect(EDNValue.string("a\"b\\c\n\t\r\u{08}\u{0C}\u{01}é").description == "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\u{01}é\"")
        #expect(EDNValue.character("\n").description == "\\newline")
        #expect(EDNValue.character("\u{01}").description == "\\\u{01}")
        #expect(EDNValue.character("»").description == "\\»")
    }

    @Test func otherScalars() {
        #expect(EDNValue.integer(Int64.min).description == "-9223372036854775808")
        #expect(EDNValue.uri("http://a/b").description == "#uri \"http://a/b\"")
        #expect(EDNValue.tagged(Symbol("my/t"), [1]).description == "#my/t [1]")
        #expect(EDNValue.set([]).description == "#{}")
        #expect(EDNValue.map([:]).description == "{}")
        #expect(EDNValue.list([]).description == "()")
    }

    @Test func pretty() throws {
        let v = try EDNReader.read("{:user {:name \"Alice Example\", :roles #{:admin :editor :viewer}, :tags [\"one\" \"two\" \"three\" \"four\"]}, :n 1}")
        let p = EDNPrinter.pretty(v, width: 40)
        #expect(p.contains("\n"))
        #expect(try EDNReader.read(p) == v)
        #expect(EDNPrinter.pretty([1, 2]) == "[1 2]")
    }

    @Test func printReadRoundTripOfEveryKind() throws {
        var m = EDNMap()
        m[[1, 2]] = .set([.kw("a"), .sym("b/c")])
        m[.null] = .instant(Instant(millisecondsSinceEpoch: 1_234_567_890_123))
        let v: EDNValue = [
            .null, true, 42, .bigInteger(BigInteger("123456789012345678901234567890")!), 1.25, .double(.infinity),
            .bigDecimal(BigDecimal("1.50")!), Ratio.make(BigInteger(-1 as Int64), BigInteger(3 as Int64))!, "s", .character("x"),
            .list([1]), .map(m), .uuid(EDNUUID.random()), .uri("urn:x"), .bytes([1, 2, 3]), .tagged(Symbol("x/y"), "z"),
        ]
        #expect(try EDNReader.read(v.description) == v)
    }
}
