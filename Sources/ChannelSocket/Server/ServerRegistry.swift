import EDN
import Synchronization

/// The server's shared state: clients by (uid, client id), push buffers per uid, held polls,
/// connected-uids with their grace periods. One actor, so every rule about it is sequential.
actor ServerRegistry {
    struct ClientKey: Hashable {
        let uid: EDNValue
        let clientID: String
    }

    struct HeldPoll {
        let token: UInt64
        /// The id the caller gave the poll (`cancelPoll`).
        let pollID: UInt64
        /// Where the answer goes (the adapter writes it out; called once, on the actor).
        let answer: @Sendable (HTTPReply) -> Void
        let timer: ServerTimers.Handle?
    }

    struct AjaxClient {
        var generation: WireGeneration
        var request: ConnectionRequest
        var held: HeldPoll?
        /// Pushed events that found no held poll; the next poll gets them (beyond Sente, which
        /// retries for ~4 s and then drops them).
        var pending: [EDNValue] = []
        /// Counts toward `:ajax` from the first non-handshake poll (newest Sente).
        var counted = false
        var graceToken: UInt64?
    }

    /// One client (uid, client id). Kept small, since there is one per connection: the Ajax
    /// state (a request, a held poll, pending pushes) lives out of line, only for Ajax clients.
    struct ClientEntry {
        var ws: WebSocketConnection?
        /// Set while a closed WebSocket's reconnect grace runs.
        var wsGraceToken: UInt64?
        private var ajaxBox: AjaxBox?

        var ajax: AjaxClient? {
            get { ajaxBox?.value }
            set { ajaxBox = newValue.map(AjaxBox.init) }
        }

        var isEmpty: Bool { ws == nil && wsGraceToken == nil && ajaxBox == nil }
    }

    final class AjaxBox {
        let value: AjaxClient
        init(_ value: AjaxClient) { self.value = value }
    }

    struct SendBuffer {
        var ws: [EDNValue] = []
        var ajax: [EDNValue] = []
        var wsTimer = false
        var ajaxTimer = false
    }

    private var clients: [ClientKey: ClientEntry] = [:]
    private var byUID: [EDNValue: Set<ClientKey>] = [:]
    private var buffers: [EDNValue: SendBuffer] = [:]
    private(set) var connected = ConnectedUIDs()
    private var tokenCounter: UInt64 = 0
    private var isShutDown = false

    struct WeakServer: @unchecked Sendable { weak var server: ChannelSocketServer? }
    nonisolated let weakServer = Mutex(WeakServer(server: nil))

    /// Called once by the server's initializer (the registry is created before the server exists).
    nonisolated func attach(_ server: ChannelSocketServer) {
        weakServer.withLock { $0 = WeakServer(server: server) }
    }

    private var owner: ChannelSocketServer? { weakServer.withLock { $0.server } }

    private func nextToken() -> UInt64 {
        tokenCounter &+= 1
        return tokenCounter
    }

    /// Runs `body` here after `delay` (on the server's one timer task).
    @discardableResult
    private func schedule(after delay: Duration, _ body: @escaping @Sendable (isolated ServerRegistry) -> Void) -> ServerTimers.Handle? {
        owner?.timers.schedule(after: delay, body)
    }

    /// Runs timers that came due (the scheduler brings all due ones in one visit).
    func runTimers(_ actions: [@Sendable (isolated ServerRegistry) -> Void]) {
        for action in actions { action(self) }
    }

    // MARK: connected-uids

    private func index(_ key: ClientKey) {
        byUID[key.uid, default: []].insert(key)
    }

    private func removeIfEmpty(_ key: ClientKey) {
        guard let entry = clients[key], entry.isEmpty else { return }
        clients[key] = nil
        byUID[key.uid]?.remove(key)
        if byUID[key.uid]?.isEmpty == true { byUID[key.uid] = nil }
    }

    /// Recomputes the membership of one uid; emits uidport events and change notifications.
    private func refresh(_ uid: EDNValue, cause request: ConnectionRequest, clientID: String) {
        let keys = byUID[uid] ?? []
        var inWS = false, inAjax = false
        for key in keys {
            guard let e = clients[key] else { continue }
            if e.ws != nil || e.wsGraceToken != nil { inWS = true }
            if e.ajax?.counted == true { inAjax = true }
        }
        let wasWS = connected.ws.contains(uid), wasAjax = connected.ajax.contains(uid)
        let wasAny = connected.any.contains(uid)
        // Most calls (every Ajax poll of a connected uid) change nothing: answer those
        // without touching the sets, which are shared with the published snapshot and would
        // be copied whole (O(uids) per poll).
        guard inWS != wasWS || inAjax != wasAjax || (inWS || inAjax) != wasAny else { return }
        var next = connected
        connected = ConnectedUIDs()   // drop our reference so `next` is mutated in place where possible
        if inWS { next.ws.insert(uid) } else { next.ws.remove(uid) }
        if inAjax { next.ajax.insert(uid) } else { next.ajax.remove(uid) }
        if inWS || inAjax { next.any.insert(uid) } else { next.any.remove(uid) }
        connected = next
        guard let server = owner else { return }
        server.publish(next)
        let isAny = next.any.contains(uid)
        if isAny != wasAny {
            let id = isAny ? Reserved.uidportOpen : Reserved.uidportClose
            server.log(.info, "\(isAny ? "uidport-open" : "uidport-close") \(EDNPrinter.string(uid))")
            server.deliver(ServerEventMessage(event: Event(id, uid), uid: uid, clientID: clientID, request: request, replier: nil))
        }
    }

    // MARK: WebSocket

    func webSocketOpened(_ connection: WebSocketConnection) {
        guard !isShutDown else {
            connection.close(code: 1001, reason: "server shutting down")
            return
        }
        let key = ClientKey(uid: connection.uid, clientID: connection.clientID)
        var entry = clients[key] ?? ClientEntry()
        entry.ws = connection
        entry.wsGraceToken = nil
        clients[key] = entry
        index(key)
        refresh(connection.uid, cause: connection.request, clientID: connection.clientID)
    }

    func webSocketClosed(_ connection: WebSocketConnection) {
        let key = ClientKey(uid: connection.uid, clientID: connection.clientID)
        guard var entry = clients[key], entry.ws?.connectionID == connection.connectionID else {
            owner?.log(.info, "ws #\(connection.connectionID) closed (superseded)")
            return
        }
        owner?.log(.info, "ws #\(connection.connectionID) closed: uid \(EDNPrinter.string(connection.uid)) client \(connection.clientID)")
        let token = nextToken()
        entry.ws = nil
        entry.wsGraceToken = token
        clients[key] = entry
        let grace = owner?.options.effectiveWSReconnectGrace ?? .milliseconds(2_500)
        schedule(after: grace) { registry in registry.wsGraceExpired(key, token: token, request: connection.request) }
    }

    private func wsGraceExpired(_ key: ClientKey, token: UInt64, request: ConnectionRequest) {
        guard var entry = clients[key], entry.wsGraceToken == token else { return }
        entry.wsGraceToken = nil
        clients[key] = entry
        removeIfEmpty(key)
        refresh(key.uid, cause: request, clientID: key.clientID)
    }

    // MARK: Ajax

    /// Waits for the answer to an Ajax GET: see `startPoll`. Cancelling the calling task
    /// withdraws a held poll (the client hung up): it is answered 499 and a push waits for the
    /// client's next poll.
    func poll(request: ConnectionRequest) async -> HTTPReply {
        let pollID = nextToken()
        let uid = owner?.userID(request) ?? .null
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<HTTPReply, Never>) in
                startPoll(request: request, pollID: pollID) { continuation.resume(returning: $0) }
            }
        } onCancel: {
            Task { await self.cancelPoll(uid: uid, clientID: request.clientID ?? "", pollID: pollID) }
        }
    }

    /// An Ajax GET: the handshake when asked for (or for an unknown client), a batch of pushes
    /// that waited for this poll, or else the poll is held until a push batch or the
    /// long-poll timeout (`:chsk/timeout`). `answer` is called exactly once, here on the actor
    /// (at once, or later from a flush or a timer); `pollID` names the poll for `cancelPoll`.
    ///
    /// `handshake?=true` does not tell v1 from v2: 1.18–1.20 browser clients send it too. Under
    /// `auto` an Ajax client gets v2 frames (which 1.14 EDN clients read, §1) until a `+`/`-`
    /// prefixed POST shows it speaks v1.
    func startPoll(request: ConnectionRequest, pollID: UInt64, answer: @escaping @Sendable (HTTPReply) -> Void) {
        guard let server = owner, !isShutDown else {
            answer(HTTPReply(status: 503, text: "Server shutting down"))
            return
        }
        let clientID = request.clientID ?? ""
        let wantsHandshake = request.params["handshake?"] != nil
        let uid = server.userID(request)
        let key = ClientKey(uid: uid, clientID: clientID)
        let generation = server.forcedGeneration() ?? clients[key]?.ajax?.generation ?? .v2
        var entry = clients[key] ?? ClientEntry()

        if wantsHandshake || entry.ajax == nil {
            var ajax = entry.ajax ?? AjaxClient(generation: generation, request: request)
            ajax.generation = generation
            ajax.request = request
            if let held = ajax.held {
                held.timer?.cancel()
                held.answer(reply(.keyword(Reserved.timeout), generation))
                ajax.held = nil
            }
            // 1.14 counts the handshake poll as a connection (uidport-open now); newest waits
            // for the first real poll (sente-protocol.md §3.3).
            let countNow = server.options.wire == .v1 && !ajax.counted
            if countNow { ajax.counted = true }
            entry.ajax = ajax
            clients[key] = entry
            index(key)
            if countNow { refresh(uid, cause: request, clientID: clientID) }
            startAjaxGrace(key)
            server.log(.info, "ajax handshake: uid \(EDNPrinter.string(uid)) client \(clientID) (\(generation.rawValue))")
            answer(HTTPReply(status: 200, body: server.packed(server.handshakeValue(uid: uid, request: request, generation: generation), generation: generation)))
            return
        }

        var ajax = entry.ajax!
        ajax.request = request
        ajax.graceToken = nil
        let newlyCounted = !ajax.counted
        ajax.counted = true
        if let old = ajax.held {
            // A newer poll supersedes the held one: answer the old one rather than leave it hanging.
            old.timer?.cancel()
            old.answer(reply(.keyword(Reserved.timeout), ajax.generation))
            ajax.held = nil
        }
        if !ajax.pending.isEmpty {
            let batch = EDNValue.vector(ajax.pending)
            ajax.pending = []
            entry.ajax = ajax
            clients[key] = entry
            if newlyCounted { refresh(uid, cause: request, clientID: clientID) }
            startAjaxGrace(key)
            answer(reply(batch, ajax.generation))
            return
        }
        let token = nextToken()
        let generationForReply = ajax.generation
        let timer = schedule(after: server.options.longPollTimeout) { registry in
            registry.answerHeld(key, token: token, with: registry.reply(.keyword(Reserved.timeout), generationForReply))
        }
        ajax.held = HeldPoll(token: token, pollID: pollID, answer: answer, timer: timer)
        entry.ajax = ajax
        clients[key] = entry
        if newlyCounted { refresh(uid, cause: request, clientID: clientID) }
    }

    /// Runs adapters' poll commands, in order.
    func run(_ commands: [ChannelSocketServer.PollCommand]) {
        guard let server = owner else { return }
        for command in commands {
            switch command {
            case .start(let request, let id, let answer):
                startPoll(request: request, pollID: id, answer: answer)
            case .cancel(let request, let id):
                cancelPoll(uid: server.userID(request), clientID: request.clientID ?? "", pollID: id)
            case .release(let request):
                releasePoll(uid: server.userID(request), clientID: request.clientID ?? "")
            }
        }
    }

    /// Withdraws a held poll whose client hung up (answered 499, which nobody reads).
    func cancelPoll(uid: EDNValue, clientID: String, pollID: UInt64) {
        let key = ClientKey(uid: uid, clientID: clientID)
        guard let held = clients[key]?.ajax?.held, held.pollID == pollID else { return }
        answerHeld(key, token: held.token, with: HTTPReply(status: 499, text: "client closed request"))
    }

    /// Answers a held poll with `:chsk/timeout` now.
    func releasePoll(uid: EDNValue, clientID: String) {
        let key = ClientKey(uid: uid, clientID: clientID)
        guard let ajax = clients[key]?.ajax, let held = ajax.held else { return }
        answerHeld(key, token: held.token, with: reply(.keyword(Reserved.timeout), ajax.generation))
    }

    /// Under `auto`, a v1-framed POST tells that this Ajax client speaks v1.
    func noteAjaxGeneration(uid: EDNValue, clientID: String, _ generation: WireGeneration) {
        let key = ClientKey(uid: uid, clientID: clientID)
        guard var entry = clients[key], var ajax = entry.ajax, ajax.generation != generation else { return }
        ajax.generation = generation
        entry.ajax = ajax
        clients[key] = entry
    }

    private func reply(_ value: EDNValue, _ generation: WireGeneration) -> HTTPReply {
        HTTPReply(status: 200, body: owner?.packed(value, generation: generation) ?? [])
    }

    private func answerHeld(_ key: ClientKey, token: UInt64, with response: HTTPReply) {
        guard var entry = clients[key], var ajax = entry.ajax, let held = ajax.held, held.token == token else { return }
        held.timer?.cancel()
        ajax.held = nil
        entry.ajax = ajax
        clients[key] = entry
        held.answer(response)
        startAjaxGrace(key)
    }

    /// Between polls the client stays registered for `ajaxReconnectGrace`.
    private func startAjaxGrace(_ key: ClientKey) {
        guard var entry = clients[key], var ajax = entry.ajax, ajax.held == nil else { return }
        let token = nextToken()
        ajax.graceToken = token
        entry.ajax = ajax
        clients[key] = entry
        let grace = owner?.options.ajaxReconnectGrace ?? .seconds(5)
        schedule(after: grace) { registry in registry.ajaxGraceExpired(key, token: token) }
    }

    private func ajaxGraceExpired(_ key: ClientKey, token: UInt64) {
        guard var entry = clients[key], let ajax = entry.ajax, ajax.graceToken == token, ajax.held == nil else { return }
        if !ajax.pending.isEmpty {
            owner?.log(.warning, "ajax client \(key.clientID) gone: \(ajax.pending.count) undelivered event(s) dropped")
        }
        entry.ajax = nil
        clients[key] = entry
        removeIfEmpty(key)
        owner?.log(.info, "ajax client gone: uid \(EDNPrinter.string(key.uid)) client \(key.clientID)")
        refresh(key.uid, cause: ajax.request, clientID: key.clientID)
    }

    // MARK: push

    /// Uids whose buffers wait for the next WS / Ajax flush. One timer per window serves them
    /// all (a broadcast to 10 000 uids schedules one timer, not 10 000).
    private var pendingWS: [EDNValue] = []
    private var pendingAjax: [EDNValue] = []
    private var wsTimerScheduled = false
    private var ajaxTimerScheduled = false

    func push(_ event: EDNValue, to uid: EDNValue, flush: Bool) {
        guard let server = owner else { return }
        var buffer = buffers[uid] ?? SendBuffer()
        buffer.ws.append(event)
        buffer.ajax.append(event)
        if flush {
            buffers[uid] = buffer
            flushWS(uid)
            flushAjax(uid)
            return
        }
        if !buffer.wsTimer {
            buffer.wsTimer = true
            pendingWS.append(uid)
            if !wsTimerScheduled {
                wsTimerScheduled = true
                schedule(after: server.options.sendBufferWS) { registry in registry.flushPendingWS() }
            }
        }
        if !buffer.ajaxTimer {
            buffer.ajaxTimer = true
            pendingAjax.append(uid)
            if !ajaxTimerScheduled {
                ajaxTimerScheduled = true
                schedule(after: server.options.sendBufferAjax) { registry in registry.flushPendingAjax() }
            }
        }
        buffers[uid] = buffer
    }

    /// Pushes one event to many uids in one step (a broadcast).
    func push(_ event: EDNValue, toAll uids: [EDNValue]) {
        for uid in uids { push(event, to: uid, flush: false) }
    }

    private func flushPendingWS() {
        wsTimerScheduled = false
        let uids = pendingWS
        pendingWS = []
        for uid in uids { flushWS(uid) }
    }

    private func flushPendingAjax() {
        ajaxTimerScheduled = false
        let uids = pendingAjax
        pendingAjax = []
        for uid in uids { flushAjax(uid) }
    }

    func flushAll() {
        for uid in Array(buffers.keys) {
            flushWS(uid)
            flushAjax(uid)
        }
    }

    private func flushWS(_ uid: EDNValue) {
        guard var buffer = buffers[uid] else { return }
        let events = buffer.ws
        buffer.ws = []
        buffer.wsTimer = false
        store(buffer, uid)
        guard !events.isEmpty else { return }
        for key in byUID[uid] ?? [] {
            guard let connection = clients[key]?.ws else { continue }
            connection.sendPacked(packedBatch(events, connection.generation ?? .v2))
        }
    }

    /// A broadcast leaves the same batch in many buffers (WebSocket and Ajax alike): it is
    /// packed once per generation, not once per client.
    private var lastPacked: (events: [EDNValue], bytes: [WireGeneration: [UInt8]])?

    private func packedBatch(_ events: [EDNValue], _ generation: WireGeneration) -> [UInt8] {
        if !(lastPacked.map { EDNValue.identical($0.events, events) } ?? false) { lastPacked = (events, [:]) }
        if let bytes = lastPacked?.bytes[generation] { return bytes }
        let bytes = owner?.packed(.vector(events), generation: generation) ?? []
        lastPacked?.bytes[generation] = bytes
        return bytes
    }

    private func flushAjax(_ uid: EDNValue) {
        guard var buffer = buffers[uid] else { return }
        let events = buffer.ajax
        buffer.ajax = []
        buffer.ajaxTimer = false
        store(buffer, uid)
        guard !events.isEmpty else { return }
        for key in byUID[uid] ?? [] {
            guard var entry = clients[key], var ajax = entry.ajax else { continue }
            if let held = ajax.held {
                held.timer?.cancel()
                let batch = ajax.pending + events
                ajax.held = nil
                ajax.pending = []
                entry.ajax = ajax
                clients[key] = entry
                held.answer(HTTPReply(status: 200, body: packedBatch(batch, ajax.generation)))
                startAjaxGrace(key)
            } else {
                ajax.pending += events
                entry.ajax = ajax
                clients[key] = entry
            }
        }
    }

    private func store(_ buffer: SendBuffer, _ uid: EDNValue) {
        if buffer.ws.isEmpty && buffer.ajax.isEmpty && !buffer.wsTimer && !buffer.ajaxTimer {
            buffers[uid] = nil
        } else {
            buffers[uid] = buffer
        }
    }

    /// `[:chsk/close]`: closes every connection of the uid (after flushing its buffers).
    func close(uid: EDNValue) {
        flushWS(uid)
        flushAjax(uid)
        for key in byUID[uid] ?? [] { closeClient(key, code: 1000, reason: "closed by server") }
    }

    /// Closes a client's socket and answers its held poll with `:chsk/timeout`.
    private func closeClient(_ key: ClientKey, code: UInt16, reason: String) {
        guard var entry = clients[key] else { return }
        entry.ws?.close(code: code, reason: reason)
        if var ajax = entry.ajax, let held = ajax.held {
            held.timer?.cancel()
            ajax.held = nil
            entry.ajax = ajax
            held.answer(reply(.keyword(Reserved.timeout), ajax.generation))
        }
        clients[key] = entry
    }

    func clientList() -> [(uid: EDNValue, clientID: String, transport: String)] {
        clients.map { key, entry in
            let transport = entry.ws != nil ? "ws" : entry.wsGraceToken != nil ? "ws (closing)" : entry.ajax?.held != nil ? "ajax (polling)" : "ajax"
            return (key.uid, key.clientID, transport)
        }.sorted { $0.clientID < $1.clientID }
    }

    func shutdown() {
        isShutDown = true
        flushAll()
        for key in Array(clients.keys) { closeClient(key, code: 1001, reason: "server shutting down") }
    }
}
