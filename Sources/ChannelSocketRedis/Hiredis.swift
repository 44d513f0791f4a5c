import CHiredis
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Every call into hiredis is in this file. hiredis's synchronous API blocks its thread; each
// `HiredisConnection` is used from one dedicated thread of its own (`RedisBroker`), never from
// Swift's cooperative pool.

/// A Redis reply (RESP2).
enum RESP: Sendable, Equatable {
    case string([UInt8])
    case status(String)
    case integer(Int)
    case array([RESP])
    case null
    case error(String)

    /// A bulk string or status as text.
    var text: String? {
        switch self {
        case .string(let b): String(decoding: b, as: UTF8.self)
        case .status(let s): s
        default: nil
        }
    }

    var bytes: [UInt8]? {
        switch self {
        case .string(let b): b
        case .status(let s): Array(s.utf8)
        default: nil
        }
    }

    var integer: Int? {
        if case .integer(let i) = self { return i }
        return nil
    }

    var array: [RESP]? {
        if case .array(let a) = self { return a }
        return nil
    }

    var errorMessage: String? {
        if case .error(let e) = self { return e }
        return nil
    }
}

/// Why talking to Redis failed.
enum RedisFailure: Error, Sendable, CustomStringConvertible {
    /// The connection could not be made (refused, unreachable, timed out, bad address).
    case connect(String)
    /// The connection broke, timed out or received something that is not Redis's protocol.
    case io(String)

    var description: String {
        switch self {
        case .connect(let s): "cannot connect: \(s)"
        case .io(let s): s
        }
    }
}

/// One blocking connection (a `redisContext`). Not thread-safe: confine it to one thread.
final class HiredisConnection: @unchecked Sendable {
    private let context: UnsafeMutablePointer<redisContext>

    private init(_ context: UnsafeMutablePointer<redisContext>) { self.context = context }

    deinit { redisFree(context) }

    static func timeval(_ d: Duration) -> timeval {
        let (s, atto) = d.components
        return Glibc.timeval(tv_sec: Int(s), tv_usec: Int(atto / 1_000_000_000_000))
    }

    /// Connects with `timeout` for the connect and for every later command.
    static func connect(_ address: RedisEndpoint.Address, timeout: Duration) throws(RedisFailure) -> HiredisConnection {
        let tv = timeval(timeout)
        let ctx: UnsafeMutablePointer<redisContext>?
        switch address {
        case .tcp(let host, let port): ctx = redisConnectWithTimeout(host, Int32(port), tv)
        case .unix(let path): ctx = redisConnectUnixWithTimeout(path, tv)
        }
        guard let ctx else { throw .connect("out of memory") }
        if ctx.pointee.err != 0 {
            let message = errorString(ctx)
            redisFree(ctx)
            throw .connect(message)
        }
        _ = redisSetTimeout(ctx, tv)
        if case .tcp = address { _ = redisEnableKeepAlive(ctx) }
        return HiredisConnection(ctx)
    }

    private static func errorString(_ ctx: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: ctx.pointee.errstr) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return bytes.isEmpty ? "error \(ctx.pointee.err)" : String(decoding: bytes, as: UTF8.self)
        }
    }

    /// Sets the timeout of later commands (a blocking read waits at most this long).
    func setTimeout(_ d: Duration) {
        _ = redisSetTimeout(context, Self.timeval(d))
    }

    /// Runs one command (binary-safe arguments); an error reply is `.error`, not a throw.
    func command(_ args: [[UInt8]]) throws(RedisFailure) -> RESP {
        let replies = try pipeline([args])
        return replies[0]
    }

    /// Sends several commands at once and reads their replies in order. A broken link throws
    /// (`delivered` says how many replies arrived before it broke).
    func pipeline(_ commands: [[[UInt8]]]) throws(RedisFailure) -> [RESP] {
        for args in commands { try append(args) }
        var replies: [RESP] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
                throw .io(Self.errorString(context))
            }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            replies.append(Self.convert(reply))
            freeReplyObject(raw)
        }
        return replies
    }

    private func append(_ args: [[UInt8]]) throws(RedisFailure) {
        // One buffer for all arguments; argv points into it.
        var joined: [CChar] = []
        joined.reserveCapacity(args.reduce(0) { $0 + $1.count + 1 })
        var offsets: [Int] = []
        var lengths: [Int] = []
        for a in args {
            offsets.append(joined.count)
            lengths.append(a.count)
            for b in a { joined.append(CChar(bitPattern: b)) }
            joined.append(0)
        }
        let status = joined.withUnsafeBufferPointer { buf -> Int32 in
            var argv: [UnsafePointer<CChar>?] = offsets.map { buf.baseAddress! + $0 }
            return argv.withUnsafeMutableBufferPointer { av in
                lengths.withUnsafeBufferPointer { lens in
                    redisAppendCommandArgv(context, Int32(args.count), av.baseAddress, lens.baseAddress)
                }
            }
        }
        if status != REDIS_OK { throw .io(Self.errorString(context)) }
    }

    private static func convert(_ r: UnsafeMutablePointer<redisReply>) -> RESP {
        let reply = r.pointee
        switch reply.type {
        case REDIS_REPLY_STRING:
            return .string(bytes(reply))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(reply), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(reply), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int(reply.integer))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY:
            var items: [RESP] = []
            items.reserveCapacity(reply.elements)
            for i in 0..<reply.elements {
                if let e = reply.element[i] { items.append(convert(e)) } else { items.append(.null) }
            }
            return .array(items)
        default:
            return .error("unknown reply type \(reply.type)")
        }
    }

    private static func bytes(_ reply: redisReply) -> [UInt8] {
        guard let str = reply.str, reply.len > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: str, count: reply.len))
    }
}
