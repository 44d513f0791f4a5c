public import EDN

/// A Sente event: `[ev-id]` or `[ev-id ev-data]`, where `ev-id` is a namespaced keyword.
public struct Event: Sendable, Hashable, CustomStringConvertible {
    /// The event id (`:my-app/chat`).
    public var id: Keyword
    /// The event data; `nil` for a one-element event (`[:my-app/ping]`). A two-element event
    /// whose data is `nil` has `.some(.null)`.
    public var data: EDNValue?

    /// An event from an id and optional data.
    public init(_ id: Keyword, _ data: EDNValue? = nil) {
        self.id = id
        self.data = data
    }

    /// An event from `"ns/name"` and optional data.
    public init(_ id: String, _ data: EDNValue? = nil) {
        self.init(Keyword(id), data)
    }

    /// Validates a value as Sente does: a vector of one or two elements whose first element is
    /// a namespaced keyword. `nil` when the value is no event.
    public init?(validating value: EDNValue) {
        guard case .vector(let items) = value, (1...2).contains(items.count),
              case .keyword(let id) = items[0], id.namespace != nil else { return nil }
        self.id = id
        self.data = items.count == 2 ? .some(items[1]) : .none
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
