import ChannelSocket
public import Hummingbird
import Logging
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Static files from one folder and nothing outside it: Hummingbird's `LocalFileSystem` with
/// the paths it must not serve refused (404) before any file is touched:
/// - a path component starting with `.` (dotfiles and dot-folders: `.git`, `.env`, …);
/// - control characters (a `%00` would cut the path short: `/index.html%00.txt`) and `\`;
/// - a file whose real path (symlinks resolved) is outside the folder's real path.
///
/// Each refusal is logged and counted (`RefusalReason.staticPathRefused`).
public struct ConfinedFileSystem: FileProvider {
    public typealias FileAttributes = LocalFileSystem.FileAttributes
    public typealias FileIdentifier = LocalFileSystem.FileIdentifier

    let base: LocalFileSystem
    let realRoot: String
    let server: ChannelSocketServer?

    /// Files under `rootFolder`; refusals are logged and counted on `server` when given.
    public init(rootFolder: String, server: ChannelSocketServer? = nil, logger: Logger) {
        base = LocalFileSystem(rootFolder: rootFolder, threadPool: .singleton, logger: logger)
        realRoot = Self.realPath(rootFolder) ?? rootFolder
        self.server = server
    }

    public func getFileIdentifier(_ path: String) -> FileIdentifier? {
        if let why = Self.refusal(path) {
            refuse(path, why)
            return nil
        }
        guard let id = base.getFileIdentifier(path) else { return nil }
        // A file that does not exist is simply not found; one that does must lie inside.
        guard let real = Self.realPath(id) else { return id }
        guard real == realRoot || real.hasPrefix(realRoot.hasSuffix("/") ? realRoot : realRoot + "/") else {
            refuse(path, "resolves outside the folder")
            return nil
        }
        return id
    }

    public func getAttributes(id: FileIdentifier) async throws -> FileAttributes? {
        try await base.getAttributes(id: id)
    }

    public func loadFile(id: FileIdentifier, context: some RequestContext) async throws -> ResponseBody {
        try await base.loadFile(id: id, context: context)
    }

    public func loadFile(id: FileIdentifier, range: ClosedRange<Int>, context: some RequestContext) async throws -> ResponseBody {
        try await base.loadFile(id: id, range: range, context: context)
    }

    /// Why a request path is refused before the file system is asked, or nil.
    static func refusal(_ path: String) -> String? {
        if path.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }) {
            return "control character or backslash in the path"
        }
        if path.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
            return "dotfile or dot-folder"
        }
        return nil
    }

    private func refuse(_ path: String, _ why: String) {
        server?.countRefusal(.staticPathRefused)
        server?.log(.info, "static: \(String(reflecting: path).prefix(200)) refused (\(why)); answered 404")
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
