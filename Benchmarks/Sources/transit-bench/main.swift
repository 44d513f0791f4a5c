// transit-bench: read and write throughput of chsk's Transit codec (JSON and MessagePack), in
// MB/s (10^6 bytes per second), with Foundation's JSONSerialization on the same JSON bytes as
// a plain-JSON floor.
//
//   transit-bench --make-corpus IN.edn PREFIX
//       Reads the EDN stream IN.edn (gen_corpus.py output), makes one value of it (a vector of
//       every top-level form, like a big buffered Sente batch) and writes it as Transit JSON to
//       PREFIX.json and as Transit MessagePack to PREFIX.msgpack.
//   transit-bench [--warmup S] [--time S] [--runs N] [--json] [--only NAME] PREFIX...
//       For each PREFIX (PREFIX.json + PREFIX.msgpack), times:
//         json read       TransitReader(format: .json).read(bytes); MB/s of input
//         json write      TransitWriter(format: .json).write(value); MB/s of output
//         msgpack read    TransitReader(format: .msgpack).read(bytes); MB/s of input
//         msgpack write   TransitWriter(format: .msgpack).write(value); MB/s of output
//         walk_floor      a writer's floor: visiting every value and every string's bytes,
//                         writing nothing; MB/s of the JSON output
//         build_floor     a reader's floor: building the same EDNValue from a tape of build
//                         steps (no parsing); MB/s of the JSON input
//         JSONSerialization read   JSONSerialization.jsonObject(with:) on the same JSON bytes
//         JSONSerialization write  JSONSerialization.data(withJSONObject:) of what it read;
//                                  MB/s of its own output
// Each measure is warmed up for --warmup seconds, then timed --runs times, each run repeating
// the operation for at least --time seconds; the median run is reported (min and max too).
// The JSON also has `cpu_mb_per_s`: the median by process CPU time instead of wall-clock time.

import EDN
import Foundation
import Transit

struct Options {
    var warmup = 2.0
    var time = 1.0
    var runs = 5
    var json = false
    var prefixes: [String] = []
    /// Only the measures whose names contain this (for profiling), if set.
    var only: String?
}

func usage() -> Never {
    let text = """
        usage: transit-bench [--warmup SECONDS] [--time SECONDS] [--runs N] [--json] PREFIX...
               transit-bench --make-corpus IN.edn PREFIX
          --warmup S  warm-up time per measure before timing (default 2)
          --time S    minimum duration of one timed run (default 1)
          --runs N    timed runs per measure; the median is reported (default 5)
          --json      one JSON object on stdout instead of the text lines
          --only NAME only the measures whose name contains NAME (json_read, msgpack_write, …)
        Each PREFIX names PREFIX.json (Transit JSON) and PREFIX.msgpack (Transit MessagePack).

        """
    FileHandle.standardError.write(Data(text.utf8))
    exit(2)
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("transit-bench: \(message)\n".utf8))
    exit(1)
}

func readFile(_ path: String) -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
    return [UInt8](data)
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { fail("cannot write \(path)") }
}

func makeCorpus(_ ednPath: String, _ prefix: String) {
    let forms: [EDNValue]
    do { forms = try EDNReader.readAll(readFile(ednPath)) } catch { fail("\(ednPath): \(error)") }
    let value = EDNValue.vector(forms)
    do {
        let json = try TransitWriter(format: .json).write(value)
        let msgpack = try TransitWriter(format: .msgpack).write(value)
        writeFile(prefix + ".json", json)
        writeFile(prefix + ".msgpack", msgpack)
        FileHandle.standardError.write(Data(
            "transit-bench: \(forms.count) forms -> \(prefix).json (\(json.count) B), \(prefix).msgpack (\(msgpack.count) B)\n".utf8))
    } catch {
        fail("cannot write the corpus: \(error)")
    }
}

func parseOptions(_ args: [String]) -> Options {
    var o = Options()
    var i = 0
    func value() -> String {
        i += 1
        guard i < args.count else { usage() }
        return args[i]
    }
    while i < args.count {
        switch args[i] {
        case "--warmup": guard let v = Double(value()), v >= 0 else { usage() }; o.warmup = v
        case "--time": guard let v = Double(value()), v > 0 else { usage() }; o.time = v
        case "--runs": guard let v = Int(value()), v > 0 else { usage() }; o.runs = v
        case "--json": o.json = true
        case "--only": o.only = value()
        case "-h", "--help": usage()
        default:
            if args[i].hasPrefix("--") { usage() }
            o.prefixes.append(args[i])
        }
        i += 1
    }
    if o.prefixes.isEmpty { usage() }
    return o
}

/// Monotonic time in seconds.
@inline(__always) func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// CPU time used by this process, in seconds.
@inline(__always) func cpuNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Keeps results observable so the optimizer cannot drop the measured work.
nonisolated(unsafe) var sink = 0
@inline(never) func consume(_ n: Int) { sink &+= n }

struct Measure {
    /// Wall-clock MB/s: median, slowest and fastest run.
    var median: Double
    var min: Double
    var max: Double
    /// MB per second of process CPU time (less sensitive to other load on the machine).
    var cpuMedian: Double
    var iterations: Int
    /// Bytes counted per operation (input for reads, output for writes).
    var bytes: Int
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    let mid = s.count / 2
    return s.count % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
}

/// Runs `body` (which processes `bytes` bytes per call) for the warm-up, then `runs` timed runs.
func measure(bytes: Int, options o: Options, _ body: () -> Int) -> Measure {
    let warmEnd = now() + o.warmup
    repeat { consume(body()) } while now() < warmEnd
    var rates: [Double] = []
    var cpuRates: [Double] = []
    var total = 0
    for _ in 0..<o.runs {
        var n = 0
        let cpuStart = cpuNow()
        let start = now()
        var elapsed = 0.0
        repeat {
            consume(body())
            n += 1
            elapsed = now() - start
        } while elapsed < o.time
        let cpu = cpuNow() - cpuStart
        total += n
        rates.append(Double(bytes) * Double(n) / elapsed / 1e6)
        cpuRates.append(Double(bytes) * Double(n) / cpu / 1e6)
    }
    return Measure(median: median(rates), min: rates.min()!, max: rates.max()!,
                   cpuMedian: median(cpuRates), iterations: total, bytes: bytes)
}

/// Number of nodes (collections and scalars) in a Transit value, to keep reads observable.
func size(_ v: EDNValue) -> Int {
    switch v {
    case .vector(let a), .list(let a): return a.count
    case .map(let m): return m.count
    case .set(let s): return s.count
    default: return 1
    }
}

/// The construction floor of a reader: `value` flattened, once, into a tape of build steps
/// in the order a parser meets them (scalars, string byte ranges, "close a collection of n
/// items"). Replaying the tape builds a fresh `EDNValue` equal to `value` doing only what any
/// reader producing `EDNValue`s must do (every collection and long string allocated, every
/// string validated and created, map keys checked for duplicates, the previous result
/// freed), and none of the parsing. Keywords and symbols are shared, as a reader's cache
/// shares them.
struct Tape {
    enum Step {
        case integer(Int64)
        case double(Double)
        case bool(Bool)
        case null
        case uuid(UInt64, UInt64)
        case instant(Int64)
        /// A keyword, symbol or rarer scalar: copied, as from a reader's cache.
        case scalar(EDNValue)
        case string(start: Int, count: Int, ascii: Bool)
        case vector(Int)
        case list(Int)
        case set(Int)
        case map(Int)
    }
    var steps: [Step] = []
    var bytes: [UInt8] = []

    init(_ value: EDNValue) { add(value) }

    mutating func add(_ v: EDNValue) {
        switch v {
        case .string(let s):
            let start = bytes.count
            bytes.append(contentsOf: s.utf8)
            steps.append(.string(start: start, count: s.utf8.count, ascii: s.utf8.allSatisfy { $0 < 0x80 }))
        case .vector(let a): for x in a { add(x) }; steps.append(.vector(a.count))
        case .list(let a): for x in a { add(x) }; steps.append(.list(a.count))
        case .set(let s): for x in s.elements { add(x) }; steps.append(.set(s.count))
        case .map(let m): for x in m.entries { add(x) }; steps.append(.map(m.count))
        case .integer(let i): steps.append(.integer(i))
        case .double(let d): steps.append(.double(d))
        case .bool(let b): steps.append(.bool(b))
        case .null: steps.append(.null)
        case .uuid(let u): steps.append(.uuid(u.high, u.low))
        case .instant(let t): steps.append(.instant(t.millisecondsSinceEpoch))
        default: steps.append(.scalar(v))
        }
    }

    /// Builds the value again from the steps.
    func replay() -> EDNValue {
        var stack = BuildStack()
        return bytes.withUnsafeBufferPointer { arena in
            steps.withUnsafeBufferPointer { steps in
                for step in steps {
                    switch step {
                    case .integer(let i): stack.push(.integer(i))
                    case .double(let d): stack.push(.double(d))
                    case .bool(let b): stack.push(.bool(b))
                    case .null: stack.push(.null)
                    case .uuid(let hi, let lo): stack.push(.uuid(EDNUUID(high: hi, low: lo)))
                    case .instant(let t): stack.push(.instant(Instant(millisecondsSinceEpoch: t)))
                    case .scalar(let v): stack.push(v)
                    case .string(let start, let count, let ascii):
                        let b = UnsafeBufferPointer(rebasing: arena[start..<(start + count)])
                        if ascii {
                            stack.push(.string(String(decoding: b, as: UTF8.self)))
                        } else {
                            let span = try! UTF8Span(validating: b.span)
                            stack.push(.string(String(copying: span)))
                        }
                    case .vector(let n): stack.push(.vector(stack.pop(n)))
                    case .list(let n): stack.push(.list(stack.pop(n)))
                    case .set(let n): stack.push(.set(EDNSet(stack.pop(n))))
                    case .map(let n): stack.push(.map(EDNMap(interleaved: stack.pop(2 * n))))
                    }
                }
                return stack.pop(1)[0]
            }
        }
    }
}

/// The values under construction while a tape is replayed (no exclusivity checks, no
/// uniqueness checks, moves only).
struct BuildStack: ~Copyable {
    var base = UnsafeMutablePointer<EDNValue>.allocate(capacity: 1024)
    var capacity = 1024
    var count = 0

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    @inline(__always)
    mutating func push(_ v: consuming EDNValue) {
        if count == capacity {
            let fresh = UnsafeMutablePointer<EDNValue>.allocate(capacity: capacity * 2)
            fresh.moveInitialize(from: base, count: count)
            base.deallocate()
            base = fresh
            capacity *= 2
        }
        (base + count).initialize(to: v)
        count += 1
    }

    @inline(__always)
    mutating func pop(_ n: Int) -> [EDNValue] {
        var items: [EDNValue] = []
        items.reserveCapacity(n)
        let from = count - n
        for i in from..<count { items.append((base + i).move()) }
        count = from
        return items
    }
}

/// The traversal floor of a writer: visits every value of the tree as a writer must (each
/// collection's elements in place, each string's, keyword's and symbol's UTF-8 bytes) and
/// sums a byte of each, writing nothing. Any writer of `EDNValue`s does at least this.
func walk(_ items: [EDNValue]) -> Int {
    var total = 0
    items.withUnsafeBufferPointer { p in
        for i in 0..<p.count {
            switch p[i] {
            case .integer(let n): total &+= Int(truncatingIfNeeded: n)
            case .double(let d): total &+= Int(d.bitPattern & 1)
            case .string(let s): total &+= utf8Sum(s)
            case .keyword(let k): total &+= utf8Sum(k.text)
            case .symbol(let s): total &+= utf8Sum(s.text)
            case .vector(let a), .list(let a): total &+= walk(a)
            case .map(let m): total &+= walk(m.entries)
            case .set(let s): total &+= walk(s.elements)
            case .uuid(let u): total &+= Int(truncatingIfNeeded: u.high ^ u.low)
            case .instant(let t): total &+= Int(truncatingIfNeeded: t.millisecondsSinceEpoch)
            case .tagged(_, let v): total &+= walk([v])
            default: total &+= 1
            }
        }
    }
    return total
}

@inline(__always) func utf8Sum(_ s: String) -> Int {
    s.utf8.withContiguousStorageIfAvailable { b in b.count &+ Int(b.last ?? 0) } ?? s.utf8.count
}

struct PrefixResult {
    var name: String
    var jsonBytes: Int
    var msgpackBytes: Int
    var measures: [(String, Measure)]
}

func benchmark(prefix: String, options o: Options) -> PrefixResult {
    let json = readFile(prefix + ".json")
    let msgpack = readFile(prefix + ".msgpack")
    let jsonReader = TransitReader(format: .json)
    let msgpackReader = TransitReader(format: .msgpack)
    let jsonWriter = TransitWriter(format: .json)
    let msgpackWriter = TransitWriter(format: .msgpack)
    let value: EDNValue
    let fromMsgpack: EDNValue
    do {
        value = try jsonReader.read(json)
        fromMsgpack = try msgpackReader.read(msgpack)
    } catch {
        fail("\(prefix): \(error)")
    }
    guard value == fromMsgpack else { fail("\(prefix): the JSON and MessagePack files hold different values") }
    let jsonOut: [UInt8], msgpackOut: [UInt8]
    do {
        jsonOut = try jsonWriter.write(value)
        msgpackOut = try msgpackWriter.write(value)
    } catch {
        fail("\(prefix): \(error)")
    }
    let jsonData = Data(json)
    guard let plain = try? JSONSerialization.jsonObject(with: jsonData, options: []),
          let plainOut = try? JSONSerialization.data(withJSONObject: plain, options: []) else {
        fail("\(prefix).json: JSONSerialization cannot read or write it")
    }

    var measures: [(String, Measure)] = []
    func run(_ name: String, bytes: Int, _ body: () -> Int) {
        if let only = o.only, !name.contains(only) { return }
        FileHandle.standardError.write(Data("transit-bench: \(name)\n".utf8))
        measures.append((name, measure(bytes: bytes, options: o, body)))
    }
    run("json_read", bytes: json.count) { (try? jsonReader.read(json)).map(size) ?? -1 }
    run("json_write", bytes: jsonOut.count) { (try? jsonWriter.write(value))?.count ?? -1 }
    run("msgpack_read", bytes: msgpack.count) { (try? msgpackReader.read(msgpack)).map(size) ?? -1 }
    run("msgpack_write", bytes: msgpackOut.count) { (try? msgpackWriter.write(value))?.count ?? -1 }
    let tape = Tape(value)
    guard tape.replay().isIdentical(to: value) else { fail("\(prefix): the construction tape does not rebuild the value") }
    run("walk_floor", bytes: jsonOut.count) { walk([value]) }
    run("build_floor", bytes: json.count) { size(tape.replay()) }
    run("jsonserialization_read", bytes: json.count) {
        ((try? JSONSerialization.jsonObject(with: jsonData, options: [])) as? [Any])?.count ?? -1
    }
    run("jsonserialization_write", bytes: plainOut.count) {
        (try? JSONSerialization.data(withJSONObject: plain, options: []))?.count ?? -1
    }
    var name = (prefix as NSString).lastPathComponent
    if name.hasSuffix(".transit") { name.removeLast(8) }
    return PrefixResult(name: name, jsonBytes: json.count, msgpackBytes: msgpack.count, measures: measures)
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
        switch u {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
        default: out.unicodeScalars.append(u)
        }
    }
    return out + "\""
}

func fmt(_ d: Double) -> String { String(format: "%.2f", d) }

func jsonMeasure(_ m: Measure) -> String {
    "{\"mb_per_s\": \(fmt(m.median)), \"min\": \(fmt(m.min)), \"max\": \(fmt(m.max)), "
        + "\"cpu_mb_per_s\": \(fmt(m.cpuMedian)), \"iterations\": \(m.iterations), \"bytes\": \(m.bytes)}"
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "--make-corpus" {
    guard arguments.count == 3 else { usage() }
    makeCorpus(arguments[1], arguments[2])
    exit(0)
}
let options = parseOptions(arguments)
var results: [PrefixResult] = []
for prefix in options.prefixes {
    let r = benchmark(prefix: prefix, options: options)
    results.append(r)
    if !options.json {
        print("\(r.name): Transit JSON \(r.jsonBytes) B, MessagePack \(r.msgpackBytes) B")
        for (name, m) in r.measures {
            print("  \(name.padding(toLength: 24, withPad: " ", startingAt: 0)) \(fmt(m.median).leftPad(9)) MB/s"
                  + "  (\(fmt(m.cpuMedian).leftPad(9)) MB per CPU-second)")
        }
    }
}
if options.json {
    var parts: [String] = []
    for r in results {
        let ms = r.measures.map { "\(jsonString($0.0)): \(jsonMeasure($0.1))" }.joined(separator: ", ")
        parts.append("""
            {"name": \(jsonString(r.name)), "json_bytes": \(r.jsonBytes), "msgpack_bytes": \(r.msgpackBytes), \(ms)}
            """)
    }
    print("""
        {"impl": "chsk", "warmup_s": \(options.warmup), "time_s": \(options.time), "runs": \(options.runs), \
        "corpora": [\(parts.joined(separator: ", "))]}
        """)
}
if sink == 42 { print("") }   // never true in practice; keeps `sink` live

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
