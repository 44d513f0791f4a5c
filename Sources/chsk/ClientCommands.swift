import ArgumentParser
import ChannelSocket
import ChannelSocketClientNIO
import EDN
import Logging
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// Exit codes of the client commands (documented in `chsk help send`).
enum ClientExit: Int32 {
    case ok = 0
    case failure = 1
    case connectionFailed = 3
    case rejected = 4
    case timeout = 5
    case closed = 6
    case badData = 65

    var code: ExitCode { ExitCode(rawValue) }
}

/// Options shared by `connect`, `send`, `await` and `watch`.
/// `--cacert` and `--insecure`, shared by every command that connects as a client.
struct ClientTLSOptions: ParsableArguments {
    @Option(name: .customLong("cacert"), help: ArgumentHelp("PEM file of the CA (or self-signed) certificate(s) to trust for wss:// and https://.",
                                                            valueName: "file"), completion: .file())
    var caCertificate: String?

    @Flag(help: "Do not check the server's TLS certificate (wss://, https://): encrypted, not authenticated.")
    var insecure = false

    /// The TLS settings of `--cacert` and `--insecure`.
    var tls: ClientTLS { ClientTLS(caCertificatePath: caCertificate, insecure: insecure) }

    func validate() throws {
        if let caCertificate { try checkReadableFile(caCertificate, "--cacert") }
    }
}

struct ClientConnectionOptions: ParsableArguments {
    @Argument(help: "Server URL, e.g. http://127.0.0.1:8090/chsk (ws:// and wss:// work too).")
    var url: String

    @Option(help: "Transport: auto (WebSocket, Ajax fallback), ws or ajax.")
    var type: ClientType = .auto

    @Option(help: "Payload format (the server's): edn, transit-json or transit-json-verbose.")
    var packer: SentePacker = .edn

    @Option(name: .customLong("protocol"), help: "Wire generation: auto (from the handshake), v1 (Sente <= 1.16) or v2 (1.18+).")
    var protocolGeneration: ProtocolOption = .auto

    @Option(name: .customLong("csrf-token"), help: "CSRF token (param csrf-token and X-CSRF-Token header).")
    var csrfToken: String?

    @Option(name: .customLong("param"), help: "Extra query parameter k=v (repeatable).")
    var params: [String] = []

    @Option(name: .customLong("header"), help: "Extra header k:v (repeatable).")
    var headers: [String] = []

    @Option(name: .customLong("client-id"), help: "Client id (default: a random UUID).")
    var clientID: String?

    @Option(help: "User id, sent as the uid parameter (what chsk serve reads).")
    var uid: String?

    @Option(name: .customLong("connect-timeout"), help: "Seconds to wait for the connection to open.")
    var connectTimeout: Double = 10

    func validate() throws {
        if let problem = ClientURL.problem(url) { throw ValidationError(problem) }
        try checkSeconds(connectTimeout, "--connect-timeout")
        for p in params where !p.contains("=") { throw ValidationError("--param wants k=v, got \(p)") }
        for h in headers where !h.contains(":") { throw ValidationError("--header wants k:v, got \(h)") }
        for c in cookies where !c.contains("=") { throw ValidationError("--cookie wants name=value, got \(c)") }
    }

    @Option(name: .customLong("cookie"), help: "Cookie name=value sent with every request (repeatable), e.g. a Ring session.")
    var cookies: [String] = []

    @OptionGroup var tlsOptions: ClientTLSOptions

    /// The TLS settings of `--cacert` and `--insecure`.
    var tls: ClientTLS { tlsOptions.tls }

    func makeClient() throws -> ChannelSocketClient {
        var paramMap: [String: String] = [:]
        for p in params {
            let (k, v) = p.split(separator: "=", maxSplits: 1).map(String.init).pair
            paramMap[k] = v
        }
        if let uid { paramMap["uid"] = uid }
        var headerMap: [String: String] = [:]
        for h in headers {
            let (k, v) = h.split(separator: ":", maxSplits: 1).map(String.init).pair
            headerMap[k] = String(v.drop { $0 == " " })
        }
        if !cookies.isEmpty {
            headerMap["Cookie"] = ([headerMap["Cookie"]].compactMap { $0 } + cookies).joined(separator: "; ")
        }
        let options = ChannelSocketClientOptions(type: type, protocolGeneration: protocolGeneration,
                                                 clientID: clientID ?? EDNUUID.random().description, csrfToken: csrfToken,
                                                 params: paramMap, headers: headerMap, packer: try packer.name.makePacker(), tls: tls)
        // What the client drops (a server message over its size limit) is said on stderr.
        let warnings = Logger(label: "chsk") { label in StderrLogHandler(logLevel: .warning, label: label) }
        return ChannelSocketClient(url: url, options: options, transport: NIOClientTransport(warnings: warnings))
    }
}

extension Array where Element == String {
    var pair: (String, String) { (self.first ?? "", self.count > 1 ? self[1] : "") }
}

/// The payload formats a Sente server can carry (`--packer` of the client commands).
enum SentePacker: String, ExpressibleByArgument, CaseIterable {
    case edn
    case transitJSON = "transit-json"
    case transitJSONVerbose = "transit-json-verbose"

    var name: PackerName { PackerName(rawValue: rawValue) ?? .edn }
}

extension ClientType: ExpressibleByArgument {}
extension ProtocolOption: ExpressibleByArgument {}

/// Starts the client and waits until it is open; on failure prints why (one line: the address
/// and the cause) and returns the exit code.
func openOrFail(_ client: ChannelSocketClient, timeout: Double) async -> ClientExit? {
    await client.start()
    do {
        try await client.waitUntilOpen(timeout: .milliseconds(Int64(timeout * 1000)), failFast: true)
        return nil
    } catch {
        await client.disconnect()
        let address = ClientURL.address(of: client.url)
        switch error {
        case .rejected(let status, let message):
            printError("rejected by the server at \(address): HTTP \(status) \(message)")
            return .rejected
        case .incompatible(let why):
            let hint = SentePacker.allCases.first { why.contains("speaks \($0.rawValue),") }
            printError("cannot talk to \(address): \(why)" + (hint.map { "; try --packer \($0.rawValue)" } ?? "; try another --packer"))
            return .connectionFailed
        case .unreachable(let failure):
            var line = failure.message.hasPrefix("cannot connect") ? failure.message : "cannot connect to \(address): \(failure.message)"
            if line.contains("TLS certificate is not trusted") {
                line += "; trust it with --cacert FILE, or skip the check with --insecure"
            } else if line.contains("TLS certificate is not for") {
                line += "; skip the check with --insecure"
            }
            printError(line)
            return .connectionFailed
        case .timeout:
            printError("timed out after \(timeout) s waiting for \(address) to open the connection")
            return .timeout
        case .stopped:
            printError("cannot connect to \(address): stopped")
            return .connectionFailed
        }
    }
}

/// The exit code for a failed send or request.
func clientExit(_ error: RequestError) -> ClientExit {
    switch error {
    case .timeout: .timeout
    case .closed, .notOpen: .closed
    case .error: .failure
    }
}

/// Prints a value as EDN or JSON (one line, or indented with `pretty`). JSON follows the
/// lossy-JSON policy (`reportJSONLosses`: each kind lost named once per run through `warn`);
/// a value with no JSON form (`##NaN`) is printed as EDN, and `warn` says so. With
/// `warnLosses` false (chsk's own records, such as `watch`'s state maps, whose JSON form is
/// documented) what JSON loses is not named.
func render(_ value: EDNValue, json: Bool, pretty: Bool = false, warnLosses: Bool = true,
            warn: (String) -> Void = { printError($0) }) -> String {
    if json || pretty {
        var out: [UInt8] = []
        do {
            try JSONBridge.write(value, into: &out)
            if warnLosses { reportJSONLosses(value, warn: warn) }
            let text = String(decoding: out, as: UTF8.self)
            return pretty ? indentJSON(text) : text
        } catch {
            warn("warning: \(error.message); printed as EDN")
        }
    }
    return EDNPrinter.string(value)
}

/// Indents compact JSON two spaces per level (strings left as they are).
func indentJSON(_ json: String) -> String {
    var out = ""
    var depth = 0
    var inString = false, escaped = false
    let chars = Array(json)
    for (i, c) in chars.enumerated() {
        if inString {
            out.append(c)
            if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
            continue
        }
        switch c {
        case "\"":
            inString = true
            out.append(c)
        case "{", "[":
            out.append(c)
            if i + 1 < chars.count, chars[i + 1] == "}" || chars[i + 1] == "]" { depth += 1; continue }
            depth += 1
            out += "\n" + String(repeating: "  ", count: depth)
        case "}", "]":
            depth -= 1
            if i > 0, chars[i - 1] == "{" || chars[i - 1] == "[" { out.append(c); continue }
            out += "\n" + String(repeating: "  ", count: depth) + String(c)
        case ",":
            out += ",\n" + String(repeating: "  ", count: depth)
        case ":":
            out += ": "
        default:
            out.append(c)
        }
    }
    return out
}

/// Lines of stdin as they arrive, read on a thread of their own (a blocking read must not
/// hold one of the few cooperative threads).
final class StdinLines: Sendable {
    let lines: AsyncStream<String>

    init() {
        let (stream, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .unbounded)
        lines = stream
        let box = Unmanaged.passRetained(ContinuationBox(continuation)).toOpaque()
        var tid = pthread_t()
        let created = pthread_create(&tid, nil, { raw in
            guard let raw else { return nil }
            let box = Unmanaged<ContinuationBox>.fromOpaque(raw).takeRetainedValue()
            readLines(fd: 0) { box.continuation.yield($0) }
            box.continuation.finish()
            return nil
        }, box)
        if created == 0 { pthread_detach(tid) } else { continuation.finish() }
    }

    final class ContinuationBox: Sendable {
        let continuation: AsyncStream<String>.Continuation
        init(_ continuation: AsyncStream<String>.Continuation) { self.continuation = continuation }
    }
}

extension String {
    /// Without leading and trailing white space.
    var trimmingWhitespace: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}

/// `chsk send URL EVENT`.
struct SendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send one event to a Sente server; with --reply, wait for and print the reply.",
        discussion: """
            Exit codes: 0 sent (and replied), 1 other error, 3 cannot connect (refused, \
            unreachable, TLS certificate not trusted or not for this host), 4 rejected by the server (HTTP 4xx, e.g. 403 bad CSRF token), \
            5 timeout (no connection or no reply in time), 6 connection closed while waiting, \
            64 usage error, 65 the event is not valid EDN or not an event.

            Examples:
              chsk send http://127.0.0.1:8090/chsk '[:my-app/hello {:x 1}]' --uid alice
              chsk send http://127.0.0.1:8090/chsk '[:my-app/req 1]' --reply --timeout 3
              printf '[:my/a 1]\\n[:my/b 2]\\n' | chsk send http://127.0.0.1:8090/chsk -
              chsk send wss://127.0.0.1:8443/chsk '[:my/req 1]' --reply --cacert cert.pem

            Without --reply it exits once the server has read the event (WebSocket: after the \
            close handshake; Ajax: the POST answered). With EVENT `-`, events are read from \
            stdin, one per line, and sent over one connection in order (with --reply, one reply \
            per line, in the same order); a bad line stops it with exit 65.
            """
    )

    @OptionGroup var connection: ClientConnectionOptions

    @Argument(help: "The event, as EDN: [:ns/id data]; - reads events from stdin, one per line.")
    var event: String

    @Flag(help: "Ask for a reply and print it.")
    var reply = false

    @Option(help: "Seconds to wait for the reply.")
    var timeout: Double = 8

    func validate() throws { try checkSeconds(timeout, "--timeout") }

    @Flag(help: "Print the reply as JSON (what JSON loses is named on stderr, as by chsk convert).")
    var json = false

    @Flag(help: "Print the reply as indented JSON (implies --json).")
    var pretty = false

    func run() async throws {
        if event == "-" { return try await runLines() }
        let ev: Event
        do { ev = try parseEvent(event) } catch {
            printError("bad event: \(error)")
            throw ClientExit.badData.code
        }
        let client = try connection.makeClient()
        if let failure = await openOrFail(client, timeout: connection.connectTimeout) { throw failure.code }
        if let failure = await sendOne(ev, client: client) {
            await client.disconnect()
            throw failure.code
        }
        await client.disconnect()
    }

    /// Sends one event (and prints its reply); on failure prints why and returns the exit code.
    func sendOne(_ ev: Event, client: ChannelSocketClient) async -> ClientExit? {
        do {
            if reply {
                let value = try await client.request(ev, timeout: .milliseconds(Int64(timeout * 1000)))
                writeAll(1, Array((render(value, json: json || pretty, pretty: pretty) + "\n").utf8))
            } else {
                try await client.send(ev, timeout: .milliseconds(Int64(connection.connectTimeout * 1000)))
            }
            return nil
        } catch {
            printError("\(error)")
            return clientExit(error)
        }
    }

    /// `chsk send URL -`: one connection, one event per stdin line, in order.
    func runLines() async throws {
        let client = try connection.makeClient()
        if let failure = await openOrFail(client, timeout: connection.connectTimeout) { throw failure.code }
        let input = StdinLines()
        var lineNumber = 0
        var failure: ClientExit?
        for await raw in input.lines {
            lineNumber += 1
            let line = raw.trimmingWhitespace
            if line.isEmpty { continue }
            let ev: Event
            do { ev = try parseEvent(line) } catch {
                printError("bad event on line \(lineNumber): \(error)")
                failure = .badData
                break
            }
            if let f = await sendOne(ev, client: client) {
                failure = f
                break
            }
        }
        await client.disconnect()
        if let failure { throw failure.code }
    }
}

/// `chsk await URL`.
struct AwaitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "await",
        abstract: "Wait for events pushed by a Sente server and print them, one per line.",
        discussion: """
            Exits 0 once --count matching events arrived, 5 when --timeout passes first, \
            3/4 when it cannot connect or is rejected (see chsk help send).

            Example:
              chsk await http://127.0.0.1:8090/chsk --uid alice --event my/alert --count 2
            """
    )

    @OptionGroup var connection: ClientConnectionOptions

    @Option(name: .customLong("event"), help: "Event id to wait for (repeatable; default any).")
    var eventIDs: [String] = []

    @Option(help: "How many matching events to wait for.")
    var count = 1

    @Option(help: "Seconds to wait in all.")
    var timeout: Double = 30

    func validate() throws {
        try checkSeconds(timeout, "--timeout")
        if count < 1 { throw ValidationError("--count must be at least 1") }
    }

    @Flag(help: "Print events as JSON (what JSON loses is named on stderr, as by chsk convert).")
    var json = false

    @Flag(help: "Print events as indented JSON (implies --json).")
    var pretty = false

    func run() async throws {
        let client = try connection.makeClient()
        let wanted = Set(eventIDs.map { Keyword($0.hasPrefix(":") ? String($0.dropFirst()) : $0) })
        let events = client.events
        if let failure = await openOrFail(client, timeout: connection.connectTimeout) { throw failure.code }
        let limit = Duration.milliseconds(Int64(timeout * 1000))
        let count = self.count, json = self.json || self.pretty, pretty = self.pretty
        let arrived = Counter()
        let got: Int = await withTaskGroup(of: Int.self) { group in
            group.addTask {
                for await event in events {
                    if event.id == Reserved.handshake || event.id == Reserved.wsPing || event.id == Reserved.recv && event.data == [.keyword(Reserved.wsPing)] { continue }
                    let inner = event.id == Reserved.recv ? (event.data.flatMap { Event(validating: $0) } ?? event) : event
                    if !wanted.isEmpty && !wanted.contains(inner.id) { continue }
                    writeAll(1, Array((render(inner.value, json: json, pretty: pretty) + "\n").utf8))
                    arrived.add()
                    if arrived.value >= count { break }
                }
                return arrived.value
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                return arrived.value
            }
            let first = await group.next() ?? arrived.value
            group.cancelAll()
            return first
        }
        await client.disconnect()
        if got < count {
            printError("timed out after \(timeout) s: \(got) of \(count) event(s) arrived")
            throw ClientExit.timeout.code
        }
    }
}

/// `chsk watch URL`.
struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Print every state transition of a client as it happens (keeps reconnecting).",
        discussion: """
            One line per transition: time, open?/type before → after, and the keys that changed. \
            --json prints {"time":"2026-12-05T12:00:01.123Z" (UTC), "old":{…}, "new":{…}, "changed":[…]} lines (--pretty: indented). \
            Stop with Ctrl-C.

            Example:
              chsk watch http://127.0.0.1:8090/chsk --uid alice
            """
    )

    @OptionGroup var connection: ClientConnectionOptions

    @Flag(help: "JSON lines for machines.")
    var json = false

    @Flag(help: "Indented JSON, one object per transition (implies --json).")
    var pretty = false

    @Option(help: "Stop after this many seconds (default: run until interrupted).")
    var seconds: Double?

    func validate() throws { if let seconds { try checkSeconds(seconds, "--seconds") } }

    func run() async throws {
        let client = try connection.makeClient()
        let changes = client.stateChanges
        let json = self.json || self.pretty, pretty = self.pretty
        await client.start()
        let printer = Task {
            for await change in changes {
                let changed = change.changedKeys.map { ":" + $0.text }
                if json {
                    var m = EDNMap()
                    m[.kw("time")] = .string(Terminal.isoTimestamp())
                    m[.kw("old")] = change.old.value
                    m[.kw("new")] = change.new.value
                    m[.kw("changed")] = .vector(change.changedKeys.map { .string($0.text) })
                    writeAll(1, Array((render(.map(m), json: true, pretty: pretty, warnLosses: false) + "\n").utf8))
                } else {
                    func summary(_ s: ClientState) -> String { "\(s.isOpen ? "open" : "closed") \(s.type)" }
                    var line = "\(Terminal.timestamp())  \(summary(change.old)) → \(summary(change.new))  changed: \(changed.joined(separator: " "))"
                    if let reason = change.new.lastClose?[.kw("reason")], changed.contains(":last-close") { line += "  (\(reason))" }
                    if let uid = change.new.uid, changed.contains(":uid") { line += "  uid \(uid)" }
                    writeAll(1, Array((line + "\n").utf8))
                }
            }
        }
        if let seconds {
            try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
        } else {
            await waitForInterrupt()
        }
        await client.disconnect()
        await client.finish()
        _ = await printer.value
    }
}

/// Suspends until SIGINT or SIGTERM.
func waitForInterrupt() async {
    for await _ in await UnixSignalsSequence(trapping: .sigint, .sigterm) { break }
}

/// A file given on the command line: it exists and can be read.
func checkReadableFile(_ path: String, _ option: String) throws {
    if access(path, F_OK) != 0 { throw ValidationError("\(option): no such file: \(path)") }
    if access(path, R_OK) != 0 { throw ValidationError("\(option): cannot read \(path): permission denied") }
}

/// The longest wait the command line takes: a year (a longer one is no timeout at all, and
/// overflows a `Duration`).
let maxCommandLineSeconds = 31_536_000

/// A number of seconds given on the command line: finite, above zero, at most a year.
func checkSeconds(_ value: Double, _ option: String) throws {
    guard value.isFinite, value > 0, value <= Double(maxCommandLineSeconds) else {
        throw ValidationError("\(option) must be seconds above 0 and at most \(maxCommandLineSeconds) (a year), got \(value)")
    }
}
