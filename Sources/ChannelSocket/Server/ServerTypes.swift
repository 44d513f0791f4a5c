public import EDN
import Synchronization

/// One event from a client, as the server app receives it (Sente's server event-msg).
public struct ServerEventMessage: Sendable {
    /// The event (`[:chsk/bad-event x]` for a message that was no valid event).
    public let event: Event
    /// The sender's user id (the nil-uid keyword when it has none).
    public let uid: EDNValue
    /// The sender's client id (one per browser tab / client object).
    public let clientID: String
    /// The request the event came with: the WS upgrade request, the POST, or the poll.
    public let request: ConnectionRequest
    let replier: Replier?

    init(event: Event, uid: EDNValue, clientID: String, request: ConnectionRequest, replier: Replier?) {
        self.event = event
        self.uid = uid
        self.clientID = clientID
        self.request = request
        self.replier = replier
    }

    /// The event id.
    public var id: Keyword { event.id }
    /// The event data, if any.
    public var data: EDNValue? { event.data }
    /// True when the client asked for a reply (sent the event with a callback).
    public var wantsReply: Bool { replier != nil }

    /// Answers the client's callback. Over Ajax only the first reply counts (the HTTP response);
    /// over WebSocket each call sends a frame, as Sente does. Does nothing when no reply was asked.
    public func reply(_ value: EDNValue) {
        replier?.reply(value)
    }
}

/// Sends a reply once (Ajax) or per call (WebSocket).
final class Replier: Sendable {
    enum Target: Sendable {
        /// A WebSocket callback: packed in the request's framing with its callback id; a reply
        /// packed larger than `limit` is not sent (`tooLarge` is told its size instead).
        case webSocket(any WebSocketOutbound, callbackID: EDNValue, generation: WireGeneration, packer: any Packer,
                       limit: Int, tooLarge: @Sendable (Int) -> Void)
        case callback(@Sendable (EDNValue) -> Void)
    }
    let target: Target
    let once: Bool
    let used = Mutex(false)

    init(once: Bool, send: @escaping @Sendable (EDNValue) -> Void) {
        self.once = once
        self.target = .callback(send)
    }

    /// A WebSocket callback (one object per event, no closure).
    init(webSocket outbound: any WebSocketOutbound, callbackID: EDNValue, generation: WireGeneration, packer: any Packer,
         limit: Int = .max, tooLarge: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.once = false
        self.target = .webSocket(outbound, callbackID: callbackID, generation: generation, packer: packer,
                                 limit: limit, tooLarge: tooLarge)
    }

    private func send(_ value: EDNValue) {
        switch target {
        case .webSocket(let out, let callbackID, let generation, let packer, let limit, let tooLarge):
            if let bytes = try? Framing.pack(value, callbackID: callbackID, generation: generation, packer: packer) {
                guard bytes.count <= limit else {
                    tooLarge(bytes.count)
                    return
                }
                out.write(bytes, binary: packer.isBinary)
            }
        case .callback(let send):
            send(value)
        }
    }

    func reply(_ value: EDNValue) {
        if once {
            let first = used.withLock { used -> Bool in
                defer { used = true }
                return !used
            }
            guard first else { return }
        }
        send(value)
    }
}

/// Sente's `connected-uids`: who is connected by which transport.
public struct ConnectedUIDs: Sendable, Equatable, CustomStringConvertible {
    /// Uids with a WebSocket client (including ones within the reconnect grace period).
    public var ws: EDNSet
    /// Uids with an Ajax client.
    public var ajax: EDNSet
    /// The union.
    public var any: EDNSet

    /// An empty value.
    public init(ws: EDNSet = [], ajax: EDNSet = [], any: EDNSet = []) {
        self.ws = ws
        self.ajax = ajax
        self.any = any
    }

    /// `{:ws #{…}, :ajax #{…}, :any #{…}}`.
    public var value: EDNValue { [.kw("ws"): .set(ws), .kw("ajax"): .set(ajax), .kw("any"): .set(any)] }
    public var description: String { value.description }
}

/// What the engine hands a WebSocket: text (or binary) frames to write, and a close.
/// Implementations enqueue and return at once; the adapter's writer task does the I/O in order.
public protocol WebSocketOutbound: Sendable {
    /// Queues a message for sending.
    func write(_ message: [UInt8], binary: Bool)
    /// Closes the socket with a close code and reason.
    func close(code: UInt16, reason: String)
}

/// A log line from the server (connections, handshakes, events, closes).
public struct ServerLogEntry: Sendable {
    /// Severity.
    public enum Level: Int, Sendable, Comparable {
        /// Per-message detail.
        case debug
        /// Connections, handshakes, closes.
        case info
        /// Rejections and malformed input.
        case warning
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
    }
    /// Severity.
    public let level: Level
    /// One readable line.
    public let message: String
}
