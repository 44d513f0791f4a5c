import EDN
import Foundation
import TestSupport
import Testing

/// Issue 12's confusing items on the command line: Ctrl-C and history in `connect`, one time
/// unit, `--packer` help, one-line errors, `--cookie`, `--pretty`.
@Suite(.serialized) struct ClientCLIOptionTests {
    static var chsk: String { ServeProcess.executable.path }

    /// Ctrl-C clears the line being typed and the REPL stays; Ctrl-D quits; the history holds
    /// the lines entered.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux")))
    func ctrlCClearsTheLineAndHistoryIsSaved() async throws {
        let server = try await InProcessServer()
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("chsk-home-\(getpid())").path
        try? FileManager.default.removeItem(atPath: home)
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        let session = "chsk-ctrlc-\(getpid())"
        let term = TmuxSession(session, command: "env HOME=\(home) NO_COLOR=1 \(Self.chsk) connect \(server.url) --uid cc; echo EXITED $?; sleep 30")
        defer { term.close() }
        #expect(term.waitFor("[:chsk/handshake [\"cc\""))
        term.type("[:count/k 1]")
        term.press("Enter")
        #expect(term.waitFor("→ [:count/k 1]"))
        term.type("[:count/k 99")
        #expect(term.waitFor("chsk> [:count/k 99"))
        term.press("C-c")
        #expect(term.waitFor("^C"))
        term.type("[:count/k 2]")
        term.press("Enter")
        #expect(term.waitFor("→ [:count/k 2]"), "\(term.screen)")
        #expect(!term.screen.contains("EXITED"), "Ctrl-C ended the REPL: \(term.screen)")
        term.press("C-d")
        #expect(term.waitFor("EXITED 0"), "\(term.screen)")
        #expect(await server.waitFor(2, of: "count/k", seconds: 5) == [1, 2], "the cleared line was not sent")
        let history = (try? String(contentsOfFile: home + "/.chsk_history_connect", encoding: .utf8)) ?? ""
        #expect(history.contains("[:count/k 1]") && history.contains("[:count/k 2]") && !history.contains("99"), "\(history)")
        await server.stop()
    }

    /// `connect --timeout` is seconds (fractional), like every other time option.
    @Test func connectTimeoutIsSeconds() async throws {
        let server = try await InProcessServer()
        let r = ChildProcess.run(Self.chsk, ["connect", server.url, "--timeout", "2.5", "--type", "ws"],
                                 stdin: Array("? :timeout 1.5 [:my/req 1]\n".utf8), mergeStderr: true, timeout: 30)
        #expect(r.status == 0 && r.output.contains("⇐ {:echo [:my/req 1]"), "\(r.output)")
        let help = ServeProcess.run(Self.chsk, ["connect", "--help"])
        #expect(help.output.contains("timeout in seconds"))
        await server.stop()
    }

    /// `--packer` lists what the client commands take, and nothing they refuse.
    @Test func packerHelpListsOnlyWhatWorks() {
        for command in ["send", "await", "watch", "connect"] {
            let help = ServeProcess.run(Self.chsk, [command, "--help"]).output
            #expect(help.contains("transit-json-verbose") && !help.contains("msgpack"), "\(command): \(help)")
            let refused = ServeProcess.run(Self.chsk, [command, "http://127.0.0.1:1/chsk", "--packer", "transit-msgpack"] + (command == "send" ? ["[:a/b]"] : []))
            #expect(refused.status == 64, "\(command): \(refused.output)")
        }
    }

    /// A refused connection is one line: the address and the cause, no NIO type names.
    @Test(arguments: ["ws", "ajax", "auto"])
    func refusedConnectionIsOneHumanLine(type: String) {
        let port = ChildProcess.freePort()
        let r = ServeProcess.run(Self.chsk, ["send", "http://127.0.0.1:\(port)/chsk", "[:a/b]", "--type", type], timeout: 30)
        #expect(r.status == 3)
        #expect(r.output == "chsk: cannot connect to 127.0.0.1:\(port): connection refused\n", "\(r.output)")
    }

    /// `--cookie` travels with the WebSocket upgrade and the Ajax requests.
    @Test(arguments: ["ws", "ajax"])
    func cookieIsSent(type: String) async throws {
        let server = try await InProcessServer()
        let r = ServeProcess.run(Self.chsk, ["send", server.url, "[:my/req 1]", "--reply", "--type", type, "--cookie", "ring-session=abc",
                                             "--cookie", "b=2", "--pretty"], timeout: 30)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("\n  \"echo\": ["), "--pretty indents: \(r.output)")
        #expect(server.cookies.contains("ring-session=abc; b=2"), "\(server.cookies)")
        await server.stop()
    }

    /// Every command that prints JSON takes `--pretty`: indented JSON that reads back.
    @Test func prettyOnEveryJSONCommand() async throws {
        let server = try await InProcessServer()
        func readsBack(_ text: Substring) -> Bool {
            (try? JSONBridge.readAll(Array(text.utf8), options: .init(keywordizeKeys: false))).map { !$0.isEmpty } ?? false
        }
        let connect = ChildProcess.run(Self.chsk, ["connect", server.url, "--type", "ws", "--uid", "pp", "--pretty"],
                                       stdin: Array("? [:my/req 1]\n".utf8), timeout: 30)
        #expect(connect.status == 0, "\(connect.output)")
        #expect(connect.stdout.contains("⇐ {\n  \"echo\": [\n"), "\(connect.stdout)")
        #expect(connect.stdout.contains("← [\n  \"chsk/handshake\""), "\(connect.stdout)")

        let watch = ChildProcess.run(Self.chsk, ["watch", server.url, "--type", "ws", "--seconds", "1", "--pretty"], timeout: 30)
        #expect(watch.status == 0, "\(watch.output)")
        #expect(watch.stdout.hasPrefix("{\n  \"time\": "), "\(watch.stdout)")
        // The time is ISO 8601 in UTC with milliseconds: "2026-12-05T12:00:01.123Z".
        let time = watch.stdout.split(separator: "\"").dropFirst(3).first.map(String.init) ?? ""
        #expect(time.count == 24 && time.hasSuffix("Z") && time.dropFirst(10).hasPrefix("T") && Int(time.prefix(4)) != nil, "\(time)")
        #expect(watch.stdout.contains("\n  \"new\": {\n    \"type\": \"ws\""), "\(watch.stdout)")
        // One indented object per transition, each one JSON value.
        let objects = watch.stdout.split(separator: "\n}\n", omittingEmptySubsequences: true).map { $0 + "\n}" }
        #expect(objects.count >= 1 && objects.allSatisfy(readsBack), "\(watch.stdout)")

        let bench = ChildProcess.run(Self.chsk, ["bench", server.url, "conns", "--connections", "2", "--duration", "0.5", "--pretty"],
                                     timeout: 60)
        #expect(bench.status == 0, "\(bench.output)")
        #expect(bench.stdout.hasPrefix("{\n  \""), "\(bench.stdout)")
        #expect(readsBack(bench.stdout[...]) && bench.stdout.contains("\n  \"opened\": 2"), "\(bench.stdout)")
        await server.stop()
    }
}
