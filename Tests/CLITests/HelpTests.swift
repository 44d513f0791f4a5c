import Foundation
import Testing

/// `chsk help` reads correctly at 80 and 120 columns, and a usage error, found while parsing
/// or after it, shows the subcommand's usage (issue 17).
@Suite struct HelpTests {
    /// Every subcommand's name and discussion, from `--experimental-dump-help`.
    static func subcommands() throws -> [(name: String, discussion: String)] {
        let dump = try CLI.run(["--experimental-dump-help"])
        let root = try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any]
        let command = root?["command"] as? [String: Any] ?? [:]
        var result = [("", command["discussion"] as? String ?? "")]
        for sub in command["subcommands"] as? [[String: Any]] ?? [] {
            guard let name = sub["commandName"] as? String, name != "help" else { continue }
            result.append((name, sub["discussion"] as? String ?? ""))
        }
        return result
    }

    /// No line is wider than the screen unless it is one unbreakable word, and every line of
    /// the discussions that starts with a space (examples, the bench modes table) comes out
    /// whole, not broken in two by ArgumentParser's wrapping.
    @Test(arguments: [80, 120])
    func helpFitsTheWidth(columns: Int) throws {
        let subcommands = try Self.subcommands()
        #expect(subcommands.count == 10)
        for (name, discussion) in subcommands {
            let r = try CLI.run((name.isEmpty ? [] : [name]) + ["--help"], environment: ["COLUMNS": "\(columns)"])
            #expect(r.status == 0)
            let lines = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for line in lines where line.count > columns {
                #expect(!line.trimmingCharacters(in: .whitespaces).contains(" "), "chsk \(name) --help at \(columns): \(line)")
            }
            let literal = discussion.split(separator: "\n").map(String.init).filter { $0.hasPrefix(" ") }
            for line in literal {
                #expect(lines.contains(line), "chsk \(name) --help at \(columns) broke: \(line)")
            }
            if ["bench", "pack", "send", "convert"].contains(name) { #expect(!literal.isEmpty) }
        }
        // Prose is wrapped to the width: at 120 the bench paragraph takes fewer lines than at 80.
        let bench = try CLI.run(["bench", "--help"], environment: ["COLUMNS": "\(columns)"]).stdout
        #expect(bench.contains("  echo    clients do request/reply round trips ([:bench/echo …] with a\n          callback)"))
        #expect(bench.contains(columns == 80 ? "The server needs the echo app (chsk serve --echo) for echo, fanout and ajax. A\nrun"
                                             : "The server needs the echo app (chsk serve --echo) for echo, fanout and ajax. A run that measured"))
    }

    /// What a usage error looks like: `Error: <reason>`, the subcommand's usage, where its
    /// help is; exit 64. The same for errors of parsing, of validate() and of run().
    static func expectUsageError(_ args: [String], _ reason: String, usage: String, stdin: String = "",
                                 sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try CLI.run(args, stdin: stdin)
        let sub = args[0]
        #expect(r.status == 64, "chsk \(args.joined(separator: " "))", sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, sourceLocation: sourceLocation)
        #expect(r.stderr == "Error: \(reason)\nUsage: \(usage)\n  See 'chsk \(sub) --help' for more information.\n",
                sourceLocation: sourceLocation)
    }

    @Test func usageErrorsShowTheSubcommandsUsage() throws {
        let serve = "chsk serve <options>"
        // validate(): Sente's limits, options that go together, files that must exist.
        try Self.expectUsageError(["serve", "--lp-timeout-ms", "70000"], "--lp-timeout-ms must be < 60000 (browser XHR timeout)", usage: serve)
        try Self.expectUsageError(["serve", "--send-buf-ms-ws=-1"], "--send-buf-ms-ws and --send-buf-ms-ajax must be >= 0", usage: serve)
        try Self.expectUsageError(["serve", "--max-push-bytes", "10"], "--max-push-bytes must be at least 64", usage: serve)
        try Self.expectUsageError(["serve", "--tls-cert", "/nonexistent/cert.pem", "--tls-key", "/nonexistent/key.pem"],
                                  "--tls-cert: no such file: /nonexistent/cert.pem", usage: serve)
        try Self.expectUsageError(["serve", "--uid-cookie", "sid", "--uid-header", "X-User"],
                                  "--uid-header and --uid-cookie: give one user id source", usage: serve)
        try Self.expectUsageError(["serve", "--uid-param", "u", "--uid-cookie", "sid"],
                                  "--uid-param and --uid-cookie: give one user id source", usage: serve)
        try Self.expectUsageError(["serve", "--static", "/nonexistent/public"], "--static: no such folder: /nonexistent/public", usage: serve)
        try Self.expectUsageError(["pack", "--cb", "x"], "--cb needs --frame v1 or --frame v2", usage: "chsk pack [<options>] [<files> ...]")
        try Self.expectUsageError(["convert", "--to", "transit-msgpack", "--pretty"], "--pretty is for text output; transit-msgpack is binary",
                                  usage: "chsk convert [--from <format>] [--to <format>] [<options>] [<files> ...]")
        try Self.expectUsageError(["send", "http://127.0.0.1:1/chsk", "[:a/b]", "--timeout", "0"],
                                  "--timeout must be seconds above 0 and at most 31536000 (a year), got 0.0",
                                  usage: "chsk send [<options>] <url> <event>")
        try Self.expectUsageError(["bench", "http://127.0.0.1:1/chsk", "echo", "--connections", "0"], "--connections must be 1…19000",
                                  usage: "chsk bench [<options>] <url> <mode>")
        // run(): a certificate and key that exist but do not load (the server never listens).
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("chsk-usage-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pem = dir.appendingPathComponent("empty.pem").path
        _ = FileManager.default.createFile(atPath: pem, contents: Data("not a certificate\n".utf8))
        try Self.expectUsageError(["serve", "--port", "0", "--tls-cert", pem, "--tls-key", pem],
                                  "--tls-cert \(pem), --tls-key \(pem): cannot load a PEM certificate chain and private key (failedToLoadCertificate)",
                                  usage: serve, stdin: "quit\n")
        // Parsing: a value not in the list.
        let packer = try CLI.run(["serve", "--packer", "transit-msgpack"])
        #expect(packer.status == 64)
        #expect(packer.stderr.hasPrefix("Error: The value 'transit-msgpack' is invalid for '--packer <packer>'"))
        #expect(packer.stderr.contains("\nUsage: chsk serve <options>\n"))
    }
}
