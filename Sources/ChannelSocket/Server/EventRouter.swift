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
///
/// ## Typed events
/// Handlers can take the event's data as a `Decodable` type and answer with an `Encodable`
/// one (`EDNDecoder`/`EDNEncoder` rules: struct fields are keyword keys, `Keyword`,
/// `Instant`, `EDNUUID`, big numbers as themselves):
///
/// ```swift
/// struct SendMessage: Codable, Sendable { var room: String; var text: String }
/// struct HistoryQuery: Codable, Sendable { var room: String; var limit: Int }
/// let router = EventRouter()
///     .on("chat/send", as: SendMessage.self) { msg, send in await rooms.post(send, from: msg.uid) }
///     .onRequest("chat/history", as: HistoryQuery.self) { msg, query in
///         await rooms.last(query.limit, in: query.room)   // an Encodable reply, e.g. [ChatMessage]
///     }
/// ```
///
/// While a router with typed handlers runs on a server with the EDN or a Transit packer, the
/// engine reads inbound messages straight from the wire bytes into a flat tape and keeps the
/// data of the typed handlers' events on it: the payload is decoded from the bytes as read,
/// with no `EDNValue` tree built for it (`message.data` still builds one when asked).
///
/// Data that does not decode as the handler's type never reaches it: the mismatch (an
/// `EventPayloadError` naming the coding path) is logged as a warning, handed to
/// `onPayloadError` if set, and the event is then answered the way an unhandled event is:
/// the fallback (`otherwise`) gets it if there is one; else nothing replies, and a client's
/// callback ends as any unanswered one does (`:chsk/timeout`; over Ajax the engine answers
/// it at `longPollTimeout`).
public struct EventRouter: Sendable {
    /// A handler for one event.
    public typealias Handler = @Sendable (ServerEventMessage) async -> Void
    /// A typed handler as stored: runs the handler, or returns the payload error.
    typealias TypedHandler = @Sendable (ServerEventMessage, LogSink?) async -> EventPayloadError?
    /// Where the router logs.
    typealias LogSink = @Sendable (ServerLogEntry.Level, String) -> Void

    var handlers: [Keyword: Handler] = [:]
    var typedHandlers: [Keyword: TypedHandler] = [:]
    var fallback: Handler?
    var payloadErrorHandler: (@Sendable (ServerEventMessage, EventPayloadError) async -> Void)?
    var logSink: LogSink?

    /// An empty router.
    public init() {}

    /// Adds (or replaces) the handler for an event id (`"ns/name"`).
    public func on(_ id: String, _ handler: @escaping Handler) -> EventRouter {
        var copy = self
        copy.handlers[Keyword(id)] = handler
        copy.typedHandlers[Keyword(id)] = nil
        return copy
    }

    /// Adds (or replaces) a typed handler for an event id: the event's data decoded as
    /// `type` (a one-element event's missing data decodes as `nil`, so an `Optional` type
    /// takes it). See "Typed events" above for data that does not decode.
    public func on<Payload: Decodable & Sendable>(_ id: String, as type: Payload.Type,
                                       _ handler: @escaping @Sendable (ServerEventMessage, Payload) async -> Void) -> EventRouter {
        typed(id, as: type) { message, payload, _ in await handler(message, payload) }
    }

    func typed<Payload: Decodable & Sendable>(_ id: String, as type: Payload.Type,
                                   _ handler: @escaping @Sendable (ServerEventMessage, Payload, LogSink?) async -> Void) -> EventRouter {
        var copy = self
        copy.handlers[Keyword(id)] = nil
        copy.typedHandlers[Keyword(id)] = { message, log in
            let payload: Payload
            do throws(EventPayloadError) { payload = try message.event.decode(type) } catch { return error }
            await handler(message, payload, log)
            return nil
        }
        return copy
    }

    /// Adds (or replaces) a typed request handler: the event's data decoded as `type`, and the
    /// value the handler returns sent as the reply (`ServerEventMessage.reply`, encoded with
    /// `EDNEncoder`) when the client asked for one. A reply that cannot be encoded is logged
    /// and not sent.
    public func onRequest<Request: Decodable & Sendable, Reply: Encodable & Sendable>(
        _ id: String, as type: Request.Type,
        _ handler: @escaping @Sendable (ServerEventMessage, Request) async -> Reply
    ) -> EventRouter {
        typed(id, as: type) { message, request, log in
            let reply = await handler(message, request)
            do { try message.reply(encoding: reply) } catch {
                log?(.warning, "\(message.id) from \(message.clientID): the reply \(Reply.self) could not be encoded: \(error)")
            }
        }
    }

    /// Called (after the warning is logged, before the event goes to the fallback) for each
    /// event whose data did not decode as its typed handler's type.
    public func onPayloadError(_ handler: @escaping @Sendable (ServerEventMessage, EventPayloadError) async -> Void) -> EventRouter {
        var copy = self
        copy.payloadErrorHandler = handler
        return copy
    }

    /// Where the router logs (payload errors); `start(on:)` uses the server's log when none
    /// is set.
    public func logging(_ sink: @escaping @Sendable (ServerLogEntry.Level, String) -> Void) -> EventRouter {
        var copy = self
        copy.logSink = sink
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
        if !forged, let typed = typedHandlers[message.id] {
            guard let error = await typed(message, logSink) else { return true }
            logSink?(.warning, "\(message.clientID): \(error) (answered as an unhandled event)")
            if let payloadErrorHandler { await payloadErrorHandler(message, error) }
        }
        if let fallback {
            await fallback(message)
            return true
        }
        return false
    }

    /// Starts consuming `server.events` in a task; handlers run one after another, in arrival
    /// order. Returns the handle that stops it.
    ///
    /// With typed handlers, the server reads inbound messages for them straight from the wire
    /// bytes (EDN and Transit packers): the data of an event with a typed handler is decoded
    /// from the message as read, with no `EDNValue` tree built for it, until `stop()`.
    public func start(on server: ChannelSocketServer) -> StopHandle {
        var router = self
        if router.logSink == nil { router.logSink = { [weak server] level, text in server?.log(level, text) } }
        let typedIDs = Set(router.typedHandlers.keys)
        if !typedIDs.isEmpty { server.registerTypedEvents(typedIDs) }
        let task = Task {
            for await message in server.events {
                if Task.isCancelled { break }
                await router.route(message)
            }
        }
        guard !typedIDs.isEmpty else { return StopHandle(task: task) }
        let onStop: @Sendable () -> Void = { [weak server] in server?.registerTypedEvents([]) }
        return StopHandle(task: task, onStop: onStop)
    }
}

extension ServerEventMessage {
    /// The event's data decoded as `type` (`EDNDecoder`'s rules); a mismatch is an
    /// `EventPayloadError` naming where.
    public func decode<T: Decodable>(_ type: T.Type) throws(EventPayloadError) -> T {
        try event.decode(type)
    }

    /// Answers the client's callback with `value` encoded by `EDNEncoder` (see `reply(_:)`).
    public func reply<T: Encodable>(encoding value: T) throws {
        reply(try EDNEncoder().encode(value))
    }
}

/// Stops a started `EventRouter`.
public struct StopHandle: Sendable {
    let task: Task<Void, Never>
    let onStop: (@Sendable () -> Void)?

    init(task: Task<Void, Never>, onStop: (@Sendable () -> Void)? = nil) {
        self.task = task
        self.onStop = onStop
    }

    /// Stops routing (and the server's reading of typed events to tapes). `server.events` is a
    /// single-consumer stream, and cancelling its consumer ends it: start one router per server.
    public func stop() {
        onStop?()
        task.cancel()
    }
}
