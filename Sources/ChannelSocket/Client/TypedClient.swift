import EDN

extension ChannelSocketClient {
    /// Sends an event whose data is `payload` (encoded with `EDNEncoder`: struct fields as
    /// keyword keys) without asking for a reply; see `send(_:timeout:)`.
    ///
    /// Throws the encoder's error for a payload that cannot be encoded, else `RequestError`.
    public func send<Payload: Encodable>(_ id: String, _ payload: Payload, timeout: Duration = .seconds(10)) async throws {
        try await send(Event(typed: id, payload), timeout: timeout)
    }

    /// Sends an event whose data is `payload` and decodes the server's reply as `type`:
    ///
    /// ```swift
    /// let history = try await client.request("chat/history", History(room: "lobby", limit: 20),
    ///                                        as: [ChatMessage].self)
    /// ```
    ///
    /// Throws the encoder's error for a payload that cannot be encoded; `RequestError` when no
    /// reply comes (`.timeout`, `.closed`, … as `request(_:timeout:)`; a `:chsk/timeout`,
    /// `:chsk/closed` or `:chsk/error` keyword in place of a reply is that error too); an
    /// `EventPayloadError` (naming the coding path) for a reply that does not decode as `type`.
    ///
    /// With a packer that can (EDN, Transit), the reply is read straight from the message's
    /// bytes and decoded with no `EDNValue` tree built; the results and errors are the same.
    public func request<Payload: Encodable, Reply: Decodable>(
        _ id: String, _ payload: Payload, as type: Reply.Type, timeout: Duration = .seconds(10)
    ) async throws -> Reply {
        let event = try Event(typed: id, payload)
        // Read straight to a tape (packers with a tape reader): decoded with no tree built.
        let reply = try await request(event, timeout: timeout, typed: true)
        let scalar: EDNValue? = switch reply {
        case .value(let v): v
        case .tape(let tape, let node): if case .scalar(let v) = tape.nodes[node] { v } else { nil }
        }
        if case .keyword(let k)? = scalar {
            switch k {
            case Reserved.timeout: throw RequestError.timeout
            case Reserved.closed: throw RequestError.closed
            case Reserved.error: throw RequestError.error("the server answered :chsk/error")
            default: break
            }
        }
        do {
            switch reply {
            case .value(let v):
                return try TapeDecoder.decode(type, fromTree: v)
            case .tape(let tape, let node):
                repliesDecodedFromTape += 1
                return try TapeDecoder.decode(type, from: tape, at: node)
            }
        } catch {
            throw EventPayloadError(eventID: event.id, type: type, error: error)
        }
    }

    /// The server's pushes of one event id, their data decoded as `type`, from now on (each
    /// call makes a stream of its own; `events` still gets every event). A push wrapped as
    /// `[:chsk/recv [id data]]` counts as `[id data]`. A push whose data does not decode is
    /// skipped and handed to `onPayloadError`. The stream keeps at most `limit` unread
    /// values (the newest) and ends with `finish()`.
    ///
    /// While the stream is open, messages that carry pushes of `id` are read straight from
    /// the bytes (with packers that can: EDN, Transit) and their data decoded from the read
    /// message with no `EDNValue` tree built.
    ///
    /// ```swift
    /// for await message in client.events("chat/message", as: ChatMessage.self) { show(message) }
    /// ```
    public nonisolated func events<T: Decodable & Sendable>(
        _ id: String, as type: T.Type, bufferingNewest limit: Int = 1024,
        onPayloadError: (@Sendable (EventPayloadError) -> Void)? = nil
    ) -> AsyncStream<T> {
        let wanted = Keyword(id)
        let typedPushes = self.typedPushes
        typedPushes.add(wanted)
        let source = eventObservers.makeStream(bufferingNewest: limit)
        let (stream, continuation) = AsyncStream.makeStream(of: T.self, bufferingPolicy: .bufferingNewest(max(1, limit)))
        let task = Task {
            for await event in source {
                var pushed = event
                if event.id == Reserved.recv, let inner = event.dataAsEvent { pushed = inner }
                guard pushed.id == wanted else { continue }
                do throws(EventPayloadError) {
                    continuation.yield(try pushed.decode(type))
                } catch {
                    onPayloadError?(error)
                }
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in
            task.cancel()
            typedPushes.remove(wanted)
        }
        return stream
    }
}
