import ChannelSocket
import Foundation
import Testing

/// The socket-level conformance run `chsk serve` passes (the root package's
/// `Tests/IntegrationTests/socket_replay.py`: every recording of real Sente servers replayed
/// over loopback with Python `websockets` and `curl`), against the Vapor adapter, v1, v2 and
/// auto, with the same server settings as `ServeIntegrationTests`.
@Suite(.serialized) struct SocketReplayTests {
    /// The package root of chsk (two levels above this package).
    static let chskRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
    static let script = chskRoot.appendingPathComponent("Tests/IntegrationTests/socket_replay.py")
    /// Where socket_replay.py reads the recordings: `shared/` beside the chsk checkout.
    static let transcripts = chskRoot.deletingLastPathComponent().appendingPathComponent("shared/conformance/transcripts")

    /// A Python with `websockets`: `CHSK_PYTHON`, the CI venv (`.build-venv`), or `python3`.
    static let python: String? = {
        var candidates = [chskRoot.appendingPathComponent(".build-venv/bin/python").path, "/usr/bin/python3", "/usr/local/bin/python3"]
        if let env = ProcessInfo.processInfo.environment["CHSK_PYTHON"] { candidates.insert(env, at: 0) }
        for path in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") { candidates.append("\(path)/python3") }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            if blockingRun(candidate, ["-c", "import websockets"]) == 0 { return candidate }
        }
        return nil
    }()

    static var available: Bool {
        python != nil && FileManager.default.fileExists(atPath: transcripts.path)
            && FileManager.default.fileExists(atPath: "/usr/bin/curl")
    }

    /// The exit status of a short child (`python -c "import websockets"`), before any server runs.
    static func blockingRun(_ executable: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Runs a child to its end or `timeout` seconds (then kills it); output to a file, so a
    /// chatty child never blocks on a full pipe.
    static func run(_ executable: String, _ arguments: [String], timeout: Double) async -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("chsk-vapor-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        guard let handle = try? FileHandle(forWritingTo: log) else { return (-1, "cannot write \(log.path)") }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return (-1, "\(error)") }
        let deadline = Date().addingTimeInterval(timeout)
        // Waits without blocking a thread of the cooperative pool, which the server needs.
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { process.terminate(); process.waitUntilExit() }
        try? handle.close()
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return (process.terminationStatus, output)
    }

    static func replay(wire: WireOption, files: [String]) async throws {
        try await VaporEchoServer.with(wire: wire, csrfToken: "test-csrf-token", longPollTimeout: .milliseconds(1500),
                                       wsKeepAlive: .milliseconds(2000)) { server in
            let port = server.port
            let result = await run(python!, [script.path, "--port", String(port), "--wire", wire.rawValue] + files, timeout: 300)
            #expect(result.status == 0, "\(result.output)")
            #expect(result.output.contains(" passed, 0 failed"), "\(result.output)")
            print(result.output)
        }
    }

    @Test(.enabled(if: available, "needs python3 with websockets (CHSK_PYTHON), curl and ../shared/conformance/transcripts"))
    func replaysV2Recordings() async throws {
        try await Self.replay(wire: .v2, files: ["sente-1.21.0/ws-edn.txt", "sente-1.21.0/browser-ws.txt", "sente-1.21.0/jvm-client-ws.txt",
                                                "sente-1.21.0/ajax-edn.txt", "sente-1.21.0/browser-ajax.txt"])
    }

    @Test(.enabled(if: available, "needs python3 with websockets (CHSK_PYTHON), curl and ../shared/conformance/transcripts"))
    func replaysV1Recordings() async throws {
        try await Self.replay(wire: .v1, files: ["sente-1.14.0-RC2/ws-edn-v1.txt", "sente-1.14.0-RC2/browser-ws-v1.txt",
                                                "sente-1.14.0-RC2/ajax-edn-v1.txt", "sente-1.14.0-RC2/browser-ajax-v1.txt"])
    }

    @Test(.enabled(if: available, "needs python3 with websockets (CHSK_PYTHON), curl and ../shared/conformance/transcripts"))
    func autoServesBothGenerationsOnOneServer() async throws {
        try await Self.replay(wire: .auto, files: ["sente-1.21.0/ws-edn.txt", "sente-1.14.0-RC2/ws-edn-v1.txt",
                                                  "sente-1.21.0/jvm-client-ws.txt", "sente-1.14.0-RC2/browser-ws-v1.txt"])
    }
}
