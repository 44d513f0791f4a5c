import Foundation
import Testing

@Suite struct PackUnpackTests {
    @Test func packPrintsCanonicalEDNOnePerLine() throws {
        let r = try CLI.run(["pack"], stdin: "{:a 1 :b [1 2.5 \"x\"] :c #{1}}  [:my/ev 1e-5]\n(1M 2N 0x10 4/2)")
        #expect(r.status == 0)
        #expect(r.stdout == "{:a 1, :b [1 2.5 \"x\"], :c #{1}}\n[:my/ev 1.0E-5]\n(1M 2N 16 2)\n")
        #expect(r.stderr.isEmpty)
    }

    @Test func badInputKeepsEarlierValuesAndExitsOne() throws {
        let r = try CLI.run(["pack"], stdin: "1 [2]\n {:a 1 :a 2} 3")
        #expect(r.status == 1)
        #expect(r.stdout == "1\n[2]\n")
        #expect(r.stderr == "chsk: stdin:2:2: Duplicate key: :a\n")
        let eof = try CLI.run(["pack"], stdin: "[1 2")
        #expect(eof.status == 1)
        #expect(eof.stderr == "chsk: stdin:1:1: EOF while reading, starting at line 1\n")
    }

    /// Issue 13: hostile input is a one-line error and exit 1, never a crash or a stall.
    @Test func hostileInputIsAOneLineError() throws {
        let discards = try CLI.run(["pack"], stdin: String(repeating: "#_", count: 100_000))
        #expect(discards.status == 1)
        #expect(discards.stderr.hasPrefix("chsk: stdin:1:") && discards.stderr.contains("EOF after #_"))
        #expect(discards.stderr.filter { $0 == "\n" }.count == 1)
        let nested = try CLI.run(["pack"], stdin: String(repeating: "[", count: 100_000))
        #expect(nested.status == 1 && nested.stderr.contains("Nesting deeper than"))
        let digits = String(repeating: "7", count: 100_000)
        let big = try CLI.run(["pack"], stdin: digits)
        #expect(big.status == 1 && big.stderr == "chsk: stdin:1:1: Number longer than 4096 digits\n")
        let ratio = try CLI.run(["pack"], stdin: digits + "/" + digits)
        #expect(ratio.status == 1 && ratio.stderr.contains("Number longer than"))
        let unpack = try CLI.run(["unpack", "--frame", "v1"], stdin: "-[" + String(repeating: "#_", count: 100_000) + "]")
        #expect(unpack.status == 1 && unpack.stderr.hasPrefix("chsk: ") && unpack.stderr.filter { $0 == "\n" }.count == 1)
        let unpackBig = try CLI.run(["unpack"], stdin: "-[:a/b " + digits + "]")
        #expect(unpackBig.status == 1 && unpackBig.stderr.contains("Number longer than"))
    }

    /// Every value chsk prints must read back: what has no EDN text (Transit's empty keyword
    /// "~:", an instant past the year 9999) is a one-line error, not unreadable output.
    @Test func valuesWithoutEDNTextAreErrors() throws {
        let empty = try CLI.run(["unpack", "--packer", "transit-json"], stdin: #"["~#'","~:a"] ["~#'","~:"]"#)
        #expect(empty.status == 1)
        #expect(empty.stdout == ":a\n")
        #expect(empty.stderr == "chsk: stdin: keyword \"\" has no EDN form (it would print as :)\n")
        // The same value in MessagePack: ["~#'", "~:"].
        let mp = try CLI.run(["unpack", "--packer", "transit-msgpack"], stdinBytes: [0x92, 0xA3] + Array("~#'".utf8) + [0xA2] + Array("~:".utf8))
        #expect(mp.status == 1 && mp.stdout.isEmpty)
        #expect(mp.stderr == "chsk: stdin: keyword \"\" has no EDN form (it would print as :)\n")
        let late = try CLI.run(["unpack", "--packer", "transit-json"], stdin: #"["~#'","~m253402300800000"]"#)
        #expect(late.status == 1)
        #expect(late.stderr == "chsk: stdin: instant 253402300800000 ms is outside the years 0001-9999 that #inst can carry (Clojure would print #inst \"10000-01-01T00:00:00.000-00:00\")\n")
        let json = try CLI.run(["pack", "--from", "json"], stdin: #"{"a": 1} {"a b": 2}"#)
        #expect(json.status == 1 && json.stdout == "{:a 1}\n")
        #expect(json.stderr == "chsk: stdin: keyword \"a b\" has no EDN form (it would print as :a b)\n")
        // The last readable instant prints; the Transit writers refuse built-in tags on tagged values.
        #expect(try CLI.run(["pack"], stdin: #"#inst "9999-12-31T23:59:59.999Z""#).stdout == "#inst \"9999-12-31T23:59:59.999-00:00\"\n")
        let tagged = try CLI.run(["pack", "--packer", "transit-json"], stdin: "#set [1 2]")
        #expect(tagged.status == 1)
        #expect(tagged.stderr == "chsk: stdin: A tagged value with the built-in tag \"set\" would read back as another kind of value\n")
    }

    @Test func singleRejectsTrailingInput() throws {
        #expect(try CLI.run(["pack", "--single"], stdin: "[1]").stdout == "[1]\n")
        let r = try CLI.run(["pack", "--single"], stdin: "[1] [2]")
        #expect(r.status == 1 && r.stdout.isEmpty && r.stderr.contains("1:4"))
        #expect(try CLI.run(["pack", "--single"], stdin: "  ").stdout == "nil\n")
    }

    @Test func framingV1AndV2() throws {
        #expect(try CLI.run(["pack", "--frame", "v1", "--cb", "a1b2c3"], stdin: "[:my/ev {:a 1}]").stdout == "+[[:my/ev {:a 1}] \"a1b2c3\"]\n")
        #expect(try CLI.run(["pack", "--frame", "v1"], stdin: "[:chsk/ws-ping]").stdout == "-[:chsk/ws-ping]\n")
        #expect(try CLI.run(["pack", "--frame", "v1", "--cb", "0"], stdin: "[:a/b]").stdout == "+[[:a/b] 0]\n")
        #expect(try CLI.run(["pack", "--frame", "v2", "--cb", ":ajax"], stdin: "[:a/b]").stdout == "[[:a/b] :ajax]\n")
        #expect(try CLI.run(["pack", "--frame", "v2"], stdin: "[:a/b] :chsk/timeout").stdout == "[[:a/b] nil]\n[:chsk/timeout nil]\n")
    }

    @Test func unpackDetectsFramingAndShowsCallbackID() throws {
        let input = """
            +[[:my/ev {:a 1}] "a1b2c3"]
            -[:chsk/handshake ["alice" nil [:x] true]]
            [[:chsk/handshake ["alice" nil nil]] nil]
            [{:ok true} "a1b2c3"]

            """
        let r = try CLI.run(["unpack", "--frame", "auto"], stdin: input)
        #expect(r.status == 0)
        #expect(r.stdout == """
            {:value [:my/ev {:a 1}], :cb-id "a1b2c3", :framing :v1}
            {:value [:chsk/handshake ["alice" nil [:x] true]], :cb-id nil, :framing :v1}
            {:value [:chsk/handshake ["alice" nil nil]], :cb-id nil, :framing :v2}
            {:value {:ok true}, :cb-id "a1b2c3", :framing :v2}

            """)
        let bad = try CLI.run(["unpack", "--frame", "v2"], stdin: "[1 nil]\n:not-a-frame\n")
        #expect(bad.status == 1)
        #expect(bad.stdout.hasPrefix("{:value 1"))
        #expect(bad.stderr.hasPrefix("chsk: stdin:2: A v2 message must be"))
    }

    @Test func jsonInAndOut() throws {
        #expect(try CLI.run(["pack", "--from", "json"], stdin: #"{"user": {"name": "Ann", "tags": ["a"]}, "n": 1.0} [1e2, 12345678901234567890]"#).stdout
            == "{:user {:name \"Ann\", :tags [\"a\"]}, :n 1.0}\n[100.0 12345678901234567890N]\n")
        #expect(try CLI.run(["pack", "--from", "json", "--no-keywordize"], stdin: #"{"a": null}"#).stdout == "{\"a\" nil}\n")
        #expect(try CLI.run(["unpack", "--to", "json"], stdin: "{:user {:name \"Ann\"} :n 1N :s #{:x} :t \"q\\n\"}").stdout
            == #"{"user":{"name":"Ann"},"n":1,"s":["x"],"t":"q\n"}"# + "\n")
        let nan = try CLI.run(["unpack", "--to", "json"], stdin: "[1] ##NaN")
        #expect(nan.status == 1 && nan.stdout == "[1]\n" && nan.stderr.contains("no JSON representation"))
        let bad = try CLI.run(["pack", "--from", "json"], stdin: "{\"a\": 1,}")
        #expect(bad.status == 1 && bad.stderr.hasPrefix("chsk: stdin:1:9:"))
    }

    @Test func prettyAndSort() throws {
        let r = try CLI.run(["pack", "--pretty"], stdin: "{:user {:name \"Alice Example\" :roles #{:admin :editor :viewer} :tags [\"one\" \"two\" \"three\" \"four\" \"five\"]}}")
        #expect(r.status == 0)
        #expect(r.stdout.split(separator: "\n").count > 1)
        #expect(try CLI.run(["pack", "--sort"], stdin: "{:b 1 :a #{3 1 2}}").stdout == "{:a #{1 2 3}, :b 1}\n")
        // Sets print in Clojure's hash order (as pr-str prints #{1 2 3}), unless sorted.
        #expect(try CLI.run(["pack"], stdin: "#{3 1 2}").stdout == "#{1 3 2}\n")
        #expect(try CLI.run(["pack", "--pretty"], stdin: "#{3 1 2}").stdout == "#{1 3 2}\n")
        #expect(try CLI.run(["pack", "--pretty", "--sort"], stdin: "#{3 1 2}").stdout == "#{1 2 3}\n")
    }

    @Test func usageErrorsAndFiles() throws {
        let usage = try CLI.run(["pack", "--cb", "x"])
        #expect(usage.status == 64)
        #expect(usage.stderr.contains("--cb needs --frame"))
        let missing = try CLI.run(["pack", "/nonexistent/file.edn"])
        #expect(missing.status == 1)
        #expect(missing.stderr.hasPrefix("chsk: /nonexistent/file.edn: cannot open"))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chsk-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.edn"), b = dir.appendingPathComponent("b.edn")
        try "1 2".write(to: a, atomically: true, encoding: .utf8)
        try "\n\n [3 :x/".write(to: b, atomically: true, encoding: .utf8)
        let r = try CLI.run(["pack", a.path, b.path])
        #expect(r.status == 1)
        #expect(r.stdout == "1\n2\n")
        #expect(r.stderr == "chsk: \(b.path):3:5: Invalid keyword: :x/\n")
    }
}
