import Foundation

/// The shared EDN corpus (`shared/conformance/edn-corpus`): every input of its derived cases
/// and of the edn-tests suite, valid and invalid. Empty when the corpus is not there (a test
/// should `#require` a minimum count).
public enum EDNCorpus {
    public static var inputs: [String] {
        let root = Checkout.shared.appendingPathComponent("conformance/edn-corpus").path
        var inputs: [String] = []
        if let lines = try? String(contentsOfFile: root + "/derived-cases.jsonl", encoding: .utf8) {
            for line in lines.split(separator: "\n") {
                if let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let input = obj["input"] as? String {
                    inputs.append(input)
                }
            }
        }
        for dir in ["valid-edn", "invalid-edn"] {
            let path = root + "/shaunxcode-edn-tests/" + dir
            for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] where name.hasSuffix(".edn") {
                if let text = try? String(contentsOfFile: path + "/" + name, encoding: .utf8) { inputs.append(text) }
            }
        }
        return inputs
    }
}
