import ArgumentParser
import ChannelSocket
import EDN

/// `chsk pack`: EDN (or JSON) in, a packer's payload out, optionally in Sente framing.
struct PackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack",
        abstract: "Read EDN (or JSON) values and print them as a packer's payload.",
        usage: "chsk pack [<options>] [<files> ...]",
        discussion: """
            Reads a stream of values from the files (or stdin) and prints one payload per \
            input value, one per line. With no options it prints canonical EDN, exactly as \
            Clojure's pr-str would (sets and maps of more than 8 entries in Clojure's hash \
            order). On bad input it prints the values before the error, then a one-line error \
            with line:column on stderr, and exits 1; so does a value with no text in the output \
            format that reads back (in EDN a JSON key such as "a b" made a keyword; in Transit a \
            tagged value with a built-in tag such as #set [1]). A JSON object key that occurs \
            twice keeps its first place and takes the last value, as clojure.data.json reads it.

            Examples:
              echo '{:a 1 :b [1 2.5 "x"]}' | chsk pack
              echo '[:my/ev {:a 1}]' | chsk pack --frame v1 --cb a1b2c3
              # +[[:my/ev {:a 1}] "a1b2c3"]
              echo '[:chsk/ws-ping]' | chsk pack --frame v2       # [[:chsk/ws-ping] nil]
              echo '{"a": [1, 2]}' | chsk pack --from json        # {:a [1 2]}
            """
    )

    @Argument(help: "Input files ('-' or none for stdin).", completion: .file())
    var files: [String] = []

    @Option(help: "Input format of the values.")
    var from: HumanFormat = .edn

    @Option(help: "Payload format: \(PackerName.allValueStrings.joined(separator: ", ")).")
    var packer: PackerName = .edn

    @Option(help: "Wrap each value in Sente framing: none, v1 (-x / +[x cb]) or v2 ([x cb]).")
    var frame: FrameOption = .none

    @Option(help: "Callback id for the framing (e.g. a1b2c3, 0, :ajax); needs --frame v1 or v2.")
    var cb: String?

    @Flag(help: "Indented output for humans (EDN, or JSON for the Transit JSON packers; no framing).")
    var pretty = false

    @Flag(help: "Print map entries and set members in a canonical (sorted) order, for diffs.")
    var sort = false

    @Flag(help: "Exactly one value per input (like read-string); more is an error.")
    var single = false

    @Flag(inversion: .prefixedNo, help: "With --from json: object keys become keywords ({\"a\":1} → {:a 1}).")
    var keywordize = true

    @Flag(help: "Allow binary output (transit-msgpack) on a terminal.")
    var binary = false

    @Option(help: "Transit cache string lengths: utf16 (transit-java/js peers) or scalars (transit-python).")
    var transitCache: TransitCacheOption = .utf16

    func validate() throws {
        if cb != nil && frame.generation == nil { throw ValidationError("--cb needs --frame v1 or --frame v2") }
        if frame == .auto { throw ValidationError("--frame auto is for unpack; pack needs v1 or v2") }
        if pretty && (packer == .transitMsgpack || frame != .none) { throw ValidationError("--pretty is for text output without framing (not transit-msgpack, not --frame)") }
    }

    func run() throws {
        try PackJob(files: files, from: from, packer: packer, frame: frame, cb: cb, pretty: pretty, sort: sort,
                    single: single, keywordize: keywordize, binary: binary, transitCache: transitCache).run()
    }
}

/// What `chsk pack` does, from plain values: `PackCommand` after ArgumentParser's parse, or
/// `simple(_:)` straight from the command line.
struct PackJob {
    var files: [String] = []
    var from: HumanFormat = .edn
    var packer: PackerName = .edn
    var frame: FrameOption = .none
    var cb: String?
    var pretty = false
    var sort = false
    var single = false
    var keywordize = true
    var binary = false
    var transitCache: TransitCacheOption = .utf16

    /// The job for the common pipe-stage forms of `pack` (files or `-`, `--from F`,
    /// `--packer P`, `--single`, `--sort`, `--no-keywordize`, each at most once), read without
    /// ArgumentParser, whose first parse is most of a small run's time (its reflection over
    /// the command's options scans every protocol conformance of the binary;
    /// `Benchmarks/STARTUP.md`). `nil` for anything else, which ArgumentParser parses: help,
    /// other options, `--opt=value`, `--`, a value it would reject.
    static func simple(_ arguments: some Collection<String>) -> PackJob? {
        var job = PackJob()
        var seen: Set<String> = []
        var i = arguments.startIndex
        while i != arguments.endIndex {
            let arg = arguments[i]
            arguments.formIndex(after: &i)
            if arg == "-" || !arg.hasPrefix("-") { job.files.append(arg); continue }
            guard seen.insert(arg).inserted else { return nil }
            switch arg {
            case "--single": job.single = true
            case "--sort": job.sort = true
            case "--no-keywordize": job.keywordize = false
            case "--from", "--packer":
                guard i != arguments.endIndex else { return nil }
                let value = arguments[i]
                arguments.formIndex(after: &i)
                if arg == "--from" {
                    guard let format = HumanFormat(rawValue: value) else { return nil }
                    job.from = format
                } else {
                    guard let packer = PackerName(rawValue: value) else { return nil }
                    job.packer = packer
                }
            default: return nil
            }
        }
        return job
    }

    func run() throws {
        let packerObject = try packer.makePacker(transitCache: transitCache)
        if packerObject.isBinary && !binary && isTerminal(1) {
            printError("refusing to write binary \(packerObject.name) payloads to a terminal (redirect stdout or pass --binary)")
            throw ExitCode(1)
        }
        let callbackID = cb.map(parseCallbackID)
        var out = ByteSink(fd: 1)
        for path in files.isEmpty ? ["-"] : files {
            let label = path == "-" ? "stdin" : path
            do {
                let bytes = try readAllBytes(path: path)
                try forEachValue(bytes, format: from, single: single, keywordize: keywordize) { input in
                    let value = sort ? EDNPrinter.sorted(input) : input
                    // EDN output must read back: refuse what has no EDN text (the Transit
                    // writers refuse what they cannot carry themselves).
                    if packer == .edn { try EDNPrinter.checkReadable(value) }
                    if let generation = frame.generation {
                        out.write(try Framing.pack(value, callbackID: callbackID, generation: generation, packer: packerObject))
                    } else if pretty && packer == .edn {
                        out.write(EDNPrinter.pretty(value, insertionOrder: sort))
                    } else if pretty {
                        out.write(indentJSON(String(decoding: try packerObject.pack(value), as: UTF8.self)))
                    } else if sort && packer == .edn {
                        // Printing in Clojure's hash order would undo the sorting.
                        out.write(EDNPrinter.bytesInInsertionOrder(value))
                    } else {
                        out.write(try packerObject.pack(value))
                    }
                    if !packerObject.isBinary { out.write(CollectionOfOne(10)) }
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

/// Reads `bytes` as a stream of EDN or JSON values and calls `body` for each, in order.
func forEachValue(_ bytes: [UInt8], format: HumanFormat, single: Bool, keywordize: Bool,
                  _ body: (EDNValue) throws -> Void) throws {
    switch format {
    case .edn:
        if single {
            try body(try EDNReader.read(bytes))
            return
        }
        var reader = EDNReader(bytes)
        while let value = try reader.next() { try body(value) }
    case .json:
        var reader = JSONStreamReader(bytes, options: .init(keywordizeKeys: keywordize))
        var count = 0
        while let value = try reader.next() {
            count += 1
            if single && count > 1 { throw ValidationError("more than one value in the input (--single)") }
            try body(value)
        }
    }
}
