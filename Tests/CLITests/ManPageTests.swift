import Foundation
import TestSupport
import Testing

/// man/chsk.1 (written by .ci/gen-manual): current, complete and free of groff warnings.
@Suite struct ManPageTests {
    static var page: String {
        (try? String(contentsOf: CLI.packageRoot.appendingPathComponent("man/chsk.1"), encoding: .utf8)) ?? ""
    }

    static func which(_ tool: String) -> String? {
        ["/usr/bin/", "/bin/", "/usr/local/bin/"].map { $0 + tool }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `groff -ww -mdoc` and `-mandoc` (what `man --warnings` runs) print nothing.
    @Test func rendersWithoutGroffWarnings() throws {
        guard let groff = Self.which("groff") else {
            print("ManPageTests: groff is not installed (apt-get install groff); the groff check is skipped")
            return
        }
        let path = CLI.packageRoot.appendingPathComponent("man/chsk.1").path
        for macros in ["-mdoc", "-mandoc"] {
            let r = ChildProcess.run(groff, ["-ww", macros, "-Tutf8", "-z", path], mergeStderr: true, timeout: 60)
            #expect(r.status == 0)
            #expect(r.output.isEmpty, "groff -ww \(macros) -z man/chsk.1: \(r.output)")
        }
        // Rendered, the page keeps the "…" and the options read as typed (no hyphenation).
        let text = ChildProcess.run(groff, ["-mdoc", "-Tutf8", "-P-c", "-rLL=80n", path], environment: ["MANWIDTH": "80"], timeout: 60).output
        #expect(text.contains("[:bench/echo …]"))
        #expect(!text.contains("\u{2010}"))
    }

    /// The page is what .ci/gen-manual writes from the current argument definitions.
    @Test func isCurrent() throws {
        guard let python = Self.which("python3") else {
            print("ManPageTests: python3 is not installed; the regeneration check is skipped")
            return
        }
        let r = ChildProcess.run(python, [CLI.packageRoot.appendingPathComponent(".ci/gen-manual").path, CLI.executable.path], timeout: 60)
        #expect(r.status == 0)
        #expect(r.stdout == Self.page, "man/chsk.1 is stale: run .ci/regen-docs")
    }

    @Test func hasEverySection() throws {
        let page = Self.page
        for section in [".Sh NAME", ".Sh SYNOPSIS", ".Sh DESCRIPTION", ".Sh COMMANDS", ".Sh ENVIRONMENT", ".Sh FILES",
                        ".Sh EXIT STATUS", ".Sh EXAMPLES", ".Sh SEE ALSO"] {
            #expect(page.contains("\n" + section + "\n"), "no \(section)")
        }
        let exitStatus = page.components(separatedBy: ".Sh EXIT STATUS")[1].components(separatedBy: ".Sh EXAMPLES")[0]
        for code in ["0", "1", "3", "4", "5", "6", "64", "65", "130, 143"] {
            #expect(exitStatus.contains("\n.It \(code)\n"), "exit status \(code) missing")
        }
        #expect(page.contains(".It Ev NO_COLOR\n"))
        // Defaults and value lists of the options.
        #expect(page.contains(".It Fl -port Ar port\nPort (0 picks a free one and prints it).\nDefault: 8090.\n"))
        #expect(page.contains("Values: edn, json, transit\\-json, transit\\-json\\-verbose, transit\\-msgpack. Default: edn."))
        // The "…" is kept (as a groff escape), and no line is empty (mdoc's warning).
        #expect(page.contains("[:bench/echo \\[u2026]]"))
        #expect(!page.contains("\n\n"))
    }

    /// EXAMPLES has one example for each subcommand, and README.md shows each of them.
    @Test func examplesAreTheREADMEs() throws {
        let page = Self.page
        let readme = try String(contentsOf: CLI.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let examples = page.components(separatedBy: ".Sh EXAMPLES\n")[1].components(separatedBy: ".Sh SEE ALSO")[0]
        var commands: [String] = []
        var literal = false
        for line in examples.split(separator: "\n").map(String.init) {
            if line.hasPrefix(".Bd") { literal = true } else if line == ".Ed" { literal = false } else if literal { commands.append(line) }
        }
        let unescaped = commands.map { $0.replacingOccurrences(of: "\\-", with: "-").replacingOccurrences(of: "\\e", with: "\\") }
        for name in ["serve", "connect", "send", "await", "watch", "bench", "convert", "pack", "unpack"] {
            #expect(unescaped.contains { ($0 + " ").contains("chsk \(name) ") }, "no example of chsk \(name)")
        }
        for command in unescaped {
            #expect(readme.contains(command), "README.md lacks the man page's example: \(command)")
        }
    }
}
