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
    static var packageRoot: URL { Checkout.packageRoot }
    static var executable: URL { Checkout.chsk }

    /// Runs `chsk args…` with `stdin` and a 30 s limit.
    static func run(_ args: [String], stdin: String = "", environment: [String: String] = [:]) throws -> CLIResult {
        try run(args, stdinBytes: Array(stdin.utf8), environment: environment)
    }

    static func run(_ args: [String], stdinBytes: [UInt8], environment: [String: String] = [:]) throws -> CLIResult {
        let r = ChildProcess.run(executable.path, args, stdin: stdinBytes, environment: environment, timeout: 30)
        return CLIResult(status: r.status, stdout: r.stdout, stderr: r.stderr, stdoutBytes: r.stdoutBytes)
    }
}
