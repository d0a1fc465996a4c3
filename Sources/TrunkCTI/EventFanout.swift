import NIOCore
import Synchronization

/// A session's server-side event filter. Types are a bit mask; channels and calls, when given,
/// select events on any of those channels or calls (an OR of the two lists); the token's scope
/// always applies on top. Events with neither channel nor span (op.failed for a call that never
/// reached a channel, for instance) pass the scope.
struct CTIEventFilter {
    var types: UInt64 = CTIEventType.allBits
    var channels: ChannelSet? = nil
    var calls: Set<String>? = nil
    var scope: CTIScope = .everything

    /// Channels 1–1024 as bits: checked per event per subscriber, so no hashing.
    struct ChannelSet {
        private var words = [UInt64](repeating: 0, count: 17)
        init(_ channels: [Int]) {
            for channel in channels where channel >= 0 && channel < 17 * 64 { words[channel >> 6] |= 1 << UInt64(channel & 63) }
        }
        func contains(_ channel: Int) -> Bool {
            channel >= 0 && channel < 17 * 64 && words[channel >> 6] & (1 << UInt64(channel & 63)) != 0
        }
    }

    func matches(_ record: EventRecord) -> Bool {
        guard types & record.typeBit != 0 else { return false }
        if channels != nil || calls != nil {
            var selected = false
            if let channels, let channel = record.channel, channels.contains(channel) { selected = true }
            if !selected, let calls, let call = record.callID, calls.contains(call) { selected = true }
            if !selected { return false }
        }
        if !scope.isUnrestricted, record.channel != nil || record.span != nil {
            return scope.allows(span: record.span, channel: record.channel)
        }
        return true
    }

    /// Type names, or a family with a trailing `.*` ("bridge.*"), or "*" for all.
    static func typeMask(_ names: [String]) -> (mask: UInt64, unknown: String?) {
        var mask: UInt64 = 0
        for name in names {
            if name == "*" {
                mask |= CTIEventType.allBits
            } else if name.hasSuffix(".*") {
                let family = name.dropLast(1)
                let matched = CTIEventType.allCases.filter { $0.rawValue.hasPrefix(family) }
                if matched.isEmpty { return (0, name) }
                for type in matched { mask |= type.bit }
            } else if let type = CTIEventType(rawValue: name) {
                mask |= type.bit
            } else {
                return (0, name)
            }
        }
        return (mask, nil)
    }
}

/// Where a subscriber's events go: the connection handler, on the subscriber's loop.
protocol EventSink: AnyObject {
    var canTakeEvents: Bool { get }
    var allocator: ByteBufferAllocator { get }
    func writeEvent(_ bytes: ByteBuffer)
    func flushEvents()
    /// The client fell too far behind: tell it what it lost and close. No more events follow.
    func eventsOverflowed(lostFrom: UInt64, lostTo: UInt64)
}

/// One session's subscription. Loop-confined (lives on its connection's event loop).
///
/// Events the socket can take are written at once; the rest wait in `pending`, the client's
/// bounded queue. When the queue would exceed its limit, or the ring has already dropped events
/// this subscriber had not seen, the client is told the exact range it lost and closed.
final class EventSubscriber {
    var filter: CTIEventFilter
    /// The last seq this subscriber has considered (delivered, queued or filtered out).
    var cursor: UInt64
    private var pending = CircularBuffer<EventRecord>(initialCapacity: 64)
    private let queueLimit: Int
    private weak var sink: (any EventSink)?
    private(set) var active = true
    /// The replay asked for with `since_seq` ends here (the head when it subscribed). Replayed
    /// events stay in the ring until the socket takes them, so a client reading a long backlog
    /// is paced by its socket rather than cut off by its queue; only live events are queued.
    let replayThrough: UInt64
    /// Replaying, and the socket is full: the fan-out leaves this subscriber out until it drains.
    private(set) var waitingForSocket = false
    /// Set by the fan-out: drain again (the socket took what it had).
    var resume: (() -> Void)?

    init(filter: CTIEventFilter, cursor: UInt64, queueLimit: Int, sink: any EventSink, replayThrough: UInt64 = 0) {
        self.filter = filter
        self.cursor = cursor
        self.queueLimit = queueLimit
        self.sink = sink
        self.replayThrough = replayThrough
    }

    func deactivate() {
        active = false
        pending.removeAll()
    }

    /// Events bound for the socket in one drain are copied into one buffer and written once
    /// (up to this size per write): one pipeline write and one pending-write entry per batch
    /// instead of per event, which is what fan-out to many clients spends most of its time on.
    private static let chunkBytes = 64 * 1024

    /// New records (in seq order) and the ring's window at the time they were taken.
    func deliver(_ records: ArraySlice<EventRecord>, oldest: UInt64, head: UInt64) {
        guard active, !waitingForSocket, let sink else { return }
        if cursor + 1 < oldest {
            // Events left the ring before this subscriber saw them: it cannot know whether they
            // were its own, so the whole range counts as lost.
            overflow(sink, lostFrom: pending.first?.seq ?? cursor + 1, lostTo: head)
            return
        }
        var chunk: ByteBuffer?
        var wrote = false
        for record in records where record.seq > cursor {
            if record.seq <= replayThrough && chunk == nil && pending.isEmpty && !sink.canTakeEvents {
                waitingForSocket = true
                break
            }
            cursor = record.seq
            guard filter.matches(record) else { continue }
            if pending.isEmpty && (chunk != nil || sink.canTakeEvents) {
                if chunk == nil { chunk = sink.allocator.buffer(capacity: min(Self.chunkBytes, record.bytes.readableBytes * 8)) }
                chunk!.writeImmutableBuffer(record.bytes)
                if chunk!.readableBytes >= Self.chunkBytes {
                    sink.writeEvent(chunk!)
                    chunk = nil
                    wrote = true
                }
            } else {
                if pending.count >= queueLimit {
                    if let chunk { sink.writeEvent(chunk) }
                    overflow(sink, lostFrom: pending.first?.seq ?? record.seq, lostTo: head)
                    return
                }
                pending.append(record)
            }
        }
        if let chunk {
            sink.writeEvent(chunk)
            wrote = true
        }
        if wrote { sink.flushEvents() }
    }

    /// The socket drained below its low watermark: move queued events to it.
    func socketWritable() {
        guard active, let sink else { return }
        var wrote = false
        while sink.canTakeEvents, !pending.isEmpty {
            var chunk = sink.allocator.buffer(capacity: Self.chunkBytes)
            while chunk.readableBytes < Self.chunkBytes, let record = pending.popFirst() {
                chunk.writeImmutableBuffer(record.bytes)
            }
            sink.writeEvent(chunk)
            wrote = true
        }
        if wrote { sink.flushEvents() }
        if waitingForSocket && pending.isEmpty && sink.canTakeEvents {
            waitingForSocket = false
            resume?()
        }
    }

    private func overflow(_ sink: any EventSink, lostFrom: UInt64, lostTo: UInt64) {
        deactivate()
        sink.eventsOverflowed(lostFrom: lostFrom, lostTo: lostTo)
    }
}

/// Delivers the hub's events to the subscribers on one event loop. The publisher only flips
/// `wakePending` and, if it was clear, schedules one drain: a burst of events costs one task.
/// The drain takes the new records under the hub's lock once (sharing their bytes) and hands
/// them to every subscriber on the loop.
final class EventFanout: @unchecked Sendable {
    let loop: any EventLoop
    private unowned let hub: CTIEventHub
    private let wakePending = Atomic<Bool>(false)
    private let subscriberCount = Atomic<Int>(0)
    // Loop-confined state (only touched on `loop`): what makes this class @unchecked Sendable.
    private var subscribers: [EventSubscriber] = []
    private var scratch: [EventRecord] = []
    /// Records taken per drain, so a subscriber replaying a long backlog does not hold the loop.
    private static let batchLimit = 4_096

    /// How long a wake-up waits before draining, so a burst of events becomes one batch: one
    /// write per client per batch instead of per event, and at most one wake-up of the loop per
    /// interval whatever the event rate.
    private let coalescing: TimeAmount

    init(loop: any EventLoop, hub: CTIEventHub, coalescing: TimeAmount) {
        self.loop = loop
        self.hub = hub
        self.coalescing = coalescing
    }

    func wake() {
        guard subscriberCount.load(ordering: .relaxed) > 0 else { return }
        if !wakePending.exchange(true, ordering: .acquiringAndReleasing) {
            if coalescing > .zero {
                loop.scheduleTask(in: coalescing) { self.drain() }
            } else {
                loop.execute { self.drain() }
            }
        }
    }

    func add(_ subscriber: EventSubscriber) {
        loop.preconditionInEventLoop()
        subscribers.append(subscriber)
        subscriberCount.add(1, ordering: .relaxed)
        subscriber.resume = { [weak self] in
            guard let self, !self.wakePending.exchange(true, ordering: .acquiringAndReleasing) else { return }
            self.loop.execute { self.drain() }
        }
        wakePending.store(true, ordering: .releasing)
        loop.execute { self.drain() }
    }

    func remove(_ subscriber: EventSubscriber) {
        loop.preconditionInEventLoop()
        subscriber.deactivate()
        if let index = subscribers.firstIndex(where: { $0 === subscriber }) {
            subscribers.remove(at: index)
            subscriberCount.subtract(1, ordering: .relaxed)
        }
    }

    private func drain() {
        wakePending.store(false, ordering: .releasing)
        guard !subscribers.isEmpty else { return }
        var from = UInt64.max
        for subscriber in subscribers where subscriber.active && !subscriber.waitingForSocket { from = min(from, subscriber.cursor) }
        guard from != .max else { return }
        scratch.removeAll(keepingCapacity: true)
        let window = hub.records(after: from, limit: Self.batchLimit, into: &scratch)
        // Iterate over a copy: a subscriber that overflows removes itself while we deliver.
        for subscriber in subscribers {
            subscriber.deliver(scratch[...], oldest: window.oldest, head: window.head)
        }
        if let last = scratch.last, last.seq < window.head, !wakePending.exchange(true, ordering: .acquiringAndReleasing) {
            loop.execute { self.drain() }
        }
        scratch.removeAll(keepingCapacity: true)
    }
}
