import Foundation

/// Code blocks marked in a source file for documentation checks: the lines between
/// `// MARK_PREFIX NAME` and `// MARK_PREFIX end` (e.g. `// README: embed` … `// README: end`),
/// each without the indentation of its opening mark.
public enum MarkedBlocks {
    /// Every block of `source` marked with `prefix` (`"README:"`, `"DOCS:"`), by name.
    public static func blocks(in source: String, prefix: String) -> [String: String] {
        let mark = "// \(prefix) "
        var blocks: [String: String] = [:]
        var current: (name: String, lines: [String], indent: Int)?
        for line in source.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.drop { $0 == " " }
            if trimmed.hasPrefix(mark) {
                let name = String(trimmed.dropFirst(mark.count))
                if name == "end", let block = current {
                    blocks[block.name] = block.lines.map { String($0.dropFirst(min(block.indent, $0.count))) }.joined(separator: "\n")
                    current = nil
                } else if name != "end" {
                    current = (name, [], line.count - trimmed.count)
                }
            } else if current != nil {
                current!.lines.append(String(line))
            }
        }
        return blocks
    }

    /// The ```` ```swift ```` blocks of a Markdown text, in order.
    public static func swiftBlocks(inMarkdown text: String) -> [String] {
        var blocks: [String] = []
        var current: [String]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil {
                if line == "```swift" { current = [] }
            } else if line == "```" {
                blocks.append(current!.joined(separator: "\n"))
                current = nil
            } else {
                current!.append(String(line))
            }
        }
        return blocks
    }
}
