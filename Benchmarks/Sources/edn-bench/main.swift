// edn-bench: read and print throughput of chsk's EDN codec, in MB/s (10^6 bytes per second).
//
//   edn-bench [--warmup S] [--time S] [--runs N] [--json] FILE...
//
// Each FILE is a stream of EDN values (one or many top-level forms). For each file:
//   read:  EDNReader.readAll(bytes) on the whole file; MB/s of input text.
//   print: EDNPrinter.bytes(v) for every top-level value read; MB/s of printed output text.
// Each measure is warmed up for --warmup seconds, then timed --runs times, each run repeating
// the operation for at least --time seconds; the median run is reported (min and max too).
// The JSON also has `cpu_mb_per_s`: the median by process CPU time instead of wall-clock time.

import EDN
import Foundation

struct Options {
    var warmup = 2.0
    var time = 1.0
    var runs = 5
    var json = false
    var files: [String] = []
}

func usage() -> Never {
    let text = """
        usage: edn-bench [--warmup SECONDS] [--time SECONDS] [--runs N] [--json] FILE...
          --warmup S  warm-up time per measure before timing (default 2)
          --time S    minimum duration of one timed run (default 1)
          --runs N    timed runs per measure; the median is reported (default 5)
          --json      one JSON object on stdout instead of the text table

        """
    FileHandle.standardError.write(Data(text.utf8))
    exit(2)
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
        case "-h", "--help": usage()
        default:
            if args[i].hasPrefix("--") { usage() }
            o.files.append(args[i])
        }
        i += 1
    }
    if o.files.isEmpty { usage() }
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
                   cpuMedian: median(cpuRates), iterations: total)
}

struct FileResult {
    var name: String
    var path: String
    var inputBytes: Int
    var forms: Int
    var outputBytes: Int
    var read: Measure
    var print: Measure
}

func benchmark(path: String, options o: Options) throws -> FileResult {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw BenchError("cannot read \(path)")
    }
    let input = [UInt8](data)
    let values: [EDNValue]
    do { values = try EDNReader.readAll(input) } catch { throw BenchError("\(path): \(error)") }
    var outputBytes = 0
    for v in values { outputBytes += EDNPrinter.bytes(v).count }

    let read = measure(bytes: input.count, options: o) {
        (try? EDNReader.readAll(input))?.count ?? -1
    }
    let print = measure(bytes: outputBytes, options: o) {
        var n = 0
        for v in values { n &+= EDNPrinter.bytes(v).count }
        return n
    }
    var name = (path as NSString).lastPathComponent
    if name.hasSuffix(".edn") { name.removeLast(4) }
    return FileResult(name: name, path: path, inputBytes: input.count, forms: values.count,
                      outputBytes: outputBytes, read: read, print: print)
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
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
        + "\"cpu_mb_per_s\": \(fmt(m.cpuMedian)), \"iterations\": \(m.iterations)}"
}

let options = parseOptions(Array(CommandLine.arguments.dropFirst()))
var results: [FileResult] = []
for path in options.files {
    do {
        let r = try benchmark(path: path, options: options)
        results.append(r)
        if !options.json {
            let line = "\(r.name.padding(toLength: 28, withPad: " ", startingAt: 0)) "
                + "\(String(r.inputBytes).leftPad(9)) B in, \(String(r.outputBytes).leftPad(9)) B out  "
                + "read \(fmt(r.read.median).leftPad(8)) MB/s  print \(fmt(r.print.median).leftPad(8)) MB/s"
            print(line)
        }
    } catch {
        FileHandle.standardError.write(Data("edn-bench: \(error)\n".utf8))
        exit(1)
    }
}
if options.json {
    var parts: [String] = []
    for r in results {
        parts.append("""
            {"name": \(jsonString(r.name)), "path": \(jsonString(r.path)), \
            "input_bytes": \(r.inputBytes), "forms": \(r.forms), "output_bytes": \(r.outputBytes), \
            "read": \(jsonMeasure(r.read)), "print": \(jsonMeasure(r.print))}
            """)
    }
    print("""
        {"impl": "chsk", "warmup_s": \(options.warmup), "time_s": \(options.time), "runs": \(options.runs), \
        "files": [\(parts.joined(separator: ", "))]}
        """)
}
if sink == 42 { print("") }   // never true in practice; keeps `sink` live

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
