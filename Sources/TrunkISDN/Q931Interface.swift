/// Q.931 call control for one PRI interface: routes messages to calls by call reference,
/// allocates call references and B-channels, and runs the procedures that span calls
/// (unknown call references, RESTART, data link failure).
///
/// Pure state machine: every input takes `now` and returns the actions to carry out in order.
public struct Q931Interface: Sendable {
    public private(set) var configuration: Q931Configuration
    var calls = Q931CallTable()
    /// Received messages are decoded into this value, so its storage is reused.
    private var receiveMessage = Q931Message.empty
    private var nextCallReference: UInt16 = 1
    public private(set) var isDataLinkUp = false
    /// A DL-ESTABLISH request is outstanding, so another is not needed.
    private var establishRequested = false
    var pendingRestart: PendingRestart?
    var queuedRestarts: [[UInt8]?] = []
    public internal(set) var counters = Q931Counters()

    /// Our RESTART waiting for its acknowledgement.
    struct PendingRestart: Sendable {
        var channels: [UInt8]?
        var message: Q931Message
        var attempts: Int
        var deadline: ISDNInstant
    }

    /// What calls need of `configuration`, worked out once.
    var callSettings: Q931CallSettings

    /// `configuration.bChannels` as a bit set (they never change), so a channel check is one
    /// bit test, not a search of the list.
    private let bChannelMask: ChannelMask

    public init(configuration: Q931Configuration) {
        self.configuration = configuration
        self.callSettings = Q931CallSettings(configuration)
        var mask = ChannelMask()
        for channel in configuration.bChannels { mask.insert(channel) }
        self.bChannelMask = mask
    }

    /// New timer values (T301…T322, N316) for a running interface: calls keep their running
    /// timers, the next timer started uses the new value. Role, channels and call reference
    /// length stay as they are.
    public mutating func retime(_ timers: Q931Configuration) {
        var updated = configuration
        updated.t301 = timers.t301
        updated.t302 = timers.t302
        updated.t303 = timers.t303
        updated.t304 = timers.t304
        updated.t305 = timers.t305
        updated.t308 = timers.t308
        updated.t309 = timers.t309
        updated.t310 = timers.t310
        updated.t313 = timers.t313
        updated.t316 = timers.t316
        updated.n316 = timers.n316
        updated.t318 = timers.t318
        updated.t319 = timers.t319
        updated.t322 = timers.t322
        configuration = updated
        callSettings = Q931CallSettings(updated)
    }

    // MARK: - Queries

    public func state(of call: Q931CallID) -> Q931CallState {
        calls[call]?.state ?? .null
    }

    public func channel(of call: Q931CallID) -> UInt8? {
        calls[call]?.channel
    }

    public var callIDs: [Q931CallID] {
        calls.keys.sorted { ($0.isOutgoing ? 1 : 0, $0.callReference) < ($1.isOutgoing ? 1 : 0, $1.callReference) }
    }

    /// Channels held by calls or by a restart under way.
    public var busyChannels: Set<UInt8> {
        let mask = busyChannelMask()
        return Set((0...127).lazy.map(UInt8.init).filter(mask.contains))
    }

    /// Channels held by calls or by a restart under way, as a bit set: the calls' part is kept
    /// by the call table as channels are taken and freed.
    func busyChannelMask() -> ChannelMask {
        var busy = calls.occupiedChannels
        if let pendingRestart {
            for channel in pendingRestart.channels ?? configuration.bChannels { busy.insert(channel) }
        }
        return busy
    }

    /// A free B-channel. The network hunts from the top and the user from the bottom, so that
    /// both sides seizing at once rarely pick the same channel.
    func freeChannel() -> UInt8? {
        let busy = busyChannelMask()
        return configuration.role == .network
            ? configuration.bChannels.last { !busy.contains($0) }
            : configuration.bChannels.first { !busy.contains($0) }
    }

    func context(_ now: ISDNInstant) -> Q931Context {
        Q931Context(configuration: callSettings, now: now)
    }

    // MARK: - Data link

    /// DL-ESTABLISH indication or confirm.
    public mutating func dataLinkEstablished(now: ISDNInstant) -> [Q931Action] {
        var out: [Q931Action] = []
        out.reserveCapacity(6)
        dataLinkEstablished(now: now, into: &out)
        return out
    }

    /// DL-ESTABLISH indication or confirm, appending the actions to `out`.
    public mutating func dataLinkEstablished(now: ISDNInstant, into out: inout some Q931ActionSink) {
        let start = out.tally
        let wasUp = isDataLinkUp
        isDataLinkUp = true
        establishRequested = false
        let context = context(now)
        for id in callIDs {
            guard var call = calls[id] else { continue }
            // After a loss, or a reset of a link that was up, frames may have been lost:
            // tell the far side our state so it can spot a mismatch (Q.931 §5.8.8, §5.8.9).
            if call.timers[.t309] != nil || (wasUp && call.state == .active) {
                call.dataLinkRestored(context, &out)
            }
            store(call)
        }
        finish(&out, since: start)
    }

    /// DL-RELEASE indication (`reestablish` true) or confirm of a release we asked for (false).
    public mutating func dataLinkReleased(now: ISDNInstant, reestablish: Bool = true) -> [Q931Action] {
        var out: [Q931Action] = []
        out.reserveCapacity(6)
        dataLinkReleased(now: now, reestablish: reestablish, into: &out)
        return out
    }

    /// DL-RELEASE indication or confirm, appending the actions to `out`.
    public mutating func dataLinkReleased(now: ISDNInstant, reestablish: Bool = true, into out: inout some Q931ActionSink) {
        let start = out.tally
        isDataLinkUp = false
        // Any establishment we asked for has ended with this release; ask again (Q.931 §5.8.9).
        establishRequested = false
        let context = context(now)
        for id in callIDs {
            guard var call = calls[id] else { continue }
            call.dataLinkLost(context, &out)
            store(call)
        }
        if reestablish {
            requestDataLink(&out)
        }
        finish(&out, since: start)
    }

    private mutating func requestDataLink(_ out: inout some Q931ActionSink) {
        guard !isDataLinkUp, !establishRequested else { return }
        establishRequested = true
        out.append(.establishDataLink)
    }

    // MARK: - Messages from the far side

    /// DL-DATA indication: a received Q.931 message as octets.
    public mutating func messageReceived(_ bytes: ArraySlice<UInt8>, now: ISDNInstant) -> [Q931Action] {
        var out: [Q931Action] = []
        out.reserveCapacity(6)
        messageReceived(bytes, now: now, into: &out)
        return out
    }

    /// DL-DATA indication, appending the actions to `out`. The message is decoded into a
    /// value the interface keeps, so steady-state decoding does not allocate.
    public mutating func messageReceived(_ bytes: ArraySlice<UInt8>, now: ISDNInstant, into out: inout some Q931ActionSink) {
        bytes.withUnsafeBufferPointer { messageReceived(octets: $0, now: now, into: &out) }
    }

    /// DL-DATA indication of octets the caller holds for the duration of the call (the stack
    /// passes a received frame's payload in place, with no reference to retain).
    mutating func messageReceived(octets: UnsafeBufferPointer<UInt8>, now: ISDNInstant, into out: inout some Q931ActionSink) {
        // Swapped out and back, so the element storage is neither retained nor released; the
        // placeholder holds no storage. (Copying it out and putting `Q931Message.empty` in its
        // place cost three retains, two releases and a lazy-global check per message.)
        var message = Q931Message(Q931MessageType(rawValue: 0), callReference: Q931CallReference(value: 0, flag: false, length: 0))
        swap(&message, &receiveMessage)
        defer { swap(&message, &receiveMessage) }
        messageReceived(octets: octets, decodingInto: &message, now: now, into: &out)
    }

    /// `messageReceived(octets:now:into:)`, decoding into `message`, a value the caller keeps
    /// from message to message so its element storage is reused (`PRIDChannel` keeps one apart
    /// from the interface, which spares swapping the interface's own in and out).
    mutating func messageReceived(
        octets: UnsafeBufferPointer<UInt8>, decodingInto message: inout Q931Message, now: ISDNInstant,
        into out: inout some Q931ActionSink
    ) {
        var summary = Q931ElementSummary()
        do {
            try Q931Message.decode(octets: octets, into: &message, summary: &summary)
        } catch {
            counters.messagesReceived += 1
            counters.protocolErrors += 1
            out.append(.protocolError(.undecodable(error)))
            return
        }
        received(message, summary, now: now, &out)
    }

    public mutating func messageReceived(_ message: Q931Message, now: ISDNInstant) -> [Q931Action] {
        var out: [Q931Action] = []
        out.reserveCapacity(6)
        messageReceived(message, now: now, into: &out)
        return out
    }

    /// A decoded message, appending the actions to `out`.
    public mutating func messageReceived(_ message: Q931Message, now: ISDNInstant, into out: inout some Q931ActionSink) {
        received(message, Q931ElementSummary(message.informationElements), now: now, &out)
    }

    /// A decoded message whose elements `summary` describes (see `Q931ElementCheck`).
    private mutating func received(
        _ message: borrowing Q931Message, _ summary: Q931ElementSummary, now: ISDNInstant, _ out: inout some Q931ActionSink
    ) {
        counters.messagesReceived += 1
        let start = out.tally
        defer { finish(&out, since: start) }
        let callReference = message.callReference
        guard message.protocolDiscriminator == Q931Message.callControlProtocolDiscriminator, !callReference.isDummy else {
            out.append(.protocolError(.ignoredMessage(message.messageType, callReference)))
            return
        }
        if callReference.isGlobal {
            globalMessageReceived(message, now: now, &out)
            return
        }
        // The flag is set on messages towards the side that allocated the reference: us.
        let id = Q931CallID(callReference: callReference.value, isOutgoing: callReference.flag)
        guard let index = calls.index(of: id) else {
            unknownCallReference(message, summary, now: now, &out)
            return
        }
        let context = context(now)
        guard Q931MessageType.isCallControlType(message.messageType) else {
            out.append(.protocolError(.ignoredMessage(message.messageType, callReference)))
            calls[index].reportProblem(cause: .messageTypeNonExistent, diagnostics: [message.messageType.rawValue], context, &out)
            return
        }
        let check = Q931ElementCheck(message, summary)
        let type = message.messageType
        let isClearing = type == .disconnect || type == .release || type == .releaseComplete
        if let fatal = check.fatal, !isClearing {
            out.append(.protocolError(fatal.error(message.messageType)))
            // A broken STATUS is dropped silently so two stacks cannot trade STATUS messages forever.
            if message.messageType != .status {
                calls[index].reportProblem(cause: fatal.cause, diagnostics: [fatal.identifier], context, &out)
            }
            return
        }
        let verdict = channelVerdict(forCallAt: index, message)
        // Only an assigned channel or a resumed call moves a call to another channel.
        if case .keep = verdict, type != .resumeAcknowledge {
            calls[index].receive(message, channelVerdict: verdict, context, &out)
        } else {
            let channelBefore = calls.storage[index].channel
            calls[index].receive(message, channelVerdict: verdict, context, &out)
            calls.channelChanged(at: index, from: channelBefore)
        }
        if let optional = check.optional, !isClearing {
            out.append(.protocolError(optional.error(message.messageType)))
            calls[index].reportProblem(cause: optional.cause, diagnostics: optional.identifiers, context, &out)
        }
        calls.removeIfFinished(at: index)
    }

    /// Q.931 §5.8.3.2: what to do with a message for a call reference we do not know.
    private mutating func unknownCallReference(
        _ message: borrowing Q931Message, _ summary: Q931ElementSummary, now: ISDNInstant, _ out: inout some Q931ActionSink
    ) {
        let reply = message.callReference.flipped
        switch message.messageType {
        case .setup where !message.callReference.flag:
            admitSetup(message, summary, now: now, &out)
            return
        case .releaseComplete:
            break
        case .statusEnquiry:
            out.append(.send(Q931Message(.status, callReference: reply, informationElements: [
                .cause(CauseElement(.responseToStatusEnquiry, location: configuration.causeLocation)),
                .callState(CallStateElement(value: 0)),
            ])))
        case .status:
            if let farState = message.callState?.value, farState != 0 {
                out.append(.send(releaseComplete(reply, cause: .messageNotCompatibleWithState)))
            }
        case .setup:
            break
        case .resume where !message.callReference.flag && configuration.role == .network:
            out.append(.send(Q931Message(.resumeReject, callReference: reply, informationElements: [
                .cause(CauseElement(.facilityNotImplemented, location: configuration.causeLocation)),
            ])))
            return
        default:
            out.append(.send(releaseComplete(reply, cause: .invalidCallReference)))
        }
        out.append(.protocolError(.unknownCallReference(message.messageType, message.callReference)))
    }

    private func releaseComplete(_ callReference: Q931CallReference, cause: Q850Cause, diagnostics: [UInt8] = []) -> Q931Message {
        Q931Message(.releaseComplete, callReference: callReference, informationElements: [
            .cause(CauseElement(cause, location: configuration.causeLocation, diagnostics: diagnostics)),
        ])
    }

    // MARK: - Incoming SETUP

    private mutating func admitSetup(
        _ setup: borrowing Q931Message, _ summary: Q931ElementSummary, now: ISDNInstant, _ out: inout some Q931ActionSink
    ) {
        let reply = setup.callReference.flipped
        let check = Q931ElementCheck(setup, summary)
        if let fatal = check.fatal {
            out.append(.protocolError(fatal.error(.setup)))
            out.append(.send(releaseComplete(reply, cause: fatal.cause, diagnostics: [fatal.identifier])))
            return
        }
        let channel: UInt8
        switch chooseChannel(for: setup) {
        case .failure(let cause):
            out.append(.send(releaseComplete(reply, cause: cause)))
            return
        case .success(let chosen, let evicted):
            channel = chosen
            if let evicted, var loser = calls[evicted] {
                loser.loseChannelToGlare()
                calls[evicted] = loser
            }
        }
        let id = Q931CallID(callReference: setup.callReference.value, isOutgoing: false)
        let index = calls.insertNew(Q931Call.incoming(
            id: id, setup: setup, channel: channel, configuration: configuration, reportsTimers: callSettings.reportsTimerActions))
        counters.incomingCalls += 1
        let offer = calls.offer(at: index, Q931IncomingCall.Fields(
            id: id,
            calledNumber: setup.calledPartyNumber,
            callingNumber: setup.callingPartyNumber,
            redirectingNumber: setup.redirectingNumber,
            channel: channel,
            bearerCapability: setup.bearerCapability ?? .speechALaw,
            sendingComplete: setup.hasSendingComplete,
            display: setup.display))
        out.append(.indication(.incomingCall(offer)))
        if let optional = check.optional {
            out.append(.protocolError(optional.error(.setup)))
            calls[index].reportProblem(cause: optional.cause, diagnostics: optional.identifiers, context(now), &out)
        }
    }

    enum ChannelChoice {
        case success(UInt8, evicting: Q931CallID?)
        case failure(Q850Cause)
    }

    /// Q.931 §5.1.2/§5.2.3.1 channel selection for an offered call, including glare.
    private func chooseChannel(for setup: Q931Message) -> ChannelChoice {
        let identification = setup.channelIdentification
        guard let identification, case .channelNumbers(let numbers) = identification.selection, let wanted = numbers.first else {
            return anyFreeChannel()
        }
        let exclusive = identification.exclusive
        guard bChannelMask.contains(wanted) else {
            return exclusive ? .failure(.identifiedChannelDoesNotExist) : anyFreeChannel()
        }
        let busy = busyChannelMask()
        if !busy.contains(wanted) {
            return .success(wanted, evicting: nil)
        }
        // Glare: our own SETUP for this channel is still unanswered. The network side wins, so
        // the user yields the channel and its call waits for the network to name another one.
        if configuration.role == .user, exclusive,
           let holderID = calls.storage.first(where: { $0.channel == wanted && $0.state == .callInitiated && $0.id.isOutgoing })?.id {
            return .success(wanted, evicting: holderID)
        }
        return exclusive ? .failure(.requestedChannelNotAvailable) : anyFreeChannel()
    }

    private func anyFreeChannel() -> ChannelChoice {
        guard let channel = freeChannel() else { return .failure(.noCircuitAvailable) }
        return .success(channel, evicting: nil)
    }

    /// The channel named by the far side's answer to our SETUP, judged against our request and
    /// the other calls.
    ///
    /// `mutating` although it changes nothing: called from `messageReceived` as a plain
    /// method it was handed a copy of the whole interface (about 600 bytes) for every
    /// message; as a mutating one it works on the interface in place.
    private mutating func channelVerdict(forCallAt index: Int, _ message: Q931Message) -> Q931ChannelVerdict {
        let type = message.messageType
        guard calls.storage[index].id.isOutgoing, type == .setupAcknowledge || type == .callProceeding || type == .alerting || type == .connect,
              let identification = message.channelIdentification,
              case .channelNumbers(let numbers) = identification.selection, let named = numbers.first
        else { return .keep }
        guard bChannelMask.contains(named) else { return .reject(.identifiedChannelDoesNotExist) }
        let channel = calls.storage[index].channel
        if named == channel { return .keep }
        if calls.storage[index].requestedExclusive, channel != nil { return .reject(.channelUnacceptable) }
        // `named` is not this call's channel, so whoever holds it is another call (or a restart).
        if busyChannelMask().contains(named) { return .reject(.requestedChannelNotAvailable) }
        return .assign(named)
    }

    // MARK: - Primitives from the layer above

    /// Places a call: allocates a call reference and a B-channel and sends SETUP.
    /// The returned identifier names the call in later requests and indications; if no call
    /// reference is free it is nil.
    public mutating func setupRequest(_ request: Q931SetupRequest, now: ISDNInstant) -> (call: Q931CallID?, actions: [Q931Action]) {
        var out: [Q931Action] = []
        out.reserveCapacity(6)
        let call = setupRequest(request, now: now, into: &out)
        return (call, out)
    }

    /// Places a call, appending the actions to `out`; see `setupRequest(_:now:)`.
    public mutating func setupRequest(_ request: Q931SetupRequest, now: ISDNInstant, into out: inout some Q931ActionSink) -> Q931CallID? {
        guard let reference = allocateCallReference() else {
            // Returned uncounted, as the array form always did.
            out.append(.protocolError(.noCallReferenceAvailable))
            return nil
        }
        let start = out.tally
        defer { finish(&out, since: start) }
        let id = Q931CallID(callReference: reference, isOutgoing: true)
        var channel = request.channel
        if let wanted = channel, !bChannelMask.contains(wanted) || busyChannelMask().contains(wanted) {
            if request.exclusive {
                let cause: Q850Cause = bChannelMask.contains(wanted) ? .requestedChannelNotAvailable : .identifiedChannelDoesNotExist
                out.append(.indication(.cleared(id, cause: cause, channel: nil)))
                return id
            }
            channel = nil
        }
        if channel == nil {
            channel = freeChannel()
        }
        guard channel != nil else {
            out.append(.indication(.cleared(id, cause: .noCircuitAvailable, channel: nil)))
            return id
        }
        requestDataLink(&out)
        let context = context(now)
        let index = calls.insertNew(Q931Call.outgoing(id: id, request: request, channel: channel, context: context))
        calls.withSetupElements(at: index) { call, elements in call.sendSetup(request, context, elements: &elements, &out) }
        counters.outgoingCalls += 1
        return id
    }

    private mutating func allocateCallReference() -> UInt16? {
        let maximum: UInt16 = configuration.callReferenceLength >= 2 ? 0x7FFF : 0x7F
        for _ in 0..<Int(maximum) {
            let candidate = nextCallReference
            nextCallReference = candidate >= maximum ? 1 : candidate + 1
            if !calls.contains(Q931CallID(callReference: candidate, isOutgoing: true)) {
                return candidate
            }
        }
        return nil
    }

    /// Overlap receiving: ask the caller for more digits.
    public mutating func setupAcknowledge(_ call: Q931CallID, now: ISDNInstant) -> [Q931Action] {
        withCall(call, now) { call, context, out in call.setupAcknowledge(context, &out) }
    }

    /// `setupAcknowledge`, appending the actions to `out` (no array per request).
    public mutating func setupAcknowledge(_ call: Q931CallID, now: ISDNInstant, into out: inout some Q931ActionSink) {
        withCall(call, now, into: &out) { call, context, out in call.setupAcknowledge(context, &out) }
    }

    /// The number is complete and the call is being routed (CALL PROCEEDING).
    public mutating func proceeding(_ call: Q931CallID, now: ISDNInstant) -> [Q931Action] {
        withCall(call, now) { call, context, out in call.proceeding(context, &out) }
    }

    /// `proceeding`, appending the actions to `out` (no array per request).
    public mutating func proceeding(_ call: Q931CallID, now: ISDNInstant, into out: inout some Q931ActionSink) {
        withCall(call, now, into: &out) { call, context, out in call.proceeding(context, &out) }
    }

    /// The called party is being alerted; `inBandInformation` when we play ringback ourselves.
    public mutating func alerting(_ call: Q931CallID, inBandInformation: Bool = false, now: ISDNInstant) -> [Q931Action] {
        withCall(call, now) { call, context, out in call.alerting(inBandInformation: inBandInformation, context, &out) }
    }

    /// `alerting`, appending the actions to `out` (no array per request).
    public mutating func alerting(_ call: Q931CallID, inBandInformation: Bool = false, now: ISDNInstant, into out: inout some Q931ActionSink) {
        withCall(call, now, into: &out) { call, context, out in call.alerting(inBandInformation: inBandInformation, context, &out) }
    }

    /// Answer an offered call.
    public mutating func connect(_ call: Q931CallID, connectedNumber: PartyNumber? = nil, now: ISDNInstant) -> [Q931Action] {
        withCall(call, now) { call, context, out in call.connect(connectedNumber: connectedNumber, context, &out) }
    }

    /// `connect`, appending the actions to `out` (no array per request).
    public mutating func connect(_ call: Q931CallID, connectedNumber: PartyNumber? = nil, now: ISDNInstant, into out: inout some Q931ActionSink) {
        withCall(call, now, into: &out) { call, context, out in call.connect(connectedNumber: connectedNumber, context, &out) }
    }

    /// Overlap sending: more digits for a call the far side acknowledged with SETUP ACKNOWLEDGE.
    /// More digits than a called party number holds (`PartyNumber.maximumDigitCount`) are refused
    /// with an `encodingFailed` protocol error and nothing is sent.
    public mutating func information(_ call: Q931CallID, digits: String, sendingComplete: Bool = false, now: ISDNInstant) -> [Q931Action] {
        guard PartyNumber.fits(digits) else {
            counters.protocolErrors += 1
            return [.protocolError(.encodingFailed(.elementTooLong(
                identifier: Q931ElementIdentifier.calledPartyNumber, length: IA5.count(digits))))]
        }
        return withCall(call, now) { call, context, out in call.information(digits: digits, sendingComplete: sendingComplete, context, &out) }
    }

    /// Clear a call (rejects an offered call that has not been answered yet).
    public mutating func disconnect(_ call: Q931CallID, cause: Q850Cause, now: ISDNInstant) -> [Q931Action] {
        withCall(call, now) { call, context, out in call.disconnect(cause: cause, context, &out) }
    }

    /// `disconnect`, appending the actions to `out` (no array per request).
    public mutating func disconnect(_ call: Q931CallID, cause: Q850Cause, now: ISDNInstant, into out: inout some Q931ActionSink) {
        withCall(call, now, into: &out) { call, context, out in call.disconnect(cause: cause, context, &out) }
    }

    /// Send RELEASE: after a DISCONNECT when `releaseOnDisconnect` is off, or to clear at once.
    public mutating func release(_ call: Q931CallID, cause: Q850Cause = .normalCallClearing, now: ISDNInstant) -> [Q931Action] {
        withCall(call, now) { call, context, out in call.release(cause: cause, context, &out) }
    }

    /// `release`, appending the actions to `out` (no array per request).
    public mutating func release(_ call: Q931CallID, cause: Q850Cause = .normalCallClearing, now: ISDNInstant, into out: inout some Q931ActionSink) {
        withCall(call, now, into: &out) { call, context, out in call.release(cause: cause, context, &out) }
    }

    /// User side: park an active call (SUSPEND); `.suspended` follows when the network agrees.
    public mutating func suspend(_ call: Q931CallID, callIdentity: [UInt8] = [], now: ISDNInstant) -> [Q931Action] {
        withCall(call, now) { call, context, out in call.suspend(callIdentity: callIdentity, context, &out) }
    }

    /// User side: ask for a parked call back (RESUME) on a new call reference.
    public mutating func resume(callIdentity: [UInt8] = [], now: ISDNInstant) -> (call: Q931CallID?, actions: [Q931Action]) {
        guard configuration.role == .user, let reference = allocateCallReference() else {
            return (nil, [.protocolError(.noCallReferenceAvailable)])
        }
        let id = Q931CallID(callReference: reference, isOutgoing: true)
        var out: [Q931Action] = []
        out.reserveCapacity(6)
        requestDataLink(&out)
        calls[id] = Q931Call.resuming(id: id, callIdentity: callIdentity, context: context(now), &out)
        return (id, finish(out))
    }

    /// Ask the far side for its state of the call (T322).
    public mutating func statusEnquiry(_ call: Q931CallID, now: ISDNInstant) -> [Q931Action] {
        withCall(call, now) { call, context, out in call.statusEnquiry(context, &out) }
    }

    private mutating func withCall(
        _ id: Q931CallID, _ now: ISDNInstant,
        _ body: (inout Q931Call, Q931Context, inout [Q931Action]) -> Bool
    ) -> [Q931Action] {
        var out: [Q931Action] = []
        out.reserveCapacity(6)
        withCall(id, now, into: &out, body)
        return out
    }

    private mutating func withCall<Sink: Q931ActionSink>(
        _ id: Q931CallID, _ now: ISDNInstant, into out: inout Sink,
        _ body: (inout Q931Call, Q931Context, inout Sink) -> Bool
    ) {
        guard let index = calls.index(of: id) else {
            // Not counted: the request was the layer above's mistake, as before.
            out.append(.protocolError(.requestNotAllowed(id, nil)))
            return
        }
        let start = out.tally
        if !body(&calls[index], context(now), &out) {
            out.append(.protocolError(.requestNotAllowed(id, calls[index].state)))
        }
        calls.removeIfFinished(at: index)
        finish(&out, since: start)
    }

    // MARK: - Timers

    /// A timer the driver armed has expired. Expiries of timers since stopped or re-armed are ignored.
    public mutating func timerExpired(_ timer: Q931TimerID, now: ISDNInstant) -> [Q931Action] {
        var out: [Q931Action] = []
        out.reserveCapacity(6)
        timerExpired(timer, now: now, into: &out)
        return out
    }

    /// A timer expired, appending the actions to `out`.
    public mutating func timerExpired(_ timer: Q931TimerID, now: ISDNInstant, into out: inout some Q931ActionSink) {
        let start = out.tally
        switch timer {
        case .call(let id, let callTimer):
            guard let index = calls.index(of: id) else { return }
            // Only T303 needs the SETUP; its list is copied (a retain) for that rare expiry.
            let setup = callTimer == .t303 ? calls.setupElements[index] : []
            _ = calls[index].timerExpired(callTimer, context(now), setup: setup, &out)
            calls.removeIfFinished(at: index)
        case .restart:
            restartTimerExpired(now: now, &out)
        }
        finish(&out, since: start)
    }

    /// The running timer that expires first (per call, or the restart timer), or nil. The
    /// interface keeps every deadline itself, so a driver may ask here instead of tracking
    /// start and stop actions; a scan of the calls, which allocates nothing.
    public var nextTimer: (timer: Q931TimerID, deadline: ISDNInstant)? {
        var best: (timer: Q931TimerID, deadline: ISDNInstant)?
        if let pendingRestart {
            best = (.restart, pendingRestart.deadline)
        }
        let storage = calls.storage
        for index in storage.indices {
            guard let (timer, deadline) = storage[index].timers.earliest else { continue }
            if best == nil || deadline < best!.deadline {
                best = (.call(storage[index].id, timer), deadline)
            }
        }
        return best
    }

    // MARK: - Bookkeeping

    mutating func store(_ call: Q931Call) {
        calls[call.id] = call.isFinished ? nil : call
    }

    mutating func finish(_ out: [Q931Action]) -> [Q931Action] {
        var out = out
        finish(&out, since: Q931ActionTally())
        return out
    }

    /// Counts the messages sent and the protocol errors among the actions `out` took since it
    /// showed `start`.
    @inline(__always)
    mutating func finish(_ out: inout some Q931ActionSink, since start: Q931ActionTally) {
        let now = out.tally
        counters.messagesSent += now.messagesSent - start.messagesSent
        counters.protocolErrors += now.protocolErrors - start.protocolErrors
    }
}

/// A set of channel numbers 0-127 (the 7-bit channel number field) in two words.
struct ChannelMask: Equatable, Sendable {
    private var low: UInt64 = 0
    private var high: UInt64 = 0

    @inline(__always)
    mutating func insert(_ channel: UInt8) {
        let bit = UInt64(1) << UInt64(channel & 63)
        if channel & 64 == 0 { low |= bit } else { high |= bit }
    }

    @inline(__always)
    mutating func remove(_ channel: UInt8) {
        let bit = UInt64(1) << UInt64(channel & 63)
        if channel & 64 == 0 { low &= ~bit } else { high &= ~bit }
    }

    var count: Int { low.nonzeroBitCount + high.nonzeroBitCount }

    @inline(__always)
    func contains(_ channel: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(channel & 63)
        return (channel & 64 == 0 ? low : high) & bit != 0 && channel < 128
    }
}
