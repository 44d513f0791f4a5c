public import EDN
import Synchronization
import Transit
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The client role of Sente's channel sockets, wire-compatible with real Sente servers of both
/// generations: WebSocket with Ajax long-poll fallback, request/reply with timeouts,
/// keep-alive, reconnects with capped exponential backoff.
///
/// ```swift
/// let client = ChannelSocketClient(url: "http://127.0.0.1:8090/chsk", options: .init(type: .auto),
///                                  transport: NIOClientTransport())
/// await client.start()
/// try await client.waitUntilOpen(timeout: .seconds(10))
/// let reply = try await client.request(Event("my-app/req", ["q": "ping"]), timeout: .seconds(8))
/// await client.disconnect()
/// ```
///
/// Sending before the connection is open: once `start()` was called, `send` and `request` wait
/// for the connection to open (at most their timeout) and fail with `RequestError.notOpen`
/// saying why when it does not; before `start()` or after `disconnect()` they fail at once
/// with `.closed`. `send` returns once the event is written to the connection (WebSocket) or
/// answered (Ajax POST), and `disconnect()` closes a WebSocket with a close handshake, so an
/// event sent before `disconnect()` has been read by the server when it returns.
public actor ChannelSocketClient {
    /// The settings in force.
    public nonisolated let options: ChannelSocketClientOptions
    /// The server URL (`http(s)://host:port/chsk` or `ws(s)://…`).
    public nonisolated let url: String
    /// Events from the server: `[:chsk/handshake [uid nil data first?]]`, pushes (one event per
    /// element of a batch, optionally wrapped as `[:chsk/recv ev]`), `[:chsk/ws-ping]`.
    public nonisolated let events: AsyncStream<Event>
    /// Every state change from now on, as Sente's `[:chsk/state [old new]]`. Each access
    /// makes a new stream of its own, so any number of observers (an app and a UI, a CLI and
    /// a test) see the same transitions in the same order; each keeps at most
    /// `stateBufferSize` changes it has not read yet (the newest: the oldest are dropped
    /// beyond). Make it before `start()` to see the first transitions. The streams end with
    /// `finish()`.
    public nonisolated var stateChanges: AsyncStream<ClientStateChange> {
        stateObservers.makeStream(bufferingNewest: Self.stateBufferSize)
    }

    /// Like `stateChanges`, keeping at most `limit` unread changes (the newest).
    public nonisolated func stateChanges(bufferingNewest limit: Int) -> AsyncStream<ClientStateChange> {
        stateObservers.makeStream(bufferingNewest: limit)
    }

    /// How many unread changes a `stateChanges` stream keeps (256).
    public static let stateBufferSize = 256

    nonisolated let transport: any ClientTransport
    let eventSink: AsyncStream<Event>.Continuation
    /// The observers of typed event streams (`events(_:as:)`), besides `events`.
    let eventObservers = StreamFanOut<Event>()
    let stateObservers = StreamFanOut<ClientStateChange>()
    /// The event ids of the open typed event streams: pushes of these keep their data on the
    /// tape of the message (`TypedPushIDs`).
    let typedPushes = TypedPushIDs()
    /// The packer's tape reader (`nil` for a packer without one: everything takes the tree path).
    nonisolated let tapeReader: (any TapeUnpacker)?

    private var state: ClientState
    private var effectiveType: ClientType
    private var generation: WireGeneration?
    private var socket: (any ClientWebSocket)?
    private var runTask: Task<Void, Never>?
    private var keepAliveTask: Task<Void, Never>?
    private var wakeUp: CheckedContinuation<Void, Never>?
    private var stopped = true
    private var attempt = 0
    private var wsEverHandshaked = false
    private var activity = false
    private var sessionID: UInt64 = 0
    private var pending: [String: PendingRequest] = [:]
    /// How many of `pending` are typed requests (their replies are read to a tape).
    private var typedPending = 0
    /// Test hook: every message is read to a tape (`readEveryMessageToTape()`).
    private var forcingTape = false
    /// How many typed replies were decoded straight from the message's tape, successfully or
    /// not (a test hook).
    package internal(set) var repliesDecodedFromTape = 0
    /// The last failure to connect or poll: HTTP status when the server refused, else the
    /// transport's message (connection refused, timeout, …).
    public private(set) var lastFailure: TransportError?

    private var openWaiters: [UInt64: OpenWaiter] = [:]
    private var nextWaiterID: UInt64 = 0

    struct OpenWaiter {
        let continuation: CheckedContinuation<Result<Void, OpenError>, Never>
        let timer: Task<Void, Never>
        let failFast: Bool
    }

    struct PendingRequest {
        let continuation: CheckedContinuation<Result<ReplyData, RequestError>, Never>
        let timer: Task<Void, Never>
        /// A typed request: its reply is read to a tape.
        let typed: Bool
    }

    /// A client for the server at `url` (not started).
    public init(url: String, options: ChannelSocketClientOptions = .init(), transport: any ClientTransport) {
        self.url = url
        self.options = options
        self.transport = transport
        self.tapeReader = options.packer as? any TapeUnpacker
        (events, eventSink) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
        effectiveType = options.type == .ajax ? .ajax : .ws
        state = ClientState(type: options.type.rawValue, csrfToken: options.csrfToken)
        switch options.protocolGeneration {
        case .v1: generation = .v1
        case .v2: generation = .v2
        case .auto: generation = nil
        }
        state.generation = generation
    }

    /// The current state.
    public var currentState: ClientState { state }

    /// Starts connecting (and reconnecting until `disconnect()`).
    public func start() {
        guard stopped else { return }
        stopped = false
        attempt = 0
        runTask = Task { await self.runLoop() }
    }

    /// Waits until the connection is open (returns at once when it is).
    ///
    /// Throws `.timeout` (with the last failure to connect) when it is not open within
    /// `timeout`, `.rejected` when the server refused the connection with an HTTP 4xx (bad CSRF
    /// token, no such path, …), `.incompatible` when the server's handshake is unreadable with
    /// this client's packer, and `.stopped` when the client is not started or is disconnected
    /// meanwhile. With `failFast`, the first failed attempt to connect (refused, unreachable,
    /// …; not the WebSocket failure an `auto` client downgrades to Ajax after) ends the wait
    /// with `.unreachable`, as a command-line tool wants. The client keeps reconnecting after
    /// any of them until `disconnect()`.
    public func waitUntilOpen(timeout: Duration, failFast: Bool = false) async throws(OpenError) {
        if state.isOpen { return }
        if stopped { throw .stopped }
        nextWaiterID &+= 1
        let id = nextWaiterID
        let clock = options.clock
        let result = await withCheckedContinuation { (c: CheckedContinuation<Result<Void, OpenError>, Never>) in
            let timer = Task { [weak self] in
                do { try await clock.sleep(for: timeout) } catch { return }
                await self?.openTimedOut(id)
            }
            openWaiters[id] = OpenWaiter(continuation: c, timer: timer, failFast: failFast)
        }
        try result.get()
    }

    private func openTimedOut(_ id: UInt64) {
        resolveOpenWaiters(.failure(.timeout(lastFailure: lastFailure)), only: id)
    }

    private func resolveOpenWaiters(_ result: Result<Void, OpenError>, only id: UInt64? = nil, failFastOnly: Bool = false) {
        let ids = id.map { [$0] } ?? Array(openWaiters.keys.filter { !failFastOnly || openWaiters[$0]!.failFast })
        for id in ids {
            guard let w = openWaiters.removeValue(forKey: id) else { continue }
            w.timer.cancel()
            w.continuation.resume(returning: result)
        }
    }

    /// A failure to connect: remembered, and ends the waits for the open when it is final
    /// (a rejection or an unreadable handshake).
    private func connectFailed(_ failure: TransportError, incompatible: Bool = false) {
        lastFailure = failure
        if incompatible {
            resolveOpenWaiters(.failure(.incompatible(failure.message)))
        } else if let status = failure.status, (400..<500).contains(status) {
            resolveOpenWaiters(.failure(.rejected(status: status, message: failure.message)))
        } else {
            resolveOpenWaiters(.failure(.unreachable(failure)), failFastOnly: true)
        }
    }

    /// The wire generation once open, waiting for the open (at most `timeout`) when started.
    private func openGeneration(within timeout: Duration) async throws(RequestError) -> WireGeneration {
        if state.isOpen, let generation { return generation }
        if stopped { throw .closed }
        do { try await waitUntilOpen(timeout: timeout) } catch { throw .notOpen(error.description) }
        guard state.isOpen, let generation else { throw .closed }
        return generation
    }

    /// Closes the connection and stops reconnecting (Sente's `chsk-disconnect!`). A WebSocket
    /// is closed with a close handshake (bounded by the transport's close timeout), so the
    /// server has read everything sent before.
    public func disconnect() async {
        stopped = true
        resolveOpenWaiters(.failure(.stopped))
        wakeUp?.resume()
        wakeUp = nil
        await closeSocket(code: 1000, reason: "CLOSE_NORMAL", lastCloseReason: "requested-disconnect")
        runTask?.cancel()
        failPending(.closed)
        if state.isOpen || state.nextReconnect != nil { update { $0.isOpen = false; $0.nextReconnect = nil } }
    }

    /// Drops the connection and connects again at once (Sente's `chsk-reconnect!`).
    public func reconnect() async {
        if stopped { start(); return }
        attempt = 0
        await closeSocket(code: 1000, reason: "CLOSE_NORMAL", lastCloseReason: "requested-reconnect")
        wakeUp?.resume()
        wakeUp = nil
    }

    /// Ends the event stream and every state stream (after `disconnect()`).
    public func finish() {
        eventSink.finish()
        eventObservers.finish()
        stateObservers.finish()
    }

    // MARK: sending

    /// Sends an event without asking for a reply. Returns once the event is written to the
    /// WebSocket (in order with every event sent before) or, over Ajax, once the POST is
    /// answered. Before the first open (after `start()`) it waits for the connection, at most
    /// `timeout`, then fails with `.notOpen`; not started or disconnected: `.closed` at once.
    public func send(_ event: Event, timeout: Duration = .seconds(10)) async throws(RequestError) {
        let generation = try await openGeneration(within: timeout)
        if effectiveType == .ws {
            try await sendWS(event.value, callbackID: nil, generation: generation)
        } else {
            _ = try await postAjax(event, callbackMarker: nil, generation: generation, timeout: options.ajaxTimeout)
        }
    }

    /// Sends an event and waits for the server's reply, at most `timeout` in all (the wait for
    /// the connection, when started but not yet open, included); see `send` for the errors.
    public func request(_ event: Event, timeout: Duration) async throws(RequestError) -> EDNValue {
        try await request(event, timeout: timeout, typed: false).value
    }

    /// `request(_:timeout:)`, the reply as read: a `typed` request's reply is read straight to
    /// a tape (when the packer has a tape reader), for `TapeDecoder`.
    func request(_ event: Event, timeout: Duration, typed: Bool) async throws(RequestError) -> ReplyData {
        let start = options.clock.now()
        let generation = try await openGeneration(within: timeout)
        let timeout = max(timeout - (options.clock.now() - start), .milliseconds(1))
        if effectiveType == .ajax {
            let marker: EDNValue = generation == .v1 ? 0 : .kw("ajax")
            return try await postAjax(event, callbackMarker: marker, generation: generation, timeout: timeout, typed: typed)
        }
        var id = String(EDNUUID.random().description.prefix(6))
        while pending[id] != nil { id = String(EDNUUID.random().description.prefix(6)) }
        let callbackID = id
        let clock = options.clock
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<ReplyData, RequestError>, Never>) in
            let timer = Task { [weak self] in
                do { try await clock.sleep(for: timeout) } catch { return }
                await self?.resolve(callbackID, .failure(.timeout))
            }
            pending[callbackID] = PendingRequest(continuation: continuation, timer: timer, typed: typed)
            if typed { typedPending += 1 }
            let value = event.value
            Task {
                do throws(RequestError) {
                    try await self.sendWS(value, callbackID: .string(callbackID), generation: generation)
                } catch {
                    self.resolve(callbackID, .failure(error))
                }
            }
        }
        return try result.get()
    }

    private func resolve(_ callbackID: String, _ result: Result<ReplyData, RequestError>) {
        guard let p = pending.removeValue(forKey: callbackID) else { return }
        if p.typed { typedPending -= 1 }
        p.timer.cancel()
        p.continuation.resume(returning: result)
    }

    private func failPending(_ error: RequestError) {
        for id in Array(pending.keys) { resolve(id, .failure(error)) }
    }

    private func sendWS(_ value: EDNValue, callbackID: EDNValue?, generation: WireGeneration) async throws(RequestError) {
        guard let socket else { throw .closed }
        let bytes: [UInt8]
        do {
            // A 1.14 client wraps everything: +[ev] or +[ev cb].
            bytes = try Framing.pack(value, callbackID: callbackID, generation: generation, packer: options.packer, alwaysWrap: true)
        } catch { throw .error("cannot pack: \(error)") }
        do { try await socket.send(bytes, binary: options.packer.isBinary) } catch { throw .error("\(error)") }
        activity = true
    }

    // MARK: run loop

    private func runLoop() async {
        while !stopped && !Task.isCancelled {
            sessionID &+= 1
            if effectiveType == .ws { await runWebSocketSession() } else { await runAjaxSession() }
            if stopped { break }
            if effectiveType == .ajax && options.type == .auto && !wsEverHandshaked && state.type == "ajax" && attempt == 0 {
                attempt = 1
                continue   // just downgraded: try Ajax at once
            }
            attempt += 1
            let delay = attempt == 1 ? options.backoff.floor : options.backoff.delay(attempt: attempt)
            update { $0.nextReconnect = wallClockMilliseconds() + delay.milliseconds }
            await sleepUnlessWoken(delay)
        }
    }

    private func sleepUnlessWoken(_ delay: Duration) async {
        let clock = options.clock
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            wakeUp = c
            Task { [weak self] in
                try? await clock.sleep(for: delay)
                await self?.wake()
            }
        }
    }

    private func wake() {
        wakeUp?.resume()
        wakeUp = nil
    }

    // MARK: WebSocket

    func webSocketURL() -> String {
        var base = url
        if base.hasPrefix("http://") { base = "ws://" + base.dropFirst(7) }
        if base.hasPrefix("https://") { base = "wss://" + base.dropFirst(8) }
        var params = options.params
        params["client-id"] = options.clientID
        if let token = options.csrfToken { params["csrf-token"] = token }
        return base + (base.contains("?") ? "&" : "?") + queryString(params)
    }

    func ajaxURL(_ extra: [String: String]) -> String {
        var base = url
        if base.hasPrefix("ws://") { base = "http://" + base.dropFirst(5) }
        if base.hasPrefix("wss://") { base = "https://" + base.dropFirst(6) }
        var params = options.params
        for (k, v) in extra { params[k] = v }
        return base + (base.contains("?") ? "&" : "?") + queryString(params)
    }

    private func runWebSocketSession() async {
        let session = sessionID
        let ws: any ClientWebSocket
        do {
            ws = try await transport.connectWebSocket(url: webSocketURL(), headers: options.headers, maxMessageBytes: options.maxMessageBytes,
                                                      tls: options.tls)
        } catch {
            let now = wallClockMilliseconds()
            let failure = error as? TransportError ?? TransportError("\(error)")
            lastFailure = failure
            update { $0.lastWSError = [.kw("udt"): .integer(now), .kw("ev"): .string("\(error)")] }
            if options.type == .auto && !wsEverHandshaked {
                effectiveType = .ajax
                attempt = 0
                update {
                    $0.type = "ajax"
                    $0.lastClose = [.kw("udt"): .integer(now), .kw("reason"): .kw("downgrading-ws-to-ajax")]
                }
                return
            }
            connectFailed(failure)
            setClosed(reason: "unexpected")
            return
        }
        if stopped {
            await ws.close(code: 1000, reason: "CLOSE_NORMAL")
            return
        }
        socket = ws
        for await event in ws.events {
            guard session == sessionID else { break }
            switch event {
            case .message(let bytes):
                await handleWSMessage(bytes)
            case .closed(let code, let reason, let clean):
                let now = wallClockMilliseconds()
                update { $0.lastWSClose = [.kw("udt"): .integer(now), .kw("clean?"): .bool(clean), .kw("code"): .integer(Int64(code)), .kw("reason"): .string(reason)] }
                socket = nil
                keepAliveTask?.cancel()
                failPending(.closed)
                if state.isOpen { setClosed(reason: clean ? "clean" : "unexpected") }
            }
        }
        if socket != nil {
            socket = nil
            keepAliveTask?.cancel()
            failPending(.closed)
            if state.isOpen { setClosed(reason: "unexpected") }
        }
    }

    private func handleWSMessage(_ bytes: [UInt8]) async {
        activity = true
        let gen = generation ?? Framing.detectGeneration(bytes)
        let frame: ReadFrame
        do { frame = try readFrame(bytes, generation: gen) } catch {
            if !state.isOpen && !wsEverHandshaked { connectFailed(unreadableHandshake(bytes), incompatible: true) }
            return   // unreadable: Sente logs and drops
        }
        // Before the handshake: a first message that another packer reads as a handshake.
        if !state.isOpen && !wsEverHandshaked && !frame.isHandshake, spokenByAnotherPacker(bytes) {
            connectFailed(unreadableHandshake(bytes), incompatible: true)
            return
        }
        if generation == nil { generation = gen; state.generation = gen }
        if let cb = frame.callbackID {
            if case .string(let id) = cb { resolve(id, .success(frame.reply)) }
            return
        }
        if let (tape, node) = frame.tapeBatch {
            deliverBatch(tape, node, frame.pushIDs)
            return
        }
        let value = frame.value
        if isHandshake(value) {
            handleHandshake(value, type: "ws")
            wsEverHandshaked = true
            startKeepAlive()
            return
        }
        if value == .keyword(Reserved.wsPing) {
            if gen == .v2, let socket, let pong = try? Framing.pack([.keyword(Reserved.wsPong)], generation: .v2, packer: options.packer) {
                try? await socket.send(pong, binary: options.packer.isBinary)
            }
            deliver(wraps ? Event(Reserved.recv, [.keyword(Reserved.wsPing)]) : Event(Reserved.wsPing))
            return
        }
        deliverBatch(value)
    }

    private func startKeepAlive() {
        keepAliveTask?.cancel()
        let clock = options.clock
        let window = generation == .v1 ? options.wsKeepAlive : options.wsKeepAlive / 2
        let session = sessionID
        keepAliveTask = Task { [weak self] in
            while !Task.isCancelled {
                do { try await clock.sleep(for: window) } catch { return }
                guard let self, await self.keepAliveTick(session: session) else { return }
            }
        }
    }

    /// One keep-alive check; false ends the loop.
    private func keepAliveTick(session: UInt64) async -> Bool {
        guard session == sessionID, socket != nil, state.isOpen, let generation else { return false }
        if activity {
            activity = false
            return true
        }
        if generation == .v1 {
            try? await sendWS([.keyword(Reserved.wsPing)], callbackID: nil, generation: .v1)
            activity = false
            return true
        }
        let reply = try? await request(Event(Reserved.wsPing), timeout: options.wsPingTimeout)
        activity = false
        if reply != "pong" && session == sessionID {
            await closeSocket(code: 3000, reason: "ws-ping-timeout", lastCloseReason: "ws-ping-timeout")
            return false
        }
        return true
    }

    private func closeSocket(code: UInt16, reason: String, lastCloseReason: String) async {
        keepAliveTask?.cancel()
        guard let ws = socket else { return }
        socket = nil
        sessionID &+= 1
        failPending(.closed)
        if state.isOpen { setClosed(reason: lastCloseReason) }
        await ws.close(code: code, reason: reason)
    }

    // MARK: Ajax

    private func runAjaxSession() async {
        let session = sessionID
        while !stopped && session == sessionID {
            var extra = ["udt": String(wallClockMilliseconds()), "client-id": options.clientID]
            if !state.isOpen { extra["handshake?"] = generation == .v1 ? "true" : "1" }
            var headers = options.headers
            headers["X-CSRF-Token"] = options.csrfToken
            let response: ClientHTTPResponse
            do {
                response = try await transport.http(ClientHTTPRequest(method: "GET", url: ajaxURL(extra), headers: headers, tls: options.tls), timeout: options.ajaxTimeout)
            } catch let error as TransportError where error.isTimeout {
                continue   // XHR timeout: poll again, no state change
            } catch {
                connectFailed(error as? TransportError ?? TransportError("\(error)"))
                setClosed(reason: "unexpected")
                return
            }
            guard session == sessionID, !stopped else { return }
            guard response.status == 200 else {
                connectFailed(TransportError(status: response.status, String(decoding: response.body.prefix(200), as: UTF8.self)))
                setClosed(reason: "unexpected")
                return
            }
            let gen = generation ?? Framing.detectGeneration(response.body)
            guard let frame = try? readFrame(response.body, generation: gen) else {
                if !state.isOpen { connectFailed(unreadableHandshake(response.body), incompatible: true) }
                setClosed(reason: "unexpected")   // unpack failure: a connection error, as the browser client does
                return
            }
            if !state.isOpen && !frame.isHandshake && spokenByAnotherPacker(response.body) {
                connectFailed(unreadableHandshake(response.body), incompatible: true)
                setClosed(reason: "unexpected")
                return
            }
            if generation == nil { generation = gen; state.generation = gen }
            attempt = 0
            if frame.isHandshake {
                handleHandshake(frame.value, type: "ajax")
                continue
            }
            if !state.isOpen { update { $0.isOpen = true; $0.nextReconnect = nil } }
            if let (tape, node) = frame.tapeBatch {
                deliverBatch(tape, node, frame.pushIDs)
                continue
            }
            let value = frame.value
            if value == .keyword(Reserved.timeout) { continue }
            deliverBatch(value)
        }
    }

    private func postAjax(_ event: Event, callbackMarker: EDNValue?, generation: WireGeneration, timeout: Duration,
                          typed: Bool = false) async throws(RequestError) -> ReplyData {
        let ppstr: [UInt8]
        do { ppstr = try Framing.pack(event.value, callbackID: callbackMarker, generation: generation, packer: options.packer, alwaysWrap: true) } catch {
            throw .error("cannot pack: \(error)")
        }
        var form = ["udt": String(wallClockMilliseconds()), "client-id": options.clientID, "ppstr": String(decoding: ppstr, as: UTF8.self)]
        if generation == .v1, let token = options.csrfToken { form["csrf-token"] = token }
        var headers = options.headers
        headers["Content-Type"] = "application/x-www-form-urlencoded;charset=UTF-8"
        headers["X-CSRF-Token"] = options.csrfToken
        let request = ClientHTTPRequest(method: "POST", url: ajaxURL([:]), headers: headers, body: Array(queryString(form).utf8), tls: options.tls)
        let response: ClientHTTPResponse
        do { response = try await transport.http(request, timeout: timeout) } catch let error as TransportError {
            if error.isTimeout { throw .timeout }
            setClosed(reason: "unexpected")
            throw .error(error.description)
        } catch {
            setClosed(reason: "unexpected")
            throw .error("\(error)")
        }
        guard response.status == 200 else {
            setClosed(reason: "unexpected")
            throw .error("HTTP \(response.status): \(String(decoding: response.body.prefix(200), as: UTF8.self))")
        }
        if typed, let tapeReader {
            guard let frame = try? Framing.unpackTape(response.body, generation: generation, reader: tapeReader, packerName: options.packer.name) else {
                throw .error("unreadable reply")
            }
            return .tape(frame.tape, node: frame.node)
        }
        guard let frame = try? Framing.unpack(response.body, generation: generation, packer: options.packer) else {
            throw .error("unreadable reply")
        }
        return .value(frame.value)
    }

    // MARK: reading messages

    /// Reads a message by `Framing`'s rules: to a tape when it may concern a typed request or
    /// a typed event stream (`tapeReading`), else to an `EDNValue` tree, as before.
    private func readFrame(_ bytes: [UInt8], generation: WireGeneration) throws(FramingError) -> ReadFrame {
        if let (reader, pushIDs) = tapeReading(bytes) {
            let frame = try Framing.unpackTape(bytes, generation: generation, reader: reader, packerName: options.packer.name)
            return ReadFrame(body: .tape(frame.tape, node: frame.node), callbackID: frame.callbackID, pushIDs: pushIDs)
        }
        let frame = try Framing.unpack(bytes, generation: generation, packer: options.packer)
        return ReadFrame(body: .value(frame.value), callbackID: frame.callbackID, pushIDs: [])
    }

    /// The tape reader and the ids of the typed streams when `bytes` may concern a typed
    /// request (one's callback id is in its last bytes, where every framing puts it) or a
    /// typed stream (one's id text is in it); `nil` otherwise, and always when no typed
    /// request is pending and no typed stream is open. Only a shortcut, as the server's: both
    /// paths make the same events and replies, and a message this misses decodes alike from
    /// its tree.
    private func tapeReading(_ bytes: [UInt8]) -> (any TapeUnpacker, Set<Keyword>)? {
        guard let tapeReader else { return nil }
        let pushes = typedPushes.current
        if forcingTape { return (tapeReader, pushes?.ids ?? []) }
        if typedPending > 0 {
            let tail = max(0, bytes.count - 64)
            for (id, p) in pending where p.typed && bytes.containsBytes(Array(id.utf8), from: tail) {
                return (tapeReader, pushes?.ids ?? [])
            }
        }
        if let pushes, pushes.texts.contains(where: { bytes.containsBytes($0, from: 0) }) { return (tapeReader, pushes.ids) }
        return nil
    }

    /// Test hook: reads every message to a tape from now on (when the packer has a tape
    /// reader), skipping the look for typed ids, to compare the tape and tree paths.
    package func readEveryMessageToTape() { forcingTape = true }

    // MARK: handshake, state, delivery

    /// Another packer than this client's that reads `bytes` as a handshake, if any.
    private func packerReadingAHandshake(_ bytes: [UInt8]) -> (any Packer)? {
        let others: [any Packer] = [EDNPacker(), TransitPacker(format: .json), TransitPacker(format: .jsonVerbose)]
        let gen = generation ?? Framing.detectGeneration(bytes)
        return others.first { other in
            other.name != options.packer.name && (try? Framing.unpack(bytes, generation: gen, packer: other)).map { isHandshake($0.value) } == true
        }
    }

    private func spokenByAnotherPacker(_ bytes: [UInt8]) -> Bool { packerReadingAHandshake(bytes) != nil }

    /// The failure for a first message this client's packer cannot read, naming the packer that
    /// can when one of the others does.
    private func unreadableHandshake(_ bytes: [UInt8]) -> TransportError {
        let fits = packerReadingAHandshake(bytes)
        let hint = fits.map { "the server speaks \($0.name), not \(options.packer.name)" }
            ?? "the server speaks another packer than \(options.packer.name)?"
        return TransportError("unreadable handshake (\(hint)): \(String(decoding: bytes.prefix(60), as: UTF8.self))")
    }

    private func isHandshake(_ value: EDNValue) -> Bool { ReadFrame.isHandshake(value) }

    private func handleHandshake(_ value: EDNValue, type: String) {
        guard case .vector(let items) = value, let args = items[1].sequenceElements, !args.isEmpty else { return }
        let uid = args[0]
        let data = args.count > 2 ? args[2] : .null
        let first = !state.everOpened
        attempt = 0
        update {
            $0.type = type
            $0.isOpen = true
            $0.everOpened = true
            $0.firstOpen = first
            $0.uid = uid
            $0.handshakeData = data
            $0.nextReconnect = nil
        }
        deliver(Event(Reserved.handshake, [uid, .null, data, .bool(first)]))
    }

    private func setClosed(reason: String) {
        let now = wallClockMilliseconds()
        update {
            $0.isOpen = false
            $0.firstOpen = false
            $0.lastClose = [.kw("udt"): .integer(now), .kw("reason"): .kw(reason)]
        }
    }

    private func update(_ change: (inout ClientState) -> Void) {
        let old = state
        var new = state
        change(&new)
        if old.firstOpen && new.firstOpen && old.isOpen == new.isOpen { new.firstOpen = false }
        guard new != old else { return }
        state = new
        stateObservers.yield(ClientStateChange(old: old, new: new))
        if new.isOpen && !old.isOpen { resolveOpenWaiters(.success(())) }
    }

    private func deliver(_ event: Event) {
        eventSink.yield(event)
        eventObservers.yield(event)
    }

    private var wraps: Bool { options.wrapReceivedEvents ?? (generation == .v1) }

    private func deliverBatch(_ value: EDNValue) {
        guard case .vector(let items) = value else { return }
        for item in items {
            guard let event = Event(validating: item), !event.isReserved else { continue }
            deliver(wraps ? Event(Reserved.recv, event.value) : event)
        }
    }

    /// `deliverBatch` for the batch vector at `node` of a read message's tape: the events
    /// with a typed stream (`typed`) keep their data on the tape (wrapped, the `[id data]`
    /// of `[:chsk/recv [id data]]`); the others are built as values, as on the tree path.
    private func deliverBatch(_ tape: ValueTape, _ node: Int, _ typed: Set<Keyword>) {
        guard case .vector(let count, _) = tape.nodes[node] else { return }
        var item = node + 1
        for _ in 0..<count {
            defer { item = tape.end(of: item) }
            if case .scalar(let value) = tape.nodes[item] {
                guard let event = Event(validating: value), !event.isReserved else { continue }
                deliver(wraps ? Event(Reserved.recv, event.value) : event)
                continue
            }
            guard let event = Event(validating: tape, at: item, keepingDataIf: typed.contains), !event.isReserved else { continue }
            if !wraps {
                deliver(event)
            } else if typed.contains(event.id) {
                deliver(Event(Reserved.recv, tape: tape, node: item))
            } else {
                deliver(Event(Reserved.recv, event.value))
            }
        }
    }
}

/// Form/query encoding with `encodeURIComponent` escaping (so a v1 `+` travels as `%2B`).
func queryString(_ params: [String: String]) -> String {
    params.sorted { $0.key < $1.key }.map { "\(FormDecoding.escape($0.key))=\(FormDecoding.escape($0.value))" }.joined(separator: "&")
}

/// Milliseconds since the Unix epoch (wall clock, for Sente's `:udt` fields).
func wallClockMilliseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
}

/// A reply as the client read it: a value, or (a typed request's reply, read straight from the
/// bytes) a node of the message's tape.
enum ReplyData: Sendable {
    case value(EDNValue)
    case tape(ValueTape, node: Int)

    /// The reply as a value (built from the tape when it is on one).
    var value: EDNValue {
        switch self {
        case .value(let v): v
        case .tape(let tape, let node): tape.materialize(node)
        }
    }
}

/// A message the client read by `Framing`'s rules: its value as a tree, or as a node of the
/// message's tape (`ChannelSocketClient.readFrame`), and its callback id.
struct ReadFrame {
    enum Body {
        case value(EDNValue)
        case tape(ValueTape, node: Int)
    }

    let body: Body
    let callbackID: EDNValue?
    /// The ids whose pushes keep their data on the tape.
    let pushIDs: Set<Keyword>

    /// The value (built from the tape when it is on one).
    var value: EDNValue {
        switch body {
        case .value(let v): v
        case .tape(let tape, let node): tape.materialize(node)
        }
    }

    /// The value as a reply, on the tape when it is on one.
    var reply: ReplyData {
        switch body {
        case .value(let v): .value(v)
        case .tape(let tape, let node): .tape(tape, node: node)
        }
    }

    /// `[:chsk/handshake args]`, without building the value.
    var isHandshake: Bool {
        switch body {
        case .value(let v): return Self.isHandshake(v)
        case .tape(let tape, let node):
            switch tape.nodes[node] {
            case .scalar(let v): return Self.isHandshake(v)
            case .vector(count: 2, _):
                if case .scalar(.keyword(let k)) = tape.nodes[node + 1] { return k == Reserved.handshake }
                return false
            default: return false
            }
        }
    }

    /// The tape and node of a value read to a tape that is a vector and no handshake: a push
    /// batch (what the tree path hands to `deliverBatch`, its other checks being for
    /// non-vectors).
    var tapeBatch: (ValueTape, Int)? {
        guard case .tape(let tape, let node) = body, case .vector = tape.nodes[node], !isHandshake else { return nil }
        return (tape, node)
    }

    static func isHandshake(_ value: EDNValue) -> Bool {
        if case .vector(let items) = value, items.count == 2, items[0] == .keyword(Reserved.handshake) { return true }
        return false
    }
}

/// The event ids of a client's open typed event streams (`events(_:as:)`), counted per id:
/// the look for them in incoming messages (`Snapshot.texts`) decides which messages are read
/// to a tape.
final class TypedPushIDs: Sendable {
    struct Snapshot: Sendable {
        let ids: Set<Keyword>
        /// The ids' texts (`ns/name`) as UTF-8.
        let texts: [[UInt8]]
    }

    private let state = Mutex<(counts: [Keyword: Int], snapshot: Snapshot?)>(([:], nil))
    private let any = Atomic<Bool>(false)

    func add(_ id: Keyword) { change(id, by: 1) }
    func remove(_ id: Keyword) { change(id, by: -1) }

    private func change(_ id: Keyword, by delta: Int) {
        state.withLock { state in
            state.counts[id, default: 0] += delta
            if state.counts[id]! <= 0 { state.counts[id] = nil }
            let ids = Set(state.counts.keys)
            state.snapshot = ids.isEmpty ? nil : Snapshot(ids: ids, texts: ids.map { Array($0.text.utf8) })
            any.store(!ids.isEmpty, ordering: .relaxed)
        }
    }

    /// The ids and their texts; `nil` when no typed stream is open (one atomic load).
    var current: Snapshot? {
        guard any.load(ordering: .relaxed) else { return nil }
        return state.withLock { $0.snapshot }
    }
}

extension [UInt8] {
    /// True when `needle` (not empty) occurs in the bytes from `start` on.
    func containsBytes(_ needle: [UInt8], from start: Int) -> Bool {
        withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { n in
                let k = n.count
                guard k > 0, let first = n.first, let base = h.baseAddress else { return false }
                var i = start
                let last = h.count - k
                while i <= last {
                    guard let hit = memchr(base + i, Int32(first), last - i + 1) else { return false }
                    i = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                    if memcmp(base + i, n.baseAddress!, k) == 0 { return true }
                    i += 1
                }
                return false
            }
        }
    }
}
