import AsyncHTTPClient
import HTTPTypes
public import ChannelSocket
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import NIOWebSocket
import Synchronization
import WSClient
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real network transport of `ChannelSocketClient`: WebSockets with swift-websocket's
/// `WebSocketClient` (structured concurrency, same frame types as the Hummingbird server, custom
/// upgrade headers) and Ajax with AsyncHTTPClient (NIO-native, per-request deadlines, no
/// Foundation at run time). Both support TLS (`wss://`, `https://`).
public struct NIOClientTransport: ClientTransport {
    let httpClient: HTTPClient
    let logger: Logger
    let warnings: Logger
    /// How long closing a WebSocket waits for the server's close before closing TCP.
    let closeTimeout: Duration

    /// One HTTP client per process. Unlike `HTTPClient.shared` it does not retry failed
    /// connection attempts until the request deadline: a refused connection must surface at
    /// once (Sente's client then backs off), not look like a long-poll timeout.
    static let sharedHTTPClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        // Every Ajax client holds a long-poll open; AHC's default of 8 connections per host
        // would queue the 9th client's requests behind them.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 20_000
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration,
                          backgroundActivityLogger: Logger(label: "chsk.http", factory: { _ in SwiftLogNoOpLogHandler() }))
    }()

    /// A transport (sharing one HTTP client per process).
    /// - Parameters:
    ///   - logger: what the WebSocket library logs.
    ///   - closeTimeout: how long closing a WebSocket waits for the server's answering close
    ///     frame (so that the server has read every frame sent before) before closing TCP.
    ///   - warnings: where the transport says what it dropped: a server message over the size
    ///     limit (the connection is closed with 1009 and the client reconnects without it).
    public init(logger: Logger = Logger(label: "chsk.client", factory: { _ in SwiftLogNoOpLogHandler() }),
                closeTimeout: Duration = .seconds(2),
                warnings: Logger = Logger(label: "chsk.client", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.httpClient = Self.sharedHTTPClient
        self.logger = logger
        self.closeTimeout = closeTimeout
        self.warnings = warnings
    }

    public func connectWebSocket(url: String, headers: [String: String], maxMessageBytes: Int) async throws -> any ClientWebSocket {
        try await connectWebSocket(url: url, headers: headers, maxMessageBytes: maxMessageBytes, tls: ClientTLS())
    }

    /// Opens a WebSocket; for `wss://`, checks the server's certificate as `tls` says. An IP
    /// address host (`wss://127.0.0.1`) is checked against the certificate's IP addresses.
    public func connectWebSocket(url: String, headers: [String: String], maxMessageBytes: Int,
                                 tls: ClientTLS) async throws -> any ClientWebSocket {
        let parsed = try ClientURL(url)
        let tlsConfiguration = parsed.secure ? try Self.tlsConfiguration(tls) ?? TLSConfiguration.makeClientConfiguration() : nil
        var fields = HTTPFields()
        for (k, v) in headers {
            // One field each (the subscript would split a Cookie header into one field per pair,
            // which reaches an HTTP/1 server joined with ", ").
            if let name = HTTPField.Name(k) { fields.append(HTTPField(name: name, value: v)) }
        }
        let (events, sink) = AsyncStream.makeStream(of: ClientWebSocketEvent.self, bufferingPolicy: .unbounded)
        let outbox = Outbox()
        let opened = OpenSignal()
        let ended = OpenSignal()
        let logger = self.logger, warnings = self.warnings
        // The WebSocket library drops a frame over its limit without a word (the connection just
        // ends), so its limit is set above ours and ours is checked here, where it can be said.
        let readLimit = max(maxMessageBytes * 4, 1 << 24)
        var configuration = WebSocketClientConfiguration(maxFrameSize: readLimit, additionalHeaders: fields,
                                                         closeTimeout: closeTimeout)
        if parsed.secure && parsed.host.isIPAddress {
            // swift-websocket names the server (SNI) after the URL's host, which TLS forbids for
            // an IP address (NIOSSL refuses: cannotUseIPAddressInSNI). A name that can name no
            // real server (.invalid, RFC 2606) goes instead; the certificate is still checked
            // against the address connected to (its IP address entries), as curl does.
            configuration.sniHostname = Self.ipHostServerName
        }
        let task = Task {
            do {
                let closeFrame = try await WebSocketClient.connect(url: url, configuration: configuration, tlsConfiguration: tlsConfiguration,
                                                                   logger: logger) { inbound, outbound, _ in
                    opened.resolve(nil)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            // Each item's sender waits until its frame is written (or fails).
                            while let item = await outbox.next() {
                                do {
                                    switch item.kind {
                                    case .message(let bytes, binary: true): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                                    case .message(let bytes, binary: false): try await outbound.write(.text(String(decoding: bytes, as: UTF8.self)))
                                    case .close(let code, let reason):
                                        try await outbound.close(WebSocketErrorCode(codeNumber: Int(code)), reason: reason)
                                    }
                                    item.done(nil)
                                } catch {
                                    item.done(error)
                                    throw error
                                }
                                if case .close = item.kind {
                                    outbox.finish()
                                    return
                                }
                            }
                        }
                        do {
                            for try await message in inbound.messages(maxSize: readLimit) {
                                let bytes: [UInt8]
                                switch message {
                                case .text(let text): bytes = Array(text.utf8)
                                case .binary(let buffer): bytes = Array(buffer: buffer)
                                }
                                guard bytes.count <= maxMessageBytes else {
                                    warnings.warning("\(ClientURL.address(of: url)): the server sent a message of \(bytes.count) bytes, over the \(maxMessageBytes)-byte limit; it was dropped and the connection closed (1009)")
                                    try? await outbound.close(WebSocketErrorCode(codeNumber: 1009), reason: "Message too big")
                                    break
                                }
                                sink.yield(.message(bytes))
                            }
                        } catch {
                            outbox.finish()
                            throw error
                        }
                        outbox.finish()
                        group.cancelAll()
                    }
                }
                let code = closeFrame.map { UInt16(webSocketErrorCode: $0.closeCode) } ?? 1005
                sink.yield(.closed(code: code, reason: closeFrame?.reason ?? "", clean: closeFrame != nil))
            } catch {
                if "\(error)".contains("messageTooLarge") {
                    warnings.warning("\(ClientURL.address(of: url)): the server sent a message over \(readLimit) bytes; it was dropped and the connection closed (1009)")
                }
                if !opened.resolve(error) {
                    sink.yield(.closed(code: 1006, reason: describeNetworkError(error), clean: false))
                }
            }
            outbox.finish()
            sink.finish()
            ended.resolve(nil)
        }
        if let error = await opened.wait() {
            if let wsError = error as? WebSocketClientError, wsError == .webSocketUpgradeFailed {
                throw await upgradeRefusal(url: url, headers: headers, tls: tls)
            }
            throw TransportError("cannot connect to \(ClientURL.address(of: url)): \(describeNetworkError(error, host: parsed.host))")
        }
        return NIOClientSocket(events: events, outbox: outbox, ended: ended, task: task, closeTimeout: closeTimeout)
    }

    /// Why the server declined a WebSocket upgrade: swift-websocket reports only that it did,
    /// so the upgrade request is repeated over HTTP to read the status and body (e.g.
    /// `403 Bad CSRF token`), within a few seconds, on a connection closed after it.
    func upgradeRefusal(url: String, headers: [String: String], tls: ClientTLS) async -> TransportError {
        var httpURL = url
        if httpURL.lowercased().hasPrefix("ws://") { httpURL = "http://" + httpURL.dropFirst(5) }
        if httpURL.lowercased().hasPrefix("wss://") { httpURL = "https://" + httpURL.dropFirst(6) }
        var probe = headers
        probe["Upgrade"] = "websocket"
        // `close`: a server may be unable to read another request on a connection that carried
        // an upgrade request it refused (Vapor 4's decoder stops parsing there); kept in the
        // pool, that connection would swallow the next Ajax poll until its timeout.
        probe["Connection"] = "Upgrade, close"
        probe["Sec-WebSocket-Version"] = "13"
        probe["Sec-WebSocket-Key"] = "dGhlIHNhbXBsZSBub25jZQ=="
        let generic = TransportError("the server at \(ClientURL.address(of: url)) refused the WebSocket upgrade")
        guard let response = try? await http(ClientHTTPRequest(method: "GET", url: httpURL, headers: probe, tls: tls), timeout: .seconds(5)),
              response.status != 101 else { return generic }
        let body = String(decoding: response.body.prefix(200), as: UTF8.self).trimmingWhitespace
        return TransportError(status: response.status, body.isEmpty ? "WebSocket upgrade refused" : body)
    }

    public func http(_ request: ClientHTTPRequest, timeout: Duration) async throws -> ClientHTTPResponse {
        if let problem = ClientURL.problem(request.url) { throw TransportError(problem) }
        var req = HTTPClientRequest(url: request.url)
        req.method = request.method == "POST" ? .POST : .GET
        for (k, v) in request.headers { req.headers.add(name: k, value: v) }
        if let body = request.body { req.body = .bytes(ByteBuffer(bytes: body)) }
        if request.url.lowercased().hasPrefix("https://") { req.tlsConfiguration = try Self.tlsConfiguration(request.tls) }
        do {
            let response = try await httpClient.execute(req, timeout: .milliseconds(timeout.milliseconds))
            let body = try await response.body.collect(upTo: 64 << 20)
            return ClientHTTPResponse(status: Int(response.status.code), body: Array(buffer: body))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw TransportError(timedOut: "request to \(ClientURL.address(of: request.url)) timed out after \(seconds(timeout)) s")
        } catch {
            let host = (try? ClientURL(request.url))?.host ?? ""
            throw TransportError("cannot connect to \(ClientURL.address(of: request.url)): \(describeNetworkError(error, host: host))")
        }
    }

    /// The server name sent (SNI) for a `wss://` URL whose host is an IP address.
    static let ipHostServerName = "ip-address-host.invalid"

    /// The configurations made so far (a CA file is read once per process, not per poll).
    static let tlsConfigurations = Mutex<[ClientTLS: TLSConfiguration]>([:])

    /// NIOSSL's configuration for `tls`; nil for the defaults (system trust roots, full
    /// verification). The CA file is read here (once), so that a missing or unreadable one is
    /// a clear error rather than a failed handshake.
    static func tlsConfiguration(_ tls: ClientTLS) throws(TransportError) -> TLSConfiguration? {
        if tls.isDefault { return nil }
        if let made = tlsConfigurations.withLock({ $0[tls] }) { return made }
        let made = try makeTLSConfiguration(tls)
        tlsConfigurations.withLock { $0[tls] = made }
        return made
    }

    static func makeTLSConfiguration(_ tls: ClientTLS) throws(TransportError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let path = tls.caCertificatePath {
            let certificates: [NIOSSLCertificate]
            do { certificates = try NIOSSLCertificate.fromPEMFile(path) } catch {
                throw TransportError("cannot read the CA certificate file \(path): \(describeFileError(error, path: path))")
            }
            if certificates.isEmpty { throw TransportError("no PEM certificate in the CA certificate file \(path)") }
            configuration.trustRoots = .certificates(certificates)
        }
        if tls.insecure { configuration.certificateVerification = .none }
        return configuration
    }
}

/// Why a certificate file could not be read, in a few words.
func describeFileError(_ error: any Error, path: String) -> String {
    if access(path, F_OK) != 0 { return "no such file" }
    if access(path, R_OK) != 0 { return "permission denied" }
    return "not a PEM certificate"
}

extension String {
    /// True for an IPv4 or IPv6 address literal (no brackets).
    var isIPAddress: Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return withCString { inet_pton(AF_INET, $0, &v4) == 1 || inet_pton(AF_INET6, $0, &v6) == 1 }
    }
}

/// The frames waiting for a WebSocket's writer, each with the sender waiting for it to be
/// written. Unlike an `AsyncStream`, finishing it fails every waiting sender (none is left
/// suspended) and makes later sends fail at once.
final class Outbox: Sendable {
    enum Kind: Sendable {
        case message([UInt8], binary: Bool)
        case close(UInt16, String)
    }

    struct Item: Sendable {
        let kind: Kind
        let continuation: CheckedContinuation<Void, any Error>

        func done(_ error: (any Error)?) {
            if let error { continuation.resume(throwing: error) } else { continuation.resume() }
        }
    }

    struct State {
        var items: [Item] = []
        var head = 0
        var writer: CheckedContinuation<Item?, Never>?
        var finished = false
    }

    let state = Mutex(State())

    /// Queues `kind` and returns once the writer wrote it; throws when it could not be written.
    func send(_ kind: Kind) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let item = Item(kind: kind, continuation: c)
            let action = state.withLock { s -> (CheckedContinuation<Item?, Never>?, Bool) in
                if s.finished { return (nil, false) }
                if let w = s.writer {
                    s.writer = nil
                    return (w, true)
                }
                s.items.append(item)
                return (nil, true)
            }
            switch action {
            case (nil, false): c.resume(throwing: TransportError("the WebSocket is closed"))
            case (let writer?, _): writer.resume(returning: item)
            default: break
            }
        }
    }

    /// The next item to write, or nil once finished (one consumer).
    func next() async -> Item? {
        await withCheckedContinuation { (c: CheckedContinuation<Item?, Never>) in
            let ready = state.withLock { s -> Item?? in
                if s.head < s.items.count {
                    let item = s.items[s.head]
                    s.head += 1
                    if s.head == s.items.count { s.items.removeAll(keepingCapacity: true); s.head = 0 }
                    return .some(item)
                }
                if s.finished { return .some(nil) }
                s.writer = c
                return .none
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    /// Ends the outbox: the writer gets nil, every queued sender an error.
    func finish() {
        let (writer, items) = state.withLock { s -> (CheckedContinuation<Item?, Never>?, [Item]) in
            s.finished = true
            let w = s.writer
            s.writer = nil
            let left = Array(s.items[s.head...])
            s.items = []
            s.head = 0
            return (w, left)
        }
        writer?.resume(returning: nil)
        for item in items { item.done(TransportError("the WebSocket closed before this frame was written")) }
    }
}

/// The client end of a NIO WebSocket.
struct NIOClientSocket: ClientWebSocket {
    let events: AsyncStream<ClientWebSocketEvent>
    let outbox: Outbox
    let ended: OpenSignal
    let task: Task<Void, Never>
    let closeTimeout: Duration

    /// Returns once the frame is written to the connection (after every frame sent before it).
    func send(_ message: [UInt8], binary: Bool) async throws {
        try await outbox.send(.message(message, binary: binary))
    }

    /// Sends a close frame after everything sent before, waits (at most `closeTimeout`) for the
    /// server's close and the end of the connection, then closes it regardless.
    func close(code: UInt16, reason: String) async {
        let closeTimeout = self.closeTimeout
        let ended = self.ended, outbox = self.outbox
        let finishedInTime = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await outbox.send(.close(code, reason))
                _ = await ended.wait()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: closeTimeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !finishedInTime {
            outbox.finish()
            task.cancel()
        }
    }
}

/// A network error in a few human words (no NIO type names, no build paths); `host` names
/// the server in a certificate error.
func describeNetworkError(_ error: any Error, host: String = "") -> String {
    let text = "\(error)"
    let lower = text.lowercased()
    if let ssl = error as? NIOSSLExtraError, ssl == .failedToValidateHostname {
        return "the server's TLS certificate is not for \(host.isEmpty ? "this host" : host)"
    }
    if lower.contains("certificate_verify_failed") || lower.contains("certificate verify failed") {
        return "the server's TLS certificate is not trusted (unknown issuer or self-signed)"
    }
    if lower.contains("connection refused") || lower.contains("econnrefused") { return "connection refused" }
    if lower.contains("connecttimeout") || lower.contains("connect timeout") { return "timed out connecting" }
    if lower.contains("timed out") || lower.contains("timeout") { return "timed out" }
    if lower.contains("no such host") || lower.contains("unknown host") || lower.contains("name or service not known")
        || lower.contains("could not resolve") || lower.contains("dnsfailure") { return "unknown host" }
    if lower.contains("network is unreachable") || lower.contains("enetunreach") { return "network unreachable" }
    if lower.contains("connection reset") || lower.contains("econnreset") { return "connection reset by the server" }
    if lower.contains("wrong_version_number") || lower.contains("unknown_protocol") || lower.contains("eof during handshake") {
        return "TLS handshake failed (the server does not speak TLS on this port?)"
    }
    if lower.contains("certificate") || lower.contains("handshakefailed") || lower.contains("ssl") || lower.contains("tls") {
        return "TLS handshake failed (\(firstWords(text)))"
    }
    if lower.contains("eof") || lower.contains("closed") { return "the server closed the connection" }
    return firstWords(text)
}

/// The first line of a message, without Swift source paths.
private func firstWords(_ text: String) -> String {
    var line = String(text.prefix { $0 != "\n" })
    if let paren = line.firstIndex(of: "("), line.contains("/") && line.contains(".swift") { line = String(line[..<paren]) }
    return line.count > 160 ? String(line.prefix(160)) + "…" : line
}

func seconds(_ d: Duration) -> String {
    let ms = d.milliseconds
    return ms % 1000 == 0 ? String(ms / 1000) : String(Double(ms) / 1000)
}

extension String {
    var trimmingWhitespace: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}

/// Resolves once: nil when the socket opened, the error when connecting failed.
final class OpenSignal: Sendable {
    enum State {
        case waiting([CheckedContinuation<(any Error)?, Never>])
        case done((any Error)?)
    }
    let state = Mutex(State.waiting([]))

    /// Returns false when it was already resolved.
    @discardableResult
    func resolve(_ error: (any Error)?) -> Bool {
        let waiters = state.withLock { s -> [CheckedContinuation<(any Error)?, Never>]? in
            guard case .waiting(let w) = s else { return nil }
            s = .done(error)
            return w
        }
        guard let waiters else { return false }
        for w in waiters { w.resume(returning: error) }
        return true
    }

    func wait() async -> (any Error)? {
        await withCheckedContinuation { c in
            let ready = state.withLock { s -> (any Error)?? in
                switch s {
                case .done(let e): return .some(e)
                case .waiting(var w):
                    w.append(c)
                    s = .waiting(w)
                    return .none
                }
            }
            if let ready { c.resume(returning: ready) }
        }
    }
}
