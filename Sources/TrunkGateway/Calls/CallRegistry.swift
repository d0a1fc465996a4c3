import Foundation
import NIOConcurrencyHelpers
import TrunkISDN

/// One call as upper layers see it, whatever line it came over: the start of the gateway's
/// uniform call model (the trunk type is metadata, not a different shape).
public struct CallRecord: Codable, Sendable, Equatable {
    public enum Direction: String, Codable, Sendable {
        case inbound
        case outbound
    }

    public enum State: String, Codable, Sendable {
        case offered
        case dialing
        case proceeding
        case alerting
        case up
        case releasing
        case ended
    }

    /// Stable and unique across restarts.
    public var callID: String
    public var direction: Direction
    public var trunk: String
    public var span: Int
    public var channel: Int?
    public var caller: String?
    public var callee: String?
    public var state: State
    /// Wall-clock time the call began (seize or SETUP).
    public var started: Date
    /// Milliseconds since the call began, on the monotonic clock, at each state change.
    public var timeline: [TimelineEntry]
    /// Q.850 cause once the call has ended.
    public var cause: Int?

    public struct TimelineEntry: Codable, Sendable, Equatable {
        public var state: State
        public var atMs: Double
    }
}

/// Keeps the live calls of a node and the last ended ones, fed by signalling indications.
public final class CallRegistry: Sendable {
    public static let endedKept = 200
    private struct Live {
        var record: CallRecord
        var startedMonotonic: UInt64
    }
    private struct Key: Hashable {
        var span: Int
        var call: Q931CallID
    }
    private let state = NIOLockedValueBox((live: [Key: Live](), ended: [CallRecord]()))
    private let clock: @Sendable () -> UInt64

    public init(clock: @escaping @Sendable () -> UInt64) { self.clock = clock }

    public var live: [CallRecord] {
        state.withLockedValue { $0.live.values.map(\.record) }.sorted { $0.started < $1.started }
    }

    public var recentlyEnded: [CallRecord] { state.withLockedValue { $0.ended } }

    /// A call this node placed on `span` (outbound).
    public func placed(span: Int, call: Q931CallID, channel: UInt8?, caller: String?, callee: String) {
        let now = clock()
        let record = CallRecord(callID: UUID().uuidString.lowercased(), direction: .outbound, trunk: "pri", span: span,
                                channel: channel.map(Int.init), caller: caller, callee: callee, state: .dialing, started: Date(),
                                timeline: [.init(state: .dialing, atMs: 0)], cause: nil)
        state.withLockedValue { $0.live[Key(span: span, call: call)] = Live(record: record, startedMonotonic: now) }
    }

    /// A PRI indication from `span`'s signalling.
    public func handle(span: Int, _ indication: Q931Indication) {
        let now = clock()
        state.withLockedValue { state in
            switch indication {
            case .incomingCall(let call):
                let record = CallRecord(callID: UUID().uuidString.lowercased(), direction: .inbound, trunk: "pri", span: span,
                                        channel: Int(call.channel), caller: call.callingNumber?.digits,
                                        callee: call.calledNumber?.digits, state: .offered, started: Date(),
                                        timeline: [.init(state: .offered, atMs: 0)], cause: nil)
                state.live[Key(span: span, call: call.id)] = Live(record: record, startedMonotonic: now)
            case .digitsComplete(let call, let number):
                state.live[Key(span: span, call: call)]?.record.callee = number
            case .channelAssigned(let call, let channel):
                state.live[Key(span: span, call: call)]?.record.channel = Int(channel)
            case .proceeding(let call): Self.move(&state.live, Key(span: span, call: call), to: .proceeding, now: now)
            case .alerting(let call, _): Self.move(&state.live, Key(span: span, call: call), to: .alerting, now: now)
            case .answered(let call, _), .connected(let call): Self.move(&state.live, Key(span: span, call: call), to: .up, now: now)
            case .disconnecting(let call, _): Self.move(&state.live, Key(span: span, call: call), to: .releasing, now: now)
            case .cleared(let call, let cause, _):
                let key = Key(span: span, call: call)
                Self.move(&state.live, key, to: .ended, now: now)
                if var ended = state.live.removeValue(forKey: key)?.record {
                    ended.cause = Int(cause.rawValue)
                    state.ended.append(ended)
                    if state.ended.count > Self.endedKept { state.ended.removeFirst(state.ended.count - Self.endedKept) }
                }
            default:
                break
            }
        }
    }

    /// The near side's own progress (ALERTING sent, CONNECT sent) as the far side will see it.
    public func progressed(span: Int, call: Q931CallID, to newState: CallRecord.State) {
        let now = clock()
        state.withLockedValue { Self.move(&$0.live, Key(span: span, call: call), to: newState, now: now) }
    }

    private static func move(_ live: inout [Key: Live], _ key: Key, to newState: CallRecord.State, now: UInt64) {
        guard var entry = live[key], entry.record.state != newState else { return }
        entry.record.state = newState
        entry.record.timeline.append(.init(state: newState, atMs: Double(now - entry.startedMonotonic) / 1e6))
        live[key] = entry
    }
}
