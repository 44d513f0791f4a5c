import ChannelSocket
import NIOCore
import NIOWebSocket
import Synchronization
import Vapor

extension VaporChannelSocket {
    /// Upgrades a checked `GET` to a WebSocket run by Vapor's WebSocketKit, wired to the engine.
    static func webSocket(_ request: Request, connection: ConnectionRequest, server: ChannelSocketServer,
                          configuration: ChannelSocketVaporConfiguration) -> Response {
        // Vapor upgrades only when `Connection` names `upgrade`, and NIO's upgrader needs a key
        // and version 13; without them the 101 would go out as a plain response.
        let connectionTokens = request.headers[canonicalForm: "connection"].map { $0.lowercased() }
        guard server.options.allowWebSocket, connectionTokens.contains("upgrade"),
              request.headers.first(name: "sec-websocket-key") != nil,
              request.headers.first(name: "sec-websocket-version") == "13"
        else { return refusedUpgrade(.webSocketUpgradeFailed) }
        var keptRequest = connection
        keptRequest.headers = keptRequest.headers.filter { ConnectionRequest.keepsHeader($0.key, retained: server.options.retainedRequestHeaders) }
        let kept = keptRequest
        let limit = server.options.maxMessageBytes
        // One frame over the message limit is refused by NIO's decoder as soon as its header is
        // read (WebSocketKit closes with 1009); a fragmented message is checked whole by the
        // engine (`WebSocketConnection.receive`: 1009).
        return request.webSocket(maxFrameSize: .init(integerLiteral: max(limit, 1 << 14))) { _, ws in
            let outbound = VaporWebSocketOutbound(ws: ws, server: server, label: kept.clientID ?? "?",
                                                  limit: configuration.maxQueuedBytesPerWebSocket,
                                                  closeTimeout: configuration.closeTimeout)
            let gate = InboundGate()
            ws.onText { _, text in gate.receive(Array(text.utf8)) }
            ws.onBinary { _, buffer in gate.receive(Array(buffer: buffer)) }
            Task {
                let engineConnection = await server.openWebSocket(kept, outbound: outbound)
                gate.open(engineConnection)
                ws.onClose.whenComplete { _ in
                    Task { await engineConnection.closed() }
                }
            }
        }
    }
}

/// Inbound messages of one WebSocket, held in order until the engine has opened the
/// connection (Vapor hands over the socket first), then passed straight on.
final class InboundGate: Sendable {
    private struct State {
        var connection: WebSocketConnection?
        var pending: [[UInt8]] = []
    }
    private let state = Mutex(State())

    /// A message from the socket (on its event loop).
    func receive(_ message: [UInt8]) {
        let connection = state.withLock { s -> WebSocketConnection? in
            if s.connection == nil { s.pending.append(message) }
            return s.connection
        }
        connection?.receive(message)
    }

    /// The engine's connection exists: what waited goes to it first, in order.
    func open(_ connection: WebSocketConnection) {
        while true {
            let batch = state.withLock { s -> [[UInt8]] in
                if s.pending.isEmpty { s.connection = connection }
                defer { s.pending = [] }
                return s.pending
            }
            if batch.isEmpty { return }
            for message in batch { connection.receive(message) }
        }
    }
}

/// The engine's outbound side of one Vapor WebSocket: writes go to the channel in order and
/// are counted until written. Past `limit` bytes waiting (a client that does not read), the
/// socket is closed with `1008`, logged and counted (`RefusalReason.wsQueueFull`). After a
/// close frame, a peer that neither answers it nor a ping within `closeTimeout` is dropped
/// (WebSocketKit alone would wait for its close forever).
final class VaporWebSocketOutbound: WebSocketOutbound {
    let ws: WebSocket
    let server: ChannelSocketServer
    let label: String
    let limit: Int
    let closeTimeout: TimeAmount
    private let queued = Atomic<Int>(0)
    private let closing = Atomic<Bool>(false)

    init(ws: WebSocket, server: ChannelSocketServer, label: String, limit: Int, closeTimeout: TimeAmount) {
        self.ws = ws
        self.server = server
        self.label = label
        self.limit = limit
        self.closeTimeout = closeTimeout
    }

    func write(_ message: [UInt8], binary: Bool) {
        guard !closing.load(ordering: .acquiring) else { return }
        let count = message.count
        let total = queued.add(count, ordering: .relaxed).newValue
        if total > limit {
            queued.subtract(count, ordering: .relaxed)
            server.log(.warning, "ws \(label): \(total) bytes waiting for a client that does not read (limit \(limit)); closed")
            server.countRefusal(.wsQueueFull)
            close(code: 1008, reason: "client does not read")
            return
        }
        let promise = ws.eventLoop.makePromise(of: Void.self)
        promise.futureResult.whenComplete { _ in self.queued.subtract(count, ordering: .relaxed) }
        ws.send(raw: message, opcode: binary ? .binary : .text, fin: true, promise: promise)
    }

    func close(code: UInt16, reason: String) {
        guard !closing.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let ws = self.ws, timeout = closeTimeout
        // WebSocketKit sends the code only (no reason text).
        ws.close(code: WebSocketErrorCode(codeNumber: Int(code))).whenComplete { _ in
            // WebSocketKit's keep-alive drops a peer that answers no ping within the interval:
            // here, one that does not answer our close either.
            ws.eventLoop.execute { if !ws.isClosed { ws.pingInterval = timeout } }
        }
    }
}
