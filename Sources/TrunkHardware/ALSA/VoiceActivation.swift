/// Voice-activated recording (VOX, 声控) as analog line-tap recorders do it: a recording opens
/// when the line's level stays above the start threshold for the attack time, and closes once
/// it has stayed below the stop threshold for the hang time. A little audio from before the
/// trigger is kept so the first syllable is not clipped.
public struct VoxSettings: Sendable, Hashable, Codable {
    /// Level (dBFS, RMS over 10 ms) that opens a recording.
    public var startLevelDBFS = -40.0
    /// Level below which the line counts as quiet; lower than the start level for hysteresis.
    public var stopLevelDBFS = -46.0
    public var attackMs = 30
    public var hangMs = 2000
    public var preRollMs = 200

    public init() {}
}

public enum VoxEvent: Equatable, Sendable {
    /// Recording opened; audio starts at this sample (pre-roll included).
    case opened(sample: Int)
    /// Recording closed after this sample (the hang time included).
    case closed(sample: Int)
}

/// The VOX decision, sample-count based so it runs the same on live input and on files.
public struct VoiceActivationGate: Sendable {
    public static let windowSamples = 80
    public let settings: VoxSettings
    public private(set) var isOpen = false
    private var loudWindows = 0
    private var quietWindows = 0
    private var windowEnergy = 0.0
    private var windowFill = 0
    private var samplesSeen = 0
    private let startEnergy: Double
    private let stopEnergy: Double

    public init(settings: VoxSettings) {
        self.settings = settings
        // Mean square of a window at the threshold, full scale being 32768.
        startEnergy = Self.meanSquare(dBFS: settings.startLevelDBFS)
        stopEnergy = Self.meanSquare(dBFS: settings.stopLevelDBFS)
    }

    static func meanSquare(dBFS: Double) -> Double {
        var amplitude = 32768.0
        var remaining = dBFS
        // 10^(dB/20) without Foundation: step by 20 dB, then the fine part by a short series.
        while remaining <= -20 { amplitude /= 10; remaining += 20 }
        let fraction = remaining / 20 * 2.302585092994046
        var term = 1.0, sum = 1.0
        for n in 1...20 { term *= fraction / Double(n); sum += term }
        amplitude *= sum
        return amplitude * amplitude
    }

    /// Feeds samples; returns the openings and closings they cause.
    public mutating func process(_ samples: UnsafeBufferPointer<Int16>) -> [VoxEvent] {
        var events: [VoxEvent] = []
        for sample in samples {
            let value = Double(sample)
            windowEnergy += value * value
            windowFill += 1
            samplesSeen += 1
            guard windowFill == Self.windowSamples else { continue }
            let meanSquare = windowEnergy / Double(Self.windowSamples)
            windowEnergy = 0
            windowFill = 0
            decide(meanSquare, &events)
        }
        return events
    }

    private mutating func decide(_ meanSquare: Double, _ events: inout [VoxEvent]) {
        let windowMs = Self.windowSamples * 1000 / 8000
        if !isOpen {
            loudWindows = meanSquare >= startEnergy ? loudWindows + 1 : 0
            if loudWindows * windowMs >= settings.attackMs {
                isOpen = true
                quietWindows = 0
                let triggered = samplesSeen - loudWindows * Self.windowSamples
                events.append(.opened(sample: max(0, triggered - settings.preRollMs * 8)))
            }
        } else {
            quietWindows = meanSquare < stopEnergy ? quietWindows + 1 : 0
            if quietWindows * windowMs >= settings.hangMs {
                isOpen = false
                loudWindows = 0
                events.append(.closed(sample: samplesSeen))
            }
        }
    }
}
