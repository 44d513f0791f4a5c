public import ChannelSocket
public import EDN
import NIOPosix
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Why a `RedisBroker` could not start.
public enum RedisBrokerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL is not one `RedisEndpoint` reads (the URL, the reason).
    case badURL(String, String)
    /// Nothing accepted the connection (refused, unreachable, timed out).
    case cannotConnect(String, String)
    /// Redis refused the password or asks for one (`WRONGPASS`, `NOAUTH`).
    case authentication(String, String)
    /// Something answered that does not speak Redis's protocol, or did not answer in time.
    case notRedis(String, String)
    /// Redis answered a setup command with an error (e.g. `SELECT` of a database it lacks).
    case refused(String, String)
    /// The node id is empty, too long or has spaces or control characters.
    case badNodeID(String)
    /// An option is out of its range.
    case badOptions(String)

    public var description: String {
        switch self {
        case .badURL(let url, let why): "bad Redis URL \(url): \(why)"
        case .cannotConnect(let ep, let why): "cannot connect to Redis at \(ep): \(why)"
        case .authentication(let ep, let why): "Redis at \(ep) refused the login: \(why)"
        case .notRedis(let ep, let why): "\(ep) does not answer as a Redis server: \(why)"
        case .refused(let ep, let why): "Redis at \(ep) refused the setup: \(why)"
        case .badNodeID(let why): "bad node id: \(why)"
        case .badOptions(let why): "bad cluster options: \(why)"
        }
    }
}

/// Joins a `ChannelSocketServer` to a cluster of nodes over Redis (`ChannelSocketBroker`):
/// pushes, broadcasts and closes go through one Redis stream that every node reads from its
/// last position (so a dropped link loses nothing the stream still holds), and membership is
/// kept in Redis hashes with a heartbeat per node, so a node that dies leaves the cluster
/// within `nodeTTL` plus one `heartbeat`.
///
/// ```swift
/// let broker = try await RedisBroker(url: "redis://127.0.0.1:6379", nodeID: "node-1")
/// let server = try ChannelSocketServer(options: options, logger: logger, cluster: broker)
/// try await server.send(Event("app/alert", "hi"), to: "alice")   // her clients on every node
/// ```
///
/// Guarantees and bounds:
/// - Each message reaches every other node once, in this node's order (a per-node sequence
///   number drops the duplicates a re-send after a broken link could make).
/// - While Redis is unreachable, messages queue (at most `maxQueuedMessages`) and go out on
///   reconnect; once the link has been down for `maxOutage`, or the queue is full, `publish`
///   throws and the server reports `PushError.clusterUnavailable` to the caller.
/// - A node whose position was trimmed out of the stream (`streamMaxLength`) while it was away
///   reports how many messages it missed (`RefusalReason.clusterGap`).
/// - Reconnects use capped, jittered exponential backoff; the node keeps serving its own
///   clients all along. Each change of the link's state is one `.link` input (one log line).
/// - Redis's own time (`TIME`) decides heartbeat expiry, never the nodes' clocks.
/// - If Redis loses its data (restart without persistence), every node restores its own
///   membership; cluster-wide opens are not reported again for it, but the close of a uid
///   that left during such an outage is not reported cluster-wide either.
public final class RedisBroker: ChannelSocketBroker {
    /// Settings of a broker.
    public struct Options: Sendable {
        /// Names the cluster: nodes with the same name (and Redis) form one cluster; the keys
        /// start with `chsk:{name}:`.
        public var clusterName = "chsk"
        /// How often a node renews its heartbeat and sweeps expired nodes.
        public var heartbeat: Duration = .seconds(3)
        /// How long after its last heartbeat a node counts as gone (its uids leave the cluster
        /// at the next sweep of a surviving node: within `nodeTTL + heartbeat`).
        public var nodeTTL: Duration = .seconds(10)
        /// The stream keeps about this many of the latest messages (`XADD MAXLEN ~`): a node
        /// away for longer than that many messages misses some (reported, counted).
        public var streamMaxLength = 100_000
        /// Messages that may wait while Redis is unreachable; past it `publish` throws.
        public var maxQueuedMessages = 10_000
        /// How long messages are queued while Redis is unreachable; past it `publish` throws.
        public var maxOutage: Duration = .seconds(30)
        /// The largest event (EDN bytes) a message carries, sent or received.
        public var maxMessageBytes = 1 << 20
        /// Timeout of a connect and of each command.
        public var commandTimeout: Duration = .seconds(3)
        /// First and largest wait between reconnect attempts (each wait is jittered to 50–100 %).
        public var reconnectBackoff: (first: Duration, max: Duration) = (.milliseconds(100), .seconds(5))
        /// How long `shutdown` waits to send what is queued before leaving.
        public var shutdownTimeout: Duration = .seconds(2)

        /// Default settings.
        public init() {}

        /// Checks each setting against its range.
        public func validate() throws(RedisBrokerError) {
            let ms = RedisBroker.ms
            if clusterName.isEmpty || clusterName.utf8.contains(where: { $0 <= 32 || $0 == 127 || $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "}") }) {
                throw .badOptions("the cluster name must be non-empty, without spaces, control characters or braces")
            }
            if ms(heartbeat) < 10 { throw .badOptions("heartbeat must be at least 10 ms") }
            if ms(nodeTTL) < 2 * ms(heartbeat) { throw .badOptions("the node TTL must be at least twice the heartbeat") }
            if streamMaxLength < 100 { throw .badOptions("the stream must keep at least 100 messages") }
            if maxQueuedMessages < 1 { throw .badOptions("at least one message must be allowed to queue") }
            if maxMessageBytes < 1024 { throw .badOptions("messages of at least 1024 bytes must be allowed") }
            if ms(commandTimeout) < 100 { throw .badOptions("the command timeout must be at least 100 ms") }
        }
    }

    public let nodeID: String
    /// The Redis server.
    public let endpoint: RedisEndpoint
    /// The settings in force.
    public let options: Options
    /// Random per process: tells this run of a node id from an earlier one (sequence numbers).
    let incarnation: String
    let keys: Keys
    let state = Mutex(State())
    let wake: AsyncStream<Void>.Continuation
    let wakes: AsyncStream<Void>
    let writerThread = NIOThreadPool(numberOfThreads: 1)
    let readerThread = NIOThreadPool(numberOfThreads: 1)
    let firstConnection: Mutex<HiredisConnection?>
    let tasks = Mutex<[Task<Void, Never>]>([])
    let writerDone = Mutex<Task<Void, Never>?>(nil)

    struct Keys {
        let prefix: String
        let bus: [UInt8], nodes: [UInt8], epoch: [UInt8]
        init(_ cluster: String) {
            prefix = "chsk:{\(cluster)}:"
            bus = Array((prefix + "bus").utf8)
            nodes = Array((prefix + "nodes").utf8)
            epoch = Array((prefix + "epoch").utf8)
        }
        func node(_ id: String) -> [UInt8] { Array((prefix + "node:" + id).utf8) }
        func uid(_ edn: [UInt8]) -> [UInt8] { Array((prefix + "uid:").utf8) + edn }
    }

    struct Outgoing {
        let seq: UInt64
        let fields: [[UInt8]]   // field, value, … after `n`, `i`, `s`
    }

    struct State {
        var outbox: [Outgoing] = []
        var head = 0
        var seq: UInt64 = 0
        /// This node's membership per uid (what it would restore).
        var membership: [EDNValue: ClusterPresence] = [:]
        /// Changes not yet announced.
        var dirty: [EDNValue: ClusterPresence] = [:]
        var restore = false
        var writerUp = true
        var readerUp = false
        var reportedUp: Bool?
        var downSince: ContinuousClock.Instant?
        var lastError = ""
        var stopping = false
        var deliver: (@Sendable (ClusterInput) async -> Void)?
        var queued: Int { outbox.count - head }
    }

    /// Connects to Redis (checking the login and that it is Redis) and makes a broker; the
    /// node joins the cluster when its server calls `start`.
    /// - Parameters:
    ///   - url: `redis://[[user]:password@]host[:port][/db]` or `unix:///path` (`RedisEndpoint`).
    ///   - nodeID: unique in the cluster (default: host name, process id and a random part).
    ///   - options: cluster name, heartbeat, bounds.
    public init(url: String, nodeID: String? = nil, options: Options = .init()) async throws(RedisBrokerError) {
        let endpoint = try RedisEndpoint(url: url)
        try options.validate()
        let id = nodeID ?? Self.defaultNodeID()
        if id.isEmpty || id.utf8.count > 200 || id.utf8.contains(where: { $0 <= 32 || $0 == 127 }) {
            throw .badNodeID("'\(id)': use 1-200 bytes without spaces or control characters")
        }
        self.endpoint = endpoint
        self.options = options
        self.nodeID = id
        self.incarnation = String(UInt64.random(in: 0 ... .max), radix: 36)
        self.keys = Keys(options.clusterName)
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        writerThread.start()
        readerThread.start()
        let opts = options
        do {
            let conn = try await writerThread.runIfActive { () throws(RedisBrokerError) -> HiredisConnection in
                try Self.open(endpoint, opts)
            }
            firstConnection = Mutex(conn)
        } catch {
            try? await writerThread.shutdownGracefully()
            try? await readerThread.shutdownGracefully()
            throw (error as? RedisBrokerError) ?? .cannotConnect(endpoint.description, String(describing: error))
        }
    }

    static func defaultNodeID() -> String {
        var name = [CChar](repeating: 0, count: 256)
        let host = gethostname(&name, 255) == 0 ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "node"
        let clean = host.isEmpty ? "node" : String(host.filter { $0.isASCII && !$0.isWhitespace })
        return "\(clean)-\(getpid())-\(String(UInt32.random(in: 0 ... .max), radix: 36))"
    }

    /// Connects, logs in, selects the database and checks that a Redis answers.
    static func open(_ endpoint: RedisEndpoint, _ options: Options) throws(RedisBrokerError) -> HiredisConnection {
        let ep = endpoint.description
        let conn: HiredisConnection
        do { conn = try HiredisConnection.connect(endpoint.address, timeout: options.commandTimeout) } catch {
            throw .cannotConnect(ep, error.description)
        }
        func run(_ args: [String]) throws(RedisBrokerError) -> RESP {
            do { return try conn.command(args.map { Array($0.utf8) }) } catch {
                throw .notRedis(ep, "no Redis reply to \(args[0]): \(error.description)")
            }
        }
        if let password = endpoint.password {
            let reply = try run(endpoint.username.map { ["AUTH", $0, password] } ?? ["AUTH", password])
            if let e = reply.errorMessage { throw .authentication(ep, e) }
        }
        let pong = try run(["PING"])
        if let e = pong.errorMessage {
            if e.hasPrefix("NOAUTH") || e.hasPrefix("WRONGPASS") { throw .authentication(ep, e) }
            throw .refused(ep, e)
        }
        guard pong.text == "PONG" else { throw .notRedis(ep, "PING was answered with \(pong)") }
        if endpoint.database != 0 {
            let reply = try run(["SELECT", String(endpoint.database)])
            if let e = reply.errorMessage { throw .refused(ep, e) }
        }
        return conn
    }

    // MARK: - ChannelSocketBroker

    public func start(_ deliver: @escaping @Sendable (ClusterInput) async -> Void) {
        let started = state.withLock { s -> Bool in
            guard s.deliver == nil, !s.stopping else { return false }
            s.deliver = deliver
            return true
        }
        guard started else { return }
        let first = firstConnection.withLock { c -> HiredisConnection? in defer { c = nil }; return c }
        let writer = Task { await self.writerLoop(first) }
        writerDone.withLock { $0 = writer }
        tasks.withLock {
            $0.append(Task { await self.readerLoop() })
            $0.append(Task {
                while !self.isStopping {
                    try? await Task.sleep(for: self.options.heartbeat)
                    self.wake.yield()
                }
            })
        }
    }

    public func publish(_ message: ClusterMessage) throws(ClusterError) {
        var fields: [[UInt8]]
        func edn(_ value: EDNValue, _ what: String) throws(ClusterError) -> [UInt8] {
            do { return try EDNPrinter.checkedBytes(value) } catch {
                throw .unencodable("the \(what) has no readable EDN text: \(error)")
            }
        }
        switch message {
        case .push(let uid, let event, let flush):
            fields = [Array("k".utf8), Array("push".utf8), Array("u".utf8), try edn(uid, "uid"),
                      Array("e".utf8), try edn(event, "event"), Array("f".utf8), flush ? [0x31] : [0x30]]
        case .broadcast(let event, let flush):
            fields = [Array("k".utf8), Array("broadcast".utf8), Array("e".utf8), try edn(event, "event"),
                      Array("f".utf8), flush ? [0x31] : [0x30]]
        case .close(let uid):
            fields = [Array("k".utf8), Array("close".utf8), Array("u".utf8), try edn(uid, "uid")]
        }
        let size = fields.reduce(0) { $0 + $1.count }
        if size > options.maxMessageBytes {
            throw .unencodable("the message is \(size) bytes of EDN, over the cluster's \(options.maxMessageBytes)-byte limit")
        }
        let limit = options.maxQueuedMessages, outage = options.maxOutage
        let refusal = state.withLock { s -> String? in
            if s.stopping { return "this node is shutting down" }
            if let since = s.downSince, ContinuousClock.now - since > outage {
                return "Redis at \(endpoint) has been unreachable for more than \(outage) (\(s.lastError))"
            }
            if s.queued >= limit { return "\(limit) messages already wait for Redis at \(endpoint)" }
            s.seq += 1
            s.outbox.append(Outgoing(seq: s.seq, fields: fields))
            return nil
        }
        if let refusal { throw .unavailable(refusal) }
        wake.yield()
    }

    public func announce(uid: EDNValue, _ presence: ClusterPresence) {
        state.withLock { s in
            if presence.isConnected { s.membership[uid] = presence } else { s.membership[uid] = nil }
            s.dirty[uid] = presence
        }
        wake.yield()
    }

    public func shutdown() async {
        let alreadyStopping = state.withLock { s -> Bool in
            defer { s.stopping = true }
            return s.stopping
        }
        wake.yield()
        wake.finish()
        if !alreadyStopping {
            // The writer sends what is queued and leaves; bounded, since it may sit in a
            // backoff or a command to a Redis that does not answer: past the bound it is
            // cancelled (what it had not sent is lost with the node, as a crash would).
            if let writer = writerDone.withLock({ $0 }) {
                let (done, signal) = AsyncStream.makeStream(of: Void.self)
                let waiter = Task { await writer.value; signal.yield() }
                let timer = Task { try? await Task.sleep(for: options.shutdownTimeout + options.commandTimeout); signal.yield() }
                for await _ in done { break }
                timer.cancel()
                waiter.cancel()
                writer.cancel()
            }
            for t in tasks.withLock({ $0 }) { t.cancel() }
        }
        firstConnection.withLock { $0 = nil }
        // The reader may sit in a blocking XREAD for up to its block time: don't wait for it.
        let reader = readerThread, writer = writerThread
        Task.detached {
            try? await writer.shutdownGracefully()
            try? await reader.shutdownGracefully()
        }
    }

    var isStopping: Bool { state.withLock { $0.stopping } }

    func deliver(_ input: ClusterInput) async {
        guard let d = state.withLock({ $0.deliver }) else { return }
        await d(input)
    }

    // MARK: - Link state

    /// Records one side's state; the node hears one line per change of the whole link.
    func report(writer: Bool? = nil, reader: Bool? = nil, error: String? = nil) async {
        let line = state.withLock { s -> (Bool, String)? in
            if let writer { s.writerUp = writer }
            if let reader { s.readerUp = reader }
            if let error { s.lastError = error }
            let up = s.writerUp && s.readerUp
            guard up != s.reportedUp else { return nil }
            let first = s.reportedUp == nil
            // At start the reader is not connected yet: that is no loss to report.
            if first && !up && error == nil { return nil }
            s.reportedUp = up
            if up {
                let was = s.downSince
                s.downSince = nil
                if first { return (true, "connected to \(endpoint) as node \(nodeID) (cluster \(options.clusterName))") }
                let away = was.map { " after \(Self.seconds(ContinuousClock.now - $0)) s" } ?? ""
                return (true, "reconnected to \(endpoint)\(away); resuming (\(s.queued) queued message(s) go out now)")
            }
            if s.downSince == nil { s.downSince = ContinuousClock.now }
            // Both sides must prove themselves again (the writer with a heartbeat, the reader
            // with a read), so that a side whose connection died unnoticed during the outage
            // does not make a second loss and return.
            s.writerUp = false
            s.readerUp = false
            return (false, "lost Redis at \(endpoint): \(s.lastError); retrying with backoff, pushes queue for up to \(options.maxOutage)")
        }
        if let (up, text) = line { await deliver(.link(up: up, text)) }
    }

    static func seconds(_ d: Duration) -> String {
        String(Double(ms(d)) / 1000)
    }

    func backoff(_ attempt: Int) async {
        let (first, cap) = options.reconnectBackoff
        var wait = first
        for _ in 0..<min(attempt, 20) where wait < cap { wait = wait * 2 }
        wait = min(wait, cap) * Double.random(in: 0.5...1.0)
        try? await Task.sleep(for: wait)
    }

    // MARK: - Writer

    /// Runs blocking hiredis work on one side's own thread.
    static func run<T: Sendable>(on thread: NIOThreadPool, _ side: String,
                                 _ body: @escaping @Sendable () throws(RedisFailure) -> T) async throws(RedisFailure) -> T {
        do { return try await thread.runIfActive { () throws(RedisFailure) -> T in try body() } } catch {
            throw (error as? RedisFailure) ?? .io("the \(side) thread stopped")
        }
    }

    func onWriter<T: Sendable>(_ body: @escaping @Sendable () throws(RedisFailure) -> T) async throws(RedisFailure) -> T {
        try await Self.run(on: writerThread, "writer", body)
    }

    func writerLoop(_ first: HiredisConnection?) async {
        var conn = first
        var attempt = 0
        var nextHeartbeat = ContinuousClock.now
        var knownEpoch: String?
        var iterator = wakes.makeAsyncIterator()
        let candidate = String(UInt64.random(in: 0 ... .max), radix: 36)
        while !isStopping {
            if conn == nil {
                do {
                    let endpoint = endpoint, options = options
                    conn = try await writerThread.runIfActive { () throws(RedisBrokerError) -> HiredisConnection in try Self.open(endpoint, options) }
                    attempt = 0
                    nextHeartbeat = .now
                } catch {
                    await report(writer: false, error: String(describing: error))
                    await backoff(attempt)
                    attempt += 1
                    continue
                }
            }
            do {
                if ContinuousClock.now >= nextHeartbeat {
                    try await heartbeat(conn!, &knownEpoch, candidate)
                    nextHeartbeat = .now + options.heartbeat
                    await report(writer: true)
                }
                let (batch, dirty, restore) = takeWork(256)
                if batch.isEmpty && dirty.isEmpty {
                    _ = await iterator.next()
                    continue
                }
                try await send(batch, dirty, restore: restore, on: conn!)
            } catch {
                conn = nil
                await report(writer: false, error: error.description)
            }
        }
        // Stopping: send what is queued (bounded), then leave: expiring our heartbeat now
        // lets a surviving node's next sweep close our uids cluster-wide.
        guard let conn else { return }
        let deadline = ContinuousClock.now + options.shutdownTimeout
        while ContinuousClock.now < deadline {
            let (batch, dirty, restore) = takeWork(256)
            if batch.isEmpty && dirty.isEmpty { break }
            do { try await send(batch, dirty, restore: restore, on: conn) } catch { break }
        }
        let leave: [[UInt8]] = [Array("ZADD".utf8), keys.nodes, Array("0".utf8), Array(nodeID.utf8)]
        _ = try? await onWriter { () throws(RedisFailure) -> RESP in try conn.command(leave) }
    }

    func takeWork(_ max: Int) -> ([Outgoing], [(EDNValue, ClusterPresence)], Bool) {
        state.withLock { s in
            let batch = Array(s.outbox[s.head..<min(s.outbox.count, s.head + max)])
            let dirty = Array(s.dirty.prefix(max)).map { ($0.key, $0.value) }
            return (batch, dirty, s.restore)
        }
    }

    func heartbeat(_ conn: HiredisConnection, _ knownEpoch: inout String?, _ candidate: String) async throws(RedisFailure) {
        let args: [[UInt8]] = [Array("EVAL".utf8), Array(RedisScripts.heartbeat.utf8), Array("3".utf8), keys.nodes, keys.epoch, keys.bus,
                               Array(nodeID.utf8), Array(String(Self.ms(options.nodeTTL)).utf8), Array(keys.prefix.utf8),
                               Array(String(options.streamMaxLength).utf8), Array(candidate.utf8)]
        let reply = try await onWriter { () throws(RedisFailure) -> RESP in try conn.command(args) }
        if let e = reply.errorMessage { throw .io("Redis refused the heartbeat: \(e)") }
        guard let parts = reply.array, parts.count == 4, let added = parts[0].integer, let epoch = parts[1].text,
              let closed = parts[3].array else { throw .io("unexpected heartbeat reply \(reply)") }
        if added == 1, let known = knownEpoch {
            let lost = epoch != known
            let count = state.withLock { s -> Int in
                for (uid, p) in s.membership { s.dirty[uid] = p }
                s.restore = lost
                return s.membership.count
            }
            await deliver(.link(up: true, lost
                ? "Redis lost the cluster's data (a restart without persistence?): restoring this node's \(count) uid(s)"
                : "this node had been dropped from the cluster (missed heartbeats): rejoining with its \(count) uid(s)"))
        }
        knownEpoch = epoch
        for item in closed {
            guard let text = item.bytes else { continue }
            do { await deliver(.uidPort(open: false, uid: try EDNReader.read(text))) } catch {
                await deliver(.refused(.clusterBadMessage, "a swept uid is not readable EDN: \(error)"))
            }
        }
    }

    /// Whole milliseconds of a duration (Redis's TTLs and script arguments are in ms).
    static func ms(_ d: Duration) -> Int64 { d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000 }

    func send(_ batch: [Outgoing], _ dirty: [(EDNValue, ClusterPresence)], restore: Bool, on conn: HiredisConnection) async throws(RedisFailure) {
        let maxlen = Array(String(options.streamMaxLength).utf8)
        let node = Array(nodeID.utf8), inc = Array(incarnation.utf8)
        var commands: [[[UInt8]]] = []
        commands.reserveCapacity(batch.count + dirty.count)
        for m in batch {
            commands.append([Array("XADD".utf8), keys.bus, Array("MAXLEN".utf8), [UInt8(ascii: "~")], maxlen, [UInt8(ascii: "*")],
                             [UInt8(ascii: "n")], node, [UInt8(ascii: "i")], inc, [UInt8(ascii: "s")], Array(String(m.seq).utf8)] + m.fields)
        }
        var uidTexts: [[UInt8]] = []
        for (uid, presence) in dirty {
            let text = EDNPrinter.bytes(uid)
            uidTexts.append(text)
            commands.append([Array("EVAL".utf8), Array(RedisScripts.announce.utf8), Array("3".utf8), keys.node(nodeID), keys.uid(text), keys.bus,
                             node, text, Array(presence.flags.utf8), maxlen, restore ? [0x31] : [0x30]])
        }
        let pipeline = commands
        let replies = try await onWriter { () throws(RedisFailure) -> [RESP] in try conn.pipeline(pipeline) }
        // Sent: take them off the queue (a presence that changed again meanwhile stays dirty).
        state.withLock { s in
            s.head += batch.count
            if s.head > 1024 && s.head * 2 > s.outbox.count {
                s.outbox.removeFirst(s.head)
                s.head = 0
            }
            for (uid, p) in dirty where s.dirty[uid] == p { s.dirty[uid] = nil }
            if s.dirty.isEmpty { s.restore = false }
        }
        for (i, reply) in replies.enumerated() {
            if let e = reply.errorMessage {
                let what = i < batch.count ? "message \(batch[i].seq)" : "membership of \(String(decoding: uidTexts[i - batch.count], as: UTF8.self))"
                await deliver(.refused(.clusterUnavailable, "Redis refused \(what) for the other nodes: \(e)"))
                continue
            }
            if i >= batch.count, let r = reply.integer, r != 0 {
                await deliver(.uidPort(open: r == 1, uid: dirty[i - batch.count].0))
            }
        }
    }

    // MARK: - Reader

    func onReader<T: Sendable>(_ body: @escaping @Sendable () throws(RedisFailure) -> T) async throws(RedisFailure) -> T {
        try await Self.run(on: readerThread, "reader", body)
    }

    /// Where the reader is in the stream: the last id read, and how many entries the stream
    /// had ever had up to it (Redis's `entries-added`), to count what trimming took.
    struct Position {
        var lastID: [UInt8]
        var index: Int
    }

    static let blockMilliseconds = 500

    func readerLoop() async {
        var conn: HiredisConnection?
        var position: Position?
        var sequences: [String: UInt64] = [:]
        var attempt = 0
        while !isStopping {
            if conn == nil {
                do {
                    let endpoint = endpoint, options = options
                    let c = try await readerThread.runIfActive { () throws(RedisBrokerError) -> HiredisConnection in try Self.open(endpoint, options) }
                    c.setTimeout(options.commandTimeout + .milliseconds(Self.blockMilliseconds))
                    try await locate(c, &position)
                    try await loadSnapshot(c)
                    conn = c
                    attempt = 0
                    await report(reader: true)
                } catch {
                    await report(reader: false, error: String(describing: error))
                    await backoff(attempt)
                    attempt += 1
                    continue
                }
            }
            guard let c = conn, let pos = position else { continue }
            // XINFO and a non-blocking XREAD in one MULTI: the stream's state at the very moment
            // of the read tells exactly whether entries after this node's position were
            // trimmed unread (Redis's entries-added counts every entry ever added). With nothing
            // to read, a blocking XREAD waits for the next entry (its result is read again here).
            let bus = keys.bus
            let read: [[[UInt8]]] = [[Array("MULTI".utf8)], [Array("XINFO".utf8), Array("STREAM".utf8), bus],
                                     [Array("XREAD".utf8), Array("COUNT".utf8), Array("512".utf8), Array("STREAMS".utf8), bus, pos.lastID],
                                     [Array("EXEC".utf8)]]
            do {
                let replies = try await onReader { () throws(RedisFailure) -> [RESP] in try c.pipeline(read) }
                guard let results = replies[3].array, results.count == 2 else {
                    throw RedisFailure.io("Redis refused MULTI/XINFO/XREAD: \(replies.compactMap(\.errorMessage).joined(separator: "; "))")
                }
                try await check(results[0], &position)
                if let e = results[1].errorMessage { throw RedisFailure.io("Redis refused XREAD: \(e)") }
                guard var pos = position else { continue }
                let entries = results[1].array?.first?.array?.dropFirst().first?.array ?? []
                for entry in entries {
                    guard let parts = entry.array, parts.count == 2, let id = parts[0].bytes else { continue }
                    pos.lastID = id
                    pos.index += 1
                    await handle(id, parts[1].array ?? [], &sequences)
                }
                position = pos
                await report(reader: true)
                if entries.isEmpty {
                    let wait: [[UInt8]] = [Array("XREAD".utf8), Array("COUNT".utf8), Array("1".utf8), Array("BLOCK".utf8),
                                           Array(String(Self.blockMilliseconds).utf8), Array("STREAMS".utf8), bus, pos.lastID]
                    let reply = try await onReader { () throws(RedisFailure) -> RESP in try c.command(wait) }
                    if let e = reply.errorMessage { throw RedisFailure.io("Redis refused XREAD: \(e)") }
                }
            } catch {
                conn = nil
                await report(reader: false, error: String(describing: error))
            }
        }
    }

    /// Finds the reader's place on connecting: at the end of the stream the first time; after a
    /// reconnect, where it was (`check`).
    func locate(_ c: HiredisConnection, _ position: inout Position?) async throws(RedisFailure) {
        let args: [[UInt8]] = [Array("XINFO".utf8), Array("STREAM".utf8), keys.bus]
        let reply = try await onReader { () throws(RedisFailure) -> RESP in try c.command(args) }
        try await check(reply, &position)
    }

    /// A stream id's two numbers, for ordering (`nil` for anything else).
    static func streamID(_ bytes: [UInt8]) -> (UInt64, UInt64)? {
        let parts = bytes.split(separator: UInt8(ascii: "-"), omittingEmptySubsequences: false)
        guard parts.count == 2, let ms = UInt64(String(decoding: parts[0], as: UTF8.self)),
              let seq = UInt64(String(decoding: parts[1], as: UTF8.self)) else { return nil }
        return (ms, seq)
    }

    /// Compares the stream as `XINFO STREAM` describes it with the reader's position: the
    /// first time, the position becomes the stream's end; a stream that was reset (Redis lost
    /// its data) is read again from its start; entries after the position that were trimmed
    /// before the reader got them are reported (how many, from Redis's `entries-added`).
    func check(_ info: RESP, _ position: inout Position?) async throws(RedisFailure) {
        var length = 0, added = 0
        var last: [UInt8] = Array("0-0".utf8)
        if let e = info.errorMessage {
            guard e.contains("no such key") else { throw .io("Redis refused XINFO: \(e)") }
        } else if let fields = info.array {
            var i = 0
            while i + 1 < fields.count {
                switch fields[i].text {
                case "length": length = fields[i + 1].integer ?? 0
                case "entries-added": added = fields[i + 1].integer ?? 0
                case "last-generated-id": last = fields[i + 1].bytes ?? last
                default: break
                }
                i += 2
            }
        }
        guard var pos = position else {
            position = Position(lastID: last, index: added)
            return
        }
        let lastSeen = Self.streamID(pos.lastID) ?? (0, 0)
        let first = added - length   // how many entries were ever trimmed: the first one's index
        if added < pos.index || (Self.streamID(last) ?? (0, 0)) < lastSeen {
            await deliver(.link(up: true, "the cluster's stream was reset (Redis lost its data): reading it from its start"))
            pos = Position(lastID: Array("0-0".utf8), index: 0)
        } else if first > pos.index {
            await deliver(.refused(.clusterGap, "missed \(first - pos.index) message(s) of the other nodes: the stream was trimmed past this node's position (streamMaxLength \(options.streamMaxLength))"))
            pos.index = first
        }
        position = pos
    }

    /// Reads every other node's membership (after connecting).
    func loadSnapshot(_ c: HiredisConnection) async throws(RedisFailure) {
        let zrange: [[UInt8]] = [Array("ZRANGE".utf8), keys.nodes, Array("0".utf8), Array("-1".utf8)]
        let reply = try await onReader { () throws(RedisFailure) -> RESP in try c.command(zrange) }
        if let e = reply.errorMessage { throw .io("Redis refused ZRANGE: \(e)") }
        let nodes = (reply.array ?? []).compactMap(\.text).filter { $0 != nodeID }
        let commands = nodes.map { [Array("HGETALL".utf8), keys.node($0)] }
        let replies = commands.isEmpty ? [] : try await onReader { () throws(RedisFailure) -> [RESP] in try c.pipeline(commands) }
        var snapshot: [String: [EDNValue: ClusterPresence]] = [:]
        var bad = 0
        for (node, r) in zip(nodes, replies) {
            let fields = r.array ?? []
            var i = 0
            var uids: [EDNValue: ClusterPresence] = [:]
            while i + 1 < fields.count {
                defer { i += 2 }
                guard let text = fields[i].bytes, let flags = fields[i + 1].text, let p = ClusterPresence(flags: flags),
                      let uid = try? EDNReader.read(text) else { bad += 1; continue }
                if p.isConnected { uids[uid] = p }
            }
            if !uids.isEmpty { snapshot[node] = uids }
        }
        if bad > 0 { await deliver(.refused(.clusterBadMessage, "\(bad) membership entr(ies) in Redis are not readable: skipped")) }
        await deliver(.snapshot(snapshot))
    }

    /// One stream entry.
    func handle(_ id: [UInt8], _ raw: [RESP], _ sequences: inout [String: UInt64]) async {
        var fields: [String: [UInt8]] = [:]
        var i = 0
        while i + 1 < raw.count {
            if let k = raw[i].text, let v = raw[i + 1].bytes { fields[k] = v }
            i += 2
        }
        let entry = String(decoding: id, as: UTF8.self)
        func bad(_ why: String) async {
            await deliver(.refused(.clusterBadMessage, "stream entry \(entry) skipped: \(why)"))
        }
        guard let nb = fields["n"], let kind = fields["k"].map({ String(decoding: $0, as: UTF8.self) }) else {
            return await bad("not a chsk node's message (no n/k fields)")
        }
        let node = String(decoding: nb, as: UTF8.self)
        if node == nodeID { return }
        func read(_ key: String) -> EDNValue? {
            guard let bytes = fields[key], bytes.count <= options.maxMessageBytes else { return nil }
            return try? EDNReader.read(bytes)
        }
        switch kind {
        case "presence":
            guard let uid = read("u"), let p = fields["p"].flatMap({ ClusterPresence(flags: String(decoding: $0, as: UTF8.self)) }) else {
                return await bad("unreadable membership from \(node)")
            }
            await deliver(.presence(node: node, uid: uid, p))
        case "gone":
            sequences = sequences.filter { !$0.key.hasPrefix(node + "/") }
            await deliver(.nodeGone(node))
        case "push", "broadcast", "close":
            guard let inc = fields["i"].map({ String(decoding: $0, as: UTF8.self) }),
                  let seq = fields["s"].flatMap({ UInt64(String(decoding: $0, as: UTF8.self)) }) else {
                return await bad("a \(kind) from \(node) without its sequence")
            }
            let key = node + "/" + inc
            if let last = sequences[key], seq <= last { return }   // a re-send after a broken link
            sequences[key] = seq
            let flush = fields["f"] == [0x31]
            let message: ClusterMessage
            switch kind {
            case "push":
                guard let uid = read("u") else { return await bad("unreadable push from \(node)") }
                // Most pushes are for uids of other nodes: skip those before reading the event
                // (this node's membership is what its server announced, grace periods included).
                // (The nil-uid keywords stand for users without a uid: the server resolves them.)
                let nilUID = uid == .keyword(Reserved.allUsersWithoutUID) || uid == .keyword(Reserved.nilUIDv1) || uid == .keyword(Reserved.nilUIDv2)
                if !nilUID && !state.withLock({ $0.membership[uid] != nil }) { return }
                guard let event = read("e") else { return await bad("unreadable push from \(node) (or over \(options.maxMessageBytes) bytes)") }
                message = .push(uid: uid, event: event, flush: flush)
            case "broadcast":
                guard let event = read("e") else { return await bad("unreadable broadcast from \(node) (or over \(options.maxMessageBytes) bytes)") }
                message = .broadcast(event: event, flush: flush)
            default:
                guard let uid = read("u") else { return await bad("unreadable close from \(node)") }
                message = .close(uid: uid)
            }
            await deliver(.message(message, from: node))
        default:
            await bad("unknown kind '\(kind.prefix(40))' from \(node)")
        }
    }
}
