import Foundation
import NIOConcurrencyHelpers
import TrunkCore

/// Offered traffic from the lab's carrier into the gateway: Poisson arrivals sized for a given
/// load in Erlang per channel, holding times from a distribution, callers from a range, an
/// optional DTMF script per call. Everything runs on the lab's clock (ticks), so a test can
/// run minutes of traffic faster than real time.
public final class TrafficGenerator: Sendable {
    public struct Profile: Sendable, Codable, Equatable {
        public var erlangPerChannel: Double
        public var channels: Int
        public var durationMs: Int
        public var meanHoldMs: Int
        public var holdDistribution: HoldDistribution
        public var called: String
        /// Callers are this prefix and a counter (13800000000, 13800000001 …).
        public var callerBase: UInt64
        public var dtmf: String
        public var seed: UInt64

        public enum HoldDistribution: String, Sendable, Codable, CaseIterable {
            case exponential
            case fixed
        }

        public init(erlangPerChannel: Double, channels: Int = 30, durationMs: Int, meanHoldMs: Int = 20_000,
                    holdDistribution: HoldDistribution = .exponential, called: String = "95500",
                    callerBase: UInt64 = 13_800_000_000, dtmf: String = "", seed: UInt64 = 1) {
            self.erlangPerChannel = erlangPerChannel
            self.channels = channels
            self.durationMs = durationMs
            self.meanHoldMs = meanHoldMs
            self.holdDistribution = holdDistribution
            self.called = called
            self.callerBase = callerBase
            self.dtmf = dtmf
            self.seed = seed
        }

        /// Mean time between arrivals: offered traffic A = λ·h, so 1/λ = h / A.
        public var meanInterarrivalMs: Double { Double(meanHoldMs) / max(1e-9, erlangPerChannel * Double(channels)) }
    }

    public struct Report: Sendable, Codable, Equatable {
        public var profile: Profile
        public var elapsedMs: Int64
        public var running: Bool
        /// Call attempts made.
        public var offered: Int
        /// Attempts that found no free channel on the carrier side (the trunk was full).
        public var blocked: Int
        /// Answered and cleared normally (cause 16) by either side.
        public var completed: Int
        /// Got a channel but did not complete; each with its cause.
        public var failed: Int
        public var failureCauses: [String: Int]
        public var inProgress: Int
        /// Carrier's SETUP to the gateway's CONNECT as the carrier saw it (D-channel transit included).
        public var answerDelayP50Ms: Double?
        public var answerDelayP99Ms: Double?
        public var carriedErlang: Double
        /// Completed over attempts that had a channel.
        public var completionRatio: Double?
    }

    private struct State {
        var running = true
        var nextArrivalMs: Int64
        var startedMs: Int64
        var random: SplitMix64
        var sequence: UInt64 = 0
        var offered = 0
        var blocked = 0
        var completed = 0
        var failures: [String: Int] = [:]
        var delays: [Double] = []
        var heldMs: Int64 = 0
        var ours: Set<String> = []
    }

    public let profile: Profile
    private let carrier: LabCarrier
    private let now: @Sendable () -> Int64
    private let state: NIOLockedValueBox<State>

    public init(profile: Profile, carrier: LabCarrier, now: @escaping @Sendable () -> Int64) {
        self.profile = profile
        self.carrier = carrier
        self.now = now
        var random = SplitMix64(seed: profile.seed)
        let start = now()
        let first = start + Int64(Self.exponential(mean: profile.meanInterarrivalMs, &random))
        state = NIOLockedValueBox(State(nextArrivalMs: first, startedMs: start, random: random))
        carrier.onEvent { [weak self] event in self?.observe(event) }
    }

    static func exponential(mean: Double, _ random: inout SplitMix64) -> Double {
        -mean * log(1 - Double.random(in: 0..<1, using: &random))
    }

    /// Places the calls that are due; called every tick.
    public func service() {
        let ms = now()
        while true {
            let next = state.withLockedValue { state -> (caller: String, hold: Int)? in
                guard state.running else { return nil }
                if ms - state.startedMs >= Int64(profile.durationMs) {
                    state.running = false
                    return nil
                }
                guard state.nextArrivalMs <= ms else { return nil }
                state.nextArrivalMs += max(1, Int64(Self.exponential(mean: profile.meanInterarrivalMs, &state.random)))
                state.sequence += 1
                let hold = profile.holdDistribution == .fixed
                    ? profile.meanHoldMs : max(1, Int(Self.exponential(mean: Double(profile.meanHoldMs), &state.random)))
                return (String(profile.callerBase + state.sequence), hold)
            }
            guard let next else { return }
            do {
                let call = try carrier.place(called: profile.called, calling: next.caller, dtmf: profile.dtmf, holdMs: next.hold)
                state.withLockedValue {
                    $0.offered += 1
                    $0.ours.insert(call.reference)
                }
            } catch {
                state.withLockedValue {
                    $0.offered += 1
                    $0.blocked += 1
                }
            }
        }
    }

    public func stop() { state.withLockedValue { $0.running = false } }

    public var isRunning: Bool { state.withLockedValue { $0.running } }

    private func observe(_ event: LabCarrier.Event) {
        guard case .cleared(let call) = event else { return }
        state.withLockedValue { state in
            guard state.ours.remove(call.reference) != nil else { return }
            if let answered = call.answeredAtMs {
                state.delays.append(Double(answered - call.placedAtMs))
                state.heldMs += (call.clearedAtMs ?? answered) - answered
            }
            if call.answeredAtMs != nil && call.cause == 16 {
                state.completed += 1
            } else {
                state.failures["\(call.cause ?? 0)", default: 0] += 1
            }
        }
    }

    public func report() -> Report {
        let ms = now()
        return state.withLockedValue { state in
            let delays = state.delays.sorted()
            let failed = state.failures.values.reduce(0, +)
            let elapsed = max(1, ms - state.startedMs)
            let seized = state.completed + failed
            return Report(profile: profile, elapsedMs: elapsed, running: state.running || !state.ours.isEmpty,
                          offered: state.offered, blocked: state.blocked, completed: state.completed, failed: failed,
                          failureCauses: state.failures, inProgress: state.ours.count,
                          answerDelayP50Ms: IntervalStatistics.percentile(delays, 0.5),
                          answerDelayP99Ms: IntervalStatistics.percentile(delays, 0.99),
                          // Over the offering period: the drain after it carries the tail of the same load.
                          carriedErlang: Double(state.heldMs) / Double(min(elapsed, Int64(profile.durationMs))) / Double(max(1, profile.channels)),
                          completionRatio: seized > 0 ? Double(state.completed) / Double(seized) : nil)
        }
    }
}

/// A small seeded generator, so a traffic run can be repeated exactly.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
