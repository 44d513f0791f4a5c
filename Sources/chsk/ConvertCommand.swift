import ArgumentParser
import ChannelSocket
import EDN
import Transit

/// The formats of `chsk convert --from` / `--to`.
enum ValueFormat: String, ExpressibleByArgument, CaseIterable {
    case edn
    case json
    case transitJSON = "transit-json"
    case transitJSONVerbose = "transit-json-verbose"
    case transitMsgpack = "transit-msgpack"

    /// The Transit packer of a Transit format.
    func transitPacker(cache: TransitCacheOption) -> TransitPacker? {
        guard let packer = PackerName(rawValue: rawValue), packer != .edn else { return nil }
        return try? packer.makePacker(transitCache: cache) as? TransitPacker
    }
}

/// `chsk convert`: any of EDN, JSON and the Transit encodings to any other, like jet.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert values between EDN, JSON and Transit (JSON, JSON-verbose, MessagePack).",
        usage: "chsk convert [--from <format>] [--to <format>] [<options>] [<files> ...]",
        discussion: """
            Reads a stream of values in the --from format from the files (or stdin) and prints \
            each in the --to format, one per line (MessagePack: concatenated, no newline). EDN \
            output is Clojure's pr-str. JSON object keys become keywords ({"a":1} → {:a 1}) \
            unless --no-keywordize. On bad input it prints the values before the error, then \
            a one-line error with its position on stderr, and exits 1.

            JSON cannot carry every EDN value. Output to JSON is always written, and each kind \
            of value it loses is named once per run on stderr ("chsk: warning: lossy JSON: \
            ..."): ratios (written as doubles), N and M numbers and integers beyond 2^53 \
            (plain numbers), sets (arrays), keywords, symbols and characters (strings), #inst \
            (RFC 3339 strings), #uuid, URIs and bytes (strings), tagged values (the tag is \
            dropped), map keys other than strings and keywords (their EDN text) and keys that \
            end up the same string. Keyword keys and lists are not warned about: keys read \
            back as keywords, and a list equals a vector in Clojure. EDN and Transit carry \
            each other's values (Transit's bytes and URIs as #bytes and #uri).

            Examples:
              echo '{"a": [1, 2]}' | chsk convert --from json                # {:a [1 2]}
              echo '{:a #{1} :b 1/2}' | chsk convert --to json 2>/dev/null
              # {"a":[1],"b":0.5}
              echo '[:my/ev {:a 1}]' | chsk convert --to transit-json
              # ["~:my/ev",["^ ","~:a",1]]
              echo '["^ ","~:a",1]' | chsk convert --from transit-json --to json --pretty
            """
    )

    @Argument(help: "Input files ('-' or none for stdin).", completion: .file())
    var files: [String] = []

    @Option(help: "Input format.")
    var from: ValueFormat = .edn

    @Option(help: "Output format.")
    var to: ValueFormat = .edn

    @Flag(help: "Indented output for humans (EDN, JSON, Transit JSON).")
    var pretty = false

    @Flag(help: "Print map entries and set members in a canonical (sorted) order, for diffs.")
    var sort = false

    @Flag(inversion: .prefixedNo, help: "With --from json: object keys become keywords ({\"a\":1} → {:a 1}).")
    var keywordize = true

    @Flag(help: "Allow binary output (transit-msgpack) on a terminal.")
    var binary = false

    @Option(help: "Transit cache string lengths: utf16 (transit-java/js peers) or scalars (transit-python).")
    var transitCache: TransitCacheOption = .utf16

    func validate() throws {
        if pretty && to == .transitMsgpack { throw ValidationError("--pretty is for text output; transit-msgpack is binary") }
    }

    func run() throws {
        if to == .transitMsgpack && !binary && isTerminal(1) {
            printError("refusing to write binary transit-msgpack to a terminal (redirect stdout or pass --binary)")
            throw ExitCode(1)
        }
        let writer = to.transitPacker(cache: transitCache)
        let json = JSONOutput(pretty: pretty)
        var out = ByteSink(fd: 1)
        func emit(_ input: EDNValue) throws {
            let value = sort ? EDNPrinter.sorted(input) : input
            switch to {
            case .edn:
                try EDNPrinter.checkReadable(value)
                if pretty {
                    out.write(EDNPrinter.pretty(value, insertionOrder: sort))
                } else {
                    out.write(sort ? EDNPrinter.bytesInInsertionOrder(value) : EDNPrinter.bytes(value))
                }
            case .json:
                out.write(try json.bytes(value))
            case .transitJSON, .transitJSONVerbose, .transitMsgpack:
                let bytes = try writer!.pack(value)
                out.write(pretty ? Array(indentJSON(String(decoding: bytes, as: UTF8.self)).utf8) : bytes)
            }
            if to != .transitMsgpack { out.write(CollectionOfOne(10)) }
        }
        for path in files.isEmpty ? ["-"] : files {
            let label = path == "-" ? "stdin" : path
            do {
                let bytes = try readAllBytes(path: path)
                switch from {
                case .edn: try forEachValue(bytes, format: .edn, single: false, keywordize: keywordize, emit)
                case .json: try forEachValue(bytes, format: .json, single: false, keywordize: keywordize, emit)
                case .transitJSON, .transitJSONVerbose, .transitMsgpack:
                    var reader = from.transitPacker(cache: transitCache)!.streamReader(bytes)
                    while let value = try reader.next() { try emit(value) }
                }
            } catch {
                out.flush()
                printError(describe(error, source: label))
                throw ExitCode(1)
            }
        }
        out.flush()
    }
}
