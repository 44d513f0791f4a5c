import Foundation
import Testing

/// completions/ and man/ are generated (.ci/regen-docs); these tests fail when they are stale.
@Suite struct GeneratedDocsTests {
    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsAreCurrent(shell: String) throws {
        let generated = try CLI.run(["--generate-completion-script", shell])
        #expect(generated.status == 0)
        let committed = try String(contentsOf: CLI.packageRoot.appendingPathComponent("completions/chsk.\(shell)"), encoding: .utf8)
        #expect(generated.stdout == committed, "completions/chsk.\(shell) is stale: run .ci/regen-docs")
    }

    /// Every command, option and abstract in the argument definitions appears in man/chsk.1.
    @Test func manPageCoversEveryCommandAndOption() throws {
        let dump = try CLI.run(["--experimental-dump-help"])
        #expect(dump.status == 0)
        // The page's text with .ci/gen-manual's escapes undone (hyphens, backslashes, non-ASCII).
        var man = try String(contentsOf: CLI.packageRoot.appendingPathComponent("man/chsk.1"), encoding: .utf8)
            .replacingOccurrences(of: "\\-", with: "-").replacingOccurrences(of: "\\e", with: "\\")
        while let range = man.range(of: #"\\\[u[0-9A-F]{4,6}\]"#, options: .regularExpression) {
            let hex = man[range].dropFirst(3).dropLast()
            man.replaceSubrange(range, with: String(Character(Unicode.Scalar(UInt32(hex, radix: 16)!)!)))
        }
        let root = try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any]
        var missing: [String] = []
        func visit(_ command: [String: Any]) {
            if let name = command["commandName"] as? String, !man.contains(name) { missing.append("command \(name)") }
            if let abstract = command["abstract"] as? String, !man.contains(abstract) { missing.append("abstract \(abstract)") }
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                guard argument["shouldDisplay"] as? Bool != false else { continue }
                for name in argument["names"] as? [[String: Any]] ?? [] where name["kind"] as? String == "long" {
                    let flag = "Fl -\(name["name"] as? String ?? "")"
                    if !man.contains(flag) { missing.append(flag) }
                }
            }
            // ArgumentParser's own `help` subcommand: the page says `chsk help SUBCOMMAND` instead.
            for sub in command["subcommands"] as? [[String: Any]] ?? [] where sub["commandName"] as? String != "help" { visit(sub) }
        }
        visit(root?["command"] as? [String: Any] ?? [:])
        #expect(missing.isEmpty, "man/chsk.1 is stale (run .ci/regen-docs): missing \(missing)")
    }
}
