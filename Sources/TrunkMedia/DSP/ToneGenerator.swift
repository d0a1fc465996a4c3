import CSpanDSP

/// Plays a tone of a `ToneZone` with its cadence (spandsp `tone_gen`), as a `SampleSource`:
/// for a number of cycles, or until `stop()`. Each non-silent segment has its own spandsp
/// descriptor, made in `init`; `fill` only re-initialises the one state in place at segment
/// boundaries, so it never allocates. Not thread safe.
public final class ToneGenerator: SampleSource {
    public let definition: ToneDefinition
    /// Cycles to play; nil = until stopped.
    public let cycles: Int?

    /// One spandsp descriptor per segment (nil for silence).
    private let descriptors: [OpaquePointer?]
    private let state: OpaquePointer
    private let segmentSamples: [Int]
    private var segment = 0
    private var positionInSegment = 0
    private var cyclesDone = 0
    private var stopped = false

    public init(_ definition: ToneDefinition, cycles: Int? = nil) {
        precondition(cycles.map { $0 > 0 } ?? true, "cycles must be positive")
        self.definition = definition
        self.cycles = cycles
        var descriptors: [OpaquePointer?] = []
        var lengths: [Int] = []
        for piece in definition.segments {
            // A continuous segment runs in 10 s stretches, restarted seamlessly by tone_gen's repeat.
            let ms = Int32(piece.durationMs ?? 10_000)
            lengths.append(piece.durationMs.map { $0 * 8 } ?? Int.max)
            guard !piece.isSilence else {
                descriptors.append(nil)
                continue
            }
            let f1 = Int32(piece.frequencies[0])
            let f2 = Int32(piece.frequencies.count > 1 ? piece.frequencies[1] : 0)
            let level = Int32(piece.levelDBm0)
            descriptors.append(tone_gen_descriptor_init(nil, f1, level, f2, level, ms, 0, 0, 0, 1))
        }
        self.descriptors = descriptors
        segmentSamples = lengths
        // One state for all segments: made from any descriptor, re-initialised per segment.
        guard let first = descriptors.compactMap({ $0 }).first, let state = tone_gen_init(nil, first) else {
            preconditionFailure("tone \(definition.tone.rawValue) has no sounding segment, or spandsp could not allocate")
        }
        self.state = state
        startSegment(0)
    }

    deinit {
        tone_gen_free(state)
        for descriptor in descriptors { if let descriptor { tone_gen_descriptor_free(descriptor) } }
    }

    /// Ends the tone: the next `fill` returns 0.
    public func stop() {
        stopped = true
    }

    /// Back to the first segment of the first cycle.
    public func restart() {
        stopped = false
        cyclesDone = 0
        startSegment(0)
    }

    private func startSegment(_ index: Int) {
        segment = index
        positionInSegment = 0
        if let descriptor = descriptors[index] { _ = tone_gen_init(state, descriptor) }
    }

    public func fill(_ out: UnsafeMutableBufferPointer<Int16>) -> Int {
        guard let base = out.baseAddress else { return 0 }
        var written = 0
        while written < out.count && !stopped {
            let left = segmentSamples[segment] - positionInSegment
            let n = min(out.count - written, left)
            if descriptors[segment] != nil {
                _ = tone_gen(state, base + written, Int32(n))
            } else {
                (base + written).update(repeating: 0, count: n)
            }
            written += n
            positionInSegment += n
            if positionInSegment >= segmentSamples[segment] {
                if segment + 1 < segmentSamples.count {
                    startSegment(segment + 1)
                } else {
                    cyclesDone += 1
                    if let cycles, cyclesDone >= cycles {
                        stopped = true
                    } else {
                        startSegment(0)
                    }
                }
            }
        }
        return written
    }
}
