import EDN
import Testing

/// Reads one value and prints it back as pr-str would.
func roundTrip(_ text: String) throws -> String { EDNPrinter.string(try EDNReader.read(text)) }

func readError(_ text: String) -> EDNReadError? {
    do {
        _ = try EDNReader.read(text)
        return nil
    } catch {
        return error
    }
}

@Suite struct ReaderTests {
    @Test(arguments: [
        ("42", "42"), ("+42", "42"), ("-42", "-42"), ("42N", "42N"), ("-0", "0"), ("0N", "0N"),
        ("9223372036854775807", "9223372036854775807"), ("-9223372036854775808", "-9223372036854775808"),
        ("9223372036854775808", "9223372036854775808N"), ("-9223372036854775809", "-9223372036854775809N"),
        ("100000000000000000000000000000000000000000", "100000000000000000000000000000000000000000N"),
        ("042", "34"), ("-042", "-34"), ("0x2A", "42"), ("-0x42e", "-1070"), ("0XFFFFFFFFFFFFFFFFFF", "4722366482869645213695N"),
        ("2r1010", "10"), ("36rZZ", "1295"), ("16r1F", "31"),
        ("1/3", "1/3"), ("4/2", "2"), ("-4/2", "-2"), ("6/4", "3/2"), ("-6/4", "-3/2"),
        ("100000000000000000000/3", "100000000000000000000/3"), ("100000000000000000000/100000000000000000000", "1"),
    ])
    func integersAndRatios(input: String, printed: String) throws {
        #expect(try roundTrip(input) == printed)
    }

    @Test(arguments: [
        ("42.23", "42.23"), ("42.2e3", "42200.0"), ("+42.2e+3", "42200.0"), ("-42.2e-3", "-0.0422"),
        ("1e-5", "1.0E-5"), ("1E-1", "0.1"), ("-0.0", "-0.0"), ("1.", "1.0"), ("1.e5", "100000.0"),
        ("1e7", "1.0E7"), ("9999999.0", "9999999.0"), ("0.001", "0.001"), ("0.0001", "1.0E-4"),
        ("6.626E-34", "6.626E-34"), ("1.7976931348623157e308", "1.7976931348623157E308"), ("5e-324", "4.9E-324"),
        ("123456789.125", "1.23456789125E8"), ("##Inf", "##Inf"), ("##-Inf", "##-Inf"), ("##NaN", "##NaN"),
        ("42.23M", "42.23M"), ("42.2e3M", "4.22E+4M"), ("45.4E+43M", "4.54E+44M"), ("-1.0e-1M", "-0.10M"),
        ("1M", "1M"), ("-0M", "0M"), ("1.M", "1M"), ("0.0000001M", "1E-7M"), ("0.000001M", "0.000001M"),
        ("9223372036854775808M", "9223372036854775808M"),
    ])
    func floatsAndDecimals(input: String, printed: String) throws {
        #expect(try roundTrip(input) == printed)
    }

    @Test(arguments: ["09", "-4cats", "1.5.5", "1/0", "0x", "1e", "37r1", "2r2", "1/2/3", "##foo", "1a"])
    func invalidNumbers(input: String) {
        #expect(readError(input) != nil, "\(input) must not read")
    }

    @Test(arguments: [
        "foo", "foo/bar", "*+!-_?", "abc:def:ghi", "abc.def/ghi", "/", "<>", ".foo", "-foo", "+foo", "foo#bar",
        "foo.", "nil?", "true.", "truefalse", "foo//", ".5", "é/猫", "a'b",
        ":foo-bar", ":foo/bar", ":abc:def/ghi:jkl.mno", ":a1", ":<>", ":#foo", ":#/:a", ":/",
    ])
    func symbolsAndKeywords(input: String) throws {
        #expect(try roundTrip(input) == input)
    }

    @Test(arguments: ["::a", ":", ":foo:", ":/foo", ":foo/", "foo/", "/foo", "//", "a/b/c", ":a/b/c", "@cat", "~cat",
                      "#/foo", "foo:/bar", "a/1b", "a|b"])
    func invalidTokens(input: String) {
        #expect(readError(input)?.kind == .invalidToken || readError(input) != nil, "\(input) must not read")
    }

    @Test func symbolParts() throws {
        let v = try EDNReader.read("foo//")
        guard case .symbol(let s) = v else { Issue.record("not a symbol"); return }
        #expect(s.namespace == "foo" && s.name == "/")
        #expect(Keyword("ns/name").namespace == "ns")
        #expect(Keyword("name").namespace == nil)
        #expect(Symbol("/").name == "/" && Symbol("/").namespace == nil)
    }

    @Test(arguments: [
        ("\\c", "\\c"), ("\\newline", "\\newline"), ("\\space", "\\space"), ("\\tab", "\\tab"), ("\\return", "\\return"),
        ("\\backspace", "\\backspace"), ("\\formfeed", "\\formfeed"), ("\\u0041", "\\A"), ("\\u0194", "\\Ɣ"),
        ("\\o123", "\\S"), ("\\o0", "\\u{0}"), ("\\o377", "\\ÿ"), ("\\\\", "\\\\"), ("\\\"", "\\\""), ("\\(", "\\("),
        ("\\é", "\\é"), ("\\u", "\\u"), ("\\o", "\\o"),
    ])
    func characters(input: String, printed: String) throws {
        let expected = printed == "\\u{0}" ? "\\\u{0}" : printed
        #expect(try roundTrip(input) == expected)
    }

    @Test(arguments: ["\\ud800", "\\itstoolong", "\\u12", "\\o400", "\\o1234", "\\newline0.1", "\\😀", "\\"])
    func invalidCharacters(input: String) {
        #expect(readError(input) != nil, "\(input) must not read")
    }

    @Test func charactersEndAtDelimiters() throws {
        #expect(try roundTrip("[\\a\\b]") == "[\\a \\b]")
        #expect(try roundTrip("(\\a)") == "(\\a)")
        #expect(try roundTrip("[\\space\\newline]") == "[\\space \\newline]")
    }

    @Test(arguments: [
        (#""foo bar""#, #""foo bar""#), (#""a\tb\nc\rd\"e\\f""#, #""a\tb\nc\rd\"e\\f""#),
        (#""\u0194\u00e9""#, "\"Ɣé\""), (#""\ud83d\ude00""#, "\"😀\""), ("\"é猫😀\"", "\"é猫😀\""),
        (#""\b\f""#, #""\b\f""#), (#""\101\60\0""#, "\"A0\u{0}\""), (#""\377""#, "\"ÿ\""),
        ("\"multi\nline\"", #""multi\nline""#), ("\"\u{1}\"", "\"\u{1}\""),
    ])
    func strings(input: String, printed: String) throws {
        #expect(try roundTrip(input) == printed)
    }

    @Test(arguments: [#""\q""#, #""unterminated"#, #""\u12""#, #""\ud800""#, #""\udc00x""#, #""\400""#, #""\8""#])
    func invalidStrings(input: String) {
        #expect(readError(input) != nil, "\(input) must not read")
    }

    @Test func invalidUTF8IsAnError() {
        let bad: [UInt8] = [UInt8(ascii: "\""), 0xC3, 0x28, UInt8(ascii: "\"")]
        #expect(throws: EDNReadError.self) { try EDNReader.read(bad) }
        let badSymbol: [UInt8] = [0xFF, 0xFE]
        #expect(throws: EDNReadError.self) { try EDNReader.read(badSymbol) }
    }

    @Test func collections() throws {
        #expect(try roundTrip("()") == "()")
        #expect(try roundTrip("[1,2,,3]") == "[1 2 3]")
        #expect(try roundTrip("{:a 1, \"foo\" :bar, [1 2 3] four}") == "{:a 1, \"foo\" :bar, [1 2 3] four}")
        #expect(try roundTrip("{nil 1 true 2 false 3}") == "{nil 1, true 2, false 3}")
        // Sets print in Clojure's hash order (what Clojure 1.11 prints for this input).
        #expect(try roundTrip("#{1 true 1.0 \\a \"a\"}") == "#{1.0 \\a 1 true \"a\"}")
        #expect(try roundTrip("[(1)[2]{3 4}#{5}\"6\"\\7]") == "[(1) [2] {3 4} #{5} \"6\" \\7]")
        #expect(try roundTrip("{[1 2] 3}") == "{[1 2] 3}")
    }

    @Test func duplicatesFollowClojureEquality() {
        #expect(readError("{:a 1 :a 2}")?.kind == .duplicateKey)
        #expect(readError("#{1 1}")?.kind == .duplicateSetMember)
        #expect(readError("#{1 1N}")?.kind == .duplicateSetMember)          // 1 = 1N
        #expect(readError("{[1 2] :a (1 2) :b}")?.kind == .duplicateKey)  // list = vector
        #expect(readError("#{1.0M 1.00M}")?.kind == .duplicateSetMember)  // BigDecimal compareTo
        #expect(readError("#{0.0 -0.0}")?.kind == .duplicateSetMember)
        #expect(readError("#{1 1.0}") == nil)                            // 1 != 1.0
        #expect(readError("#{1 1M}") == nil)
        #expect(readError("{{:a 1 :b 2} 1 {:b 2 :a 1} 2}")?.kind == .duplicateKey)
    }

    @Test func structuralErrors() {
        #expect(readError("{:a}")?.kind == .oddMapForms)
        #expect(readError("[1 2")?.kind == .unexpectedEndOfInput)
        #expect(readError("[}")?.kind == .unmatchedDelimiter)
        #expect(readError(")")?.kind == .unmatchedDelimiter)
        #expect(readError("[1 #_]") != nil)
        #expect(readError("#:foo")?.kind == .invalidToken)
        #expect(readError("#uuid 42")?.kind == .invalidTag)
        #expect(readError("#inst \"2000-13-01\"")?.kind == .invalidTag)
        #expect(readError("#1 2")?.kind == .invalidTag)
        #expect(readError("#<foo>") != nil)
        #expect(readError("#\"re\"") != nil)
        #expect(readError("^1 [1]")?.kind == .invalidMetadata)
        #expect(readError("^:a 1")?.kind == .invalidMetadata)
    }

    @Test func errorsCarryLineAndColumn() {
        let e = readError("[1 2\n 3 {:a 1 :a 2}]")
        #expect(e?.line == 2)
        #expect(e?.column == 4)
        #expect(e?.description.hasPrefix("2:4: Duplicate key: :a") == true)
        let eof = readError("\n\n  [1 2")
        #expect(eof?.line == 3 && eof?.column == 3)
        let unicode = readError("\"é猫\" :")
        #expect(unicode?.line == 1 && unicode?.column == 6)
    }

    @Test func discardCommentsWhitespace() throws {
        #expect(try roundTrip("[a b #_foo 42]") == "[a b 42]")
        #expect(try roundTrip("#_ #_ 1 2 3") == "3")
        #expect(try roundTrip("{:a #_ 1 2}") == "{:a 2}")
        #expect(try roundTrip("; comment\n42") == "42")
        #expect(try roundTrip("#!shebang\n42") == "42")
        #expect(try roundTrip("[1 ; c\n 2]") == "[1 2]")
        #expect(try roundTrip("\t\r\n, 42 ,") == "42")
        #expect(try roundTrip("\u{2003}42\u{3000}") == "42")   // Java isWhitespace: em space, ideographic space
        #expect(try roundTrip("[1 #_ #foo [2] 3]") == "[1 3]")
        #expect(try EDNReader.read("") == .null)
        #expect(try EDNReader.read("  ; nothing\n #_ a") == .null)
    }

    @Test func namespacedMapsAndMetadata() throws {
        #expect(try roundTrip("#:foo{:bar 1 :_/baz 2}") == "{:foo/bar 1, :baz 2}")
        #expect(try roundTrip("#:foo{bar 1 :_/baz 2 _/q 3}") == "{foo/bar 1, :baz 2, q 3}")
        #expect(try roundTrip("#:foo {:x/bar 1 \"s\" 2}") == "{:x/bar 1, \"s\" 2}")
        #expect(try roundTrip("^:foo [1]") == "[1]")
        #expect(try roundTrip("^{:a 1} bar") == "bar")
        #expect(try roundTrip("#^:foo (1)") == "(1)")
        #expect(try roundTrip("^\"Tag\" {:a 1}") == "{:a 1}")
    }

    @Test func tags() throws {
        #expect(try roundTrip("#uuid \"550E8400-e29b-41d4-a716-446655440000\"") == "#uuid \"550e8400-e29b-41d4-a716-446655440000\"")
        #expect(try roundTrip("#inst \"1985-04-12T23:20:50.52Z\"") == "#inst \"1985-04-12T23:20:50.520-00:00\"")
        #expect(try roundTrip("#inst \"2000-01-01T00:00:00+01:00\"") == "#inst \"1999-12-31T23:00:00.000-00:00\"")
        #expect(try roundTrip("#inst \"2000\"") == "#inst \"2000-01-01T00:00:00.000-00:00\"")
        #expect(try roundTrip("#inst \"1969-12-31T23:59:59.999999Z\"") == "#inst \"1969-12-31T23:59:59.999-00:00\"")
        #expect(try roundTrip("#inst \"2024-02-29T10:00\"") == "#inst \"2024-02-29T10:00:00.000-00:00\"")
        #expect(readError("#inst \"2023-02-29\"") != nil)
        #expect(try roundTrip("#foo bar") == "#foo bar")
        #expect(try roundTrip("#my.app/point [1 2]") == "#my.app/point [1 2]")
        #expect(try roundTrip("#uri \"http://x/y\"") == "#uri \"http://x/y\"")
        #expect(try roundTrip("#bytes \"AAEC/w==\"") == "#bytes \"AAEC/w==\"")
        #expect(try EDNReader.read("#bytes \"AAEC/w==\"") == .bytes([0, 1, 2, 255]))
        #expect(throws: EDNReadError.self) { try EDNReader.read("#foo bar", options: .init(unknownTags: .reject)) }
    }

    @Test func streamsAndSingle() throws {
        #expect(try EDNReader.readAll(Array("1 [2] {:a 3} ; end".utf8)) == [1, [2], [.kw("a"): 3]])
        #expect(readError("[1] [2]")?.kind == .trailingInput)
        var reader = EDNReader("1 2 [")
        #expect(try reader.next() == 1)
        #expect(try reader.next() == 2)
        #expect(throws: EDNReadError.self) { try reader.next() }
    }

    @Test func deepNestingIsAnErrorNotACrash() async throws {
        let deep = String(repeating: "[", count: 100_000)
        // Run on the cooperative pool (small thread stacks) on purpose.
        let kind = await Task { readError(deep)?.kind }.value
        #expect(kind == .tooDeep)
        let depth = EDNReader.Options().maxDepth
        let ok = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        let read = await Task { try? EDNReader.read(ok) }.value
        #expect(read != nil)
        #expect(readError(String(repeating: "#{", count: 5000))?.kind == .tooDeep)
        #expect(readError(String(repeating: "^:a ", count: 5000) + "x")?.kind == .tooDeep)
        #expect(readError(String(repeating: "#_ ", count: 5000) + "x") != nil)
    }
}
