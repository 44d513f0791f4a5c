public import EDN

/// The reference echo app of the conformance recordings (shared/conformance/README.md), which
/// `chsk serve --echo` runs and the replay tests use:
/// 1. every event that arrives with a callback is answered with
///    `{:echo <the event> :uid <sender uid> :client-id <sender client-id>}`;
/// 2. `[:test/echo-push X]` pushes `[:test/echo X]` to the sender's uid (all its clients);
/// 3. `[:test/push {:uid U :event EV}]` pushes `EV` to uid `U`, unless `EV` is one of Sente's
///    own `:chsk/*` events (`[:chsk/close]` would disconnect `U`): refused, logged, counted.
/// Engine events and client events are told apart by `ServerEventMessage.origin`, never by id.
/// (Its HTTP endpoints `/push`, `/connected`, `/csrf` live in the web adapter.)
public struct EchoApp: Sendable {
    let server: ChannelSocketServer

    /// An echo app for a server.
    public init(server: ChannelSocketServer) { self.server = server }

    /// The handshake data the recordings used: `{:server <name>, :uid-param <the uid param>}`.
    public static func handshakeData(serverName: String) -> @Sendable (ConnectionRequest) -> EDNValue? {
        { request in [.kw("server"): .string(serverName), .kw("uid-param"): request.params["uid"].map(EDNValue.string) ?? .null] }
    }

    /// Handles one event as the reference app does.
    public func handle(_ message: ServerEventMessage) async {
        if message.wantsReply { message.reply(Self.echo(message)) }
        if let (event, uid) = push(for: message) { _ = try? await server.send(event, to: uid) }
    }

    /// Handles every event of the server until its stream ends.
    public func run() async {
        for await message in server.events { await handle(message) }
    }

    /// Runs the app inline (`ChannelSocketServer.handleEventsInline`): replies are written
    /// where each event arrives; pushes go, in their order, through this task. Returns when
    /// the task is cancelled.
    public func runInline() async {
        let (pushes, sink) = AsyncStream.makeStream(of: (Event, EDNValue).self, bufferingPolicy: .unbounded)
        server.handleEventsInline { message in
            if message.wantsReply { message.reply(Self.echo(message)) }
            if let push = push(for: message) { sink.yield(push) }
        }
        await withTaskCancellationHandler {
            for await (event, uid) in pushes { _ = try? await server.send(event, to: uid) }
        } onCancel: {
            sink.finish()
        }
    }

    /// The reply to an event with a callback: `{:echo <event> :uid <uid> :client-id <id>}`.
    static func echo(_ message: ServerEventMessage) -> EDNValue {
        [.kw("echo"): message.event.value, .kw("uid"): message.uid, .kw("client-id"): .string(message.clientID)]
    }

    /// The push an event asks for, if any: `[:test/echo X]` to the sender's uid for
    /// `[:test/echo-push X]`, `EV` to `U` for `[:test/push {:uid U :event EV}]`.
    func push(for message: ServerEventMessage) -> (Event, EDNValue)? {
        guard message.isFromClient else { return nil }
        switch message.id.text {
        case "test/echo-push":
            return (Event("test/echo", message.data ?? .null), message.uid)
        case "test/push":
            guard let spec = message.data, let uid = spec[.kw("uid")], let ev = spec[.kw("event")], let event = Event(validating: ev) else {
                return nil
            }
            if event.isReserved {
                server.log(.warning, "[:test/push …] from \(message.clientID): refused to push \(event.id) (Sente's own events are not pushed from outside)")
                server.countRefusal(.reservedEvent)
                return nil
            }
            return (event, uid)
        default:
            return nil
        }
    }
}
