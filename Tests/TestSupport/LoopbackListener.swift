import Foundation

/// A listening TCP socket on a free loopback port (127.0.0.1), closed by `close()`: for tests
/// that need a port something listens on, or a hand-written peer.
public struct LoopbackListener: Sendable {
    /// The socket.
    public let fd: Int32
    /// The port it listens on.
    public let port: Int

    /// Why a listener could not be made.
    public enum Failure: Error { case failed(Int32) }

    /// Binds 127.0.0.1 on a port the system picks, and listens.
    public init(backlog: Int32 = 16) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, backlog) == 0 else { throw Failure.failed(errno) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Stops listening (a blocked `accept` returns).
    public func close() {
        _ = shutdown(fd, Int32(SHUT_RDWR))
        _ = Glibc.close(fd)
    }
}
