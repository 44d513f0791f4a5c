import Foundation
import TestSupport
import Testing

/// `chsk serve` on an address it cannot listen on says so in one line (the address and the
/// cause, no NIO call names) and exits 3.
@Suite(.serialized) struct ServeListenTests {
    @Test func busyPortIsOneHumanLine() throws {
        let listener = try LoopbackListener()
        defer { listener.close() }
        let r = ChildProcess.run(ServeProcess.executable.path, ["serve", "--port", String(listener.port)], timeout: 30)
        #expect(!r.timedOut)
        #expect(r.status == 3, "\(r.output)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr == "chsk: cannot listen on 127.0.0.1:\(listener.port): address already in use\n", "\(r.stderr)")
    }

    @Test func addressNotOnThisMachine() {
        // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never a local address.
        let r = ChildProcess.run(ServeProcess.executable.path, ["serve", "--host", "192.0.2.1", "--port", "8090"], timeout: 30)
        #expect(!r.timedOut)
        #expect(r.status == 3, "\(r.output)")
        #expect(r.stderr == "chsk: cannot listen on 192.0.2.1:8090: no such address on this machine\n", "\(r.stderr)")
    }
}
