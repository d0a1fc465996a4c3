import NIOConcurrencyHelpers
import TrunkCore
import TrunkISDN

/// The carrier's exchange in the lab: the network side of a simulated E1 (span 1 in the
/// embedded default). It answers the calls the gateway places after a ring, and places calls
/// into the gateway for `trunkctl sim call` and the traffic generator, holding each for a
/// given time and sending DTMF on it as a caller would.
public final class LabCarrier: Sendable {
    public struct Call: Sendable, Codable, Equatable {
        public var reference: String
        public var channel: Int?
        public var called: String
        public var calling: String?
        /// Lab milliseconds (tick time) of each step.
        public var placedAtMs: Int64
        public var answeredAtMs: Int64?
        public var clearedAtMs: Int64?
        public var cause: Int?
        /// Who cleared: "carrier" (the caller hung up) or "gateway".
        public var clearedBy: String?
        public var dtmf: String
        public var holdMs: Int?
    }

    public enum Event: Sendable {
        case answered(Call)
        case cleared(Call)
    }

    /// Sends DTMF in-band on the carrier's own B-channel (the lab's media engine does it).
    public typealias DTMFSender = @Sendable (_ span: Int, _ channel: Int, _ digits: String) -> Void

    private struct State {
        var calls: [Q931CallID: Call] = [:]
        var answerAt: [Q931CallID: Int64] = [:]
        var hangupAt: [Q931CallID: Int64] = [:]
        var dtmfAt: [Q931CallID: Int64] = [:]
        var clearing: Set<Q931CallID> = []
        var handlers: [@Sendable (Event) -> Void] = []
        var dtmfSender: DTMFSender?
        var ended: [Call] = []
    }

    public let span: Int
    public let driver: PRISpanDriver
    /// How long the lab's called parties ring before they answer the gateway's calls.
    public let ringMs: Int64
    private let now: @Sendable () -> ISDNInstant
    private let state = NIOLockedValueBox(State())

    public init(driver: PRISpanDriver, ringMs: Int64 = 1_000, now: @escaping @Sendable () -> ISDNInstant) {
        self.driver = driver
        self.span = driver.span
        self.ringMs = ringMs
        self.now = now
        driver.onIndication { [weak self] _, indication in self?.handle(indication) }
    }

    public func onEvent(_ handler: @escaping @Sendable (Event) -> Void) { state.withLockedValue { $0.handlers.append(handler) } }

    public func setDTMFSender(_ sender: @escaping DTMFSender) { state.withLockedValue { $0.dtmfSender = sender } }

    private var nowMs: Int64 { now().nanoseconds / 1_000_000 }

    /// Calls the gateway: `dtmf` is keyed 1 s after the answer, the caller hangs up `holdMs`
    /// after the answer (nil: waits for the gateway to clear).
    @discardableResult
    public func place(called: String, calling: String?, channel: Int? = nil, dtmf: String = "", holdMs: Int? = nil) throws(TrunkError) -> Call {
        let placed = try driver.placeCallOnChannel(called: called, calling: calling, channel: channel.map { UInt8(clamping: $0) }, now: now())
        let call = Call(reference: "\(placed.call)", channel: placed.channel.map(Int.init), called: called, calling: calling,
                        placedAtMs: nowMs, dtmf: dtmf, holdMs: holdMs)
        state.withLockedValue { $0.calls[placed.call] = call }
        return call
    }

    public var calls: [Call] { state.withLockedValue { Array($0.calls.values) } }
    public var ended: [Call] { state.withLockedValue { $0.ended } }

    /// Clears one of the carrier's calls, as the caller hanging up.
    public func hangup(reference: String, cause: Q850Cause = .normalCallClearing) throws(TrunkError) {
        let id = state.withLockedValue { state in state.calls.first { $0.value.reference == reference }?.key }
        guard let id else { throw TrunkError(.notFound, "the carrier has no call \(reference)") }
        clear(id, cause: cause)
    }

    private func clear(_ id: Q931CallID, cause: Q850Cause) {
        state.withLockedValue { _ = $0.clearing.insert(id) }
        let at = now()
        driver.callControl(now: at) { $0.disconnect(id, cause: cause, now: at) }
    }

    private func handle(_ indication: Q931Indication) {
        let ms = nowMs
        var events: [Event] = []
        var handlers: [@Sendable (Event) -> Void] = []
        var alert: Q931CallID?
        state.withLockedValue { state in
            handlers = state.handlers
            switch indication {
            case .incomingCall(let call):
                // The gateway calls out: the lab's called party rings, then answers.
                state.calls[call.id] = Call(reference: "\(call.id)", channel: Int(call.channel), called: call.calledNumber?.digits ?? "",
                                            calling: call.callingNumber?.digits, placedAtMs: ms, dtmf: "")
                state.answerAt[call.id] = ms + ringMs
                alert = call.id
            case .channelAssigned(let id, let channel):
                state.calls[id]?.channel = Int(channel)
            case .answered(let id, _), .connected(let id):
                guard var call = state.calls[id], call.answeredAtMs == nil else { return }
                call.answeredAtMs = ms
                state.calls[id] = call
                if !call.dtmf.isEmpty { state.dtmfAt[id] = ms + 1_000 }
                if let hold = call.holdMs { state.hangupAt[id] = ms + Int64(hold) }
                events.append(.answered(call))
            case .cleared(let id, let cause, _):
                guard var call = state.calls.removeValue(forKey: id) else { return }
                call.clearedAtMs = ms
                call.cause = Int(cause.rawValue)
                call.clearedBy = state.clearing.remove(id) != nil ? "carrier" : "gateway"
                state.answerAt[id] = nil
                state.hangupAt[id] = nil
                state.dtmfAt[id] = nil
                state.ended.append(call)
                if state.ended.count > 1_000 { state.ended.removeFirst(state.ended.count - 1_000) }
                events.append(.cleared(call))
            default:
                break
            }
        }
        if let alert {
            let at = now()
            driver.callControl(now: at) { $0.alerting(alert, now: at) }
        }
        for event in events { for handler in handlers { handler(event) } }
    }

    /// Answers, keys DTMF and hangs up when due; called every tick.
    public func service() {
        let ms = nowMs
        let (answers, hangups, keyed, sender) = state.withLockedValue { state -> ([Q931CallID], [Q931CallID], [(Int, String)], DTMFSender?) in
            let answers = state.answerAt.filter { $0.value <= ms }.map(\.key)
            for id in answers { state.answerAt[id] = nil }
            let hangups = state.hangupAt.filter { $0.value <= ms }.map(\.key)
            for id in hangups { state.hangupAt[id] = nil }
            var keyed: [(Int, String)] = []
            for (id, at) in state.dtmfAt where at <= ms {
                state.dtmfAt[id] = nil
                if let call = state.calls[id], let channel = call.channel { keyed.append((channel, call.dtmf)) }
            }
            return (answers, hangups, keyed, state.dtmfSender)
        }
        for id in answers {
            let at = now()
            driver.callControl(now: at) { $0.connect(id, now: at) }
        }
        for (channel, digits) in keyed { sender?(span, channel, digits) }
        for id in hangups { clear(id, cause: .normalCallClearing) }
    }
}
