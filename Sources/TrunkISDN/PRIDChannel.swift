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
///
/// Call control works into `lower` (a `PRICallControlSink`), which carries out each of its
/// actions as it comes: a message is encoded and handed to the data link, whose frames go
/// straight into the driver's actions. What the data link raises for call control (a received
/// message, the link going up or down) waits in `lower` until the input that raised it is done,
/// and is then passed up (`passUp`): call control never runs inside a data link input.
public struct PRIDChannel: Sendable {
    public private(set) var callControl: Q931Interface
    /// The data link and, during an input, the driver's actions.
    private var lower: PRICallControlSink
    /// Call control's actions from the closure forms of `callControl(now:)`, which return
    /// or fill an array; reused.
    private var closureActions: [Q931Action] = []
    /// Received messages are decoded into this value, so its element storage is reused.
    private var receivedMessage = Q931Message.empty

    public init(dataLink: Q921Configuration, callControl: Q931Configuration) {
        precondition(dataLink.role == callControl.role, "both layers must play the same side")
        var link = Q921DataLink(configuration: dataLink)
        link.defersAcknowledgement = true
        self.lower = PRICallControlSink(dataLink: link)
        self.callControl = Q931Interface(configuration: callControl)
    }

    /// A PRI stack with the libpri/ETSI defaults for `role`.
    public init(role: ISDNRole) {
        self.init(dataLink: Q921Configuration(role: role), callControl: Q931Configuration(role: role))
    }

    public var role: ISDNRole { callControl.configuration.role }

    public var dataLink: Q921DataLink { lower.dataLink }

    /// Whether call indications are kept by the stack for `takeIndications(into:)` (true)
    /// instead of coming out among the actions as `.indication` (false, the default).
    ///
    /// A driver that hands indications to its call manager in batches (after reading every
    /// waiting frame) takes them here in one swap, rather than fishing them out of the actions
    /// one by one; frames, timers and errors still come out as actions.
    public var keepsIndications: Bool {
        get { lower.keepsIndications }
        set { lower.keepsIndications = newValue }
    }

    /// The indications kept since the last call, swapped into `batch`, which must be empty
    /// (its storage is kept for the next swap, so neither array is reallocated).
    public mutating func takeIndications(into batch: inout [Q931Indication]) {
        precondition(batch.isEmpty, "takeIndications needs an empty array")
        swap(&lower.keptIndications, &batch)
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
        get { lower.dataLink.reportsTimerActions }
        set {
            lower.dataLink.reportsTimerActions = newValue
            callControl.callSettings.reportsTimerActions = newValue
        }
    }

    /// New timers for both layers of a running D-channel, without dropping the link or calls.
    public mutating func retime(dataLink timers: Q921Configuration, callControl callTimers: Q931Configuration) {
        lower.dataLink.retime(t200: timers.t200, t203: timers.t203, n200: timers.n200)
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
        enter(&out, now: now)
        lower.dataLink.establishRequest(now: now, into: &lower.link)
        leave(&out)
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
        enter(&out, now: now)
        lower.dataLink.frameReceived(bytes, now: now, into: &lower.link)
        if lower.link.hasMessage {
            bytes.withUnsafeBufferPointer { passUpMessage(in: $0, now: now) }
        }
        finishFrame(now: now, &out)
    }

    /// A frame read into the driver's own buffer (FCS removed), valid for the duration of the
    /// call: an I frame, nearly all the traffic, is read where it lies, with no array to hold
    /// and nothing retained; any other frame is copied. Actions are appended to `out`.
    public mutating func frameReceived(_ octets: UnsafeRawBufferPointer, now: ISDNInstant, into out: inout [PRIAction]) {
        let octets = octets.assumingMemoryBound(to: UInt8.self)
        enter(&out, now: now)
        lower.dataLink.frameReceived(octets: octets, now: now, into: &lower.link)
        if lower.link.hasMessage {
            passUpMessage(in: octets, now: now)
        }
        finishFrame(now: now, &out)
    }

    /// Call control gets the message the data link found in `frame`, decoded where it lies.
    private mutating func passUpMessage(in frame: UnsafeBufferPointer<UInt8>, now: ISDNInstant) {
        lower.link.hasMessage = false
        let message = UnsafeBufferPointer(rebasing: frame[lower.link.messageOffset...])
        callControl.messageReceived(octets: message, decodingInto: &receivedMessage, now: now, into: &lower)
    }

    /// The rest of a `frameReceived` input, after its message.
    private mutating func finishFrame(now: ISDNInstant, _ out: inout [PRIAction]) {
        passUp()
        // Layer 3 has had the message: if it answered at once, its I frame carried N(R) and
        // no RR is needed (CONNECT → CONNECT ACKNOWLEDGE, DISCONNECT → RELEASE, ...).
        if !defersAcknowledgementToDriver, lower.dataLink.hasPendingAcknowledgement {
            lower.dataLink.sendPendingAcknowledgement(into: &lower.link)
        }
        leave(&out)
    }

    /// Sends the RR response still owed for received I frames, if no I frame has carried
    /// N(R) since; see `defersAcknowledgementToDriver`.
    public mutating func sendPendingAcknowledgement(now: ISDNInstant, into out: inout [PRIAction]) {
        guard lower.dataLink.hasPendingAcknowledgement else { return }
        enter(&out, now: now)
        lower.dataLink.sendPendingAcknowledgement(into: &lower.link)
        leave(&out)
    }

    public mutating func timerExpired(_ timer: PRITimer, now: ISDNInstant) -> [PRIAction] {
        var out: [PRIAction] = []
        out.reserveCapacity(8)
        timerExpired(timer, now: now, into: &out)
        return out
    }

    /// `timerExpired(_:now:)`, appending the actions to `out`.
    public mutating func timerExpired(_ timer: PRITimer, now: ISDNInstant, into out: inout [PRIAction]) {
        enter(&out, now: now)
        runTimer(timer, now: now)
        leave(&out)
    }

    /// One expiry, inside an input.
    private mutating func runTimer(_ timer: PRITimer, now: ISDNInstant) {
        switch timer {
        case .dataLink(let linkTimer):
            lower.dataLink.timerExpired(linkTimer, now: now, into: &lower.link)
        case .callControl(let callTimer):
            callControl.timerExpired(callTimer, now: now, into: &lower)
        }
        passUp()
    }

    /// The stack's running timer that expires first, or nil. Both layers keep their own
    /// deadlines, so a driver can sleep until this one and call `expireTimers(now:into:)`
    /// instead of keeping the `startTimer`/`stopTimer` actions itself (libpri's
    /// `pri_schedule_next`/`pri_schedule_run`).
    public var nextTimer: (timer: PRITimer, deadline: ISDNInstant)? {
        let link = lower.dataLink.nextTimer
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
        enter(&out, now: now)
        // Each expiry may start or stop others, so the next due one is looked up afresh. The
        // bound only guards against timers configured to zero re-arming at `now` for ever;
        // anything left is due again at the next call.
        for _ in 0..<256 {
            guard let (timer, deadline) = nextTimer, deadline <= now else { break }
            runTimer(timer, now: now)
        }
        leave(&out)
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
        enter(&out, now: now)
        let call = callControl.setupRequest(request, now: now, into: &lower)
        passUp()
        leave(&out)
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
        closureActions.append(contentsOf: request(&callControl))
        carryOutClosureActions(now: now, &out)
    }

    /// Runs one call control request in its `into:` form:
    /// `stack.callControl(now: now, into: &out) { $0.connect(call, now: now, into: &$1) }`.
    public mutating func callControl(
        now: ISDNInstant, into out: inout [PRIAction], _ request: (inout Q931Interface, inout [Q931Action]) -> Void
    ) {
        request(&callControl, &closureActions)
        carryOutClosureActions(now: now, &out)
    }

    /// Runs one call-control request and carries its actions through the data link, appending
    /// them to `out`: `stack.request(.connect(call), now: now, into: &out)`.
    public mutating func request(_ request: PRICallRequest, now: ISDNInstant, into out: inout [PRIAction]) {
        enter(&out, now: now)
        switch request {
        case .setupAcknowledge(let call):
            callControl.setupAcknowledge(call, now: now, into: &lower)
        case .proceeding(let call):
            callControl.proceeding(call, now: now, into: &lower)
        case .alerting(let call, let inBandInformation):
            callControl.alerting(call, inBandInformation: inBandInformation, now: now, into: &lower)
        case .connect(let call, let connectedNumber):
            callControl.connect(call, connectedNumber: connectedNumber, now: now, into: &lower)
        case .disconnect(let call, let cause):
            callControl.disconnect(call, cause: cause, now: now, into: &lower)
        case .release(let call, let cause):
            callControl.release(call, cause: cause, now: now, into: &lower)
        }
        passUp()
        leave(&out)
    }

    // MARK: - Wiring

    /// Lends the driver's actions to `lower` for one input, so everything the layers send is
    /// appended to them in order.
    @inline(__always)
    private mutating func enter(_ out: inout [PRIAction], now: ISDNInstant) {
        swap(&lower.link.out, &out)
        lower.now = now
    }

    /// Gives the driver's actions back at the end of an input.
    @inline(__always)
    private mutating func leave(_ out: inout [PRIAction]) {
        swap(&lower.link.out, &out)
    }

    /// Carries out the actions a closure request left in `closureActions`, as one input.
    private mutating func carryOutClosureActions(now: ISDNInstant, _ out: inout [PRIAction]) {
        enter(&out, now: now)
        var index = 0
        while index < closureActions.count {
            var action = Q931Action.establishDataLink
            swap(&action, &closureActions[index])
            index += 1
            lower.append(action)
        }
        closureActions.removeAll(keepingCapacity: true)
        passUp()
        leave(&out)
    }

    /// Gives call control, in order, what the data link raised for it during the input other
    /// than a received frame's first message (which `frameReceived` passes up itself): the
    /// link going up or down, a further message; the actions of each answer are carried out
    /// before the next is passed up.
    @inline(__always)
    private mutating func passUp() {
        assert(!lower.link.hasMessage, "a received message is passed up by frameReceived")
        // Nearly every input raises nothing else: checked here, inlined, at no call's cost.
        if !lower.link.otherIndications.isEmpty { passUpOthers() }
    }

    private mutating func passUpOthers() {
        let now = lower.now
        while !lower.link.otherIndications.isEmpty {
            switch lower.link.otherIndications.removeFirst() {
            case .establishIndication, .establishConfirm:
                lower.link.out.append(.dataLinkChanged(up: true))
                callControl.dataLinkEstablished(now: now, into: &lower)
            case .releaseIndication:
                lower.link.out.append(.dataLinkChanged(up: false))
                callControl.dataLinkReleased(now: now, reestablish: true, into: &lower)
            case .releaseConfirm:
                lower.link.out.append(.dataLinkChanged(up: false))
                callControl.dataLinkReleased(now: now, reestablish: false, into: &lower)
            case .dataIndication(let payload):
                callControl.messageReceived(payload, now: now, into: &lower)
            case .transmit, .startTimer, .stopTimer, .unitDataIndication, .error:
                // The link sink sends these to the driver and never keeps them.
                break
            }
        }
    }
}
