public import EDN
import Logging
import Synchronization

/// One server-side WebSocket connection. The adapter feeds it inbound messages with
/// `receive(_:)` and reports the end with `closed()`; outbound traffic goes through the
/// `WebSocketOutbound` the adapter supplied.
///
/// Inbound handling needs no lock on the server's registry: a message is unpacked, checked and
/// handed to the app's event stream right here, so connections work in parallel.
public final class WebSocketConnection: Sendable {
    /// Unique per server; a reconnect with the same client id gets a new one, so the late close
    /// of a superseded connection never removes its successor.
    public let connectionID: UInt64
    /// The user id fixed at upgrade time.
    public let uid: EDNValue
    /// The client id of the upgrade request.
    public let clientID: String
    /// The upgrade request.
    public let request: ConnectionRequest
    let outbound: any WebSocketOutbound
    let server: ChannelSocketServer

    struct State {
        /// nil while `auto` has not seen a message that tells the generation.
        var generation: WireGeneration?
        var inboundSinceCheck = false
        var pushedSinceCheck = false
        var closed = false
    }
    let state: Mutex<State>

    init(id: UInt64, uid: EDNValue, clientID: String, request: ConnectionRequest, generation: WireGeneration?,
         outbound: any WebSocketOutbound, server: ChannelSocketServer) {
        self.connectionID = id
        self.uid = uid
        self.clientID = clientID
        self.request = request
        self.outbound = outbound
        self.server = server
        self.state = Mutex(State(generation: generation))
    }

    /// The generation spoken on this connection (`nil` while undetermined under `auto`).
    public var generation: WireGeneration? { state.withLock { $0.generation } }

    /// Handles one inbound message (a text frame's bytes).
    public func receive(_ message: [UInt8]) {
        let maxBytes = server.options.maxMessageBytes
        server.metrics.received(.ws, bytes: message.count)
        if message.count > maxBytes {
            server.log(.warning, "ws #\(connectionID) \(clientID): message of \(message.count) bytes exceeds \(maxBytes); closing (1009)")
            server.countRefusal(.messageTooLarge)
            outbound.close(code: 1009, reason: "Message too big")
            return
        }
        let generation = state.withLock { s -> WireGeneration in
            s.inboundSinceCheck = true
            if let g = s.generation { return g }
            let g = Framing.detectGeneration(message)
            s.generation = g
            return g
        }
        guard let (event, origin, callbackID) = unpack(message, generation: generation) else { return }
        var replier: Replier? = nil
        if let callbackID {
            let server = self.server, id = connectionID, clientID = self.clientID
            let limit = server.options.effectiveMaxOutboundMessageBytes
            replier = Replier(webSocket: outbound, callbackID: callbackID, generation: generation, packer: server.options.packer,
                              limit: limit) { size in
                server.log(.warning, "ws #\(id) \(clientID): reply of \(size) bytes packed is over the \(limit)-byte frame cap; not sent (the client's callback times out)")
                server.countRefusal(.replyTooLarge)
            }
        }
        if event.id == Reserved.wsPing, let replier {
            // Newest clients ping with a callback and reconnect unless "pong" comes back;
            // the app still sees the ping, without a reply handle (as in Sente).
            replier.reply("pong")
            server.deliver(ServerEventMessage(event: event, origin: origin, uid: server.eventUID(uid, generation), clientID: clientID, request: request, replier: nil))
            return
        }
        server.log(.debug, "ws #\(connectionID) \(clientID) → \(EDNPrinter.string(event.value).prefix(200))\(callbackID.map { " cb \(EDNPrinter.string($0))" } ?? "")")
        server.deliver(ServerEventMessage(event: event, origin: origin, uid: server.eventUID(uid, generation), clientID: clientID, request: request, replier: replier))
    }

    /// Sente's unpacking (`ChannelSocketServer.unpackInbound`) and the event it makes
    /// (`ServerEventMessage.classify`); what v2 cannot use is dropped with a log line, as
    /// Sente 1.21 does.
    func unpack(_ message: [UInt8], generation: WireGeneration) -> (Event, EventOrigin, callbackID: EDNValue?)? {
        if generation == .v1 && message.isEmpty { return nil }
        switch server.unpackInbound(message, generation: generation, source: "ws #\(connectionID) \(clientID)") {
        case .frame(let value, let callbackID):
            let (event, origin) = ServerEventMessage.classify(value)
            return (event, origin, callbackID)
        case .event(let event, let origin, let callbackID):
            return (event, origin, callbackID)
        case .badPackage(let text):
            let (event, origin) = ServerEventMessage.classify(.null, badPackage: text)
            return (event, origin, nil)
        case .unreadable(let error):
            server.log(.warning, "ws #\(connectionID) \(clientID): unreadable message dropped: \(error)")
            return nil
        case .notAFrame(let value):
            server.log(.warning, "ws #\(connectionID) \(clientID): message is no [value cb] vector, dropped: \(EDNPrinter.string(value).prefix(200))")
            return nil
        }
    }

    /// Sends a packed push batch (counts as activity for keep-alive).
    func sendPacked(_ bytes: [UInt8]) {
        state.withLock { $0.pushedSinceCheck = true }
        outbound.write(bytes, binary: server.options.packer.isBinary)
    }

    /// Sends a value unwrapped in this connection's framing.
    func sendValue(_ value: EDNValue) {
        let generation = self.generation ?? .v2
        if let bytes = try? Framing.pack(value, generation: generation, packer: server.options.packer) {
            outbound.write(bytes, binary: server.options.packer.isBinary)
        }
    }

    /// Closes the socket from the server side.
    public func close(code: UInt16 = 1000, reason: String = "") {
        outbound.close(code: code, reason: reason)
    }

    /// Reports that the socket has closed (either side); starts the reconnect grace period.
    public func closed() async {
        let first = state.withLock { s -> Bool in
            defer { s.closed = true }
            return !s.closed
        }
        guard first else { return }
        server.openWebSocketCount.subtract(1, ordering: .releasing)
        await server.registry.webSocketClosed(self)
    }

    /// Sente's keep-alive, per generation, as the real servers schedule it (one "last activity"
    /// mark per connection, set by every inbound frame and every push batch, never by the
    /// server's own pings or replies; each check compares it with the previous check's):
    /// - v1 (1.14): every `ws-kalive-ms`, ping when nothing happened since the last check;
    ///   nothing is expected back and nothing is closed.
    /// - v2 (1.21): checks every half window K; when idle, pings and waits the whole
    ///   `ws-ping-timeout-ms` P (an early pong does not shorten it); activity by then → the
    ///   next check is K later, none → close. An idle client that answers is pinged at
    ///   K + n·(K + P): 3, 16, 29 s with `ws-kalive-ms` 6000.
    /// - `auto` before the generation is known: the v2 schedule (a 1.21 client's pong tells
    ///   its generation), but silence after a ping never closes (a 1.14 client does not
    ///   answer pings). The server's `ServerTimers` runs the steps.
    func startKeepAlive() {
        server.timers.schedule(self, .window, after: keepAliveWindow())
    }

    /// One keep-alive step, due now: the end of a window, or of the wait for a ping's answer.
    func keepAliveStep(_ step: ServerTimers.Step) async {
        let timers = server.timers
        let (active, generation, closed) = state.withLock { s -> (Bool, WireGeneration?, Bool) in
            defer { s.inboundSinceCheck = false; s.pushedSinceCheck = false }
            return (s.inboundSinceCheck || s.pushedSinceCheck, s.generation, s.closed)
        }
        if closed { return }
        if active {
            timers.schedule(self, .window, after: keepAliveWindow())
            return
        }
        if step == .pongCheck {
            guard generation == .v2 else {
                // auto, still unknown: likely a 1.14 client, which never answers; keep it.
                timers.schedule(self, .window, after: keepAliveWindow())
                return
            }
            server.log(.info, "ws #\(connectionID) \(clientID): no answer to ping within \(server.options.wsPingTimeout.milliseconds) ms, closing")
            outbound.close(code: 1000, reason: "ws-ping-timeout")
            await self.closed()
            return
        }
        server.log(.debug, "ws #\(connectionID) \(clientID): idle, ping")
        sendValue(.keyword(Reserved.wsPing))
        if generation == .v1 {
            timers.schedule(self, .window, after: keepAliveWindow())
        } else {
            timers.schedule(self, .pongCheck, after: server.options.wsPingTimeout)
        }
    }

    func keepAliveWindow() -> Duration {
        let base = server.options.wsKeepAlive
        return generation == .v1 ? base : base / 2
    }
}
