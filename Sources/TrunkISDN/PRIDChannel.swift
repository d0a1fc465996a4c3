/// Timers of a whole D-channel stack, as its driver keeps them.
public enum PRITimer: Hashable, Sendable {
    case dataLink(Q921Timer)
    case callControl(Q931TimerID)
}

/// What a D-channel stack asks its driver and the call manager to do.
public enum PRIAction: Hashable, Sendable {
    /// Write this frame to the D-channel (the driver adds the FCS).
    case transmit(LAPDFrame)
    case startTimer(PRITimer, deadline: ISDNInstant)
    case stopTimer(PRITimer)
    /// A call event for the call manager.
    case indication(Q931Indication)
    /// The data link came up (true) or went down (false), for alarms and `pri show spans`.
    case dataLinkChanged(up: Bool)
    case dataLinkError(Q921Error)
    case callControlError(Q931ProtocolError)
}

/// Q.931 call control over a Q.921 data link: the signalling of one PRI D-channel.
///
/// The driver feeds it received frames, timer expiries and call requests, and carries out the
/// returned actions; the two layers are wired to each other inside.
public struct PRIDChannel: Sendable {
    public private(set) var dataLink: Q921DataLink
    public private(set) var callControl: Q931Interface
    /// Call control's actions not yet carried out, used as a stack: each input appends its
    /// actions at the end and carries them out from where it started, answers to them (a
    /// message received while one is sent) append and finish above that, and each input cuts
    /// the array back to where it started. One array, reused, whatever the nesting.
    private var callActions: [Q931Action] = []
    /// Payload buffers for outgoing messages, used in turn. The data link (until the
    /// acknowledgement) and the driver (until it drops the frame) share a buffer. The ring has
    /// a slot more than the data link can queue plus a window's worth, so when it comes round
    /// the slot's last message has left the queue and the buffer is refilled in place; if it
    /// is still held after all, copy-on-write gives the new message a fresh buffer and nothing
    /// is disturbed. Slots are empty until first used, so a quiet span allocates little.
    private var payloadRing: [[UInt8]]
    private var payloadCursor = 0

    public init(dataLink: Q921Configuration, callControl: Q931Configuration) {
        precondition(dataLink.role == callControl.role, "both layers must play the same side")
        self.dataLink = Q921DataLink(configuration: dataLink)
        self.dataLink.defersAcknowledgement = true
        self.callControl = Q931Interface(configuration: callControl)
        self.payloadRing = Array(repeating: [], count: dataLink.maximumQueuedFrames + dataLink.k + 16)
        self.callActions.reserveCapacity(32)
    }

    /// A PRI stack with the libpri/ETSI defaults for `role`.
    public init(role: ISDNRole) {
        self.init(dataLink: Q921Configuration(role: role), callControl: Q931Configuration(role: role))
    }

    public var role: ISDNRole { callControl.configuration.role }

    /// Whether call indications are kept by the stack for `takeIndications(into:)` (true)
    /// instead of coming out among the actions as `.indication` (false, the default).
    ///
    /// A driver that hands indications to its call manager in batches (after reading every
    /// waiting frame) takes them here in one swap, rather than fishing them out of the actions
    /// one by one; frames, timers and errors still come out as actions.
    public var keepsIndications = false
    /// Call indications kept for the driver (see `keepsIndications`), oldest first.
    private var keptIndications: [Q931Indication] = []

    /// The indications kept since the last call, swapped into `batch`, which must be empty
    /// (its storage is kept for the next swap, so neither array is reallocated).
    public mutating func takeIndications(into batch: inout [Q931Indication]) {
        precondition(batch.isEmpty, "takeIndications needs an empty array")
        swap(&keptIndications, &batch)
    }

    /// Whether the RR owed for received I frames waits until the driver calls
    /// `sendPendingAcknowledgement(now:into:)` (true), instead of going out at the end of each
    /// `frameReceived` (false, the default).
    ///
    /// Q.921 sends RR only when no I frame is available to carry N(R) (§5.6.2.1). A driver
    /// that reads every waiting frame, hands the indications to its call manager and lets it
    /// answer before it sleeps, can flush once at that point: answers the call manager gives
    /// (CALL PROCEEDING to a SETUP, RELEASE to a DISCONNECT, ...) then carry the
    /// acknowledgement, and an RR goes out only if nothing did. The delay is the driver's
    /// turn around its loop, far inside the peer's T200 (1 s). A driver that turns this on
    /// must flush before every wait, or the peer polls with RR P = 1 after T200 (still
    /// answered at once, but a second lost).
    public var defersAcknowledgementToDriver = false

    /// Whether starting and stopping timers come out as `startTimer`/`stopTimer` actions (the
    /// default). Both layers keep every deadline themselves, so a driver that sleeps until
    /// `nextTimer` and calls `expireTimers(now:into:)` can turn this off and be spared those
    /// actions; expiries are handled the same either way. Calls already under way keep the
    /// setting they started with.
    public var reportsTimerActions: Bool {
        get { dataLink.reportsTimerActions }
        set {
            dataLink.reportsTimerActions = newValue
            callControl.callSettings.reportsTimerActions = newValue
        }
    }

    /// New timers for both layers of a running D-channel, without dropping the link or calls.
    public mutating func retime(dataLink timers: Q921Configuration, callControl callTimers: Q931Configuration) {
        dataLink.retime(t200: timers.t200, t203: timers.t203, n200: timers.n200)
        callControl.retime(callTimers)
    }

    // MARK: - Inputs

    /// Bring the data link up (both sides of a PRI do so when the span comes up).
    public mutating func start(now: ISDNInstant) -> [PRIAction] {
        var out: [PRIAction] = []
        out.reserveCapacity(8)
        start(now: now, into: &out)
        return out
    }

    /// `start(now:)`, appending the actions to `out`.
    public mutating func start(now: ISDNInstant, into out: inout [PRIAction]) {
        runDataLink(now: now, &out) { $0.establishRequest(now: now, into: &$1) }
    }

    /// A frame from the D-channel, FCS already checked and removed.
    public mutating func frameReceived(_ bytes: ArraySlice<UInt8>, now: ISDNInstant) -> [PRIAction] {
        var out: [PRIAction] = []
        out.reserveCapacity(8)
        frameReceived(bytes, now: now, into: &out)
        return out
    }

    public mutating func frameReceived(_ bytes: [UInt8], now: ISDNInstant) -> [PRIAction] {
        frameReceived(bytes[...], now: now)
    }

    /// `frameReceived(_:now:)`, appending the actions to `out`: with `out` emptied (keeping
    /// its capacity) between calls, steady-state operation allocates little or nothing.
    public mutating func frameReceived(_ bytes: ArraySlice<UInt8>, now: ISDNInstant, into out: inout [PRIAction]) {
        runDataLink(now: now, &out) { $0.frameReceived(bytes, now: now, into: &$1) }
        // Layer 3 has had the message: if it answered at once, its I frame carried N(R) and
        // no RR is needed (CONNECT → CONNECT ACKNOWLEDGE, DISCONNECT → RELEASE, ...).
        if !defersAcknowledgementToDriver {
            sendPendingAcknowledgement(now: now, into: &out)
        }
    }

    /// Sends the RR response still owed for received I frames, if no I frame has carried
    /// N(R) since; see `defersAcknowledgementToDriver`.
    public mutating func sendPendingAcknowledgement(now: ISDNInstant, into out: inout [PRIAction]) {
        guard dataLink.hasPendingAcknowledgement else { return }
        runDataLink(now: now, &out) { $0.sendPendingAcknowledgement(into: &$1) }
    }

    public mutating func timerExpired(_ timer: PRITimer, now: ISDNInstant) -> [PRIAction] {
        var out: [PRIAction] = []
        out.reserveCapacity(8)
        timerExpired(timer, now: now, into: &out)
        return out
    }

    /// `timerExpired(_:now:)`, appending the actions to `out`.
    public mutating func timerExpired(_ timer: PRITimer, now: ISDNInstant, into out: inout [PRIAction]) {
        switch timer {
        case .dataLink(let linkTimer):
            runDataLink(now: now, &out) { $0.timerExpired(linkTimer, now: now, into: &$1) }
        case .callControl(let callTimer):
            let start = callActions.count
            callControl.timerExpired(callTimer, now: now, into: &callActions)
            handle(from: start, now: now, &out)
        }
    }

    /// The stack's running timer that expires first, or nil. Both layers keep their own
    /// deadlines, so a driver can sleep until this one and call `expireTimers(now:into:)`
    /// instead of keeping the `startTimer`/`stopTimer` actions itself (libpri's
    /// `pri_schedule_next`/`pri_schedule_run`).
    public var nextTimer: (timer: PRITimer, deadline: ISDNInstant)? {
        let link = dataLink.nextTimer
        let call = callControl.nextTimer
        switch (link, call) {
        case (let link?, let call?):
            return call.deadline < link.deadline ? (.callControl(call.timer), call.deadline) : (.dataLink(link.timer), link.deadline)
        case (let link?, nil): return (.dataLink(link.timer), link.deadline)
        case (nil, let call?): return (.callControl(call.timer), call.deadline)
        case (nil, nil): return nil
        }
    }

    /// Runs every timer due at `now`, earliest first, appending the actions to `out`. The
    /// `startTimer`/`stopTimer` actions still come out; a driver using this may ignore them.
    public mutating func expireTimers(now: ISDNInstant, into out: inout [PRIAction]) {
        // Each expiry may start or stop others, so the next due one is looked up afresh. The
        // bound only guards against timers configured to zero re-arming at `now` for ever;
        // anything left is due again at the next call.
        for _ in 0..<256 {
            guard let (timer, deadline) = nextTimer, deadline <= now else { return }
            timerExpired(timer, now: now, into: &out)
        }
    }

    /// Places a call; see `Q931Interface.setupRequest`.
    public mutating func setupRequest(_ request: Q931SetupRequest, now: ISDNInstant) -> (call: Q931CallID?, actions: [PRIAction]) {
        var out: [PRIAction] = []
        out.reserveCapacity(8)
        let call = setupRequest(request, now: now, into: &out)
        return (call, out)
    }

    /// `setupRequest(_:now:)`, appending the actions to `out`.
    public mutating func setupRequest(_ request: Q931SetupRequest, now: ISDNInstant, into out: inout [PRIAction]) -> Q931CallID? {
        let start = callActions.count
        let call = callControl.setupRequest(request, now: now, into: &callActions)
        handle(from: start, now: now, &out)
        return call
    }

    /// Runs one call control request (`setupAcknowledge`, `alerting`, `connect`, `disconnect`, ...)
    /// and carries its actions through the data link:
    /// `stack.callControl { $0.connect(call, now: now) }`.
    public mutating func callControl(now: ISDNInstant, _ request: (inout Q931Interface) -> [Q931Action]) -> [PRIAction] {
        var out: [PRIAction] = []
        out.reserveCapacity(8)
        callControl(now: now, into: &out, request)
        return out
    }

    /// `callControl(now:_:)`, appending the actions to `out`.
    public mutating func callControl(
        now: ISDNInstant, into out: inout [PRIAction], _ request: (inout Q931Interface) -> [Q931Action]
    ) {
        let start = callActions.count
        callActions.append(contentsOf: request(&callControl))
        handle(from: start, now: now, &out)
    }

    /// Runs one call control request in its `into:` form, which appends to an array the stack
    /// reuses, so a request allocates no action array:
    /// `stack.callControl(now: now, into: &out) { $0.connect(call, now: now, into: &$1) }`.
    public mutating func callControl(
        now: ISDNInstant, into out: inout [PRIAction], _ request: (inout Q931Interface, inout [Q931Action]) -> Void
    ) {
        let start = callActions.count
        request(&callControl, &callActions)
        handle(from: start, now: now, &out)
    }

    /// Runs one call-control request and carries its actions through the data link, appending
    /// them to `out`: `stack.request(.connect(call), now: now, into: &out)`.
    public mutating func request(_ request: PRICallRequest, now: ISDNInstant, into out: inout [PRIAction]) {
        let start = callActions.count
        switch request {
        case .setupAcknowledge(let call):
            callControl.setupAcknowledge(call, now: now, into: &callActions)
        case .proceeding(let call):
            callControl.proceeding(call, now: now, into: &callActions)
        case .alerting(let call, let inBandInformation):
            callControl.alerting(call, inBandInformation: inBandInformation, now: now, into: &callActions)
        case .connect(let call, let connectedNumber):
            callControl.connect(call, connectedNumber: connectedNumber, now: now, into: &callActions)
        case .disconnect(let call, let cause):
            callControl.disconnect(call, cause: cause, now: now, into: &callActions)
        case .release(let call, let cause):
            callControl.release(call, cause: cause, now: now, into: &callActions)
        }
        handle(from: start, now: now, &out)
    }

    // MARK: - Wiring

    /// Encodes `message` into the next ring buffer and returns the payload: a slice of the
    /// buffer, which keeps its length (its room) from use to use, so the message is written in
    /// place with no per-octet array checks and nothing is emptied or regrown.
    private mutating func encodeIntoRing(_ message: Q931Message) throws(Q931EncodingError) -> ArraySlice<UInt8> {
        let index = payloadCursor
        payloadCursor = index + 1 == payloadRing.count ? 0 : index + 1
        if payloadRing[index].isEmpty {
            // First use of the slot: room for any usual message.
            payloadRing[index] = Array(repeating: 0, count: 64)
        }
        while true {
            switch payloadRing[index].withUnsafeMutableBufferPointer({ message.encode(inPlace: $0) }) {
            case .written(let count):
                return payloadRing[index][0..<count]
            case .failed(let error):
                throw error
            case .overflowed:
                let room = payloadRing[index].count
                guard room < 1024 else {
                    // Far beyond N201: encoded the plain way, for the data link to refuse.
                    var octets: [UInt8] = []
                    try message.encode(into: &octets)
                    payloadRing[index] = octets
                    return octets[...]
                }
                payloadRing[index] = Array(repeating: 0, count: room * 2)
            }
        }
    }

    /// Runs one data link input with the stack's sink (see `PRILinkSink`): frames, errors and
    /// timers go straight into `out` in the order the data link sends them, then the
    /// indications it raised are passed to call control, whose answers follow in `out`.
    private mutating func runDataLink(
        now: ISDNInstant, _ out: inout [PRIAction], _ input: (inout Q921DataLink, inout PRILinkSink) -> Void
    ) {
        var sink = lendSink(&out)
        input(&dataLink, &sink)
        takeBackSink(&sink, now: now, &out)
    }

    /// A sink holding the driver's actions (`out` is left empty until `takeBackSink`).
    private mutating func lendSink(_ out: inout [PRIAction]) -> PRILinkSink {
        var sink = PRILinkSink(out: [])
        swap(&sink.out, &out)
        return sink
    }

    /// Puts the actions back into `out` and passes the data link's indications up.
    private mutating func takeBackSink(_ sink: inout PRILinkSink, now: ISDNInstant, _ out: inout [PRIAction]) {
        swap(&sink.out, &out)
        if sink.hasMessage {
            let start = callActions.count
            callControl.messageReceived(sink.message, now: now, into: &callActions)
            handle(from: start, now: now, &out)
        }
        if !sink.otherIndications.isEmpty {
            passUp(&sink.otherIndications, now: now, &out)
        }
    }

    /// Gives call control the data link's indications other than the first message (which
    /// `takeBackSink` passes on its own), in order, then empties `indications`.
    private mutating func passUp(_ indications: inout [Q921Action], now: ISDNInstant, _ out: inout [PRIAction]) {
        var index = 0
        while index < indications.count {
            // Moved out rather than copied: saves a retain and release per indication.
            var indication = Q921Action.establishConfirm
            swap(&indication, &indications[index])
            index += 1
            switch consume indication {
            case .establishIndication, .establishConfirm:
                out.append(.dataLinkChanged(up: true))
                let start = callActions.count
                callControl.dataLinkEstablished(now: now, into: &callActions)
                handle(from: start, now: now, &out)
            case .releaseIndication:
                out.append(.dataLinkChanged(up: false))
                let start = callActions.count
                callControl.dataLinkReleased(now: now, reestablish: true, into: &callActions)
                handle(from: start, now: now, &out)
            case .releaseConfirm:
                out.append(.dataLinkChanged(up: false))
                let start = callActions.count
                callControl.dataLinkReleased(now: now, reestablish: false, into: &callActions)
                handle(from: start, now: now, &out)
            case .dataIndication(let payload):
                let start = callActions.count
                callControl.messageReceived(payload, now: now, into: &callActions)
                handle(from: start, now: now, &out)
            case .transmit, .startTimer, .stopTimer, .unitDataIndication, .error:
                // The sink sends these to `out` and never keeps them.
                break
            }
        }
        // Only placeholders are left: dropping them one by one is cheaper than removeAll
        // (the generic replaceSubrange), and `removeLast` than `popLast() != nil`, which
        // copies each out as an optional to compare it.
        while !indications.isEmpty { indications.removeLast() }
    }

    /// Carries out call control's actions from `start` on (see `callActions`), then cuts the
    /// array back to `start`.
    private mutating func handle(from start: Int, now: ISDNInstant, _ out: inout [PRIAction]) {
        var index = start
        while index < callActions.count {
            var action = Q931Action.establishDataLink
            swap(&action, &callActions[index])
            index += 1
            switch consume action {
            case .send(let message):
                // Encoded straight into a ring buffer, which the data link keeps until the
                // acknowledgement (see `payloadRing`): no buffer allocated, no copy made.
                let payload: ArraySlice<UInt8>
                do {
                    payload = try encodeIntoRing(message)
                } catch {
                    out.append(.callControlError(.encodingFailed(error)))
                    continue
                }
                var sink = lendSink(&out)
                dataLink.dataRequest(consume payload, now: now, into: &sink)
                takeBackSink(&sink, now: now, &out)
            case .startTimer(let timer, let deadline):
                if reportsTimerActions { out.append(.startTimer(.callControl(timer), deadline: deadline)) }
            case .stopTimer(let timer):
                if reportsTimerActions { out.append(.stopTimer(.callControl(timer))) }
            case .establishDataLink:
                runDataLink(now: now, &out) { $0.establishRequest(now: now, into: &$1) }
            case .indication(let indication):
                if keepsIndications {
                    keptIndications.append(indication)
                } else {
                    out.append(.indication(indication))
                }
            case .protocolError(let error):
                out.append(.callControlError(error))
            }
        }
        while callActions.count > start { callActions.removeLast() }
    }
}

/// The data link's sink inside `PRIDChannel`: what goes to the driver (frames, errors, timers)
/// is appended to the driver's actions at once, as the data link sends it, so N(S) order and
/// wire order stay the same; indications for call control are kept for the stack to pass up
/// when the data link returns (call control may not run inside a data link input).
struct PRILinkSink: Q921ActionSink {
    var out: [PRIAction]
    /// The received message of the input, the one indication nearly every input raises: kept
    /// as a plain slice, not an enum in an array.
    var message: ArraySlice<UInt8> = []
    var hasMessage = false
    /// Any other indication (link up or down, a second message), in order after `message`.
    /// Rare, so this array stays empty and unallocated in steady state.
    var otherIndications: [Q921Action] = []

    mutating func append(_ action: consuming Q921Action) {
        switch consume action {
        case .transmit(let frame):
            out.append(.transmit(frame))
        case .startTimer(let timer, let deadline):
            out.append(.startTimer(.dataLink(timer), deadline: deadline))
        case .stopTimer(let timer):
            out.append(.stopTimer(.dataLink(timer)))
        case .error(let error):
            out.append(.dataLinkError(error))
        case .unitDataIndication:
            // Broadcast call offering over UI frames is a BRI point-to-multipoint feature.
            break
        case .dataIndication(let payload):
            if !hasMessage && otherIndications.isEmpty {
                message = payload
                hasMessage = true
            } else {
                otherIndications.append(.dataIndication(payload))
            }
        case .establishIndication:
            otherIndications.append(.establishIndication)
        case .establishConfirm:
            otherIndications.append(.establishConfirm)
        case .releaseIndication:
            otherIndications.append(.releaseIndication)
        case .releaseConfirm:
            otherIndications.append(.releaseConfirm)
        }
    }
}
