import ChannelSocket
import ChannelSocketNIO
import NIOCore
import NIOHTTP1
import NIOWebSocket
import Vapor

extension VaporChannelSocket {
    /// Upgrades a checked `GET` to a WebSocket served by the engine's own NIO handlers
    /// (`ChannelSocketNIO`, as `chsk serve` serves it), not by WebSocketKit: NIO's negotiation
    /// answers the upgrade, then the channel's pipeline reads and writes frames itself, with
    /// the RFC 6455 checks WebSocketKit leaves undone (unmasked client frames, text that is not
    /// UTF-8, invalid close codes), the message size limit, one pong per read for a ping flood,
    /// TCP backpressure, a bounded write queue and a write-stall timeout.
    static func webSocket(_ request: Request, connection: ConnectionRequest, server: ChannelSocketServer,
                          configuration: ChannelSocketVaporConfiguration) -> Response {
        // Vapor upgrades only when `Connection` names `upgrade`, and NIO's upgrader needs a key
        // and version 13; without them the 101 would go out as a plain response.
        let connectionTokens = request.headers[canonicalForm: "connection"].map { $0.lowercased() }
        guard server.options.allowWebSocket, connectionTokens.contains("upgrade"),
              request.headers.first(name: "sec-websocket-key") != nil,
              request.headers.first(name: "sec-websocket-version") == "13"
        else { return refusedUpgrade(.webSocketUpgradeFailed) }
        var kept = connection
        kept.headers = kept.headers.filter { ConnectionRequest.keepsHeader($0.key, retained: server.options.retainedRequestHeaders) }
        let response = Response(status: .switchingProtocols)
        response.upgrader = EngineWebSocketUpgrader(server: server, request: kept, limits: configuration.webSocketLimits)
        return response
    }
}

/// Vapor's hook for an upgrade (a `101` response's `upgrader`): the engine's WebSocket.
struct EngineWebSocketUpgrader: Upgrader {
    let server: ChannelSocketServer
    let request: ConnectionRequest
    let limits: WebSocketLimits

    func applyUpgrade(req: Request, res: Response) -> any HTTPServerProtocolUpgrader {
        EngineProtocolUpgrader(server: server, request: request, limits: limits)
    }
}

/// NIO's WebSocket negotiation (`Sec-WebSocket-Accept`, header checks) with the upgraded
/// pipeline being the engine's handlers only: NIO's own upgrade would add its frame decoder
/// and encoder, and the engine reads and writes frames itself.
final class EngineProtocolUpgrader: HTTPServerProtocolUpgrader, Sendable {
    let server: ChannelSocketServer
    let request: ConnectionRequest
    let limits: WebSocketLimits
    let negotiation: NIOWebSocketServerUpgrader

    init(server: ChannelSocketServer, request: ConnectionRequest, limits: WebSocketLimits) {
        self.server = server
        self.request = request
        self.limits = limits
        negotiation = NIOWebSocketServerUpgrader(
            maxFrameSize: ChannelSocketNIO.maxFrameSize(for: server), automaticErrorHandling: false,
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, _ in channel.eventLoop.makeSucceededVoidFuture() })
    }

    var supportedProtocol: String { negotiation.supportedProtocol }
    var requiredUpgradeHeaders: [String] { negotiation.requiredUpgradeHeaders }

    func buildUpgradeResponse(channel: any Channel, upgradeRequest: HTTPRequestHead,
                              initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        negotiation.buildUpgradeResponse(channel: channel, upgradeRequest: upgradeRequest,
                                         initialResponseHeaders: initialResponseHeaders)
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        let server = self.server, request = self.request, limits = self.limits
        return context.eventLoop.makeCompletedFuture {
            try ChannelSocketNIO.addWebSocketHandlers(to: context.pipeline.syncOperations, server: server,
                                                      request: request, limits: limits)
        }
    }
}
