#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// libFuzzer's driver (in libclang_rt.fuzzer, linked by `-sanitize=fuzzer`).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt

/// Runs libFuzzer's driver with the process's arguments and `callback`; each target's
/// `<Module>_main` calls it (SwiftPM links executables with `main` = `<Module>_main`, so
/// libFuzzer's own `main` is not used).
public func runFuzzer(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>,
                      _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}

/// The stack size the readers run on: issue 13 asks that they be safe on a 512 KB stack.
/// `FUZZ_STACK_KB` overrides it.
public let fuzzStackBytes: Int = {
    if let s = getenv("FUZZ_STACK_KB"), let kb = Int(String(cString: s)), kb > 0 { return kb << 10 }
    return 512 << 10
}()

private final class ThreadBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// Runs `body` to the end on a new thread with a `fuzzStackBytes` stack (a stack overflow
/// there is a finding: the readers' depth bounds must keep them inside it).
public func onSmallStack(_ body: @escaping () -> Void) {
    var attr = pthread_attr_t()
    pthread_attr_init(&attr)
    defer { pthread_attr_destroy(&attr) }
    pthread_attr_setstacksize(&attr, fuzzStackBytes)
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
#if canImport(Glibc)
    var thread = pthread_t()
#else
    var thread: pthread_t?
#endif
    let rc = pthread_create(&thread, &attr, { raw in
        let box = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
        box.body()
        return nil
    }, context)
    precondition(rc == 0, "pthread_create failed: \(rc)")
#if canImport(Glibc)
    pthread_join(thread, nil)
#else
    pthread_join(thread!, nil)
#endif
}

/// The fuzzer's bytes as an array.
public func bytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data, count: size))
}

/// A finding that is not a crash by itself (a round trip that does not hold): abort with the
/// details, so libFuzzer saves the input.
public func finding(_ message: @autoclosure () -> String) -> Never {
    fatalError("FUZZ FINDING: " + message())
}
