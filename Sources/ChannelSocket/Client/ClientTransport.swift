/// What a channel-socket client needs from the network: WebSocket connections and HTTP
/// requests. `ChannelSocketClientNIO` implements it over swift-websocket and AsyncHTTPClient;
/// `ChannelSocketTesting.InMemoryTransport` connects straight to a `ChannelSocketServer`.
public protocol ClientTransport: Sendable {
    /// Opens a WebSocket; throws when the connection or upgrade fails (e.g. HTTP 403).
    func connectWebSocket(url: String, headers: [String: String], maxMessageBytes: Int) async throws -> any ClientWebSocket
    /// Opens a WebSocket checking the server's certificate as `tls` says (`wss://`). The
    /// default implementation ignores `tls` (transports without TLS, such as in-memory ones).
    func connectWebSocket(url: String, headers: [String: String], maxMessageBytes: Int, tls: ClientTLS) async throws -> any ClientWebSocket
    /// Performs an HTTP request, failing after `timeout` (checking the server's certificate as
    /// `request.tls` says, for `https://`).
    func http(_ request: ClientHTTPRequest, timeout: Duration) async throws -> ClientHTTPResponse
}

extension ClientTransport {
    /// Opens the WebSocket without TLS settings (`connectWebSocket(url:headers:maxMessageBytes:)`).
    public func connectWebSocket(url: String, headers: [String: String], maxMessageBytes: Int, tls: ClientTLS) async throws -> any ClientWebSocket {
        try await connectWebSocket(url: url, headers: headers, maxMessageBytes: maxMessageBytes)
    }
}

/// One open client WebSocket.
public protocol ClientWebSocket: Sendable {
    /// Inbound messages, then one `.closed`; the stream finishes after it.
    var events: AsyncStream<ClientWebSocketEvent> { get }
    /// Sends a message.
    func send(_ message: [UInt8], binary: Bool) async throws
    /// Closes the socket.
    func close(code: UInt16, reason: String) async
}

/// What a client WebSocket reports.
public enum ClientWebSocketEvent: Sendable {
    /// A text or binary message.
    case message([UInt8])
    /// The socket closed: close code (1006 when there was no close frame), reason, and whether
    /// the close was a clean close handshake.
    case closed(code: UInt16, reason: String, clean: Bool)
}

/// An HTTP request of the Ajax transport.
public struct ClientHTTPRequest: Sendable {
    /// `GET` or `POST`.
    public var method: String
    /// Full URL with query.
    public var url: String
    /// Header fields.
    public var headers: [String: String]
    /// Body bytes (POST).
    public var body: [UInt8]?
    /// How the server's certificate is checked (`https://`).
    public var tls: ClientTLS

    /// A request.
    public init(method: String, url: String, headers: [String: String] = [:], body: [UInt8]? = nil, tls: ClientTLS = ClientTLS()) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.tls = tls
    }
}

/// An HTTP response.
public struct ClientHTTPResponse: Sendable {
    /// Status code.
    public var status: Int
    /// Body bytes.
    public var body: [UInt8]

    /// A response.
    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// A failed transport operation.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// HTTP status when the server refused (e.g. 403 on the WebSocket upgrade), else nil.
    public var status: Int?
    /// What happened.
    public var message: String

    /// True when the request got no answer within its timeout (an Ajax long-poll that simply
    /// ended, not a failure to connect).
    public var isTimeout = false

    /// A transport error.
    public init(status: Int? = nil, _ message: String) {
        self.status = status
        self.message = message
    }

    /// A request that got no answer within its timeout.
    public init(timedOut message: String) {
        self.message = message
        self.isTimeout = true
    }

    public var description: String { status.map { "HTTP \($0): \(message)" } ?? message }
}

/// A channel-socket URL taken apart, and checked before any connection is tried, so that a
/// malformed one is a clear error rather than whatever the network stack makes of it (a port
/// past 65535 is a runtime trap deep in NIO).
public struct ClientURL: Sendable, Equatable {
    /// `https` or `wss`.
    public let secure: Bool
    /// The host, without the brackets of an IPv6 literal.
    public let host: String
    /// The port, if the URL gives one.
    public let port: Int?
    /// The path and query (`/` when there is none).
    public let target: String

    /// Takes `url` apart, or throws why it cannot be connected to: the scheme must be `http`,
    /// `https`, `ws` or `wss`, the host present, and a port, if given, 1…65535.
    public init(_ url: String) throws(TransportError) {
        let lower = url.lowercased()
        guard let scheme = ["http://", "https://", "ws://", "wss://"].first(where: { lower.hasPrefix($0) }) else {
            throw TransportError("URL must start with http://, https://, ws:// or wss://: \(url)")
        }
        let rest = url.dropFirst(scheme.count)
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        let host: Substring
        var port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw TransportError("unclosed [ in the host of \(url)") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw TransportError("unexpected \(after) after the host of \(url)") }
                port = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        if host.isEmpty { throw TransportError("no host in \(url)") }
        var number: Int?
        if let port {
            guard let n = Int(port), (1...65_535).contains(n) else {
                throw TransportError("port \(port.isEmpty ? "(empty)" : String(port)) of \(url) is not 1…65535")
            }
            number = n
        }
        let target = rest[authorityEnd...].prefix { $0 != "#" }
        self.secure = scheme == "https://" || scheme == "wss://"
        self.host = String(host)
        self.port = number
        self.target = target.hasPrefix("/") ? String(target) : "/" + target
    }

    /// `host:port` of `url` for messages (the default port filled in; the URL itself when it
    /// does not parse).
    public static func address(of url: String) -> String {
        guard let u = try? ClientURL(url) else { return url }
        let host = u.host.contains(":") ? "[\(u.host)]" : u.host
        return "\(host):\(u.port ?? (u.secure ? 443 : 80))"
    }

    /// Why `url` cannot be connected to, or nil when it can (see `init`).
    public static func problem(_ url: String) -> String? {
        do {
            _ = try ClientURL(url)
            return nil
        } catch {
            return error.message
        }
    }
}
