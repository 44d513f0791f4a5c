import Foundation
import TestSupport
import Testing

/// The bash completion script as bash runs it: `_chsk` called with COMP_WORDS/COMP_CWORD set
/// the way bash sets them, in a folder with known files, and COMPREPLY read back.
@Suite struct CompletionTests {
    static let bash = "/bin/bash"

    /// What bash would offer after `words` (the last one is the word being completed).
    static func complete(_ words: [String], in folder: URL) -> [String] {
        let quoted = words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        let script = """
            source '\(CLI.packageRoot.appendingPathComponent("completions/chsk.bash").path)'
            COMP_WORDS=(\(quoted)); COMP_CWORD=$((${#COMP_WORDS[@]}-1)); COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
            COMPREPLY=()
            _chsk chsk "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
            printf '%s\\n' "${COMPREPLY[@]}"
            """
        let r = ChildProcess.run(bash, ["-c", "cd '\(folder.path)' && { \(script)\n}"], timeout: 30)
        return r.output.split(separator: "\n").map(String.init).filter { !$0.isEmpty }.sorted()
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: CompletionTests.bash)))
    func bashOffersValuesFilesAndSubcommands() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chsk-completion-\(getpid())")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("public"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for file in ["cert.pem", "key.pem", "ca.pem"] { _ = FileManager.default.createFile(atPath: folder.appendingPathComponent(file).path, contents: Data()) }

        #expect(Self.complete(["chsk", "se"], in: folder) == ["send", "serve"])
        #expect(Self.complete(["chsk", "serve", "--wire", ""], in: folder) == ["auto", "v1", "v2"])
        // serve offers Sente's packers only; pack and convert every format.
        #expect(Self.complete(["chsk", "serve", "--packer", ""], in: folder) == ["edn", "transit-json", "transit-json-verbose"])
        #expect(Self.complete(["chsk", "pack", "--packer", ""], in: folder) == ["edn", "transit-json", "transit-json-verbose", "transit-msgpack"])
        #expect(Self.complete(["chsk", "convert", "--from", ""], in: folder) == ["edn", "json", "transit-json", "transit-json-verbose", "transit-msgpack"])
        #expect(Self.complete(["chsk", "convert", "--to", "transit-json-"], in: folder) == ["transit-json-verbose"])
        #expect(Self.complete(["chsk", "bench", "http://127.0.0.1:1/chsk", "echo", "--protocol", ""], in: folder) == ["auto", "v1", "v2"])
        #expect(Self.complete(["chsk", "bench", "http://127.0.0.1:1/chsk", "fanout", "--type", ""], in: folder) == ["ajax", "auto", "ws"])
        #expect(Self.complete(["chsk", "await", "http://127.0.0.1:1/chsk", "--protocol", "v"], in: folder) == ["v1", "v2"])
        // Files for the positional arguments of pack, unpack and convert.
        #expect(Self.complete(["chsk", "pack", "ke"], in: folder) == ["key.pem"])
        #expect(Self.complete(["chsk", "unpack", "--frame", "auto", "c"], in: folder) == ["ca.pem", "cert.pem"])
        #expect(Self.complete(["chsk", "convert", "--from", "json", "pu"], in: folder) == ["public"])
        #expect(Self.complete(["chsk", "serve", "--tls-key", "k"], in: folder) == ["key.pem"])
        #expect(Self.complete(["chsk", "serve", "--tls-cert", "ce"], in: folder) == ["cert.pem"])
        #expect(Self.complete(["chsk", "serve", "--static", "pu"], in: folder) == ["public"])
        #expect(Self.complete(["chsk", "send", "http://127.0.0.1:1/chsk", "--cacert", "c"], in: folder) == ["ca.pem", "cert.pem"])
        #expect(Self.complete(["chsk", "send", "http://127.0.0.1:1/chsk", "--type", ""], in: folder) == ["ajax", "auto", "ws"])
        #expect(Self.complete(["chsk", "bench", "http://127.0.0.1:1/chsk", ""], in: folder) == ["ajax", "burst", "conns", "echo", "fanout"])
    }

    /// zsh and fish get the same completions: files, folders and value lists.
    @Test func zshAndFishCompleteTheSame() throws {
        let zsh = try String(contentsOf: CLI.packageRoot.appendingPathComponent("completions/chsk.zsh"), encoding: .utf8)
        for spec in ["'*:files:_files'", ":static:_files -/'", ":tls-cert:_files'", ":tls-key:_files'", ":file:_files'",
                     "_mode=('conns' 'echo' 'fanout' 'ajax' 'burst')", "___protocol=('auto' 'v1' 'v2')", "___type=('auto' 'ws' 'ajax')",
                     "___wire=('auto' 'v1' 'v2')", "___from=('edn' 'json' 'transit-json' 'transit-json-verbose' 'transit-msgpack')",
                     "___packer=('edn' 'transit-json' 'transit-json-verbose')"] {
            #expect(zsh.contains(spec), "completions/chsk.zsh lacks \(spec)")
        }
        let fish = try String(contentsOf: CLI.packageRoot.appendingPathComponent("completions/chsk.fish"), encoding: .utf8)
        for spec in ["\"chsk pack\" -ge 1' -F", "\"chsk unpack\" -ge 1' -F", "\"chsk convert\" -ge 1' -F",
                     "-l 'tls-cert' -d 'PEM certificate chain for HTTPS/WSS (with --tls-key).' -rF",
                     "-l 'static' -d 'Serve this folder\\'s files on the same origin.' -rfa '(__chsk_complete_directories)'",
                     "-l 'protocol' -d 'Wire generation: auto (from the handshake), v1 (Sente <= 1.16) or v2 (1.18+).' -rfka 'auto v1 v2'",
                     "-fka 'conns echo fanout ajax burst'",
                     "\"chsk convert\" to' -l 'to' -d 'Output format.' -rfka 'edn json transit-json transit-json-verbose transit-msgpack'"] {
            #expect(fish.contains(spec), "completions/chsk.fish lacks \(spec)")
        }
    }
}
