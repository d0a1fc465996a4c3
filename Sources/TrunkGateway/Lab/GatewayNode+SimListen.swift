import Foundation
import TrunkCore
import TrunkMedia

/// `sim.listen`: what the lab's far-end subscribers hear. Each party is a carrier B-channel with
/// a call on it; it may send a tone meanwhile (its "voice"), so a test or a technician can tell
/// who hears whom through bridges, snoops and transfers, measured where a caller's ear would be.
public struct SimListenParams: Codable, Sendable, Equatable {
    public struct Party: Codable, Sendable, Equatable {
        /// B-channel on the carrier span (as `sim call` reports it).
        public var channel: Int
        /// A tone the subscriber sends while listening (Hz), at −16 dBm0.
        public var sendHz: Int?
        public init(channel: Int, sendHz: Int? = nil) {
            self.channel = channel
            self.sendHz = sendHz
        }
    }

    public var span: Int
    public var parties: [Party]
    /// Frequencies whose level is reported for every party.
    public var frequencies: [Int]
    /// Length of the measurement (after `settleMs`, which is not measured).
    public var ms: Int
    public var settleMs: Int?

    public init(span: Int, parties: [Party], frequencies: [Int], ms: Int, settleMs: Int? = nil) {
        self.span = span
        self.parties = parties
        self.frequencies = frequencies
        self.ms = ms
        self.settleMs = settleMs
    }
}

public struct SimListenResult: Codable, Sendable, Equatable {
    public struct Tone: Codable, Sendable, Equatable {
        public var hz: Int
        public var dBm0: Double
    }

    public struct Heard: Codable, Sendable, Equatable {
        public var channel: Int
        public var sentHz: Int?
        /// Whole-band level of what the subscriber heard.
        public var levelDBm0: Double
        public var tones: [Tone]
        public var samples: Int

        /// The level of `hz` (nil when it was not asked for).
        public func level(_ hz: Int) -> Double? { tones.first { $0.hz == hz }?.dBm0 }
    }

    public var span: Int
    public var ms: Int
    public var parties: [Heard]
}

extension GatewayNode {
    /// The level a party's tone is sent at: a speaking voice's level, well above the quiet line.
    static let listenToneDBm0 = -16.0

    func simListen(_ params: SimListenParams) async throws(TrunkError) -> SimListenResult {
        guard let calls, let media = calls.media else { throw TrunkError(.unavailable, "no call service with a media loop runs on this node") }
        guard calls.carriers[params.span] != nil else {
            let carriers = calls.carriers.keys.sorted().map(String.init).joined(separator: ", ")
            throw TrunkError(.notFound, "span \(params.span) does not play the carrier here (carrier spans: \(carriers.isEmpty ? "none" : carriers))")
        }
        guard !params.parties.isEmpty else { throw TrunkError(.invalidArgument, "sim.listen needs at least one party (a carrier B-channel)") }
        guard (100...10_000).contains(params.ms) else { throw TrunkError(.invalidArgument, "ms must be 100…10000, not \(params.ms)") }
        let settle = params.settleMs ?? 100
        guard (0...2_000).contains(settle) else { throw TrunkError(.invalidArgument, "settleMs must be 0…2000, not \(settle)") }
        for hz in params.frequencies + params.parties.compactMap(\.sendHz) where !(100...3_800).contains(hz) {
            throw TrunkError(.invalidArgument, "frequencies must be 100…3800 Hz (8 kHz sampling), not \(hz)")
        }
        let live = Set(calls.carriers[params.span]!.calls.compactMap(\.channel))
        for party in params.parties where !live.contains(party.channel) {
            throw TrunkError(.notFound, "span \(params.span) channel \(party.channel): the carrier has no call there (calls on \(live.sorted()))")
        }
        let heard = try await media.carrierListen(params.parties.map { party in
            (ChannelAddress(span: params.span, channel: party.channel),
             party.sendHz.map { ToneSequence.Step(frequencies: [$0], levelDBm0: Self.listenToneDBm0, durationMs: params.ms + settle + 500) })
        }, ms: params.ms + settle)
        let parties = zip(params.parties, heard).map { party, samples in
            let measured = Array(samples.dropFirst(settle * 8))
            var meter = LevelMeter()
            meter.add(measured)
            return SimListenResult.Heard(channel: party.channel, sentHz: party.sendHz, levelDBm0: Self.rounded(Double(meter.rmsDBm0)),
                                         tones: params.frequencies.map { .init(hz: $0, dBm0: Self.rounded(Self.toneLevel(measured, hz: $0))) },
                                         samples: measured.count)
        }
        return SimListenResult(span: params.span, ms: params.ms, parties: parties)
    }

    private static func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }

    /// Level in dBm0 of a sine at `hz` in `samples` (Goertzel over the whole stretch).
    static func toneLevel(_ samples: [Int16], hz: Int) -> Double {
        guard !samples.isEmpty else { return -120 }
        let coefficient = 2 * cos(2 * Double.pi * Double(hz) / 8000)
        var s1 = 0.0, s2 = 0.0
        for sample in samples {
            let s0 = Double(sample) + coefficient * s1 - s2
            s2 = s1
            s1 = s0
        }
        // |X|² of the bin, scaled to the sine's amplitude², then its mean square (A²/2).
        let amplitudeSquared = (s1 * s1 + s2 * s2 - coefficient * s1 * s2) * 4 / Double(samples.count * samples.count)
        return max(-120, Double(SignalLevel.dBm0(power: Float(max(amplitudeSquared / 2, 1e-9)))))
    }
}
