import EDN

/// Who is connected, by transport (Sente's `connected-uids`), kept with O(1) work per client
/// event (issue 13 item 7; design-notes R2).
///
/// Two layers:
/// - **Counters** per uid: how many of its clients count toward `:ws` (an open WebSocket, or
///   one within its reconnect grace) and toward `:ajax` (a counted Ajax client). The registry
///   reports every change of a client's contribution (`update`), so the counters are always
///   those of the registry's clients, without ever recounting them.
/// - **Membership** as reported: the uids of `:ws`, `:ajax` and `:any`, changed only by
///   `settle(_:)`, which compares one uid's counters with its reported membership and returns
///   the delta (the registry emits `uidport-open/close` from it). Keeping the two apart keeps
///   the moments at which events are emitted exactly where the registry asks for them.
///
/// The `ConnectedUIDs` value is built lazily from the membership, at most once per change of
/// it (`snapshot()` caches it), never per client event. Members keep their insertion order,
/// as `EDNSet` does, so the value prints as it did when the sets were updated in place.
struct PresenceTracker {
    /// What one client adds to its uid's counters.
    struct Contribution: Equatable {
        var ws = false
        var ajax = false
        static let none = Contribution()
    }

    /// A uid's counters.
    struct Counts {
        var ws = 0
        var ajax = 0
    }

    /// A change of one uid's reported membership.
    struct Delta {
        let uid: EDNValue
        /// `true`: the uid joined `:any` (uidport-open); `false`: it left (uidport-close);
        /// `nil`: only `:ws` / `:ajax` changed.
        let any: Bool?
        /// Whether the uid is in `:ws` now.
        let ws: Bool
        /// Whether the uid is in `:ajax` now.
        let ajax: Bool
    }

    private(set) var counts: [EDNValue: Counts] = [:]
    private var ws = OrderedMembers()
    private var ajax = OrderedMembers()
    private var any = OrderedMembers()
    private var cached: ConnectedUIDs? = ConnectedUIDs()

    /// Moves one client's contribution to its uid from `old` to `new` (O(1)).
    mutating func update(_ uid: EDNValue, from old: Contribution, to new: Contribution) {
        guard old != new else { return }
        var c = counts.removeValue(forKey: uid) ?? Counts()
        c.ws += (new.ws ? 1 : 0) - (old.ws ? 1 : 0)
        c.ajax += (new.ajax ? 1 : 0) - (old.ajax ? 1 : 0)
        assert(c.ws >= 0 && c.ajax >= 0, "presence counters went negative")
        if c.ws != 0 || c.ajax != 0 { counts[uid] = c }
    }

    /// Brings the reported membership of `uid` in line with its counters (O(1) amortised);
    /// `nil` when nothing changed.
    mutating func settle(_ uid: EDNValue) -> Delta? {
        let c = counts[uid] ?? Counts()
        let inWS = c.ws > 0, inAjax = c.ajax > 0, inAny = inWS || inAjax
        let wasAny = any.contains(uid)
        let wsChanged = inWS ? ws.insert(uid) : ws.remove(uid)
        let ajaxChanged = inAjax ? ajax.insert(uid) : ajax.remove(uid)
        let anyChanged = inAny ? any.insert(uid) : any.remove(uid)
        guard wsChanged || ajaxChanged || anyChanged else { return nil }
        cached = nil
        return Delta(uid: uid, any: inAny != wasAny ? inAny : nil, ws: inWS, ajax: inAjax)
    }

    /// True when `uid` is reported in `:any`.
    func isConnected(_ uid: EDNValue) -> Bool { any.contains(uid) }

    /// The uids reported in `:any`, in the order they joined.
    var anyUIDs: [EDNValue] { any.elements }

    /// `connected-uids` as reported; built on the first call after a change, then cached.
    mutating func snapshot() -> ConnectedUIDs {
        if let cached { return cached }
        let value = ConnectedUIDs(ws: EDNSet(ws.elements), ajax: EDNSet(ajax.elements), any: EDNSet(any.elements))
        cached = value
        return value
    }
}

/// A set that remembers insertion order, with O(1) insert, remove and lookup (amortised: the
/// order log is compacted when half of it is holes).
struct OrderedMembers {
    private var log: [EDNValue?] = []
    private var position: [EDNValue: Int] = [:]
    private var holes = 0

    func contains(_ value: EDNValue) -> Bool { position[value] != nil }

    var count: Int { position.count }

    /// Adds `value` at the end unless present; returns whether it was added.
    @discardableResult
    mutating func insert(_ value: EDNValue) -> Bool {
        guard position[value] == nil else { return false }
        position[value] = log.count
        log.append(value)
        return true
    }

    /// Removes `value`; returns whether it was present.
    @discardableResult
    mutating func remove(_ value: EDNValue) -> Bool {
        guard let i = position.removeValue(forKey: value) else { return false }
        log[i] = nil
        holes += 1
        if holes > 32 && holes * 2 > log.count { compact() }
        return true
    }

    /// The members in insertion order.
    var elements: [EDNValue] { log.compactMap { $0 } }

    private mutating func compact() {
        let live = log.compactMap { $0 }
        log = live.map(Optional.some)
        for (i, v) in live.enumerated() { position[v] = i }
        holes = 0
    }
}
