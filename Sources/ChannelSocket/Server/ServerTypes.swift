public import EDN
import Synchronization

/// Who made a server event: a client, or the engine. Sente hands both to the app in one
/// stream, told apart only by event id, so a client that sends
/// `[:chsk/uidport-open "victim"]` looks just like the engine announcing a user; here the
/// origin is part of the message, and a client can never produce `.engine`.
public enum EventOrigin: Sendable, Equatable {
    /// The event is what a client sent, whatever its id (`:chsk/*` ids included).
    case client
    /// The engine made the event.
    case engine(EngineEvent)
}

/// The events the engine itself makes (their Sente form is the message's `event`).
public enum EngineEvent: Sendable, Equatable {
    /// `[:chsk/uidport-open uid]`: the uid's first client connected.
    case uidPortOpen(EDNValue)
    /// `[:chsk/uidport-close uid]`: the uid's last client left (after the grace period).
    case uidPortClose(EDNValue)
    /// `[:chsk/bad-event x]`: a client sent `x`, which is no event (`[:ns/id]` or
    /// `[:ns/id data]`).
    case badEvent(EDNValue)
    /// `[:chsk/bad-package "text"]` (v1 wire): a client's message could not be read.
    case badPackage(String)
    /// `[:chsk/cluster-uidport-open uid]` (a node of a cluster only, no Sente event): the uid's
    /// first client anywhere in the cluster connected. Handed to one node's app only: the node
    /// where it connected. `uidPortOpen` still comes on every node where the uid connects.
    case clusterUIDPortOpen(EDNValue)
    /// `[:chsk/cluster-uidport-close uid]`: the uid's last client anywhere in the cluster left
    /// (after the grace period), or the last node that had it stopped or expired. Handed to one
    /// node's app only.
    case clusterUIDPortClose(EDNValue)

    /// The ids of engine events: an `EventRouter` hands a client-sent event with one of these
    /// ids to its fallback, never to the handler registered for the id.
    public static let ids: Set<Keyword> = [Reserved.uidportOpen, Reserved.uidportClose, Reserved.badEvent, Reserved.badPackage,
                                           Reserved.clusterUIDPortOpen, Reserved.clusterUIDPortClose]
}

/// One event, as the server app receives it (Sente's server event-msg): from a client, or
/// made by the engine (`origin`).
public struct ServerEventMessage: Sendable {
    /// The event (`[:chsk/bad-event x]` for a message that was no valid event).
    public let event: Event
    /// Who made the event: check this, not the id, before trusting a `:chsk/*` event.
    public let origin: EventOrigin
    /// The sender's user id (the nil-uid keyword when it has none).
    public let uid: EDNValue
    /// The sender's client id (one per browser tab / client object).
    public let clientID: String
    /// The request the event came with: the WS upgrade request, the POST, or the poll.
    public let request: ConnectionRequest
    let replier: Replier?

    init(event: Event, origin: EventOrigin, uid: EDNValue, clientID: String, request: ConnectionRequest, replier: Replier?) {
        self.event = event
        self.origin = origin
        self.uid = uid
        self.clientID = clientID
        self.request = request
        self.replier = replier
    }

    /// The event a client's unpacked message stands for, and who made it: a valid event is
    /// the client's; a v1 message that could not be read becomes the engine's
    /// `[:chsk/bad-package "text"]`; anything else the engine's `[:chsk/bad-event x]`.
    static func classify(_ value: EDNValue, badPackage: String? = nil) -> (Event, EventOrigin) {
        if let badPackage { return (Event(Reserved.badPackage, .string(badPackage)), .engine(.badPackage(badPackage))) }
        if let event = Event(validating: value) { return (event, .client) }
        return (.badEvent(value), .engine(.badEvent(value)))
    }

    /// `classify(_:)` for the value at `node` of a read message's tape: a valid event whose id
    /// is in `typedIDs` keeps its data on the tape; anything else is built as a value.
    static func classify(_ tape: ValueTape, node: Int, typedIDs: Set<Keyword>) -> (Event, EventOrigin) {
        if case .scalar(let value) = tape.nodes[node] { return classify(value) }
        if let event = Event(validating: tape, at: node, keepingDataIf: { typedIDs.contains($0) }) { return (event, .client) }
        let value = tape.materialize(node)
        return (.badEvent(value), .engine(.badEvent(value)))
    }

    /// The engine's event, if it made this one.
    public var engineEvent: EngineEvent? {
        if case .engine(let e) = origin { return e }
        return nil
    }

    /// True when a client sent the event as it is (whatever its id).
    public var isFromClient: Bool { origin == .client }

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
