import ChannelSocket
import ChannelSocketClientNIO
import EDN
import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Debian's nginx, when the cluster example's test can run (in CI it must).
enum Nginx {
    static let isAvailable: Bool = {
        if FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx") { return true }
        if ProcessInfo.processInfo.environment["CI"] != nil { return true }
        print("note: nginx not found: the nginx cluster test is skipped (apt-get install nginx, or run .ci/run)")
        return false
    }()
}

/// The shipped cluster example (`Examples/cluster/run`): Redis, three `chsk serve` nodes and a
/// real nginx in front of them, hashing on client-id. A v2 client through nginx (WebSocket, and
/// Ajax whose polls must all reach one node) gets the pushes made on every node.
@Suite(.serialized, .enabled(if: RedisProcess.isAvailable && Nginx.isAvailable)) struct ClusterNginxTests {
    /// True when a TCP listener could bind 127.0.0.1:port now.
    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        return withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    static func freeBase() -> Int {
        for _ in 0..<200 {
            let base = Int.random(in: 20_000...40_000)
            if [0, 1, 2, 3, 10].allSatisfy({ isFree(base + $0) }) { return base }
        }
        return 0
    }

    @Test func aClientThroughNginxGetsPushesMadeOnEveryNode() async throws {
        let base = Self.freeBase()
        try #require(base != 0)
        let script = Checkout.packageRoot.appendingPathComponent("Examples/cluster/run")
        // Foundation starts the script as the leader of its own process group, but with the
        // signal mask of the spawning thread, which blocks SIGTERM and SIGCHLD (bash then never
        // returns from `wait`): perl (perl-base, always on Debian) clears the mask and execs it.
        // At the end a SIGTERM to the whole group stops Redis, nginx and the nodes, and the
        // script cleans up its folder and exits.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/perl")
        process.arguments = ["-MPOSIX", "-e", "sigprocmask(SIG_SETMASK, POSIX::SigSet->new) or die; exec @ARGV or die",
                             script.path, "--base-port", String(base), "--chsk", Checkout.chsk.path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        defer {
            let group = process.processIdentifier
            kill(-group, SIGTERM)
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            kill(-group, SIGKILL)
            ChildProcess.stop(process, grace: 1)
        }
        let ready = ServeProcess.readLine(out.fileHandleForReading.fileDescriptor, timeout: 60) ?? ""
        try #require(ready.hasPrefix("ready:"), "the script printed: \(ready)")

        var clients: [(ChannelSocketClient, LockedBox<[String]>, Task<Void, Never>)] = []
        for (type, uid) in [(ClientType.ws, "gus"), (.ajax, "hal")] {
            let client = ChannelSocketClient(url: "http://127.0.0.1:\(base)/chsk",
                                             options: .init(type: type, protocolGeneration: .auto, params: ["uid": uid]),
                                             transport: NIOClientTransport())
            let box = LockedBox<[String]>([])
            let events = client.events
            let reader = Task { for await e in events where e.id.namespace == "app" { box.value.append(e.description) } }
            await client.start()
            clients.append((client, box, reader))
        }
        for (client, _, _) in clients {
            #expect(await eventually(15) { await client.currentState.isOpen })
            #expect(await client.currentState.generation == .v2)
        }
        // Every node sees both uids (cluster-wide connected-uids), whichever node each is on.
        for i in 1...3 {
            #expect(await eventually(10) {
                let r = ChildProcess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(base + i)/connected"], timeout: 10).stdout
                return r.contains("\"gus\"") && r.contains("\"hal\"")
            }, "node \(i)")
        }
        for i in 1...3 {
            for uid in ["gus", "hal"] {
                let r = ChildProcess.run("/usr/bin/curl", ["-s", "-G", "http://127.0.0.1:\(base + i)/push", "--data-urlencode", "uid=\(uid)",
                                                           "--data-urlencode", "ev=[:app/from \(i)]"], timeout: 10).stdout
                #expect(r.hasPrefix("pushed"), "\(r)")
            }
        }
        let want = (1...3).map { "[:app/from \($0)]" }
        for (client, box, reader) in clients {
            #expect(await eventually(10) { box.value.count >= 3 })
            try? await Task.sleep(for: .milliseconds(300))
            #expect(box.value == want, "three pushes, made on three nodes, in order, once: \(box.value)")
            await client.disconnect()
            reader.cancel()
        }
    }
}
