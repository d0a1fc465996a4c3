import Synchronization

/// The hand-off between the media loop's consumer and a recording's writer: a single-producer,
/// single-consumer ring of interleaved stereo frames (left = trunk, right = agent), allocated
/// once when the recording starts. `append` never blocks, allocates or locks: when the writer
/// has fallen behind and the ring is full, the block is dropped and counted (the writer then
/// raises an alarm and the count is stated on the recording).
public final class RecordingTap: Sendable {
    public let recordingId: String
    /// Frames the ring holds.
    public let capacity: Int
    nonisolated(unsafe) private let ring: UnsafeMutablePointer<Int16>
    /// Frames written by the producer / read by the writer, counted from the start (never wrap).
    private let produced = Atomic<Int>(0)
    private let consumed = Atomic<Int>(0)
    private let dropped = Atomic<Int>(0)
    private let pausedFrames = Atomic<Int>(0)
    private let paused = Atomic<Bool>(false)

    init(recordingId: String, capacityFrames: Int) {
        self.recordingId = recordingId
        capacity = capacityFrames
        ring = .allocate(capacity: capacityFrames * 2)
        ring.initialize(repeating: 0, count: capacityFrames * 2)
    }

    deinit { ring.deallocate() }

    /// One block from the media loop: the trunk side and the agent side, equal lengths.
    /// Returns false when the block was dropped because the writer is behind.
    @discardableResult
    public func append(trunk: UnsafeBufferPointer<Int16>, agent: UnsafeBufferPointer<Int16>) -> Bool {
        let frames = min(trunk.count, agent.count)
        if paused.load(ordering: .relaxed) {
            pausedFrames.add(frames, ordering: .relaxed)
            return true
        }
        let head = produced.load(ordering: .relaxed)
        let tail = consumed.load(ordering: .acquiring)
        guard capacity - (head - tail) >= frames else {
            dropped.add(frames, ordering: .relaxed)
            return false
        }
        var position = head % capacity
        for i in 0..<frames {
            ring[2 * position] = trunk[i]
            ring[2 * position + 1] = agent[i]
            position += 1
            if position == capacity { position = 0 }
        }
        produced.store(head + frames, ordering: .releasing)
        return true
    }

    /// Interleaved stereo (trunk, agent, trunk, agent …).
    @discardableResult
    public func append(interleaved: UnsafeBufferPointer<Int16>) -> Bool {
        let frames = interleaved.count / 2
        if paused.load(ordering: .relaxed) {
            pausedFrames.add(frames, ordering: .relaxed)
            return true
        }
        let head = produced.load(ordering: .relaxed)
        let tail = consumed.load(ordering: .acquiring)
        guard capacity - (head - tail) >= frames else {
            dropped.add(frames, ordering: .relaxed)
            return false
        }
        let start = head % capacity
        let first = min(frames, capacity - start)
        (ring + 2 * start).update(from: interleaved.baseAddress!, count: 2 * first)
        if first < frames { ring.update(from: interleaved.baseAddress! + 2 * first, count: 2 * (frames - first)) }
        produced.store(head + frames, ordering: .releasing)
        return true
    }

    public var droppedFrames: Int { dropped.load(ordering: .relaxed) }
    public var framesNotRecordedWhilePaused: Int { pausedFrames.load(ordering: .relaxed) }
    public var isPaused: Bool { paused.load(ordering: .relaxed) }
    /// Frames accepted so far (the position a pause or resume happens at).
    public var acceptedFrames: Int { produced.load(ordering: .acquiring) }

    func setPaused(_ on: Bool) { paused.store(on, ordering: .relaxed) }

    /// Writer side: hands the queued frames to `body` as up to two contiguous interleaved runs,
    /// then releases them. Returns the frames taken.
    func drain(_ body: (UnsafeBufferPointer<Int16>) throws -> Void) rethrows -> Int {
        let tail = consumed.load(ordering: .relaxed)
        let head = produced.load(ordering: .acquiring)
        let frames = head - tail
        guard frames > 0 else { return 0 }
        let start = tail % capacity
        let first = min(frames, capacity - start)
        try body(UnsafeBufferPointer(start: ring + 2 * start, count: 2 * first))
        if first < frames { try body(UnsafeBufferPointer(start: ring, count: 2 * (frames - first))) }
        consumed.store(head, ordering: .releasing)
        return frames
    }

    var queuedFrames: Int { produced.load(ordering: .acquiring) - consumed.load(ordering: .relaxed) }
}
