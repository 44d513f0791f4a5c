import ArgumentParser
import ChannelSocket
import EDN
import Synchronization
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// `chsk connect URL`: an interactive REPL to a Sente endpoint.
struct ConnectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Interactive REPL to a Sente server: send events, make requests, watch pushes.",
        discussion: """
            Type an event to send it; prefix ? to wait for the reply, ? :timeout SECONDS to \
            wait longer or shorter than --timeout:
              [:my-app/hello {:x 1}]
              ? [:my-app/req {:q 1}]
              ? :timeout 2.5 [:my-app/req {:q 1}]

            Commands: state, reconnect, disconnect, help, quit (also with a leading /).

            Pushed events and [:chsk/state …] changes print above the line being typed. On a \
            terminal it uses GNU readline (history in ~/.chsk_history_connect, Tab completes \
            commands and event ids seen so far); from a pipe it reads one line at a time and \
            prints plainly, so it scripts. It waits (at most --connect-timeout s) for the \
            connection to open before reading the first line, and exits 3/4/5 as chsk send does \
            when it cannot. Ctrl-C clears the line being typed, Ctrl-D (or quit) leaves; the \
            history is saved as each line is entered.

            Example:
              chsk connect http://127.0.0.1:8090/chsk --uid alice
            """
    )

    @OptionGroup var connection: ClientConnectionOptions

    @Option(help: "Default request timeout in seconds.")
    var timeout: Double = 8

    func validate() throws { try checkSeconds(timeout, "--timeout") }

    @Flag(help: "Print incoming events and replies as JSON (what JSON loses is named, as by chsk convert).")
    var json = false

    @Flag(help: "Print incoming events and replies as indented JSON (implies --json).")
    var pretty = false

    func run() async throws {
        let client = try connection.makeClient()
        let seenIDs = SeenIDs()
        let commands = ["state", "reconnect", "disconnect", "help", "quit", "?", ":timeout"]
        let editor = LineEditor(prompt: "chsk> ", historyFile: historyPath("connect"), words: {
            commands + seenIDs.ids.withLock { Array($0) }.map { "[:" + $0 }
        })
        let json = self.json || self.pretty, pretty = self.pretty
        let events = client.events, changes = client.stateChanges
        let eventPrinter = Task {
            for await event in events {
                seenIDs.ids.withLock { _ = $0.insert(event.id.text) }
                editor.print("← \(render(event.value, json: json, pretty: pretty, warn: { editor.print("chsk: " + $0) }))")
            }
        }
        let statePrinter = Task {
            for await change in changes {
                let keys = change.changedKeys.map { ":" + $0.text }.joined(separator: " ")
                editor.print(Terminal.dim("state: \(change.new.isOpen ? "open" : "closed") \(change.new.type) (\(keys))"))
            }
        }
        if let failure = await openOrFail(client, timeout: connection.connectTimeout) {
            editor.shutdown()
            eventPrinter.cancel()
            statePrinter.cancel()
            throw failure.code
        }
        // Ctrl-C clears the line being typed (as bash and psql do); from a pipe it quits.
        let interrupts = Task {
            for await _ in await UnixSignalsSequence(trapping: .sigint) {
                if editor.isInteractive { editor.interrupt() } else { editor.finishInput() }
            }
        }
        defer { interrupts.cancel() }
        for await raw in editor.lines {
            let line = String(raw.drop { $0 == " " || $0 == "\t" })
            if line.isEmpty { continue }
            if await !handle(line, client: client, editor: editor, seenIDs: seenIDs) { break }
        }
        editor.shutdown()
        await client.disconnect()
        await client.finish()
        eventPrinter.cancel()
        statePrinter.cancel()
    }

    /// One REPL line; false means quit.
    func handle(_ line: String, client: ChannelSocketClient, editor: LineEditor, seenIDs: SeenIDs) async -> Bool {
        var command = line
        if command.hasPrefix("/") { command.removeFirst() }
        switch command {
        case "quit", "exit", ":quit":
            return false
        case "help":
            editor.print(wrapText(Self.configuration.discussion, width: Terminal.columns))
            return true
        case "state":
            editor.print(EDNPrinter.pretty(await client.currentState.value))
            return true
        case "reconnect":
            await client.reconnect()
            return true
        case "disconnect":
            await client.disconnect()
            return true
        default:
            break
        }
        do {
            if line.hasPrefix("?") {
                var rest = String(line.dropFirst().drop { $0 == " " })
                var seconds = timeout
                if rest.hasPrefix(":timeout") {
                    let (_, after) = splitWord(rest)
                    let (text, eventText) = splitWord(after)
                    guard let value = Double(text), (try? checkSeconds(value, ":timeout")) != nil else {
                        editor.print("usage: ? :timeout SECONDS EVENT (seconds above 0, at most \(maxCommandLineSeconds))")
                        return true
                    }
                    seconds = value
                    rest = eventText
                }
                let event = try parseEvent(rest)
                seenIDs.ids.withLock { _ = $0.insert(event.id.text) }
                let start = ContinuousClock.now
                do {
                    let reply = try await client.request(event, timeout: .milliseconds(Int64(seconds * 1000)))
                    let ms = (ContinuousClock.now - start).milliseconds
                    editor.print("⇐ \(render(reply, json: json || pretty, pretty: pretty, warn: { editor.print("chsk: " + $0) }))  (\(ms) ms)")
                } catch {
                    editor.print("✗ \(error)")
                }
            } else {
                let event = try parseEvent(line)
                seenIDs.ids.withLock { _ = $0.insert(event.id.text) }
                do {
                    try await client.send(event, timeout: .milliseconds(Int64(connection.connectTimeout * 1000)))
                    editor.print("→ \(event)")
                } catch {
                    editor.print("✗ \(error)")
                }
            }
        } catch let error as EDNReadError {
            editor.print("bad EDN: \(error)")
        } catch {
            editor.print("\(error)")
        }
        return true
    }
}

/// Event ids seen so far (for Tab completion).
final class SeenIDs: Sendable {
    let ids = Mutex<Set<String>>([])
}
