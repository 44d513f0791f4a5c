import ChannelSocket
import ChannelSocketTesting
import EDN
import Foundation
import TestSupport
import Testing

/// The engine as a node of a cluster (`ChannelSocketServer(cluster:)`), three nodes joined by
/// an `InMemoryCluster`: what crosses nodes, connected-uids, cluster-wide uidport events,
/// node loss and a broker that refuses. The Redis broker is tested in IntegrationTests.
@Suite struct ClusterEngineTests {
    static func nodes(_ cluster: InMemoryCluster, _ names: [String] = ["a", "b", "c"]) throws -> [EngineHarness] {
        try names.map { try EngineHarness(wire: .v2, cluster: cluster.broker(nodeID: $0)) }
    }


    static func count(_ id: String, _ nodes: [EngineHarness]) -> Int {
        nodes.reduce(0) { $0 + $1.events.filter { $0.id == Keyword(id) && !$0.isFromClient }.count }
    }

    @Test func pushFromOneNodeReachesTheUIDsClientsOnTheOthers() async throws {
        let cluster = InMemoryCluster()
        let n = try Self.nodes(cluster)
        let (_, onB) = await n[1].connect(uid: "alice", client: "b1")
        let (_, onC) = await n[2].connect(uid: "alice", client: "c1")
        let (_, bob) = await n[2].connect(uid: "bob", client: "c2")
        for s in [onB, onC, bob] { _ = s.drain() }   // handshakes
        let want = ConnectedUIDs(ws: ["alice", "bob"], ajax: [], any: ["alice", "bob"])
        #expect(await eventually { await n[0].server.connectedUIDs == want })
        for node in n { #expect(Set(await node.server.connectedUIDs.any) == Set(want.any)) }
        #expect(n[0].server.clusterNodes(with: "alice") == 2)

        for i in 1...5 { try await n[0].server.send(Event("app/n", .integer(Int64(i))), to: "alice", flush: true) }
        let frames = (1...5).map { "[[[:app/n \($0)]] nil]" }
        #expect(await eventually { onB.messages.suffix(5) == frames[...] && onC.messages.suffix(5) == frames[...] })
        #expect(bob.drain().isEmpty, "a push to alice reached bob")
        // The sender has no client of alice: nothing was buffered or sent there.
        #expect(try await n[0].server.send(Event("app/x"), to: "alice") == 0)

        // Broadcast from a: every uid of every node, once.
        _ = onB.drain(); _ = onC.drain()
        #expect(try await n[0].server.broadcast(Event("app/all", 1), flush: true) == 2)
        // (a's unflushed push to alice above rides in the same batch on b and c)
        func all(_ s: RecordingWebSocket) -> Int { s.messages.filter { $0.contains("[:app/all 1]") }.count }
        #expect(await eventually { all(onB) == 1 && all(onC) == 1 && all(bob) == 1 })
        #expect(onC.messages.last == "[[[:app/x] [:app/all 1]] nil]")

        // [:chsk/close] from a closes alice's sockets on b and c, not bob's.
        try await n[0].server.send(Event(Reserved.close), to: "alice")
        #expect(await eventually { onB.closeCode == 1000 && onC.closeCode == 1000 })
        #expect(bob.closeCode == nil)
    }

    @Test func clusterUIDPortEventsFireOnceWhileNodeLocalOnesStayAsInSente() async throws {
        let cluster = InMemoryCluster()
        let n = try Self.nodes(cluster)
        let (b1, _) = await n[1].connect(uid: "alice", client: "b1")
        let (c1, _) = await n[2].connect(uid: "alice", client: "c1")
        #expect(await eventually { Self.count("chsk/uidport-open", n) == 2 })
        #expect(Self.count("chsk/cluster-uidport-open", n) == 1)
        #expect(n[1].events.contains { $0.engineEvent == .clusterUIDPortOpen("alice") }, "the node where alice first connected hears it")

        // b's client leaves (after the grace): b's own close; alice is still on c.
        await b1.closed()
        await n[1].clock.advance(by: .seconds(6))
        #expect(await eventually { Self.count("chsk/uidport-close", n) == 1 })
        #expect(Self.count("chsk/cluster-uidport-close", n) == 0)
        #expect(await eventually { await n[0].server.connectedUIDs.any == ["alice"] })

        await c1.closed()
        await n[2].clock.advance(by: .seconds(6))
        #expect(await eventually { Self.count("chsk/cluster-uidport-close", n) == 1 })
        #expect(n[2].events.contains { $0.engineEvent == .clusterUIDPortClose("alice") })
        #expect(await eventually { await n[0].server.connectedUIDs.any.isEmpty })
    }

    @Test func aDeadNodesUIDsLeaveAndTheirCloseFiresOnASurvivor() async throws {
        let cluster = InMemoryCluster()
        let n = try Self.nodes(cluster)
        _ = await n[1].connect(uid: "alice", client: "b1")
        _ = await n[2].connect(uid: "carol", client: "c1")
        #expect(await eventually { await n[0].server.connectedUIDs.any.count == 2 })
        cluster.kill("c")
        #expect(await eventually { await n[0].server.connectedUIDs.any == ["alice"] })
        #expect(await eventually { Self.count("chsk/cluster-uidport-close", Array(n[0...1])) == 1 })
        #expect(n[0].events.contains { $0.engineEvent == .clusterUIDPortClose("carol") })
        #expect(await n[1].server.connectedUIDs.any == ["alice"])
    }

    @Test func aBrokerThatCannotTakeAPushIsToldToTheCaller() async throws {
        let cluster = InMemoryCluster()
        let n = try Self.nodes(cluster, ["a", "b"])
        let (_, local) = await n[0].connect(uid: "alice", client: "a1")
        _ = local.drain()
        cluster.isAvailable = false
        await #expect(throws: ChannelSocketServer.PushError.clusterUnavailable(reachedHere: 1, reason: "cluster unavailable: the in-memory cluster is marked unavailable")) {
            try await n[0].server.send(Event("app/x", 1), to: "alice", flush: true)
        }
        #expect(local.messages.last == "[[[:app/x 1]] nil]", "the node's own clients still get it")
        #expect(n[0].server.refusalCounts[.clusterUnavailable] == 1)
        await #expect(throws: ChannelSocketServer.PushError.self) { try await n[0].server.broadcast(Event("app/y")) }
        #expect(n[0].server.refusalCounts[.clusterUnavailable] == 2)
    }

    @Test func clientsCannotForgeClusterEngineEvents() async throws {
        let cluster = InMemoryCluster()
        let n = try Self.nodes(cluster, ["a"])
        let (c, _) = await n[0].connect(uid: "mallory", client: "m1")
        n[0].send(c, "[[:chsk/cluster-uidport-close \"alice\"] nil]")
        #expect(await eventually { n[0].events.contains { $0.id == Reserved.clusterUIDPortClose } })
        let forged = n[0].events.first { $0.id == Reserved.clusterUIDPortClose }
        #expect(forged?.isFromClient == true)
        #expect(EngineEvent.ids.contains(Reserved.clusterUIDPortClose))
    }

    @Test func aPushFromAnotherNodeThatIsNoAppEventIsRefusedAndCounted() async throws {
        let cluster = InMemoryCluster()
        let n = try Self.nodes(cluster, ["a", "b"])
        let (_, s) = await n[1].connect(uid: "alice", client: "b1")
        _ = s.drain()
        let rogue = cluster.broker(nodeID: "rogue")
        rogue.start { _ in }
        try rogue.publish(.push(uid: "alice", event: [.kw("chsk/close")], flush: true))
        try rogue.publish(.push(uid: "alice", event: "not an event", flush: true))
        try rogue.publish(.push(uid: "alice", event: [.kw("app/ok")], flush: true))
        #expect(await eventually { s.messages.contains("[[[:app/ok]] nil]") })
        #expect(s.closeCode == nil)
        #expect(n[1].server.refusalCounts[.clusterBadMessage] == 2)
    }
}
