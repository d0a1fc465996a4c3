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

    /// Whether the filter selects by channel or call: the fan-out then looks at its subscriber
    /// only for events on those channels or calls.
    var isNarrow: Bool { channels != nil || calls != nil }

    /// Channels 1–1024 as bits: checked per event per subscriber, so no hashing.
    struct ChannelSet {
        private var words = [UInt64](repeating: 0, count: 17)
        /// The same channels as a list (in range, no repeats), for the fan-out's index.
        private(set) var members: [Int] = []
        init(_ channels: [Int]) {
            for channel in channels where channel >= 0 && channel < 17 * 64 && !contains(channel) {
                words[channel >> 6] |= 1 << UInt64(channel & 63)
                members.append(channel)
            }
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
/// A new subscriber first replays (when it asked for `since_seq`) on its own cursor; once it has
/// caught up with its fan-out it is live: the fan-out looks it up in its index only for events
/// its filter can select, stages them, and hands them over once per drain.
///
/// Events the socket can take are written at once; the rest wait in `pending`, the client's
/// bounded queue. When the queue would exceed its limit, or the ring has already dropped events
/// this subscriber had not seen, the client is told the exact range it lost and closed.
final class EventSubscriber {
    let filter: CTIEventFilter
    /// Replaying: the last seq considered (delivered, queued or filtered out). Live: the last seq
    /// taken, so an event selected by both its channel and its call is taken once, and a
    /// subscriber that joined at the head skips what was published before it.
    var cursor: UInt64
    /// In its fan-out's index (caught up), rather than replaying on its own cursor.
    var live = false
    private var pending = CircularBuffer<EventRecord>(initialCapacity: 64)
    /// Events selected for this subscriber in the current drain.
    private var staged: [EventRecord] = []
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
        staged.removeAll()
    }

    /// Events bound for the socket in one drain are copied into one buffer and written once
    /// (up to this size per write): one pipeline write and one pending-write entry per batch
    /// instead of per event, which is what fan-out to many clients spends most of its time on.
    private static let chunkBytes = 64 * 1024

    /// Replaying: new records (in seq order) and the ring's window at the time they were taken.
    func deliver(_ records: ArraySlice<EventRecord>, oldest: UInt64, head: UInt64) {
        guard active, !waitingForSocket, let sink else { return }
        if cursor + 1 < oldest {
            // Events left the ring before this subscriber saw them: it cannot know whether they
            // were its own, so the whole range counts as lost.
            overflow(sink, lostFrom: pending.first?.seq ?? cursor + 1, lostTo: head)
            return
        }
        staged.removeAll(keepingCapacity: true)
        var stagedBytes = 0
        for record in records where record.seq > cursor {
            if record.seq <= replayThrough && staged.isEmpty && pending.isEmpty && !sink.canTakeEvents {
                waitingForSocket = true
                break
            }
            cursor = record.seq
            guard filter.matches(record) else { continue }
            staged.append(record)
            stagedBytes += record.bytes.readableBytes
            // Replayed events go out a chunk at a time, so the socket's state is looked at
            // again before the next chunk: a full socket pauses the replay instead of queueing it.
            if record.seq <= replayThrough && stagedBytes >= Self.chunkBytes {
                deliverStaged(head: head)
                stagedBytes = 0
                guard active else { return }
            }
        }
        deliverStaged(head: head)
    }

    /// Live: the fan-out selected `record` for this subscriber. Returns true for the first
    /// record staged in this drain (the fan-out then remembers to hand this subscriber over).
    func stage(_ record: EventRecord) -> Bool {
        guard active, record.seq > cursor else { return false }
        cursor = record.seq
        staged.append(record)
        return staged.count == 1
    }

    /// Live, in a group of subscribers with the same filter: `records` are this drain's events
    /// for the group and `batch` their bytes, gathered once for every member. A member that can
    /// take them as they are (it has none of them yet, nothing queued, a writable socket) is sent
    /// the shared buffer; otherwise they go through its own staging and queue.
    func deliver(batch: ByteBuffer, records: [EventRecord], head: UInt64) {
        guard active, let sink, let first = records.first, let last = records.last else { return }
        if cursor < first.seq, pending.isEmpty, sink.canTakeEvents {
            cursor = last.seq
            sink.writeEvent(batch)
            sink.flushEvents()
            return
        }
        for record in records { _ = stage(record) }
        deliverStaged(head: head)
    }

    /// Writes (or queues) what was staged in this drain; `head` is the latest seq published.
    func deliverStaged(head: UInt64) {
        defer { staged.removeAll(keepingCapacity: true) }
        guard active, let sink, !staged.isEmpty else { return }
        // One event to a socket that can take it (a narrow filter's usual case): its shared
        // bytes go as they are, with no copy into a batch buffer.
        if staged.count == 1, pending.isEmpty, sink.canTakeEvents {
            sink.writeEvent(staged[0].bytes)
            sink.flushEvents()
            return
        }
        var chunk: ByteBuffer?
        var wrote = false
        for record in staged {
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

    /// Live, but the fan-out itself fell behind the ring (its loop was starved): everything
    /// after `from` that this subscriber had not been sent is lost.
    func fanoutOverran(from: UInt64, head: UInt64) {
        guard active, let sink else { return }
        overflow(sink, lostFrom: pending.first?.seq ?? from, lostTo: head)
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
/// The drain takes the new records under the hub's lock once (sharing their bytes), looks up
/// for each record the live subscribers its filters can select (`SubscriberIndex`), and hands
/// each selected subscriber its records once. A subscriber whose filter selects nothing in a
/// drain is not looked at: a hundred narrow clients cost nothing while their channels are quiet.
final class EventFanout: @unchecked Sendable {
    let loop: any EventLoop
    private unowned let hub: CTIEventHub
    private let wakePending = Atomic<Bool>(false)
    private let subscriberCount = Atomic<Int>(0)
    // Loop-confined state (only touched on `loop`): what makes this class @unchecked Sendable.
    /// The last seq handed to the live subscribers.
    private var cursor: UInt64
    private var index = SubscriberIndex()
    /// Subscribers replaying from `since_seq`, each on its own cursor, until they reach `cursor`.
    private var replaying: [EventSubscriber] = []
    private var scratch: [EventRecord] = []
    private var touched: [EventSubscriber] = []
    /// One group's events in the current drain.
    private var groupRecords: [EventRecord] = []
    private let allocator = ByteBufferAllocator()
    /// Records taken per drain, so a subscriber replaying a long backlog does not hold the loop.
    private static let batchLimit = 4_096

    /// How long a wake-up waits before draining, so a burst of events becomes one batch: one
    /// write per client per batch instead of per event, and at most one wake-up of the loop per
    /// window whatever the event rate. Adapted by the drains (loop-confined); `windowNanoseconds`
    /// is its current length for the publishers' `wake()`.
    private var coalescing: CoalescingWindow
    private let windowNanoseconds: Atomic<Int64>

    /// `cursor`: the hub's latest seq when the fan-out is made.
    init(loop: any EventLoop, hub: CTIEventHub, coalescing: CoalescingWindow, cursor: UInt64) {
        self.loop = loop
        self.hub = hub
        self.coalescing = coalescing
        self.windowNanoseconds = Atomic(coalescing.current)
        self.cursor = cursor
    }

    func wake() {
        guard subscriberCount.load(ordering: .relaxed) > 0 else { return }
        if !wakePending.exchange(true, ordering: .acquiringAndReleasing) {
            let window = windowNanoseconds.load(ordering: .relaxed)
            if window > 0 {
                let due = NIODeadline.now() + .nanoseconds(window)
                loop.scheduleTask(deadline: due) { self.drain(due: due) }
            } else {
                loop.execute { self.drain() }
            }
        }
    }

    func add(_ subscriber: EventSubscriber) {
        loop.preconditionInEventLoop()
        // With nobody live, nothing up to the head at subscription needs handing out live; a
        // replaying newcomer must stay behind that point, or its replay would bypass the pacing.
        if index.isEmpty { cursor = max(cursor, subscriber.cursor, subscriber.replayThrough) }
        if subscriber.cursor >= cursor {
            subscriber.live = true
            index.insert(subscriber)
        } else {
            replaying.append(subscriber)
        }
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
        if subscriber.live {
            if index.remove(subscriber) { subscriberCount.subtract(1, ordering: .relaxed) }
        } else if let position = replaying.firstIndex(where: { $0 === subscriber }) {
            replaying.remove(at: position)
            subscriberCount.subtract(1, ordering: .relaxed)
        }
    }

    /// `due`: when a coalesced wake-up meant this drain to run (how late it runs tells the
    /// window whether the loop keeps up).
    private func drain(due: NIODeadline? = nil) {
        let late = due.map { Int64(NIODeadline.now().uptimeNanoseconds) - Int64($0.uptimeNanoseconds) } ?? 0
        wakePending.store(false, ordering: .releasing)
        var more = false
        if !replaying.isEmpty { more = replay() }
        if !index.isEmpty { more = dispatch(late: late) || more }
        if more, !wakePending.exchange(true, ordering: .acquiringAndReleasing) {
            loop.execute { self.drain() }
        }
    }

    /// Moves replaying subscribers on, up to the live cursor; those that reach it go live.
    /// Returns whether some are still behind.
    private func replay() -> Bool {
        var from = UInt64.max
        // A subscriber waiting for its socket is left out: its resume() wakes the drain again.
        for subscriber in replaying where subscriber.active && !subscriber.waitingForSocket { from = min(from, subscriber.cursor) }
        guard from != .max else { return false }
        scratch.removeAll(keepingCapacity: true)
        let window = hub.records(after: from, limit: Self.batchLimit, into: &scratch)
        // Only up to the live cursor: past it, the index delivers.
        let upTo = scratch.firstIndex(where: { $0.seq > cursor }) ?? scratch.endIndex
        // Over a copy: a subscriber that overflows removes itself while we deliver.
        for subscriber in replaying {
            subscriber.deliver(scratch[..<upTo], oldest: window.oldest, head: window.head)
        }
        scratch.removeAll(keepingCapacity: true)
        var behind = false
        replaying.removeAll { subscriber in
            guard subscriber.active else { return false }
            guard subscriber.cursor >= cursor else {
                if !subscriber.waitingForSocket { behind = true }
                return false
            }
            subscriber.cursor = max(subscriber.cursor, cursor)
            subscriber.live = true
            index.insert(subscriber)
            return true
        }
        return behind
    }

    /// Hands the records after the live cursor to the live subscribers that select them.
    /// Returns whether more records are waiting.
    private func dispatch(late: Int64) -> Bool {
        scratch.removeAll(keepingCapacity: true)
        let window = hub.records(after: cursor, limit: Self.batchLimit, into: &scratch)
        defer { scratch.removeAll(keepingCapacity: true) }
        if cursor + 1 < window.oldest {
            // This loop was held up past the ring's capacity: every live subscriber lost events.
            let from = cursor + 1
            cursor = window.head
            for subscriber in index.all { subscriber.fanoutOverran(from: from, head: window.head) }
            return false
        }
        guard let last = scratch.last else { return false }
        cursor = last.seq
        coalescing.drained(scratch.count, late: late)
        windowNanoseconds.store(coalescing.current, ordering: .relaxed)
        // Subscribers that share a filter (most full subscribers) share this drain's bytes too:
        // the group's events are gathered into one buffer once, and each member is handed that
        // same buffer, rather than every member copying the events into a buffer of its own.
        // Over a copy of the groups: a subscriber that overflows removes itself from the index.
        for group in index.sharedFilterGroups {
            groupRecords.removeAll(keepingCapacity: true)
            var bytes = 0
            for record in scratch where group.filter.matches(record) {
                groupRecords.append(record)
                bytes += record.bytes.readableBytes
            }
            guard !groupRecords.isEmpty else { continue }
            var batch: ByteBuffer
            if groupRecords.count == 1 {
                batch = groupRecords[0].bytes
            } else {
                batch = allocator.buffer(capacity: bytes)
                for record in groupRecords { batch.writeImmutableBuffer(record.bytes) }
            }
            for subscriber in group.members { subscriber.deliver(batch: batch, records: groupRecords, head: window.head) }
        }
        groupRecords.removeAll(keepingCapacity: true)
        if index.hasNarrow {
            for record in scratch {
                index.forEachNarrow(selecting: record) { subscriber in
                    if subscriber.stage(record) { touched.append(subscriber) }
                }
            }
            // Over a copy: a subscriber that overflows removes itself from the index meanwhile.
            for subscriber in touched { subscriber.deliverStaged(head: window.head) }
            touched.removeAll(keepingCapacity: true)
        }
        return last.seq < window.head
    }
}
