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
        // Rounded up to whole groups of four (see `process`).
        let lanes = Self.lanes(frequencies.count)
        coefficients = .allocate(capacity: lanes)
        s1 = .allocate(capacity: lanes)
        s2 = .allocate(capacity: lanes)
        coefficients.initialize(repeating: 0, count: lanes)
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

    static func lanes(_ frequencies: Int) -> Int { max(4, (frequencies + 3) / 4 * 4) }

    mutating func reset() {
        s1.update(repeating: 0, count: Self.lanes(frequencyCount))
        s2.update(repeating: 0, count: Self.lanes(frequencyCount))
        blockEnergy = 0
        position = 0
        committed = BlockSums()
        pendingOlder = BlockSums()
        pendingNewer = BlockSums()
        pendingCount = 0
        finished = 0
    }

    /// Feeds samples that do not cross a block boundary (the caller splits at 128).
    ///
    /// Frequencies four at a time, their Goertzel states in locals for the whole piece: written
    /// through the pointers at every sample, the states cost 5 % of the 8 ms media pipeline
    /// (the compiler cannot keep them in registers across stores it cannot prove unaliased).
    mutating func process(_ samples: UnsafeBufferPointer<Int16>) {
        var energy = blockEnergy
        for sample in samples {
            let x = Float(sample)
            energy += x * x
        }
        blockEnergy = energy
        var k = 0
        while k < frequencyCount {
            // Lanes past the last frequency run with coefficient 0 and are never read.
            let c0 = coefficients[k], c1 = coefficients[k + 1], c2 = coefficients[k + 2], c3 = coefficients[k + 3]
            var a0 = s1[k], a1 = s1[k + 1], a2 = s1[k + 2], a3 = s1[k + 3]
            var b0 = s2[k], b1 = s2[k + 1], b2 = s2[k + 2], b3 = s2[k + 3]
            for sample in samples {
                let x = Float(sample)
                let n0 = x + c0 * a0 - b0
                let n1 = x + c1 * a1 - b1
                let n2 = x + c2 * a2 - b2
                let n3 = x + c3 * a3 - b3
                b0 = a0; b1 = a1; b2 = a2; b3 = a3
                a0 = n0; a1 = n1; a2 = n2; a3 = n3
            }
            s1[k] = a0; s1[k + 1] = a1; s1[k + 2] = a2; s1[k + 3] = a3
            s2[k] = b0; s2[k + 1] = b1; s2[k + 2] = b2; s2[k + 3] = b3
            k += 4
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
        }
        s1.update(repeating: 0, count: Self.lanes(frequencyCount))
        s2.update(repeating: 0, count: Self.lanes(frequencyCount))
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
