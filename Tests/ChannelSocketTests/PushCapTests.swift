import ChannelSocket
import ChannelSocketTesting
import EDN
import Foundation
import Synchronization
import Testing

/// Issue 13 items 6 and 2 (Ajax half): push batches never exceed the outbound frame cap,
/// an event too large alone is refused to its sender, and an Ajax client's waiting pushes are
/// bounded. Nothing is lost silently.
@Suite struct PushCapTests {
    static let cap = 1_000_000

    /// `[:a/big [i "xxx…"]]`, about `size` bytes packed.
    static func big(_ i: Int, _ size: Int = 400_000) -> Event {
        Event("a/big", [.integer(Int64(i)), .string(String(repeating: "x", count: size))])
    }

    /// The indices of the `:a/big` events in a push frame (a batch).
    static func indices(_ frame: String) throws -> [Int] {
        let unpacked = try Framing.unpack(Array(frame.utf8), packer: EDNPacker())
        return try #require(unpacked.value.sequenceElements).map { event in
            guard let items = event.sequenceElements, items.count == 2, items[0] == .keyword("a/big"),
                  let data = items[1].sequenceElements, case .integer(let i) = data[0] else { return -1 }
            return Int(i)
        }
    }

    /// The frames written to `socket` until they hold `count` events (packing 400 KB events
    /// takes real time, so this waits in real time, up to 30 s).
    static func frames(_ socket: RecordingWebSocket, events count: Int) async throws -> [String] {
        var frames: [String] = []
        _ = await PresenceScaleTests.waitUntil(seconds: 30) {
            frames += socket.drain()
            return ((try? frames.flatMap(indices)) ?? []).count >= count
        }
        return frames
    }

    static func harness(_ wire: WireOption, _ configure: @escaping (inout ChannelSocketServerOptions) -> Void = { _ in }) throws -> EngineHarness {
        try EngineHarness(wire: wire, echo: false) { o in
            o.maxOutboundMessageBytes = cap
            configure(&o)
        }
    }

    @Test(arguments: [WireOption.v1, .v2])
    func webSocketBatchOverTheCapIsSplitInOrder(wire: WireOption) async throws {
        let h = try Self.harness(wire)
        let (_, socket) = await h.connect(uid: "u", client: "c")
        _ = socket.drain()   // the handshake
        for i in 0..<3 { try await h.server.send(Self.big(i), to: "u") }   // one 30 ms window
        // Past the cap the window ends early: the frames are out before the window's timer.
        let frames = socket.drain()
        await h.clock.advance(by: .milliseconds(50))
        #expect(socket.drain().isEmpty)
        #expect(frames.count >= 2)
        #expect(frames.allSatisfy { $0.utf8.count <= Self.cap })
        #expect(try frames.flatMap(Self.indices) == [0, 1, 2])
        #expect(frames.first?.hasPrefix(wire == .v1 ? "-[[:a/big" : "[[[:a/big") == true)
        #expect(h.server.refusalCounts[.batchSplit] == 1)
        #expect(h.server.refusalCounts[.eventTooLarge] == 0)
        // Small pushes still share one frame.
        for i in 10..<13 { try await h.server.send(Self.big(i, 10), to: "u") }
        await h.clock.advance(by: .milliseconds(50))
        let small = try await Self.frames(socket, events: 3)
        #expect(small.count == 1)
        #expect(try small.flatMap(Self.indices) == [10, 11, 12])
    }

    @Test(arguments: [WireOption.v1, .v2])
    func ajaxPollAnswersAtMostTheCapAndTheNextPollGetsTheRest(wire: WireOption) async throws {
        let h = try Self.harness(wire)
        let handshake = ["client-id": "c", "uid": "u", "handshake?": wire == .v1 ? "true" : "1"]
        _ = await h.server.poll(h.request("GET", handshake))
        // A held poll: the batch of three is answered as far as fits; the rest waits.
        let held = h.start("GET", ["client-id": "c", "uid": "u"])
        await h.clock.settle()
        for i in 0..<3 { try await h.server.send(Self.big(i), to: "u") }
        await h.clock.advance(by: .milliseconds(150))
        _ = await PresenceScaleTests.waitUntil(seconds: 30) { held.value != nil }
        let first = try #require(held.value).bodyText
        #expect(first.utf8.count <= Self.cap)
        var got = try Self.indices(first)
        #expect(got.count < 3 && !got.isEmpty)
        // Polls that find pushes waiting are answered at once, each within the cap.
        for _ in 0..<3 where got.count < 3 {
            let next = await h.server.poll(h.request("GET", ["client-id": "c", "uid": "u"]))
            #expect(next.bodyText.utf8.count <= Self.cap)
            got += try Self.indices(next.bodyText)
        }
        #expect(got == [0, 1, 2])

        // No held poll: pushes wait in the buffer; each poll takes what fits.
        for i in 3..<6 { try await h.server.send(Self.big(i), to: "u") }
        await h.clock.advance(by: .milliseconds(150))
        var later: [Int] = []
        for _ in 0..<3 where later.count < 3 {
            let next = await h.server.poll(h.request("GET", ["client-id": "c", "uid": "u"]))
            #expect(next.bodyText.utf8.count <= Self.cap)
            later += try Self.indices(next.bodyText)
        }
        #expect(later == [3, 4, 5])
    }

    @Test(arguments: [WireOption.v1, .v2, .auto])
    func anEventOverTheCapAloneIsRefusedToTheSender(wire: WireOption) async throws {
        let h = try Self.harness(wire)
        let (_, socket) = await h.connect(uid: "u", client: "c")
        _ = await h.server.poll(h.request("GET", ["client-id": "a", "uid": "u", "handshake?": "1"]))
        let poll = h.start("GET", ["client-id": "a", "uid": "u"])
        _ = socket.drain()
        try await h.server.send(Self.big(0, 10), to: "u")
        await #expect(throws: ChannelSocketServer.PushError.self) {
            try await h.server.send(Self.big(1, 2_000_000), to: "u", flush: true)
        }
        do {
            try await h.server.send(Self.big(1, 2_000_000), to: "u")
            Issue.record("a 2 MB event was accepted")
        } catch {
            guard case .tooLarge(let bytes, let limit) = error else { Issue.record("wrong error \(error)"); return }
            #expect(bytes > 2_000_000 && limit == Self.cap)
        }
        await #expect(throws: ChannelSocketServer.PushError.self) { try await h.server.broadcast(Self.big(2, 2_000_000)) }
        try await h.server.send(Self.big(3, 10), to: "u")
        await h.clock.advance(by: .milliseconds(150))
        // Only the small events went out, in one frame each way; nothing partial.
        let frames = try await Self.frames(socket, events: 2)
        _ = await PresenceScaleTests.waitUntil(seconds: 30) { poll.value != nil }
        #expect(frames.count == 1)
        #expect(try frames.flatMap(Self.indices) == [0, 3])
        #expect(try Self.indices(try #require(poll.value).bodyText) == [0, 3])
        #expect(h.server.refusalCounts[.eventTooLarge] == 3)
        #expect(h.server.refusalCounts[.batchSplit] == 0)
    }

    @Test func ajaxClientWhosePendingPushesPassTheBoundIsForgottenAndResyncs() async throws {
        let h = try Self.harness(.v2) { o in o.maxPendingBytesPerAjaxClient = 1_500_000 }
        _ = await h.server.poll(h.request("GET", ["client-id": "c", "uid": "u", "handshake?": "1"]))
        let poll = h.start("GET", ["client-id": "c", "uid": "u"])
        #expect(await h.eventually { h.eventTexts.contains("[:chsk/uidport-open \"u\"]") })
        h.server.releasePoll(h.request("GET", ["client-id": "c", "uid": "u"]))
        #expect(await h.eventually { poll.value != nil })
        // The client does not poll again within its grace; pushes pile up: 3 × 400 KB fit…
        for i in 0..<3 {
            try await h.server.send(Self.big(i), to: "u")
            await h.clock.advance(by: .milliseconds(150))
        }
        #expect(h.server.refusalCounts[.ajaxPendingOverflow] == 0)
        #expect(await h.server.clients().count == 1)
        // …the fourth passes 1.5 MB: dropped, the client forgotten (and counted, logged).
        try await h.server.send(Self.big(3), to: "u")
        await h.clock.advance(by: .milliseconds(150))
        #expect(h.server.refusalCounts[.ajaxPendingOverflow] == 1)
        #expect(await h.server.clients().isEmpty)
        #expect(await h.eventually { h.eventTexts.contains("[:chsk/uidport-close \"u\"]") })
        // Its next poll gets a new handshake, so the client knows it missed pushes.
        let next = await h.server.poll(h.request("GET", ["client-id": "c", "uid": "u"]))
        #expect(next.bodyText.hasPrefix("[[:chsk/handshake"))
    }

    @Test func optionsDefaultAndValidate() throws {
        let o = ChannelSocketServerOptions()
        #expect(o.maxOutboundMessageBytes == nil)
        #expect(o.maxPendingBytesPerAjaxClient == 4 << 20)
        var bad = ChannelSocketServerOptions()
        bad.maxOutboundMessageBytes = 10
        #expect(throws: OptionsError.self) { try bad.validate() }
    }
}
