import Foundation

/// Waits until `condition` holds, checking every `step` for at most `seconds` (real time);
/// returns whether it held. For conditions that other tasks or processes make true.
public func eventually(_ seconds: Double = 10, step: Duration = .milliseconds(20), _ condition: () async -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: step)
    }
    return await condition()
}
