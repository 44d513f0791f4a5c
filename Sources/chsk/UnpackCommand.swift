import ArgumentParser
import ChannelSocket
import EDN
import Transit

/// `chsk unpack`: a packer's payloads in, EDN (or JSON) out.
struct UnpackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unpack",
        abstract: "Read a packer's payloads (optionally Sente-framed) and print them as EDN or JSON.",
        usage: "chsk unpack [<options>] [<files> ...]",
        discussion: """
            Without --frame the input is a stream of payloads (whitespace-separated; one per \
            line as 'chsk pack' writes them). With --frame the input is one framed Sente \
            message per line; 'auto' tells v1 (a leading + or -) from v2 by itself, and each \
            message prints as {:value …, :cb-id …, :framing :v1|:v2}.

            EDN output is Clojure's pr-str, sets and maps of more than 8 entries in Clojure's \
            hash order. A value with no EDN text that reads back (Transit's empty keyword "~:", \
            an instant outside the years 0001-9999, a keyword or symbol that is no valid token) \
            is an error. JSON output names once per run on stderr each kind of value JSON \
            cannot carry (see chsk convert --help). A map key that occurs twice in a Transit payload keeps its first place \
            and takes the last value, as transit-java and transit-clj read it.

            Examples:
              echo '+[[:my/ev {:a 1}] "a1b2c3"]' | chsk unpack --frame auto
              echo '[[:my/ev {:a 1}] nil]' | chsk unpack --frame auto --to json
            """
    )

    @Argument(help: "Input files ('-' or none for stdin).", completion: .file())
    var files: [String] = []

    @Option(help: "Payload format: \(PackerName.allValueStrings.joined(separator: ", ")).")
    var packer: PackerName = .edn

    @Option(help: "Sente framing of each line: none, auto, v1 or v2.")
    var frame: FrameOption = .none

    @Option(help: "Output format.")
    var to: HumanFormat = .edn

    @Flag(help: "Indented EDN or JSON for humans.")
    var pretty = false

    @Option(help: "Transit cache string lengths: utf16 (transit-java/js peers) or scalars (transit-python).")
    var transitCache: TransitCacheOption = .utf16

    func run() throws {
        let packerObject = try packer.makePacker(transitCache: transitCache)
        var out = ByteSink(fd: 1)
        let json = JSONOutput(pretty: pretty)
        func emit(_ value: EDNValue) throws {
            switch to {
            case .edn:
                // A value with no EDN text that reads back (an empty keyword from Transit
                // "~:", an instant past 9999) is an error, not unreadable output.
                try EDNPrinter.checkReadable(value)
                out.write(pretty ? Array(EDNPrinter.pretty(value).utf8) : EDNPrinter.bytes(value))
            case .json:
                out.write(try json.bytes(value))
            }
            out.write(CollectionOfOne(10))
        }
        for path in files.isEmpty ? ["-"] : files {
            let label = path == "-" ? "stdin" : path
            var lineNumber = 0
            do {
                let bytes = try readAllBytes(path: path)
                if frame == .none {
                    switch packer {
                    case .edn:
                        var reader = EDNReader(bytes)
                        while let value = try reader.next() { try emit(value) }
                    default:
                        guard let transit = packerObject as? TransitPacker else {
                            try emit(try packerObject.unpack(bytes))
                            break
                        }
                        var reader = transit.streamReader(bytes)
                        while let value = try reader.next() { try emit(value) }
                    }
                } else {
                    for line in bytes.split(separator: 10, omittingEmptySubsequences: true) {
                        lineNumber += 1
                        var message = Array(line)
                        if message.last == 13 { message.removeLast() }
                        if message.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
                        let framed = try Framing.unpack(message, generation: frame.generation, packer: packerObject)
                        var envelope = EDNMap()
                        envelope[.kw("value")] = framed.value
                        envelope[.kw("cb-id")] = framed.callbackID ?? .null
                        envelope[.kw("framing")] = .kw(framed.generation.rawValue)
                        try emit(.map(envelope))
                    }
                }
            } catch let error as FramingError {
                out.flush()
                printError("\(label):\(lineNumber): \(error)")
                throw ExitCode(1)
            } catch {
                out.flush()
                printError(describe(error, source: label))
                throw ExitCode(1)
            }
        }
        out.flush()
    }
}
