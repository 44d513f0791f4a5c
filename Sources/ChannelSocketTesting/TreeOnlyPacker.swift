public import ChannelSocket
public import EDN

/// A packer that reads and writes exactly as `base` but offers no tape reader, so a client or
/// server using it reads every message to an `EDNValue` tree (the path taken before typed data
/// was decoded straight from the wire bytes): for comparing the two paths in tests and
/// benchmarks.
public struct TreeOnlyPacker: Packer {
    /// The packer whose format this one speaks.
    public let base: any Packer

    /// `base`, without its tape reader.
    public init(base: any Packer) { self.base = base }

    public var name: String { base.name }
    public var isBinary: Bool { base.isBinary }
    public func pack(_ value: EDNValue) throws -> [UInt8] { try base.pack(value) }
    public func unpack(_ payload: [UInt8]) throws -> EDNValue { try base.unpack(payload) }
    public func packFramed(_ value: EDNValue, pairedWith second: EDNValue?, prefix: UInt8?) throws -> [UInt8] {
        try base.packFramed(value, pairedWith: second, prefix: prefix)
    }
    public func unpackFrame(_ payload: [UInt8]) throws -> EDNValue { try base.unpackFrame(payload) }
}
