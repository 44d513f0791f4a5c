public import ChannelSocket
import Synchronization

/// A `ClientTransport` wired straight to a `ChannelSocketServer` in the same process: clients
/// and servers talk without sockets (and, with a `ManualClock`, without waiting).
public struct InMemoryTransport: ClientTransport {
    let server: ChannelSocketServer
    let refuseWebSocket: Bool

    /// A transport to `server`. With `refuseWebSocket` every upgrade fails (to test the
    /// `auto` downgrade to Ajax).
    public init(server: ChannelSocketServer, refuseWebSocket: Bool = false) {
        self.server = server
        self.refuseWebSocket = refuseWebSocket
    }

    static func split(_ url: String) -> (path: String, params: [String: String]) {
        var rest = Substring(url)
        let u = Array(url.utf8)
        if let i = (0..<max(0, u.count - 2)).first(where: { u[$0] == 58 && u[$0 + 1] == 47 && u[$0 + 2] == 47 }) {
            rest = rest.dropFirst(i + 3)
        }
        let pathStart = rest.firstIndex(of: "/") ?? rest.endIndex
        let pathAndQuery = rest[pathStart...]
        guard let q = pathAndQuery.firstIndex(of: "?") else { return (String(pathAndQuery), [:]) }
        return (String(pathAndQuery[..<q]), FormDecoding.decode(pathAndQuery[pathAndQuery.index(after: q)...]))
    }

    public func connectWebSocket(url: String, headers: [String: String], maxMessageBytes: Int) async throws -> any ClientWebSocket {
        if refuseWebSocket { throw TransportError(status: 400, "WebSocket upgrade refused") }
        let (path, params) = Self.split(url)
        let request = ConnectionRequest(method: "GET", path: path, params: params, headers: headers, isWebSocket: true)
        if let rejection = server.check(request) { throw TransportError(status: rejection.status, rejection.bodyText) }
        let socket = InMemoryClientSocket()
        let connection = await server.openWebSocket(request, outbound: socket.serverSide)
        socket.attach(connection)
        return socket
    }

    public func http(_ request: ClientHTTPRequest, timeout: Duration) async throws -> ClientHTTPResponse {
        let (path, query) = Self.split(request.url)
        var params = query
        if let body = request.body {
            for (k, v) in FormDecoding.decode(String(decoding: body, as: UTF8.self)) { params[k] = v }
        }
        let connection = ConnectionRequest(method: request.method, path: path, params: params, headers: request.headers)
        if let rejection = server.check(connection) { return ClientHTTPResponse(status: rejection.status, body: rejection.body) }
        let reply = request.method == "GET" ? await server.poll(connection) : await server.post(connection)
        return ClientHTTPResponse(status: reply.status, body: reply.body)
    }
}

/// The client end of an in-memory WebSocket.
final class InMemoryClientSocket: ClientWebSocket {
    let events: AsyncStream<ClientWebSocketEvent>
    let sink: AsyncStream<ClientWebSocketEvent>.Continuation
    let connection = Mutex<WebSocketConnection?>(nil)
    let closed = Mutex(false)

    init() {
        (events, sink) = AsyncStream.makeStream(of: ClientWebSocketEvent.self, bufferingPolicy: .unbounded)
    }

    func attach(_ c: WebSocketConnection) { connection.withLock { $0 = c } }

    var serverSide: ServerSide { ServerSide(socket: self) }

    /// What the server writes arrives as client events.
    struct ServerSide: WebSocketOutbound {
        let socket: InMemoryClientSocket
        func write(_ message: [UInt8], binary: Bool) { socket.sink.yield(.message(message)) }
        func close(code: UInt16, reason: String) {
            socket.finish(code: code, reason: reason, clean: true)
        }
    }

    func finish(code: UInt16, reason: String, clean: Bool) {
        let first = closed.withLock { c -> Bool in defer { c = true }; return !c }
        guard first else { return }
        sink.yield(.closed(code: code, reason: reason, clean: clean))
        sink.finish()
        if let c = connection.withLock({ $0 }) { Task { await c.closed() } }
    }

    func send(_ message: [UInt8], binary: Bool) async throws {
        guard !closed.withLock({ $0 }), let c = connection.withLock({ $0 }) else { throw TransportError("socket closed") }
        c.receive(message)
    }

    func close(code: UInt16, reason: String) async {
        finish(code: code, reason: reason, clean: true)
    }

    /// Simulates a dropped TCP connection (no close frame).
    func kill() { finish(code: 1006, reason: "", clean: false) }
}
