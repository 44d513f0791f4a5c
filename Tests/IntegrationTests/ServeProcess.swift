import Foundation
import TestSupport

/// A `chsk serve` child process on a free loopback port, stopped at the end of a test.
final class ServeProcess: @unchecked Sendable {
    static var packageRoot: URL { Checkout.packageRoot }
    static var executable: URL { Checkout.chsk }

    /// A Python with the `websockets` package: CHSK_PYTHON, the CI venv, or python3. In CI
    /// (env `CI` set) a missing one is not a reason to skip: `python3` is returned and the
    /// tests fail on its `ModuleNotFoundError`.
    static let python: String? = {
        if let found = pythonWithWebSockets { return found }
        return ProcessInfo.processInfo.environment["CI"] != nil ? "/usr/bin/python3" : nil
    }()

    static let pythonWithWebSockets: String? = {
        var candidates = [packageRoot.appendingPathComponent(".build-venv/bin/python").path, "/usr/bin/python3"]
        if let env = ProcessInfo.processInfo.environment["CHSK_PYTHON"] { candidates.insert(env, at: 0) }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate) {
            if ChildProcess.run(candidate, ["-c", "import websockets"], timeout: 30).status == 0 { return candidate }
        }
        return nil
    }()

    /// Whether the socket tests driven by Python `websockets` run; the first call without it
    /// prints one note saying what is skipped and how to enable it. In CI they always run.
    static let hasPython: Bool = {
        if python != nil { return true }
        print("""
            note: Python with the `websockets` package not found (tried CHSK_PYTHON, .build-venv/bin/python, \
            /usr/bin/python3): the socket tests driven by it are skipped (ServeIntegrationTests: Sente \
            transcripts over WebSocket, WS push/close/ping; HardeningTests: slowloris, frame fuzzing, \
            floods, limits). Enable: python3 -m venv .build-venv && .build-venv/bin/pip install \
            -r Tests/IntegrationTests/requirements.txt, or \
            set CHSK_PYTHON to a python that has websockets >= 13; .ci/run does this
            """)
        return false
    }()

    let process = Process()
    let stdin = Pipe()
    let stdout = Pipe()
    let stderr = Pipe()
    private(set) var port = 0
    private let errLock = NSLock()
    private var errData = Data()
    private var outLines: [String] = []

    /// - Parameter input: lines already waiting on stdin when the server starts (a script
    ///   piped in), or nil to type them later with `type(_:)`.
    init(_ arguments: [String], input: String? = nil) throws {
        process.executableURL = Self.executable
        process.arguments = ["serve"] + (arguments.contains("--port") ? [] : ["--port", "0"]) + arguments
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        stderr.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self else { return }
            self.errLock.lock(); self.errData.append(d); self.errLock.unlock()
        }
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try process.run()
        // The first stdout line (not a TTY) is the bound port.
        port = Int(Self.readLine(stdout.fileHandleForReading.fileDescriptor, timeout: 20) ?? "") ?? 0
        if port == 0 { throw ServeError.noPort(log) }
    }

    enum ServeError: Error { case noPort(String) }

    /// Everything the server logged so far.
    var log: String { errLock.lock(); defer { errLock.unlock() }; return String(decoding: errData, as: UTF8.self) }

    /// Types a line at the server's prompt.
    func type(_ line: String) {
        stdin.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// Reads the next stdout line (prompt output), up to `timeout` seconds.
    func readLine(timeout: TimeInterval = 10) -> String? {
        Self.readLine(stdout.fileHandleForReading.fileDescriptor, timeout: timeout)
    }

    /// Reads one line from a file descriptor, never blocking past `timeout` (poll(2) before
    /// every read), so a silent child process cannot hang a test.
    static func readLine(_ fd: Int32, timeout: TimeInterval) -> String? {
        var line: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let remaining = deadline.timeIntervalSinceNow
            if remaining <= 0 { return nil }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, Int32(min(remaining, 1) * 1000))
            if ready <= 0 { continue }
            var byte: UInt8 = 0
            let n = read(fd, &byte, 1)
            if n <= 0 { return line.isEmpty ? nil : String(decoding: line, as: UTF8.self) }
            if byte == 10 { return String(decoding: line, as: UTF8.self) }
            line.append(byte)
        }
    }

    /// Sends SIGTERM and waits; returns the exit status and the seconds it took.
    func terminate() -> (status: Int32, seconds: Double) {
        let start = Date()
        ChildProcess.stop(process, grace: 15)
        return (process.isRunning ? -SIGKILL : process.terminationStatus, Date().timeIntervalSince(start))
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

    /// Runs a command with a time limit; returns status and output (stdout and stderr merged).
    static func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 300) -> (status: Int32, output: String) {
        let r = ChildProcess.run(executable, arguments, mergeStderr: true, timeout: timeout)
        return (r.status, r.output)
    }
}
