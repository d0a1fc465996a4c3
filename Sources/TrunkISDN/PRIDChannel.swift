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
    /// Reused for encoding outgoing messages so steady-state encoding does not grow a new buffer.
    private var encodeBuffer: [UInt8]

    public init(dataLink: Q921Configuration, callControl: Q931Configuration) {
        precondition(dataLink.role == callControl.role, "both layers must play the same side")
        self.dataLink = Q921DataLink(configuration: dataLink)
        self.callControl = Q931Interface(configuration: callControl)
        self.encodeBuffer = []
        self.encodeBuffer.reserveCapacity(dataLink.n201)
    }

    /// A PRI stack with the libpri/ETSI defaults for `role`.
    public init(role: ISDNRole) {
        self.init(dataLink: Q921Configuration(role: role), callControl: Q931Configuration(role: role))
    }

    public var role: ISDNRole { callControl.configuration.role }

    // MARK: - Inputs

    /// Bring the data link up (both sides of a PRI do so when the span comes up).
    public mutating func start(now: ISDNInstant) -> [PRIAction] {
        var out: [PRIAction] = []
        out.reserveCapacity(8)
        handle(dataLink.establishRequest(now: now), now: now, &out)
        return out
    }

    /// A frame from the D-channel, FCS already checked and removed.
    public mutating func frameReceived(_ bytes: ArraySlice<UInt8>, now: ISDNInstant) -> [PRIAction] {
        var out: [PRIAction] = []
        out.reserveCapacity(8)
        handle(dataLink.frameReceived(bytes, now: now), now: now, &out)
        return out
    }

    public mutating func frameReceived(_ bytes: [UInt8], now: ISDNInstant) -> [PRIAction] {
        frameReceived(bytes[...], now: now)
    }

    public mutating func timerExpired(_ timer: PRITimer, now: ISDNInstant) -> [PRIAction] {
        var out: [PRIAction] = []
        out.reserveCapacity(8)
        switch timer {
        case .dataLink(let linkTimer):
            handle(dataLink.timerExpired(linkTimer, now: now), now: now, &out)
        case .callControl(let callTimer):
            handle(callControl.timerExpired(callTimer, now: now), now: now, &out)
        }
        return out
    }

    /// Places a call; see `Q931Interface.setupRequest`.
    public mutating func setupRequest(_ request: Q931SetupRequest, now: ISDNInstant) -> (call: Q931CallID?, actions: [PRIAction]) {
        let (call, actions) = callControl.setupRequest(request, now: now)
        var out: [PRIAction] = []
        out.reserveCapacity(8)
        handle(actions, now: now, &out)
        return (call, out)
    }

    /// Runs one call control request (`setupAcknowledge`, `alerting`, `connect`, `disconnect`, ...)
    /// and carries its actions through the data link:
    /// `stack.callControl { $0.connect(call, now: now) }`.
    public mutating func callControl(now: ISDNInstant, _ request: (inout Q931Interface) -> [Q931Action]) -> [PRIAction] {
        let actions = request(&callControl)
        var out: [PRIAction] = []
        out.reserveCapacity(8)
        handle(actions, now: now, &out)
        return out
    }

    // MARK: - Wiring

    private mutating func handle(_ actions: [Q921Action], now: ISDNInstant, _ out: inout [PRIAction]) {
        for action in actions {
            switch action {
            case .transmit(let frame):
                out.append(.transmit(frame))
            case .startTimer(let timer, let deadline):
                out.append(.startTimer(.dataLink(timer), deadline: deadline))
            case .stopTimer(let timer):
                out.append(.stopTimer(.dataLink(timer)))
            case .establishIndication, .establishConfirm:
                out.append(.dataLinkChanged(up: true))
                handle(callControl.dataLinkEstablished(now: now), now: now, &out)
            case .releaseIndication:
                out.append(.dataLinkChanged(up: false))
                handle(callControl.dataLinkReleased(now: now, reestablish: true), now: now, &out)
            case .releaseConfirm:
                out.append(.dataLinkChanged(up: false))
                handle(callControl.dataLinkReleased(now: now, reestablish: false), now: now, &out)
            case .dataIndication(let payload):
                handle(callControl.messageReceived(payload, now: now), now: now, &out)
            case .unitDataIndication:
                // Broadcast call offering over UI frames is a BRI point-to-multipoint feature.
                break
            case .error(let error):
                out.append(.dataLinkError(error))
            }
        }
    }

    private mutating func handle(_ actions: [Q931Action], now: ISDNInstant, _ out: inout [PRIAction]) {
        for action in actions {
            switch action {
            case .send(let message):
                encodeBuffer.removeAll(keepingCapacity: true)
                do {
                    try message.encode(into: &encodeBuffer)
                } catch {
                    out.append(.callControlError(.encodingFailed(error)))
                    continue
                }
                handle(dataLink.dataRequest(Array(encodeBuffer)[...], now: now), now: now, &out)
            case .startTimer(let timer, let deadline):
                out.append(.startTimer(.callControl(timer), deadline: deadline))
            case .stopTimer(let timer):
                out.append(.stopTimer(.callControl(timer)))
            case .establishDataLink:
                handle(dataLink.establishRequest(now: now), now: now, &out)
            case .indication(let indication):
                out.append(.indication(indication))
            case .protocolError(let error):
                out.append(.callControlError(error))
            }
        }
    }
}
