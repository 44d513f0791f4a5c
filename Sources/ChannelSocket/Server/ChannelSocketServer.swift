public import EDN
public import Logging
import Synchronization

/// The server role of Sente's channel sockets, without any socket code: a web-framework
/// adapter (`ChannelSocketHummingbird`, or an in-memory one in tests) feeds it requests and
/// WebSocket messages and sends what it answers.
///
/// ```swift
/// let chsk = try ChannelSocketServer(options: .init(userID: { $0.params["uid"].map(EDNValue.string) }))
/// for await msg in chsk.events {
///     if msg.id == "my-app/req" { msg.reply([.kw("ok"): true]) }
/// }
/// try await chsk.send(Event("my-app/alert", "hi"), to: "alice")   // every client of alice
/// ```
public final class ChannelSocketServer: Sendable {
    /// The settings in force.
    public let options: ChannelSocketServerOptions
    /// Every event from every client, in arrival order per connection.
    public let events: AsyncStream<ServerEventMessage>
    let eventSink: AsyncStream<ServerEventMessage>.Continuation
    let registry: ServerRegistry
    let nextID = Atomic<UInt64>(1)
    /// WebSockets opened and not yet reported closed (for `shutdown(waitingForCloses:)`).
    let openWebSocketCount = Atomic<Int>(0)
    /// What was refused, dropped or closed past a bound (`refusalCounts`).
    let refusals = RefusalCounters()
    /// The server's metrics (swift-metrics).
    public let metrics: ServerMetrics
    /// Every timer of the server (keep-alives, long-poll timeouts, grace periods, push
    /// windows), on one task.
    let timers: ServerTimers
    let logger: Logger
    /// The cluster this server is a node of (`nil`: a single server).
    let cluster: ClusterLink?
    let uidWatchers = Mutex<[UInt64: AsyncStream<ConnectedUIDs>.Continuation]>([:])
    /// Ajax poll starts, withdrawals and releases waiting for the registry (`startPoll`).
    let pollCommands = Mutex(PollCommands())
    /// Boxed: a closure kept directly in a `Mutex` is re-wrapped in a reabstraction thunk on
    /// every `withLock` (the inout write-back), so each event nested one thunk deeper until
    /// the stack overflowed (seen as a crash after ~100 000 events).
    ///
    /// Read on every event from every event loop, so it is an atomic reference rather than a
    /// lock both loops would contend for. Handlers set are kept alive until the server ends
    /// (`handleEventsInline` is called once, before the server takes connections).
    let inlineHandler = Atomic<Unmanaged<InlineHandler>?>(nil)
    let inlineHandlers = Mutex<[InlineHandler]>([])
    /// Set while typed handlers are registered (`EventRouter.start(on:)`) and the packer can
    /// read to a tape: inbound messages then go through `unpackInboundTape`. Checked first
    /// with the atomic flag, so a server without typed handlers pays one relaxed load.
    let typedInbound = Mutex<TypedInbound?>(nil)
    let typedInboundOn = Atomic<Bool>(false)

    final class InlineHandler: Sendable {
        let handle: @Sendable (ServerEventMessage) -> Void
        init(_ handle: @escaping @Sendable (ServerEventMessage) -> Void) { self.handle = handle }
    }

    /// A server with the given options (checked; Sente's limits apply).
    /// - Parameters:
    ///   - options: settings; defaults equal Sente's.
    ///   - logger: where connection, handshake, event and close lines go (default: nowhere).
    ///   - broker: the broker that joins this server to a cluster of nodes
    ///     (`ChannelSocketRedis.RedisBroker`): `send`, `broadcast` and `[:chsk/close]` then reach
    ///     the uid's clients on every node, and `connectedUIDs` is the cluster's. `nil`: one node.
    public init(options: ChannelSocketServerOptions = .init(),
                logger: Logger = Logger(label: "chsk.server", factory: { _ in SwiftLogNoOpLogHandler() }),
                cluster broker: (any ChannelSocketBroker)? = nil) throws(OptionsError) {
        try options.validate()
        self.options = options
        self.logger = logger
        (events, eventSink) = AsyncStream.makeStream(of: ServerEventMessage.self, bufferingPolicy: .unbounded)
        metrics = options.metricsFactory.map { ServerMetrics(factory: $0) } ?? ServerMetrics()
        registry = ServerRegistry()
        timers = ServerTimers(clock: options.clock, registry: registry)
        cluster = broker.map(ClusterLink.init)
        registry.attach(self)
        if metrics.isEnabled { scheduleGaugeSample() }
        if let broker {
            broker.start { [weak self] input in await self?.clusterReceived(input) }
        }
    }

    /// Samples the gauges of `metrics` now (connections by transport and generation, held
    /// polls, connected uids, pending Ajax bytes). The server samples every 5 s by itself;
    /// an exporter calls this just before a scrape so that the values are current.
    public func sampleGauges() async {
        await registry.sampleGauges()
    }

    private func scheduleGaugeSample() {
        _ = timers.schedule(after: .seconds(5)) { [weak self] registry in
            registry.sampleGauges()
            self?.scheduleGaugeSample()
        }
    }

    func makeID() -> UInt64 { nextID.wrappingAdd(1, ordering: .relaxed).oldValue }

    /// Writes a line to the server's log (its `logger`); web adapters log through it too.
    public func log(_ level: ServerLogEntry.Level, _ message: @autoclosure () -> String) {
        switch level {
        case .debug: logger.debug("\(message())")
        case .info: logger.info("\(message())")
        case .warning: logger.warning("\(message())")
        }
    }

    func deliver(_ message: ServerEventMessage) {
        metrics.event(message.request.isWebSocket ? .ws : .ajax, engine: !message.isFromClient)
        if let handler = inlineHandler.load(ordering: .acquiring) {
            handler._withUnsafeGuaranteedRef { $0.handle(message) }
        } else {
            eventSink.yield(message)
        }
    }

    /// Hands every event from now on to `handler`, synchronously, where it arrives, instead of
    /// to `events`: on a WebSocket's event loop, in an Ajax request's task, or in the engine
    /// for `:chsk/uidport-*` events. This removes the hops to an app task and back, so the
    /// handler must never block or wait: reply, update state, or queue slower work elsewhere.
    /// Events of one connection are handled in their arrival order. Set it before the server
    /// takes connections; `EchoApp.runInline()` is an example.
    public func handleEventsInline(_ handler: @escaping @Sendable (ServerEventMessage) -> Void) {
        let box = InlineHandler(handler)
        inlineHandlers.withLock { $0.append(box) }   // owns it: the atomic holds it unretained
        inlineHandler.store(Unmanaged.passUnretained(box), ordering: .releasing)
    }

    // MARK: - App API

    /// Why a push was refused.
    public enum PushError: Error, Sendable, Equatable {
        /// `:chsk/*` events are Sente's own; clients reject them in batches.
        case reservedEvent(Keyword)
        /// The uid was `nil`: use `Reserved.allUsersWithoutUID` (`:sente/all-users-without-uid`).
        case nilUID
        /// The event alone packs to `bytes`, more than `limit` (`maxOutboundMessageBytes`): no
        /// client could take it in one frame, so nothing was sent (logged and counted as
        /// `RefusalReason.eventTooLarge`).
        case tooLarge(bytes: Int, limit: Int)
        /// The packer refused the event (a value nested past the Transit writer's bound, an
        /// EDN value with no readable text such as the keyword `:` or an `#inst` past year
        /// 9999): nothing was sent (logged and counted as `RefusalReason.unpackableEvent`).
        case unpackable(String)
        /// A node of a cluster delivered the push to its own `reachedHere` clients, but the
        /// broker could not take it for the other nodes (its link down past its bound, or its
        /// queue full): they did not get it (logged and counted as
        /// `RefusalReason.clusterUnavailable`).
        case clusterUnavailable(reachedHere: Int, reason: String)
    }

    /// Pushes an event to every WebSocket and Ajax client of `uid`. Events to one uid arrive in
    /// the order they were sent (beyond Sente, which does not guarantee it, #446). Pushes are
    /// batched per uid for `sendBufferWS` / `sendBufferAjax`, unless `flush` is set.
    /// `[:chsk/close]` closes all of the uid's connections instead. Pushes batched together
    /// go out in frames of at most `maxOutboundMessageBytes`; an event larger than that alone
    /// throws `PushError.tooLarge` and nothing is sent.
    ///
    /// On a node of a cluster, the push (or close) also goes to the uid's clients on every
    /// other node, in this node's order; if the broker cannot take it, the local clients still
    /// get it and `PushError.clusterUnavailable` tells the caller.
    /// - Returns: how many clients `uid` has now on this node (the push reaches them, and any
    ///   that reconnect within the grace period); 0 means nobody here got it
    ///   (`clusterNodes(with:)` tells on how many other nodes the uid is connected). Uids
    ///   compare as EDN values: the integer `42` is not the string `"42"`.
    @discardableResult
    public func send(_ event: Event, to uid: EDNValue, flush: Bool = false) async throws(PushError) -> Int {
        if uid.isNull { throw .nilUID }
        if event.id == Reserved.close {
            let reached = await registry.clientCount(uid: uid)
            await registry.close(uid: uid)
            try publishToCluster(.close(uid: uid), reachedHere: reached, what: "close of \(EDNPrinter.string(uid))")
            return reached
        }
        if event.isReserved { throw .reservedEvent(event.id) }
        let size = try pushSize(event, to: EDNPrinter.string(uid))
        metrics.pushed(broadcast: false)
        let reached = await pushHere(event, to: uid, flush: flush, size: size, onlyIfConnected: false)
        try publishToCluster(.push(uid: uid, event: event.value, flush: flush), reachedHere: reached,
                             what: "push of [\(event.id) …] to \(EDNPrinter.string(uid))")
        return reached
    }

    /// Pushes to this node's clients of `uid` (a push made here, or one from another node).
    func pushHere(_ event: Event, to uid: EDNValue, flush: Bool, size: Int, onlyIfConnected: Bool) async -> Int {
        // Under `auto` the users without uid are kept under v2's nil-uid, but their events carry
        // 1.14's once they speak v1 (`eventUID`): either nil-uid reaches them all.
        if uid == .keyword(Reserved.allUsersWithoutUID)
            || (options.wire == .auto && (uid == .keyword(Reserved.nilUIDv1) || uid == .keyword(Reserved.nilUIDv2))) {
            return await registry.push(event.value, to: .keyword(Reserved.nilUIDv1), flush: flush, size: size, onlyIfConnected: onlyIfConnected)
                + registry.push(event.value, to: .keyword(Reserved.nilUIDv2), flush: flush, size: size, onlyIfConnected: onlyIfConnected)
        }
        return await registry.push(event.value, to: uid, flush: flush, size: size, onlyIfConnected: onlyIfConnected)
    }

    /// The size of `event` pushed alone (a batch of one, in the larger v2 framing unless the
    /// server speaks only v1), checked against `maxOutboundMessageBytes`: over it, the push is
    /// refused, logged and counted. Packed here, in the caller's task, not in the engine.
    func pushSize(_ event: Event, to target: @autoclosure () -> String) throws(PushError) -> Int {
        let size: Int
        do { size = try Framing.pack(.vector([event.value]), generation: options.wire == .v1 ? .v1 : .v2, packer: options.packer).count } catch {
            log(.warning, "push of [\(event.id) …] to \(target()) refused: the \(options.packer.name) packer cannot pack it: \(error)")
            countRefusal(.unpackableEvent)
            throw .unpackable(String(describing: error))
        }
        let limit = options.effectiveMaxOutboundMessageBytes
        guard size <= limit else {
            log(.warning, "push of [\(event.id) …] to \(target()) refused: \(size) bytes packed, over the \(limit)-byte frame cap")
            countRefusal(.eventTooLarge)
            throw .tooLarge(bytes: size, limit: limit)
        }
        return size
    }

    /// Pushes an event to every connected uid (`:any`); `PushError.tooLarge` as for `send`.
    /// On a node of a cluster every other node pushes it to its own `:any` as well
    /// (`PushError.clusterUnavailable` as for `send`).
    /// - Returns: how many uids it went to (cluster-wide on a node of a cluster).
    @discardableResult
    public func broadcast(_ event: Event, flush: Bool = false) async throws(PushError) -> Int {
        if event.isReserved { throw .reservedEvent(event.id) }
        let size = try pushSize(event, to: "every uid")
        metrics.pushed(broadcast: true)
        let here = await broadcastHere(event, flush: flush, size: size)
        guard let cluster else { return here }
        try publishToCluster(.broadcast(event: event.value, flush: flush), reachedHere: here, what: "broadcast of [\(event.id) …]")
        return await cluster.merged(with: registry.connected).any.count
    }

    /// Pushes to every uid in this node's `:any`; returns how many.
    func broadcastHere(_ event: Event, flush: Bool, size: Int) async -> Int {
        let uids = await registry.connectedAny
        if flush {
            for uid in uids { await registry.push(event.value, to: uid, flush: true, size: size, onlyIfConnected: false) }
        } else {
            await registry.push(event.value, toAll: uids, size: size)
        }
        return uids.count
    }

    /// Sends every buffered push now.
    public func flush() async { await registry.flushAll() }

    /// Sente's `connected-uids` now (on a node of a cluster, the cluster's: this node's uids
    /// and those the other nodes reported).
    public var connectedUIDs: ConnectedUIDs {
        get async {
            let local = await registry.connected
            return cluster?.merged(with: local) ?? local
        }
    }

    /// A new stream of `connected-uids` values (starting with the current one), one per batch
    /// of changes: changes made in one step of the engine (e.g. 20 000 clients whose grace
    /// periods end together) publish one value, built once. `connectedUIDs` is always current.
    public func connectedUIDChanges() -> AsyncStream<ConnectedUIDs> {
        let (stream, continuation) = AsyncStream.makeStream(of: ConnectedUIDs.self, bufferingPolicy: .bufferingNewest(64))
        let id = makeID()
        uidWatchers.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in _ = self?.uidWatchers.withLock { $0.removeValue(forKey: id) } }
        Task { continuation.yield(await connectedUIDs) }
        return stream
    }

    func publish(_ connected: ConnectedUIDs) {
        let value = cluster?.merged(with: connected) ?? connected
        for c in uidWatchers.withLock({ Array($0.values) }) { c.yield(value) }
    }

    /// Every client currently known: uid, client id, transport.
    public func clients() async -> [(uid: EDNValue, clientID: String, transport: String)] {
        await registry.clientList()
    }

    /// Stops the server engine: answers held polls, closes WebSockets (1001), ends `events`.
    public func shutdown() async {
        await shutdown(waitingForCloses: .zero)
    }

    /// Stops the server engine as `shutdown()` does, then waits up to `limit` until the
    /// adapter has reported every WebSocket closed (`WebSocketConnection.closed()`), so that
    /// the 1001 close frames are out before the process ends.
    public func shutdown(waitingForCloses limit: Duration) async {
        await registry.shutdown()
        timers.stop()
        await cluster?.broker.shutdown()
        eventSink.finish()
        for c in uidWatchers.withLock({ Array($0.values) }) { c.finish() }
        let deadline = ContinuousClock.now + limit
        while openWebSocketCount.load(ordering: .acquiring) > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    // MARK: - Adapter API

    /// Sente's request checks, in the newest order: client id (400, beyond Sente's 500),
    /// `reject`, CSRF (403 `Bad CSRF token`), origin (403 `Unauthorized origin`), `authorize`
    /// (401 `Unauthorized request`, or `unauthorized`'s reply), `authorization`'s reply.
    /// `nil` when the request may proceed.
    public func check(_ request: ConnectionRequest) -> HTTPReply? {
        if request.clientID == nil {
            log(.warning, "\(request.method) \(request.path): missing client-id → 400")
            return HTTPReply(status: 400, text: "Missing client-id parameter (every Sente request carries one)")
        }
        if request.isWebSocket && !options.allowWebSocket {
            return rejected(request, 400, "WebSocket disabled on this server (Ajax only)")
        }
        return guardChecks(request, requireCSRF: true, origin: options.allowedOrigins.map { originAllowed(request, $0) } ?? true)
    }

    /// The checks for an app's own HTTP routes beside the channel socket (the echo app's
    /// `/push`, `/broadcast`, `/connected`, `/csrf` in `chsk serve`), which act for whoever
    /// calls them and so must be at least as guarded as the socket: `reject`, CSRF when
    /// `requireCSRF` (403 `Bad CSRF token`), origin (403 `Unauthorized origin`), `authorize`
    /// (401). The origin rule is stricter than Sente's default for its own endpoint (every
    /// origin allowed): without `allowedOrigins`, a browser request from another site (an
    /// `Origin` whose host differs from `Host`, or `Sec-Fetch-Site: cross-site`) is refused.
    /// Requests from non-browser clients (no `Origin`) pass the origin check. Refusals are
    /// logged and counted like the socket's. `nil` when the request may proceed.
    public func checkAppRoute(_ request: ConnectionRequest, requireCSRF: Bool = true) -> HTTPReply? {
        guardChecks(request, requireCSRF: requireCSRF, origin: options.allowedOrigins.map { originAllowed(request, $0) } ?? isSameSite(request))
    }

    /// `reject`, CSRF (when `requireCSRF`), the origin verdict, `authorize`, in Sente's
    /// order, each refusal logged and counted: shared by `check` and `checkAppRoute`.
    private func guardChecks(_ request: ConnectionRequest, requireCSRF: Bool, origin allowed: @autoclosure () -> Bool) -> HTTPReply? {
        if let reject = options.reject, let reply = reject(request) { return refused(request, .rejected, reply) }
        if requireCSRF, !csrfPasses(request) { return refused(request, .csrf, 403, "Bad CSRF token") }
        if !allowed() { return refused(request, .origin, 403, "Unauthorized origin") }
        if let authorize = options.authorize, !authorize(request) {
            guard let unauthorized = options.unauthorized else { return refused(request, .unauthorized, 401, "Unauthorized request") }
            return refused(request, .unauthorized, unauthorized(request))
        }
        if let authorization = options.authorization, let reply = authorization(request) {
            return refused(request, .unauthorized, reply)
        }
        return nil
    }

    /// True unless a browser says the request comes from another site: `Sec-Fetch-Site:
    /// cross-site`, or an `Origin` (`null` included) whose host[:port] is not the `Host`
    /// header's.
    func isSameSite(_ request: ConnectionRequest) -> Bool {
        if request.header("sec-fetch-site")?.lowercased() == "cross-site" { return false }
        guard let origin = request.header("origin") else { return true }
        let bytes = Array(origin.utf8)
        guard let host = request.header("host")?.lowercased(),
              let colon = bytes.indices.first(where: { bytes[$0...].starts(with: "://".utf8) }) else { return false }   // "null", garbage
        return String(decoding: bytes[(colon + 3)...], as: UTF8.self).lowercased() == host
    }

    func csrfPasses(_ request: ConnectionRequest) -> Bool {
        switch options.csrf {
        case .disabled: return true
        case .token(let expected): return csrfMatches(request, expected)
        case .perRequest(let expectedFor): return expectedFor(request).map { csrfMatches(request, $0) } ?? false
        }
    }

    func refused(_ request: ConnectionRequest, _ reason: RefusalReason, _ status: Int, _ text: String) -> HTTPReply {
        countRefusal(reason)
        return rejected(request, status, text)
    }

    /// An app hook's reply, logged and counted like the built-in refusals.
    func refused(_ request: ConnectionRequest, _ reason: RefusalReason, _ reply: HTTPReply) -> HTTPReply {
        countRefusal(reason)
        log(.warning, "\(request.isWebSocket ? "ws" : request.method) \(request.clientID ?? "-"): \(reply.status) (\(reason))")
        return reply
    }

    func rejected(_ request: ConnectionRequest, _ status: Int, _ text: String) -> HTTPReply {
        log(.warning, "\(request.isWebSocket ? "ws" : request.method) \(request.clientID ?? "-"): \(status) \(text)")
        return HTTPReply(status: status, text: text)
    }

    func csrfMatches(_ request: ConnectionRequest, _ expected: String) -> Bool {
        guard let given = request.params["csrf-token"] ?? request.header("x-csrf-token") ?? request.header("x-xsrf-token") else { return false }
        // Constant time over the bytes, as Sente compares.
        let a = Array(given.utf8), b = Array(expected.utf8)
        var diff = a.count ^ b.count
        for i in 0..<max(a.count, b.count) { diff |= Int((i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)) }
        return diff == 0
    }

    /// Sente's origin rule. Newest (`wire: .v2`, `.auto`): an `Origin` header must be allowed;
    /// only without one may the `Referer` vouch. 1.14 (`wire: .v1`): either an allowed
    /// `Origin` or a `Referer` under an allowed origin is enough (a bad Origin with a good
    /// Referer passes). Neither header: refused.
    func originAllowed(_ request: ConnectionRequest, _ allowed: Set<String>) -> Bool {
        let origin = request.header("origin")
        let refererAllowed = request.header("referer").map { referer in allowed.contains { referer.hasPrefix($0 + "/") } } ?? false
        if options.wire == .v1 { return origin.map(allowed.contains) == true || refererAllowed }
        if let origin { return allowed.contains(origin) }
        return refererAllowed
    }

    /// The uid of a request, or the nil-uid keyword: v1's under `wire: .v1`, else v2's (under
    /// `auto` the generation is not known when a connection is opened).
    func userID(_ request: ConnectionRequest) -> EDNValue {
        options.userID(request) ?? .keyword(Reserved.nilUID(forcedGeneration() ?? .v2))
    }

    /// The uid an event of `generation` carries to the app. Under `auto` a client without a uid
    /// is handshaken with v2's `:sente/nil-uid` (nothing in a 1.14 client's upgrade or first
    /// poll tells its generation: same query keys, same headers); once its messages show v1,
    /// its events carry 1.14's `:taoensso.sente/nil-uid`, as a 1.14 server's would (so the echo
    /// app's replies do). The handshake already sent, the client's state from it and the
    /// connected-uids key stay v2's: re-sending the handshake would make a 1.14 client raise a
    /// second `:chsk/handshake`.
    func eventUID(_ uid: EDNValue, _ generation: WireGeneration) -> EDNValue {
        generation == .v1 && uid == .keyword(Reserved.nilUIDv2) ? .keyword(Reserved.nilUIDv1) : uid
    }

    func forcedGeneration() -> WireGeneration? {
        switch options.wire {
        case .auto: nil
        case .v1: .v1
        case .v2: .v2
        }
    }

    func handshakeValue(uid: EDNValue, request: ConnectionRequest, generation: WireGeneration) -> EDNValue {
        let data = options.handshakeData(request)
        // v1 (1.14) sends [uid nil] unless there is handshake data; v2 always [uid nil data].
        let args: EDNValue = generation == .v1 && data == nil ? [uid, .null] : [uid, .null, data ?? .null]
        return [.keyword(Reserved.handshake), args]
    }

    func packed(_ value: EDNValue, generation: WireGeneration) -> [UInt8] {
        (try? Framing.pack(value, generation: generation, packer: options.packer)) ?? []
    }

    /// Accepts a WebSocket whose upgrade request passed `check(_:)`: sends the handshake,
    /// registers the connection and starts its keep-alive. Feed it messages with `receive`.
    public func openWebSocket(_ request: ConnectionRequest, outbound: any WebSocketOutbound) async -> WebSocketConnection {
        let forced = forcedGeneration()
        let handshakeGeneration = forced ?? .v2
        let uid = userID(request)
        let connection = WebSocketConnection(id: makeID(), uid: uid, clientID: request.clientID ?? "", request: request,
                                             generation: forced, outbound: outbound, server: self)
        outbound.write(packed(handshakeValue(uid: uid, request: request, generation: handshakeGeneration), generation: handshakeGeneration),
                       binary: options.packer.isBinary)
        log(.info, "ws #\(connection.connectionID) open: uid \(EDNPrinter.string(uid)) client \(connection.clientID)\(request.remoteAddress.map { " from \($0)" } ?? "")")
        openWebSocketCount.add(1, ordering: .relaxed)
        await registry.webSocketOpened(connection)
        connection.startKeepAlive()
        return connection
    }

    /// Answers an Ajax GET (a request that passed `check(_:)`): the handshake when asked for
    /// (`handshake?`) or for an unknown client, else a long-poll held until a push batch or
    /// `longPollTimeout` (`:chsk/timeout`). Cancel the calling task when the client hangs up.
    public func poll(_ request: ConnectionRequest) async -> HTTPReply {
        await registry.poll(request: request)
    }

    /// A fresh id for `startPoll` / `cancelPoll`.
    public func nextPollID() -> UInt64 { makeID() }

    /// Starts an Ajax GET (a request that passed `check(_:)`) without waiting for its answer,
    /// for adapters that write answers from callbacks. `answer` is called exactly once (at
    /// once for a handshake or waiting pushes, else when a push batch or the long-poll timeout
    /// comes), on the engine's executor: hand it to your event loop. `poll(_:)` is the same as
    /// one `await`. Starts, withdrawals and releases take effect in the order they are made,
    /// and many of them at once cost one visit to the engine's state.
    public func startPoll(_ request: ConnectionRequest, id: UInt64, answer: @escaping @Sendable (HTTPReply) -> Void) {
        submit(.start(request, id: id, answer: answer))
    }

    /// Withdraws a poll started with `startPoll` whose client hung up: a push then waits for
    /// the client's next poll. Its `answer` gets a 499, which nobody needs to write.
    public func cancelPoll(_ request: ConnectionRequest, id: UInt64) {
        submit(.cancel(request, id: id))
    }

    /// Answers the held long-poll of the request's client at once with `:chsk/timeout` (as if
    /// its time were up), so the client polls again; for an adapter that must let go of the
    /// connection (graceful shutdown). Nothing happens when no poll is held.
    public func releasePoll(_ request: ConnectionRequest) {
        submit(.release(request))
    }

    enum PollCommand: Sendable {
        case start(ConnectionRequest, id: UInt64, answer: @Sendable (HTTPReply) -> Void)
        case cancel(ConnectionRequest, id: UInt64)
        case release(ConnectionRequest)
    }

    struct PollCommands {
        var items: [PollCommand] = []
        var draining = false
    }

    private func submit(_ command: PollCommand) {
        let startDrain = pollCommands.withLock { q -> Bool in
            q.items.append(command)
            if q.draining { return false }
            q.draining = true
            return true
        }
        if startDrain { Task { await self.drainPollCommands() } }
    }

    private func drainPollCommands() async {
        while true {
            let batch = pollCommands.withLock { q -> [PollCommand] in
                if q.items.isEmpty {
                    q.draining = false
                    return []
                }
                defer { q.items = [] }
                return q.items
            }
            if batch.isEmpty { return }
            await registry.run(batch)
        }
    }

    /// Answers an Ajax POST (a request that passed `check(_:)`, with `ppstr` in `params`):
    /// `:chsk/dummy-cb-200` at once without a callback, else the app's reply or `:chsk/timeout`
    /// after `longPollTimeout`.
    public func post(_ request: ConnectionRequest) async -> HTTPReply {
        let clientID = request.clientID ?? ""
        guard let ppstr = request.params["ppstr"] else {
            if options.wire == .v1 {
                // Sente 1.14 fails an invariant here (HTTP 500, nothing delivered); say why.
                return rejected(request, 400, "Missing ppstr parameter (the packed event)")
            }
            // Newest Sente delivers [:chsk/bad-event nil] and answers :chsk/dummy-cb-200.
            let generation = forcedGeneration() ?? .v2
            let uid = userID(request)
            deliver(ServerEventMessage(event: .badEvent(.null), origin: .engine(.badEvent(.null)), uid: uid, clientID: clientID, request: request, replier: nil))
            return HTTPReply(status: 200, body: packed(.keyword(Reserved.dummyCallback200), generation: generation))
        }
        let message = Array(ppstr.utf8)
        metrics.received(.ajax, bytes: message.count)
        if message.count > options.maxMessageBytes {
            return refused(request, .messageTooLarge, 413, "Message too big (\(message.count) bytes, limit \(options.maxMessageBytes))")
        }
        let generation = forcedGeneration() ?? Framing.detectGeneration(message)
        let uid = userID(request)
        if options.wire == .auto, generation == .v1 {
            await registry.noteAjaxGeneration(uid: uid, clientID: clientID, .v1)
        }
        let event: Event, origin: EventOrigin, callbackID: EDNValue?
        switch unpackInbound(message, generation: generation, source: "POST \(clientID)") {
        case .frame(let v, let cb):
            (event, origin) = ServerEventMessage.classify(v)
            callbackID = cb
        case .event(let e, let o, let cb):
            (event, origin, callbackID) = (e, o, cb)
        case .badPackage(let text):
            (event, origin) = ServerEventMessage.classify(.null, badPackage: text)
            callbackID = nil
        case .unreadable(let error):
            log(.warning, "POST \(clientID): unreadable message: \(error)")
            return HTTPReply(status: 400, text: "Unreadable message: \(error)")
        case .notAFrame:
            return HTTPReply(status: 400, text: "A v2 message must be [event cb-id-or-nil]")
        }
        log(.debug, "POST \(clientID) → \(EDNPrinter.string(event.value).prefix(200))")
        guard callbackID != nil else {
            deliver(ServerEventMessage(event: event, origin: origin, uid: eventUID(uid, generation), clientID: clientID, request: request, replier: nil))
            return HTTPReply(status: 200, body: packed(.keyword(Reserved.dummyCallback200), generation: generation))
        }
        let waiter = ReplyWaiter()
        let replier = Replier(once: true) { waiter.resume(with: $0) }
        deliver(ServerEventMessage(event: event, origin: origin, uid: eventUID(uid, generation), clientID: clientID, request: request, replier: replier))
        let timeout = options.longPollTimeout
        let clock = options.clock
        let timer = Task {
            try? await clock.sleep(for: timeout)
            if !Task.isCancelled { replier.reply(.keyword(Reserved.timeout)) }
        }
        let reply = await withTaskCancellationHandler {
            await waiter.value()
        } onCancel: {
            replier.reply(.keyword(Reserved.timeout))
        }
        timer.cancel()
        let body = packed(reply, generation: generation)
        let limit = options.effectiveMaxOutboundMessageBytes
        guard body.count <= limit else {
            log(.warning, "POST \(clientID): reply of \(body.count) bytes packed is over the \(limit)-byte frame cap; answered 500")
            countRefusal(.replyTooLarge)
            return HTTPReply(status: 500, text: "Reply too large (\(body.count) bytes, limit \(limit))")
        }
        return HTTPReply(status: 200, body: body)
    }
}

/// An inbound message (WebSocket frame or POST `ppstr`) after Sente's unpacking rules.
enum InboundFrame {
    /// The value and its callback id, if any.
    case frame(EDNValue, callbackID: EDNValue?)
    /// The tape path (typed handlers registered): the event and its origin, already
    /// classified as `ServerEventMessage.classify` does, and the callback id, if any.
    case event(Event, EventOrigin, callbackID: EDNValue?)
    /// v1: the payload after `-` could not be read (Sente makes `[:chsk/bad-package "rest"]`).
    case badPackage(String)
    /// v2: the payload could not be read.
    case unreadable(any Error)
    /// v2: readable, but no `[value cb]` sequence.
    case notAFrame(EDNValue)
}

/// What the engine needs for the tape path: the packer's tape reader and the event ids of
/// typed handlers (the only events whose data stays on the tape).
struct TypedInbound: Sendable {
    let reader: any TapeUnpacker
    let ids: Set<Keyword>
    /// The ids' texts (`ns/name`) as UTF-8.
    let idTexts: [[UInt8]]
    /// How far into a message `mayCarryTypedEvent` looks.
    let window: Int

    init(reader: any TapeUnpacker, ids: Set<Keyword>) {
        self.reader = reader
        self.ids = ids
        self.idTexts = ids.map { Array($0.text.utf8) }
        self.window = 64 + (idTexts.map(\.count).max() ?? 0)
    }

    /// False when the message cannot be one of the typed events as clients write them: none
    /// of the ids' texts is in its first bytes, where every framing puts the event id
    /// (`[[:ns/name …`, `+[[:ns/name …`, `[["~:ns/name", …`, MessagePack's string). Only a
    /// shortcut: both paths make the same event, so a typed event this misses (an id written
    /// with JSON escapes, after a long comment) goes through the tree path and decodes alike,
    /// while untyped events skip building a tape and then a value from it.
    func mayCarryTypedEvent(_ message: [UInt8]) -> Bool {
        message.withUnsafeBufferPointer { m in
            let end = min(m.count, window)
            for text in idTexts {
                let n = text.count
                guard n > 0, n <= end else { continue }
                let found = text.withUnsafeBufferPointer { t -> Bool in
                    var i = 0
                    while i + n <= end {
                        if m[i] == t[0] {
                            var j = 1
                            while j < n && m[i + j] == t[j] { j += 1 }
                            if j == n { return true }
                        }
                        i += 1
                    }
                    return false
                }
                if found { return true }
            }
            return false
        }
    }
}

extension ChannelSocketServer {
    /// Sente's server-side unpacking, shared by both transports. v1 follows 1.14 exactly: the
    /// first character is always dropped, an unreadable payload becomes
    /// `[:chsk/bad-package "<rest>"]`, and after a `+` the value is destructured as
    /// `[value cb]` (so a bad package arrives as `[:chsk/bad-event :chsk/bad-package]` with the
    /// rest as callback id). v2 destructures `[value cb]`; callers decide what an unreadable
    /// message or a non-frame means for their transport.
    ///
    /// With typed handlers registered (`registerTypedEvents`), a message that may carry a
    /// typed event (`TypedInbound.mayCarryTypedEvent`) is read to a tape instead
    /// (`unpackInboundTape`), with the same results.
    func unpackInbound(_ message: [UInt8], generation: WireGeneration, source: String) -> InboundFrame {
        if typedInboundOn.load(ordering: .relaxed), let typed = typedInbound.withLock({ $0 }), typed.mayCarryTypedEvent(message) {
            return unpackInboundTape(message, generation: generation, source: source, typed)
        }
        switch generation {
        case .v1:
            let rest = Array(message.dropFirst())
            var value: EDNValue
            let isFrame = message.first == UInt8(ascii: "+")
            do { value = try isFrame ? options.packer.unpackFrame(rest) : options.packer.unpack(rest) } catch {
                log(.warning, "\(source): bad package: \(error)")
                let text = String(decoding: rest, as: UTF8.self)
                guard isFrame else { return .badPackage(text) }
                value = .vector([.keyword(Reserved.badPackage), .string(text)])
            }
            if isFrame, let items = value.sequenceElements, !items.isEmpty {
                return .frame(items[0], callbackID: items.count > 1 ? nonNil(items[1]) : nil)
            }
            return .frame(value, callbackID: nil)
        case .v2:
            let value: EDNValue
            do { value = try options.packer.unpackFrame(message) } catch { return .unreadable(error) }
            guard let items = value.sequenceElements, !items.isEmpty else { return .notAFrame(value) }
            return .frame(items[0], callbackID: items.count > 1 ? nonNil(items[1]) : nil)
        }
    }

    /// `unpackInbound` through the packer's tape: the same frame and event rules, bounds and
    /// errors, but the message is read once into a flat tape and no `EDNValue` tree is built
    /// for the data of an event with a typed handler (`Event.decode` reads it from the tape).
    /// Other events get their data as a value at once, as on the tree path. The rare forms a
    /// tape holds as one value node (a frame or event written as a Transit `~#list`, EDN
    /// metadata, …) go through the tree path's rules.
    func unpackInboundTape(_ message: [UInt8], generation: WireGeneration, source: String, _ typed: TypedInbound) -> InboundFrame {
        let tape: ValueTape
        switch generation {
        case .v1:
            let rest = Array(message.dropFirst())
            let isFrame = message.first == UInt8(ascii: "+")
            do { tape = try typed.reader.unpackTape(rest, frame: isFrame) } catch {
                log(.warning, "\(source): bad package: \(error)")
                let text = String(decoding: rest, as: UTF8.self)
                guard isFrame else { return .badPackage(text) }
                // `[:chsk/bad-package "rest"]`, destructured as [value cb].
                return .frame(.keyword(Reserved.badPackage), callbackID: .string(text))
            }
            if case .scalar(let value) = tape.nodes[0] {
                if isFrame, let items = value.sequenceElements, !items.isEmpty {
                    return .frame(items[0], callbackID: items.count > 1 ? nonNil(items[1]) : nil)
                }
                return .frame(value, callbackID: nil)
            }
            if isFrame, let frame = Self.tapeFrame(tape) {
                return Self.classified(tape, node: frame.node, callbackID: frame.callbackID, typed.ids)
            }
            return Self.classified(tape, node: 0, callbackID: nil, typed.ids)
        case .v2:
            do { tape = try typed.reader.unpackTape(message, frame: true) } catch { return .unreadable(error) }
            if case .scalar(let value) = tape.nodes[0] {
                guard let items = value.sequenceElements, !items.isEmpty else { return .notAFrame(value) }
                return .frame(items[0], callbackID: items.count > 1 ? nonNil(items[1]) : nil)
            }
            guard let frame = Self.tapeFrame(tape) else { return .notAFrame(tape.materialize(0)) }
            return Self.classified(tape, node: frame.node, callbackID: frame.callbackID, typed.ids)
        }
    }

    /// `[value cb]` on a tape whose root is a vector or list of at least one element: the
    /// value's node and the callback id (`nil` when missing or `nil`).
    static func tapeFrame(_ tape: ValueTape) -> (node: Int, callbackID: EDNValue?)? {
        switch tape.nodes[0] {
        case .vector(let n, _) where n > 0, .list(let n, _) where n > 0:
            return (1, n > 1 ? nonNil(tape.materialize(tape.end(of: 1))) : nil)
        default:
            return nil
        }
    }

    static func classified(_ tape: ValueTape, node: Int, callbackID: EDNValue?, _ typedIDs: Set<Keyword>) -> InboundFrame {
        let (event, origin) = ServerEventMessage.classify(tape, node: node, typedIDs: typedIDs)
        return .event(event, origin, callbackID: callbackID)
    }

    /// Reads inbound messages through the packer's tape from now on, keeping the data of
    /// events with these ids on it for typed decoding (`EventRouter.start(on:)`). Does nothing
    /// for a packer without a tape reader. An empty set turns the tape path off.
    func registerTypedEvents(_ ids: Set<Keyword>) {
        let reader = options.packer as? any TapeUnpacker
        typedInbound.withLock { typed in
            if let reader, !ids.isEmpty {
                typed = TypedInbound(reader: reader, ids: ids)
            } else {
                typed = nil
            }
            typedInboundOn.store(typed != nil, ordering: .relaxed)
        }
    }

    /// True while inbound messages go through the tape path.
    package var readsInboundToTape: Bool { typedInboundOn.load(ordering: .relaxed) }

    /// What an inbound message makes on the path in force (`unpackInbound`, then the event as
    /// the transports classify it): for tests that compare the tape and tree paths.
    /// `forcingTape` takes the tape path whenever typed handlers are registered, skipping the
    /// look for a typed id (`TypedInbound.mayCarryTypedEvent`).
    package func inboundOutcome(_ message: [UInt8], generation: WireGeneration, forcingTape: Bool = false) -> InboundOutcome {
        let frame: InboundFrame
        if forcingTape, let typed = typedInbound.withLock({ $0 }) {
            frame = unpackInboundTape(message, generation: generation, source: "test", typed)
        } else {
            frame = unpackInbound(message, generation: generation, source: "test")
        }
        switch frame {
        case .frame(let value, let callbackID):
            let (event, origin) = ServerEventMessage.classify(value)
            return .event(event, origin, callbackID: callbackID)
        case .event(let event, let origin, let callbackID):
            return .event(event, origin, callbackID: callbackID)
        case .badPackage(let text):
            let (event, origin) = ServerEventMessage.classify(.null, badPackage: text)
            return .event(event, origin, callbackID: nil)
        case .unreadable(let error):
            return .unreadable(String(describing: error))
        case .notAFrame(let value):
            return .notAFrame(value)
        }
    }
}

/// What an inbound message makes (`ChannelSocketServer.inboundOutcome`).
package enum InboundOutcome: Equatable, Sendable {
    /// The event delivered to the app, its origin and the callback id.
    case event(Event, EventOrigin, callbackID: EDNValue?)
    /// Unreadable (v2): the error's text.
    case unreadable(String)
    /// Read, but no frame (v2).
    case notAFrame(EDNValue)
}

/// A one-shot rendezvous between a reply and the task waiting for it.
final class ReplyWaiter: Sendable {
    enum State {
        case empty
        case value(EDNValue)
        case waiting(CheckedContinuation<EDNValue, Never>)
        case done
    }
    let state = Mutex(State.empty)

    func resume(with value: EDNValue) {
        let continuation = state.withLock { s -> CheckedContinuation<EDNValue, Never>? in
            switch s {
            case .empty:
                s = .value(value)
                return nil
            case .waiting(let c):
                s = .done
                return c
            case .value, .done:
                return nil
            }
        }
        continuation?.resume(returning: value)
    }

    func value() async -> EDNValue {
        await withCheckedContinuation { c in
            let ready = state.withLock { s -> EDNValue? in
                if case .value(let v) = s {
                    s = .done
                    return v
                }
                s = .waiting(c)
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }
}
