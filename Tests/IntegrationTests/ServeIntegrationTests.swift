import Foundation
import Testing

/// `chsk serve --echo` as a real process on loopback, driven by Python `websockets` and `curl`
/// replaying every recording of real Sente servers (socket_replay.py), both generations.
@Suite(.serialized) struct ServeIntegrationTests {
    static let fast = ["--echo", "--csrf-token", "test-csrf-token", "--lp-timeout-ms", "1500", "--ws-kalive-ms", "2000"]
    static let transcripts = ServeProcess.packageRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance/transcripts")

    static func replay(wire: String, files: [String]) throws -> String {
        let server = try ServeProcess(fast + ["--wire", wire])
        defer { _ = server.terminate() }
        let script = ServeProcess.packageRoot.appendingPathComponent("Tests/IntegrationTests/socket_replay.py").path
        let (status, output) = ServeProcess.run(ServeProcess.python!, [script, "--port", String(server.port), "--wire", wire] + files)
        #expect(status == 0, "\(output)\n--- server log ---\n\(server.log.suffix(3000))")
        #expect(output.contains(" passed, 0 failed"))
        return output
    }

    @Test(.enabled(if: ServeProcess.python != nil && FileManager.default.fileExists(atPath: transcripts.path)))
    func replaysV2Recordings() throws {
        let out = try Self.replay(wire: "v2", files: ["sente-1.21.0/ws-edn.txt", "sente-1.21.0/browser-ws.txt", "sente-1.21.0/jvm-client-ws.txt",
                                                     "sente-1.21.0/ajax-edn.txt", "sente-1.21.0/browser-ajax.txt"])
        print(out)
    }

    @Test(.enabled(if: ServeProcess.python != nil && FileManager.default.fileExists(atPath: transcripts.path)))
    func replaysV1Recordings() throws {
        let out = try Self.replay(wire: "v1", files: ["sente-1.14.0-RC2/ws-edn-v1.txt", "sente-1.14.0-RC2/browser-ws-v1.txt",
                                                     "sente-1.14.0-RC2/ajax-edn-v1.txt", "sente-1.14.0-RC2/browser-ajax-v1.txt"])
        print(out)
    }

    @Test(.enabled(if: ServeProcess.python != nil && FileManager.default.fileExists(atPath: transcripts.path)))
    func autoServesBothGenerationsOnOneServer() throws {
        let out = try Self.replay(wire: "auto", files: ["sente-1.21.0/ws-edn.txt", "sente-1.14.0-RC2/ws-edn-v1.txt",
                                                       "sente-1.21.0/jvm-client-ws.txt", "sente-1.14.0-RC2/browser-ws-v1.txt"])
        print(out)
    }

    @Test func promptPushesAndGracefulShutdown() throws {
        let server = try ServeProcess(["--echo"])
        // An Ajax client of uid bob via curl: handshake, then a held poll.
        let base = "http://127.0.0.1:\(server.port)/chsk?client-id=c1&uid=bob"
        let hs = ServeProcess.run("/usr/bin/curl", ["-s", base + "&handshake%3F=1"])
        #expect(hs.output.hasPrefix("[[:chsk/handshake [\"bob\" nil {:server"))
        let pollResult = LockedBox("")
        let pollThread = Thread { pollResult.value = ServeProcess.run("/usr/bin/curl", ["-s", base]).output }
        pollThread.start()
        usleep(300_000)
        server.type("uids")
        #expect(server.readLine() == "{:ws #{}, :ajax #{\"bob\"}, :any #{\"bob\"}}")
        server.type("push bob [:srv/hello {:n 1}]")
        #expect(server.readLine() == "pushed [:srv/hello {:n 1}] to \"bob\"")
        let deadline = Date().addingTimeInterval(10)
        while !pollThread.isFinished && Date() < deadline { usleep(10_000) }
        #expect(pollResult.value == "[[[:srv/hello {:n 1}]] nil]")
        server.type("push bob not-an-event")
        #expect(server.readLine()?.hasPrefix("error: not an event") == true)
        server.type("clients")
        #expect(server.readLine()?.contains("c1") == true)
        // A held poll must not delay shutdown: SIGTERM answers it and exits promptly.
        let held = Thread { _ = ServeProcess.run("/usr/bin/curl", ["-s", base]) }
        held.start()
        usleep(300_000)
        let (status, seconds) = server.terminate()
        #expect(status == 0)
        #expect(seconds < 5)
        #expect(server.log.contains("uidport-open \"bob\""))
    }
}
