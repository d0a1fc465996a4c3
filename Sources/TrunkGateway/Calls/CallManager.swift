import Foundation
import Logging
import NIOConcurrencyHelpers
import TrunkCore
import TrunkISDN

/// What the call manager tells the layers above (CTI, call records, the built-in flow).
public enum CallNotification: Sendable {
    case offered(CallRecord)
    /// An outbound call this node placed.
    case originated(CallRecord)
    case stateChanged(CallRecord, from: ChannelState)
    case dtmf(CallRecord, digit: Character, durationMs: Int)
    case ended(CallRecord)
    /// A recording of the call ended (its limit, a stop, or the call's end).
    case recordingFinished(CallRecord)
    case channelChanged(ChannelAddress, ChannelState, callID: String?)
}

/// The gateway's one call model. Trunks (PRI, analog) report their calls as `TrunkIndication`s;
/// upper layers act on calls by id; every step is stamped on the monotonic clock. New inbound
/// calls go to the CTI client that claimed them, else to the built-in flow, else are rejected:
/// nothing is left ringing.
///
/// Thread model: trunk adapters call in from their signalling threads; work on the state
/// happens under one lock and everything that leaves (trunk requests, notifications) runs after
/// it is released, so a trunk that answers synchronously re-enters without deadlock.
public final class CallManager: Sendable {
    public struct Configuration: Sendable {
        /// A claimed call rings this long waiting for its CTI client, then is cleared with 19.
        public var offerTimeoutMs = 60_000
        /// An outbound call with no answer in this long is cleared with 19.
        public var originateTimeoutMs = 60_000
        /// Ended calls kept for `trunkctl calls` (the full history is in the CDR store).
        public var endedKept = 200
        public var flow: BuiltInFlow.Configuration? = BuiltInFlow.Configuration()
        /// Static routing of calls no CTI client claimed, first match wins; after them the built-in flow.
        public var routes: [InboundRoute] = []
        public init() {}
    }

    /// A configured rule for inbound calls (`[[route]]`).
    public struct InboundRoute: Sendable, Equatable {
        public enum Action: Sendable, Equatable {
            case flow
            case reject(Q850Cause)
        }
        public var dnis: String?
        public var span: Int?
        public var channel: ChannelAddress?
        public var action: Action

        public init(dnis: String? = nil, span: Int? = nil, channel: ChannelAddress? = nil, action: Action) {
            self.dnis = dnis
            self.span = span
            self.channel = channel
            self.action = action
        }

        func matches(_ record: CallRecord) -> Bool {
            if let span, record.address.span != span { return false }
            if let channel, record.address != channel { return false }
            if let dnis { return CallClaim.matches(pattern: dnis, number: record.callee ?? "") }
            return true
        }
    }

    fileprivate struct LiveCall {
        var record: CallRecord
        var reference: TrunkCallReference
        var startedNs: UInt64
        /// When the manager itself must act (offer or originate timeout).
        var deadlineNs: UInt64?
        var flow: BuiltInFlow?
        var flowDeadlineNs: UInt64?
        var mediaAttached = false
    }

    fileprivate struct State {
        var trunks: [Int: any TrunkSignalling] = [:]
        var channels: [ChannelAddress: (state: ChannelState, call: String?)] = [:]
        var calls: [String: LiveCall] = [:]
        var byReference: [TrunkCallReference: String] = [:]
        var ended: [CallRecord] = []
        var claims: [CallClaim] = []
        var groups: [String: TrunkGroup] = [:]
        var lastSeized: [String: ChannelAddress] = [:]
        var outOfService: Set<Int> = []
        var blocked: Set<ChannelAddress> = []
        var observers: [@Sendable (CallNotification) -> Void] = []
        var media: (any CallMediaControl)?
    }

    public let configuration: Configuration
    private let state = NIOLockedValueBox(State())
    private let clock: @Sendable () -> UInt64
    /// Also the call model's trunks' (device failures of analog ports).
    let logger: Logger

    /// `clock` gives monotonic nanoseconds: the simulator's tick time in a lab, CLOCK_MONOTONIC on cards.
    public init(configuration: Configuration = Configuration(), clock: @escaping @Sendable () -> UInt64, logger: Logger) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    // MARK: set-up

    public func register(_ trunk: any TrunkSignalling) {
        state.withLockedValue { state in
            state.trunks[trunk.span] = trunk
            for channel in trunk.channels {
                state.channels[ChannelAddress(span: trunk.span, channel: channel)] = (.idle, nil)
            }
        }
    }

    public func addObserver(_ observer: @escaping @Sendable (CallNotification) -> Void) {
        state.withLockedValue { $0.observers.append(observer) }
    }

    /// The media engine that plays, collects and records for calls (the built-in flow needs it).
    public func attachMedia(_ media: any CallMediaControl) {
        state.withLockedValue { $0.media = media }
    }

    public func define(_ group: TrunkGroup) throws(TrunkError) {
        try locked { (state) throws(TrunkError) in
            for member in group.members where state.channels[member] == nil {
                throw TrunkError(.notFound, "trunk group \(group.name): channel \(member) does not exist")
            }
            state.groups[group.name] = group
        }
    }

    public var trunkGroups: [TrunkGroup] { state.withLockedValue { $0.groups.values.sorted { $0.name < $1.name } } }

    // MARK: claims (CTI)

    public func claim(_ claim: CallClaim) { state.withLockedValue { $0.claims.append(claim) } }

    public func releaseClaims(owner: String) { state.withLockedValue { $0.claims.removeAll { $0.owner == owner } } }

    /// Drops every claim whose owner starts with `prefix` (all of one CTI session's claims).
    public func releaseClaims(ownerPrefix prefix: String) { state.withLockedValue { $0.claims.removeAll { $0.owner.hasPrefix(prefix) } } }

    // MARK: views

    public var live: [CallRecord] {
        state.withLockedValue { $0.calls.values.map(\.record) }.sorted { $0.callID < $1.callID }
    }

    public var recentlyEnded: [CallRecord] { state.withLockedValue { $0.ended } }

    public func call(_ id: String) -> CallRecord? {
        state.withLockedValue { $0.calls[id]?.record ?? $0.ended.last { $0.callID == id } }
    }

    public func channelStates() -> [(address: ChannelAddress, state: ChannelState, call: String?)] {
        state.withLockedValue { state in
            state.channels.keys.sorted().map { ($0, Self.visibleState(state, $0), state.channels[$0]!.call) }
        }
    }

    private static func visibleState(_ state: State, _ address: ChannelAddress) -> ChannelState {
        let entry = state.channels[address]!
        if entry.call == nil {
            if state.blocked.contains(address) { return .blocked }
            if state.outOfService.contains(address.span) { return .outOfService }
        }
        return entry.state
    }

    // MARK: indications from trunks

    public func handle(_ indication: TrunkIndication) {
        let now = clock()
        var effects = Effects()
        state.withLockedValue { state in
            switch indication {
            case let .offered(reference, channel, caller, presentation, callee, redirecting, numberComplete):
                let address = ChannelAddress(span: reference.span, channel: channel)
                guard let trunk = state.trunks[reference.span] else { return }
                var record = CallRecord(callID: CallIdentifier.make(), direction: .inbound, trunk: trunk.kind, address: address, started: Date())
                record.caller = caller
                record.callerPresentation = presentation
                record.callee = callee
                record.redirecting = redirecting
                record.trunkGroup = state.groups.values.sorted { $0.name < $1.name }.first { $0.members.contains(address) }?.name
                if numberComplete { record.events.append(CallEvent(.numberComplete, atMs: 0)) }
                state.calls[record.callID] = LiveCall(record: record, reference: reference, startedNs: now)
                state.byReference[reference] = record.callID
                setChannel(&state, address, .offered, call: record.callID, &effects)
                // Routed before it is announced, so the offer names who claimed it; announced first all the same.
                let announce = effects.count
                if numberComplete { route(&state, record.callID, now: now, &effects) }
                effects.notify(state, .offered(state.calls[record.callID]?.record ?? record), at: announce)
            case let .numberComplete(reference, callee):
                guard let id = state.byReference[reference] else { return }
                state.calls[id]!.record.callee = callee
                stamp(&state, id, .numberComplete, now: now)
                route(&state, id, now: now, &effects)
            case let .channelAssigned(reference, channel):
                guard let id = state.byReference[reference], var call = state.calls[id] else { return }
                let old = call.record.address
                let new = ChannelAddress(span: old.span, channel: channel)
                guard old != new else { return }
                if state.channels[old]?.call == id { setChannel(&state, old, .idle, call: nil, &effects) }
                call.record.address = new
                state.calls[id] = call
                setChannel(&state, new, call.record.state, call: id, &effects)
            case .proceeding(let reference):
                move(&state, reference, to: .proceeding, event: .proceeding, now: now, &effects)
            case .alerting(let reference):
                move(&state, reference, to: .alerting, event: .alerting, now: now, &effects)
            case .answered(let reference), .connected(let reference):
                guard let id = state.byReference[reference], state.calls[id]?.record.state != .up else { return }
                state.calls[id]!.deadlineNs = nil
                // Media first: whoever hears the call is up (a CTI client bridging it) finds its channel in the loop.
                attachMedia(&state, id, &effects)
                move(&state, reference, to: .up, event: .answered, now: now, &effects)
                flowInput(&state, id, now: now, &effects) { $0.answered() }
            case let .remoteClearing(reference, cause):
                guard let id = state.byReference[reference], state.calls[id] != nil else { return }
                if state.calls[id]!.record.clearedBy == nil {
                    state.calls[id]!.record.clearedBy = .remote
                    state.calls[id]!.record.cause = Int(cause.rawValue)
                }
                move(&state, reference, to: .releasing, event: nil, now: now, &effects)
                flowInput(&state, id, now: now, &effects) { $0.farEndCleared() }
            case let .cleared(reference, cause, remote):
                guard let id = state.byReference.removeValue(forKey: reference), var call = state.calls.removeValue(forKey: id) else { return }
                if call.record.clearedBy == nil {
                    call.record.clearedBy = remote ? .remote : .local
                    call.record.cause = Int(cause.rawValue)
                }
                if call.record.failure == nil {
                    call.record.failure = Self.failure(for: call.record, cause: cause)
                }
                finish(&state, &call, now: now, &effects)
            case let .serviceChanged(span, inService):
                if inService { state.outOfService.remove(span) } else { state.outOfService.insert(span) }
                for address in state.channels.keys where address.span == span && state.channels[address]!.call == nil {
                    effects.notify(state, .channelChanged(address, Self.visibleState(state, address), callID: nil))
                }
            case let .keypad(reference, digits):
                guard let id = state.byReference[reference] else { return }
                for digit in digits { dtmf(&state, id, digit: digit, durationMs: 0, now: now, &effects) }
            }
        }
        effects.run()
    }

    /// Why a call that did not end normally failed, from what it reached and its cause.
    static func failure(for record: CallRecord, cause: Q850Cause) -> CallFailure? {
        if record.time(of: .answered) != nil {
            return cause == .temporaryFailure || cause == .networkOutOfOrder ? .linkDown : nil
        }
        if record.direction == .inbound && record.clearedBy == .remote { return .abandoned }
        switch cause {
        case .noCircuitAvailable, .requestedChannelNotAvailable, .switchingEquipmentCongestion: return .noChannel
        case .callRejected: return .rejected
        case .noUserResponding, .noAnswerFromUser, .recoveryOnTimerExpiry: return .timeout
        case .temporaryFailure, .networkOutOfOrder: return .linkDown
        default: return record.direction == .outbound ? .farEndFailure : nil
        }
    }

    // MARK: media events (from the media engine)

    public func mediaEvent(_ event: CallMediaEvent) {
        let now = clock()
        var effects = Effects()
        state.withLockedValue { state in
            switch event {
            case let .dtmf(callID, digit, durationMs):
                dtmf(&state, callID, digit: digit, durationMs: durationMs, now: now, &effects)
            case .firstMedia(let callID):
                if state.calls[callID]?.record.time(of: .firstMedia) == nil { stamp(&state, callID, .firstMedia, now: now) }
            case .playbackFinished(let callID):
                flowInput(&state, callID, now: now, &effects) { $0.playbackFinished() }
            case let .recordingStarted(callID, recordingID):
                state.calls[callID]?.record.recordings.append(recordingID)
            case .recordingFinished(let callID):
                if let record = state.calls[callID]?.record { effects.notify(state, .recordingFinished(record)) }
                flowInput(&state, callID, now: now, &effects) { $0.recordingFinished() }
            }
        }
        effects.run()
    }

    // MARK: requests from upper layers

    public func answer(_ callID: String) throws(TrunkError) {
        var effects = Effects()
        try locked { (state) throws(TrunkError) in
            guard let call = state.calls[callID] else { throw TrunkError(.notFound, "no call \(callID)") }
            guard call.record.direction == .inbound, [.offered, .proceeding, .alerting].contains(call.record.state) else {
                throw TrunkError(.invalidArgument, "call \(callID) is \(call.record.state.rawValue): only a ringing inbound call can be answered")
            }
            let trunk = state.trunks[call.reference.span]!
            // The B-channel is ours from the moment we answer: media goes on before CONNECT is acknowledged.
            attachMedia(&state, callID, &effects)
            effects.add { trunk.answer(call.reference) }
        }
        effects.run()
    }

    public func hangup(_ callID: String, cause: Q850Cause = .normalCallClearing) throws(TrunkError) {
        var effects = Effects()
        try locked { (state) throws(TrunkError) in
            guard state.calls[callID] != nil else { throw TrunkError(.notFound, "no call \(callID)") }
            clearLocally(&state, callID, cause: cause, failure: nil, &effects)
        }
        effects.run()
    }

    /// Places a call on a trunk group (hunting a free channel) or on one channel.
    @discardableResult
    public func originate(group: String? = nil, span: Int? = nil, channel: ChannelAddress? = nil, number: String, callerID: String? = nil,
                          timeoutMs: Int? = nil, callID: String? = nil) throws(TrunkError) -> CallRecord {
        let now = clock()
        var effects = Effects()
        let record = try locked { (state) throws(TrunkError) -> CallRecord in
            if let callID, state.calls[callID] != nil { throw TrunkError(.invalidArgument, "call id \(callID) is in use") }
            let candidates: [ChannelAddress]
            var groupName: String?
            if let channel {
                guard state.channels[channel] != nil else { throw TrunkError(.notFound, "channel \(channel) does not exist") }
                candidates = [channel]
            } else if let group {
                guard let found = state.groups[group] else {
                    let known = state.groups.keys.sorted().joined(separator: ", ")
                    throw TrunkError(.notFound, "no trunk group \(group) (groups: \(known.isEmpty ? "none" : known))")
                }
                candidates = found.huntSequence(after: state.lastSeized[group])
                groupName = group
            } else if let span {
                candidates = state.channels.keys.filter { $0.span == span }.sorted()
                guard !candidates.isEmpty else { throw TrunkError(.notFound, "span \(span) carries no calls on this node") }
            } else {
                throw TrunkError(.invalidArgument, "originate needs a trunk group or a channel")
            }
            for address in candidates where isFree(state, address) {
                guard let trunk = state.trunks[address.span], trunk.canPlaceCall(on: address.channel) else { continue }
                let reference: TrunkCallReference
                do {
                    reference = try trunk.originate(channel: address.channel, number: number, caller: callerID)
                } catch {
                    continue
                }
                var record = CallRecord(callID: callID ?? CallIdentifier.make(), direction: .outbound, trunk: trunk.kind, address: address, started: Date())
                record.caller = callerID
                record.callee = number
                record.trunkGroup = groupName
                record.events.append(CallEvent(.numberComplete, atMs: 0))
                let timeout = UInt64(max(1, timeoutMs ?? configuration.originateTimeoutMs)) * 1_000_000
                state.calls[record.callID] = LiveCall(record: record, reference: reference, startedNs: now, deadlineNs: now + timeout)
                state.byReference[reference] = record.callID
                if let groupName { state.lastSeized[groupName] = address }
                setChannel(&state, address, .dialing, call: record.callID, &effects)
                effects.notify(state, .originated(record))
                return record
            }
            // All busy: the attempt is a call record of its own, so blocking shows in the statistics.
            var blocked = CallRecord(callID: callID ?? CallIdentifier.make(), direction: .outbound,
                                     trunk: candidates.first.flatMap { state.trunks[$0.span]?.kind } ?? .pri,
                                     address: candidates.first ?? ChannelAddress(span: 0, channel: 0), started: Date())
            blocked.callee = number
            blocked.caller = callerID
            blocked.trunkGroup = groupName
            blocked.cause = Int(Q850Cause.noCircuitAvailable.rawValue)
            blocked.clearedBy = .local
            blocked.failure = .noChannel
            blocked.state = .idle
            blocked.events.append(CallEvent(.hangup, atMs: 0))
            remember(&state, blocked)
            effects.notify(state, .ended(blocked))
            return blocked
        }
        effects.run()
        if record.failure == .noChannel {
            throw TrunkError(.busy, "all channels busy\(group.map { " in trunk group \($0)" } ?? "") (cause 34, no circuit/channel available)")
        }
        return record
    }

    /// Hold, retrieve and transfer as an upper layer carried them out: stamped on the call (and
    /// its channel shown held while it is), so call records have every step.
    public func note(_ callID: String, _ kind: CallEvent.Kind, detail: String? = nil) {
        let now = clock()
        var effects = Effects()
        state.withLockedValue { state in
            guard let call = state.calls[callID] else { return }
            stamp(&state, callID, kind, detail: detail, now: now)
            let newState: ChannelState? = switch kind {
            case .held: .held
            case .retrieved: .up
            default: nil
            }
            if let newState, call.record.state != newState {
                state.calls[callID]!.record.state = newState
                setChannel(&state, call.record.address, newState, call: callID, &effects)
                effects.notify(state, .stateChanged(state.calls[callID]!.record, from: call.record.state))
            }
        }
        effects.run()
    }

    /// Maintenance blocking as the call model sees it (the trunk blocks its own signalling).
    public func setBlocked(_ address: ChannelAddress, _ isBlocked: Bool) {
        var effects = Effects()
        state.withLockedValue { state in
            if isBlocked { state.blocked.insert(address) } else { state.blocked.remove(address) }
            if state.channels[address] != nil {
                effects.notify(state, .channelChanged(address, Self.visibleState(state, address), callID: state.channels[address]!.call))
            }
        }
        effects.run()
    }

    /// Channels blocked for maintenance (a call on one runs to its end: blocking pending).
    public var blockedChannels: Set<ChannelAddress> { state.withLockedValue { $0.blocked } }

    /// Runs timeouts (offer, originate, the built-in flow's); called on every tick.
    public func service() {
        let now = clock()
        var effects = Effects()
        state.withLockedValue { state in
            for (id, call) in state.calls {
                if let deadline = call.deadlineNs, now >= deadline {
                    state.calls[id]!.deadlineNs = nil
                    clearLocally(&state, id, cause: .noAnswerFromUser, failure: .timeout, &effects)
                }
                if let deadline = state.calls[id]?.flowDeadlineNs, now >= deadline {
                    state.calls[id]!.flowDeadlineNs = nil
                    flowInput(&state, id, now: now, &effects) { $0.timerExpired() }
                }
            }
        }
        effects.run()
    }

    // MARK: internals (under the lock)

    /// `withLockedValue` for bodies that throw a `TrunkError`.
    private func locked<R>(_ body: (inout State) throws(TrunkError) -> R) throws(TrunkError) -> R {
        let result: Result<R, TrunkError> = state.withLockedValue { state in
            do throws(TrunkError) { return .success(try body(&state)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private func isFree(_ state: State, _ address: ChannelAddress) -> Bool {
        guard let entry = state.channels[address] else { return false }
        return entry.call == nil && !state.blocked.contains(address) && !state.outOfService.contains(address.span)
    }

    private func route(_ state: inout State, _ id: String, now: UInt64, _ effects: inout Effects) {
        guard let call = state.calls[id], call.record.handler == nil, let trunk = state.trunks[call.reference.span] else { return }
        let reference = call.reference
        let best = state.claims
            .compactMap { claim in claim.specificity(address: call.record.address, callee: call.record.callee).map { (claim, $0) } }
            .max { $0.1 < $1.1 }
        let route = configuration.routes.first { $0.matches(call.record) }
        if let (claim, _) = best {
            state.calls[id]!.record.handler = "cti:\(claim.owner)"
            state.calls[id]!.deadlineNs = now + UInt64(configuration.offerTimeoutMs) * 1_000_000
            effects.add { trunk.alert(reference) }
            move(&state, reference, to: .alerting, event: .alerting, now: now, &effects)
        } else if case .reject(let cause) = route?.action {
            logger.info("inbound call rejected by route", metadata: ["call": "\(id)", "cause": "\(cause.rawValue)"])
            clearLocally(&state, id, cause: cause, failure: .rejected, &effects)
        } else if let flowConfiguration = configuration.flow, state.media != nil {
            state.calls[id]!.record.handler = "flow"
            state.calls[id]!.flow = BuiltInFlow(configuration: flowConfiguration)
            flowInput(&state, id, now: now, &effects) { $0.start() }
        } else {
            logger.info("inbound call rejected: no CTI claim and no built-in flow", metadata: ["call": "\(id)", "channel": "\(call.record.address)"])
            clearLocally(&state, id, cause: .callRejected, failure: .rejected, &effects)
        }
    }

    private func clearLocally(_ state: inout State, _ id: String, cause: Q850Cause, failure: CallFailure?, _ effects: inout Effects) {
        guard let call = state.calls[id], let trunk = state.trunks[call.reference.span] else { return }
        if call.record.clearedBy == nil {
            state.calls[id]!.record.clearedBy = .local
            state.calls[id]!.record.cause = Int(cause.rawValue)
            state.calls[id]!.record.failure = failure
        }
        let reference = call.reference
        effects.add { trunk.hangup(reference, cause: cause) }
    }

    private func setChannel(_ state: inout State, _ address: ChannelAddress, _ channelState: ChannelState, call: String?, _ effects: inout Effects) {
        guard state.channels[address] != nil else { return }
        state.channels[address] = (channelState, call)
        effects.notify(state, .channelChanged(address, Self.visibleState(state, address), callID: call))
    }

    private func stamp(_ state: inout State, _ id: String, _ kind: CallEvent.Kind, detail: String? = nil, now: UInt64) {
        guard let call = state.calls[id] else { return }
        state.calls[id]!.record.events.append(CallEvent(kind, atMs: Double(now &- call.startedNs) / 1e6, detail: detail))
    }

    private func move(_ state: inout State, _ reference: TrunkCallReference, to newState: ChannelState, event: CallEvent.Kind?,
                      now: UInt64, _ effects: inout Effects) {
        guard let id = state.byReference[reference], let call = state.calls[id], call.record.state != newState else { return }
        let previous = call.record.state
        state.calls[id]!.record.state = newState
        if let event, call.record.time(of: event) == nil { stamp(&state, id, event, now: now) }
        setChannel(&state, call.record.address, newState, call: id, &effects)
        effects.notify(state, .stateChanged(state.calls[id]!.record, from: previous))
    }

    private func dtmf(_ state: inout State, _ id: String, digit: Character, durationMs: Int, now: UInt64, _ effects: inout Effects) {
        guard state.calls[id] != nil else { return }
        stamp(&state, id, .dtmf, detail: String(digit), now: now)
        effects.notify(state, .dtmf(state.calls[id]!.record, digit: digit, durationMs: durationMs))
        flowInput(&state, id, now: now, &effects) { $0.digit(digit) }
    }

    private func attachMedia(_ state: inout State, _ id: String, _ effects: inout Effects) {
        guard let media = state.media, let call = state.calls[id], !call.mediaAttached else { return }
        state.calls[id]!.mediaAttached = true
        let address = call.record.address
        let trunk = call.record.trunk
        effects.add { media.attach(callID: id, address: address, trunk: trunk) }
    }

    private func finish(_ state: inout State, _ call: inout LiveCall, now: UInt64, _ effects: inout Effects) {
        let previous = call.record.state
        call.record.state = .idle
        call.record.events.append(CallEvent(.hangup, atMs: Double(now &- call.startedNs) / 1e6))
        if state.channels[call.record.address]?.call == call.record.callID {
            setChannel(&state, call.record.address, .idle, call: nil, &effects)
        }
        if call.mediaAttached, let media = state.media {
            let id = call.record.callID
            effects.add { media.detach(callID: id) }
        }
        remember(&state, call.record)
        logger.debug("call ended", metadata: ["call": "\(call.record.callID)", "from": "\(previous.rawValue)",
                                              "cause": "\(call.record.cause ?? 0)"])
        effects.notify(state, .ended(call.record))
    }

    private func remember(_ state: inout State, _ record: CallRecord) {
        state.ended.append(record)
        if state.ended.count > configuration.endedKept { state.ended.removeFirst(state.ended.count - configuration.endedKept) }
    }

    /// Feeds the built-in flow of call `id` and carries out what it asks.
    private func flowInput(_ state: inout State, _ id: String, now: UInt64, _ effects: inout Effects,
                           _ input: (inout BuiltInFlow) -> [BuiltInFlow.Action]) {
        guard var flow = state.calls[id]?.flow else { return }
        let actions = input(&flow)
        state.calls[id]!.flow = flow
        guard let call = state.calls[id], let trunk = state.trunks[call.reference.span] else { return }
        let reference = call.reference
        for action in actions {
            switch action {
            case .answer:
                attachMedia(&state, id, &effects)
                effects.add { trunk.answer(reference) }
            case .play(let audio):
                if let media = state.media { effects.add { media.play(audio, callID: id) } }
            case .startTimer(let ms):
                state.calls[id]!.flowDeadlineNs = now + UInt64(ms) * 1_000_000
            case .stopTimer:
                state.calls[id]!.flowDeadlineNs = nil
            case .record(let maxMs):
                if let media = state.media { effects.add { media.record(callID: id, maxMs: maxMs) } }
            case .stopRecording:
                if let media = state.media { effects.add { media.stopRecording(callID: id) } }
            case .collected(let digits):
                state.calls[id]!.record.digits = digits
            case .hangup(let cause):
                clearLocally(&state, id, cause: cause, failure: nil, &effects)
            }
        }
    }

    /// Work collected under the lock and run after it is released.
    fileprivate struct Effects {
        private var work: [() -> Void] = []

        mutating func add(_ body: @escaping () -> Void) { work.append(body) }

        mutating func notify(_ state: State, _ notification: CallNotification) {
            for observer in state.observers { work.append { observer(notification) } }
        }

        /// How much work is collected so far: a position for `notify(_:_:at:)`.
        var count: Int { work.count }

        /// Notifies ahead of the work collected after `position`.
        mutating func notify(_ state: State, _ notification: CallNotification, at position: Int) {
            work.insert(contentsOf: state.observers.map { observer in { observer(notification) } }, at: position)
        }

        func run() { for body in work { body() } }
    }
}
