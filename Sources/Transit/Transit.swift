/// Transit (JSON, JSON-verbose, MessagePack) over the EDN value model. Work in progress.
public enum TransitFormat: String, Sendable, CaseIterable {
    /// Transit JSON (with the write cache).
    case json
    /// Transit JSON-verbose (no cache, maps as objects).
    case jsonVerbose = "json-verbose"
    /// Transit MessagePack.
    case msgpack
}
