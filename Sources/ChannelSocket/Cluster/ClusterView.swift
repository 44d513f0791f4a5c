import EDN

/// What a node knows of the other nodes' clients: each node's membership per uid, and per uid
/// how many nodes count it in `:ws` and `:ajax` (so a lookup is O(1) and a merge with the
/// node's own `connected-uids` costs one pass over the remote uids).
struct ClusterView: Sendable {
    private(set) var nodes: [String: [EDNValue: ClusterPresence]] = [:]
    /// uid → (nodes with it in :ws, nodes with it in :ajax); only uids some node has.
    private(set) var counts: [EDNValue: (ws: Int, ajax: Int)] = [:]
    /// Remote uids in the order they first appeared (for a stable printed order).
    private var order = OrderedMembers()

    /// Sets one node's membership of a uid; returns whether anything changed.
    @discardableResult
    mutating func set(node: String, uid: EDNValue, _ presence: ClusterPresence) -> Bool {
        let old = nodes[node]?[uid] ?? .none
        guard old != presence else { return false }
        if presence.isConnected { nodes[node, default: [:]][uid] = presence } else {
            nodes[node]?[uid] = nil
            if nodes[node]?.isEmpty == true { nodes[node] = nil }
        }
        var c = counts[uid] ?? (0, 0)
        c.ws += (presence.ws ? 1 : 0) - (old.ws ? 1 : 0)
        c.ajax += (presence.ajax ? 1 : 0) - (old.ajax ? 1 : 0)
        if c.ws == 0 && c.ajax == 0 {
            counts[uid] = nil
            order.remove(uid)
        } else {
            counts[uid] = c
            order.insert(uid)
        }
        return true
    }

    /// Forgets a node; returns whether it had any uid.
    @discardableResult
    mutating func remove(node: String) -> Bool {
        guard let uids = nodes[node] else { return false }
        for uid in uids.keys { set(node: node, uid: uid, .none) }
        nodes[node] = nil
        return true
    }

    /// Replaces everything with `snapshot`; returns whether anything changed.
    @discardableResult
    mutating func replace(with snapshot: [String: [EDNValue: ClusterPresence]]) -> Bool {
        var changed = false
        for node in Array(nodes.keys) where snapshot[node] == nil { changed = remove(node: node) || changed }
        for (node, uids) in snapshot {
            for uid in Array((nodes[node] ?? [:]).keys) where uids[uid] == nil { changed = set(node: node, uid: uid, .none) || changed }
            for (uid, p) in uids { changed = set(node: node, uid: uid, p) || changed }
        }
        return changed
    }

    /// True when another node has a client of `uid`.
    func isConnected(_ uid: EDNValue) -> Bool { counts[uid] != nil }

    /// How many other nodes have a client of `uid`.
    func nodeCount(_ uid: EDNValue) -> Int { nodes.values.reduce(0) { $0 + ($1[uid] != nil ? 1 : 0) } }

    /// `local` with the other nodes' uids added (the node's own uids first, in their order).
    func merged(with local: ConnectedUIDs) -> ConnectedUIDs {
        guard !counts.isEmpty else { return local }
        var merged = local
        for uid in order.elements {
            guard let c = counts[uid] else { continue }
            if c.ws > 0 { merged.ws.insert(uid) }
            if c.ajax > 0 { merged.ajax.insert(uid) }
            merged.any.insert(uid)
        }
        return merged
    }
}
