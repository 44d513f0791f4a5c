import Foundation
import TestSupport
import Testing

/// Issue 16: the dev server's own HTTP routes are guarded like its socket, its prompt says
/// what a push reached, and it behaves as a background job and in scripts.
@Suite(.serialized) struct DevServerSafetyTests {
    static func curl(_ port: Int, _ target: String, _ headers: [String] = []) -> (status: Int, body: String) {
        let args = ["-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "10"] + headers.flatMap { ["-H", $0] } + ["http://127.0.0.1:\(port)\(target)"]
        let out = ServeProcess.run("/usr/bin/curl", args, timeout: 20).output
        guard let newline = out.lastIndex(of: "\n") else { return (0, out) }
        return (Int(out[out.index(after: newline)...]) ?? 0, String(out[..<newline]))
    }

    static func query(_ edn: String) -> String { edn.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }

    /// /push, /broadcast, /connected need the CSRF token; no route serves a cross-site browser
    /// request; `:chsk/*` events are refused from the routes and from `[:test/push …]`; and
    /// the victim's held poll shows it: it is not closed, and gets only the allowed push.
    @Test func echoRoutesAreGuardedLikeTheSocket() throws {
        let server = try ServeProcess(["--echo", "--csrf-token", "tok", "--lp-timeout-ms", "20000"])
        defer { _ = server.terminate() }
        let port = server.port
        let token = "X-CSRF-Token: tok", evil = "Origin: http://evil.example", same = "Origin: http://127.0.0.1:\(port)"
        let victim = "/chsk?client-id=v1&uid=victim"
        #expect(Self.curl(port, victim + "&handshake%3F=1", [token]).status == 200)
        let poll = BackgroundJob { Self.curl(port, victim, [token]) }
        Thread.sleep(forTimeInterval: 0.3)

        let close = "/push?uid=victim&ev=" + Self.query("[:chsk/close]")
        let note = "/push?uid=victim&ev=" + Self.query("[:my/note 1]")
        #expect(Self.curl(port, note) == (403, "Bad CSRF token"))
        #expect(Self.curl(port, note, ["X-CSRF-Token: nope"]) == (403, "Bad CSRF token"))
        #expect(Self.curl(port, note, [token, evil]) == (403, "Unauthorized origin"))
        #expect(Self.curl(port, note, [token, "Sec-Fetch-Site: cross-site"]) == (403, "Unauthorized origin"))
        #expect(Self.curl(port, close, [token]).status == 403)
        #expect(Self.curl(port, "/push?uid=victim&ev=" + Self.query("[:chsk/handshake [\"x\"]]"), [token]).status == 403)
        #expect(Self.curl(port, "/broadcast?ev=" + Self.query("[:my/all 1]")) == (403, "Bad CSRF token"))
        #expect(Self.curl(port, "/broadcast?ev=" + Self.query("[:chsk/close]"), [token]).status == 403)
        #expect(Self.curl(port, "/connected") == (403, "Bad CSRF token"))
        #expect(Self.curl(port, "/csrf", [evil]) == (403, "Unauthorized origin"))
        #expect(Self.curl(port, "/csrf") == (200, "tok"))
        // Another client asks the echo app to push :chsk/close to the victim: refused.
        let post = ServeProcess.run("/usr/bin/curl", ["-s", "--max-time", "10", "-H", token, "--data-urlencode", "client-id=m1",
                                                       "--data-urlencode", "uid=mallory", "--data-urlencode",
                                                       "ppstr=[[:test/push {:uid \"victim\" :event [:chsk/close]}] nil]",
                                                       "http://127.0.0.1:\(port)/chsk"]).output
        #expect(post == "[:chsk/dummy-cb-200 nil]")
        Thread.sleep(forTimeInterval: 0.3)
        // Still connected, poll still held; the one allowed push (same-origin) reaches it.
        #expect(Self.curl(port, "/connected", [token]).body.contains("\"victim\""))
        #expect(Self.curl(port, note, [token, same]) == (200, "pushed [:my/note 1] to \"victim\": 1 client"))
        let delivered = poll.wait(timeout: 10)
        #expect(delivered?.status == 200 && delivered?.body == "[[[:my/note 1]] nil]", "\(String(describing: delivered))")
        #expect(Self.curl(port, "/push?uid=nobody&ev=" + Self.query("[:my/note 2]"), [token]) == (200, "pushed [:my/note 2] to \"nobody\": no client"))
        #expect(server.log.contains("refused to push :chsk/close"))
    }

    /// `push 42 …` with a client of uid "42" (a string) says nobody got it and names the uid
    /// that would; `push "42" …` reaches the client, which receives it.
    @Test func promptPushSaysWhomItReached() throws {
        let server = try ServeProcess(["--echo"])
        defer { _ = server.terminate() }
        let base = "/chsk?client-id=n1&uid=42"
        #expect(Self.curl(server.port, base + "&handshake%3F=1").status == 200)
        let poll = BackgroundJob { Self.curl(server.port, base) }
        Thread.sleep(forTimeInterval: 0.3)
        server.type("push 42 [:my/ev 1]")
        #expect(server.readLine() == "pushed [:my/ev 1] to 42: no client; a client has uid \"42\" (string, not integer): push \"42\" …")
        server.type("push \"42\" [:my/ev 2]")
        #expect(server.readLine() == "pushed [:my/ev 2] to \"42\": 1 client")
        #expect(poll.wait(timeout: 10)?.body == "[[[:my/ev 2]] nil]")
        server.type("broadcast [:my/all 3]")
        #expect(server.readLine() == "broadcast [:my/all 3] to 1 uid(s)")
    }

    /// With `--port 0` and stdout not a terminal, the port is the first line even when
    /// commands are already waiting on stdin; their output follows.
    @Test func portIsTheFirstLineWithCommandsPipedIn() throws {
        let server = try ServeProcess(["--echo"], input: "uids\nclients\nbroadcast [:a/b]\n")
        defer { _ = server.terminate() }
        #expect(server.port > 0)
        #expect(server.readLine() == "{:ws #{}, :ajax #{}, :any #{}}")
        #expect(server.readLine() == "no clients")
        #expect(server.readLine() == "broadcast [:a/b] to 0 uid(s)")
    }

    /// `chsk serve &` from an interactive shell keeps running (it used to take the
    /// background read of the terminal for end of input and quit); `fg` brings its prompt.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: TmuxSession.tmux)))
    func backgroundServerKeepsRunning() throws {
        let port = ChildProcess.freePort()
        let session = "chsk-bg-\(getpid())"
        let term = TmuxSession(session, command: "env HOME=/tmp PS1='$ ' bash --norc -i")
        defer { term.close() }
        #expect(term.waitFor("$"))
        term.type("\(ServeProcess.executable.path) serve --echo --port \(port) 2>/tmp/\(session).log &")
        term.press("Enter")
        Thread.sleep(forTimeInterval: 5)
        #expect(Self.curl(port, "/connected").status == 200, "server gone: \(term.screen)")
        term.type("jobs")
        term.press("Enter")
        #expect(term.waitFor("Running"), "\(term.screen)")
        term.type("fg")
        term.press("Enter")
        #expect(term.waitFor("chsk>"), "\(term.screen)")
        term.type("quit")
        term.press("Enter")
        #expect(term.waitFor("shutting down"))
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, Self.curl(port, "/connected").status != 0 { usleep(200_000) }
        #expect(Self.curl(port, "/connected").status == 0)
    }
}
