/// The filtered far-end (reference) history the adaptive filters read.
///
/// Samples are kept oldest first in one linear buffer so that every filter
/// window is a contiguous run of `taps` floats (the C kernels stream it with
/// vector loads). When the write position reaches the end, the last `taps + 1`
/// samples are moved to the front; with a buffer of twice the tail that costs
/// about one float move per sample.
struct ReferenceDelayLine {
    let taps: Int
    let capacity: Int
    let storage: UnsafeMutablePointer<Float>
    static let slack = 8
    /// Index of the newest sample written.
    private(set) var newest: Int

    init(taps: Int, maximumChunk: Int) {
        self.taps = taps
        capacity = 2 * taps + 2 * maximumChunk
        // Readable slack past the newest sample for 8-output filter passes.
        storage = .allocate(capacity: capacity + Self.slack)
        storage.initialize(repeating: 0, count: capacity + Self.slack)
        newest = taps
    }

    func deallocate() {
        storage.deallocate()
    }

    /// Makes room for `count` new samples, keeping the last `taps + 1`
    /// (the window energy drops the sample leaving the tail).
    mutating func reserve(_ count: Int) {
        if newest + count >= capacity {
            let keep = taps + 1
            (storage).update(from: storage + (newest + 1 - keep), count: keep)
            newest = keep - 1
        }
    }

    @inline(__always)
    mutating func append(_ x: Float) {
        newest += 1
        storage[newest] = x
    }

    /// Counts `count` samples written directly at `storage[newest + 1...]`.
    @inline(__always)
    mutating func advance(_ count: Int) {
        newest += count
    }

    /// Start of the window whose newest sample sits at `index`.
    @inline(__always)
    func window(endingAt index: Int) -> UnsafeMutablePointer<Float> {
        storage + (index - taps + 1)
    }

    mutating func reset() {
        storage.update(repeating: 0, count: capacity + Self.slack)
        newest = taps
    }
}
