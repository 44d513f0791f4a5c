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
        var command: any ParsableCommand
        do { command = try parseAsRoot() } catch { exit(withError: error) }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ValidationError {
            exitWithUsage(error.message, for: type(of: command))
        } catch {
            // Exit codes, help requests and other errors as ArgumentParser shows them.
            exit(withError: error)
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
