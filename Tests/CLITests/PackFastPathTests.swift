import Foundation
import Testing

/// `chsk pack`'s common forms run without ArgumentParser (`PackJob.simple`, for start-up
/// time). The same request spelled so that ArgumentParser parses it (`--opt=value`, an
/// option outside the fast path's set) must print the same bytes, errors and exit codes.
@Suite struct PackFastPathTests {
    static let inputs = [
        "{:a 1 :b [1 2.5 \"x\"] :s #{:k :j} :at #inst \"2026-01-01T00:00:00.000-00:00\"}\n[:my/ev {:n 1}]\n",
        "{\"b\": [1, 2], \"a\": {\"c\": null}}\n",
        "{:a 1} {:b",          // a read error after one value
        "1 2\n",                // two values (an error with --single)
    ]

    /// (fast form, ArgumentParser form): the second spells a value with `=` or adds `--`.
    static let forms: [([String], [String])] = [
        (["pack"], ["pack", "--frame", "none"]),
        (["pack", "-"], ["pack", "--", "-"]),
        (["pack", "--packer", "transit-json"], ["pack", "--packer=transit-json"]),
        (["pack", "--packer", "transit-json-verbose", "--sort"], ["pack", "--sort", "--packer=transit-json-verbose"]),
        (["pack", "--from", "json"], ["pack", "--from=json"]),
        (["pack", "--from", "json", "--no-keywordize", "--packer", "transit-json"], ["pack", "--from=json", "--no-keywordize", "--packer=transit-json"]),
        (["pack", "--single"], ["pack", "--single", "--frame=none"]),
        (["pack", "--sort"], ["pack", "--sort", "--frame=none"]),
    ]

    @Test(arguments: 0..<forms.count)
    func sameBytesAsArgumentParsersParse(form: Int) throws {
        let (fast, parsed) = Self.forms[form]
        for input in Self.inputs {
            let a = try CLI.run(fast, stdin: input)
            let b = try CLI.run(parsed, stdin: input)
            #expect(a.status == b.status, "\(fast) vs \(parsed) on \(input.debugDescription)")
            #expect(a.stdoutBytes == b.stdoutBytes, "\(fast) vs \(parsed) on \(input.debugDescription)")
            #expect(a.stderr == b.stderr, "\(fast) vs \(parsed) on \(input.debugDescription)")
        }
    }

    /// Values the fast path does not take go to ArgumentParser, with its messages.
    @Test func unknownValuesAndRepeatsGetArgumentParsersErrors() throws {
        let bad = try CLI.run(["pack", "--packer", "nope"])
        #expect(bad.status == 64)
        #expect(bad.stderr.hasPrefix("Error: The value 'nope' is invalid for '--packer <packer>'"))
        let missing = try CLI.run(["pack", "--from"])
        #expect(missing.status == 64)
        #expect(missing.stderr.hasPrefix("Error: Missing value for '--from <from>'"))
        let file = try CLI.run(["pack", "/nonexistent/values.edn"])
        #expect(file.status == 1)
        #expect(file.stderr.contains("/nonexistent/values.edn"))
    }
}
