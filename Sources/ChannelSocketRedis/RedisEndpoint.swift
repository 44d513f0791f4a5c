/// Where a Redis server is and how to log in, read from a URL:
/// `redis://[[user]:password@]host[:port][/db]` (port 6379, db 0 by default; `[::1]` for IPv6)
/// or `unix:///path/to/redis.sock[?db=N]`. `rediss://` (TLS) is not supported.
public struct RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// A TCP host and port, or a Unix socket path.
    public enum Address: Sendable, Equatable {
        /// Host name or IP address, and port.
        case tcp(host: String, port: Int)
        /// Path of a Unix domain socket.
        case unix(path: String)
    }

    /// Where the server listens.
    public var address: Address
    /// The ACL user (`AUTH user password`); `nil` for the default user.
    public var username: String?
    /// The password (`AUTH`); `nil`: no `AUTH`.
    public var password: String?
    /// The database (`SELECT`).
    public var database: Int

    /// An endpoint.
    public init(address: Address, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.address = address
        self.username = username
        self.password = password
        self.database = database
    }

    /// Reads a `redis://` or `unix://` URL; a malformed one throws `RedisBrokerError.badURL`
    /// with the reason.
    public init(url: String) throws(RedisBrokerError) {
        func bad(_ why: String) -> RedisBrokerError { .badURL(url, why) }
        if url.hasPrefix("rediss://") { throw bad("TLS (rediss://) is not supported; use redis:// on a trusted network or a TLS tunnel") }
        if url.hasPrefix("unix://") {
            var rest = String(url.dropFirst("unix://".count))
            var database = 0
            if let q = rest.firstIndex(of: "?") {
                let query = rest[rest.index(after: q)...]
                rest = String(rest[..<q])
                for pair in query.split(separator: "&") {
                    let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
                    guard kv.count == 2, kv[0] == "db", let n = Int(kv[1]), n >= 0 else { throw bad("only ?db=N is understood after a socket path") }
                    database = n
                }
            }
            guard rest.hasPrefix("/") else { throw bad("a unix:// URL needs an absolute socket path (unix:///run/redis.sock)") }
            self.init(address: .unix(path: rest), database: database)
            return
        }
        guard url.hasPrefix("redis://") else { throw bad("expected redis://host[:port][/db] or unix:///path") }
        var rest = Substring(url.dropFirst("redis://".count))
        var username: String?, password: String?
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                let user = String(userinfo[..<colon])
                username = user.isEmpty ? nil : try Self.percentDecoded(user, url)
                password = try Self.percentDecoded(String(userinfo[userinfo.index(after: colon)...]), url)
            } else if !userinfo.isEmpty {
                password = try Self.percentDecoded(String(userinfo), url)   // redis://password@host, as redis-cli takes it
            }
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !db.isEmpty {
                guard let n = Int(db), n >= 0 else { throw bad("the database after / must be a number") }
                database = n
            }
        }
        var host: Substring, port = 6379
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw bad("unclosed [ in an IPv6 address") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()) else { throw bad("expected :port after ]") }
                port = p
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let p = Int(rest[rest.index(after: colon)...]) else { throw bad("the port must be a number") }
            port = p
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw bad("no host") }
        guard (1...65535).contains(port) else { throw bad("port \(port) is out of range") }
        self.init(address: .tcp(host: String(host), port: port), username: username, password: password, database: database)
    }

    private static func percentDecoded(_ s: String, _ url: String) throws(RedisBrokerError) -> String {
        guard s.contains("%") else { return s }
        var out: [UInt8] = []
        var bytes = Array(s.utf8)[...]
        while let b = bytes.popFirst() {
            if b == UInt8(ascii: "%") {
                guard bytes.count >= 2, let v = UInt8(String(decoding: bytes.prefix(2), as: UTF8.self), radix: 16) else {
                    throw .badURL(url, "bad %-escape in the user or password")
                }
                out.append(v)
                bytes = bytes.dropFirst(2)
            } else {
                out.append(b)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The URL without its password (for logs).
    public var description: String {
        let auth = password == nil ? "" : "\(username ?? ""):***@"
        switch address {
        case .tcp(let host, let port):
            let h = host.contains(":") ? "[\(host)]" : host
            return "redis://\(auth)\(h):\(port)\(database == 0 ? "" : "/\(database)")"
        case .unix(let path):
            return "unix://\(path)\(database == 0 ? "" : "?db=\(database)")"
        }
    }
}
