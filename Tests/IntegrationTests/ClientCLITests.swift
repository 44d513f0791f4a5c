import Foundation
import TestSupport
import Testing

/// `chsk send`, `await`, `watch` and `connect` against a real `chsk serve` on loopback.
@Suite(.serialized) struct ClientCLITests {
    static var chsk: String { ServeProcess.executable.path }

    @Test func sendExitCodes() throws {
        let server = try ServeProcess(["--echo", "--csrf-token", "tok"])
        defer { _ = server.terminate() }
        let url = "http://127.0.0.1:\(server.port)/chsk"
        for type in ["ws", "ajax", "auto"] {
            let ok = ServeProcess.run(Self.chsk, ["send", url, "[:my/req {:q 1}]", "--reply", "--csrf-token", "tok", "--uid", "ann", "--type", type, "--client-id", "c-\(type)"])
            #expect(ok.status == 0, "\(type): \(ok.output)")
            #expect(ok.output == "{:echo [:my/req {:q 1}], :uid \"ann\", :client-id \"c-\(type)\"}\n")
        }
        let json = ChildProcess.run(Self.chsk, ["send", url, "[:my/req 1]", "--reply", "--json", "--csrf-token", "tok", "--uid", "ann", "--client-id", "j"],
                                    timeout: 60)
        #expect(json.stdout == "{\"echo\":[\"my/req\",1],\"uid\":\"ann\",\"client-id\":\"j\"}\n")
        // The lossy-JSON policy of chsk convert: what JSON loses is named on stderr, once.
        #expect(json.stderr == "chsk: warning: lossy JSON: keywords written as strings (:a/b → \"a/b\")\n")
        let noReply = ServeProcess.run(Self.chsk, ["send", url, "[:my/ev 1]", "--csrf-token", "tok"])
        #expect(noReply.status == 0 && noReply.output.isEmpty)
        let rejected = ServeProcess.run(Self.chsk, ["send", url, "[:my/ev 1]", "--csrf-token", "bad", "--type", "ajax"])
        #expect(rejected.status == 4)
        #expect(rejected.output.contains("HTTP 403 Bad CSRF token"))
        let refused = ServeProcess.run(Self.chsk, ["send", "http://127.0.0.1:1/chsk", "[:my/ev 1]", "--type", "ajax"])
        #expect(refused.status == 3)
        let badEDN = ServeProcess.run(Self.chsk, ["send", url, "[:my/ev", "--csrf-token", "tok"])
        #expect(badEDN.status == 65)
        let notEvent = ServeProcess.run(Self.chsk, ["send", url, "[:no-namespace 1]", "--csrf-token", "tok"])
        #expect(notEvent.status == 65)
        let usage = ServeProcess.run(Self.chsk, ["send", "ftp://x", "[:a/b]"])
        #expect(usage.status == 64)
    }

    /// A URL no connection can be made to is a usage error with one line saying why, for every
    /// command that takes one (a port past 65535 used to be a runtime trap inside NIO).
    @Test func malformedURLsAreUsageErrors() throws {
        for (args, why) in [(["send", "http://127.0.0.1:99999/chsk", "[:a/b]"], "port 99999"),
                            (["send", "ws://127.0.0.1:/chsk", "[:a/b]"], "port (empty)"),
                            (["await", "http:///chsk", "--timeout", "1"], "no host"),
                            (["watch", "ws://[::1/chsk"], "unclosed ["),
                            (["bench", "http://127.0.0.1:1826123/chsk", "ajax", "--duration", "1"], "port 1826123"),
                            (["bench", "http://127.0.0.1:70000/chsk", "fanout", "--client", "lean", "--duration", "1"], "port 70000")] {
            let r = ServeProcess.run(Self.chsk, args, timeout: 30)
            #expect(r.status == 64, "\(args): \(r.output)")
            #expect(r.output.contains(why) && !r.output.contains("Backtrac"), "\(args): \(r.output)")
        }
    }

    /// Times and rates that no `Duration` holds (or that mean nothing) are usage errors, not
    /// traps (`--timeout 1e300` and `bench --rate 0` were runtime traps).
    @Test func outOfRangeTimesAreUsageErrors() throws {
        let url = "http://127.0.0.1:1/chsk"
        for (args, why) in [(["send", url, "[:a/b]", "--reply", "--timeout", "1e300"], "--timeout must be"),
                            (["send", url, "[:a/b]", "--connect-timeout", "inf"], "--connect-timeout must be"),
                            (["send", url, "[:a/b]", "--timeout", "nan"], "--timeout must be"),
                            (["await", url, "--timeout=-2"], "--timeout must be"),
                            (["await", url, "--count", "0"], "--count must be"),
                            (["watch", url, "--seconds", "0"], "--seconds must be"),
                            (["connect", url, "--timeout", "0"], "--timeout must be"),
                            (["bench", url, "echo", "--rate", "0", "--duration", "1"], "--rate must be"),
                            (["bench", url, "echo", "--rate=-5", "--duration", "1"], "--rate must be"),
                            (["bench", url, "fanout", "--uids", "0", "--duration", "1"], "--uids must be")] {
            let r = ServeProcess.run(Self.chsk, args, timeout: 30)
            #expect(r.status == 64, "\(args): \(r.output)")
            #expect(r.output.contains(why) && !r.output.contains("Backtrac"), "\(args): \(r.output)")
        }
    }

    /// A serve option Sente's limits refuse is a usage error with the subcommand's usage line
    /// (it used to print the top-level `Usage: chsk <subcommand>`).
    @Test func serveOptionErrorsShowServeUsage() throws {
        for (args, why) in [(["serve", "--lp-timeout-ms", "70000", "--port", "0"], "lp-timeout-ms must be < 60000"),
                            (["serve", "--ws-ping-timeout-ms", "0", "--port", "0"], "ws-ping-timeout-ms must be positive")] {
            let r = ServeProcess.run(Self.chsk, args, timeout: 30)
            #expect(r.status == 64, "\(args): \(r.output)")
            #expect(r.output.contains(why) && r.output.contains("Usage: chsk serve"), "\(args): \(r.output)")
        }
    }

    @Test func replyTimeoutExitsFive() throws {
        let server = try ServeProcess([])   // no app: nobody replies
        defer { _ = server.terminate() }
        let start = Date()
        let r = ServeProcess.run(Self.chsk, ["send", "http://127.0.0.1:\(server.port)/chsk", "[:my/req]", "--reply", "--timeout", "0.5", "--type", "ws"])
        #expect(r.status == 5)
        #expect(r.output.contains(":chsk/timeout"))
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func awaitPrintsPushedEventsAndTimesOut() throws {
        let server = try ServeProcess(["--echo"])
        defer { _ = server.terminate() }
        let url = "http://127.0.0.1:\(server.port)/chsk"
        let waiter = BackgroundJob {
            ServeProcess.run(Self.chsk, ["await", url, "--uid", "zoe", "--event", "srv/alert", "--count", "2", "--timeout", "20"], timeout: 30)
        }
        // Push until the awaiting client is connected and has taken two alerts.
        var pushes = 0
        let deadline = Date().addingTimeInterval(15)
        while !waiter.isDone && Date() < deadline {
            _ = ServeProcess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(server.port)/push?uid=zoe&ev=%5B%3Asrv%2Fother%201%5D"])
            _ = ServeProcess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(server.port)/push?uid=zoe&ev=%5B%3Asrv%2Falert%20\(pushes)%5D"])
            pushes += 1
            usleep(200_000)
        }
        let result = waiter.wait(timeout: 30) ?? (-1, "chsk await did not return")
        #expect(result.status == 0, "\(result.output)")
        let lines = result.output.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.hasPrefix("[:srv/alert ") })
        let timeout = ServeProcess.run(Self.chsk, ["await", url, "--uid", "nobody", "--timeout", "0.5"])
        #expect(timeout.status == 5)
        #expect(timeout.output.contains("timed out"))
    }

    @Test func watchPrintsTransitions() throws {
        let server = try ServeProcess([])
        let url = "http://127.0.0.1:\(server.port)/chsk"
        let r = ServeProcess.run(Self.chsk, ["watch", url, "--uid", "w", "--seconds", "1.5", "--json"])
        #expect(r.status == 0)
        let first = r.output.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.contains("\"open?\":true"))
        #expect(first.contains("\"changed\":["))
        // The server goes away: watch reports the close and keeps trying.
        let job = BackgroundJob { ServeProcess.run(Self.chsk, ["watch", url, "--uid", "w", "--seconds", "3", "--type", "ws"], timeout: 30) }
        usleep(1_000_000)
        _ = server.terminate()
        let watcher = job.wait(timeout: 30) ?? (-1, "chsk watch did not return")
        #expect(watcher.output.contains("closed ws → open ws") || watcher.output.contains("→ open ws"), "\(watcher.output)")
        #expect(watcher.output.contains("open ws → closed ws"), "\(watcher.output)")
    }

    /// The REPL under tmux: a push arriving while a line is half typed leaves the typed text intact.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")))
    func replKeepsTheHalfTypedLine() throws {
        let server = try ServeProcess(["--echo"])
        defer { _ = server.terminate() }
        let session = "chsk-test-\(getpid())"
        let command = "\(Self.chsk) connect http://127.0.0.1:\(server.port)/chsk --uid rita --type ws"
        let term = TmuxSession(session, command: "env HOME=/tmp NO_COLOR=1 \(command)")
        defer { term.close() }
        #expect(term.waitFor("[:chsk/handshake [\"rita\""))
        term.type("[:my/half {:a")
        #expect(term.waitFor("chsk> [:my/half {:a"))
        _ = ServeProcess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(server.port)/push?uid=rita&ev=%5B%3Asrv%2Fnews%2042%5D"])
        #expect(term.waitFor("← [:srv/news 42]"))
        let lines = term.screen.split(separator: "\n").map(String.init)
        // The pushed line is printed above, and the prompt below still holds the typed text.
        let pushIndex = lines.lastIndex { $0.hasPrefix("← [:srv/news 42]") } ?? -1
        #expect(!lines.contains { $0.contains("chsk>") && $0.contains("←") }, "a pushed line was printed into the prompt: \(lines)")
        let promptIndex = lines.lastIndex { $0.hasPrefix("chsk> [:my/half {:a") } ?? -1
        #expect(pushIndex >= 0 && promptIndex > pushIndex, "\(lines)")
        term.type(" 1}]")
        term.press("Enter")
        #expect(term.waitFor("→ [:my/half {:a 1}]"))
        term.type("? [:my/req 7]")
        term.press("Enter")
        #expect(term.waitFor("⇐ {:echo [:my/req 7], :uid \"rita\""))
    }

    /// `chsk serve` on a terminal: log lines print above the prompt, the typed text stays.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")))
    func servePromptKeepsLogLinesAboveTheTypedLine() throws {
        let session = "chsk-serve-\(getpid())"
        let tmux = "/usr/bin/tmux"
        let port = ChildProcess.freePort()
        _ = ServeProcess.run(tmux, ["new-session", "-d", "-s", session, "-x", "120", "-y", "30",
                                    "env HOME=/tmp NO_COLOR=1 \(Self.chsk) serve --echo --port \(port)"])
        defer { _ = ServeProcess.run(tmux, ["kill-session", "-t", session]) }
        func screen() -> [String] { ServeProcess.run(tmux, ["capture-pane", "-p", "-t", session]).output.split(separator: "\n").map(String.init) }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline && !screen().contains(where: { $0.contains("listening on") }) { usleep(100_000) }
        _ = ServeProcess.run(tmux, ["send-keys", "-t", session, "-l", "uid"])
        usleep(300_000)
        _ = ServeProcess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/chsk?client-id=t1&uid=tim&handshake%3F=1"])
        var lines: [String] = []
        let deadline2 = Date().addingTimeInterval(10)
        repeat { lines = screen(); usleep(100_000) } while Date() < deadline2 && !lines.contains { $0.contains("ajax handshake") }
        let logIndex = lines.lastIndex { $0.contains("ajax handshake: uid \"tim\"") } ?? -1
        #expect(logIndex >= 0 && !lines[logIndex].contains("chsk>"), "\(lines)")
        #expect((lines.lastIndex { $0.hasPrefix("chsk> uid") } ?? -1) > logIndex, "\(lines)")
        _ = ServeProcess.run(tmux, ["send-keys", "-t", session, "-l", "s"])
        _ = ServeProcess.run(tmux, ["send-keys", "-t", session, "Enter"])
        usleep(500_000)
        #expect(screen().contains { $0.hasPrefix("{:ws #{}") })
    }

    /// Not a terminal: events typed on stdin are sent, output is plain.
    @Test func replScriptsFromAPipe() throws {
        let server = try ServeProcess(["--echo"])
        defer { _ = server.terminate() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.chsk)
        p.arguments = ["connect", "http://127.0.0.1:\(server.port)/chsk", "--uid", "pia", "--type", "ajax"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = output
        try p.run()
        usleep(1_500_000)
        input.fileHandleForWriting.write(Data("? [:my/req 1]\n[:test/echo-push \"x\"]\n".utf8))
        usleep(1_500_000)
        input.fileHandleForWriting.write(Data("quit\n".utf8))
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(10)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        ChildProcess.stop(p, grace: 5)
        try? output.fileHandleForWriting.close()
        let text = String(decoding: ChildProcess.drain(output.fileHandleForReading.fileDescriptor, timeout: 5), as: UTF8.self)
        #expect(text.contains("⇐ {:echo [:my/req 1], :uid \"pia\""))
        #expect(text.contains("← [:test/echo \"x\"]"))
        #expect(!text.contains("chsk> "))
        #expect(!text.contains("\u{1B}["))
    }
}
