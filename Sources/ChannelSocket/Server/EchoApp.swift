public import EDN

/// The reference echo app of the conformance recordings (shared/conformance/README.md), which
/// `chsk serve --echo` runs and the replay tests use:
/// 1. every event that arrives with a callback is answered with
///    `{:echo <the event> :uid <sender uid> :client-id <sender client-id>}`;
/// 2. `[:test/echo-push X]` pushes `[:test/echo X]` to the sender's uid (all its clients);
/// 3. `[:test/push {:uid U :event EV}]` pushes `EV` to uid `U`.
/// (Its HTTP endpoints `/push`, `/connected`, `/csrf` live in the web adapter.)
public struct EchoApp: Sendable {
    let server: ChannelSocketServer

    /// An echo app for a server.
    public init(server: ChannelSocketServer) { self.server = server }

    /// The handshake data the recordings used: `{:server <name>, :uid-param <the uid param>}`.
    public static func handshakeData(serverName: String) -> @Sendable (ConnectionRequest) -> EDNValue? {
        { request in [":server": .string(serverName), ":uid-param": request.params["uid"].map(EDNValue.string) ?? .null] }
    }

    /// Handles one event as the reference app does.
    public func handle(_ message: ServerEventMessage) async {
        if message.wantsReply {
            message.reply([":echo": message.event.value, ":uid": message.uid, ":client-id": .string(message.clientID)])
        }
        switch message.id.text {
        case "test/echo-push":
            try? await server.send(Event("test/echo", message.data ?? .null), to: message.uid)
        case "test/push":
            if let spec = message.data, let uid = spec[.kw("uid")], let ev = spec[.kw("event")], let event = Event(validating: ev) {
                try? await server.send(event, to: uid)
            }
        default:
            break
        }
    }

    /// Handles every event of the server until its stream ends.
    public func run() async {
        for await message in server.events { await handle(message) }
    }
}
