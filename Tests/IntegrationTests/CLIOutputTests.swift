import Foundation
import TestSupport
import Testing

/// What `chsk serve` logs and what `chsk bench` prints, as a user sees them (issue 17).
@Suite(.serialized) struct CLIOutputTests {
    /// One `listening on` line, ours, at the default level and at debug; none of Hummingbird's
    /// or ServiceLifecycle's lifecycle lines (which repeated ours) at either.
    @Test(arguments: ["info", "debug"])
    func serveSaysEachLifecycleEventOnce(level: String) throws {
        let server = try ServeProcess(["--log-level", level])
        defer { _ = server.terminate() }
        server.type("quit")
        let deadline = Date().addingTimeInterval(15)
        while server.process.isRunning && Date() < deadline { usleep(50_000) }
        #expect(!server.process.isRunning)
        usleep(200_000)   // the last stderr bytes
        let lines = server.log.split(separator: "\n").map(String.init)
        let listening = lines.filter { $0.contains("listening") }
        #expect(listening.count == 1, "\(lines)")
        #expect(listening.first?.hasSuffix(" INFO  listening on http://127.0.0.1:\(server.port)/chsk (wire auto, packer edn)") == true)
        for foreign in ["Server started", "Starting service", "Service finished", "lifecycle", "Graceful shutdown caught"] {
            #expect(!lines.contains { $0.contains(foreign) }, "\(foreign) in \(lines)")
        }
        #expect(lines.filter { $0.hasSuffix(" DEBUG stopped") }.count == (level == "debug" ? 1 : 0), "\(lines)")
    }

    /// `help` at the connect prompt is wrapped to the terminal's width (COLUMNS here), its
    /// examples kept whole.
    @Test func connectHelpIsWrapped() throws {
        let server = try ServeProcess(["--echo"])
        defer { _ = server.terminate() }
        let r = ChildProcess.run(Checkout.chsk.path, ["connect", "http://127.0.0.1:\(server.port)/chsk"], stdin: Array("help\n".utf8),
                                 environment: ["COLUMNS": "60"], timeout: 30)
        #expect(r.status == 0, "\(r.output)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("  ? :timeout 2.5 [:my-app/req {:q 1}]"))
        #expect(lines.contains("  chsk connect http://127.0.0.1:8090/chsk --uid alice"))
        let prose = lines.filter { !$0.hasPrefix(" ") && !$0.hasPrefix("←") && !$0.hasPrefix("state:") }
        #expect(prose.count > 10 && prose.allSatisfy { $0.count < 60 }, "\(prose)")
    }

    /// `bench` text: set-up, measurements, latencies, server figures, wall time, in that order;
    /// names in one column, values right-aligned in the next.
    @Test func benchTextIsOrderedAndAligned() throws {
        let server = try ServeProcess(["--echo"])
        defer { _ = server.terminate() }
        let r = ChildProcess.run(Checkout.chsk.path, ["bench", "http://127.0.0.1:\(server.port)/chsk", "echo", "--connections", "4",
                                                      "--duration", "1", "--server-pid", String(server.process.processIdentifier)], timeout: 60)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        // A failed run is reported, not a crash on a missing line that would end the test run.
        try #require(lines.count == 15, "chsk bench printed \(lines.count) lines: \(r.stdout) \(r.stderr)")
        let names = lines.map { String($0.prefix { $0 != " " }) }
        #expect(names == ["mode", "connections", "opened", "operations", "errors", "round-trips-per-second",
                          "latency-ms-p50", "latency-ms-p99", "latency-ms-p99.9", "latency-ms-max",
                          "server-cpu-seconds", "operations-per-server-cpu-second", "server-rss-kb-before", "server-rss-kb-after",
                          "wall-seconds"])
        // Every line the same width: names padded to the longest, values right-aligned.
        #expect(Set(lines.map(\.count)).count == 1, "\(lines)")
        let valueColumn = "operations-per-server-cpu-second".count + 2
        for line in lines {
            #expect(line.dropFirst(valueColumn - 2).hasPrefix("  "), "\(line)")
        }
        #expect(lines[0].hasSuffix(" echo") && lines[1].hasSuffix(" 4") && lines[2].hasSuffix(" 4"))
        // Non-integers with two decimals.
        #expect(lines[5].range(of: #" [0-9]+\.[0-9]{2}$"#, options: .regularExpression) != nil, "\(lines[5])")
        #expect(lines[14].range(of: #" [0-9]+\.[0-9]{2}$"#, options: .regularExpression) != nil, "\(lines[14])")
    }
}
