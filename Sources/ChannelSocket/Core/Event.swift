public import EDN
import Synchronization

/// A Sente event: `[ev-id]` or `[ev-id ev-data]`, where `ev-id` is a namespaced keyword.
///
/// An event the server engine read for a typed handler keeps its data as the flat tape the
/// message was read into: `decode(_:)` reads the typed payload from it directly, and `data`
/// builds the `EDNValue` only when first asked for (once; equality and hashing go through
/// `data`, so both forms of an event compare alike).
public struct Event: Sendable, Hashable, CustomStringConvertible {
    /// The event id (`:my-app/chat`).
    public var id: Keyword
    /// Where the data is: a value, or a node of a read message's tape.
    var storage: EventData

    /// The event data; `nil` for a one-element event (`[:my-app/ping]`). A two-element event
    /// whose data is `nil` has `.some(.null)`.
    public var data: EDNValue? {
        get {
            switch storage {
            case .value(let v): v
            case .tape(let t): .some(t.value)
            }
        }
        set { storage = .value(newValue) }
    }

    /// An event from an id and optional data.
    public init(_ id: Keyword, _ data: EDNValue? = nil) {
        self.id = id
        self.storage = .value(data)
    }

    /// An event from `"ns/name"` and optional data.
    public init(_ id: String, _ data: EDNValue? = nil) {
        self.init(Keyword(id), data)
    }

    /// An event whose data is the subtree at `node` of `tape` (not materialized).
    init(_ id: Keyword, tape: ValueTape, node: Int) {
        self.id = id
        self.storage = .tape(TapeData(tape: tape, node: node))
    }

    /// Equal ids and equal data (wherever the data is kept).
    public static func == (a: Event, b: Event) -> Bool { a.id == b.id && a.data == b.data }

    /// Hashes the id and the data (wherever the data is kept).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(data)
    }

    /// True when the data is a node of a read message's tape (the engine's typed path).
    package var dataIsOnTape: Bool {
        if case .tape = storage { return true }
        return false
    }

    /// True when the data is on a tape and its `EDNValue` has been built (`data` was read).
    package var tapeDataWasMaterialized: Bool {
        if case .tape(let t) = storage { return t.isMaterialized }
        return false
    }

    /// Validates a value as Sente does: a vector of one or two elements whose first element is
    /// a namespaced keyword. `nil` when the value is no event.
    public init?(validating value: EDNValue) {
        guard case .vector(let items) = value, (1...2).contains(items.count),
              case .keyword(let id) = items[0], id.namespace != nil else { return nil }
        self.id = id
        self.storage = .value(items.count == 2 ? .some(items[1]) : .none)
    }

    /// Validates the vector at `node` of a read message's tape as `init(validating:)` does
    /// the value it stands for. The data stays on the tape when `keepOnTape` says so for the
    /// id, else it is built as a value. `nil` when it is no event.
    init?(validating tape: ValueTape, at node: Int, keepingDataIf keepOnTape: (Keyword) -> Bool) {
        guard case .vector(let count, _) = tape.nodes[node], (1...2).contains(count),
              case .scalar(.keyword(let id)) = tape.nodes[node + 1], id.namespace != nil else { return nil }
        if count == 1 {
            self.init(id)
        } else if keepOnTape(id) {
            self.init(id, tape: tape, node: node + 2)
        } else {
            self.init(id, tape.materialize(node + 2))
        }
    }

    /// The event this event's data holds, as `init(validating:)` reads it (the `[id data]` of
    /// a `[:chsk/recv [id data]]`); data on a tape stays on it. `nil` when the data is no event.
    var dataAsEvent: Event? {
        if case .tape(let t) = storage {
            if case .scalar = t.tape.nodes[t.node] {} else {
                return Event(validating: t.tape, at: t.node, keepingDataIf: { _ in true })
            }
        }
        return data.flatMap(Event.init(validating:))
    }

    /// The event as a value: `[id]` or `[id data]`.
    public var value: EDNValue {
        if let data { return .vector([.keyword(id), data]) }
        return .vector([.keyword(id)])
    }

    /// The event as EDN text.
    public var description: String { value.description }

    /// `[:chsk/bad-event value]`: what the app receives for a message that is no valid event.
    public static func badEvent(_ value: EDNValue) -> Event { Event(Keyword("chsk/bad-event"), value) }

    /// True for Sente's own reserved `chsk` namespace (never pushed by servers).
    public var isReserved: Bool { id.namespace == "chsk" }
}

/// An event's data: a value, or a node of a read message's tape.
enum EventData: Sendable {
    case value(EDNValue?)
    case tape(TapeData)
}

/// Event data on a tape: the tape (shared by the copies of the event), the data's node, and
/// its `EDNValue` once built.
final class TapeData: Sendable {
    let tape: ValueTape
    let node: Int
    let built = Mutex<EDNValue?>(nil)

    init(tape: ValueTape, node: Int) {
        self.tape = tape
        self.node = node
    }

    /// The data as a value, built on first use.
    var value: EDNValue {
        built.withLock { built in
            if let built { return built }
            let v = tape.materialize(node)
            built = v
            return v
        }
    }

    var isMaterialized: Bool { built.withLock { $0 != nil } }
}

/// Sente's reserved keywords, as protocol facts.
public enum Reserved {
    /// `:chsk/handshake`.
    public static let handshake = Keyword("chsk/handshake")
    /// `:chsk/ws-ping`.
    public static let wsPing = Keyword("chsk/ws-ping")
    /// `:chsk/ws-pong`.
    public static let wsPong = Keyword("chsk/ws-pong")
    /// `:chsk/timeout`.
    public static let timeout = Keyword("chsk/timeout")
    /// `:chsk/dummy-cb-200`.
    public static let dummyCallback200 = Keyword("chsk/dummy-cb-200")
    /// `:chsk/closed`.
    public static let closed = Keyword("chsk/closed")
    /// `:chsk/error`.
    public static let error = Keyword("chsk/error")
    /// `:chsk/bad-event`.
    public static let badEvent = Keyword("chsk/bad-event")
    /// `:chsk/bad-package` (v1 only).
    public static let badPackage = Keyword("chsk/bad-package")
    /// `:chsk/uidport-open`.
    public static let uidportOpen = Keyword("chsk/uidport-open")
    /// `:chsk/uidport-close`.
    public static let uidportClose = Keyword("chsk/uidport-close")
    /// `:chsk/cluster-uidport-open` (chsk's, server side only: `EngineEvent.clusterUIDPortOpen`).
    public static let clusterUIDPortOpen = Keyword("chsk/cluster-uidport-open")
    /// `:chsk/cluster-uidport-close` (chsk's, server side only: `EngineEvent.clusterUIDPortClose`).
    public static let clusterUIDPortClose = Keyword("chsk/cluster-uidport-close")
    /// `:chsk/state`.
    public static let state = Keyword("chsk/state")
    /// `:chsk/recv`.
    public static let recv = Keyword("chsk/recv")
    /// `:chsk/close`: pushed to a uid, closes all its connections.
    public static let close = Keyword("chsk/close")
    /// The uid of clients without one, as v1 (Sente ≤ 1.17) writes it.
    public static let nilUIDv1 = Keyword("taoensso.sente/nil-uid")
    /// The uid of clients without one, as v2 (Sente ≥ 1.18) writes it.
    public static let nilUIDv2 = Keyword("sente/nil-uid")
    /// `:sente/all-users-without-uid`: the push destination for every nil-uid client.
    public static let allUsersWithoutUID = Keyword("sente/all-users-without-uid")

    /// The nil-uid keyword of a generation.
    public static func nilUID(_ generation: WireGeneration) -> Keyword {
        generation == .v1 ? nilUIDv1 : nilUIDv2
    }
}
