/// A fixed-capacity FIFO of detections, allocated once: detectors push from inside spandsp's
/// callbacks on the media thread and the loop drains it after each block, so it never grows.
/// When full the oldest detection is dropped (and counted): a loop that stops draining must
/// not make the detector allocate or block.
struct DetectionQueue {
    private let storage: UnsafeMutablePointer<MediaDetection>
    let capacity: Int
    private var head = 0
    private(set) var count = 0
    /// Detections dropped because the queue was full.
    private(set) var overflows = 0

    init(capacity: Int) {
        precondition(capacity > 0, "detection queue needs room for at least one detection")
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    /// Frees the storage; the owner calls it from its deinit.
    mutating func deallocate() {
        removeAll()
        storage.deallocate()
    }

    mutating func push(_ detection: MediaDetection) {
        if count == capacity {
            (storage + head).deinitialize(count: 1)
            head = (head + 1) % capacity
            count -= 1
            overflows += 1
        }
        (storage + (head + count) % capacity).initialize(to: detection)
        count += 1
    }

    mutating func pop() -> MediaDetection? {
        guard count > 0 else { return nil }
        let detection = (storage + head).move()
        head = (head + 1) % capacity
        count -= 1
        return detection
    }

    mutating func removeAll() {
        while pop() != nil {}
        overflows = 0
    }
}
