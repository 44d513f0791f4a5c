import EDN
import Synchronization

/// Maps event ids to handlers, like Sente's `start-server-chsk-router!`: consumes a server's
/// `events` and calls the handler registered for each event id (or the fallback).
///
/// ```swift
/// let stop = EventRouter()
///     .on("my-app/req") { msg in msg.reply([.kw("ok"): true]) }
///     .on("chsk/uidport-open") { msg in print("hello", msg.data ?? nil) }
///     .start(on: server)
/// …
/// stop.stop()
/// ```
public struct EventRouter: Sendable {
    /// A handler for one event.
    public typealias Handler = @Sendable (ServerEventMessage) async -> Void

    var handlers: [Keyword: Handler] = [:]
    var fallback: Handler?

    /// An empty router.
    public init() {}

    /// Adds (or replaces) the handler for an event id (`"ns/name"`).
    public func on(_ id: String, _ handler: @escaping Handler) -> EventRouter {
        var copy = self
        copy.handlers[Keyword(id)] = handler
        return copy
    }

    /// Sets the handler for events no other handler takes, client-sent events with an engine
    /// event's id included (default: ignore them).
    public func otherwise(_ handler: @escaping Handler) -> EventRouter {
        var copy = self
        copy.fallback = handler
        return copy
    }

    /// Routes one message; returns false when nothing handled it. A handler registered for an
    /// engine event id (`EngineEvent.ids`: `:chsk/uidport-open`, `-close`, `:chsk/bad-event`,
    /// `:chsk/bad-package`) gets only the engine's events: a client that sends one of those ids
    /// itself reaches the fallback, as the client event it is (`message.origin == .client`).
    @discardableResult
    public func route(_ message: ServerEventMessage) async -> Bool {
        let forged = message.isFromClient && EngineEvent.ids.contains(message.id)
        if !forged, let handler = handlers[message.id] {
            await handler(message)
            return true
        }
        if let fallback {
            await fallback(message)
            return true
        }
        return false
    }

    /// Starts consuming `server.events` in a task; handlers run one after another, in arrival
    /// order. Returns the handle that stops it.
    public func start(on server: ChannelSocketServer) -> StopHandle {
        let router = self
        let task = Task {
            for await message in server.events {
                if Task.isCancelled { break }
                await router.route(message)
            }
        }
        return StopHandle(task: task)
    }
}

/// Stops a started `EventRouter`.
public struct StopHandle: Sendable {
    let task: Task<Void, Never>

    /// Stops routing. `server.events` is a single-consumer stream, and cancelling its consumer
    /// ends it: start one router per server.
    public func stop() { task.cancel() }
}
