import CSpanDSP

/// How strictly a `CallProgressToneDetector` matches cadences.
public struct CallProgressConfiguration: Sendable, Equatable {
    /// Full cadence cycles that must be seen before a cadenced tone is reported (the analog
    /// lines' busy-tone disconnect asks for several). spandsp keeps the last 10 segments, so
    /// cycles × segments per cycle is capped at 10.
    public var confirmedCycles: Int
    /// Accepted deviation of each segment's length, as a fraction of nominal …
    public var durationTolerance: Double
    /// … but at least this many ms (spandsp measures in 16 ms steps).
    public var minimumToleranceMs: Int
    /// Continuous tone needed to report dial tone, ms (longer than any cadenced burst).
    public var dialToneMs: Int
    /// Tones to look for (default: all the zone defines).
    public var tones: Set<ProgressTone>?

    public init(confirmedCycles: Int = 2, durationTolerance: Double = 0.2, minimumToleranceMs: Int = 50,
                dialToneMs: Int = 1500, tones: Set<ProgressTone>? = nil) {
        self.confirmedCycles = confirmedCycles
        self.durationTolerance = durationTolerance
        self.minimumToleranceMs = minimumToleranceMs
        self.dialToneMs = dialToneMs
        self.tones = tones
    }
}

/// Recognises a zone's cadenced call-progress tones (spandsp `super_tone_rx`) and reports
/// `.toneStarted(tone)` once its cadence is confirmed (stamped with the start of the first
/// confirmed burst) and `.toneEnded(tone)` when the cadence breaks (stamped with the end of
/// the tone's last burst).
///
/// spandsp decides every 128 samples and tells each finished segment (frequencies, length)
/// through its segment callback; the detector keeps the last segments' start times to stamp
/// detections, and the segments themselves for offline analysis (`nextSegment()`).
/// All memory is allocated in `init`. Not thread safe.
public final class CallProgressToneDetector: AudioDetector {
    /// One stretch of steady signal as spandsp segmented it.
    public struct Segment: Sendable, Equatable {
        /// Tone present (one of the zone's frequencies), or silence/other.
        public var isTone: Bool
        public var startSample: UInt64
        public var durationMs: Int
    }

    public let zone: ToneZone
    public let configuration: CallProgressConfiguration
    /// spandsp's decision block (SUPER_TONE_BINS).
    static let blockLength = 128
    static let segmentHistory = 16

    private let descriptor: OpaquePointer
    private let state: OpaquePointer
    /// Which ProgressTone each spandsp tone id stands for, and how many segments its pattern has.
    private let toneIds: [ProgressTone]
    private let patternLengths: [Int]
    private var queue = DetectionQueue(capacity: 32)
    private let segmentStarts: UnsafeMutablePointer<UInt64>
    private var segmentsSeen = 0
    private let recordedSegments: UnsafeMutablePointer<Segment>
    private var recordedHead = 0
    private var recordedCount = 0
    private var fed = 0
    private var boundaryTime: UInt64 = 0
    private var currentTone: Int32 = -1
    private var lastToneSegmentEnd: UInt64 = 0
    private var purity: TonePurity
    /// Per spandsp tone id, which pattern elements are tone (true) or pause.
    private let patternTones: [[Bool]]
    /// Cadences spandsp matched that the purity check refused.
    public private(set) var rejectedAsImpure = 0
    /// Smallest share of a burst's energy at the plan's frequencies (a tone through A-law
    /// with line noise: above 0.9; chords and speech: well under 0.6).
    static let minimumPurity: Float = 0.7
    /// Pauses must be at least this much quieter than the bursts (power ratio, 10 dB).
    static let pauseToToneRatio: Float = 0.1

    public init(zone: ToneZone = .cn, configuration: CallProgressConfiguration = CallProgressConfiguration()) {
        self.zone = zone
        self.configuration = configuration
        guard let descriptor = super_tone_rx_make_descriptor(nil) else {
            preconditionFailure("spandsp super_tone_rx_make_descriptor could not allocate")
        }
        self.descriptor = descriptor
        var ids: [ProgressTone] = []
        var lengths: [Int] = []
        var flags: [[Bool]] = []
        var frequencies: Set<Int> = []
        for definition in zone.tones where configuration.tones?.contains(definition.tone) ?? true {
            let pattern = Self.pattern(for: definition, configuration: configuration)
            guard !pattern.isEmpty else { continue }
            let id = super_tone_rx_add_tone(descriptor)
            for element in pattern {
                _ = super_tone_rx_add_element(descriptor, id, Int32(element.f1), Int32(element.f2),
                                              Int32(element.minMs), Int32(element.maxMs))
            }
            ids.append(definition.tone)
            lengths.append(pattern.count)
            flags.append(pattern.map { $0.f1 != 0 })
            for element in pattern { frequencies.formUnion([element.f1, element.f2].filter { $0 > 0 }) }
        }
        toneIds = ids
        patternLengths = lengths
        patternTones = flags
        purity = TonePurity(frequencies: frequencies.sorted())
        segmentStarts = .allocate(capacity: Self.segmentHistory)
        segmentStarts.initialize(repeating: 0, count: Self.segmentHistory)
        recordedSegments = .allocate(capacity: Self.segmentHistory)
        // spandsp refuses a null callback; the real one (with our context) is set just below.
        guard let state = super_tone_rx_init(nil, descriptor, { _, _, _, _ in }, nil) else {
            preconditionFailure("spandsp super_tone_rx_init could not allocate")
        }
        self.state = state
        attachCallbacks()
    }

    deinit {
        super_tone_rx_free(state)
        super_tone_rx_free_descriptor(descriptor)
        segmentStarts.deallocate()
        recordedSegments.deallocate()
        queue.deallocate()
        purity.deallocate()
    }

    private func attachCallbacks() {
        let context = Unmanaged.passUnretained(self).toOpaque()
        super_tone_rx_tone_callback(state, { context, code, _, _ in
            guard let context else { return }
            Unmanaged<CallProgressToneDetector>.fromOpaque(context).takeUnretainedValue().toneChanged(code)
        }, context)
        super_tone_rx_segment_callback(state) { context, f1, f2, durationMs in
            guard let context else { return }
            Unmanaged<CallProgressToneDetector>.fromOpaque(context).takeUnretainedValue().segmentEnded(tone: f1 >= 0 || f2 >= 0, durationMs: Int(durationMs))
        }
    }

    struct Element: Equatable {
        var f1: Int
        var f2: Int
        var minMs: Int
        var maxMs: Int
    }

    /// spandsp elements for a tone: its segments, repeated for the confirmed cycles; dial tone
    /// (continuous) as one open-ended element.
    static func pattern(for definition: ToneDefinition, configuration: CallProgressConfiguration) -> [Element] {
        func element(_ segment: ToneSegment, minMs: Int, maxMs: Int) -> Element {
            Element(f1: segment.frequencies.first ?? 0, f2: segment.frequencies.count > 1 ? segment.frequencies[1] : 0, minMs: minMs, maxMs: maxMs)
        }
        if definition.isContinuous {
            return [element(definition.segments[0], minMs: configuration.dialToneMs, maxMs: 0)]
        }
        var cycle: [Element] = []
        for segment in definition.segments {
            guard let ms = segment.durationMs else { return [] }
            let slack = max(Int(Double(ms) * configuration.durationTolerance), configuration.minimumToleranceMs)
            cycle.append(element(segment, minMs: max(ms - slack, 1), maxMs: ms + slack))
        }
        let cycles = max(1, min(configuration.confirmedCycles, 10 / cycle.count))
        return Array(repeating: cycle, count: cycles).flatMap { $0 }
    }

    public func process(_ samples: UnsafeBufferPointer<Int16>, sampleTime: UInt64) {
        guard let base = samples.baseAddress else { return }
        var offset = 0
        while offset < samples.count {
            let piece = min(samples.count - offset, Self.blockLength - fed % Self.blockLength)
            boundaryTime = sampleTime + UInt64(offset + piece)
            // Purity first, so a block's figures are in when spandsp's callbacks for it run.
            purity.process(UnsafeBufferPointer(start: base + offset, count: piece))
            _ = super_tone_rx(state, base + offset, Int32(piece))
            fed += piece
            offset += piece
        }
    }

    public func nextDetection() -> MediaDetection? {
        queue.pop()
    }

    /// The oldest segment not yet taken (offline analysis: the measured cadence). Segments
    /// are kept only while there is room (16); the media loop does not need to drain them.
    public func nextSegment() -> Segment? {
        guard recordedCount > 0 else { return nil }
        let segment = recordedSegments[recordedHead]
        recordedHead = (recordedHead + 1) % Self.segmentHistory
        recordedCount -= 1
        return segment
    }

    public func reset() {
        // In place: the state was sized for this descriptor's frequencies, which do not change.
        _ = super_tone_rx_init(state, descriptor, { _, _, _, _ in }, nil)
        attachCallbacks()
        queue.removeAll()
        fed = 0
        segmentsSeen = 0
        recordedCount = 0
        currentTone = -1
        purity.reset()
        rejectedAsImpure = 0
    }

    /// Whether the segments spandsp matched to tone `id` look like a real tone: bursts made
    /// of the plan's frequencies, pauses quiet next to them.
    private func isClean(_ id: Int) -> Bool {
        let flags = patternTones[id]
        var quietestBurst = Float.greatestFiniteMagnitude
        var loudestPause: Float = 0
        var index = 0
        while index < flags.count {
            let isTone = flags[index]
            let back = flags.count - 1 - index
            index += 1
            guard let stats = back == 0 ? purity.current : purity.finishedSegment(back: back) else { return false }
            if isTone {
                guard stats.purity >= Self.minimumPurity else { return false }
                quietestBurst = min(quietestBurst, stats.power)
            } else {
                loudestPause = max(loudestPause, stats.power)
            }
        }
        return loudestPause <= quietestBurst * Self.pauseToToneRatio
    }

    // MARK: spandsp callbacks

    /// spandsp confirms a segment change two blocks after it happened (one block of doubt,
    /// one of agreement): the segment that just ended finished about one block ago.
    private func segmentEnded(tone: Bool, durationMs: Int) {
        let end = boundaryTime >= UInt64(Self.blockLength) ? boundaryTime - UInt64(Self.blockLength) : 0
        let start = segmentStarts[segmentsSeen % Self.segmentHistory]
        if recordedCount < Self.segmentHistory {
            recordedSegments[(recordedHead + recordedCount) % Self.segmentHistory] = Segment(isTone: tone, startSample: start, durationMs: durationMs)
            recordedCount += 1
        }
        if tone { lastToneSegmentEnd = end }
        purity.segmentEnded()
        segmentsSeen += 1
        segmentStarts[segmentsSeen % Self.segmentHistory] = end
    }

    /// `currentTone` is the tone reported as present (−1: none): a cadence spandsp matched but
    /// the purity check refused is never reported, nor is its end.
    private func toneChanged(_ code: Int32) {
        if currentTone >= 0 && Int(currentTone) < toneIds.count {
            queue.push(MediaDetection(.toneEnded(toneIds[Int(currentTone)]), sampleTime: lastToneSegmentEnd))
        }
        currentTone = -1
        guard code >= 0 && Int(code) < toneIds.count else { return }
        guard isClean(Int(code)) else {
            rejectedAsImpure += 1
            return
        }
        currentTone = code
        // The pattern's segments are the last `length` ones, the current one included.
        let length = patternLengths[Int(code)]
        let first = max(segmentsSeen - length + 1, 0)
        queue.push(MediaDetection(.toneStarted(toneIds[Int(code)]), sampleTime: segmentStarts[first % Self.segmentHistory]))
    }
}
