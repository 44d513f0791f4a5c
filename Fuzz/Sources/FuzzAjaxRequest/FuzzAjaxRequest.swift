import ChannelSocket
import Dispatch
import EDN
import FuzzSupport

/// The engine's Ajax request handling, from the bytes of a request's query string, form body
/// and header fields (NIO's HTTP parser is not ours and is not fuzzed). Input: one byte of
/// settings, then `query \0 form-body \0 header-lines` (`name: value` per line).
///
/// Settings: bit 0 POST (else GET), bits 1-2 wire (auto, v1, v2), bit 3 Transit-JSON packer
/// (else EDN), bit 4 CSRF token `tok` required, bit 5 origin `http://a` required, bit 6 the
/// uid from the `uid` parameter. Query and form decode as the adapter decodes them
/// (`FormDecoding.decodeValidating`: not UTF-8 → refused, 400); the request goes through
/// `check`, then `post` (the event is echoed back as the reply) or two polls (the handshake,
/// then a held long-poll withdrawn at once). A fresh server each time, shut down after.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let settings = data[0]
    let parts = bytes(data + 1, size - 1).split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
    let query = parts.count > 0 ? parts[0] : []
    let form = parts.count > 1 ? parts[1] : []
    let headerBytes = parts.count > 2 ? parts[2] : []

    guard let queryParams = FormDecoding.decodeValidating(query),
          let formParams = FormDecoding.decodeValidating(form) else { return 0 }
    // The lenient decoder takes anything.
    _ = FormDecoding.decode(String(decoding: query, as: UTF8.self))
    var headers: [String: String] = [:]
    for line in headerBytes.split(separator: UInt8(ascii: "\n")) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
        let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
        let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingSpaces
        headers[name] = headers[name].map { $0 + ", " + value } ?? value
    }
    let isPost = settings & 1 == 1
    let request = ConnectionRequest(method: isPost ? "POST" : "GET", path: "/chsk",
                                    params: queryParams.merging(formParams) { _, form in form },
                                    headers: headers, remoteAddress: "127.0.0.1:1")
    _ = request.clientID
    let wire: WireOption = switch (settings >> 1) & 3 {
    case 1: .v1
    case 2: .v2
    default: .auto
    }
    let uidFromParams = settings & 64 != 0
    let userID: @Sendable (ConnectionRequest) -> EDNValue? = { request in
        guard uidFromParams, let uid = request.params["uid"] else { return nil }
        return .string(uid)
    }
    let packer: any Packer = settings & 8 != 0 ? TransitPacker(format: .json) : EDNPacker()
    let csrf: CSRFCheck = settings & 16 != 0 ? .token("tok") : .disabled
    let origins: Set<String>? = settings & 32 != 0 ? ["http://a"] : nil
    let options = ChannelSocketServerOptions(
        userID: userID,
        csrf: csrf,
        allowedOrigins: origins,
        wire: wire,
        packer: packer,
        maxMessageBytes: 64 << 10)
    let server: ChannelSocketServer
    do { server = try ChannelSocketServer(options: options) } catch { finding("options refused: \(error)") }
    server.handleEventsInline { message in
        if message.wantsReply { message.reply(message.event.value) }
    }
    blocking {
        if let refusal = server.check(request) {
            guard [400, 401, 403].contains(refusal.status) else { finding("check answered \(refusal.status)") }
        } else if isPost {
            let reply = await server.post(request)
            guard [200, 400, 413, 500].contains(reply.status) else { finding("POST answered \(reply.status): \(reply.bodyText)") }
        } else {
            let first = await poll(server, request, withdraw: false)
            guard first.status == 200 else { finding("first poll answered \(first.status): \(first.bodyText)") }
            _ = await poll(server, request, withdraw: true)
        }
        await server.shutdown()
    }
    return 0
}

/// One Ajax poll through `startPoll`; with `withdraw`, withdrawn at once (as when the client
/// hangs up), so a held poll does not wait for its timeout.
func poll(_ server: ChannelSocketServer, _ request: ConnectionRequest, withdraw: Bool) async -> HTTPReply {
    await withCheckedContinuation { (c: CheckedContinuation<HTTPReply, Never>) in
        let id = server.nextPollID()
        server.startPoll(request, id: id) { c.resume(returning: $0) }
        if withdraw { server.cancelPoll(request, id: id) }
    }
}

final class Done: @unchecked Sendable {
    let semaphore = DispatchSemaphore(value: 0)
}

/// Runs `body` on the concurrency pool and waits for it (libFuzzer calls us synchronously).
func blocking(_ body: @escaping @Sendable () async -> Void) {
    let done = Done()
    Task {
        await body()
        done.semaphore.signal()
    }
    done.semaphore.wait()
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}

@_cdecl("FuzzAjaxRequest_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
