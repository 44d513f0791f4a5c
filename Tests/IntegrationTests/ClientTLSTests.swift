import ChannelSocket
import ChannelSocketClientNIO
import EDN
import Foundation
import TestSupport
import Testing

/// The client over TLS against `chsk serve --tls-cert/--tls-key` with a self-signed
/// certificate for 127.0.0.1 made here: `--cacert` trusts it (an IP address host works, over
/// ws and ajax), without it the certificate is refused in one line with exit 3, `--insecure`
/// skips the check; the library's `ClientTLS` does the same.
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")))
struct ClientTLSTests {
    static var chsk: String { ServeProcess.executable.path }

    /// A directory with `cert.pem`/`key.pem` for `subject` and `san`, removed by `cleanup`.
    struct Certificate {
        let dir: URL
        var cert: String { dir.appendingPathComponent("cert.pem").path }
        var key: String { dir.appendingPathComponent("key.pem").path }

        init(_ name: String, subject: String = "/CN=127.0.0.1", san: String = "IP:127.0.0.1") throws {
            dir = FileManager.default.temporaryDirectory.appendingPathComponent("chsk-client-tls-\(name)-\(getpid())")
            try? FileManager.default.removeItem(at: dir)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let dir = self.dir
            let gen = ChildProcess.run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes",
                                                            "-keyout", dir.appendingPathComponent("key.pem").path,
                                                            "-out", dir.appendingPathComponent("cert.pem").path,
                                                            "-days", "1", "-subj", subject, "-addext", "subjectAltName=\(san)"],
                                       mergeStderr: true, timeout: 60)
            #expect(gen.status == 0, "\(gen.output)")
        }

        func cleanup() { try? FileManager.default.removeItem(at: dir) }
    }

    static func send(_ url: String, _ extra: [String]) -> ChildResult {
        ChildProcess.run(chsk, ["send", url, "[:tls/req 7]", "--reply", "--connect-timeout", "10"] + extra, timeout: 60)
    }

    @Test func sendOverWSSAndHTTPSToAnIPAddress() throws {
        let certificate = try Certificate("ip")
        defer { certificate.cleanup() }
        let server = try ServeProcess(["--echo", "--tls-cert", certificate.cert, "--tls-key", certificate.key])
        defer { _ = server.terminate() }
        let wss = "wss://127.0.0.1:\(server.port)/chsk", https = "https://127.0.0.1:\(server.port)/chsk"
        for (url, type) in [(wss, "ws"), (wss, "ajax"), (https, "auto"), (https, "ajax")] {
            let trusted = Self.send(url, ["--type", type, "--uid", "t-\(type)", "--cacert", certificate.cert])
            #expect(trusted.status == 0, "\(url) \(type): \(trusted.output)")
            #expect(trusted.stdout.hasPrefix("{:echo [:tls/req 7], :uid \"t-\(type)\""), "\(url) \(type): \(trusted.output)")

            let untrusted = Self.send(url, ["--type", type])
            #expect(untrusted.status == 3, "\(url) \(type): \(untrusted.output)")
            #expect(untrusted.stdout.isEmpty)
            let lines = untrusted.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(untrusted.stderr)")
            #expect(untrusted.stderr.hasPrefix("chsk: cannot connect to 127.0.0.1:\(server.port): the server's TLS certificate is not trusted"),
                    "\(untrusted.stderr)")
            #expect(untrusted.stderr.contains("--cacert") && !untrusted.stderr.contains("NIOSSL") && !untrusted.stderr.contains(".swift"))

            let insecure = Self.send(url, ["--type", type, "--insecure"])
            #expect(insecure.status == 0 && insecure.stdout.hasPrefix("{:echo [:tls/req 7]"), "\(url) \(type): \(insecure.output)")
        }
        // Events without --reply reach the server too (the WebSocket closes with a handshake over TLS).
        let lines = (1...5).map { "[:tls/ev \($0)]" }.joined(separator: "\n") + "\n"
        let piped = ChildProcess.run(Self.chsk, ["send", wss, "-", "--type", "ws", "--cacert", certificate.cert],
                                     stdin: Array(lines.utf8), mergeStderr: true, timeout: 60)
        #expect(piped.status == 0, "\(piped.output)")
    }

    /// `chsk bench` over wss:// with --cacert (and --insecure); the lean clients refuse TLS.
    @Test func benchOverTLS() throws {
        let certificate = try Certificate("bench")
        defer { certificate.cleanup() }
        let server = try ServeProcess(["--echo", "--tls-cert", certificate.cert, "--tls-key", certificate.key])
        defer { _ = server.terminate() }
        let url = "wss://127.0.0.1:\(server.port)/chsk"
        for trust in [["--cacert", certificate.cert], ["--insecure"]] {
            let r = ChildProcess.run(Self.chsk, ["bench", url, "echo", "--connections", "2", "--duration", "0.5", "--json"] + trust, timeout: 60)
            #expect(r.status == 0, "\(trust): \(r.output)")
            let result = try JSONBridge.readAll(Array(r.stdout.utf8), options: .init(keywordizeKeys: false)).first ?? .null
            #expect((result[.string("operations")]?.int64Value ?? 0) > 0 && result[.string("errors")] == 0, "\(trust): \(r.stdout)")
        }
        let untrusted = ChildProcess.run(Self.chsk, ["bench", url, "echo", "--connections", "2", "--duration", "0.5"], timeout: 60)
        #expect(untrusted.status == 3 && untrusted.stderr.contains("TLS certificate is not trusted"), "\(untrusted.output)")
        let lean = ChildProcess.run(Self.chsk, ["bench", url, "fanout", "--client", "lean"], mergeStderr: true, timeout: 30)
        #expect(lean.status == 64 && lean.output.contains("--client lean speaks plain ws:// and http:// only"), "\(lean.output)")
    }

    /// A certificate for another name is refused (even with --cacert), and says so.
    @Test func certificateForAnotherNameIsRefused() throws {
        let certificate = try Certificate("name", subject: "/CN=example.com", san: "DNS:example.com")
        defer { certificate.cleanup() }
        let server = try ServeProcess(["--echo", "--tls-cert", certificate.cert, "--tls-key", certificate.key])
        defer { _ = server.terminate() }
        for type in ["ws", "ajax"] {
            let r = Self.send("wss://127.0.0.1:\(server.port)/chsk", ["--type", type, "--cacert", certificate.cert])
            #expect(r.status == 3, "\(type): \(r.output)")
            #expect(r.stderr == "chsk: cannot connect to 127.0.0.1:\(server.port): the server's TLS certificate is not for 127.0.0.1; "
                        + "skip the check with --insecure\n", "\(type): \(r.stderr)")
            let insecure = Self.send("wss://127.0.0.1:\(server.port)/chsk", ["--type", type, "--insecure"])
            #expect(insecure.status == 0, "\(type): \(insecure.output)")
        }
    }

    /// `--cacert` must name a readable file; a file that holds no certificate is one line.
    @Test func cacertFileProblems() throws {
        let certificate = try Certificate("file")
        defer { certificate.cleanup() }
        let missing = ChildProcess.run(Self.chsk, ["send", "wss://127.0.0.1:1/chsk", "[:a/b]", "--cacert", "/nonexistent/ca.pem"],
                                       mergeStderr: true, timeout: 30)
        #expect(missing.status == 64 && missing.output.contains("--cacert: no such file: /nonexistent/ca.pem"), "\(missing.output)")
        let server = try ServeProcess(["--echo", "--tls-cert", certificate.cert, "--tls-key", certificate.key])
        defer { _ = server.terminate() }
        let notPEM = Self.send("wss://127.0.0.1:\(server.port)/chsk", ["--type", "ws", "--cacert", certificate.key])
        #expect(notPEM.status == 3 && notPEM.stderr.contains("cannot read the CA certificate file \(certificate.key)"), "\(notPEM.output)")
    }

    /// Plain `chsk serve` asked for wss://: the handshake failure is named, not dumped.
    @Test func tlsToAPlainServerIsOneLine() throws {
        let server = try ServeProcess(["--echo"])
        defer { _ = server.terminate() }
        for type in ["ws", "ajax"] {
            let r = Self.send("wss://127.0.0.1:\(server.port)/chsk", ["--type", type, "--insecure"])
            #expect(r.status == 3, "\(type): \(r.output)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("TLS handshake failed")
                        && !r.stderr.contains("NIOSSL"), "\(type): \(r.stderr)")
        }
    }

    /// The library: `ChannelSocketClientOptions.tls` with a CA file, over ws and ajax.
    @Test func libraryClientWithCACertificate() async throws {
        let certificate = try Certificate("lib")
        defer { certificate.cleanup() }
        let server = try ServeProcess(["--echo", "--tls-cert", certificate.cert, "--tls-key", certificate.key])
        defer { _ = server.terminate() }
        for type in [ClientType.ws, .ajax] {
            let client = ChannelSocketClient(url: "wss://127.0.0.1:\(server.port)/chsk",
                                             options: .init(type: type, params: ["uid": "lib"],
                                                            tls: ClientTLS(caCertificatePath: certificate.cert)),
                                             transport: NIOClientTransport())
            await client.start()
            try await client.waitUntilOpen(timeout: .seconds(10), failFast: true)
            let reply = try await client.request(Event("tls/lib", [.integer(1)]), timeout: .seconds(5))
            #expect(reply[.kw("echo")] == [.kw("tls/lib"), [.integer(1)]], "\(type): \(reply)")
            await client.disconnect()

            let refused = ChannelSocketClient(url: "wss://127.0.0.1:\(server.port)/chsk", options: .init(type: type),
                                              transport: NIOClientTransport())
            await refused.start()
            do {
                try await refused.waitUntilOpen(timeout: .seconds(10), failFast: true)
                Issue.record("\(type): opened without trusting the certificate")
            } catch {
                #expect("\(error)".contains("TLS certificate is not trusted"), "\(type): \(error)")
            }
            await refused.disconnect()
        }
    }
}
