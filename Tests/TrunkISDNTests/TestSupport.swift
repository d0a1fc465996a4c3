import TrunkISDN

/// Deterministic pseudo-random numbers (SplitMix64) so fuzz tests repeat exactly.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension ISDNInstant {
    static func seconds(_ value: Double) -> ISDNInstant {
        ISDNInstant(nanoseconds: Int64(value * 1_000_000_000))
    }
}

extension Array where Element == Q921Action {
    var transmittedFrames: [LAPDFrame] {
        compactMap { if case .transmit(let frame) = $0 { return frame } else { return nil } }
    }
}

extension Array where Element == Q931Action {
    var sentMessages: [Q931Message] {
        compactMap { if case .send(let message) = $0 { return message } else { return nil } }
    }

    var indications: [Q931Indication] {
        compactMap { if case .indication(let indication) = $0 { return indication } else { return nil } }
    }

    func deadline(of timer: Q931TimerID) -> ISDNInstant? {
        for case .startTimer(let id, let deadline) in self where id == timer { return deadline }
        return nil
    }
}

/// Two D-channel stacks cabled back to back on a virtual clock.
///
/// Frames travel instantly and in order; timers fire in deadline order as time is advanced.
/// The cable can be cut, in which case frames are lost in both directions.
struct PRILab {
    enum Side: Hashable, CaseIterable {
        case network
        case user

        var other: Side { self == .network ? .user : .network }
    }

    var network = PRIDChannel(role: .network)
    var user = PRIDChannel(role: .user)
    var now = ISDNInstant.zero
    var cableConnected = true
    private var timers: [Side: [PRITimer: ISDNInstant]] = [.network: [:], .user: [:]]
    private var inFlight: [(to: Side, bytes: [UInt8])] = []
    /// Everything each side told its call manager, in order.
    var indications: [Side: [Q931Indication]] = [.network: [], .user: []]
    /// Every Q.931 message each side sent on the wire, decoded again from its I frame.
    var sentMessages: [Side: [Q931Message]] = [.network: [], .user: []]
    var linkChanges: [Side: [(up: Bool, at: ISDNInstant)]] = [.network: [], .user: []]
    var dataLinkErrors: [Side: [Q921Error]] = [.network: [], .user: []]
    var callControlErrors: [Side: [Q931ProtocolError]] = [.network: [], .user: []]

    init(network: PRIDChannel = PRIDChannel(role: .network), user: PRIDChannel = PRIDChannel(role: .user)) {
        self.network = network
        self.user = user
    }

    /// Brings both data links up, as when the span comes up.
    mutating func start() {
        apply(network.start(now: now), from: .network)
        apply(user.start(now: now), from: .user)
        settle()
    }

    /// Runs a call control request on one side and carries out its actions.
    mutating func request(_ side: Side, _ body: (inout Q931Interface, ISDNInstant) -> [Q931Action]) {
        let at = now
        let actions = side == .network
            ? network.callControl(now: at) { body(&$0, at) }
            : user.callControl(now: at) { body(&$0, at) }
        apply(actions, from: side)
    }

    mutating func setup(_ side: Side, _ request: Q931SetupRequest) -> Q931CallID? {
        let (call, actions) = side == .network ? network.setupRequest(request, now: now) : user.setupRequest(request, now: now)
        apply(actions, from: side)
        return call
    }

    mutating func apply(_ actions: [PRIAction], from side: Side) {
        for action in actions {
            switch action {
            case .transmit(let frame):
                if case .information = frame.control, let message = try? Q931Message.decode(frame.information) {
                    sentMessages[side, default: []].append(message)
                }
                if cableConnected {
                    inFlight.append((to: side.other, bytes: frame.bytes))
                }
            case .startTimer(let timer, let deadline):
                timers[side, default: [:]][timer] = deadline
            case .stopTimer(let timer):
                timers[side, default: [:]][timer] = nil
            case .indication(let indication):
                indications[side, default: []].append(indication)
            case .dataLinkChanged(let up):
                linkChanges[side, default: []].append((up: up, at: now))
            case .dataLinkError(let error):
                dataLinkErrors[side, default: []].append(error)
            case .callControlError(let error):
                callControlErrors[side, default: []].append(error)
            }
        }
    }

    /// Delivers frames until none are in flight.
    mutating func settle() {
        var budget = 100_000
        while !inFlight.isEmpty, budget > 0 {
            budget -= 1
            let (to, bytes) = inFlight.removeFirst()
            guard cableConnected else { continue }
            let actions = to == .network ? network.frameReceived(bytes, now: now) : user.frameReceived(bytes, now: now)
            apply(actions, from: to)
        }
    }

    /// Advances the clock by `duration`, firing timers in deadline order and delivering frames.
    mutating func advance(by duration: Duration) {
        let target = now + duration
        settle()
        while let (side, timer, deadline) = nextTimer(), deadline <= target {
            now = deadline
            timers[side]?[timer] = nil
            let actions = side == .network ? network.timerExpired(timer, now: now) : user.timerExpired(timer, now: now)
            apply(actions, from: side)
            settle()
        }
        now = target
    }

    private func nextTimer() -> (Side, PRITimer, ISDNInstant)? {
        var best: (Side, PRITimer, ISDNInstant)?
        for side in Side.allCases {
            for (timer, deadline) in timers[side] ?? [:] where best == nil || deadline < best!.2 {
                best = (side, timer, deadline)
            }
        }
        return best
    }

    func isTimerRunning(_ side: Side, _ timer: PRITimer) -> Bool {
        timers[side]?[timer] != nil
    }

    mutating func clearRecords() {
        indications = [.network: [], .user: []]
        sentMessages = [.network: [], .user: []]
    }

    // MARK: - Lookups

    func incomingCall(at side: Side) -> Q931IncomingCall? {
        for case .incomingCall(let call) in (indications[side] ?? []).reversed() { return call }
        return nil
    }

    func clearedCause(_ side: Side, _ call: Q931CallID) -> Q850Cause? {
        for case .cleared(let id, let cause, _) in indications[side] ?? [] where id == call { return cause }
        return nil
    }

    func has(_ side: Side, _ indication: Q931Indication) -> Bool {
        (indications[side] ?? []).contains(indication)
    }

    func stateOfCall(_ side: Side, _ call: Q931CallID) -> Q931CallState {
        side == .network ? network.callControl.state(of: call) : user.callControl.state(of: call)
    }

    func messages(_ side: Side, _ type: Q931MessageType) -> [Q931Message] {
        (sentMessages[side] ?? []).filter { $0.messageType == type }
    }
}
