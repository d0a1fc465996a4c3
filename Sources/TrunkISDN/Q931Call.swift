/// The interface's verdict on a channel named in the far side's first response to our SETUP.
enum Q931ChannelVerdict: Hashable, Sendable {
    /// Nothing to change (no channel named, or the one we have).
    case keep
    /// Use this channel from now on.
    case assign(UInt8)
    /// Unacceptable: clear the call with this cause.
    case reject(Q850Cause)
}

/// What a call needs from its interface while handling one input.
struct Q931Context {
    let configuration: Q931CallSettings
    let now: ISDNInstant
}

/// The parts of `Q931Configuration` a call reads, small enough to pass by value for every
/// input, with the timer durations already in nanoseconds.
struct Q931CallSettings: Sendable {
    let role: ISDNRole
    let callReferenceLength: Int
    let causeLocation: Q850Cause.Location
    let releaseOnDisconnect: Bool
    /// Whether calls report starting and stopping their timers as actions (see
    /// `PRIDChannel.reportsTimerActions`); their deadlines are kept either way.
    var reportsTimerActions = true
    /// Duration of each timer in nanoseconds; timers switched off (nil) are absent.
    private let durations: Q931CallTimers

    init(_ configuration: Q931Configuration) {
        role = configuration.role
        callReferenceLength = configuration.callReferenceLength
        causeLocation = configuration.causeLocation
        releaseOnDisconnect = configuration.releaseOnDisconnect
        var durations = Q931CallTimers()
        for timer in Q931CallTimers.timers {
            if let duration = configuration.duration(of: timer) {
                durations[timer] = ISDNInstant.zero + duration
            }
        }
        self.durations = durations
    }

    /// `[.cause(value, location)]` for every location and cause value, built once, so that
    /// the DISCONNECT, RELEASE and RELEASE COMPLETE a call sends share an element list instead
    /// of allocating one each. Static rather than per interface: settings travel by value with
    /// every input and must stay trivially copyable.
    private static let causeElementLists: [[[Q931InformationElement]]] = (0..<16).map { code in
        guard let location = Q850Cause.Location(rawValue: UInt8(code)) else { return [] }
        return (0..<128).map { [.cause(CauseElement(Q850Cause(rawValue: UInt8($0)), location: location))] }
    }

    /// The element list of a Cause with our location and no diagnostics.
    func causeElements(_ cause: Q850Cause) -> [Q931InformationElement] {
        let lists = Q931CallSettings.causeElementLists[Int(causeLocation.rawValue & 0x0F)]
        return lists.isEmpty ? [.cause(CauseElement(cause, location: causeLocation))] : lists[Int(cause.rawValue & 0x7F)]
    }

    /// `[.channelIdentification(exclusive channel)]` for every channel number, shared like
    /// `causeElementLists`: the first answer to each SETUP carries one.
    private static let exclusiveChannelLists: [[Q931InformationElement]] =
        (0..<128).map { [.channelIdentification(.primary(channel: UInt8($0), exclusive: true))] }

    static func exclusiveChannelElements(_ channel: UInt8) -> [Q931InformationElement] {
        exclusiveChannelLists[Int(channel & 0x7F)]
    }

    /// When `timer` started at `now` expires; nil if the timer is off.
    @inline(__always)
    func deadline(of timer: Q931Timer, from now: ISDNInstant) -> ISDNInstant? {
        guard let duration = durations[timer] else { return nil }
        return ISDNInstant(nanoseconds: now.nanoseconds + duration.nanoseconds)
    }
}

/// One call's Q.931 state machine for basic call control (Q.931 §5.1-§5.3, §5.8).
///
/// The interface routes messages to it by call reference and decides what needs a view across
/// calls (channel choice, glare, restarts, data link loss); everything else is here.
struct Q931Call: Sendable {
    let id: Q931CallID
    let role: ISDNRole
    let callReference: Q931CallReference
    private(set) var state: Q931CallState
    /// The B-channel in use, nil while none is agreed (or after losing it in glare).
    var channel: UInt8?
    /// Our SETUP asked for this channel only.
    let requestedExclusive: Bool
    private(set) var timers = Q931CallTimers()
    private var t303Retransmitted = false
    /// What the RELEASE last sent carried, for the single retransmission T308 allows: kept
    /// as a value with no references, so copies of the call retain nothing for it.
    private var releaseSent: Q931ReleaseContents?
    private var t308Retransmitted = false
    private var t322Retransmitted = false
    /// Cause of the clearing under way, reported to the layer above when the call ends.
    private var clearingCause: Q850Cause?
    /// Incoming calls: whether our first response (which carries the channel) has gone out.
    private var firstResponseSent = false
    /// Overlap receiving: the called number digits so far, kept as the octets received; a
    /// String is made only for the indication that reports them (building one for every call
    /// cost about 150 instructions a cycle).
    private var collectedDigitOctets: PartyNumber.DigitOctets
    /// Digits collected past the 31 `collectedDigitOctets` holds (an overlap call sent more
    /// than any numbering plan uses); nil in every usual call, so the call holds no reference.
    private var collectedDigitsBeyondOctets: String?
    /// Whether `start`/`stop` emit timer actions (the interface's setting when the call began).
    private let reportsTimers: Bool

    var isFinished: Bool { state == .null }

    /// Overlap receiving: the called number digits so far.
    var collectedDigits: String {
        let digits = IA5.string(from: collectedDigitOctets)
        guard let beyond = collectedDigitsBeyondOctets else { return digits }
        return digits + beyond
    }

    private mutating func collectDigits(_ octets: PartyNumber.DigitOctets) {
        for octet in octets {
            if collectedDigitsBeyondOctets == nil, collectedDigitOctets.append(octet) { continue }
            collectedDigitsBeyondOctets = (collectedDigitsBeyondOctets ?? "") + IA5.string(from: CollectionOfOne(octet))
        }
    }

    // MARK: - Creation

    /// An outgoing call on `channel`, to be placed with `sendSetup` (U1/N6).
    static func outgoing(id: Q931CallID, request: Q931SetupRequest, channel: UInt8?, context: Q931Context) -> Q931Call {
        let configuration = context.configuration
        return Q931Call(
            id: id, role: configuration.role,
            callReference: Q931CallReference(value: id.callReference, flag: false, length: configuration.callReferenceLength),
            state: configuration.role == .user ? .callInitiated : .callPresent,
            channel: channel, requestedExclusive: request.exclusive, collectedDigits: request.calledNumber.digitOctets,
            reportsTimers: configuration.reportsTimerActions)
    }

    /// Sends the SETUP of a new outgoing call and starts T303. The elements are built in
    /// `elements`, an empty list the call table keeps for the call's slot and reuses, so no
    /// list is allocated per call; T303 sends them again from there.
    mutating func sendSetup(
        _ request: Q931SetupRequest, _ context: Q931Context, elements: inout [Q931InformationElement],
        _ out: inout some Q931ActionSink
    ) {
        Q931Call.appendSetupElements(request, channel: channel, to: &elements)
        send(.setup, elements, &out)
        start(.t303, context, &out)
    }

    /// The SETUP's elements for `request` with `channel` (the one chosen for the call).
    private static func appendSetupElements(
        _ request: Q931SetupRequest, channel: UInt8?, to elements: inout [Q931InformationElement]
    ) {
        // Room for every element SETUP can carry, so the list is allocated once, not regrown.
        if elements.capacity < 7 { elements.reserveCapacity(7) }
        elements.append(.bearerCapability(request.bearerCapability))
        if let channel {
            elements.append(.channelIdentification(.primary(channel: channel, exclusive: request.exclusive)))
        } else {
            elements.append(.channelIdentification(ChannelIdentification(exclusive: false, selection: .anyChannel)))
        }
        if let display = request.display {
            var octets: [UInt8] = []
            IA5.append(display, to: &octets)
            elements.append(.display(octets))
        }
        if let calling = request.callingNumber {
            elements.append(.callingPartyNumber(calling))
        }
        elements.append(.calledPartyNumber(request.calledNumber))
        if let redirecting = request.redirectingNumber {
            elements.append(.redirectingNumber(redirecting))
        }
        if request.sendingComplete {
            elements.append(.sendingComplete)
        }
    }

    /// User side: a call parked earlier is asked back with RESUME on a new call reference (U17).
    static func resuming(id: Q931CallID, callIdentity: [UInt8], context: Q931Context, _ out: inout some Q931ActionSink) -> Q931Call {
        let configuration = context.configuration
        var call = Q931Call(
            id: id, role: configuration.role,
            callReference: Q931CallReference(value: id.callReference, flag: false, length: configuration.callReferenceLength),
            state: .resumeRequest, channel: nil, requestedExclusive: false, collectedDigits: PartyNumber.DigitOctets(),
            reportsTimers: configuration.reportsTimerActions)
        call.send(.resume, callIdentity.isEmpty ? [] : [.callIdentity(callIdentity)], &out)
        call.start(.t318, context, &out)
        return call
    }

    /// An incoming call the interface has admitted on `channel`: U6/N1, nothing sent yet.
    static func incoming(
        id: Q931CallID, setup: Q931Message, channel: UInt8, configuration: Q931Configuration, reportsTimers: Bool = true
    ) -> Q931Call {
        Q931Call(
            id: id, role: configuration.role,
            callReference: Q931CallReference(value: id.callReference, flag: true, length: configuration.callReferenceLength),
            state: configuration.role == .user ? .callPresent : .callInitiated,
            channel: channel, requestedExclusive: true, collectedDigits: setup.calledPartyNumber?.digitOctets ?? PartyNumber.DigitOctets(),
            reportsTimers: reportsTimers)
    }

    /// The placeholder of a vacant slot in the call table: null state, no channel, no timers.
    /// It must hold no references (no digits beyond the inline ones): the table overwrites it
    /// without destroying it.
    static func vacant(_ id: Q931CallID) -> Q931Call {
        Q931Call(
            id: id, role: .user, callReference: Q931CallReference(value: 0, flag: false, length: 0), state: .null,
            channel: nil, requestedExclusive: false, collectedDigits: PartyNumber.DigitOctets(), reportsTimers: false)
    }

    private init(
        id: Q931CallID, role: ISDNRole, callReference: Q931CallReference, state: Q931CallState,
        channel: UInt8?, requestedExclusive: Bool, collectedDigits: PartyNumber.DigitOctets, reportsTimers: Bool
    ) {
        self.reportsTimers = reportsTimers
        self.id = id
        self.role = role
        self.callReference = callReference
        self.state = state
        self.channel = channel
        self.requestedExclusive = requestedExclusive
        self.collectedDigitOctets = collectedDigits
    }

    // MARK: - Role-dependent state names

    /// The state name for a user and for a network at the same point of a call.
    private func pick(_ user: Q931CallState, _ network: Q931CallState) -> Q931CallState {
        role == .user ? user : network
    }

    // Originating side: SETUP sent, overlap, proceeding, alerting received.
    private var originatingSetupSent: Q931CallState { pick(.callInitiated, .callPresent) }
    private var originatingOverlap: Q931CallState { pick(.overlapSending, .overlapReceiving) }
    private var originatingProceeding: Q931CallState { pick(.outgoingCallProceeding, .incomingCallProceeding) }
    private var originatingAlerted: Q931CallState { pick(.callDelivered, .callReceived) }
    // Terminating side: SETUP received, overlap, proceeding sent, alerting sent.
    private var terminatingSetupReceived: Q931CallState { pick(.callPresent, .callInitiated) }
    private var terminatingOverlap: Q931CallState { pick(.overlapReceiving, .overlapSending) }
    private var terminatingProceeding: Q931CallState { pick(.incomingCallProceeding, .outgoingCallProceeding) }
    private var terminatingAlerting: Q931CallState { pick(.callReceived, .callDelivered) }
    // Clearing: we sent DISCONNECT (U11/N12), we received it (U12/N11).
    private var disconnectSent: Q931CallState { pick(.disconnectRequest, .disconnectIndication) }
    private var disconnectReceived: Q931CallState { pick(.disconnectIndication, .disconnectRequest) }

    /// How far an unanswered call we originated has got: 0 SETUP sent, 1 overlap, 2 proceeding,
    /// 3 alerted; nil in any other state. A number, not a list of states, so checks build no array.
    private var originatingStage: Int? {
        switch state {
        case originatingSetupSent: return 0
        case originatingOverlap: return 1
        case originatingProceeding: return 2
        case originatingAlerted: return 3
        default: return nil
        }
    }

    /// The same for a call we received: 0 SETUP received, 1 overlap, 2 proceeding, 3 alerting.
    private var terminatingStage: Int? {
        switch state {
        case terminatingSetupReceived: return 0
        case terminatingOverlap: return 1
        case terminatingProceeding: return 2
        case terminatingAlerting: return 3
        default: return nil
        }
    }

    private var isOriginatingBeforeAnswer: Bool {
        id.isOutgoing && originatingStage != nil
    }

    /// We have started or accepted clearing (U11/U12/U19, N11/N12/N19).
    private var isClearing: Bool {
        state == .disconnectRequest || state == .disconnectIndication || state == .releaseRequest
    }

    private var isTerminatingBeforeAnswer: Bool {
        !id.isOutgoing && terminatingStage != nil
    }

    // MARK: - Primitives from the layer above

    /// Overlap receiving: ask for more digits (SETUP ACKNOWLEDGE).
    mutating func setupAcknowledge(_ context: Q931Context, _ out: inout some Q931ActionSink) -> Bool {
        guard !id.isOutgoing, state == terminatingSetupReceived else { return false }
        sendFirstResponse(.setupAcknowledge, [], context, &out)
        state = terminatingOverlap
        start(.t302, context, &out)
        return true
    }

    mutating func proceeding(_ context: Q931Context, _ out: inout some Q931ActionSink) -> Bool {
        guard !id.isOutgoing, state == terminatingSetupReceived || state == terminatingOverlap else { return false }
        stop(.t302, &out)
        sendFirstResponse(.callProceeding, [], context, &out)
        state = terminatingProceeding
        return true
    }

    mutating func alerting(inBandInformation: Bool, _ context: Q931Context, _ out: inout some Q931ActionSink) -> Bool {
        guard !id.isOutgoing, let stage = terminatingStage, stage <= 2 else {
            return false
        }
        stop(.t302, &out)
        var elements: [Q931InformationElement] = []
        if inBandInformation {
            elements.append(.progressIndicator(ProgressIndicator(.inBandInformationAvailable, location: context.configuration.causeLocation)))
        }
        sendFirstResponse(.alerting, elements, context, &out)
        state = terminatingAlerting
        return true
    }

    mutating func connect(connectedNumber: PartyNumber?, _ context: Q931Context, _ out: inout some Q931ActionSink) -> Bool {
        guard isTerminatingBeforeAnswer else { return false }
        stop(.t302, &out)
        var elements: [Q931InformationElement] = []
        if let connectedNumber {
            elements.append(.connectedNumber(connectedNumber))
        }
        sendFirstResponse(.connect, elements, context, &out)
        if role == .user {
            // The user waits for CONNECT ACKNOWLEDGE before the call counts as active.
            state = .connectRequest
            start(.t313, context, &out)
        } else {
            state = .active
            out.append(.indication(.connected(id)))
        }
        return true
    }

    /// Overlap sending: more called party digits.
    mutating func information(digits: String, sendingComplete: Bool, _ context: Q931Context, _ out: inout some Q931ActionSink) -> Bool {
        guard id.isOutgoing, state == originatingOverlap else { return false }
        var elements: [Q931InformationElement] = []
        if sendingComplete {
            elements.append(.sendingComplete)
        }
        let number = PartyNumber(digits: digits)
        elements.insert(.calledPartyNumber(number), at: 0)
        collectDigits(number.digitOctets)
        send(.information, elements, &out)
        start(.t304, context, &out)
        return true
    }

    mutating func disconnect(cause: Q850Cause, _ context: Q931Context, _ out: inout some Q931ActionSink) -> Bool {
        switch state {
        case .null, .releaseRequest, .callAbort, disconnectSent:
            return false
        case disconnectReceived:
            return release(cause: cause, context, &out)
        case terminatingSetupReceived where !id.isOutgoing && !firstResponseSent:
            // Rejecting an offered call: RELEASE COMPLETE is the whole answer (Q.931 §5.2.5.1, §5.3.2).
            stopAllTimers(&out)
            send(.releaseComplete, context.configuration.causeElements(cause), &out)
            finish(cause: cause, &out)
            return true
        case .callPresent where role == .network && id.isOutgoing:
            // N22: nothing answered our SETUP yet; clear once the user responds or T303 runs out.
            clearingCause = cause
            state = .callAbort
            return true
        default:
            stopAllTimers(&out)
            clearingCause = cause
            send(.disconnect, context.configuration.causeElements(cause), &out)
            state = disconnectSent
            start(.t305, context, &out)
            return true
        }
    }

    mutating func release(cause: Q850Cause, _ context: Q931Context, _ out: inout some Q931ActionSink) -> Bool {
        guard state != .null, state != .releaseRequest else { return false }
        stopAllTimers(&out)
        if clearingCause == nil {
            clearingCause = cause
        }
        sendRelease(.cause(cause), context, &out)
        return true
    }

    /// User side: park an active call (SUSPEND, U15).
    mutating func suspend(callIdentity: [UInt8], _ context: Q931Context, _ out: inout some Q931ActionSink) -> Bool {
        guard role == .user, state == .active else { return false }
        send(.suspend, callIdentity.isEmpty ? [] : [.callIdentity(callIdentity)], &out)
        state = .suspendRequest
        start(.t319, context, &out)
        return true
    }

    mutating func statusEnquiry(_ context: Q931Context, _ out: inout some Q931ActionSink) -> Bool {
        guard state != .null else { return false }
        send(.statusEnquiry, [], &out)
        t322Retransmitted = false
        start(.t322, context, &out)
        return true
    }

    // MARK: - Messages from the far side

    /// Handles a message the interface has routed here and found well formed.
    mutating func receive(
        _ message: Q931Message, channelVerdict: Q931ChannelVerdict, _ context: Q931Context, _ out: inout some Q931ActionSink
    ) {
        switch message.messageType {
        case .setupAcknowledge, .callProceeding, .alerting, .connect:
            originatingResponse(message, channelVerdict: channelVerdict, context, &out)
        case .connectAcknowledge:
            if state == .connectRequest {
                stop(.t313, &out)
                state = .active
                out.append(.indication(.connected(id)))
            } else if state != .active && !(isClearing && !id.isOutgoing) {
                // A CONNECT ACKNOWLEDGE may cross our DISCONNECT or RELEASE of a call we
                // answered (the network sends it, the user may); that race is not an error.
                unexpected(message, context, &out)
            }
        case .progress:
            guard isOriginatingBeforeAnswer || isTerminatingBeforeAnswer || state == .active else {
                return unexpected(message, context, &out)
            }
            stop(.t310, &out)
            _ = reportProgress(message, &out)
        case .information:
            informationReceived(message, context, &out)
        case .disconnect:
            disconnectReceived(message, context, &out)
        case .release:
            releaseReceived(message, context, &out)
        case .releaseComplete:
            stopAllTimers(&out)
            finish(cause: clearingCause ?? message.cause?.value ?? .normalCallClearing, &out)
        case .statusEnquiry:
            sendStatus(cause: .responseToStatusEnquiry, diagnostics: [], context, &out)
        case .status:
            statusReceived(message, context, &out)
        case .notify:
            if case .notificationIndicator(let indicator)? = message.informationElements.first(where: { $0.identifier == Q931ElementIdentifier.notificationIndicator }) {
                out.append(.indication(.notification(id, indicator)))
            }
        case .facility:
            for case .facility(let octets) in message.informationElements {
                out.append(.indication(.facility(id, octets)))
            }
        case .setup:
            // A repeated SETUP (the far side's T303 retransmission) changes nothing.
            break
        case .suspend, .suspendAcknowledge, .suspendReject, .resumeAcknowledge, .resumeReject:
            suspendResumeMessage(message, context, &out)
        default:
            unexpected(message, context, &out)
        }
    }

    /// Suspend and resume (Q.931 §5.6). Only the user side parks calls; a network side
    /// running this stack does not offer the service and says so.
    private mutating func suspendResumeMessage(_ message: Q931Message, _ context: Q931Context, _ out: inout some Q931ActionSink) {
        switch (message.messageType, state) {
        case (.suspend, .active) where role == .network:
            send(.suspendReject, context.configuration.causeElements(.facilityNotImplemented), &out)
        case (.suspendAcknowledge, .suspendRequest):
            stopAllTimers(&out)
            state = .null
            out.append(.indication(.suspended(id)))
        case (.suspendReject, .suspendRequest):
            stop(.t319, &out)
            state = .active
            out.append(.indication(.suspendRejected(id, cause: message.cause?.value ?? .normalUnspecified)))
        case (.resumeAcknowledge, .resumeRequest):
            stop(.t318, &out)
            channel = message.channelIdentification?.channelNumber
            state = .active
            out.append(.indication(.resumed(id, channel: channel)))
        case (.resumeReject, .resumeRequest):
            stopAllTimers(&out)
            finish(cause: message.cause?.value ?? .normalUnspecified, &out)
        default:
            unexpected(message, context, &out)
        }
    }

    private mutating func originatingResponse(
        _ message: Q931Message, channelVerdict: Q931ChannelVerdict, _ context: Q931Context, _ out: inout some Q931ActionSink
    ) {
        if state == .callAbort {
            // N22: the user finally answered a call we want gone.
            stopAllTimers(&out)
            sendRelease(.cause(clearingCause ?? .normalCallClearing), context, &out)
            return
        }
        // The latest stage each response may arrive in: SETUP ACKNOWLEDGE only right after
        // SETUP, CALL PROCEEDING up to overlap, ALERTING up to proceeding, CONNECT up to alerted.
        let latestStage: Int
        switch message.messageType {
        case .setupAcknowledge: latestStage = 0
        case .callProceeding: latestStage = 1
        case .alerting: latestStage = 2
        default: latestStage = 3
        }
        guard id.isOutgoing, let stage = originatingStage, stage <= latestStage else {
            return unexpected(message, context, &out)
        }
        switch channelVerdict {
        case .keep:
            break
        case .assign(let newChannel):
            if newChannel != channel {
                channel = newChannel
                out.append(.indication(.channelAssigned(id, channel: newChannel)))
            }
        case .reject(let cause):
            stopAllTimers(&out)
            clearingCause = cause
            sendRelease(.cause(cause), context, &out)
            return
        }
        stop(.t303, &out)
        stop(.t304, &out)
        let inBand = reportProgress(message, &out)
        switch message.messageType {
        case .setupAcknowledge:
            state = originatingOverlap
            start(.t304, context, &out)
            out.append(.indication(.setupAcknowledged(id)))
        case .callProceeding:
            state = originatingProceeding
            start(.t310, context, &out)
            out.append(.indication(.proceeding(id)))
        case .alerting:
            stop(.t310, &out)
            state = originatingAlerted
            start(.t301, context, &out)
            out.append(.indication(.alerting(id, inBandInformation: inBand)))
        default:
            stop(.t310, &out)
            stop(.t301, &out)
            send(.connectAcknowledge, [], &out)
            state = .active
            out.append(.indication(.answered(id, connectedNumber: message.connectedNumber)))
        }
    }

    private mutating func informationReceived(_ message: Q931Message, _ context: Q931Context, _ out: inout some Q931ActionSink) {
        if !id.isOutgoing, state == terminatingOverlap {
            let number = message.calledPartyNumber
            let digits = number?.digits ?? ""
            if let number { collectDigits(number.digitOctets) }
            let complete = message.hasSendingComplete
            out.append(.indication(.moreDigits(id, digits: digits, sendingComplete: complete)))
            if complete {
                stop(.t302, &out)
                sendFirstResponse(.callProceeding, [], context, &out)
                state = terminatingProceeding
                out.append(.indication(.digitsComplete(id, calledNumber: collectedDigits)))
            } else {
                start(.t302, context, &out)
            }
        } else if let keypad = message.keypadFacility {
            out.append(.indication(.information(id, keypad: keypad)))
        }
        // Q.931 allows INFORMATION in every state; anything else in it is of no use to basic call.
    }

    private mutating func disconnectReceived(_ message: Q931Message, _ context: Q931Context, _ out: inout some Q931ActionSink) {
        switch state {
        case .releaseRequest:
            return
        case disconnectSent, .callAbort:
            // Both sides cleared at once: go straight to RELEASE (Q.931 §5.3.5 clear collision).
            stopAllTimers(&out)
            sendRelease(.none, context, &out)
        default:
            stopAllTimers(&out)
            // Read once: each access scans the elements and copies the Cause out.
            let causeValue = message.cause?.value
            let cause = causeValue ?? .normalUnspecified
            clearingCause = cause
            state = disconnectReceived
            out.append(.indication(.disconnecting(id, cause: cause)))
            guard context.configuration.releaseOnDisconnect else { return }
            // Q.931 §5.8.5.2/§5.8.6.2: a DISCONNECT without (valid) cause is still obeyed,
            // and the RELEASE tells the peer what was wrong.
            var contents = Q931ReleaseContents.none
            if causeValue == nil {
                let hadInvalidCause = message.invalidElements.contains { $0.identifier == Q931ElementIdentifier.cause }
                let problem: Q850Cause = hadInvalidCause ? .invalidInformationElementContents : .mandatoryInformationElementMissing
                contents = .causeWithDiagnostic(problem, Q931ElementIdentifier.cause)
            }
            sendRelease(contents, context, &out)
        }
    }

    private mutating func releaseReceived(_ message: Q931Message, _ context: Q931Context, _ out: inout some Q931ActionSink) {
        stopAllTimers(&out)
        let cause = clearingCause ?? message.cause?.value ?? .normalCallClearing
        if state != .releaseRequest {
            // In U19/N19 both sent RELEASE: each side just releases (Q.931 §5.3.5).
            send(.releaseComplete, [], &out)
        }
        finish(cause: cause, &out)
    }

    private mutating func statusReceived(_ message: Q931Message, _ context: Q931Context, _ out: inout some Q931ActionSink) {
        guard let farState = message.callState?.value, let cause = message.cause?.value else { return }
        stop(.t322, &out)
        out.append(.indication(.status(id, cause: cause, farState: farState)))
        if farState == 0 {
            // The far side has forgotten the call: release locally (Q.931 §5.8.11).
            stopAllTimers(&out)
            finish(cause: clearingCause ?? cause, &out)
        } else if !Q931Call.statesCompatible(local: state.rawValue, far: farState) {
            stopAllTimers(&out)
            clearingCause = .messageNotCompatibleWithState
            sendRelease(.cause(.messageNotCompatibleWithState), context, &out)
        }
    }

    /// Whether a far state reported in STATUS can coexist with ours, allowing for messages in flight.
    ///
    /// The numbers of the two sides match once the messages in flight arrive, so only a call
    /// that one side believes answered while the other is still in early setup is contradictory.
    static func statesCompatible(local: UInt8, far: UInt8) -> Bool {
        let earlySetup: Set<UInt8> = [1, 2, 3, 6, 9, 25]
        if local == 10 && earlySetup.contains(far) { return false }
        if far == 10 && earlySetup.contains(local) { return false }
        return true
    }

    /// Indicates each Progress indicator of `message`, looked at where it lies (one pass, no
    /// array built); returns whether one says in-band information is available.
    private func reportProgress(_ message: Q931Message, _ out: inout some Q931ActionSink) -> Bool {
        var inBand = false
        message.informationElements.withUnsafeBufferPointer { elements in
            for index in elements.indices {
                guard case .progressIndicator(let indicator) = elements[index] else { continue }
                out.append(.indication(.progress(id, indicator)))
                if indicator.description == .inBandInformationAvailable { inBand = true }
            }
        }
        return inBand
    }

    private mutating func unexpected(_ message: Q931Message, _ context: Q931Context, _ out: inout some Q931ActionSink) {
        out.append(.protocolError(.unexpectedMessage(message.messageType, state)))
        sendStatus(cause: .messageNotCompatibleWithState, diagnostics: [message.messageType.rawValue], context, &out)
    }

    // MARK: - Timers

    /// A call timer expired; returns false if it was not running (stale expiry). `setup` is
    /// the element list of the SETUP an outgoing call sent (see `sendSetup`), for T303.
    mutating func timerExpired(
        _ timer: Q931Timer, _ context: Q931Context, setup: [Q931InformationElement], _ out: inout some Q931ActionSink
    ) -> Bool {
        guard let deadline = timers[timer], deadline <= context.now else { return false }
        timers[timer] = nil
        switch timer {
        case .t303:
            if state == originatingSetupSent, !t303Retransmitted, !setup.isEmpty {
                t303Retransmitted = true
                send(.setup, setup, &out)
                start(.t303, context, &out)
            } else {
                stopAllTimers(&out)
                let cause = clearingCause ?? (role == .user ? .recoveryOnTimerExpiry : .noUserResponding)
                send(.releaseComplete, context.configuration.causeElements(.recoveryOnTimerExpiry), &out)
                finish(cause: cause, &out)
            }
        case .t302:
            if collectedDigitOctets.isEmpty {
                _ = disconnect(cause: .invalidNumberFormat, context, &out)
            } else {
                sendFirstResponse(.callProceeding, [], context, &out)
                state = terminatingProceeding
                out.append(.indication(.digitsComplete(id, calledNumber: collectedDigits)))
            }
        case .t304:
            _ = disconnect(cause: .recoveryOnTimerExpiry, context, &out)
        case .t310:
            _ = disconnect(cause: role == .user ? .recoveryOnTimerExpiry : .noUserResponding, context, &out)
        case .t313:
            _ = disconnect(cause: .recoveryOnTimerExpiry, context, &out)
        case .t301:
            _ = disconnect(cause: .noAnswerFromUser, context, &out)
        case .t305:
            // Q.931 §5.3.3: RELEASE carries the cause of the DISCONNECT that went unanswered.
            let cause = clearingCause ?? .normalCallClearing
            sendRelease(.cause(cause), context, &out)
        case .t308:
            if !t308Retransmitted, let releaseSent {
                t308Retransmitted = true
                send(.release, releaseElements(releaseSent, context), &out)
                start(.t308, context, &out)
            } else {
                // Q.931 would hold the B-channel for maintenance; we free it and let RESTART fix any mismatch.
                stopAllTimers(&out)
                finish(cause: clearingCause ?? .recoveryOnTimerExpiry, &out)
            }
        case .t322:
            if !t322Retransmitted {
                t322Retransmitted = true
                send(.statusEnquiry, [], &out)
                start(.t322, context, &out)
            } else {
                _ = release(cause: .temporaryFailure, context, &out)
            }
        case .t309:
            // The data link did not come back: the call is lost (Q.931 §5.8.9).
            stopAllTimers(&out)
            finish(cause: .temporaryFailure, &out)
        case .t318:
            // Q.931 §5.6.4: no answer to RESUME, clear the new call reference.
            _ = release(cause: .recoveryOnTimerExpiry, context, &out)
        case .t319:
            state = .active
            out.append(.indication(.suspendRejected(id, cause: .recoveryOnTimerExpiry)))
        case .t316:
            break
        }
        return true
    }

    // MARK: - Interface-driven events

    /// Data link lost: active calls wait for T309, others are cleared without messages.
    mutating func dataLinkLost(_ context: Q931Context, _ out: inout some Q931ActionSink) {
        if state == .active {
            if timers[.t309] == nil {
                start(.t309, context, &out)
            }
        } else {
            stopAllTimers(&out)
            finish(cause: .temporaryFailure, &out)
        }
    }

    /// Data link back: stop T309 and tell the far side where we are (Q.931 §5.8.9).
    mutating func dataLinkRestored(_ context: Q931Context, _ out: inout some Q931ActionSink) {
        stop(.t309, &out)
        sendStatus(cause: .normalUnspecified, diagnostics: [], context, &out)
    }

    /// Cleared locally by a RESTART: no messages, only the indication.
    mutating func clearForRestart(_ out: inout some Q931ActionSink) {
        stopAllTimers(&out)
        finish(cause: .temporaryFailure, &out)
    }

    /// A channel-conflicting incoming call took our channel (glare, network side wins).
    mutating func loseChannelToGlare() {
        channel = nil
    }

    // MARK: - Sending

    private mutating func sendFirstResponse(
        _ type: Q931MessageType, _ elements: [Q931InformationElement], _ context: Q931Context, _ out: inout some Q931ActionSink
    ) {
        guard !firstResponseSent, let channel else {
            firstResponseSent = true
            send(type, elements, &out)
            return
        }
        // The first answer to a SETUP fixes the B-channel (Q.931 §5.1.2, §5.2.3).
        if elements.isEmpty {
            firstResponseSent = true
            send(type, Q931CallSettings.exclusiveChannelElements(channel), &out)
            return
        }
        var all: [Q931InformationElement] = []
        all.reserveCapacity(elements.count + 1)
        all.append(.channelIdentification(.primary(channel: channel, exclusive: true)))
        all.append(contentsOf: elements)
        firstResponseSent = true
        send(type, all, &out)
    }

    private mutating func sendRelease(_ contents: Q931ReleaseContents, _ context: Q931Context, _ out: inout some Q931ActionSink) {
        releaseSent = contents
        t308Retransmitted = false
        send(.release, releaseElements(contents, context), &out)
        state = .releaseRequest
        start(.t308, context, &out)
    }

    private func releaseElements(_ contents: Q931ReleaseContents, _ context: Q931Context) -> [Q931InformationElement] {
        switch contents {
        case .none: return []
        case .cause(let cause): return context.configuration.causeElements(cause)
        case .causeWithDiagnostic(let cause, let diagnostic): return [.cause(causeElement(cause, context, diagnostics: [diagnostic]))]
        }
    }

    private func sendStatus(cause: Q850Cause, diagnostics: [UInt8], _ context: Q931Context, _ out: inout some Q931ActionSink) {
        send(.status, [
            .cause(causeElement(cause, context, diagnostics: diagnostics)),
            .callState(CallStateElement(value: state.rawValue)),
        ], &out)
    }

    /// STATUS for a problem found by the interface in an otherwise handled message.
    func reportProblem(cause: Q850Cause, diagnostics: [UInt8], _ context: Q931Context, _ out: inout some Q931ActionSink) {
        guard state != .null else { return }
        sendStatus(cause: cause, diagnostics: diagnostics, context, &out)
    }

    private func send(_ type: Q931MessageType, _ elements: [Q931InformationElement], _ out: inout some Q931ActionSink) {
        out.send(Q931Message(type, callReference: callReference, informationElements: elements))
    }

    private func causeElement(_ cause: Q850Cause, _ context: Q931Context, diagnostics: [UInt8] = []) -> CauseElement {
        CauseElement(cause, location: context.configuration.causeLocation, diagnostics: diagnostics)
    }

    // MARK: - Timer bookkeeping

    /// Inlined so that, with the timer a constant, its slot is worked out at compile time.
    @inline(__always)
    private mutating func start(_ timer: Q931Timer, _ context: Q931Context, _ out: inout some Q931ActionSink) {
        guard let deadline = context.configuration.deadline(of: timer, from: context.now) else { return }
        timers[timer] = deadline
        if reportsTimers { out.append(.startTimer(.call(id, timer), deadline: deadline)) }
    }

    /// Inlined so that, with the timer a constant, a timer not running costs a bit test.
    @inline(__always)
    private mutating func stop(_ timer: Q931Timer, _ out: inout some Q931ActionSink) {
        guard timers.isRunning(timer) else { return }
        stopRunning(timer, &out)
    }

    private mutating func stopRunning(_ timer: Q931Timer, _ out: inout some Q931ActionSink) {
        timers[timer] = nil
        if reportsTimers { out.append(.stopTimer(.call(id, timer))) }
    }

    private mutating func stopAllTimers(_ out: inout some Q931ActionSink) {
        // Ascending bit order is Q931Timer's declaration order, as before.
        var running = timers.running
        while running != 0 {
            let index = running.trailingZeroBitCount
            running &= running - 1
            stop(Q931CallTimers.timers[index], &out)
        }
    }

    private mutating func finish(cause: Q850Cause, _ out: inout some Q931ActionSink) {
        state = .null
        out.append(.indication(.cleared(id, cause: cause, channel: channel)))
    }
}

/// The elements of a RELEASE a call sends: none, a Cause with our location, or one with a
/// diagnostic octet (the identifier of the element that was missing or wrong).
enum Q931ReleaseContents: Sendable {
    case none
    case cause(Q850Cause)
    case causeWithDiagnostic(Q850Cause, UInt8)
}
