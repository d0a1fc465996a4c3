#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// DTMF receiver for one channel. A digit is reported once it has ended, as
/// `.dtmf(digit:durationMs:)` stamped with the sample where it began.
///
/// Every 10 ms block (`DTMFBlockAnalyzer`) is classified on its own (`DTMFBlockClassifier`:
/// threshold, twist, tone-to-total energy); a digit begins after two consecutive blocks agree
/// and ends after three blocks without it, so tones and pauses of 40 ms (3 whole blocks at any
/// alignment) are always resolved and a 10 ms break neither splits nor ends a digit. Each
/// tone's frequency is measured over the digit from the phase its bin advances per block, and
/// a digit with a tone off by more than `maximumFrequencyError` is refused. Start and end are
/// placed from the correlation of the partial blocks at the digit's edges, which grows with the
/// window mass the tone covers (within 4 ms at 15 dB SNR, at any alignment).
///
/// All memory is allocated in `init`; `process` never allocates. Not thread safe.
public final class DTMFReceiver: AudioDetector {
    public let configuration: DTMFReceiverConfiguration
    /// 10 ms: bins 100 Hz wide keep a column tone 1.5 % off within 0.9 dB, and a 40 ms
    /// tone holds 3 whole blocks however it falls.
    static let blockLength = 80
    /// Consecutive agreeing blocks that make a digit.
    static let blocksToStart = 2
    /// Consecutive blocks without the digit that end it: a 40 ms pause holds 3 whole blocks
    /// however it falls, while a 10 ms break (a line hit) spoils at most 2.
    static let blocksToEnd = 3

    private var analyzer: DTMFBlockAnalyzer
    private let classifier: DTMFBlockClassifier
    private let notch: DialToneNotch?
    private let filtered: UnsafeMutablePointer<Int16>
    private var queue = DetectionQueue(capacity: 32)
    private let checksFrequency: Bool
    private let frequencyLimit: Float

    /// The previous block: its correlations and what it was classified as (−1 none).
    private let previousRe: UnsafeMutablePointer<Float>
    private let previousIm: UnsafeMutablePointer<Float>
    private var previousDigit = -1

    /// The run of consecutive blocks classified as `previousDigit`.
    private var runLength = 0
    private var runEdge = Edge()
    private var runPhase = PhaseSums()

    /// The digit in progress (−1 none).
    private var digit = -1
    private var digitEdge = Edge()
    private var digitPhase = PhaseSums()
    private var peakPower: Float = 0
    private var lastSeenEnd: UInt64 = 0
    private var lastSeenPower: Float = 0
    private var trailingPower: Float = 0
    private var missed = 0

    /// Digits the energy tests accepted but the frequency measurement refused.
    public private(set) var rejectedForFrequency = 0

    /// Where a run of blocks began: the end of its first block, that block's power at the
    /// digit's two bins and the power there in the block before.
    private struct Edge {
        var firstBlockEnd: UInt64 = 0
        var firstPower: Float = 0
        var powerBefore: Float = 0
    }

    /// Σ X[n]·conj(X[n−1]) at the row and column bins over consecutive blocks of a digit.
    private struct PhaseSums {
        var rowRe: Float = 0
        var rowIm: Float = 0
        var columnRe: Float = 0
        var columnIm: Float = 0
    }

    public init(configuration: DTMFReceiverConfiguration = DTMFReceiverConfiguration()) {
        self.configuration = configuration
        analyzer = DTMFBlockAnalyzer(tables: .standard)
        classifier = DTMFBlockClassifier(configuration: configuration, windowSum: analyzer.tables.windowSum,
                                         windowEnergy: analyzer.tables.windowEnergy)
        notch = configuration.filterDialTone ? DialToneNotch() : nil
        filtered = .allocate(capacity: Self.blockLength)
        checksFrequency = configuration.maximumFrequencyError != nil
        frequencyLimit = configuration.maximumFrequencyError ?? .infinity
        previousRe = .allocate(capacity: 8)
        previousIm = .allocate(capacity: 8)
        previousRe.update(repeating: 0, count: 8)
        previousIm.update(repeating: 0, count: 8)
    }

    deinit {
        analyzer.deallocate()
        notch?.deallocate()
        filtered.deallocate()
        queue.deallocate()
        previousRe.deallocate()
        previousIm.deallocate()
    }

    public func process(_ samples: UnsafeBufferPointer<Int16>, sampleTime: UInt64) {
        guard let base = samples.baseAddress else { return }
        var offset = 0
        while offset < samples.count {
            let piece = min(samples.count - offset, Self.blockLength - analyzer.position)
            if let notch {
                notch.filter(base + offset, into: filtered, count: piece)
                _ = analyzer.accumulate(filtered, count: piece)
            } else {
                _ = analyzer.accumulate(base + offset, count: piece)
            }
            offset += piece
            if analyzer.isBlockComplete {
                blockEnded(at: sampleTime + UInt64(offset))
                analyzer.startNextBlock()
            }
        }
    }

    public func nextDetection() -> MediaDetection? {
        queue.pop()
    }

    public func reset() {
        analyzer.startNextBlock()
        notch?.reset()
        queue.removeAll()
        previousRe.update(repeating: 0, count: 8)
        previousIm.update(repeating: 0, count: 8)
        previousDigit = -1
        runLength = 0
        digit = -1
        missed = 0
        rejectedForFrequency = 0
    }

    private func power(_ re: UnsafePointer<Float>, _ im: UnsafePointer<Float>, digit: Int) -> Float {
        let row = digit / 4
        let column = 4 + digit % 4
        return re[row] * re[row] + im[row] * im[row] + re[column] * re[column] + im[column] * im[column]
    }

    private func blockEnded(at end: UInt64) {
        let re = analyzer.re
        let im = analyzer.im
        let found = classifier.classify(re: re, im: im, energy: analyzer.energy)
        var foundPower: Float = 0
        if found >= 0 {
            foundPower = power(re, im, digit: found)
            if found == previousDigit {
                runLength += 1
                addPhase(to: &runPhase, digit: found)
                if found == digit { addPhase(to: &digitPhase, digit: found) }
            } else {
                runLength = 1
                runPhase = PhaseSums()
                runEdge = Edge(firstBlockEnd: end, firstPower: foundPower,
                               powerBefore: power(previousRe, previousIm, digit: found))
            }
        } else {
            runLength = 0
        }

        if digit >= 0 {
            if found == digit {
                missed = 0
                lastSeenEnd = end
                lastSeenPower = foundPower
                peakPower = max(peakPower, foundPower)
            } else {
                missed += 1
                if missed == 1 { trailingPower = power(re, im, digit: digit) }
                if missed >= Self.blocksToEnd { finishDigit() }
            }
        }
        if digit < 0 && found >= 0 && runLength >= Self.blocksToStart {
            digit = found
            digitEdge = runEdge
            digitPhase = runPhase
            lastSeenEnd = end
            lastSeenPower = foundPower
            peakPower = max(runEdge.firstPower, foundPower)
            missed = 0
        }

        previousRe.update(from: re, count: 8)
        previousIm.update(from: im, count: 8)
        previousDigit = found
    }

    private func addPhase(to sums: inout PhaseSums, digit: Int) {
        let row = digit / 4
        let column = 4 + digit % 4
        let re = analyzer.re
        let im = analyzer.im
        sums.rowRe += re[row] * previousRe[row] + im[row] * previousIm[row]
        sums.rowIm += im[row] * previousRe[row] - re[row] * previousIm[row]
        sums.columnRe += re[column] * previousRe[column] + im[column] * previousIm[column]
        sums.columnIm += im[column] * previousRe[column] - re[column] * previousIm[column]
    }

    /// Relative offset from nominal of the tone at bin `index`, from its summed phase advance.
    private func offset(re: Float, im: Float, index: Int) -> Float {
        let advance = remainderf(atan2f(im, re) - analyzer.tables.nominalAdvance[index], 2 * Float.pi)
        let hertz = advance * 8000 / (2 * Float.pi * Float(Self.blockLength))
        return hertz / analyzer.tables.frequency[index]
    }

    /// Samples of tone at one edge of a block, from its power at the digit's bins against a
    /// whole block's: the first k whose window mass reaches the measured share of |X|.
    private func samplesOfTone(_ power: Float) -> UInt64 {
        guard peakPower > 0 else { return 0 }
        let share = min(1, (power / peakPower).squareRoot())
        var k = 0
        while k < Self.blockLength && analyzer.tables.edgeMass[k] < share { k += 1 }
        return UInt64(k)
    }

    /// A block measured to hold at least this many samples of tone counts as whole: the Hann
    /// window weighs a block's edges so little that noise makes a whole block read as 66–80
    /// samples, and a block that really holds 60 reads 0.8 dB below a whole one.
    private static let wholeBlock = UInt64(blockLength * 3 / 4)

    private func finishDigit() {
        let ended = digit
        digit = -1
        missed = 0
        if checksFrequency {
            let row = ended / 4
            let column = 4 + ended % 4
            let rowOffset = offset(re: digitPhase.rowRe, im: digitPhase.rowIm, index: row)
            let columnOffset = offset(re: digitPhase.columnRe, im: digitPhase.columnIm, index: column)
            guard abs(rowOffset) <= frequencyLimit && abs(columnOffset) <= frequencyLimit else {
                rejectedForFrequency += 1
                return
            }
        }
        let blockLength = UInt64(Self.blockLength)
        // The tone fills the end of the first block, and the end of the block before it too if
        // the first is whole.
        let firstStart = digitEdge.firstBlockEnd >= blockLength ? digitEdge.firstBlockEnd - blockLength : 0
        let inFirst = samplesOfTone(digitEdge.firstPower)
        let start = inFirst >= Self.wholeBlock
            ? firstStart - min(firstStart, samplesOfTone(digitEdge.powerBefore))
            : digitEdge.firstBlockEnd - min(digitEdge.firstBlockEnd, inFirst)
        // Likewise the beginning of the last block, and of the block after it.
        let inLast = samplesOfTone(lastSeenPower)
        let end = inLast >= Self.wholeBlock
            ? lastSeenEnd + samplesOfTone(trailingPower)
            : lastSeenEnd - min(lastSeenEnd, blockLength) + inLast
        let durationMs = end > start ? Int((end - start) / 8) : 0
        queue.push(MediaDetection(.dtmf(digit: DTMFKeypad.digit(at: ended), durationMs: durationMs), sampleTime: start))
    }
}
