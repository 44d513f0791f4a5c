import ArgumentParser
import ChannelSocket
import ChannelSocketClientNIO
import EDN
import Histogram
import NIOCore
import NIOPosix
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `chsk bench`: a load generator that speaks the real Sente protocol, like `wrk` for channel
/// sockets. Loopback/test servers only; bounded in connections and time.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Load-test a Sente server: idle connections, request/reply, push fan-out, Ajax.",
        discussion: """
            Modes:
              conns   open --connections idle clients, hold --duration s, then check
                      each still answers
              echo    clients do request/reply round trips ([:bench/echo …] with a
                      callback) for --duration s, back to back or at --rate total
                      requests/s (latency measured from the scheduled send time,
                      so a stalled server shows up)
              fanout  clients spread over --uids uids; every 0.5 s one server-side
                      broadcast (the echo app's GET /broadcast) pushes to all of
                      them; end-to-end delivery latency
              ajax    fanout over long-polling clients (--type ajax)
              burst   open --connections clients, then every one sends one request
                      at the same instant; counts answered, explicitly refused
                      (:chsk/closed, :chsk/error: a visible error) and unanswered
                      (:chsk/timeout after --duration s: lost)

            The server needs the echo app (chsk serve --echo) for echo, fanout and ajax. A run \
            that measured nothing (no client opened, no round trip answered, nothing delivered) \
            says why and exits 1 (3 when no client could connect) within --duration plus a few \
            seconds. With --server-pid, server CPU time and RSS are read from /proc and \
            per-CPU-second figures are printed. Latencies come from an HdrHistogram \
            (p50/p99/p99.9/max).

            The text output lists what was set up, what was measured, the latencies, the \
            server's figures, then the wall time, one per line, names and numbers aligned; \
            --json prints the same figures as one JSON object.

            Example:
              chsk bench http://127.0.0.1:8090/chsk echo --connections 100 --duration 10
            """
    )

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case conns, echo, fanout, ajax, burst
    }

    enum ClientKind: String, ExpressibleByArgument, CaseIterable {
        case full, lean
    }

    @Argument(help: "Server URL (loopback).")
    var url: String

    @Argument(help: "conns, echo, fanout, ajax or burst.")
    var mode: Mode

    @Option(help: "Number of clients (at most 19000).")
    var connections = 100

    @Option(help: "Seconds to run (to hold, for conns; the reply timeout, for burst).")
    var duration: Double = 10

    @Option(help: "Total requests per second for echo (default: back to back).")
    var rate: Double?

    @Option(help: "Number of uids for fanout/ajax (and conns, where clients share them in turn).")
    var uids = 10

    @Option(name: .customLong("uid-prefix"), help: "For conns: the uids are this prefix and a number (distinct prefixes give several benches distinct uids).")
    var uidPrefix = "idle-"

    @Option(help: "The server's channel socket path (to find /broadcast beside it).")
    var path = "/chsk"

    @Option(help: ArgumentHelp("For fanout/ajax: the server whose /broadcast (or /push-each) makes the pushes (another node of a cluster), or none: only receive, another bench triggers.", valueName: "url|none"))
    var trigger: String?

    @Option(name: .customLong("interval-ms"), help: "For fanout/ajax: pause between two rounds of pushes (0: back to back, to find the rate a server sustains).")
    var intervalMs = 500

    @Flag(name: .customLong("per-uid"), help: "For fanout/ajax: one push per connected uid (GET /push-each) instead of one broadcast.")
    var perUID = false

    @Option(help: "Transport: ws or ajax.")
    var type: ClientType = .ws

    @Option(name: .customLong("protocol"), help: "Wire generation: auto, v1 or v2.")
    var protocolGeneration: ProtocolOption = .auto

    @Option(name: .customLong("csrf-token"), help: "CSRF token.")
    var csrfToken: String?

    @Option(name: .customLong("server-pid"), help: "The server's PID, for CPU and RSS figures.")
    var serverPID: Int32?

    @Option(help: ArgumentHelp("Clients for fanout and ajax: full or lean.", discussion: """
        full: chsk's client library (ChannelSocketClient), as an app uses it. lean: a minimal v2 \
        receiver on NIO (for fanout over ws: upgrade, handshake, pushes, pong; for ajax: one \
        keep-alive connection polling again as each answer comes), far cheaper, so that on a \
        machine shared with the server the generator is not what is measured.
        """))
    var client: ClientKind = .full

    @Flag(help: "Print the result as JSON.")
    var json = false

    @Flag(help: "Print the result as indented JSON (implies --json).")
    var pretty = false

    @OptionGroup var tlsOptions: ClientTLSOptions

    /// The TLS settings of `--cacert` and `--insecure`.
    var tls: ClientTLS { tlsOptions.tls }

    func validate() throws {
        if let problem = ClientURL.problem(url) { throw ValidationError(problem) }
        guard (1...19_000).contains(connections) else { throw ValidationError("--connections must be 1…19000") }
        guard duration > 0 && duration <= 600 else { throw ValidationError("--duration must be 0…600 s") }
        if uids < 1 { throw ValidationError("--uids must be at least 1") }
        if !(0...60_000).contains(intervalMs) { throw ValidationError("--interval-ms must be 0…60000") }
        if let rate, !(rate.isFinite && rate > 0 && rate <= 10_000_000) {
            throw ValidationError("--rate must be above 0 and at most 10000000 round trips per second, got \(rate)")
        }
        guard Self.isLoopback(url) else {
            throw ValidationError("chsk bench only targets loopback servers (127.0.0.0/8, localhost, [::1])")
        }
        if let trigger, trigger != "none" {
            guard Self.isLoopback(trigger) else {
                throw ValidationError("--trigger must be a loopback server root (http://127.0.0.1:PORT) or none")
            }
        }
        if client == .lean && (!(mode == .fanout && type == .ws || mode == .ajax) || protocolGeneration == .v1) {
            throw ValidationError("--client lean is for fanout over ws and for ajax, with the v2 protocol")
        }
        if client == .lean, (try? ClientURL(url))?.secure == true {
            throw ValidationError("--client lean speaks plain ws:// and http:// only; use --client full for wss:// and https://")
        }
    }

    /// True for URLs of loopback servers only (127.0.0.0/8, localhost, [::1]): the bench and
    /// its --trigger never send load anywhere else.
    static func isLoopback(_ url: String) -> Bool {
        url.contains("://127.") || url.contains("://localhost") || url.contains("://[::1]")
    }

    func makeClient(_ index: Int, uid: String, type: ClientType) -> ChannelSocketClient {
        ChannelSocketClient(url: url, options: .init(type: type, protocolGeneration: protocolGeneration,
                                                     clientID: "bench-\(Self.run)-\(index)", csrfToken: csrfToken, params: ["uid": uid],
                                                     backoff: Backoff(cap: .seconds(2), floor: .milliseconds(100)),
                                                     tls: tls),
                            transport: NIOClientTransport())
    }

    /// Opens the clients in waves; stops (and says why on stderr) after a wave where none opened.
    func openAll(_ clients: [ChannelSocketClient], limit: Duration) async -> Int {
        // Open in waves so the server's accept queue is not flooded.
        let wave = 200
        var opened = 0
        for start in stride(from: 0, to: clients.count, by: wave) {
            let slice = clients[start..<min(start + wave, clients.count)]
            for c in slice { await c.start() }
            let deadline = ContinuousClock.now + limit
            var openedHere = 0
            for c in slice {
                // The first client tells whether the server is there at all (fail fast).
                let left = max(deadline - ContinuousClock.now, .milliseconds(1))
                if (try? await c.waitUntilOpen(timeout: left, failFast: opened == 0 && openedHere == 0)) != nil { openedHere += 1 }
                if openedHere == 0 { break }
            }
            opened += openedHere
            if openedHere == 0 {
                let why = await clients[start].lastFailure.map { $0.message } ?? "no handshake within \(limit.seconds) s"
                printError("no client opened: \(why)")
                break
            }
        }
        return opened
    }

    /// The exit code of a run that measured nothing.
    static let nothingMeasured = ExitCode(1)

    func run() async throws {
        let before = serverPID.map(ProcStats.read)
        let start = ContinuousClock.now
        var result: [String: EDNValue] = ["mode": .string(mode.rawValue), "connections": .integer(Int64(connections))]
        switch mode {
        case .conns: try await runConns(&result)
        case .echo: try await runEcho(&result)
        case .fanout: try await runFanout(&result, type: type)
        case .ajax: try await runFanout(&result, type: .ajax)
        case .burst: try await runBurst(&result)
        }
        let elapsed = (ContinuousClock.now - start).seconds
        let measured = result["operations"]?.int64Value ?? 0
        if let before, let pid = serverPID {
            let after = ProcStats.read(pid)
            let cpu = after.cpuSeconds - before.cpuSeconds
            result["server-cpu-seconds"] = .double(cpu)
            result["server-rss-kb-before"] = .integer(Int64(before.rssKB))
            result["server-rss-kb-after"] = .integer(Int64(after.rssKB))
            if let ops = result["operations"]?.int64Value, cpu > 0 { result["operations-per-server-cpu-second"] = .double(Double(ops) / cpu) }
        }
        result["wall-seconds"] = .double(elapsed)
        var m = EDNMap()
        for key in result.keys.sorted() { m[.string(key)] = result[key]! }
        if json || pretty {
            writeAll(1, Array((render(.map(m), json: true, pretty: pretty) + "\n").utf8))
        } else {
            writeAll(1, Array(Self.text(result).utf8))
        }
        if measured == 0 {
            let opened = result["opened"]?.int64Value
            if opened == 0 {
                printError("bench measured nothing: no client opened")
                throw ClientExit.connectionFailed.code
            }
            let hint = mode == .conns || mode == .burst ? "" : " (does the server run the echo app? chsk serve --echo)"
            printError("bench measured nothing: 0 operations\(hint)")
            throw Self.nothingMeasured
        }
    }

    /// The order of the text output: what was set up, what was measured, the latencies, the
    /// server's figures, the wall time (other keys after, sorted).
    static let textOrder = [
        "mode", "connections", "opened", "uids",
        "held-and-answering", "rounds", "deliveries-expected", "deliveries", "broadcast-failures",
        "answered", "refused-with-error", "unanswered", "wrong-replies",
        "operations", "errors", "round-trips-per-second",
        "latency-ms-p50", "latency-ms-p99", "latency-ms-p99.9", "latency-ms-max",
        "server-cpu-seconds", "operations-per-server-cpu-second",
        "server-rss-kb-before", "server-rss-kb-after", "server-rss-kb-per-connection",
        "wall-seconds",
    ]

    /// The result as text: one `name  value` line per figure in `textOrder`, names padded to
    /// one column, values right-aligned (integers as they are, other numbers with two decimals).
    static func text(_ result: [String: EDNValue]) -> String {
        let known = textOrder.filter { result[$0] != nil }
        let keys = known + result.keys.filter { !textOrder.contains($0) }.sorted()
        let values = keys.map { key -> String in
            switch result[key]! {
            case .double(let d): formatFixed(d)
            case .string(let s): s
            case let v: EDNPrinter.string(v)
            }
        }
        let nameWidth = keys.map(\.count).max() ?? 0
        let valueWidth = values.map(\.count).max() ?? 0
        return zip(keys, values).map { key, value in
            key.padding(nameWidth) + "  " + String(repeating: " ", count: valueWidth - value.count) + value + "\n"
        }.joined()
    }

    // MARK: modes

    func runEcho(_ result: inout [String: EDNValue]) async throws {
        let clients = (0..<connections).map { makeClient($0, uid: "bench", type: type) }
        let opened = await openAll(clients, limit: .seconds(30))
        guard opened == clients.count else {
            for c in clients { await c.disconnect() }
            printError("only \(opened) of \(clients.count) clients opened")
            throw opened == 0 ? ClientExit.connectionFailed.code : Self.nothingMeasured
        }
        let histogram = SharedHistogram()
        let errors = Counter()
        let total = Counter()
        let connections = self.connections
        let stopAt = ContinuousClock.now + .milliseconds(Int64(duration * 1000))
        let interval: Duration? = rate.map { .nanoseconds(Int64(1e9 * Double(connections) / $0)) }
        await withTaskGroup(of: Void.self) { group in
            for (i, client) in clients.enumerated() {
                group.addTask {
                    var scheduled = ContinuousClock.now + (interval.map { $0 * Double(i) / Double(connections) } ?? .zero)
                    var n: Int64 = 0
                    while ContinuousClock.now < stopAt {
                        if interval != nil {
                            if ContinuousClock.now < scheduled { try? await Task.sleep(until: scheduled, clock: .continuous) }
                        } else {
                            scheduled = ContinuousClock.now
                        }
                        do {
                            // No request outlives the run by more than a second.
                            let left = min(.seconds(10), max(stopAt - ContinuousClock.now, .zero) + .seconds(1))
                            _ = try await client.request(Event("bench/echo", [.integer(Int64(i)), .integer(n)]), timeout: left)
                            histogram.record(ContinuousClock.now - scheduled)
                            total.add()
                        } catch {
                            errors.add()
                            // A closed client fails at once: pause so a dead server is no busy loop.
                            try? await Task.sleep(for: .milliseconds(20))
                        }
                        n += 1
                        if let interval { scheduled += interval }
                    }
                }
            }
        }
        for c in clients { await c.disconnect() }
        result["opened"] = .integer(Int64(opened))
        let count = total.value
        result["operations"] = .integer(Int64(count))
        result["errors"] = .integer(Int64(errors.value))
        result["round-trips-per-second"] = .double(Double(count) / duration)
        histogram.report(into: &result)
    }

    func runBurst(_ result: inout [String: EDNValue]) async throws {
        let clients = (0..<connections).map { makeClient($0, uid: "burst-\($0 % 100)", type: type) }
        let opened = await openAll(clients, limit: .seconds(60))
        let histogram = SharedHistogram()
        let answered = Counter(), refused = Counter(), unanswered = Counter(), wrong = Counter()
        let timeout = Duration.milliseconds(Int64(duration * 1000))
        // Every request task waits on its own stream; yielding to all of them releases the
        // burst at once.
        let burstStart = SharedInstant()
        await withTaskGroup(of: Void.self) { group in
            var gates: [AsyncStream<Void>.Continuation] = []
            for (i, client) in clients.enumerated() {
                let (wait, go) = AsyncStream.makeStream(of: Void.self)
                gates.append(go)
                group.addTask {
                    for await _ in wait { break }
                    do {
                        let reply = try await client.request(Event("bench/echo", [.integer(Int64(i))]), timeout: timeout)
                        // The echo app answers {:echo [ev-id ev-data] …}: check it is ours.
                        if case .vector(let echoed)? = reply[.keyword("echo")], echoed.last == [.integer(Int64(i))] {
                            answered.add()
                            histogram.record(ContinuousClock.now - burstStart.value)
                        } else {
                            wrong.add()
                        }
                    } catch RequestError.timeout {
                        unanswered.add()
                    } catch {
                        refused.add()
                    }
                }
            }
            burstStart.value = .now
            for go in gates { go.yield(); go.finish() }
        }
        for c in clients { await c.disconnect() }
        result["opened"] = .integer(Int64(opened))
        result["answered"] = .integer(Int64(answered.value))
        result["refused-with-error"] = .integer(Int64(refused.value))
        result["unanswered"] = .integer(Int64(unanswered.value))
        result["wrong-replies"] = .integer(Int64(wrong.value))
        result["operations"] = .integer(Int64(answered.value))
        histogram.report(into: &result)
    }

    func runConns(_ result: inout [String: EDNValue]) async throws {
        let before = serverPID.map(ProcStats.read)
        let clients = (0..<connections).map { makeClient($0, uid: "\(uidPrefix)\($0 % uids)", type: type) }
        let opened = await openAll(clients, limit: .seconds(30))
        try? await Task.sleep(for: .milliseconds(Int64(duration * 1000)))
        // Every client asks once, 1000 at a time with a 10 s timeout each: a check of the
        // connections, not a burst (many processes checking at once on a small machine would
        // otherwise time out requests that a held connection answers).
        var held = 0
        for start in stride(from: 0, to: opened == 0 ? 0 : clients.count, by: 1000) {
            held += await withTaskGroup(of: Bool.self) { group -> Int in
                for c in clients[start..<min(start + 1000, clients.count)] {
                    group.addTask { (try? await c.request(Event("bench/alive"), timeout: .seconds(10))) != nil }
                }
                var n = 0
                for await ok in group where ok { n += 1 }
                return n
            }
        }
        if let before, let pid = serverPID {
            let during = ProcStats.read(pid)
            result["server-rss-kb-per-connection"] = .double(Double(during.rssKB - before.rssKB) / Double(max(opened, 1)))
        }
        for c in clients { await c.disconnect() }
        result["opened"] = .integer(Int64(opened))
        result["held-and-answering"] = .integer(Int64(held))
        result["operations"] = .integer(Int64(held))
    }

    func runFanout(_ result: inout [String: EDNValue], type: ClientType) async throws {
        let m = max(1, min(uids, connections))
        let histogram = SharedHistogram()
        let received = Counter()
        let firstSent = Atomic<Int64>(.max), lastArrived = Atomic<Int64>(0)
        let record: @Sendable (EDNValue) -> Void = { value in
            guard let e = Event(validating: value), e.id == "bench/fan", case .vector(let v)? = e.data,
                  let sent = v.first?.int64Value else { return }
            let now = monotonicNanos()
            histogram.record(.nanoseconds(now - sent))
            received.add()
            _ = firstSent.min(sent, ordering: .relaxed)
            _ = lastArrived.max(now, ordering: .relaxed)
        }
        let opened: Int
        let closeAll: () async -> Void
        if client == .lean {
            let channels = await openLean(count: connections, uids: m, ajax: type == .ajax, onEvent: record)
            opened = channels.count
            closeAll = { for c in channels { try? await c.close() } }
        } else {
            let clients = (0..<connections).map { makeClient($0, uid: "fan-\($0 % m)", type: type) }
            let readers = clients.map { c in
                let events = c.events
                return Task { for await e in events { record(e.value) } }
            }
            opened = await openAll(clients, limit: .seconds(60))
            closeAll = {
                readers.forEach { $0.cancel() }
                for c in clients { await c.disconnect() }
            }
        }
        // One server-side broadcast per round (the echo app's GET /broadcast).
        var base = url
        if base.hasPrefix("ws://") { base = "http://" + base.dropFirst(5) }
        if base.hasPrefix("wss://") { base = "https://" + base.dropFirst(6) }
        var root = base.hasSuffix(path) ? String(base.dropLast(path.count)) : base
        if let trigger, trigger != "none" { root = trigger.hasSuffix("/") ? String(trigger.dropLast()) : trigger }
        let passive = trigger == "none"
        let route = perUID ? "/push-each" : "/broadcast"
        let transport = NIOClientTransport()
        // A client is open once its handshake came, but over Ajax (v2) the server counts it as
        // connected only from its next poll: wait (up to 10 s) until the server lists every
        // uid, so that the first broadcast can reach every client.
        let settled = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < settled {
            let listing = try? await transport.http(ClientHTTPRequest(method: "GET", url: root + "/connected", tls: tls), timeout: .seconds(5))
            guard let listing, listing.status == 200, case .map(let listed)? = try? EDNReader.read(listing.body),
                  case .set(let any)? = listed[.keyword(Keyword("any"))] else { break }   // a server that cannot tell
            if any.count >= min(m, opened) { break }
            try? await Task.sleep(for: .milliseconds(50))
        }
        let stopAt = ContinuousClock.now + .milliseconds(Int64(duration * 1000))
        var rounds = 0
        var triggerFailures = 0
        while ContinuousClock.now < stopAt {
            if passive {   // another bench triggers; this one counts what arrives
                try? await Task.sleep(for: .milliseconds(100))
                continue
            }
            let t = monotonicNanos()
            let ev = EDNPrinter.string([.kw("bench/fan"), [.integer(t), .integer(Int64(rounds))]])
            let request = ClientHTTPRequest(method: "GET", url: root + route + "?ev=" + FormDecoding.escape(ev), tls: tls)
            if let response = try? await transport.http(request, timeout: .seconds(10)), response.status == 200 { rounds += 1 } else { triggerFailures += 1 }
            if intervalMs > 0 { try? await Task.sleep(for: .milliseconds(intervalMs)) }
        }
        try? await Task.sleep(for: .seconds(type == .ajax ? 3 : 1))
        await closeAll()
        result["broadcast-failures"] = .integer(Int64(triggerFailures))
        let expected = passive ? 0 : rounds * opened
        result["opened"] = .integer(Int64(opened))
        result["uids"] = .integer(Int64(m))
        result["rounds"] = .integer(Int64(rounds))
        result["deliveries-expected"] = .integer(Int64(expected))
        result["deliveries"] = .integer(Int64(received.value))
        // From the first push sent to the last delivery here: deliveries per second this
        // receiver sustained (with a cluster, pushes made faster than nodes apply them queue).
        let span = lastArrived.load(ordering: .relaxed) - firstSent.load(ordering: .relaxed)
        if received.value > 0, span > 0 {
            result["delivery-span-seconds"] = .double(Double(span) / 1e9)
            result["deliveries-per-second"] = .double(Double(received.value) / (Double(span) / 1e9))
        }
        result["operations"] = .integer(Int64(received.value))
        histogram.report(into: &result)
    }
}

extension BenchCommand {
    /// This run's mark in every client id: a server still holds a client id for a while after
    /// its client left (Sente's grace periods) and hands what was buffered for it to whoever
    /// polls with that id next, so ids are never reused across runs against one server.
    static let run = String(UInt32.random(in: 0 ... .max), radix: 36)

    /// Opens `count` lean WebSocket or Ajax clients in waves (each done when its handshake came).
    func openLean(count: Int, uids: Int, ajax: Bool, onEvent: @escaping @Sendable (EDNValue) -> Void) async -> [any Channel] {
        guard let parsed = try? ClientURL(url) else { return [] }   // validate() checked it
        let host = parsed.host, port = parsed.port ?? (parsed.secure ? 443 : 80), path = parsed.target
        let group = MultiThreadedEventLoopGroup.singleton
        var channels: [any Channel] = []
        for start in stride(from: 0, to: count, by: 200) {
            let futures = (start..<min(start + 200, count)).map { i in
                var target = path + "?client-id=bench-\(Self.run)-\(i)&uid=fan-\(i % uids)"
                if ajax {
                    return LeanAjaxClient.connect(host: host, port: port, target: target, csrfToken: csrfToken, group: group, onEvent: onEvent)
                }
                if let csrfToken { target += "&csrf-token=" + FormDecoding.escape(csrfToken) }
                return LeanWebSocketClient.connect(host: host, port: port, target: target, group: group, onEvent: onEvent)
            }
            for f in futures { if let c = try? await f.get() { channels.append(c) } }
        }
        return channels
    }
}

/// An instant set once and read by many tasks.
final class SharedInstant: Sendable {
    private let stored = Mutex(ContinuousClock.now)
    var value: ContinuousClock.Instant {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}

/// A counter shared by many tasks.
final class Counter: Sendable {
    let count = Atomic<Int>(0)
    func add() { count.wrappingAdd(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// A latency histogram shared by many tasks (µs resolution, up to 60 s).
final class SharedHistogram: Sendable {
    let histogram = Mutex(Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three))

    func record(_ d: Duration) {
        let us = UInt64(max(1, d.components.seconds * 1_000_000 + d.components.attoseconds / 1_000_000_000_000))
        _ = histogram.withLock { $0.record(min(us, 60_000_000)) }
    }

    func report(into result: inout [String: EDNValue]) {
        let h = histogram.withLock { $0 }
        guard h.totalCount > 0 else { return }
        func ms(_ us: UInt64) -> EDNValue { .double(Double(us) / 1000) }
        result["latency-ms-p50"] = ms(h.valueAtPercentile(50))
        result["latency-ms-p99"] = ms(h.valueAtPercentile(99))
        result["latency-ms-p99.9"] = ms(h.valueAtPercentile(99.9))
        result["latency-ms-max"] = ms(h.max)
    }
}

/// CPU time and RSS of a process, from /proc.
struct ProcStats {
    var cpuSeconds: Double
    var rssKB: Int

    static func read(_ pid: Int32) -> ProcStats {
        func file(_ path: String) -> String {
            (try? String(decoding: readAllBytes(path: path), as: UTF8.self)) ?? ""
        }
        let stat = file("/proc/\(pid)/stat")
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let cpu = fields.count > 12 ? (Double(fields[11]) ?? 0) / ticks + (Double(fields[12]) ?? 0) / ticks : 0
        let status = file("/proc/\(pid)/status")
        let rss = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?
            .split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return ProcStats(cpuSeconds: cpu, rssKB: rss)
    }
}

/// Monotonic nanoseconds, the same in every task of this process.
func monotonicNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(0, width - count)) }
}

/// `d` with exactly two decimals (`12.5` → `12.50`), no exponent.
func formatFixed(_ d: Double) -> String {
    guard d.isFinite else { return EDNPrinter.string(.double(d)) }
    let hundredths = (abs(d) * 100).rounded()
    guard hundredths < 9e15 else { return EDNPrinter.string(.double(d)) }
    let n = Int64(hundredths)
    let fraction = n % 100
    return (d < 0 && n != 0 ? "-" : "") + "\(n / 100)." + (fraction < 10 ? "0" : "") + "\(fraction)"
}
