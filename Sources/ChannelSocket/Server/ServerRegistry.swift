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
        /// The packed size of each pending event (alone), and their sum: bounded by
        /// `maxPendingBytesPerAjaxClient`.
        var pendingSizes: [Int] = []
        var pendingBytes = 0
        /// Counts toward `:ajax` from the first non-handshake poll (newest Sente).
        var counted = false
        var graceToken: UInt64?

        mutating func appendPending(_ events: [EDNValue], sizes: [Int]) {
            pending += events
            pendingSizes += sizes
            pendingBytes += sizes.reduce(0, +)
        }

        /// Removes the first `count` pending events (sent, or dropped).
        mutating func dropPending(_ count: Int) {
            guard count > 0 else { return }
            if count >= pending.count {
                pending = []
                pendingSizes = []
                pendingBytes = 0
                return
            }
            pendingBytes -= pendingSizes[..<count].reduce(0, +)
            pending.removeFirst(count)
            pendingSizes.removeFirst(count)
        }
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

        /// What this client adds to its uid's `connected-uids` counters.
        var contribution: PresenceTracker.Contribution {
            PresenceTracker.Contribution(ws: ws != nil || wsGraceToken != nil, ajax: ajaxBox?.value.counted == true)
        }
    }

    final class AjaxBox {
        let value: AjaxClient
        init(_ value: AjaxClient) { self.value = value }
    }

    struct SendBuffer {
        var ws: [EDNValue] = []
        var ajax: [EDNValue] = []
        /// The packed size of each event of `ajax` (for the Ajax clients' pending bound).
        var ajaxSizes: [Int] = []
        /// Bytes buffered (the events' packed sizes alone) per transport.
        var wsBytes = 0
        var ajaxBytes = 0
        var wsTimer = false
        var ajaxTimer = false
        /// When the oldest buffered event was pushed (only while metrics are on).
        var wsSince: ContinuousClock.Instant?
        var ajaxSince: ContinuousClock.Instant?
    }

    private var clients: [ClientKey: ClientEntry] = [:]
    private var byUID: [EDNValue: Set<ClientKey>] = [:]
    private var buffers: [EDNValue: SendBuffer] = [:]
    private var presence = PresenceTracker()
    private var publishScheduled = false
    /// Sente's `connected-uids` as last reported (built lazily, cached until it changes).
    var connected: ConnectedUIDs { presence.snapshot() }
    /// The uids in `:any`, in the order they joined.
    var connectedAny: [EDNValue] { presence.anyUIDs }
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

    /// Stores a client's entry; every change of `clients` goes through here (or
    /// `removeIfEmpty`), so the presence counters follow each client's contribution (O(1)).
    private func put(_ key: ClientKey, _ entry: ClientEntry) {
        let old = clients.updateValue(entry, forKey: key)
        presence.update(key.uid, from: old?.contribution ?? .none, to: entry.contribution)
    }

    private func removeIfEmpty(_ key: ClientKey) {
        guard let entry = clients[key], entry.isEmpty else { return }
        clients[key] = nil
        presence.update(key.uid, from: entry.contribution, to: .none)
        byUID[key.uid]?.remove(key)
        if byUID[key.uid]?.isEmpty == true { byUID[key.uid] = nil }
    }

    /// Brings the reported membership of one uid in line with its clients (O(1): the
    /// counters are kept by `put`); emits uidport events and change notifications.
    private func refresh(_ uid: EDNValue, cause request: ConnectionRequest, clientID: String) {
        guard let delta = presence.settle(uid), let server = owner else { return }
        schedulePublish(server)
        server.cluster?.broker.announce(uid: uid, ClusterPresence(ws: delta.ws, ajax: delta.ajax))
        if let isAny = delta.any {
            let id = isAny ? Reserved.uidportOpen : Reserved.uidportClose
            server.log(.info, "\(isAny ? "uidport-open" : "uidport-close") \(EDNPrinter.string(uid))")
            server.deliver(ServerEventMessage(event: Event(id, uid), origin: .engine(isAny ? .uidPortOpen(uid) : .uidPortClose(uid)),
                                              uid: uid, clientID: clientID, request: request, replier: nil))
        }
    }

    /// Watchers of `connectedUIDChanges()` get one value per batch of changes: the first
    /// change schedules one publication after the current work on the actor, so 20 000
    /// clients leaving in one timer visit build and send the value once, not 20 000 times.
    private func schedulePublish(_ server: ChannelSocketServer) {
        guard !publishScheduled, server.uidWatchers.withLock({ !$0.isEmpty }) else { return }
        publishScheduled = true
        Task { self.publishPresence() }
    }

    private func publishPresence() {
        publishScheduled = false
        owner?.publish(connected)
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
        put(key, entry)
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
        put(key, entry)
        let grace = owner?.options.effectiveWSReconnectGrace ?? .milliseconds(2_500)
        schedule(after: grace) { registry in registry.wsGraceExpired(key, token: token, request: connection.request) }
    }

    private func wsGraceExpired(_ key: ClientKey, token: UInt64, request: ConnectionRequest) {
        guard var entry = clients[key], entry.wsGraceToken == token else { return }
        entry.wsGraceToken = nil
        put(key, entry)
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
            put(key, entry)
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
            // One answer never exceeds the frame cap: the rest waits for the next poll. No
            // frame at all: every waiting event was over the cap alone (dropped and logged).
            let frame = packedFrames(ajax.pending, ajax.generation).first
            ajax.dropPending(frame?.end ?? ajax.pending.count)
            if let frame {
                entry.ajax = ajax
                put(key, entry)
                if newlyCounted { refresh(uid, cause: request, clientID: clientID) }
                startAjaxGrace(key)
                answer(HTTPReply(status: 200, body: frame.bytes))
                return
            }
        }
        let token = nextToken()
        let generationForReply = ajax.generation
        let timer = schedule(after: server.options.longPollTimeout) { registry in
            registry.answerHeld(key, token: token, with: registry.reply(.keyword(Reserved.timeout), generationForReply))
        }
        ajax.held = HeldPoll(token: token, pollID: pollID, answer: answer, timer: timer)
        entry.ajax = ajax
        put(key, entry)
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
        put(key, entry)
    }

    private func reply(_ value: EDNValue, _ generation: WireGeneration) -> HTTPReply {
        HTTPReply(status: 200, body: owner?.packed(value, generation: generation) ?? [])
    }

    private func answerHeld(_ key: ClientKey, token: UInt64, with response: HTTPReply) {
        guard var entry = clients[key], var ajax = entry.ajax, let held = ajax.held, held.token == token else { return }
        held.timer?.cancel()
        ajax.held = nil
        entry.ajax = ajax
        put(key, entry)
        held.answer(response)
        startAjaxGrace(key)
    }

    /// Between polls the client stays registered for `ajaxReconnectGrace`.
    private func startAjaxGrace(_ key: ClientKey) {
        guard var entry = clients[key], var ajax = entry.ajax, ajax.held == nil else { return }
        let token = nextToken()
        ajax.graceToken = token
        entry.ajax = ajax
        put(key, entry)
        let grace = owner?.options.ajaxReconnectGrace ?? .seconds(5)
        schedule(after: grace) { registry in registry.ajaxGraceExpired(key, token: token) }
    }

    private func ajaxGraceExpired(_ key: ClientKey, token: UInt64) {
        guard var entry = clients[key], let ajax = entry.ajax, ajax.graceToken == token, ajax.held == nil else { return }
        if !ajax.pending.isEmpty {
            owner?.log(.warning, "ajax client \(key.clientID) gone: \(ajax.pending.count) undelivered event(s) dropped")
        }
        entry.ajax = nil
        put(key, entry)
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

    /// Buffers `event` for every client of `uid`; `size` is its packed size alone (the
    /// caller checked it against the frame cap).
    /// Queues a push to every client of `uid`; returns how many clients it has now.
    @discardableResult
    func push(_ event: EDNValue, to uid: EDNValue, flush: Bool, size: Int, onlyIfConnected: Bool = false) -> Int {
        guard let server = owner else { return 0 }
        let reached = byUID[uid]?.count ?? 0
        // A push from another node of a cluster is for this node's clients only: with none,
        // nothing is buffered (a push made here waits for clients within the grace period).
        if onlyIfConnected && reached == 0 { return 0 }
        // Taken out of the dictionary (and put back below), so the appends happen in place
        // rather than copying the whole window's buffer on every push.
        var buffer = buffers.removeValue(forKey: uid) ?? SendBuffer()
        if server.metrics.isEnabled {
            let now = ContinuousClock.now
            if buffer.ws.isEmpty { buffer.wsSince = now }
            if buffer.ajax.isEmpty { buffer.ajaxSince = now }
        }
        buffer.ws.append(event)
        buffer.ajax.append(event)
        buffer.ajaxSizes.append(size)
        buffer.wsBytes += size
        buffer.ajaxBytes += size
        if flush {
            buffers[uid] = buffer
            flushWS(uid)
            flushAjax(uid)
            return reached
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
        // Past the frame cap the window ends early: what is buffered goes out now (in frames
        // that fit), so a buffer holds little more than one frame. The window's timer stays.
        let cap = server.options.effectiveMaxOutboundMessageBytes
        if buffer.wsBytes > cap { flushWS(uid, keepTimer: true) }
        if buffer.ajaxBytes > cap { flushAjax(uid, keepTimer: true) }
        return reached
    }

    /// Pushes one event to many uids in one step (a broadcast).
    func push(_ event: EDNValue, toAll uids: [EDNValue], size: Int) {
        for uid in uids { push(event, to: uid, flush: false, size: size) }
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

    private func flushWS(_ uid: EDNValue, keepTimer: Bool = false) {
        guard var buffer = buffers[uid] else { return }
        let events = buffer.ws, since = buffer.wsSince
        buffer.ws = []
        buffer.wsBytes = 0
        buffer.wsSince = nil
        if !keepTimer { buffer.wsTimer = false }
        store(buffer, uid)
        guard !events.isEmpty, let metrics = owner?.metrics else { return }
        for key in byUID[uid] ?? [] {
            guard let connection = clients[key]?.ws else { continue }
            var bytes = 0
            for frame in packedFrames(events, connection.generation ?? .v2) {
                connection.sendPacked(frame.bytes)
                bytes += frame.bytes.count
            }
            metrics.sent(.ws, events: events.count, bytes: bytes, since: since)
        }
    }

    /// One outbound frame of a batch: its bytes, and the index in the batch after its last event.
    struct PackedFrame {
        let bytes: [UInt8]
        let end: Int
    }

    /// A broadcast leaves the same batch in many buffers (WebSocket and Ajax alike): it is
    /// packed once per generation, not once per client.
    private var lastPacked: (events: [EDNValue], frames: [WireGeneration: [PackedFrame]])?

    /// `events` as frames of at most `maxOutboundMessageBytes` each, in order: one frame when
    /// the whole batch fits (one packing, the common case), else the longest prefixes that fit
    /// (each found by a binary search over its length; Transit's write cache is per message,
    /// so every frame is packed on its own). An event too large alone (`send` refuses those,
    /// so only a packer that packs differently in a batch gets here) is dropped, logged and
    /// counted.
    private func packedFrames(_ events: [EDNValue], _ generation: WireGeneration) -> [PackedFrame] {
        if !(lastPacked.map { EDNValue.identical($0.events, events) } ?? false) { lastPacked = (events, [:]) }
        if let frames = lastPacked?.frames[generation] { return frames }
        guard let server = owner else { return [] }
        let cap = server.options.effectiveMaxOutboundMessageBytes
        var frames: [PackedFrame] = []
        var start = 0
        while start < events.count {
            let rest = events[start...]
            let whole = server.packed(.vector(Array(rest)), generation: generation)
            if whole.count <= cap {
                frames.append(PackedFrame(bytes: whole, end: events.count))
                break
            }
            // The longest prefix that fits: `fits` events are known to, `tooBig` known not to.
            var fits = 0, tooBig = rest.count, best: [UInt8] = []
            while tooBig - fits > 1 {
                let mid = (fits + tooBig) / 2
                let bytes = server.packed(.vector(Array(rest.prefix(mid))), generation: generation)
                if bytes.count <= cap { (fits, best) = (mid, bytes) } else { tooBig = mid }
            }
            if fits == 0 {
                let size = rest.count == 1 ? whole.count : server.packed(.vector([events[start]]), generation: generation).count
                server.log(.warning, "push of \(size) bytes dropped: over the \(cap)-byte frame cap")
                server.countRefusal(.eventTooLarge)
                start += 1
                continue
            }
            frames.append(PackedFrame(bytes: best, end: start + fits))
            start += fits
        }
        if frames.count > 1 { server.countRefusal(.batchSplit) }
        lastPacked?.frames[generation] = frames
        return frames
    }

    private func flushAjax(_ uid: EDNValue, keepTimer: Bool = false) {
        guard var buffer = buffers[uid] else { return }
        let events = buffer.ajax, sizes = buffer.ajaxSizes, since = buffer.ajaxSince
        buffer.ajax = []
        buffer.ajaxSizes = []
        buffer.ajaxBytes = 0
        buffer.ajaxSince = nil
        if !keepTimer { buffer.ajaxTimer = false }
        store(buffer, uid)
        guard !events.isEmpty, let server = owner else { return }
        let limit = server.options.maxPendingBytesPerAjaxClient
        var overflowing: [ClientKey] = []
        for key in byUID[uid] ?? [] {
            guard var entry = clients[key], var ajax = entry.ajax else { continue }
            ajax.appendPending(events, sizes: sizes)
            if let held = ajax.held {
                // One answer never exceeds the frame cap: the rest waits for the next poll. No
                // frame at all: every event was over the cap alone (dropped and logged).
                let frame = packedFrames(ajax.pending, ajax.generation).first
                ajax.dropPending(frame?.end ?? ajax.pending.count)
                if let frame {
                    held.timer?.cancel()
                    ajax.held = nil
                    entry.ajax = ajax
                    put(key, entry)
                    held.answer(HTTPReply(status: 200, body: frame.bytes))
                    server.metrics.sent(.ajax, events: frame.end, bytes: frame.bytes.count, since: since)
                    startAjaxGrace(key)
                    if ajax.pendingBytes > limit { overflowing.append(key) }
                    continue
                }
            }
            entry.ajax = ajax
            put(key, entry)
            if ajax.pendingBytes > limit { overflowing.append(key) }
        }
        // After the loop: forgetting a client changes `byUID[uid]`, which the loop iterates.
        for key in overflowing { forgetOverflowingAjaxClient(key, limit: limit) }
    }

    /// An Ajax client whose waiting pushes passed `maxPendingBytesPerAjaxClient`: its pushes
    /// are dropped and it is forgotten, so that its next poll gets a new handshake (the
    /// client resyncs); logged and counted, never silent.
    private func forgetOverflowingAjaxClient(_ key: ClientKey, limit: Int) {
        guard let server = owner, var entry = clients[key], let ajax = entry.ajax else { return }
        server.log(.warning, "ajax client \(key.clientID) of uid \(EDNPrinter.string(key.uid)): \(ajax.pending.count) waiting push(es), \(ajax.pendingBytes) bytes, over the \(limit)-byte limit: dropped, client forgotten (it gets a new handshake)")
        server.countRefusal(.ajaxPendingOverflow)
        if let held = ajax.held {
            held.timer?.cancel()
            held.answer(reply(.keyword(Reserved.timeout), ajax.generation))
        }
        entry.ajax = nil
        put(key, entry)
        removeIfEmpty(key)
        refresh(key.uid, cause: ajax.request, clientID: key.clientID)
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
        put(key, entry)
    }

    func clientCount(uid: EDNValue) -> Int { byUID[uid]?.count ?? 0 }

    /// Samples the server's gauges (`ServerMetrics`).
    func sampleGauges() {
        guard let server = owner else { return }
        func label(_ g: WireGeneration?) -> String { g == .v1 ? "v1" : g == .v2 ? "v2" : "unknown" }
        var sample = ServerMetrics.GaugeSample()
        for entry in clients.values {
            if let ws = entry.ws { sample.connections["ws/" + label(ws.generation), default: 0] += 1 }
            if let ajax = entry.ajax {
                sample.connections["ajax/" + label(ajax.generation), default: 0] += 1
                if ajax.held != nil { sample.heldPolls += 1 }
                sample.ajaxPendingBytes += ajax.pendingBytes
            }
        }
        sample.connectedUIDs = connectedAny.count
        server.metrics.record(sample)
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
