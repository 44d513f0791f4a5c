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
        #expect(Self.complete(["chsk", "serve", "--packer", ""], in: folder) == ["edn", "transit-json", "transit-json-verbose", "transit-msgpack"])
        #expect(Self.complete(["chsk", "serve", "--tls-cert", "ce"], in: folder) == ["cert.pem"])
        #expect(Self.complete(["chsk", "serve", "--static", "pu"], in: folder) == ["public"])
        #expect(Self.complete(["chsk", "send", "http://127.0.0.1:1/chsk", "--cacert", "c"], in: folder) == ["ca.pem", "cert.pem"])
        #expect(Self.complete(["chsk", "send", "http://127.0.0.1:1/chsk", "--type", ""], in: folder) == ["ajax", "auto", "ws"])
        #expect(Self.complete(["chsk", "bench", "http://127.0.0.1:1/chsk", ""], in: folder).contains("fanout"))
    }
}
