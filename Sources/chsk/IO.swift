#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Unbuffered-by-libc byte output to a file descriptor, with our own buffer (no Foundation,
/// no global `stdout` var, so strict concurrency stays clean).
struct ByteSink {
    let fd: Int32
    private(set) var buffer: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(1 << 16)
    }

    mutating func write(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { flush() }
    }

    mutating func write(_ s: String) { write(s.utf8) }

    mutating func flush() {
        var offset = 0
        buffer.withUnsafeBytes { p in
            while offset < p.count {
                let n = Glibc.write(fd, p.baseAddress! + offset, p.count - offset)
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

enum InputError: Error, CustomStringConvertible {
    case cannotOpen(String, String)
    case readFailed(String, String)

    var description: String {
        switch self {
        case .cannotOpen(let path, let why): "cannot open \(path): \(why)"
        case .readFailed(let path, let why): "cannot read \(path): \(why)"
        }
    }
}

/// Reads a whole file (or stdin for `-`) as bytes.
func readAllBytes(path: String) throws -> [UInt8] {
    let fd: Int32
    if path == "-" {
        fd = 0
    } else {
        fd = open(path, O_RDONLY)
        if fd < 0 { throw InputError.cannotOpen(path, String(cString: strerror(errno))) }
    }
    defer { if fd != 0 { close(fd) } }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n == 0 { break }
        if n < 0 {
            if errno == EINTR { continue }
            throw InputError.readFailed(path == "-" ? "stdin" : path, String(cString: strerror(errno)))
        }
        out.append(contentsOf: chunk[0..<n])
    }
    return out
}

/// True when the file descriptor is a terminal.
func isTerminal(_ fd: Int32) -> Bool { isatty(fd) == 1 }

/// Prints `chsk: message` on stderr.
func printError(_ message: String) {
    var sink = ByteSink(fd: 2)
    sink.write("chsk: \(message)\n")
    sink.flush()
}

/// What `chsk serve` prints when it cannot listen on `host:port` (a failed `bind`: address in
/// use, permission denied, address not on this machine), or nil for any other error.
func listenFailure(_ error: any Error, host: String, port: Int) -> String? {
    guard let io = error as? IOError, "\(io)".contains("bind(") else { return nil }
    let cause: String
    switch io.errnoCode {
    case EADDRINUSE: cause = "address already in use"
    case EACCES: cause = "permission denied (ports below 1024 need privileges)"
    case EADDRNOTAVAIL: cause = "no such address on this machine"
    default: cause = String(cString: strerror(io.errnoCode)).lowercased()
    }
    let address = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    return "cannot listen on \(address): \(cause)"
}

/// The exit code of `chsk serve` when it cannot listen.
let cannotListenExitCode: Int32 = 3

/// Reads `fd` to its end with blocking reads, calling `body` with each line (without its
/// newline; with `droppingCarriageReturns`, without a `\r` before it too) and then with an
/// unterminated last line, if any.
func readLines(fd: Int32, droppingCarriageReturns: Bool = false, _ body: (String) -> Void) {
    var buffer: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(fd, &chunk, chunk.count)
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { break }
        buffer += chunk[0..<n]
        while let newline = buffer.firstIndex(of: 10) {
            var end = newline
            if droppingCarriageReturns, end > 0, buffer[end - 1] == 13 { end -= 1 }
            body(String(decoding: buffer[..<end], as: UTF8.self))
            buffer.removeSubrange(...newline)
        }
    }
    if !buffer.isEmpty { body(String(decoding: buffer, as: UTF8.self)) }
}
