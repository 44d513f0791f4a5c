import ChannelSocket
import ChannelSocketTesting
import EDN
import Testing

/// A callback reply larger than the outbound frame cap is not sent where the client would drop
/// it: over WebSocket nothing goes out (the client's callback times out), over Ajax the POST is
/// answered 500; both are logged and counted. Replies within the cap are unchanged.
@Suite struct ReplyCapTests {
    @Test func webSocketReplyOverTheCapIsRefused() async throws {
        let h = try EngineHarness(wire: .v2, echo: false) { $0.maxOutboundMessageBytes = 1_000 }
        h.server.handleEventsInline { message in
            if message.wantsReply, case .integer(let n)? = message.data {
                message.reply(.string(String(repeating: "x", count: Int(n))))
            }
        }
        let (c, socket) = await h.connect(uid: "u", client: "c")
        _ = socket.drain()
        h.send(c, "[[:my/req 2000] \"cb1\"]")
        h.send(c, "[[:my/req 10] \"cb2\"]")
        let frames = socket.drain()
        #expect(frames == ["[\"xxxxxxxxxx\" \"cb2\"]"])
        #expect(h.server.refusalCounts[.replyTooLarge] == 1)
    }

    @Test func ajaxReplyOverTheCapIsAnswered500() async throws {
        let h = try EngineHarness(wire: .v2, echo: false) { $0.maxOutboundMessageBytes = 1_000 }
        h.server.handleEventsInline { message in
            if message.wantsReply, case .integer(let n)? = message.data {
                message.reply(.string(String(repeating: "y", count: Int(n))))
            }
        }
        let big = await h.server.post(h.request("POST", ["client-id": "c", "uid": "u", "ppstr": "[[:my/req 2000] \"cb\"]"]))
        #expect(big.status == 500)
        let small = await h.server.post(h.request("POST", ["client-id": "c", "uid": "u", "ppstr": "[[:my/req 3] \"cb\"]"]))
        #expect(small.status == 200 && small.bodyText == "[\"yyy\" nil]")
        #expect(h.server.refusalCounts[.replyTooLarge] == 1)
    }
}
