import Foundation
import Testing

/// `chsk convert` (issue 17, jet is the anchor): any of EDN, JSON and the Transit encodings to
/// any other, `--pretty` for every text output, and lossy JSON named on stderr once per kind.
@Suite struct ConvertTests {
    static let value = #"{:a [1 2.5 "x"] :b nil}"#

    @Test func everyFormatToEveryOther() throws {
        #expect(try CLI.run(["convert"], stdin: "{:b 1, :a [1 2]} (1M 2N)").stdout == "{:b 1, :a [1 2]}\n(1M 2N)\n")
        #expect(try CLI.run(["convert", "--to", "json"], stdin: Self.value).stdout == #"{"a":[1,2.5,"x"],"b":null}"# + "\n")
        #expect(try CLI.run(["convert", "--to", "transit-json"], stdin: "[:my/ev {:a 1}]").stdout == #"["~:my/ev",["^ ","~:a",1]]"# + "\n")
        #expect(try CLI.run(["convert", "--to", "transit-json-verbose"], stdin: Self.value).stdout == #"{"~:a":[1,2.5,"x"],"~:b":null}"# + "\n")
        let msgpack = try CLI.run(["convert", "--to", "transit-msgpack"], stdin: Self.value)
        #expect(msgpack.status == 0)
        #expect(msgpack.stdoutBytes == [0x82, 0xA3, 0x7E, 0x3A, 0x61, 0x93, 0x01, 0xCB, 0x40, 0x04, 0, 0, 0, 0, 0, 0,
                                        0xA1, 0x78, 0xA3, 0x7E, 0x3A, 0x62, 0xC0])
        let back = try CLI.run(["convert", "--from", "transit-msgpack"], stdinBytes: msgpack.stdoutBytes)
        #expect(back.stdout == "{:a [1 2.5 \"x\"], :b nil}\n")
        #expect(try CLI.run(["convert", "--from", "json"], stdin: #"{"a": [1, 2]} {"b": {"c": null}}"#).stdout == "{:a [1 2]}\n{:b {:c nil}}\n")
        #expect(try CLI.run(["convert", "--from", "json", "--no-keywordize"], stdin: #"{"a": 1}"#).stdout == "{\"a\" 1}\n")
        #expect(try CLI.run(["convert", "--from", "transit-json", "--to", "json"], stdin: #"["^ ","~:a",["~#set",[1]]]"#).stdout == #"{"a":[1]}"# + "\n")
        #expect(try CLI.run(["convert", "--from", "transit-json-verbose", "--to", "transit-json"], stdin: #"{"~:a":1}"#).stdout == #"["^ ","~:a",1]"# + "\n")
        // Transit's URIs and bytes come out as EDN tagged literals.
        #expect(try CLI.run(["convert", "--from", "transit-json"], stdin: #"["~#'","~rhttp://x"] ["~#'","~bAAE="]"#).stdout == "#uri \"http://x\"\n#bytes \"AAE=\"\n")
        #expect(try CLI.run(["convert", "--sort"], stdin: "{:b 1 :a #{3 1 2}}").stdout == "{:a #{1 2 3}, :b 1}\n")
    }

    @Test func prettyForEveryTextOutput() throws {
        let json = try CLI.run(["convert", "--from", "json", "--to", "json", "--pretty"], stdin: #"{"a": {"b": [1, 2]}, "c": []}"#)
        #expect(json.stdout == "{\n  \"a\": {\n    \"b\": [\n      1,\n      2\n    ]\n  },\n  \"c\": []\n}\n")
        let edn = try CLI.run(["convert", "--pretty"], stdin: "{:user {:name \"Alice Example\" :roles [:admin :editor :viewer] :tags [\"one\" \"two\" \"three\" \"four\" \"five\"]}}")
        #expect(edn.stdout == """
            {:user
              {:name "Alice Example"
               :roles [:admin :editor :viewer]
               :tags ["one" "two" "three" "four" "five"]}}

            """)
        #expect(try CLI.run(["convert", "--to", "transit-json-verbose", "--pretty"], stdin: "{:a 1}").stdout == "{\n  \"~:a\": 1\n}\n")
        // unpack and pack take --pretty for JSON too.
        #expect(try CLI.run(["unpack", "--to", "json", "--pretty"], stdin: "{:a [1]}").stdout == "{\n  \"a\": [\n    1\n  ]\n}\n")
        #expect(try CLI.run(["pack", "--packer", "transit-json", "--pretty"], stdin: "{:a 1}").stdout == "[\n  \"^ \",\n  \"~:a\",\n  1\n]\n")
        let binary = try CLI.run(["convert", "--to", "transit-msgpack", "--pretty"])
        #expect(binary.status == 64)
        #expect(binary.stderr.hasPrefix("Error: --pretty is for text output; transit-msgpack is binary\nUsage: chsk convert "))
    }

    /// The policy: JSON output is written, and each kind of value JSON cannot carry is named
    /// once per run on stderr; keyword keys and lists are JSON's own and not warned about.
    @Test func lossyJSONIsNamedOncePerKind() throws {
        let r = try CLI.run(["convert", "--to", "json"],
                            stdin: #"{:a 1/3 :b #{:k} 1 2 :c 12345678901234567890N :d #inst "2026-01-02T03:04:05.000Z" :e sym :f \c :g #my/tag [1] :h 1.5M} #{2} 2/3"#)
        #expect(r.status == 0)
        #expect(r.stdout == #"{"a":0.3333333333333333,"b":["k"],"1":2,"c":12345678901234567890,"d":"2026-01-02T03:04:05.000Z","e":"sym","f":"c","g":[1],"h":1.5}"#
            + "\n[2]\n0.6666666666666666\n")
        #expect(r.stderr == """
            chsk: warning: lossy JSON: ratios written as doubles (1/3 → 0.3333333333333333)
            chsk: warning: lossy JSON: N and M numbers and integers beyond ±2^53 written as plain numbers (1.5M → 1.5; readers using doubles round big ones)
            chsk: warning: lossy JSON: sets written as arrays (#{1} → [1])
            chsk: warning: lossy JSON: keywords written as strings (:a/b → "a/b")
            chsk: warning: lossy JSON: symbols written as strings (a/b → "a/b")
            chsk: warning: lossy JSON: characters written as strings (\\a → "a")
            chsk: warning: lossy JSON: #inst written as RFC 3339 strings
            chsk: warning: lossy JSON: tagged values written without their tag (#my/tag [1] → [1])
            chsk: warning: lossy JSON: map keys other than strings and keywords written as their EDN text ({1 :a} → {"1":"a"})

            """)
        let collide = try CLI.run(["convert", "--to", "json"], stdin: #"{"a" 1 :a 2}"#)
        #expect(collide.stdout == #"{"a":1,"a":2}"# + "\n")
        #expect(collide.stderr == "chsk: warning: lossy JSON: map keys that are the same JSON string written twice ({:a 1 \"a\" 2} → {\"a\":1,\"a\":2})\n")
        // Nothing lost, nothing said: keyword keys, strings, numbers, lists.
        let clean = try CLI.run(["convert", "--to", "json"], stdin: #"{:a "x" :b/c (1 2.5 -9007199254740992) :d nil}"#)
        #expect(clean.stdout == #"{"a":"x","b/c":[1,2.5,-9007199254740992],"d":null}"# + "\n")
        #expect(clean.stderr.isEmpty)
        // unpack --to json follows the same policy.
        let unpack = try CLI.run(["unpack", "--to", "json"], stdin: "[:my/ev {:a 1}]")
        #expect(unpack.stdout == #"["my/ev",{"a":1}]"# + "\n")
        #expect(unpack.stderr == "chsk: warning: lossy JSON: keywords written as strings (:a/b → \"a/b\")\n")
    }

    @Test func badInputKeepsEarlierValuesAndExitsOne() throws {
        let r = try CLI.run(["convert", "--to", "json"], stdin: "1 [2")
        #expect(r.status == 1)
        #expect(r.stdout == "1\n")
        #expect(r.stderr == "chsk: stdin:1:3: EOF while reading, starting at line 1\n")
        let transit = try CLI.run(["convert", "--from", "transit-json"], stdin: #"["^ ","~:a"#)
        #expect(transit.status == 1 && transit.stdout.isEmpty && transit.stderr.hasPrefix("chsk: stdin:"))
        let missing = try CLI.run(["convert", "/nonexistent/in.json", "--from", "json"])
        #expect(missing.status == 1 && missing.stderr.hasPrefix("chsk: /nonexistent/in.json: cannot open"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("chsk-convert-\(UUID().uuidString).json")
        try #"{"a": 1}"#.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let both = try CLI.run(["convert", "--from", "json", file.path, "-"], stdin: "[2]")
        #expect(both.status == 0 && both.stdout == "{:a 1}\n[2]\n")
        let nan = try CLI.run(["convert", "--to", "json"], stdin: "[1] ##NaN")
        #expect(nan.status == 1 && nan.stdout == "[1]\n" && nan.stderr.contains("no JSON representation"))
    }
}
