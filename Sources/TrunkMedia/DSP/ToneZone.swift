/// One piece of a tone's cadence: up to two frequencies for a time, or silence.
public struct ToneSegment: Sendable, Equatable {
    /// Frequencies in Hz (none = silence, one, or two summed).
    public var frequencies: [Int]
    /// Level of each frequency, dBm0.
    public var levelDBm0: Int
    /// Length in ms; nil = continuous (only for the last segment of a non-repeating tone, or
    /// a tone of one segment).
    public var durationMs: Int?

    public init(_ frequencies: [Int], levelDBm0: Int, durationMs: Int?) {
        precondition(frequencies.count <= 2, "a tone segment holds at most two frequencies")
        self.frequencies = frequencies
        self.levelDBm0 = levelDBm0
        self.durationMs = durationMs
    }

    public static func silence(_ durationMs: Int) -> ToneSegment {
        ToneSegment([], levelDBm0: 0, durationMs: durationMs)
    }

    public var isSilence: Bool { frequencies.isEmpty }
}

/// A named call-progress tone: its segments, played in order and repeated.
public struct ToneDefinition: Sendable, Equatable {
    public var tone: ProgressTone
    public var segments: [ToneSegment]

    public init(_ tone: ProgressTone, _ segments: [ToneSegment]) {
        precondition(!segments.isEmpty, "a tone needs at least one segment")
        self.tone = tone
        self.segments = segments
    }

    /// Continuous (one segment without an end): dial tone.
    public var isContinuous: Bool { segments.count == 1 && segments[0].durationMs == nil }

    /// Length of one cadence cycle in ms (nil for a continuous tone).
    public var cycleMs: Int? {
        isContinuous ? nil : segments.reduce(0) { $0 + ($1.durationMs ?? 0) }
    }
}

/// A country's tone plan, table-driven: what the generator plays and the cadence detector
/// looks for. `cn` follows the Chinese plan (REFERENCE.md, DAHDI zone `cn`); `us` the North
/// American precise tone plan, to show that dual-frequency plans fit the same tables.
public struct ToneZone: Sendable, Equatable {
    public var name: String
    public var tones: [ToneDefinition]

    public init(name: String, tones: [ToneDefinition]) {
        self.name = name
        self.tones = tones
    }

    public func definition(of tone: ProgressTone) -> ToneDefinition? {
        tones.first { $0.tone == tone }
    }

    public static let all: [ToneZone] = [.cn, .us]

    /// The zone called `name` (`cn`, `us`), or nil.
    public static func named(_ name: String) -> ToneZone? {
        all.first { $0.name == name.lowercased() }
    }

    /// China: 450 Hz for the supervisory tones, 950 Hz record tone, 950/1400/1800 Hz SIT.
    public static let cn = ToneZone(name: "cn", tones: [
        ToneDefinition(.dial, [ToneSegment([450], levelDBm0: -10, durationMs: nil)]),
        ToneDefinition(.busy, [ToneSegment([450], levelDBm0: -10, durationMs: 350), .silence(350)]),
        ToneDefinition(.ringback, [ToneSegment([450], levelDBm0: -10, durationMs: 1000), .silence(4000)]),
        ToneDefinition(.congestion, [ToneSegment([450], levelDBm0: -10, durationMs: 700), .silence(700)]),
        ToneDefinition(.callWaiting, [ToneSegment([450], levelDBm0: -10, durationMs: 400), .silence(4000)]),
        ToneDefinition(.recordTone, [ToneSegment([950], levelDBm0: -10, durationMs: 400), .silence(10_000)]),
        sit(levelDBm0: -14),
    ])

    /// North America: dual-frequency precise tones.
    public static let us = ToneZone(name: "us", tones: [
        ToneDefinition(.dial, [ToneSegment([350, 440], levelDBm0: -13, durationMs: nil)]),
        ToneDefinition(.busy, [ToneSegment([480, 620], levelDBm0: -24, durationMs: 500), .silence(500)]),
        ToneDefinition(.ringback, [ToneSegment([440, 480], levelDBm0: -19, durationMs: 2000), .silence(4000)]),
        ToneDefinition(.congestion, [ToneSegment([480, 620], levelDBm0: -24, durationMs: 250), .silence(250)]),
        ToneDefinition(.callWaiting, [ToneSegment([440], levelDBm0: -13, durationMs: 300), .silence(9700)]),
        ToneDefinition(.recordTone, [ToneSegment([1400], levelDBm0: -13, durationMs: 500), .silence(15_000)]),
        sit(levelDBm0: -14),
    ])

    /// ITU-T E.180 special information tone: 950, 1400, 1800 Hz, 330 ms each, 1 s silence.
    static func sit(levelDBm0: Int) -> ToneDefinition {
        ToneDefinition(.specialInformation, [
            ToneSegment([950], levelDBm0: levelDBm0, durationMs: 330),
            ToneSegment([1400], levelDBm0: levelDBm0, durationMs: 330),
            ToneSegment([1800], levelDBm0: levelDBm0, durationMs: 330),
            .silence(1000),
        ])
    }
}
