import NIOConcurrencyHelpers
import TrunkCore
import TrunkHardware
import TrunkISDN
import TrunkTrace

/// The state of one B-channel as `pri show channels` reports it.
public enum BChannelState: String, Sendable, Codable {
    case idle
    case offered
    case dialing
    case proceeding
    case alerting
    case connected
    case releasing
    case alarm
    /// Taken out of service by maintenance: no new calls until unblocked.
    case blocked
}

/// Binds one PRI signalling stack (Q.921 + Q.931) to the D-channel of a span: it carries
/// frames between the device and the stack, keeps the stack's timers against the injected
/// clock, writes traces, and hands call events on. `service(now:)` is called once per
/// hardware tick (the simulator's observer) or when the D-channel is readable (DAHDI).
public final class PRISpanDriver: @unchecked Sendable {
    public let span: Int
    public let role: ISDNRole
    private let lock = NIOLock()
    private var stack: PRIDChannel
    private let device: any ChannelDevice
    private var timers: [PRITimer: ISDNInstant] = [:]
    private var linkUp = false
    private var inAlarm = false
    private var nextEstablishAttempt: ISDNInstant = .zero
    private var lastServiced: ISDNInstant = .zero
    private var readBuffer = [UInt8](repeating: 0, count: 1100)
    private var writeBuffer: [UInt8] = []
    private var callChannels: [Q931CallID: UInt8] = [:]
    /// Channels in local maintenance blocking (EuroISDN has no SERVICE message on a PRI).
    private var blocked: Set<UInt8> = []
    private var channelStates: [UInt8: (state: BChannelState, call: Q931CallID?, numbers: String)] = [:]
    private var traces: [LAPDTraceWriter] = []
    private var debugCollectors: [Int: [String]] = [:]
    private var nextCollector = 0
    private var counters = PRIDriverCounters()
    private var handlers: [@Sendable (Int, Q931Indication) -> Void] = []
    /// How long a down data link waits before trying SABME again.
    static let reestablishInterval = Duration.seconds(2)

    public init(span: Int, role: ISDNRole, dChannel: any ChannelDevice, bChannels: [UInt8]) {
        self.span = span
        self.role = role
        self.device = dChannel
        var callControl = Q931Configuration(role: role)
        callControl.bChannels = bChannels
        stack = PRIDChannel(dataLink: Q921Configuration(role: role), callControl: callControl)
        // The RR owed for received I frames waits until the call manager has had the
        // indications of a whole `service` pass: answers it gives at once (CALL PROCEEDING,
        // ALERTING, ...) then carry N(R) and no RR goes out (Q.921 §5.6.2.1). `service` flushes
        // before it returns, so the wait is never longer than one pass.
        stack.defersAcknowledgementToDriver = true
        for channel in bChannels { channelStates[channel] = (.idle, nil, "") }
        writeBuffer.reserveCapacity(300)
    }

    /// Applies a span's configured timers to the running stack: the link and its calls stay up.
    public func retime(_ settings: PRISettings) {
        lock.withLock { stack.retime(dataLink: settings.dataLink(role: role), callControl: settings.callControl(role: role)) }
    }

    /// The timers the stack runs with now, for reports and checks.
    public var timerConfiguration: (dataLink: Q921Configuration, callControl: Q931Configuration) {
        lock.withLock { (stack.dataLink.configuration, stack.callControl.configuration) }
    }

    /// Whether the D-channel's data link is established (multiple-frame established).
    public var isDataLinkUp: Bool { lock.withLock { linkUp } }

    /// Call events go to `handler` (the call manager), outside the driver's lock.
    public func onIndication(_ handler: @escaping @Sendable (Int, Q931Indication) -> Void) {
        lock.withLock { handlers.append(handler) }
    }

    // MARK: driving

    public func start(now: ISDNInstant) {
        let indications = lock.withLock { () -> [Q931Indication] in
            var out: [Q931Indication] = []
            perform(stack.start(now: now), now: now, indications: &out)
            nextEstablishAttempt = now + Self.reestablishInterval
            return out
        }
        deliver(indications)
    }

    /// Moves whatever the D-channel has, runs due timers, and retries a dead link.
    public func service(now: ISDNInstant) {
        let indications = lock.withLock { () -> [Q931Indication] in
            lastServiced = now
            var out: [Q931Indication] = []
            readFrames(now: now, indications: &out)
            fireTimers(now: now, indications: &out)
            if !linkUp && !inAlarm && now >= nextEstablishAttempt && stack.dataLink.stateName == .teiAssigned {
                nextEstablishAttempt = now + Self.reestablishInterval
                perform(stack.start(now: now), now: now, indications: &out)
            }
            return out
        }
        deliver(indications)
        flushAcknowledgement(now: now)
    }

    /// Sends the RR still owed for the frames this pass read, unless an answer sent since
    /// (from the stack itself or from a handler in `deliver`) carried the acknowledgement.
    private func flushAcknowledgement(now: ISDNInstant) {
        let indications = lock.withLock { () -> [Q931Indication] in
            var actions: [PRIAction] = []
            stack.sendPendingAcknowledgement(now: now, into: &actions)
            guard !actions.isEmpty else { return [] }
            var out: [Q931Indication] = []
            perform(actions, now: now, indications: &out)
            return out
        }
        deliver(indications)
    }

    private func deliver(_ indications: [Q931Indication]) {
        guard !indications.isEmpty else { return }
        let handlers = lock.withLock { self.handlers }
        for indication in indications {
            for handler in handlers { handler(span, indication) }
        }
    }

    private func readFrames(now: ISDNInstant, indications: inout [Q931Indication]) {
        while true {
            let result = readBuffer.withUnsafeMutableBytes { device.read(into: $0) }
            switch result {
            case .transferred(let count):
                guard count > 2 else { continue }
                let frame = readBuffer[0..<(count - 2)]
                counters.framesReceived += 1
                for trace in traces { trace.write(frame, direction: .received) }
                collectDebug(frame, direction: .received)
                perform(stack.frameReceived(frame, now: now), now: now, indications: &indications)
            case .eventPending:
                guard let event = device.nextEvent() else { continue }
                handle(event, now: now)
            case .wouldBlock:
                return
            case .removed, .failed:
                counters.deviceErrors += 1
                return
            }
        }
    }

    private func handle(_ event: ChannelEvent, now: ISDNInstant) {
        switch event.kind {
        case .badFCS: counters.badFCS += 1
        case .abort: counters.aborts += 1
        case .overrun, .readOverrun: counters.overruns += 1
        case .alarm:
            inAlarm = true
            for channel in channelStates.keys where channelStates[channel]?.call == nil { channelStates[channel]?.state = .alarm }
        case .noAlarm:
            inAlarm = false
            for channel in channelStates.keys where channelStates[channel]?.state == .alarm { channelStates[channel]?.state = .idle }
            // The line is back: bring the link up now rather than at the next retry.
            nextEstablishAttempt = now
        default: break
        }
    }

    private func fireTimers(now: ISDNInstant, indications: inout [Q931Indication]) {
        // Earliest due timer first, found by a scan: this runs every tick, so it builds nothing.
        while true {
            var due: (timer: PRITimer, deadline: ISDNInstant)?
            for (timer, deadline) in timers where deadline <= now && (due == nil || deadline < due!.deadline) {
                due = (timer, deadline)
            }
            guard let timer = due?.timer else { return }
            timers[timer] = nil
            perform(stack.timerExpired(timer, now: now), now: now, indications: &indications)
        }
    }

    private func perform(_ actions: [PRIAction], now: ISDNInstant, indications: inout [Q931Indication]) {
        for action in actions {
            switch action {
            case .transmit(let frame):
                writeBuffer.removeAll(keepingCapacity: true)
                frame.encode(into: &writeBuffer)
                for trace in traces { trace.write(writeBuffer, direction: .sent) }
                collectDebug(writeBuffer[...], direction: .sent)
                writeBuffer.append(0)
                writeBuffer.append(0) // room for the FCS the device computes
                if writeBuffer.withUnsafeBytes({ device.write($0) }) == .wouldBlock {
                    counters.transmitQueueFull += 1
                } else {
                    counters.framesSent += 1
                }
            case .startTimer(let timer, let deadline):
                timers[timer] = deadline
            case .stopTimer(let timer):
                timers[timer] = nil
            case .indication(let indication):
                if case .incomingCall(let call) = indication, blocked.contains(call.channel) {
                    // A blocked channel takes no calls: refuse with 44, requested channel not available.
                    counters.refusedOnBlockedChannel += 1
                    perform(stack.callControl(now: now) { $0.release(call.id, cause: .requestedChannelNotAvailable, now: now) },
                            now: now, indications: &indications)
                    continue
                }
                track(indication)
                indications.append(indication)
            case .dataLinkChanged(let up):
                linkUp = up
                if up { counters.linkUps += 1 } else { counters.linkDowns += 1 }
            case .dataLinkError:
                counters.dataLinkErrors += 1
            case .callControlError:
                counters.callControlErrors += 1
            }
        }
    }

    // MARK: B-channel bookkeeping

    private func setChannel(_ channel: UInt8?, _ state: BChannelState, call: Q931CallID?, numbers: String? = nil) {
        guard let channel, channelStates[channel] != nil else { return }
        let previous = channelStates[channel]!
        channelStates[channel] = (state, call, numbers ?? previous.numbers)
    }

    private func track(_ indication: Q931Indication) {
        switch indication {
        case .incomingCall(let call):
            callChannels[call.id] = call.channel
            let numbers = "\(call.callingNumber?.digits ?? "") → \(call.calledNumber?.digits ?? "")"
            setChannel(call.channel, .offered, call: call.id, numbers: numbers)
        case .channelAssigned(let call, let channel):
            if let old = callChannels[call], old != channel { setChannel(old, .idle, call: nil, numbers: "") }
            let numbers = callChannels[call].flatMap { channelStates[$0]?.numbers }
            callChannels[call] = channel
            setChannel(channel, channelStates[channel]?.state == .idle ? .dialing : channelStates[channel]!.state, call: call, numbers: numbers)
        case .proceeding(let call): setChannel(callChannels[call], .proceeding, call: call)
        case .alerting(let call, _): setChannel(callChannels[call], .alerting, call: call)
        case .answered(let call, _), .connected(let call): setChannel(callChannels[call], .connected, call: call)
        case .disconnecting(let call, _): setChannel(callChannels[call], .releasing, call: call)
        case .cleared(let call, _, let channel):
            setChannel(channel ?? callChannels[call], inAlarm ? .alarm : .idle, call: nil, numbers: "")
            callChannels[call] = nil
        case .restarted(let channels), .restartCompleted(let channels):
            for channel in channels ?? Array(channelStates.keys) where channelStates[channel]?.call == nil {
                setChannel(channel, .idle, call: nil, numbers: "")
            }
        default: break
        }
    }

    /// "T203 (7.5 s left)", "T310 out#3 (9.1 s left)": how technicians name timers.
    static func timerName(_ timer: PRITimer, deadline: ISDNInstant, now: ISDNInstant) -> String {
        let left = Double(deadline.nanoseconds - now.nanoseconds) / 1e9
        let remaining = " (\((left * 10).rounded() / 10) s left)"
        switch timer {
        case .dataLink(let t): return "\(t)".uppercased() + remaining
        case .callControl(.restart): return "T316" + remaining
        case .callControl(.call(let call, let t)): return "\(t)".uppercased() + " \(call)" + remaining
        }
    }

    /// A B-channel's state as the call on it stands in Q.931 (U/N state numbers coincide).
    static func channelState(_ state: Q931CallState) -> BChannelState {
        switch state {
        case .null: .idle
        case .callInitiated, .overlapSending: .dialing
        case .outgoingCallProceeding, .incomingCallProceeding: .proceeding
        case .callDelivered, .callReceived: .alerting
        case .callPresent, .overlapReceiving: .offered
        case .connectRequest, .active, .suspendRequest, .resumeRequest: .connected
        case .disconnectRequest, .disconnectIndication, .releaseRequest, .callAbort: .releasing
        }
    }

    // MARK: requests from the control plane

    /// Places a call on this span; nil channel lets the stack pick one.
    @discardableResult
    public func placeCall(called: String, calling: String?, channel: UInt8?, now: ISDNInstant) throws(TrunkError) -> Q931CallID {
        try placeCallOnChannel(called: called, calling: calling, channel: channel, now: now).call
    }

    /// Places a call and says which B-channel it took.
    public func placeCallOnChannel(called: String, calling: String?, channel: UInt8?, now: ISDNInstant) throws(TrunkError) -> (call: Q931CallID, channel: UInt8?) {
        // Party numbers hold their digits inline; a longer one would stop the process.
        for number in [called, calling] {
            guard let number, !PartyNumber.fits(number) else { continue }
            throw TrunkError(.invalidArgument, "span \(span): number \"\(number)\" has \(number.unicodeScalars.count) digits, at most \(PartyNumber.maximumDigitCount) fit")
        }
        let result = lock.withLock { () -> (Q931CallID?, [Q931Indication], UInt8?) in
            guard linkUp else { return (nil, [], nil) }
            var request = Q931SetupRequest(calledNumber: PartyNumber(digits: called))
            if let calling { request.callingNumber = PartyNumber(digits: calling) }
            guard let channel = channel ?? freeChannel() else { return (nil, [], nil) }
            if blocked.contains(channel) { return (nil, [], nil) }
            request.channel = channel
            request.exclusive = true
            request.sendingComplete = true
            let (call, actions) = stack.setupRequest(request, now: now)
            var out: [Q931Indication] = []
            perform(actions, now: now, indications: &out)
            var assigned: UInt8?
            if let call, let chosen = stack.callControl.channel(of: call) {
                assigned = chosen
                callChannels[call] = chosen
                setChannel(chosen, .dialing, call: call, numbers: "\(calling ?? "") → \(called)")
            }
            return (call, out, assigned)
        }
        deliver(result.1)
        guard let call = result.0 else {
            let up = lock.withLock { linkUp }
            let isBlocked = channel.map { channel in lock.withLock { blocked.contains(channel) } } ?? false
            if isBlocked { throw TrunkError(.busy, "span \(span): channel \(channel!) is blocked for maintenance") }
            throw TrunkError(.unavailable, "span \(span): no call placed (D-channel \(up ? "up, but no free B-channel or call reference" : "down"))")
        }
        return (call, result.2)
    }

    /// A free, unblocked B-channel, hunted from the top on the network side and from the
    /// bottom on the user side so the two ends rarely seize the same one.
    private func freeChannel() -> UInt8? {
        let busy = stack.callControl.busyChannels
        let candidates = channelStates.keys.sorted().filter { !busy.contains($0) && !blocked.contains($0) && channelStates[$0]?.call == nil }
        return role == .network ? candidates.last : candidates.first
    }

    /// Maintenance blocking: the channel takes no new calls (a call on it runs to its end).
    public func setBlocked(_ channel: UInt8, _ isBlocked: Bool) throws(TrunkError) {
        let known = lock.withLock { channelStates[channel] != nil }
        guard known else { throw TrunkError(.notFound, "span \(span) has no B-channel \(channel)") }
        lock.withLock {
            if isBlocked { blocked.insert(channel) } else { blocked.remove(channel) }
        }
    }

    /// Runs one call-control request on this span's stack (alerting, connect, disconnect, …).
    public func callControl(now: ISDNInstant, _ request: @escaping (inout Q931Interface) -> [Q931Action]) {
        let indications = lock.withLock { () -> [Q931Indication] in
            var out: [Q931Indication] = []
            perform(stack.callControl(now: now, request), now: now, indications: &out)
            return out
        }
        deliver(indications)
    }

    /// Whether new calls can be placed: the data link is up and the span is not in alarm.
    public var inService: Bool { lock.withLock { linkUp && !inAlarm } }

    public func isBlocked(_ channel: UInt8) -> Bool { lock.withLock { blocked.contains(channel) } }

    /// The call on B-channel `channel`, if any.
    public func call(onChannel channel: UInt8) -> Q931CallID? {
        lock.withLock { channelStates[channel]?.call }
    }

    public func restart(channel: UInt8?, now: ISDNInstant) throws(TrunkError) {
        let problem = lock.withLock { () -> TrunkError? in
            guard linkUp else { return TrunkError(.unavailable, "span \(span): the D-channel is down") }
            if let channel, channelStates[channel] == nil { return TrunkError(.notFound, "span \(span) has no B-channel \(channel)") }
            var out: [Q931Indication] = []
            perform(stack.callControl(now: now) { $0.restart(channels: channel.map { [$0] }, now: now) }, now: now, indications: &out)
            return nil
        }
        if let problem { throw problem }
    }

    // MARK: traces and debug

    public func addTrace(_ writer: LAPDTraceWriter) { lock.withLock { traces.append(writer) } }

    public func removeTrace(_ writer: LAPDTraceWriter) {
        lock.withLock { traces.removeAll { $0 === writer } }
        writer.close()
    }

    /// Starts collecting decoded messages (`pri debug`); returns a handle for `endDebug`.
    public func beginDebug() -> Int {
        lock.withLock {
            nextCollector += 1
            debugCollectors[nextCollector] = []
            return nextCollector
        }
    }

    public func endDebug(_ handle: Int) -> [String] {
        lock.withLock { debugCollectors.removeValue(forKey: handle) ?? [] }
    }

    private func collectDebug(_ frame: ArraySlice<UInt8>, direction: LAPDDirection) {
        guard !debugCollectors.isEmpty else { return }
        let text = PRIDebugText.describe(frame: frame, direction: direction, span: span)
        for key in debugCollectors.keys { debugCollectors[key]!.append(text) }
    }

    // MARK: status

    public func report() -> PRISpanReport {
        lock.withLock {
            let link = stack.dataLink
            let variables = link.sequenceVariables
            let channels = channelStates.keys.sorted().map { channel in
                let entry = channelStates[channel]!
                let state = entry.call.map { Self.channelState(stack.callControl.state(of: $0)) }
                    ?? (blocked.contains(channel) ? .blocked : entry.state)
                return PRIChannelReport(channel: Int(channel), state: state,
                                        call: entry.call.map { "\($0)" }, numbers: entry.numbers.isEmpty ? nil : entry.numbers,
                                        callState: entry.call.map { Int(stack.callControl.state(of: $0).rawValue) })
            }
            return PRISpanReport(
                span: span, role: role == .network ? "network" : "user", dataLinkUp: linkUp, inAlarm: inAlarm,
                q921State: "\(link.stateName)", vs: Int(variables.vs), vr: Int(variables.vr), va: Int(variables.va),
                activeCalls: stack.callControl.callIDs.count, counters: counters,
                q921: Q921CountersReport(link.counters), q931: Q931CountersReport(stack.callControl.counters),
                timers: timers.map { Self.timerName($0.key, deadline: $0.value, now: lastServiced) }.sorted(), channels: channels)
        }
    }
}

public struct PRIDriverCounters: Codable, Sendable, Equatable {
    public var framesReceived = 0
    public var framesSent = 0
    public var badFCS = 0
    public var aborts = 0
    public var overruns = 0
    public var transmitQueueFull = 0
    public var linkUps = 0
    public var linkDowns = 0
    public var dataLinkErrors = 0
    public var callControlErrors = 0
    public var deviceErrors = 0
    public var refusedOnBlockedChannel = 0
}

public struct Q921CountersReport: Codable, Sendable, Equatable {
    public var iFramesReceived: Int
    public var iFramesSent: Int
    public var retransmitted: Int
    public var rejectsSent: Int
    public var unknownAddress: Int
    public var malformed: Int
    public var protocolErrors: Int
    init(_ counters: Q921Counters) {
        iFramesReceived = counters.informationFramesReceived
        iFramesSent = counters.informationFramesTransmitted
        retransmitted = counters.retransmittedFrames
        rejectsSent = counters.rejectsTransmitted
        unknownAddress = counters.unknownAddressFrames
        malformed = counters.malformedFrames
        protocolErrors = counters.protocolErrors
    }
}

public struct Q931CountersReport: Codable, Sendable, Equatable {
    public var messagesReceived: Int
    public var messagesSent: Int
    public var incomingCalls: Int
    public var outgoingCalls: Int
    public var protocolErrors: Int
    init(_ counters: Q931Counters) {
        messagesReceived = counters.messagesReceived
        messagesSent = counters.messagesSent
        incomingCalls = counters.incomingCalls
        outgoingCalls = counters.outgoingCalls
        protocolErrors = counters.protocolErrors
    }
}

public struct PRIChannelReport: Codable, Sendable, Equatable {
    public var channel: Int
    public var state: BChannelState
    public var call: String?
    public var numbers: String?
    /// Q.931 call state number (U/N states).
    public var callState: Int?
}

public struct PRISpanReport: Codable, Sendable, Equatable {
    public var span: Int
    public var role: String
    public var dataLinkUp: Bool
    public var inAlarm: Bool
    public var q921State: String
    public var vs: Int
    public var vr: Int
    public var va: Int
    public var activeCalls: Int
    public var counters: PRIDriverCounters
    public var q921: Q921CountersReport
    public var q931: Q931CountersReport
    public var timers: [String]
    public var channels: [PRIChannelReport]
}
