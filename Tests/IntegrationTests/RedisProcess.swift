import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// A `redis-server` of this test's own on a free loopback port (no persistence), that a test
/// can kill and start again on the same port. `.ci/run` installs Debian's redis-server; on a
/// machine without it the cluster tests are skipped with one line saying so (in CI they fail).
final class RedisProcess: @unchecked Sendable {
    static let executable: String? = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }
    static let cli: String? = ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// True when the tests can run: redis-server is here, or this is CI (which must have it:
    /// the test then fails rather than skips).
    static let isAvailable: Bool = {
        if executable != nil && cli != nil { return true }
        if ProcessInfo.processInfo.environment["CI"] != nil { return true }
        print("note: redis-server/redis-cli not found: the Redis cluster tests are skipped (apt-get install redis-server, or run .ci/run)")
        return false
    }()

    let port: Int
    let password: String?
    let directory: URL
    private var process: Process?

    var url: String { "redis://\(password.map { ":\($0)@" } ?? "")127.0.0.1:\(port)" }

    /// The server's Unix socket (`unix://` + this).
    var socketPath: String { directory.appendingPathComponent("redis.sock").path }

    init(password: String? = nil) throws {
        port = ChildProcess.freePort()
        self.password = password
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("chsk-redis-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try start()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    enum Failure: Error { case missing, didNotStart(String) }

    /// Starts the server (again) on the same port and waits until it answers PING.
    func start() throws {
        guard let executable = Self.executable else { throw Failure.missing }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        var args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                    "--dir", directory.path, "--logfile", directory.appendingPathComponent("redis.log").path]
        args += ["--unixsocket", socketPath, "--unixsocketperm", "700"]
        if let password { args += ["--requirepass", password] }
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        process = p
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if cli(["PING"]).contains("PONG") { return }
            usleep(20_000)
        }
        throw Failure.didNotStart((try? String(contentsOf: directory.appendingPathComponent("redis.log"), encoding: .utf8)) ?? "")
    }

    /// SIGKILL (no save, no goodbye), and waits until it is gone.
    func kill() {
        guard let p = process else { return }
        Glibc.kill(p.processIdentifier, SIGKILL)
        let deadline = Date().addingTimeInterval(10)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        process = nil
    }

    /// Stops the server (SIGKILL: it keeps nothing, and a child of the test process may have
    /// SIGTERM blocked, inherited from the spawning thread's signal mask).
    func stop() { kill() }

    /// Runs redis-cli against this server; its output.
    @discardableResult
    func cli(_ args: [String]) -> String {
        guard let cli = Self.cli else { return "" }
        let auth = password.map { ["-a", $0, "--no-auth-warning"] } ?? []
        return ChildProcess.run(cli, ["-h", "127.0.0.1", "-p", String(port)] + auth + args, timeout: 10).stdout
    }
}
