import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `chsk`: Sente channel sockets from the terminal.
@main
struct Chsk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chsk",
        abstract: "Sente channel sockets (WebSocket + Ajax long-poll) and EDN/Transit from the terminal.",
        discussion: """
            chsk speaks the wire protocol of Sente (Clojure/ClojureScript realtime channel \
            sockets), both generations: v1 framing (Sente <= 1.16) and v2 framing (1.18+).
            """,
        version: "0.1.0",
        subcommands: [ServeCommand.self, ConnectCommand.self, SendCommand.self, AwaitCommand.self, WatchCommand.self,
                      BenchCommand.self, ConvertCommand.self, PackCommand.self, UnpackCommand.self]
    )

    /// Parses the command line and runs the command. Unlike ArgumentParser's own `main()`, a
    /// usage error thrown by `run()` (after parsing) shows the subcommand's usage line, as one
    /// thrown by `validate()` does, not the top-level `Usage: chsk <subcommand>`.
    static func main() async {
        // `chsk pack` in a pipe, without ArgumentParser (see `PackJob.simple`).
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "pack", let job = PackJob.simple(arguments.dropFirst()) {
            do { try job.run() } catch { fail(error, command: PackCommand.self) }
            return
        }
        var command: any ParsableCommand
        if let codec = parseCodecCommand() {
            command = codec
        } else {
            do { command = try parseAsRoot() } catch { exit(withError: error) }
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            fail(error, command: type(of: command))
        }
    }

    /// Exits as ArgumentParser would for `error`, with the subcommand's usage for a usage error.
    static func fail(_ error: any Error, command: any ParsableCommand.Type) -> Never {
        if let error = error as? ValidationError { exitWithUsage(error.message, for: command) }
        // Exit codes, help requests and other errors as ArgumentParser shows them.
        exit(withError: error)
    }

    /// `pack`, `unpack` and `convert` (pipe stages, where start-up time counts) parsed by their
    /// own command instead of the whole tree: ArgumentParser's root parse first builds the
    /// arguments of every subcommand (`serve`'s forty options included) to look for a
    /// completion-script request, a quarter of `chsk pack`'s start-up
    /// (`Benchmarks/STARTUP.md`). `nil` for anything else — help, version, generated docs,
    /// or arguments that do not parse or validate — which goes the full way, so its output
    /// (usage errors included) is the root parse's.
    static func parseCodecCommand(_ arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> (any ParsableCommand)? {
        guard let name = arguments.first else { return nil }
        let rest = Array(arguments.dropFirst())
        if rest.contains(where: { $0 == "-h" || $0 == "--help" || $0 == "help" || $0 == "--version"
                                  || $0.hasPrefix("--experimental") || $0.hasPrefix("--generate-") }) {
            return nil
        }
        switch name {
        case "pack": return try? PackCommand.parse(rest)
        case "unpack": return try? UnpackCommand.parse(rest)
        case "convert": return try? ConvertCommand.parse(rest)
        default: return nil
        }
    }

    /// Prints `Error: message`, the usage of `subcommand` and where to find its help, as
    /// ArgumentParser does for a `validate()` error, and exits 64.
    static func exitWithUsage(_ message: String, for subcommand: any ParsableCommand.Type) -> Never {
        writeAll(2, Array(usageErrorText(message, for: subcommand).utf8))
        Glibc.exit(ExitCode.validationFailure.rawValue)
    }

    /// The text of `exitWithUsage(_:for:)`.
    static func usageErrorText(_ message: String, for subcommand: any ParsableCommand.Type) -> String {
        let usage = usageString(for: subcommand).split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated().map { $0.offset == 0 ? String($0.element) : "       " + $0.element }.joined(separator: "\n")
        let name = subcommand.configuration.commandName ?? "\(subcommand)"
        let path = subcommand == Chsk.self ? "chsk" : "chsk \(name)"
        return "Error: \(message)\nUsage: \(usage)\n  See '\(path) --help' for more information.\n"
    }
}
