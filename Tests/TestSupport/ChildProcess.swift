import Foundation

/// Where this checkout's files and the project's shared material are.
public enum Checkout {
    /// The package root (two levels above this file's folder).
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `chsk` executable under test: `$CHSK_BIN` if set, else the debug build product
    /// beside the test bundle, else `.build/debug/chsk`.
    public static var chsk: URL {
        if let env = ProcessInfo.processInfo.environment["CHSK_BIN"] { return URL(fileURLWithPath: env) }
        let sibling = Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("chsk")
        if FileManager.default.isExecutableFile(atPath: sibling.path) { return sibling }
        return packageRoot.appendingPathComponent(".build/debug/chsk")
    }

    /// The project's `shared/` folder: `$SHARED` when set (as `.ci/run` does), else the
    /// `shared` folder beside the package root.
    public static let shared: URL = {
        if let env = ProcessInfo.processInfo.environment["SHARED"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }()
}

/// What a finished child process left: its exit status and everything it wrote.
public struct ChildResult: Sendable {
    /// The exit status (or the signal number for a killed process, as Foundation reports it).
    public var status: Int32
    /// Standard output (with standard error too when the run merged them).
    public var stdoutBytes: [UInt8]
    /// Standard error (empty when the run merged it into standard output).
    public var stderrBytes: [UInt8]
    /// True when the run hit its time limit and the process was killed.
    public var timedOut: Bool

    public var stdout: String { String(decoding: stdoutBytes, as: UTF8.self) }
    public var stderr: String { String(decoding: stderrBytes, as: UTF8.self) }
    /// Standard output and error together (merged runs) or one after the other.
    public var output: String { stdout + stderr }
}

/// Runs child processes for tests without any unbounded wait: one poll(2) loop feeds stdin and
/// drains stdout and stderr (so a chatty child can never fill a pipe and block), the time
/// limit kills the child, and a grandchild that keeps a pipe open (a daemonising `tmux`)
/// cannot hold the test past the child's own exit.
public enum ChildProcess {
    /// Runs `executable arguments…` to completion or `timeout` seconds.
    /// - Parameters:
    ///   - stdin: bytes for standard input, then end of file; `nil` gives `/dev/null`.
    ///   - mergeStderr: write standard error into `stdoutBytes`, in order.
    ///   - environment: variables added to this process's environment.
    public static func run(_ executable: String, _ arguments: [String], stdin: [UInt8]? = nil,
                           mergeStderr: Bool = false, environment: [String: String] = [:],
                           timeout: TimeInterval = 120) -> ChildResult {
        ignoreSIGPIPE
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            var env = ProcessInfo.processInfo.environment
            for (k, v) in environment { env[k] = v }
            process.environment = env
        }
        let outPipe = Pipe()
        let errPipe = mergeStderr ? outPipe : Pipe()
        let inPipe = stdin == nil ? nil : Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = inPipe ?? FileHandle.nullDevice
        do { try process.run() } catch {
            return ChildResult(status: -1, stdoutBytes: [], stderrBytes: Array("\(error)".utf8), timedOut: false)
        }
        // Our copies of the write ends must go, or we never see end of file.
        try? outPipe.fileHandleForWriting.close()
        if !mergeStderr { try? errPipe.fileHandleForWriting.close() }

        var pending = stdin ?? []
        var inFD: Int32 = -1
        if let inPipe {
            try? inPipe.fileHandleForReading.close()
            inFD = inPipe.fileHandleForWriting.fileDescriptor
            _ = fcntl(inFD, F_SETFL, fcntl(inFD, F_GETFL) | O_NONBLOCK)
            if pending.isEmpty { try? inPipe.fileHandleForWriting.close(); inFD = -1 }
        }
        var sinks: [(fd: Int32, isErr: Bool)] = [(outPipe.fileHandleForReading.fileDescriptor, false)]
        if !mergeStderr { sinks.append((errPipe.fileHandleForReading.fileDescriptor, true)) }
        var out: [UInt8] = [], err: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        var exitedAt: Date?
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !sinks.isEmpty || inFD >= 0 {
            if Date() >= deadline { timedOut = true; break }
            if !process.isRunning {
                // Drain what is buffered; give a grandchild holding the pipes 1 s, no more.
                if exitedAt == nil { exitedAt = Date() }
                if Date().timeIntervalSince(exitedAt!) > 1 { break }
            }
            var fds = sinks.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            if inFD >= 0 { fds.append(pollfd(fd: inFD, events: Int16(POLLOUT), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), 50)
            if ready <= 0 { continue }
            var closed: Set<Int32> = []
            for p in fds where p.revents != 0 {
                if p.fd == inFD {
                    let n = pending.withUnsafeBytes { write(inFD, $0.baseAddress, min($0.count, 65_536)) }
                    if n > 0 { pending.removeFirst(n) }
                    if n < 0 && errno != EAGAIN && errno != EINTR { pending = [] }
                    if pending.isEmpty { inPipe.map { try? $0.fileHandleForWriting.close() }; inFD = -1 }
                    continue
                }
                let n = buffer.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    if sinks.first(where: { $0.fd == p.fd })?.isErr == true { err += buffer[0..<n] } else { out += buffer[0..<n] }
                } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                    closed.insert(p.fd)
                }
            }
            sinks.removeAll { closed.contains($0.fd) }
        }
        if inFD >= 0 { inPipe.map { try? $0.fileHandleForWriting.close() } }
        stop(process, grace: timedOut ? 2 : 10)
        return ChildResult(status: process.isRunning ? -SIGKILL : process.terminationStatus, stdoutBytes: out, stderrBytes: err, timedOut: timedOut)
    }

    /// Reads `fd` until end of file or `timeout` seconds, whichever comes first.
    public static func drain(_ fd: Int32, timeout: TimeInterval) -> [UInt8] {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 50) <= 0 { continue }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 { data += buffer[0..<n] } else if n == 0 || (errno != EAGAIN && errno != EINTR) { break }
        }
        return data
    }

    /// SIGTERM, up to `grace` seconds, then SIGKILL; returns once the process is gone.
    public static func stop(_ process: Process, grace: TimeInterval) {
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        // Foundation notices the exit on its own thread; bounded wait for it.
        let hard = Date().addingTimeInterval(10)
        while process.isRunning && Date() < hard { usleep(10_000) }
    }

    /// Writes to a pipe whose reader has gone must fail with EPIPE, not kill the test process.
    private static let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN); return () }()

    /// A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close).
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        return ok ? Int(UInt16(bigEndian: addr.sin_port)) : 0
    }
}

/// Work on its own thread whose end is signalled by a semaphore, so a waiting test never
/// depends on `Thread.isFinished` (seen stuck at false after the thread had exited) and never
/// waits past its own limit.
public final class BackgroundJob<T: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var result: T?

    public init(_ body: @escaping @Sendable () -> T) {
        let thread = Thread { [self] in
            let value = body()
            lock.withLock { result = value }
            done.signal()
        }
        thread.start()
    }

    /// True once the body has returned.
    public var isDone: Bool { lock.withLock { result != nil } }

    /// The body's result, waiting up to `timeout` seconds; `nil` if it has not returned by then.
    public func wait(timeout: TimeInterval) -> T? {
        if let r = lock.withLock({ result }) { return r }
        _ = done.wait(timeout: .now() + timeout)
        return lock.withLock { result }
    }
}

/// A value shared between a test and its helper threads.
public final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    public init(_ value: T) { stored = value }
    public var value: T {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
