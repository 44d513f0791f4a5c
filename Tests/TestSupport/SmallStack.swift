import Foundation

/// Stack size the depth tests run on: a recursion that is not bounded (or bounded too
/// loosely) crashes the test process instead of passing by luck on a big main-thread stack.
public let smallStackSize = 512 * 1024

/// Runs `body` on a fresh thread with a 512 KB stack and returns its result.
public func onSmallStack<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
        let thread = Thread { continuation.resume(returning: body()) }
        thread.stackSize = smallStackSize
        thread.start()
    }
}
