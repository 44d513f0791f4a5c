import Foundation
import TestSupport

/// Runs the built `chsk` executable as a user would, with stdin bytes, and captures the result.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutBytes: [UInt8]
}

enum CLI {
    /// The package root (two levels above this file's folder).
    static let packageRoot: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `CHSK_BIN` if set, else the debug build product next to the test bundle.
    static var executable: URL {
        if let env = ProcessInfo.processInfo.environment["CHSK_BIN"] { return URL(fileURLWithPath: env) }
        let bundleDir = Bundle.main.bundleURL.deletingLastPathComponent()
        let candidates = [
            bundleDir.appendingPathComponent("chsk"),
            packageRoot.appendingPathComponent(".build/debug/chsk"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[1]
    }

    /// Runs `chsk args…` with `stdin` and a 30 s limit.
    static func run(_ args: [String], stdin: String = "", environment: [String: String] = [:]) throws -> CLIResult {
        try run(args, stdinBytes: Array(stdin.utf8), environment: environment)
    }

    static func run(_ args: [String], stdinBytes: [UInt8], environment: [String: String] = [:]) throws -> CLIResult {
        let r = ChildProcess.run(executable.path, args, stdin: stdinBytes, environment: environment, timeout: 30)
        return CLIResult(status: r.status, stdout: r.stdout, stderr: r.stderr, stdoutBytes: r.stdoutBytes)
    }
}
