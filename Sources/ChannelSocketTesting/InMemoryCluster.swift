public import ChannelSocket
public import EDN
import Synchronization

/// A cluster of `ChannelSocketServer`s in one process, for tests: each node's broker comes
/// from `broker(nodeID:)`. Messages reach every other node in one total order; membership,
/// cluster-wide uidport events and node loss behave as a real broker's must
/// (`ChannelSocketBroker`), without sockets or timers.
///
/// ```swift
/// let cluster = InMemoryCluster()
/// let a = try ChannelSocketServer(cluster: cluster.broker(nodeID: "a"))
/// let b = try ChannelSocketServer(cluster: cluster.broker(nodeID: "b"))
/// ```
public final class InMemoryCluster: Sendable {
    struct Node {
        let continuation: AsyncStream<ClusterInput>.Continuation
        var membership: [EDNValue: ClusterPresence] = [:]
    }
    struct State {
        var nodes: [String: Node] = [:]
        /// Nodes in the order they joined (the first survivor takes a dead node's closes).
        var order: [String] = []
        var available = true
    }
    let state = Mutex(State())

    /// An empty cluster.
    public init() {}

    /// A broker for a new node of this cluster.
    public func broker(nodeID: String) -> InMemoryBroker {
        InMemoryBroker(cluster: self, nodeID: nodeID)
    }

    /// While false, `publish` throws `ClusterError.unavailable` (a broker whose link is down
    /// past its bound).
    public var isAvailable: Bool {
        get { state.withLock { $0.available } }
        set { state.withLock { $0.available = newValue } }
    }

    /// Removes a node as a crash would (no goodbye): the others forget its uids, and the
    /// first surviving node gets the cluster-wide close of each uid no other node has.
    public func kill(_ nodeID: String) {
        state.withLock { s in
            guard let dead = s.nodes.removeValue(forKey: nodeID) else { return }
            s.order.removeAll { $0 == nodeID }
            dead.continuation.finish()
            for (_, node) in s.nodes { node.continuation.yield(.nodeGone(nodeID)) }
            guard let survivor = s.order.first.flatMap({ s.nodes[$0] }) else { return }
            for uid in dead.membership.keys where !s.nodes.values.contains(where: { $0.membership[uid] != nil }) {
                survivor.continuation.yield(.uidPort(open: false, uid: uid))
            }
        }
    }

    func join(_ id: String, _ continuation: AsyncStream<ClusterInput>.Continuation) {
        state.withLock { s in
            var snapshot: [String: [EDNValue: ClusterPresence]] = [:]
            for (other, node) in s.nodes where !node.membership.isEmpty { snapshot[other] = node.membership }
            continuation.yield(.snapshot(snapshot))
            continuation.yield(.link(up: true, "joined the in-memory cluster as \(id)"))
            s.nodes[id] = Node(continuation: continuation)
            s.order.append(id)
        }
    }

    func publish(_ message: ClusterMessage, from id: String) throws(ClusterError) {
        let ok = state.withLock { s -> Bool in
            guard s.available else { return false }
            for (other, node) in s.nodes where other != id { node.continuation.yield(.message(message, from: id)) }
            return true
        }
        if !ok { throw .unavailable("the in-memory cluster is marked unavailable") }
    }

    func announce(_ uid: EDNValue, _ presence: ClusterPresence, from id: String) {
        state.withLock { s in
            guard var me = s.nodes[id] else { return }
            let wasAnywhere = s.nodes.values.contains { $0.membership[uid] != nil }
            me.membership[uid] = presence.isConnected ? presence : nil
            s.nodes[id] = me
            let isAnywhere = s.nodes.values.contains { $0.membership[uid] != nil }
            for (other, node) in s.nodes where other != id { node.continuation.yield(.presence(node: id, uid: uid, presence)) }
            if wasAnywhere != isAnywhere { me.continuation.yield(.uidPort(open: isAnywhere, uid: uid)) }
        }
    }

    func leave(_ id: String) {
        kill(id)
    }
}

/// One node's broker in an `InMemoryCluster`.
public final class InMemoryBroker: ChannelSocketBroker {
    let cluster: InMemoryCluster
    public let nodeID: String
    let task = Mutex<Task<Void, Never>?>(nil)

    init(cluster: InMemoryCluster, nodeID: String) {
        self.cluster = cluster
        self.nodeID = nodeID
    }

    public func start(_ deliver: @escaping @Sendable (ClusterInput) async -> Void) {
        let (stream, continuation) = AsyncStream.makeStream(of: ClusterInput.self)
        cluster.join(nodeID, continuation)
        task.withLock {
            $0 = Task {
                for await input in stream { await deliver(input) }
            }
        }
    }

    public func publish(_ message: ClusterMessage) throws(ClusterError) {
        try cluster.publish(message, from: nodeID)
    }

    public func announce(uid: EDNValue, _ presence: ClusterPresence) {
        cluster.announce(uid, presence, from: nodeID)
    }

    public func shutdown() async {
        cluster.leave(nodeID)
        await task.withLock { $0 }?.value
    }
}
