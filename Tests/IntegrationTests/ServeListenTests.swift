import Foundation
import TestSupport
import Testing

/// `chsk serve` on an address it cannot listen on says so in one line (the address and the
/// cause, no NIO call names) and exits 3.
@Suite(.serialized) struct ServeListenTests {
    /// A listening TCP socket on a free loopback port, closed by `close()`.
    struct Listener {
        let fd: Int32
        let port: Int

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard fd >= 0, bound == 0, listen(fd, 4) == 0 else { throw ListenerError.failed(errno) }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            self.fd = fd
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        func close() { _ = Glibc.close(fd) }
    }

    enum ListenerError: Error { case failed(Int32) }

    @Test func busyPortIsOneHumanLine() throws {
        let listener = try Listener()
        defer { listener.close() }
        let r = ChildProcess.run(ServeProcess.executable.path, ["serve", "--port", String(listener.port)], timeout: 30)
        #expect(!r.timedOut)
        #expect(r.status == 3, "\(r.output)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "chsk: cannot listen on 127.0.0.1:\(listener.port): address already in use\n", "\(r.stderr)")
    }

    @Test func addressNotOnThisMachine() {
        // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never a local address.
        let r = ChildProcess.run(ServeProcess.executable.path, ["serve", "--host", "192.0.2.1", "--port", "8090"], timeout: 30)
        #expect(!r.timedOut)
        #expect(r.status == 3, "\(r.output)")
        #expect(r.stderr == "chsk: cannot listen on 192.0.2.1:8090: no such address on this machine\n", "\(r.stderr)")
    }
}
