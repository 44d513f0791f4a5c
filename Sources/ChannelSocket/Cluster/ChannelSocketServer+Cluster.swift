public import EDN
import Synchronization

/// The server's side of its cluster: the broker, and what the other nodes reported.
final class ClusterLink: Sendable {
    let broker: any ChannelSocketBroker
    let view = Mutex(ClusterView())
    let publishScheduled = Atomic<Bool>(false)

    init(_ broker: any ChannelSocketBroker) { self.broker = broker }

    func merged(with local: ConnectedUIDs) -> ConnectedUIDs {
        view.withLock { $0.merged(with: local) }
    }
}

extension ChannelSocketServer {
    /// This node's id in its cluster (`nil` for a single server).
    public var clusterNodeID: String? { cluster?.broker.nodeID }

    /// On how many other nodes of the cluster `uid` is connected, as they reported (0 for a
    /// single server).
    public func clusterNodes(with uid: EDNValue) -> Int {
        cluster?.view.withLock { $0.nodeCount(uid) } ?? 0
    }

    /// The other nodes' membership per uid, as they reported it (empty for a single server).
    public var clusterMembership: [String: [EDNValue: ClusterPresence]] {
        cluster?.view.withLock { $0.nodes } ?? [:]
    }

    /// Hands a push, broadcast or close made here to the other nodes; a refusal is logged,
    /// counted and thrown (this node's clients already have it).
    func publishToCluster(_ message: ClusterMessage, reachedHere: Int, what: @autoclosure () -> String) throws(PushError) {
        guard let cluster else { return }
        do {
            try cluster.broker.publish(message)
        } catch {
            log(.warning, "cluster: \(what()) not sent to the other nodes: \(error)")
            countRefusal(.clusterUnavailable)
            throw .clusterUnavailable(reachedHere: reachedHere, reason: error.description)
        }
    }

    /// One input from the broker, applied in the broker's order.
    func clusterReceived(_ input: ClusterInput) async {
        guard let cluster else { return }
        switch input {
        case .message(let message, let node):
            await applyClusterMessage(message, from: node)
        case .presence(let node, let uid, let presence):
            if cluster.view.withLock({ $0.set(node: node, uid: uid, presence) }) { scheduleClusterPublish() }
        case .nodeGone(let node):
            log(.info, "cluster: node \(node) left")
            if cluster.view.withLock({ $0.remove(node: node) }) { scheduleClusterPublish() }
        case .snapshot(let nodes):
            if cluster.view.withLock({ $0.replace(with: nodes) }) { scheduleClusterPublish() }
        case .uidPort(let open, let uid):
            log(.info, "cluster \(open ? "uidport-open" : "uidport-close") \(EDNPrinter.string(uid))")
            let id = open ? Reserved.clusterUIDPortOpen : Reserved.clusterUIDPortClose
            deliver(ServerEventMessage(event: Event(id, uid), origin: .engine(open ? .clusterUIDPortOpen(uid) : .clusterUIDPortClose(uid)),
                                       uid: uid, clientID: "", request: Self.clusterRequest, replier: nil))
        case .refused(let reason, let text):
            log(.warning, "cluster: \(text)")
            countRefusal(reason)
        case .link(let up, let text):
            log(up ? .info : .warning, "cluster: \(text)")
        }
    }

    /// The request of cluster-wide engine events (no client made them): method `CLUSTER`.
    static let clusterRequest = ConnectionRequest(method: "CLUSTER", path: "")

    private func applyClusterMessage(_ message: ClusterMessage, from node: String) async {
        switch message {
        case .push(let uid, let value, let flush):
            guard let event = clusterEvent(value, from: node), !uid.isNull else { return }
            guard let size = try? pushSize(event, to: EDNPrinter.string(uid)) else { return }   // logged, counted
            _ = await pushHere(event, to: uid, flush: flush, size: size, onlyIfConnected: true)
        case .broadcast(let value, let flush):
            guard let event = clusterEvent(value, from: node) else { return }
            guard let size = try? pushSize(event, to: "every uid") else { return }
            _ = await broadcastHere(event, flush: flush, size: size)
        case .close(let uid):
            await registry.close(uid: uid)
        }
    }

    /// The event of another node's push: a valid, non-reserved event, or a refusal.
    private func clusterEvent(_ value: EDNValue, from node: String) -> Event? {
        guard let event = Event(validating: value), !event.isReserved else {
            log(.warning, "cluster: node \(node) pushed no valid app event, skipped: \(EDNPrinter.string(value).prefix(200))")
            countRefusal(.clusterBadMessage)
            return nil
        }
        return event
    }

    /// Watchers of `connectedUIDChanges()` get one value per batch of remote changes.
    private func scheduleClusterPublish() {
        guard let cluster, uidWatchers.withLock({ !$0.isEmpty }) else { return }
        guard cluster.publishScheduled.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        Task {
            cluster.publishScheduled.store(false, ordering: .releasing)
            publish(await registry.connected)
        }
    }
}
