@testable import TrunkMedia

/// A detector for testing the loop's plumbing, not detection: it reports a '5' at the first
/// sample louder than `threshold` after a quiet stretch, in a fixed-size queue (no allocation).
final class LoudSampleDetector: AudioDetector {
    let threshold: Int16
    private var queue: [MediaDetection?] = Array(repeating: nil, count: 8)
    private var head = 0
    private var count = 0
    private var loud = false
    private(set) var blocks = 0

    init(threshold: Int16) { self.threshold = threshold }

    func process(_ samples: UnsafeBufferPointer<Int16>, sampleTime: UInt64) {
        blocks += 1
        for index in 0..<samples.count {
            let isLoud = samples[index] > threshold || samples[index] < -threshold
            if isLoud && !loud && count < queue.count {
                queue[(head + count) % queue.count] = MediaDetection(.dtmf(digit: UInt8(ascii: "5"), durationMs: 0), sampleTime: sampleTime + UInt64(index))
                count += 1
            }
            loud = isLoud
        }
    }

    func nextDetection() -> MediaDetection? {
        guard count > 0 else { return nil }
        let detection = queue[head]
        queue[head] = nil
        head = (head + 1) % queue.count
        count -= 1
        return detection
    }

    func reset() {
        head = 0
        count = 0
        loud = false
    }
}
