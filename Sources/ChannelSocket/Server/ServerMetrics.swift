public import CoreMetrics
import Synchronization

/// What a server measures, through swift-metrics (so any backend: Prometheus with
/// swift-prometheus, StatsD, OpenTelemetry, …). Counters and histograms are updated where
/// things happen; the gauges (connections, held polls, connected uids, pending Ajax bytes) are
/// sampled by `ChannelSocketServer.sampleGauges()`, which the server runs every 5 s and an
/// exporter calls before a scrape. With no factory set and no `MetricsSystem.bootstrap`,
/// everything goes to swift-metrics' no-op handler and the adapters skip their own probes.
///
/// | name | kind | labels |
/// |---|---|---|
/// | `chsk_connections` | gauge | `transport` (ws, ajax), `generation` (v1, v2, unknown) |
/// | `chsk_held_polls` | gauge | |
/// | `chsk_connected_uids` | gauge | |
/// | `chsk_ajax_pending_bytes` | gauge | |
/// | `chsk_events_received_total` | counter | `transport`, `origin` (client, engine) |
/// | `chsk_received_bytes_total` | counter | `transport` |
/// | `chsk_pushes_total` | counter | `kind` (send, broadcast) |
/// | `chsk_push_batch_events` | histogram | `transport` |
/// | `chsk_sent_bytes_total` | counter | `transport` (push batches and their frames) |
/// | `chsk_push_delivery_seconds` | histogram | `transport` (oldest event of a batch: push → sent) |
/// | `chsk_refusals_total` | counter | `reason` (`RefusalReason`: csrf, origin, message-too-large, ws-queue-full, …) |
/// | `chsk_ws_outbound_queued_bytes` | gauge | (the Hummingbird adapter) |
/// | `chsk_event_loop_stall_seconds` | histogram | (the Hummingbird adapter: lateness of a 100 ms probe) |
public final class ServerMetrics: Sendable {
    /// The transport a measurement belongs to.
    public enum Transport: Int, Sendable, CaseIterable {
        /// WebSocket.
        case ws
        /// Ajax long-polling.
        case ajax
        var label: String { self == .ws ? "ws" : "ajax" }
    }

    /// False when the factory is swift-metrics' no-op one: adapters skip their probes then.
    public let isEnabled: Bool
    /// The factory the metrics were made with (adapters make theirs with it too).
    public let factory: any MetricsFactory

    let connections: [String: Gauge]            // "ws/v1", "ajax/unknown", …
    let heldPolls: Gauge
    let connectedUIDs: Gauge
    let ajaxPendingBytes: Gauge
    let eventsReceived: [Counter]               // transport * 2 + (engine ? 1 : 0)
    let receivedBytes: [Counter]
    let pushes: [Counter]                       // send, broadcast
    let batchEvents: [Recorder]
    let sentBytes: [Counter]
    let deliverySeconds: [CoreMetrics.Timer]
    let refusals: [RefusalReason: Counter]
    /// Bytes written to WebSockets and not yet handed to the kernel (kept by the adapter).
    public let wsOutboundQueuedBytes: Meter
    /// How late a 100 ms probe task runs on each event loop (kept by the adapter): a loop
    /// busy with one long piece of work shows here.
    public let eventLoopStall: CoreMetrics.Timer

    /// Metrics made with `factory` (default: the process's `MetricsSystem.factory`).
    public init(factory: any MetricsFactory = MetricsSystem.factory) {
        self.factory = factory
        isEnabled = !(factory is NOOPMetricsHandler)
        var connections: [String: Gauge] = [:]
        for transport in Transport.allCases {
            for generation in ["v1", "v2", "unknown"] {
                connections[transport.label + "/" + generation] = Gauge(
                    label: "chsk_connections", dimensions: [("transport", transport.label), ("generation", generation)], factory: factory)
            }
        }
        self.connections = connections
        heldPolls = Gauge(label: "chsk_held_polls", factory: factory)
        connectedUIDs = Gauge(label: "chsk_connected_uids", factory: factory)
        ajaxPendingBytes = Gauge(label: "chsk_ajax_pending_bytes", factory: factory)
        eventsReceived = Transport.allCases.flatMap { t in
            ["client", "engine"].map { Counter(label: "chsk_events_received_total", dimensions: [("transport", t.label), ("origin", $0)], factory: factory) }
        }
        receivedBytes = Transport.allCases.map { Counter(label: "chsk_received_bytes_total", dimensions: [("transport", $0.label)], factory: factory) }
        pushes = ["send", "broadcast"].map { Counter(label: "chsk_pushes_total", dimensions: [("kind", $0)], factory: factory) }
        batchEvents = Transport.allCases.map { Recorder(label: "chsk_push_batch_events", dimensions: [("transport", $0.label)], factory: factory) }
        sentBytes = Transport.allCases.map { Counter(label: "chsk_sent_bytes_total", dimensions: [("transport", $0.label)], factory: factory) }
        deliverySeconds = Transport.allCases.map {
            CoreMetrics.Timer(label: "chsk_push_delivery_seconds", dimensions: [("transport", $0.label)], preferredDisplayUnit: .seconds, factory: factory)
        }
        refusals = Dictionary(uniqueKeysWithValues: RefusalReason.allCases.map {
            ($0, Counter(label: "chsk_refusals_total", dimensions: [("reason", $0.rawValue)], factory: factory))
        })
        wsOutboundQueuedBytes = Meter(label: "chsk_ws_outbound_queued_bytes", factory: factory)
        eventLoopStall = CoreMetrics.Timer(label: "chsk_event_loop_stall_seconds", preferredDisplayUnit: .seconds, factory: factory)
    }

    func received(_ transport: Transport, bytes: Int) {
        receivedBytes[transport.rawValue].increment(by: bytes)
    }

    func pushed(broadcast: Bool) {
        pushes[broadcast ? 1 : 0].increment()
    }

    func refused(_ reason: RefusalReason) {
        refusals[reason]?.increment()
    }

    func event(_ transport: Transport, engine: Bool) {
        eventsReceived[transport.rawValue * 2 + (engine ? 1 : 0)].increment()
    }

    /// One batch of `events` pushes left the engine for one client as `bytes`; its oldest
    /// event was pushed at `since`.
    func sent(_ transport: Transport, events: Int, bytes: Int, since: ContinuousClock.Instant?) {
        sentBytes[transport.rawValue].increment(by: bytes)
        batchEvents[transport.rawValue].record(events)
        if let since {
            let waited = ContinuousClock.now - since
            deliverySeconds[transport.rawValue].recordNanoseconds(waited.components.seconds * 1_000_000_000 + waited.components.attoseconds / 1_000_000_000)
        }
    }

    /// A sample of the gauges.
    struct GaugeSample {
        var connections: [String: Int] = [:]
        var heldPolls = 0
        var connectedUIDs = 0
        var ajaxPendingBytes = 0
    }

    func record(_ sample: GaugeSample) {
        for (key, gauge) in connections { gauge.record(sample.connections[key] ?? 0) }
        heldPolls.record(sample.heldPolls)
        connectedUIDs.record(sample.connectedUIDs)
        ajaxPendingBytes.record(sample.ajaxPendingBytes)
    }
}
