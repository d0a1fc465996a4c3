import NIOConcurrencyHelpers
import NIOCore

/// One published event, encoded once: every subscriber that wants it is sent these same bytes.
struct EventRecord {
    var seq: UInt64
    var typeBit: UInt64
    var channel: Int?
    var span: Int?
    var callID: String?
    var bytes: ByteBuffer
}

/// The node's event stream: numbers events (`seq`, monotonic per node, from 1), stamps them,
/// encodes each once into the notification's bytes, keeps the last `capacity` in a ring for
/// resumption, and wakes the fan-out of each event loop that has subscribers.
///
/// `publish` is what the gateway calls from signalling threads: it encodes outside the lock,
/// holds the lock only to number, stamp and store (O(1), no waiting on any client), and wakes
/// each loop at most once per batch. Delivery to sockets happens on the loops, never here.
public final class CTIEventHub: Sendable {
    private struct State {
        var ring: [EventRecord?]
        /// The last seq assigned; 0 before the first event.
        var head: UInt64 = 0
        var fanouts: [EventFanout] = []
    }

    public let capacity: Int
    /// How long delivery waits after an event to gather the ones that follow into one batch,
    /// while the loops keep up; while they run behind, up to `maximumCoalescing`
    /// (see `CoalescingWindow`).
    public let coalescing: TimeAmount
    public let maximumCoalescing: TimeAmount
    public static let defaultCoalescing = TimeAmount.microseconds(500)
    public static let defaultMaximumCoalescing = TimeAmount.milliseconds(2)
    /// Identifies this node lifetime (wall µs at start): a seq from another epoch means nothing here.
    public let epoch: Int64
    private let state: NIOLockedValueBox<State>
    private let allocator = ByteBufferAllocator()

    /// `coalescing`: added latency traded for batching (one socket write per client per batch);
    /// 0.5 ms while the loops keep up, stretching to `maximumCoalescing` (2 ms) while events
    /// come fast and a loop runs behind (short of CPU): a client's p99 stays well under the
    /// protocol's 10 ms, and a starved node's writes at 20,000 events/s fall to at most 500 per
    /// second per client. `coalescing` 0: every event is delivered at once.
    public init(capacity: Int = 65_536, coalescing: TimeAmount = defaultCoalescing, maximumCoalescing: TimeAmount = defaultMaximumCoalescing) {
        precondition(capacity > 0, "the event ring needs room for at least one event")
        self.capacity = capacity
        self.coalescing = coalescing
        self.maximumCoalescing = maximumCoalescing
        self.epoch = CTIClock.wallMicroseconds()
        self.state = NIOLockedValueBox(State(ring: Array(repeating: nil, count: capacity)))
    }

    /// A hub sized by the configuration's `replayBufferEvents`.
    public convenience init(configuration: CTIConfiguration) {
        self.init(capacity: configuration.replayBufferEvents)
    }

    /// Numbers, stamps, encodes and stores the event, then wakes the loops that deliver it.
    /// Returns its seq.
    @discardableResult
    public func publish(_ event: CTIEvent) -> UInt64 {
        let body = event.encodeBody()
        var buffer = allocator.buffer(capacity: body.count + 112)
        let (seq, fanouts) = state.withLockedValue { state -> (UInt64, [EventFanout]) in
            state.head += 1
            let seq = state.head
            // Stamped under the lock so seq order and monotonic-time order agree.
            var header = JSONWriter(capacity: 112)
            header.raw("{\"jsonrpc\":\"2.0\",\"method\":\"event\",\"params\":{\"seq\":")
            header.write(Int64(bitPattern: seq))
            header.raw(",\"time\":")
            CTIClock.writeRFC3339(CTIClock.wallMicroseconds(), into: &header)
            header.raw(",\"mono_ns\":")
            header.write(CTIClock.monotonicNanoseconds())
            buffer.writeBytes(header.bytes)
            buffer.writeBytes(body)
            state.ring[Int(seq % UInt64(capacity))] = EventRecord(
                seq: seq, typeBit: event.type.bit, channel: event.channel, span: event.span, callID: event.callID,
                bytes: buffer)
            return (seq, state.fanouts)
        }
        for fanout in fanouts { fanout.wake() }
        return seq
    }

    /// The latest seq published (0 before the first).
    public var latestSeq: UInt64 { state.withLockedValue { $0.head } }

    /// The oldest seq still in the ring and the latest published.
    func window() -> (oldest: UInt64, head: UInt64) {
        state.withLockedValue { Self.window(of: $0, capacity: capacity) }
    }

    private static func window(of state: State, capacity: Int) -> (oldest: UInt64, head: UInt64) {
        let kept = min(state.head, UInt64(capacity))
        return (state.head - kept + 1, state.head)
    }

    /// Copies (by reference: the bytes are shared) the records after `cursor`, at most `limit`.
    func records(after cursor: UInt64, limit: Int, into output: inout [EventRecord]) -> (oldest: UInt64, head: UInt64) {
        state.withLockedValue { state in
            let window = Self.window(of: state, capacity: capacity)
            var seq = max(cursor + 1, window.oldest)
            var taken = 0
            while seq <= window.head && taken < limit {
                output.append(state.ring[Int(seq % UInt64(capacity))]!)
                seq += 1
                taken += 1
            }
            return window
        }
    }

    /// The fan-out for a loop, created the first time a subscriber on that loop needs one.
    func fanout(for loop: any EventLoop) -> EventFanout {
        state.withLockedValue { state in
            if let existing = state.fanouts.first(where: { $0.loop === loop }) { return existing }
            let window = CoalescingWindow(base: coalescing.nanoseconds, maximum: maximumCoalescing.nanoseconds)
            let fanout = EventFanout(loop: loop, hub: self, coalescing: window, cursor: state.head)
            state.fanouts.append(fanout)
            return fanout
        }
    }
}
