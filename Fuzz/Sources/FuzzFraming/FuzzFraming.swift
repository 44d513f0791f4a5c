import ChannelSocket
import EDN
import FuzzSupport
import Transit

/// Sente frame unpacking, both generations. The first byte picks the packer (EDN,
/// Transit-JSON, Transit-msgpack) and the generation (detected, v1, v2); the rest is the
/// message. What unpacks packs again in its generation and unpacks to an equal frame.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let selector = data[0]
    let message = bytes(data + 1, size - 1)
    onSmallStack {
        let generation: WireGeneration? = switch (selector >> 2) % 3 {
        case 0: nil
        case 1: .v1
        default: .v2
        }
        switch selector % 3 {
        case 0: check(message, generation, EDNPacker())
        case 1: check(message, generation, TransitPacker(format: .json))
        default: check(message, generation, TransitPacker(format: .msgpack))
        }
    }
    return 0
}

func check(_ message: [UInt8], _ generation: WireGeneration?, _ packer: some Packer) {
    let frame: Frame
    do { frame = try Framing.unpack(message, generation: generation, packer: packer) } catch {
        _ = String(describing: error)
        return
    }
    let packed: [UInt8]
    do { packed = try Framing.pack(frame.value, callbackID: frame.callbackID, generation: frame.generation, packer: packer) } catch {
        return   // a writer's typed refusal (depth), not a finding
    }
    let again: Frame
    do { again = try Framing.unpack(packed, generation: frame.generation, packer: packer) } catch {
        finding("\(packer.name) \(frame.generation): a packed frame does not unpack: \(error)\nvalue: \(EDNPrinter.string(frame.value))")
    }
    guard again == frame else {
        finding("\(packer.name) \(frame.generation): frame round trip differs\n1: \(EDNPrinter.string(frame.value)) cb \(frame.callbackID.map(EDNPrinter.string) ?? "-")\n2: \(EDNPrinter.string(again.value)) cb \(again.callbackID.map(EDNPrinter.string) ?? "-")")
    }
    // v1 always-wrapped form (how a 1.14 client sends): `+[value]`.
    if frame.generation == .v1, frame.callbackID == nil,
       let wrapped = try? Framing.pack(frame.value, generation: .v1, packer: packer, alwaysWrap: true) {
        guard let w = try? Framing.unpack(wrapped, generation: .v1, packer: packer), w == frame else {
            finding("\(packer.name) v1: +[value] does not unpack to the frame\nvalue: \(EDNPrinter.string(frame.value))")
        }
    }
}

@_cdecl("FuzzFraming_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runFuzzer(argc, argv, fuzz)
}
