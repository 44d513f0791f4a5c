import ArgumentParser
import ChannelSocket
import ChannelSocketHummingbird
import ChannelSocketRedis
import EDN
import Hummingbird
import HummingbirdWebSocket
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// `chsk serve`: a Sente channel-socket server for development and testing.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a Sente channel-socket server (WebSocket + Ajax long-poll) with a command prompt.",
        discussion: """
            Speaks the real Sente wire protocol of both generations (--wire auto serves v1 and v2 \
            clients side by side). Type commands at the prompt (readline on a terminal, plain \
            lines from a pipe): push UID EVENT, broadcast EVENT, uids, clients, help, quit. \
            Logs one line per connection, handshake, event and close on stderr. SIGINT/SIGTERM \
            shut down gracefully: held polls are answered and WebSockets closed with 1001.

            With --echo it runs the reference echo app of the Sente conformance recordings: every \
            event with a callback is answered with {:echo <event> :uid <uid> :client-id <id>}, \
            [:test/echo-push X] pushes [:test/echo X] to the sender's uid, [:test/push {:uid U \
            :event EV}] pushes EV to U, and GET /push?uid=U&ev=<edn>, GET /connected and GET /csrf \
            are served (and GET /broadcast?ev=<edn>, for chsk bench fanout). They let anyone who \
            reaches the port push to any uid, so they need the CSRF token when --csrf-token is set \
            (not /csrf), refuse cross-site browser requests unless --allowed-origin allows them, and \
            refuse Sente's own :chsk/* events; keep --echo on a loopback --host.

            With --metrics, GET /metrics serves Prometheus metrics: connections by transport and \
            generation, events and bytes in and out, pushes, batch sizes, held polls, refusals by \
            reason, WebSocket queue bytes, event-loop stalls and push delivery latency.

            Examples:
              chsk serve --echo --csrf-token secret
              chsk serve --port 0 --wire v1 --static ./public
            """
    )

    @Option(help: "Address to bind.")
    var host = "127.0.0.1"

    @Option(help: "Port (0 picks a free one and prints it).")
    var port = 8090

    @Option(help: "Channel socket path.")
    var path = "/chsk"

    @Option(help: "Payload format (Sente's packers; transit-msgpack is not one).")
    var packer: SentePacker = .edn

    @Option(help: "Wire generation: auto (v1 and v2 side by side), v1 (Sente <= 1.16) or v2 (1.18+).")
    var wire: WireOption = .auto

    @Option(name: .customLong("csrf-token"), help: "Require this CSRF token (param csrf-token or X-CSRF-Token header); no check when absent.")
    var csrfToken: String?

    @Option(name: .customLong("allowed-origin"), help: "Allowed Origin (repeatable); all when absent.")
    var allowedOrigins: [String] = []

    @Option(name: .customLong("uid-param"), help: "Request parameter holding the user id (default: uid).")
    var uidParam: String?

    @Option(name: .customLong("uid-header"), help: "Take the user id from this header instead of a parameter.")
    var uidHeader: String?

    @Option(name: .customLong("uid-cookie"), help: "Take the user id from this cookie instead of a parameter.")
    var uidCookie: String?

    @Option(name: .customLong("static"), help: "Serve this folder's files on the same origin.", completion: .directory)
    var staticDirectory: String?

    @Flag(help: "Run the reference echo app (see above).")
    var echo = false

    @Option(name: .customLong("redis"), help: ArgumentHelp("Join a cluster of chsk serve nodes over this Redis (redis://[[user]:password@]host[:port][/db] or unix:///path): push, broadcast, [:chsk/close] and connected uids span every node.", valueName: "url"))
    var redis: String?

    @Option(name: .customLong("node-id"), help: "This node's id in the cluster (with --redis; default: host name, process id and a random part).")
    var nodeID: String?

    @Option(name: .customLong("cluster-name"), help: "Nodes with the same --redis and cluster name form one cluster.")
    var clusterName = "chsk"

    @Option(name: .customLong("cluster-heartbeat-ms"), help: "How often a node renews its heartbeat in Redis and sweeps expired nodes.")
    var clusterHeartbeatMs = 3000

    @Option(name: .customLong("cluster-ttl-ms"), help: "A node silent this long leaves the cluster (its uids close on a surviving node at its next heartbeat).")
    var clusterTTLMs = 10_000

    @Flag(help: "Serve Prometheus metrics (connections, events, bytes, pushes, held polls, refusals by reason, queue bytes, event-loop stalls, push latency) at GET --metrics-path.")
    var metrics = false

    @Option(name: .customLong("metrics-path"), help: "Path of the metrics endpoint (with --metrics).")
    var metricsPath = "/metrics"

    @Flag(name: .customLong("no-websocket"), help: "Refuse WebSocket upgrades (Ajax only; auto clients fall back).")
    var noWebSocket = false

    @Option(name: .customLong("ws-kalive-ms"), help: "Server keep-alive window (halved for v2 clients, as Sente does).")
    var wsKeepAliveMs = 25_000

    @Option(name: .customLong("ws-ping-timeout-ms"), help: "Close a v2 client that does not answer a ping within this.")
    var wsPingTimeoutMs = 10_000

    @Option(name: .customLong("lp-timeout-ms"), help: "Long-poll hold time (< 60000).")
    var lpTimeoutMs = 20_000

    @Option(name: .customLong("send-buf-ms-ws"), help: "Push batching window for WebSocket clients.")
    var sendBufMsWS = 30

    @Option(name: .customLong("send-buf-ms-ajax"), help: "Push batching window for Ajax clients.")
    var sendBufMsAjax = 100

    @Option(name: .customLong("max-message-bytes"), help: "Largest inbound message (WS close 1009 / HTTP 413 beyond).")
    var maxMessageBytes = 1 << 20

    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain for HTTPS/WSS (with --tls-key).", completion: .file())
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "PEM private key for HTTPS/WSS.", completion: .file())
    var tlsKey: String?

    @Option(name: .customLong("max-push-bytes"), help: "Largest push frame or Ajax answer; batches are split to fit, a larger single event is refused (default: --max-message-bytes).")
    var maxPushBytes: Int?

    @Option(name: .customLong("max-ajax-pending-bytes"), help: "Pushes waiting for one Ajax client between polls; past it the client is dropped and resyncs.")
    var maxAjaxPendingBytes = 4 << 20

    @Option(name: .customLong("header-timeout"), help: "Seconds a client has to send its first request head (408 and close after).")
    var headerTimeout = 10.0

    @Option(name: .customLong("body-timeout"), help: "Seconds a request body may take after its head (408 and close after).")
    var bodyTimeout = 30.0

    @Option(name: .customLong("idle-timeout"), help: "Seconds a keep-alive HTTP connection may sit idle (a held poll is not idle).")
    var idleTimeout = 60.0

    @Option(name: .customLong("max-header-bytes"), help: "Largest request head in bytes (431 beyond; one line at most half of it).")
    var maxHeaderBytes = 32 << 10

    @Option(name: .customLong("max-queued-bytes"), help: "Bytes that may wait for a WebSocket client that does not read; closed beyond.")
    var maxQueuedBytes = 4 << 20

    @Option(name: .customLong("write-stall-timeout"), help: "Seconds a WebSocket client may read nothing while data waits for it (closed 1008 after).")
    var writeStallTimeout = 10.0

    @Option(name: .customLong("shutdown-timeout"), help: "Seconds a graceful shutdown waits for connections before dropping them; a second signal exits at once.")
    var shutdownTimeout = 5.0

    @Option(name: .customLong("log-level"), help: "debug (every event), info, warning.")
    var logLevel: LogLevelOption = .info

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        let uidSources = [uidParam.map { _ in "--uid-param" }, uidHeader.map { _ in "--uid-header" }, uidCookie.map { _ in "--uid-cookie" }]
            .compactMap { $0 }
        if uidSources.count > 1 { throw ValidationError("\(uidSources.joined(separator: " and ")): give one user id source") }
        if !(0...65_535).contains(port) { throw ValidationError("--port must be 0…65535") }
        for (name, value) in [("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout), ("--idle-timeout", idleTimeout),
                              ("--write-stall-timeout", writeStallTimeout), ("--shutdown-timeout", shutdownTimeout)] {
            guard value.isFinite, value > 0, value <= 86_400 else { throw ValidationError("\(name) must be a number of seconds above 0 and at most 86400") }
        }
        if maxHeaderBytes < 1024 { throw ValidationError("--max-header-bytes must be at least 1024") }
        if maxQueuedBytes < 1 << 16 { throw ValidationError("--max-queued-bytes must be at least 65536") }
        if redis == nil && nodeID != nil { throw ValidationError("--node-id needs --redis") }
        if let redis {
            do { _ = try RedisEndpoint(url: redis) } catch { throw ValidationError(error.description) }
            do { try clusterOptions.validate() } catch { throw ValidationError(error.description) }
        }
        if let tlsCert { try checkReadableFile(tlsCert, "--tls-cert") }
        if let tlsKey { try checkReadableFile(tlsKey, "--tls-key") }
        if let staticDirectory {
            var info = stat()
            guard stat(staticDirectory, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
                throw ValidationError("--static: no such folder: \(staticDirectory)")
            }
        }
        _ = try engineOptions()
    }

    /// An engine options error in the words of the command line: Sente's option names become
    /// this command's options (`lp-timeout-ms must be …` → `--lp-timeout-ms must be …`).
    static func withOptionNames(_ message: String) -> String {
        let names = [("max-outbound-message-bytes", "--max-push-bytes"), ("max-pending-bytes-per-ajax-client", "--max-ajax-pending-bytes"),
                     ("send buffer windows", "--send-buf-ms-ws and --send-buf-ms-ajax"), ("lp-timeout-ms", "--lp-timeout-ms"),
                     ("ws-kalive-ms", "--ws-kalive-ms"), ("ws-ping-timeout-ms", "--ws-ping-timeout-ms"), ("max-message-bytes", "--max-message-bytes")]
        for (engine, cli) in names where message.hasPrefix(engine + " ") { return cli + message.dropFirst(engine.count) }
        return message
    }

    /// The adapter's bounds from the command line.
    var limits: HTTPLimits {
        HTTPLimits(requestHeadTimeout: .seconds(headerTimeout), requestBodyTimeout: .seconds(bodyTimeout),
                   idleTimeout: .seconds(idleTimeout), maxHeaderFieldSize: max(maxHeaderBytes / 2, 512),
                   maxHeaderListSize: maxHeaderBytes, maxQueuedBytesPerWebSocket: maxQueuedBytes,
                   writeStallTimeout: .seconds(writeStallTimeout), shutdownTimeout: .seconds(shutdownTimeout))
    }

    /// The Redis broker's options from the command line.
    var clusterOptions: RedisBroker.Options {
        var o = RedisBroker.Options()
        o.clusterName = clusterName
        o.heartbeat = .milliseconds(clusterHeartbeatMs)
        o.nodeTTL = .milliseconds(clusterTTLMs)
        return o
    }

    /// Where the user id comes from: `--uid-header`, `--uid-cookie` or `--uid-param` (one of
    /// them, checked by `validate()`), by default the parameter `uid`.
    var uidSource: UserIDSource {
        if let uidHeader { return .header(uidHeader) }
        if let uidCookie { return .cookie(uidCookie) }
        return .param(uidParam ?? "uid")
    }

    /// The engine's options from the command line (Sente's limits checked by `validate()`,
    /// so a bad value gets this subcommand's usage line, not the top-level one).
    func engineOptions() throws -> ChannelSocketServerOptions {
        var options = ChannelSocketServerOptions(
            userID: uidSource.userID,
            csrf: csrfToken.map(CSRFCheck.token) ?? .disabled,
            allowedOrigins: allowedOrigins.isEmpty ? nil : Set(allowedOrigins),
            wire: wire,
            packer: try packer.name.makePacker(),
            wsKeepAlive: .milliseconds(wsKeepAliveMs),
            wsPingTimeout: .milliseconds(wsPingTimeoutMs),
            longPollTimeout: .milliseconds(lpTimeoutMs),
            sendBufferWS: .milliseconds(sendBufMsWS),
            sendBufferAjax: .milliseconds(sendBufMsAjax),
            maxMessageBytes: maxMessageBytes)
        options.allowWebSocket = !noWebSocket
        options.maxOutboundMessageBytes = maxPushBytes
        options.maxPendingBytesPerAjaxClient = maxAjaxPendingBytes
        do { try options.validate() } catch { throw ValidationError(Self.withOptionNames(error.description)) }
        return options
    }

    func run() async throws {
        var logger = Logger(label: "chsk") { label in StderrLogHandler(logLevel: .info, label: label) }
        logger.logLevel = logLevel.level
        var options = try engineOptions()
        if echo { options.handshakeData = EchoApp.handshakeData(serverName: "chsk/hummingbird") }
        let metricsRegistry = metrics ? PrometheusCollectorRegistry() : nil
        if let metricsRegistry {
            var factory = PrometheusMetricsFactory(registry: metricsRegistry)
            factory.valueHistogramBuckets["chsk_push_batch_events"] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]
            factory.durationHistogramBuckets["chsk_event_loop_stall_seconds"] =
                [1, 5, 10, 25, 50, 100, 250, 500, 1000, 5000].map { Duration.milliseconds($0) }
            options.metricsFactory = factory
        }
        var broker: RedisBroker?
        if let redis {
            do { broker = try await RedisBroker(url: redis, nodeID: nodeID, options: clusterOptions) } catch {
                printError(error.description)
                throw ExitCode(cannotListenExitCode)
            }
        }
        let server: ChannelSocketServer
        do { server = try ChannelSocketServer(options: options, logger: logger, cluster: broker) } catch {
            throw ValidationError(error.description)
        }
        // Hummingbird's and ServiceLifecycle's own lifecycle lines ("Server started and
        // listening on …", "Starting service", twice: its service group and ours) repeat ours:
        // their entries below warning are dropped, at every --log-level (the adapter's own
        // debug lines stay).
        let level = logLevel.level
        var httpLogger = Logger(label: "chsk") { label in
            StderrLogHandler(logLevel: .info, label: label, quietSources: ["Hummingbird", "HummingbirdCore", "ServiceLifecycle"])
        }
        httpLogger.logLevel = level
        let application = ChannelSocketApplication(
            server: server,
            configuration: .init(host: host, port: port, path: path, staticDirectory: staticDirectory,
                                 tls: tlsCert.flatMap { cert in tlsKey.map { (cert, $0) } }, limits: limits),
            logger: httpLogger)
        let csrf = csrfToken
        let scheme = tlsCert == nil ? "http" : "https"
        let host = self.host, path = self.path, echo = self.echo, metricsPath = self.metricsPath
        let log = logger
        let cluster = broker.map { ", cluster \($0.options.clusterName) node \($0.nodeID)" } ?? ""
        let summary = "wire \(options.wire.rawValue), packer \(options.packer.name)\(echo ? ", echo app" : "")\(cluster)"
        if echo && !isLoopback(host) {
            log.warning("""
                --echo on \(host), which is not a loopback address: anyone who can reach this port can push \
                events to any uid (GET /push, /broadcast, [:test/push …]), list connected uids (GET /connected) \
                and read the CSRF token (GET /csrf)\(csrf == nil ? ", and no --csrf-token is set" : ""). The echo app is \
                a test fixture: bind it to 127.0.0.1, or set --csrf-token and --allowed-origin.
                """)
        }
        // Prompt commands wait until the server listens, so that with `--port 0` the port is
        // the first line of stdout even when commands are piped in.
        let (listening, listeningSink) = AsyncStream.makeStream(of: Void.self)
        // A certificate or key that does not load is a usage error (the files exist: validate()).
        let tlsFiles = "--tls-cert \(tlsCert ?? ""), --tls-key \(tlsKey ?? "")"
        let app = try usageErrorIfThrows({ "\(tlsFiles): cannot load a PEM certificate chain and private key (\($0))" }) { try application.build(extraRoutes: { router in
            if let metricsRegistry { addMetricsRoute(router, path: metricsPath, server: server, registry: metricsRegistry) }
            if echo { addEchoRoutes(router, server: server, csrfToken: csrf) }
        }, onServerRunning: { port in
            log.info("listening on \(scheme)://\(host):\(port)\(path) (\(summary))")
            if isatty(1) == 0 { writeAll(1, Array("\(port)\n".utf8)) }
            listeningSink.yield()
            listeningSink.finish()
        }) }
        var groupConfiguration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: httpLogger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(shutdownTimeout) + .milliseconds(500)
        let group = ServiceGroup(configuration: groupConfiguration)
        let shutdownTimeout = self.shutdownTimeout
        // The first SIGINT/SIGTERM starts the graceful shutdown (ServiceGroup); a second one
        // exits at once; and whatever happens, the process ends shortly after the timeout.
        let signals = Task {
            var count = 0
            for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                count += 1
                if count == 1 {
                    log.info("\(signal): shutting down (up to \(shutdownTimeout) s; again to exit now)")
                    Task.detached {
                        try? await Task.sleep(for: .seconds(shutdownTimeout) + .seconds(1))
                        log.warning("shutdown did not finish within \(shutdownTimeout) s; exiting")
                        Glibc.exit(1)
                    }
                } else {
                    log.warning("\(signal) again: exiting now")
                    Glibc.exit(signal == .sigint ? 130 : 143)
                }
            }
        }
        let editor = LineEditor(prompt: "chsk> ", historyFile: historyPath("serve"), words: {
            ["push", "broadcast", "uids", "clients", "help", "quit"]
        })
        if editor.isInteractive { logEditor.withLock { $0 = editor } }
        let consumer = Task {
            if echo {
                // Inline: replies leave from the event loop that read the request.
                await EchoApp(server: server).runInline()
            } else {
                for await message in server.events where message.wantsReply {
                    logger.debug("no handler for \(message.id); the client's callback will time out")
                }
            }
        }
        let prompt = Task {
            for await _ in listening { break }
            if Task.isCancelled { return }
            for await line in editor.lines {
                if await handleCommand(line, server: server, editor: editor) == false {
                    await group.triggerGracefulShutdown()   // `quit`
                    return
                }
            }
            // End of input: Ctrl-D on a terminal quits; a script's stdin ending (or /dev/null)
            // leaves the server running until SIGINT/SIGTERM.
            if editor.isInteractive {
                editor.print("end of input (Ctrl-D): shutting down")
                await group.triggerGracefulShutdown()
            }
        }
        do { try await group.run() } catch {
            guard let line = listenFailure(error, host: host, port: port) else { throw error }
            printError(line)
            throw ExitCode(cannotListenExitCode)
        }
        log.debug("stopped")
        signals.cancel()
        logEditor.withLock { $0 = nil }
        prompt.cancel()
        consumer.cancel()
        editor.shutdown()
    }

    /// Runs one prompt command; false means quit.
    func handleCommand(_ raw: String, server: ChannelSocketServer, editor: LineEditor) async -> Bool {
        let line = String(raw.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
        guard !line.isEmpty else { return true }
        let (command, rest) = splitWord(line)
        do {
            switch command {
            case "quit", "exit":
                editor.print("shutting down")
                return false
            case "help", "?":
                editor.print("""
                    push UID EVENT     push an event to every client of UID (e.g. push alice [:my/ev {:a 1}])
                    broadcast EVENT    push an event to every connected uid
                    uids               connected-uids {:ws #{…} :ajax #{…} :any #{…}}
                    clients            every client: uid, client-id, transport
                    quit               shut down gracefully
                    """)
            case "push":
                let (uidText, eventText) = splitWord(rest)
                guard !uidText.isEmpty, !eventText.isEmpty else { editor.print("usage: push UID EVENT"); return true }
                let uid = parseUID(uidText)
                let event = try parseEvent(eventText)
                let reached = try await server.send(event, to: uid, flush: true)
                var report = "pushed \(event) to \(EDNPrinter.string(uid)): \(clientCount(reached))\(clusterReach(uid, server: server))"
                if reached == 0, server.clusterNodes(with: uid) == 0, let hint = await similarUID(uid, server: server) { report += "; \(hint)" }
                editor.print(report)
            case "broadcast":
                let event = try parseEvent(rest)
                let uids = try await server.broadcast(event, flush: true)
                editor.print("broadcast \(event) to \(uids) uid(s)")
            case "uids":
                editor.print(await server.connectedUIDs.description)
            case "clients":
                let clients = await server.clients()
                if clients.isEmpty { editor.print("no clients") }
                for c in clients { editor.print("\(EDNPrinter.string(c.uid))  \(c.clientID)  \(c.transport)") }
            default:
                editor.print("unknown command \(command); type help")
            }
        } catch let error as EDNReadError {
            editor.print("bad EDN: \(error)")
        } catch {
            editor.print("error: \(error)")
        }
        return true
    }
}

/// The result of `body`; an error it throws becomes a usage error (`ValidationError`) with
/// the message `describe` makes of it.
func usageErrorIfThrows<T>(_ describe: (any Error) -> String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch { throw ValidationError(describe(error)) }
}

/// True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost).
func isLoopback(_ host: String) -> Bool {
    host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
}

/// `auto`/`v1`/`v2` as an argument.
extension WireOption: ExpressibleByArgument {}

/// `--log-level`.
enum LogLevelOption: String, ExpressibleByArgument, CaseIterable {
    case debug, info, warning
    var level: Logger.Level {
        switch self {
        case .debug: .debug
        case .info: .info
        case .warning: .warning
        }
    }
}

func splitWord(_ s: some StringProtocol) -> (String, String) {
    let trimmed = s.drop { $0 == " " || $0 == "\t" }
    guard let space = trimmed.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return (String(trimmed), "") }
    return (String(trimmed[..<space]), String(trimmed[space...].drop { $0 == " " || $0 == "\t" }))
}

/// A uid typed at a prompt: EDN when it looks like EDN (`"a b"`, `:kw`, `42`), else a string.
func parseUID(_ text: String) -> EDNValue {
    if let first = text.first, first == "\"" || first == ":" || first.isNumber, let v = try? EDNReader.read(text) { return v }
    return .string(text)
}

/// When nobody has `uid` but a client's uid is the same text as another EDN type (the
/// integer `42` and the string `"42"`, `:alice` and `"alice"`), a hint naming it.
func similarUID(_ uid: EDNValue, server: ChannelSocketServer) async -> String? {
    func text(_ v: EDNValue) -> String {
        switch v {
        case .string(let s): s
        case .keyword(let k): k.text
        case .symbol(let s): s.text
        default: EDNPrinter.string(v)
        }
    }
    let wanted = text(uid)
    guard let other = await server.clients().first(where: { $0.uid != uid && text($0.uid) == wanted })?.uid else { return nil }
    return "a client has uid \(EDNPrinter.string(other)) (\(other.kindName), not \(uid.kindName)): push \(EDNPrinter.string(other)) …"
}

/// An event typed at a prompt; typed errors for bad EDN and for non-events.
func parseEvent(_ text: String) throws -> Event {
    let value = try EDNReader.read(text)
    guard let event = Event(validating: value) else {
        throw ValidationError("not an event: \(value) (an event is [:ns/id] or [:ns/id data])")
    }
    return event
}

/// `~/.chsk_history_<name>` (nil without HOME).
func historyPath(_ name: String) -> String? {
    guard let home = getenv("HOME") else { return nil }
    return String(cString: home) + "/.chsk_history_" + name
}

/// The echo app's HTTP endpoints of the recordings: /push, /connected, /csrf (and /broadcast).
/// They act for whoever calls them, so they are guarded like the socket and more
/// (`ChannelSocketServer.checkAppRoute`): the CSRF token when one is set (not for /csrf), and
/// no cross-site browser request unless its origin is allowed. `:chsk/*` events are refused.
func addEchoRoutes(_ router: Router<BasicWebSocketRequestContext>, server: ChannelSocketServer, csrfToken: String?) {
    /// The route's checks; a response when the request is refused.
    @Sendable func refusal(_ request: Request, requireCSRF: Bool = true) -> Response? {
        let connection = ChannelSocketRoutes.connectionRequest(request, webSocket: false)
        return server.checkAppRoute(connection, requireCSRF: requireCSRF).map { textResponse($0.status, String(decoding: $0.body, as: UTF8.self)) }
    }
    /// The event of `ev`, or the response refusing it (bad EDN, no event, a `:chsk/*` event).
    @Sendable func event(_ text: String, route: String) -> EventOrRefusal {
        let event: Event
        do { event = try parseEvent(text) } catch { return .failure(textResponse(400, "bad event: \(error)")) }
        if event.isReserved {
            server.log(.warning, "GET /\(route): refused to push \(event.id) (Sente's own events are not pushed from outside)")
            server.countRefusal(.reservedEvent)
            return .failure(textResponse(403, "refused: \(event.id) is one of Sente's own events; they are not pushed from outside"))
        }
        return .success(event)
    }
    router.get("push") { request, _ -> Response in
        if let refused = refusal(request) { return refused }
        let q = FormDecoding.decode(request.uri.query ?? "")
        guard let uid = q["uid"], let ev = q["ev"] else { return textResponse(400, "usage: /push?uid=U&ev=<edn event>") }
        switch event(ev, route: "push") {
        case .failure(let response): return response
        case .success(let event):
            do {
                let reached = try await server.send(event, to: .string(uid))
                return textResponse(200, "pushed \(event) to \(EDNPrinter.string(.string(uid))): \(clientCount(reached))\(clusterReach(.string(uid), server: server))")
            } catch {
                return textResponse(400, "refused: \(error)")
            }
        }
    }
    // Beyond the reference app: one server-side broadcast, for `chsk bench fanout`.
    router.get("broadcast") { request, _ -> Response in
        if let refused = refusal(request) { return refused }
        let q = FormDecoding.decode(request.uri.query ?? "")
        guard let ev = q["ev"] else { return textResponse(400, "usage: /broadcast?ev=<edn event>") }
        switch event(ev, route: "broadcast") {
        case .failure(let response): return response
        case .success(let event):
            do {
                let uids = try await server.broadcast(event)
                return textResponse(200, "broadcast \(event) to \(uids) uid(s)")
            } catch {
                return textResponse(400, "refused: \(error)")
            }
        }
    }
    // Beyond the reference app: one push per connected uid (cluster-wide on a node of a
    // cluster), for `chsk bench fanout --per-uid`: the per-uid path, where /broadcast is one
    // message for all.
    router.get("push-each") { request, _ -> Response in
        if let refused = refusal(request) { return refused }
        let q = FormDecoding.decode(request.uri.query ?? "")
        guard let ev = q["ev"] else { return textResponse(400, "usage: /push-each?ev=<edn event>") }
        switch event(ev, route: "push-each") {
        case .failure(let response): return response
        case .success(let event):
            var pushed = 0
            for uid in await server.connectedUIDs.any {
                do { try await server.send(event, to: uid) } catch { return textResponse(400, "refused after \(pushed) push(es): \(error)") }
                pushed += 1
            }
            return textResponse(200, "pushed \(event) to each of \(pushed) uid(s)")
        }
    }
    router.get("connected") { request, _ -> Response in
        if let refused = refusal(request) { return refused }
        var r = textResponse(200, await server.connectedUIDs.description)
        r.headers[.contentType] = "application/edn"
        return r
    }
    router.get("csrf") { request, _ -> Response in
        if let refused = refusal(request, requireCSRF: false) { return refused }
        return textResponse(200, csrfToken ?? "")
    }
}

/// `GET <path>`: the server's metrics in Prometheus' text format, gauges sampled just before.
/// No CSRF token (scrapers send none), but no cross-site browser request either.
func addMetricsRoute(_ router: Router<BasicWebSocketRequestContext>, path: String, server: ChannelSocketServer,
                     registry: PrometheusCollectorRegistry) {
    router.get(RouterPath(path)) { request, _ -> Response in
        let connection = ChannelSocketRoutes.connectionRequest(request, webSocket: false)
        if let refused = server.checkAppRoute(connection, requireCSRF: false) {
            return textResponse(refused.status, String(decoding: refused.body, as: UTF8.self))
        }
        await server.sampleGauges()
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
}

/// A route's event, or the response refusing it.
enum EventOrRefusal {
    case success(Event)
    case failure(Response)
}

/// "1 client", "3 clients", "no client".
func clientCount(_ n: Int) -> String {
    n == 0 ? "no client" : n == 1 ? "1 client" : "\(n) clients"
}

/// On a node of a cluster, where else the push went: " here, and 2 other node(s)".
func clusterReach(_ uid: EDNValue, server: ChannelSocketServer) -> String {
    guard server.clusterNodeID != nil else { return "" }
    let nodes = server.clusterNodes(with: uid)
    return " here" + (nodes == 0 ? "; no other node has it" : ", and its clients on \(nodes) other node(s)")
}

func textResponse(_ status: Int, _ text: String) -> Response {
    var headers = HTTPFields()
    headers[.contentType] = "text/plain; charset=utf-8"
    return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
}
