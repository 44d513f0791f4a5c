import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A loopback TCP connection for tests that need what a client library hides: a client that
/// hangs up mid-poll, exact status lines, raw WebSocket frames. Every read has a time limit
/// (`SO_RCVTIMEO`), so nothing waits forever. The blocking calls run on a thread of their
/// own (`async` methods), never on Swift's cooperative pool, which the server under test
/// needs (2 threads on a 2-core machine).
final class RawSocket: @unchecked Sendable {
    private let fd: Int32
    private var buffer: [UInt8] = []
    private(set) var isClosed = false

    /// A connection to 127.0.0.1:`port`; `receiveBuffer` shrinks the kernel's receive buffer
    /// (for a client that does not read).
    init(port: Int, readTimeout: Double = 10, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure.socket(errno) }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { let e = errno; Glibc.close(fd); throw Failure.connect(e) }
        var timeout = timeval(tv_sec: Int(readTimeout), tv_usec: Int((readTimeout - Double(Int(readTimeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var on: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close() }

    enum Failure: Error, Equatable { case socket(Int32), connect(Int32), closed, timeout, malformed(String) }

    func sendBlocking(_ text: String) throws { try sendBlocking(Array(text.utf8)) }

    func sendBlocking(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw Failure.closed }
            offset += n
        }
    }

    /// Closes the connection (the client hangs up).
    func close() {
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }

    /// Reads more bytes into the buffer; false at end of stream.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { return false }
        if n < 0 { throw errno == EAGAIN || errno == EWOULDBLOCK ? Failure.timeout : Failure.closed }
        buffer += chunk[..<n]
        return true
    }

    private func take(_ n: Int) throws -> [UInt8] {
        while buffer.count < n { guard try fill() else { throw Failure.closed } }
        defer { buffer.removeFirst(n) }
        return Array(buffer[..<n])
    }

    private func line() throws -> String {
        while true {
            if let i = buffer.firstIndex(of: 10) {
                let bytes = buffer[..<i]
                buffer.removeFirst(i + 1)
                return String(decoding: bytes.last == 13 ? bytes.dropLast() : bytes, as: UTF8.self)
            }
            guard try fill() else { throw Failure.closed }
        }
    }

    /// One HTTP/1.1 response: status, lower-cased headers, body (by `Content-Length` or chunked).
    struct Response: Sendable {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    func readResponseBlocking() throws -> Response {
        let statusLine = try line()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw Failure.malformed(statusLine) }
        var headers: [String: String] = [:]
        while true {
            let header = try line()
            if header.isEmpty { break }
            if let colon = header.firstIndex(of: ":") {
                headers[header[..<colon].lowercased()] = header[header.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        var body: [UInt8] = []
        if status == 101 {
        } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
            while true {
                let size = Int(try line().split(separator: ";")[0], radix: 16) ?? 0
                if size == 0 { _ = try line(); break }
                body += try take(size)
                _ = try line()
            }
        } else if let length = headers["content-length"].flatMap({ Int($0) }) {
            body = try take(length)
        }
        return Response(status: status, headers: headers, body: String(decoding: body, as: UTF8.self))
    }

    /// `GET target` on this connection (keep-alive), then its response.
    func getBlocking(_ target: String, headers: [String: String] = [:]) throws -> Response {
        try sendBlocking("GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers.map { "\($0): \($1)\r\n" }.joined() + "\r\n")
        return try readResponseBlocking()
    }

    /// `POST target` with a form body.
    func postBlocking(_ target: String, form: String, headers: [String: String] = [:]) throws -> Response {
        try sendBlocking("POST \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n"
                 + headers.map { "\($0): \($1)\r\n" }.joined() + "\r\n" + form)
        return try readResponseBlocking()
    }

    // MARK: WebSocket

    /// Sends the upgrade request for `target` and reads the answer.
    func upgradeBlocking(_ target: String, headers: [String: String] = [:]) throws -> Response {
        try sendBlocking("GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                 + headers.map { "\($0): \($1)\r\n" }.joined() + "\r\n")
        return try readResponseBlocking()
    }

    /// Sends one client frame, masked unless told otherwise (a client must mask).
    func sendFrameBlocking(opcode: UInt8, _ payload: [UInt8], fin: Bool = true, masked: Bool = true) throws {
        var frame: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        let n = payload.count
        let maskBit: UInt8 = masked ? 0x80 : 0
        if n < 126 { frame.append(maskBit | UInt8(n)) }
        else if n < 65536 { frame += [maskBit | 126, UInt8(n >> 8), UInt8(n & 0xff)] }
        else { frame.append(maskBit | 127); for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((n >> shift) & 0xff)) } }
        guard masked else { return try sendBlocking(frame + payload) }
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try sendBlocking(frame)
    }

    /// Reads one server frame: opcode and payload.
    func readFrameBlocking() throws -> (opcode: UInt8, payload: [UInt8]) {
        let head = try take(2)
        var length = Int(head[1] & 0x7f)
        if length == 126 { let b = try take(2); length = Int(b[0]) << 8 | Int(b[1]) }
        else if length == 127 { length = try take(8).reduce(0) { $0 << 8 | Int($1) } }
        return (head[0] & 0x0f, try take(length))
    }

    /// Reads frames until a close frame; its code (nil when the connection ended without one).
    func readCloseCodeBlocking() throws -> UInt16? {
        while true {
            let frame: (opcode: UInt8, payload: [UInt8])
            do { frame = try readFrameBlocking() } catch Failure.closed { return nil }
            if frame.opcode == 8 {
                return frame.payload.count >= 2 ? UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1]) : 1005
            }
        }
    }

    // MARK: Off the cooperative pool

    /// Runs a blocking call on a new thread.
    private func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    func send(_ text: String) async throws { try await offPool { try self.sendBlocking(text) } }
    func readResponse() async throws -> Response { try await offPool { try self.readResponseBlocking() } }
    func get(_ target: String, headers: [String: String] = [:]) async throws -> Response {
        try await offPool { try self.getBlocking(target, headers: headers) }
    }
    func post(_ target: String, form: String, headers: [String: String] = [:]) async throws -> Response {
        try await offPool { try self.postBlocking(target, form: form, headers: headers) }
    }
    func upgrade(_ target: String, headers: [String: String] = [:]) async throws -> Response {
        try await offPool { try self.upgradeBlocking(target, headers: headers) }
    }
    func sendFrame(opcode: UInt8, _ payload: [UInt8], fin: Bool = true, masked: Bool = true) async throws {
        try await offPool { try self.sendFrameBlocking(opcode: opcode, payload, fin: fin, masked: masked) }
    }
    func readFrame() async throws -> (opcode: UInt8, payload: [UInt8]) {
        let frame = try await offPool { () -> Frame in let f = try self.readFrameBlocking(); return Frame(opcode: f.opcode, payload: f.payload) }
        return (frame.opcode, frame.payload)
    }
    func readCloseCode() async throws -> UInt16? { try await offPool { try self.readCloseCodeBlocking() } }

    struct Frame: Sendable { var opcode: UInt8; var payload: [UInt8] }
}
