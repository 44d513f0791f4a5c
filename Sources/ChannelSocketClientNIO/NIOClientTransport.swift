import AsyncHTTPClient
import HTTPTypes
public import ChannelSocket
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import Synchronization
import WSClient

/// The real network transport of `ChannelSocketClient`: WebSockets with swift-websocket's
/// `WebSocketClient` (structured concurrency, same frame types as the Hummingbird server, custom
/// upgrade headers) and Ajax with AsyncHTTPClient (NIO-native, per-request deadlines, no
/// Foundation at run time). Both support TLS (`wss://`, `https://`).
public struct NIOClientTransport: ClientTransport {
    let httpClient: HTTPClient
    let logger: Logger

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
    public init(logger: Logger = Logger(label: "chsk.client", factory: { _ in SwiftLogNoOpLogHandler() })) {
        self.httpClient = Self.sharedHTTPClient
        self.logger = logger
    }

    public func connectWebSocket(url: String, headers: [String: String], maxMessageBytes: Int) async throws -> any ClientWebSocket {
        if let problem = ClientURL.problem(url) { throw TransportError(problem) }
        var fields = HTTPFields()
        for (k, v) in headers {
            if let name = HTTPField.Name(k) { fields[name] = v }
        }
        let (events, sink) = AsyncStream.makeStream(of: ClientWebSocketEvent.self, bufferingPolicy: .unbounded)
        let (outbox, outboxSink) = AsyncStream.makeStream(of: Outgoing.self, bufferingPolicy: .unbounded)
        let opened = OpenSignal()
        let logger = self.logger
        let configuration = WebSocketClientConfiguration(maxFrameSize: max(maxMessageBytes, 1 << 14), additionalHeaders: fields)
        Task {
            do {
                let closeFrame = try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { inbound, outbound, _ in
                    opened.resolve(nil)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await item in outbox {
                                switch item {
                                case .text(let text): try await outbound.write(.text(text))
                                case .binary(let bytes): try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                                case .close(let code, let reason):
                                    try await outbound.close(WebSocketErrorCode(codeNumber: Int(code)), reason: reason)
                                    return
                                }
                            }
                        }
                        for try await message in inbound.messages(maxSize: maxMessageBytes) {
                            switch message {
                            case .text(let text): sink.yield(.message(Array(text.utf8)))
                            case .binary(let buffer): sink.yield(.message(Array(buffer: buffer)))
                            }
                        }
                        group.cancelAll()
                    }
                }
                let code = closeFrame.map { UInt16(webSocketErrorCode: $0.closeCode) } ?? 1005
                sink.yield(.closed(code: code, reason: closeFrame?.reason ?? "", clean: closeFrame != nil))
            } catch {
                if !opened.resolve(error) {
                    sink.yield(.closed(code: 1006, reason: "\(error)", clean: false))
                }
            }
            sink.finish()
            outboxSink.finish()
        }
        if let error = await opened.wait() {
            throw TransportError("WebSocket connection to \(url) failed: \(error)")
        }
        return NIOClientSocket(events: events, outbox: outboxSink)
    }

    public func http(_ request: ClientHTTPRequest, timeout: Duration) async throws -> ClientHTTPResponse {
        if let problem = ClientURL.problem(request.url) { throw TransportError(problem) }
        var req = HTTPClientRequest(url: request.url)
        req.method = request.method == "POST" ? .POST : .GET
        for (k, v) in request.headers { req.headers.add(name: k, value: v) }
        if let body = request.body { req.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await httpClient.execute(req, timeout: .milliseconds(timeout.milliseconds))
            let body = try await response.body.collect(upTo: 64 << 20)
            return ClientHTTPResponse(status: Int(response.status.code), body: Array(buffer: body))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw TransportError("request timed out after \(timeout.milliseconds) ms")
        } catch {
            throw TransportError("\(request.method) \(request.url) failed: \(error)")
        }
    }
}

enum Outgoing: Sendable {
    case text(String)
    case binary([UInt8])
    case close(UInt16, String)
}

/// The client end of a NIO WebSocket.
struct NIOClientSocket: ClientWebSocket {
    let events: AsyncStream<ClientWebSocketEvent>
    let outbox: AsyncStream<Outgoing>.Continuation

    func send(_ message: [UInt8], binary: Bool) async throws {
        let result = outbox.yield(binary ? .binary(message) : .text(String(decoding: message, as: UTF8.self)))
        if case .terminated = result { throw TransportError("socket closed") }
    }

    func close(code: UInt16, reason: String) async {
        outbox.yield(.close(code, reason))
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
