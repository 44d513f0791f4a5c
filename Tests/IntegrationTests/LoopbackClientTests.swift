import ChannelSocket
import ChannelSocketClientNIO
import EDN
import Foundation
import TestSupport
import Testing
import Transit

/// Our client library (real NIO transports) against `chsk serve` over loopback, for every
/// transport and generation.
@Suite(.serialized) struct LoopbackClientTests {
    static func client(_ port: Int, type: ClientType, proto: ProtocolOption, uid: String) -> ChannelSocketClient {
        ChannelSocketClient(url: "http://127.0.0.1:\(port)/chsk",
                            options: .init(type: type, protocolGeneration: proto, clientID: "lb-\(uid)", params: ["uid": uid],
                                           backoff: Backoff(cap: .seconds(2), floor: .milliseconds(100))),
                            transport: NIOClientTransport())
    }

    @Test(arguments: [("v1", ClientType.ws), ("v1", .ajax), ("v2", .ws), ("v2", .ajax), ("auto", .auto)])
    func requestReplyAndPush(wire: String, type: ClientType) async throws {
        let server = try ServeProcess(["--echo", "--wire", wire])
        defer { _ = server.terminate() }
        let proto: ProtocolOption = wire == "v1" ? .v1 : .auto
        let client = Self.client(server.port, type: type, proto: proto, uid: "u-\(wire)")
        let received = LockedBox<[String]>([])
        let events = client.events
        let reader = Task { for await e in events { received.value.append(e.description) } }
        await client.start()
        #expect(await eventually { await client.currentState.isOpen })
        let reply = try await client.request(Event("my/req", [.kw("n"): 1]), timeout: .seconds(5))
        #expect(reply[.kw("echo")] == [.kw("my/req"), [.kw("n"): 1]])
        try await client.send(Event("test/echo-push", "pushed"))
        #expect(await eventually { received.value.contains { $0.contains("[:test/echo \"pushed\"]") } })
        #expect(await client.currentState.generation == (wire == "v1" ? .v1 : .v2))
        await client.disconnect()
        reader.cancel()
    }

    @Test(arguments: [("transit-json", ClientType.ws), ("transit-json", .ajax), ("transit-json-verbose", .ws)])
    func transitPackers(packer: String, type: ClientType) async throws {
        let server = try ServeProcess(["--echo", "--packer", packer])
        defer { _ = server.terminate() }
        let transit = TransitPacker(format: packer == "transit-json" ? .json : .jsonVerbose)
        let client = ChannelSocketClient(url: "http://127.0.0.1:\(server.port)/chsk",
                                         options: .init(type: type, params: ["uid": "tp"], packer: transit),
                                         transport: NIOClientTransport())
        await client.start()
        #expect(await eventually { await client.currentState.isOpen })
        let data: EDNValue = [.kw("set"): .set([1, 2]), .kw("when"): .instant(Instant(millisecondsSinceEpoch: 1_700_000_000_000)), .kw("big"): .bigInteger(BigInteger("123456789012345678901234567890")!)]
        let reply = try await client.request(Event("my/req", data), timeout: .seconds(5))
        #expect(reply[.kw("echo")] == [.kw("my/req"), data])
        await client.disconnect()
    }

    @Test func autoFallsBackToAjaxWhenTheServerRefusesWebSockets() async throws {
        let server = try ServeProcess(["--echo", "--no-websocket"])
        defer { _ = server.terminate() }
        let client = Self.client(server.port, type: .auto, proto: .auto, uid: "fb")
        await client.start()
        #expect(await eventually { await client.currentState.isOpen })
        #expect(await client.currentState.type == "ajax")
        let reply = try await client.request(Event("my/req"), timeout: .seconds(5))
        #expect(reply[.kw("uid")] == "fb")
        await client.disconnect()
    }

    /// The server restarts on the same port: WS and Ajax clients come back by themselves.
    @Test(arguments: [ClientType.ws, .ajax])
    func clientsReconnectAfterServerRestart(type: ClientType) async throws {
        let first = try ServeProcess(["--echo", "--lp-timeout-ms", "2000"])
        let port = first.port
        let client = Self.client(port, type: type, proto: .auto, uid: "rs-\(type.rawValue)")
        await client.start()
        #expect(await eventually { await client.currentState.isOpen })
        _ = first.terminate()
        #expect(await eventually { await !client.currentState.isOpen })
        let restartedAt = Date()
        let second = try ServeProcess(["--echo", "--lp-timeout-ms", "2000", "--port", String(port)].filter { _ in true })
        defer { _ = second.terminate() }
        #expect(await eventually(15) { await client.currentState.isOpen })
        let seconds = Date().timeIntervalSince(restartedAt)
        print("\(type.rawValue) client back \(String(format: "%.2f", seconds)) s after the server restarted")
        let reply = try await client.request(Event("my/req"), timeout: .seconds(5))
        #expect(reply[.kw("uid")] == .string("rs-\(type.rawValue)"))
        await client.disconnect()
    }

    @Test func sendWhileClosedAndReplyTimeout() async throws {
        let server = try ServeProcess([])   // no app: never replies
        defer { _ = server.terminate() }
        let client = Self.client(server.port, type: .ws, proto: .auto, uid: "t")
        await #expect(throws: RequestError.closed) { try await client.send(Event("a/b")) }
        await client.start()
        #expect(await eventually { await client.currentState.isOpen })
        let start = Date()
        await #expect(throws: RequestError.timeout) { _ = try await client.request(Event("a/b"), timeout: .milliseconds(300)) }
        #expect(Date().timeIntervalSince(start) < 3)
        await client.disconnect()
    }
}
