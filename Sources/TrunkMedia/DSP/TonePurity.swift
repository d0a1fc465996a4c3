#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How much of a signal's energy lies at a tone plan's frequencies, per spandsp segment: our
/// check on top of `super_tone_rx`.
///
/// Why: super_tone_rx accepts a block when its two strongest monitored frequencies hold half
/// the block's energy in 62.5 Hz-wide Goertzel bins, so a sustained chord with a note near
/// 450 Hz passes for dial tone (measured: dozens of false dial tones in 10 minutes of music).
/// A real tone puts nearly all its energy at its frequencies (purity ≈ 1 through A-law) and
/// its pauses are quiet; this tracks, over the same 128-sample blocks spandsp uses, the
/// energy at the plan's frequencies (two largest) and the total, summed per segment.
struct TonePurity {
    static let blockLength = 128
    static let segmentHistory = 16

    struct BlockSums {
        var tone: Float = 0
        var energy: Float = 0
        var samples = 0

        static func + (a: BlockSums, b: BlockSums) -> BlockSums {
            BlockSums(tone: a.tone + b.tone, energy: a.energy + b.energy, samples: a.samples + b.samples)
        }
    }

    struct SegmentStats {
        /// Energy at the tone frequencies / total energy (0…≈1).
        var purity: Float
        /// Mean-square value over the segment.
        var power: Float
    }

    private let frequencyCount: Int
    private let coefficients: UnsafeMutablePointer<Float>
    private let s1: UnsafeMutablePointer<Float>
    private let s2: UnsafeMutablePointer<Float>
    private var blockEnergy: Float = 0
    private var position = 0
    /// The current segment's blocks, except the last two: spandsp confirms a change two
    /// blocks after it, so those two belong to the next segment when one is declared.
    private var committed = BlockSums()
    private var pendingOlder = BlockSums()
    private var pendingNewer = BlockSums()
    private var pendingCount = 0
    private let history: UnsafeMutablePointer<SegmentStats>
    private var finished = 0

    init(frequencies: [Int]) {
        frequencyCount = frequencies.count
        coefficients = .allocate(capacity: max(frequencies.count, 1))
        s1 = .allocate(capacity: max(frequencies.count, 1))
        s2 = .allocate(capacity: max(frequencies.count, 1))
        for (k, f) in frequencies.enumerated() { coefficients[k] = 2 * cosf(2 * Float.pi * Float(f) / 8000) }
        history = .allocate(capacity: Self.segmentHistory)
        history.initialize(repeating: SegmentStats(purity: 0, power: 0), count: Self.segmentHistory)
        reset()
    }

    func deallocate() {
        coefficients.deallocate()
        s1.deallocate()
        s2.deallocate()
        history.deallocate()
    }

    mutating func reset() {
        s1.update(repeating: 0, count: max(frequencyCount, 1))
        s2.update(repeating: 0, count: max(frequencyCount, 1))
        blockEnergy = 0
        position = 0
        committed = BlockSums()
        pendingOlder = BlockSums()
        pendingNewer = BlockSums()
        pendingCount = 0
        finished = 0
    }

    /// Feeds samples that do not cross a block boundary (the caller splits at 128).
    mutating func process(_ samples: UnsafeBufferPointer<Int16>) {
        for sample in samples {
            let x = Float(sample)
            blockEnergy += x * x
            for k in 0..<frequencyCount {
                let s = x + coefficients[k] * s1[k] - s2[k]
                s2[k] = s1[k]
                s1[k] = s
            }
        }
        position += samples.count
        if position >= Self.blockLength { finishBlock() }
    }

    private mutating func finishBlock() {
        var first: Float = 0
        var second: Float = 0
        for k in 0..<frequencyCount {
            let power = s1[k] * s1[k] + s2[k] * s2[k] - coefficients[k] * s1[k] * s2[k]
            if power > first { second = first; first = power } else if power > second { second = power }
            s1[k] = 0
            s2[k] = 0
        }
        // A sine of amplitude A at a bin gives |X|² = (N·A/2)² and energy N·A²/2.
        let block = BlockSums(tone: (first + second) * 2 / Float(Self.blockLength), energy: blockEnergy, samples: position)
        if pendingCount == 2 { committed = committed + pendingOlder } else { pendingCount += 1 }
        pendingOlder = pendingNewer
        pendingNewer = block
        blockEnergy = 0
        position = 0
    }

    static func stats(_ sums: BlockSums) -> SegmentStats {
        SegmentStats(purity: sums.energy > 0 ? min(sums.tone / sums.energy, 1) : 0,
                     power: sums.samples > 0 ? sums.energy / Float(sums.samples) : 0)
    }

    /// The segment in progress, so far.
    var current: SegmentStats {
        Self.stats(committed + pendingOlder + pendingNewer)
    }

    /// spandsp ended a segment: keep its figures (without the two blocks that confirmed the
    /// change), start the next with those two.
    mutating func segmentEnded() {
        history[finished % Self.segmentHistory] = Self.stats(committed)
        finished += 1
        committed = BlockSums()
    }

    /// Figures of the segment `back` places before the current one (1 = the last finished).
    func finishedSegment(back: Int) -> SegmentStats? {
        guard back >= 1, back <= min(finished, Self.segmentHistory) else { return nil }
        return history[(finished - back) % Self.segmentHistory]
    }
}
