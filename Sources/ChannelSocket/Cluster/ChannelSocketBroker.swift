public import EDN

/// What one node of a cluster of channel-socket servers tells the others (`ChannelSocketBroker`).
///
/// A push or a close names a uid; every node applies it to its own clients of that uid. A
/// broadcast goes to every uid each node has in `:any`.
public enum ClusterMessage: Sendable, Equatable {
    /// `send(event, to: uid, flush:)` made on another node.
    case push(uid: EDNValue, event: EDNValue, flush: Bool)
    /// `broadcast(event, flush:)` made on another node.
    case broadcast(event: EDNValue, flush: Bool)
    /// `send([:chsk/close], to: uid)` made on another node: close the uid's connections here.
    case close(uid: EDNValue)
}

/// One node's membership of one uid in `connected-uids`: which transports it counts the uid
/// in. A node that has no client of the uid left reports `.none`.
public struct ClusterPresence: Sendable, Hashable, CustomStringConvertible {
    /// The uid has a WebSocket client on the node (or one within its reconnect grace).
    public var ws: Bool
    /// The uid has a counted Ajax client on the node.
    public var ajax: Bool

    /// A membership.
    public init(ws: Bool, ajax: Bool) {
        self.ws = ws
        self.ajax = ajax
    }

    /// Not connected on the node.
    public static let none = ClusterPresence(ws: false, ajax: false)

    /// Counted in `:any` on the node.
    public var isConnected: Bool { ws || ajax }

    /// The short form used on the wire of the Redis broker: `"wa"`, `"w"`, `"a"` or `""`.
    public var flags: String { (ws ? "w" : "") + (ajax ? "a" : "") }

    /// Reads `flags`; `nil` for anything else.
    public init?(flags: String) {
        switch flags {
        case "": self = .none
        case "w": self = .init(ws: true, ajax: false)
        case "a": self = .init(ws: false, ajax: true)
        case "wa": self = .init(ws: true, ajax: true)
        default: return nil
        }
    }

    public var description: String { isConnected ? flags : "-" }
}

/// What a broker hands its node, in the order things happened in the cluster.
public enum ClusterInput: Sendable {
    /// Another node's push, broadcast or close, in that node's order.
    case message(ClusterMessage, from: String)
    /// Another node's membership of a uid changed.
    case presence(node: String, uid: EDNValue, ClusterPresence)
    /// Another node left the cluster (shut down, or its heartbeat expired): forget its uids.
    case nodeGone(String)
    /// The other nodes' whole membership as the broker read it (after connecting or
    /// reconnecting): replaces what the node knew of them.
    case snapshot([String: [EDNValue: ClusterPresence]])
    /// This node saw the uid's cluster-wide transition: its first client anywhere connected
    /// (`open: true`) or its last client anywhere left (`false`). Each transition is handed to
    /// exactly one node of the cluster.
    case uidPort(open: Bool, uid: EDNValue)
    /// Something was refused or lost past a bound (an unreadable message, entries trimmed
    /// before this node read them, …): the node logs and counts it.
    case refused(RefusalReason, String)
    /// The broker's link changed state (one line per change: connected, lost, reconnected).
    case link(up: Bool, String)
}

/// Why a broker could not take a message.
public enum ClusterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The broker cannot reach the others (its link has been down past its bound, or its
    /// queue of unsent messages is full); nothing was queued.
    case unavailable(String)
    /// The message cannot be written in the broker's format (e.g. EDN with no readable text).
    case unencodable(String)

    public var description: String {
        switch self {
        case .unavailable(let why): "cluster unavailable: \(why)"
        case .unencodable(let why): "cannot encode for the cluster: \(why)"
        }
    }
}

/// What a `ChannelSocketServer` needs from a cluster of nodes (Redis in `ChannelSocketRedis`,
/// an in-memory one in `ChannelSocketTesting`): deliver pushes, broadcasts and closes to the
/// other nodes in order, and keep a cluster-wide `connected-uids` with node liveness.
///
/// The server calls `start` once, then `publish` for each push it makes and `announce` for
/// each change of its own membership of a uid; both only queue and return at once (they are
/// called from the engine's own steps). A broker must:
/// - hand each other node every published message exactly once, in the publisher's order,
///   across dropped links (queueing while its link is down, up to a bound: past it `publish`
///   throws), and report anything it had to drop as `.refused`;
/// - keep the cluster's membership per uid and node, tell the other nodes of changes, and
///   hand each cluster-wide open or close of a uid to exactly one node (`.uidPort`);
/// - drop a node that stopped (shut down or crashed) within a bounded time, its uids'
///   closes going to a surviving node.
public protocol ChannelSocketBroker: Sendable {
    /// This node's id, unique in the cluster.
    var nodeID: String { get }
    /// Starts delivering the cluster's inputs to `deliver`, one at a time and in order. Called
    /// once by the server.
    func start(_ deliver: @escaping @Sendable (ClusterInput) async -> Void)
    /// Queues a message for every other node. Throws `ClusterError` when it cannot be taken.
    func publish(_ message: ClusterMessage) throws(ClusterError)
    /// This node's membership of `uid` is now `presence` (`.none`: no client left here).
    func announce(uid: EDNValue, _ presence: ClusterPresence)
    /// Leaves the cluster (its uids are closed on a surviving node) and stops, after sending
    /// what is queued, waiting at most a bounded time.
    func shutdown() async
}
