import Testing
@testable import TrunkISDN

/// Drives one Q.931 interface directly with messages, the way a peer would send them.
@Suite("Q.931 call control, driven directly")
struct Q931InterfaceTests {
    static func interface(_ role: ISDNRole, configure: (inout Q931Configuration) -> Void = { _ in }) -> Q931Interface {
        var configuration = Q931Configuration(role: role)
        configure(&configuration)
        var interface = Q931Interface(configuration: configuration)
        _ = interface.dataLinkEstablished(now: .zero)
        return interface
    }

    /// A SETUP from the peer on call reference `value` (flag 0: the peer allocated it).
    static func setup(_ value: UInt16 = 1, channel: UInt8? = 1, exclusive: Bool = true, extra: [Q931InformationElement] = [],
                      bearer: Q931InformationElement? = .bearerCapability(.speechALaw)) -> Q931Message {
        var elements: [Q931InformationElement] = []
        if let bearer { elements.append(bearer) }
        if let channel { elements.append(.channelIdentification(.primary(channel: channel, exclusive: exclusive))) }
        elements.append(.calledPartyNumber(PartyNumber(digits: "100")))
        elements.append(contentsOf: extra)
        return Q931Message(.setup, callReference: Q931CallReference(value: value, flag: false), informationElements: elements)
    }

    static func fromPeer(_ type: Q931MessageType, _ value: UInt16, weAllocated: Bool, _ elements: [Q931InformationElement] = []) -> Q931Message {
        Q931Message(type, callReference: Q931CallReference(value: value, flag: weAllocated), informationElements: elements)
    }

    static func cause(_ cause: Q850Cause) -> Q931InformationElement {
        .cause(CauseElement(cause, location: .user))
    }

    // MARK: - Unknown call references and bad messages

    @Test("RELEASE for an unknown call reference is answered with RELEASE COMPLETE cause 81")
    func unknownReferenceRelease() {
        var interface = Self.interface(.user)
        let actions = interface.messageReceived(Self.fromPeer(.release, 9, weAllocated: false, [Self.cause(.normalCallClearing)]), now: .zero)
        let reply = actions.sentMessages.first
        #expect(reply?.messageType == .releaseComplete)
        #expect(reply?.cause?.value == .invalidCallReference)
        #expect(reply?.callReference == Q931CallReference(value: 9, flag: true))
    }

    @Test("STATUS ENQUIRY for an unknown call reference gets STATUS with state 0; RELEASE COMPLETE is ignored")
    func unknownReferenceEnquiry() {
        var interface = Self.interface(.network)
        let status = interface.messageReceived(Self.fromPeer(.statusEnquiry, 4, weAllocated: true), now: .zero).sentMessages
        #expect(status.first?.messageType == .status)
        #expect(status.first?.callState?.value == 0)
        #expect(status.first?.cause?.value == .responseToStatusEnquiry)
        #expect(interface.messageReceived(Self.fromPeer(.releaseComplete, 4, weAllocated: true), now: .zero).sentMessages.isEmpty)
        let active = interface.messageReceived(Self.fromPeer(.status, 4, weAllocated: true,
            [Self.cause(.normalUnspecified), .callState(CallStateElement(value: 10))]), now: .zero).sentMessages
        #expect(active.first?.messageType == .releaseComplete)
        #expect(active.first?.cause?.value == .messageNotCompatibleWithState)
        let connect = interface.messageReceived(Self.fromPeer(.connect, 5, weAllocated: true), now: .zero).sentMessages
        #expect(connect.first?.cause?.value == .invalidCallReference)
    }

    @Test("SETUP without bearer capability: RELEASE COMPLETE cause 96; with a broken one: cause 100")
    func setupMandatoryElements() {
        var interface = Self.interface(.user)
        let missing = interface.messageReceived(Self.setup(bearer: nil), now: .zero).sentMessages
        #expect(missing.first?.messageType == .releaseComplete)
        #expect(missing.first?.cause?.value == .mandatoryInformationElementMissing)
        #expect(missing.first?.cause?.diagnostics == [0x04])
        let broken = Q931InformationElement.invalid(RawInformationElement(codeset: 0, identifier: 0x04, contents: [0x80]), .truncated)
        let invalid = interface.messageReceived(Self.setup(2, bearer: broken), now: .zero).sentMessages
        #expect(invalid.first?.cause?.value == .invalidInformationElementContents)
        #expect(interface.callIDs.isEmpty)
    }

    @Test("SETUP with an unknown comprehension-required element is refused with cause 96")
    func setupComprehensionRequired() {
        var interface = Self.interface(.user)
        let unknown = Q931InformationElement.unrecognized(RawInformationElement(codeset: 0, identifier: 0x0B, contents: [1]))
        let reply = interface.messageReceived(Self.setup(extra: [unknown]), now: .zero).sentMessages
        #expect(reply.first?.messageType == .releaseComplete)
        #expect(reply.first?.cause?.value == .mandatoryInformationElementMissing)
        #expect(reply.first?.cause?.diagnostics == [0x0B])
    }

    @Test("SETUP with an unknown optional element is accepted and answered with STATUS cause 99")
    func setupUnknownOptional() {
        var interface = Self.interface(.user)
        let unknown = Q931InformationElement.unrecognized(RawInformationElement(codeset: 0, identifier: 0x73, contents: [1]))
        let actions = interface.messageReceived(Self.setup(extra: [unknown]), now: .zero)
        #expect(actions.indications.contains { if case .incomingCall = $0 { return true } else { return false } })
        let status = actions.sentMessages.first
        #expect(status?.messageType == .status)
        #expect(status?.cause?.value == .informationElementNonExistent)
        #expect(status?.cause?.diagnostics == [0x73])
        #expect(status?.callState?.value == 6)
    }

    @Test("an offer the layer above keeps is not changed by the next call offered in its table slot, nor by its copies")
    func offersAreValues() throws {
        var interface = Self.interface(.user)
        func offer(_ actions: [Q931Action]) throws -> Q931IncomingCall {
            try #require(actions.indications.lazy.compactMap { if case .incomingCall(let offer) = $0 { offer } else { nil } }.first)
        }
        let first = try offer(interface.messageReceived(Self.setup(1, channel: 1), now: .zero))
        _ = interface.messageReceived(Self.fromPeer(.releaseComplete, 1, weAllocated: false), now: .zero)
        #expect(interface.callIDs.isEmpty, "the slot is free for the next call")
        let second = try offer(interface.messageReceived(Self.setup(2, channel: 2), now: .zero))
        #expect(first.id == Q931CallID(callReference: 1, isOutgoing: false) && first.channel == 1)
        #expect(second.id == Q931CallID(callReference: 2, isOutgoing: false) && second.channel == 2)
        var copy = second
        copy.channel = 9
        #expect(second.channel == 2 && copy.channel == 9)
        #expect(copy != second)
    }

    @Test("unknown message type on a call: STATUS cause 97; unexpected message: STATUS cause 101")
    func unknownAndUnexpectedMessages() {
        var interface = Self.interface(.user)
        _ = interface.messageReceived(Self.setup(), now: .zero)
        let strange = interface.messageReceived(Self.fromPeer(Q931MessageType(rawValue: 0x33), 1, weAllocated: false), now: .zero).sentMessages
        #expect(strange.first?.cause?.value == .messageTypeNonExistent)
        let unexpected = interface.messageReceived(Self.fromPeer(.connectAcknowledge, 1, weAllocated: false), now: .zero).sentMessages
        #expect(unexpected.first?.messageType == .status)
        #expect(unexpected.first?.cause?.value == .messageNotCompatibleWithState)
        #expect(unexpected.first?.callState?.value == 6)
    }

    @Test("STATUS ENQUIRY on a call is answered with its state")
    func statusEnquiryAnswered() {
        var interface = Self.interface(.network)
        let id = Q931CallID(callReference: 1, isOutgoing: false)
        _ = interface.messageReceived(Self.setup(), now: .zero)
        _ = interface.alerting(id, now: .zero)
        let reply = interface.messageReceived(Self.fromPeer(.statusEnquiry, 1, weAllocated: false), now: .zero).sentMessages
        #expect(reply.first?.callState?.value == 4)
        #expect(reply.first?.cause?.value == .responseToStatusEnquiry)
    }

    @Test("STATUS saying the far side is in state 0 releases the call locally")
    func statusNullClears() {
        var interface = Self.interface(.user)
        let (call, _) = interface.setupRequest(Q931SetupRequest(calledNumber: PartyNumber(digits: "1")), now: .zero)
        let id = call!
        let actions = interface.messageReceived(Self.fromPeer(.status, id.callReference, weAllocated: true,
            [Self.cause(.invalidCallReference), .callState(CallStateElement(value: 0))]), now: .seconds(1))
        #expect(actions.indications.contains(.cleared(id, cause: .invalidCallReference, channel: 1)))
        #expect(interface.callIDs.isEmpty)
    }

    @Test("our STATUS ENQUIRY is repeated once after T322, then the call is released with cause 41")
    func statusEnquiryTimeout() {
        var interface = Self.interface(.user)
        _ = interface.messageReceived(Self.setup(), now: .zero)
        let id = Q931CallID(callReference: 1, isOutgoing: false)
        _ = interface.connect(id, now: .zero)
        _ = interface.messageReceived(Self.fromPeer(.connectAcknowledge, 1, weAllocated: false), now: .zero)
        let first = interface.statusEnquiry(id, now: .seconds(1))
        #expect(first.deadline(of: .call(id, .t322)) == .seconds(5))
        let again = interface.timerExpired(.call(id, .t322), now: .seconds(5))
        #expect(again.sentMessages.map(\.messageType) == [.statusEnquiry])
        let release = interface.timerExpired(.call(id, .t322), now: .seconds(9))
        #expect(release.sentMessages.first?.messageType == .release)
        #expect(release.sentMessages.first?.cause?.value == .temporaryFailure)
    }

    // MARK: - Timers of call establishment and clearing

    @Test("T303: SETUP is sent again once, then the call is given up with cause 102 (user side)")
    func t303() throws {
        var interface = Self.interface(.user)
        let (call, actions) = interface.setupRequest(Q931SetupRequest(calledNumber: PartyNumber(digits: "1")), now: .zero)
        let id = try #require(call)
        #expect(actions.deadline(of: .call(id, .t303)) == .seconds(4))
        let retry = interface.timerExpired(.call(id, .t303), now: .seconds(4))
        #expect(retry.sentMessages.map(\.messageType) == [.setup])
        let giveUp = interface.timerExpired(.call(id, .t303), now: .seconds(8))
        #expect(giveUp.sentMessages.map(\.messageType) == [.releaseComplete])
        #expect(giveUp.indications.contains(.cleared(id, cause: .recoveryOnTimerExpiry, channel: 1)))
    }

    @Test("T303 on the network side reports no user responding (cause 18)")
    func t303Network() throws {
        var interface = Self.interface(.network)
        let (call, _) = interface.setupRequest(Q931SetupRequest(calledNumber: PartyNumber(digits: "1")), now: .zero)
        let id = try #require(call)
        _ = interface.timerExpired(.call(id, .t303), now: .seconds(4))
        let giveUp = interface.timerExpired(.call(id, .t303), now: .seconds(8))
        #expect(giveUp.indications.contains(.cleared(id, cause: .noUserResponding, channel: 31)))
    }

    @Test("T305 turns an unanswered DISCONNECT into RELEASE; T308 repeats RELEASE once, then frees the call")
    func t305AndT308() throws {
        var interface = Self.interface(.user)
        _ = interface.messageReceived(Self.setup(), now: .zero)
        let id = Q931CallID(callReference: 1, isOutgoing: false)
        _ = interface.connect(id, now: .zero)
        _ = interface.messageReceived(Self.fromPeer(.connectAcknowledge, 1, weAllocated: false), now: .zero)
        let disconnect = interface.disconnect(id, cause: .userBusy, now: .seconds(1))
        #expect(disconnect.deadline(of: .call(id, .t305)) == .seconds(31))
        #expect(interface.state(of: id) == .disconnectRequest)
        let release = interface.timerExpired(.call(id, .t305), now: .seconds(31))
        #expect(release.sentMessages.first?.messageType == .release)
        #expect(release.sentMessages.first?.cause?.value == .userBusy)
        #expect(interface.state(of: id) == .releaseRequest)
        let again = interface.timerExpired(.call(id, .t308), now: .seconds(35))
        #expect(again.sentMessages.map(\.messageType) == [.release])
        let done = interface.timerExpired(.call(id, .t308), now: .seconds(39))
        #expect(done.indications.contains(.cleared(id, cause: .userBusy, channel: 1)))
        #expect(interface.callIDs.isEmpty)
    }

    @Test("T313: no CONNECT ACKNOWLEDGE after our CONNECT clears with cause 102")
    func t313() {
        var interface = Self.interface(.user)
        _ = interface.messageReceived(Self.setup(), now: .zero)
        let id = Q931CallID(callReference: 1, isOutgoing: false)
        let connect = interface.connect(id, now: .zero)
        #expect(interface.state(of: id) == .connectRequest)
        #expect(connect.deadline(of: .call(id, .t313)) == .seconds(4))
        let expired = interface.timerExpired(.call(id, .t313), now: .seconds(4))
        #expect(expired.sentMessages.first?.messageType == .disconnect)
        #expect(expired.sentMessages.first?.cause?.value == .recoveryOnTimerExpiry)
    }

    @Test("T310 is off by default and clears with cause 102 when configured")
    func t310() throws {
        var plain = Self.interface(.user)
        let (first, _) = plain.setupRequest(Q931SetupRequest(calledNumber: PartyNumber(digits: "1")), now: .zero)
        let proceeding = plain.messageReceived(Self.fromPeer(.callProceeding, try #require(first).callReference, weAllocated: true), now: .zero)
        #expect(proceeding.deadline(of: .call(first!, .t310)) == nil)

        var timed = Self.interface(.user) { $0.t310 = .seconds(10) }
        let (second, _) = timed.setupRequest(Q931SetupRequest(calledNumber: PartyNumber(digits: "1")), now: .zero)
        let id = try #require(second)
        _ = timed.messageReceived(Self.fromPeer(.callProceeding, id.callReference, weAllocated: true), now: .zero)
        let expired = timed.timerExpired(.call(id, .t310), now: .seconds(10))
        #expect(expired.sentMessages.first?.cause?.value == .recoveryOnTimerExpiry)
    }

    @Test("T304: overlap sending with no progress clears with cause 102")
    func t304() throws {
        var interface = Self.interface(.user)
        let (call, _) = interface.setupRequest(Q931SetupRequest(calledNumber: PartyNumber(digits: "1"), sendingComplete: false), now: .zero)
        let id = try #require(call)
        let ack = interface.messageReceived(Self.fromPeer(.setupAcknowledge, id.callReference, weAllocated: true), now: .zero)
        #expect(ack.deadline(of: .call(id, .t304)) == .seconds(30))
        let info = interface.information(id, digits: "2", now: .seconds(10))
        #expect(info.deadline(of: .call(id, .t304)) == .seconds(40))
        #expect(interface.timerExpired(.call(id, .t304), now: .seconds(30)).isEmpty, "the restarted timer's old deadline is stale")
        let expired = interface.timerExpired(.call(id, .t304), now: .seconds(40))
        #expect(expired.sentMessages.first?.cause?.value == .recoveryOnTimerExpiry)
    }

    @Test("overlap sending: more digits than a called party number holds are refused, nothing is sent")
    func overlongInformationRefused() throws {
        var interface = Self.interface(.user)
        let (call, _) = interface.setupRequest(Q931SetupRequest(calledNumber: PartyNumber(digits: "1"), sendingComplete: false), now: .zero)
        let id = try #require(call)
        _ = interface.messageReceived(Self.fromPeer(.setupAcknowledge, id.callReference, weAllocated: true), now: .zero)
        let tooMany = String(repeating: "7", count: PartyNumber.maximumDigitCount + 1)
        let refused = interface.information(id, digits: tooMany, now: .seconds(1))
        #expect(refused.sentMessages.isEmpty)
        #expect(refused == [.protocolError(.encodingFailed(.elementTooLong(
            identifier: Q931ElementIdentifier.calledPartyNumber, length: PartyNumber.maximumDigitCount + 1)))])
        #expect(interface.state(of: id) == .overlapSending, "the call goes on")
        let accepted = interface.information(id, digits: String(repeating: "7", count: PartyNumber.maximumDigitCount), now: .seconds(2))
        #expect(accepted.sentMessages.first?.messageType == .information)
    }

    @Test("T301: ringing without answer clears with cause 19")
    func t301() throws {
        var interface = Self.interface(.user)
        let (call, _) = interface.setupRequest(Q931SetupRequest(calledNumber: PartyNumber(digits: "1")), now: .zero)
        let id = try #require(call)
        let alerting = interface.messageReceived(Self.fromPeer(.alerting, id.callReference, weAllocated: true), now: .zero)
        #expect(alerting.deadline(of: .call(id, .t301)) == .seconds(180))
        let expired = interface.timerExpired(.call(id, .t301), now: .seconds(180))
        #expect(expired.sentMessages.first?.cause?.value == .noAnswerFromUser)
    }

    @Test("DISCONNECT without a cause is still obeyed; RELEASE says cause 96")
    func disconnectWithoutCause() throws {
        var interface = Self.interface(.user)
        let (call, _) = interface.setupRequest(Q931SetupRequest(calledNumber: PartyNumber(digits: "1")), now: .zero)
        let id = try #require(call)
        let actions = interface.messageReceived(Self.fromPeer(.disconnect, id.callReference, weAllocated: true), now: .zero)
        #expect(actions.sentMessages.first?.messageType == .release)
        #expect(actions.sentMessages.first?.cause?.value == .mandatoryInformationElementMissing)
    }

    @Test("without automatic release, RELEASE waits for the layer above")
    func manualRelease() throws {
        var interface = Self.interface(.user) { $0.releaseOnDisconnect = false }
        let (call, _) = interface.setupRequest(Q931SetupRequest(calledNumber: PartyNumber(digits: "1")), now: .zero)
        let id = try #require(call)
        let disconnect = interface.messageReceived(Self.fromPeer(.disconnect, id.callReference, weAllocated: true,
            [Self.cause(.userBusy), .progressIndicator(ProgressIndicator(.inBandInformationAvailable, location: .publicNetworkServingRemoteUser))]), now: .zero)
        #expect(disconnect.sentMessages.isEmpty)
        #expect(interface.state(of: id) == .disconnectIndication)
        let release = interface.release(id, now: .seconds(5))
        #expect(release.sentMessages.first?.messageType == .release)
        let done = interface.messageReceived(Self.fromPeer(.releaseComplete, id.callReference, weAllocated: true), now: .seconds(5.1))
        #expect(done.indications.contains(.cleared(id, cause: .userBusy, channel: 1)))
    }

    @Test("the network aborts an unanswered outgoing call (N22) and clears it at the first response")
    func callAbort() throws {
        var interface = Self.interface(.network)
        let (call, _) = interface.setupRequest(Q931SetupRequest(calledNumber: PartyNumber(digits: "1")), now: .zero)
        let id = try #require(call)
        #expect(interface.disconnect(id, cause: .normalCallClearing, now: .seconds(1)).sentMessages.isEmpty)
        #expect(interface.state(of: id) == .callAbort)
        let response = interface.messageReceived(Self.fromPeer(.alerting, id.callReference, weAllocated: true), now: .seconds(2))
        #expect(response.sentMessages.first?.messageType == .release)
        #expect(response.sentMessages.first?.cause?.value == .normalCallClearing)
    }

    @Test("requests in the wrong state are refused, not fatal")
    func refusedRequests() {
        var interface = Self.interface(.user)
        let ghost = Q931CallID(callReference: 77, isOutgoing: true)
        #expect(interface.connect(ghost, now: .zero) == [.protocolError(.requestNotAllowed(ghost, nil))])
        _ = interface.messageReceived(Self.setup(), now: .zero)
        let id = Q931CallID(callReference: 1, isOutgoing: false)
        #expect(interface.information(id, digits: "1", now: .zero) == [.protocolError(.requestNotAllowed(id, .callPresent))])
    }

    // MARK: - Channel selection and RESTART

    @Test("channel selection for offered calls", arguments: [
        (UInt8(1), true, Q850Cause?.none, UInt8?.some(1)),
        (UInt8(2), true, Q850Cause?.some(.requestedChannelNotAvailable), UInt8?.none),
        (UInt8(2), false, Q850Cause?.none, UInt8?.some(1)),
        (UInt8(16), true, Q850Cause?.some(.identifiedChannelDoesNotExist), UInt8?.none),
        (UInt8(40), false, Q850Cause?.none, UInt8?.some(1)),
    ])
    func channelSelection(channel: UInt8, exclusive: Bool, refusal: Q850Cause?, assigned: UInt8?) {
        var interface = Self.interface(.user)
        // Channel 2 is taken by an earlier call.
        _ = interface.messageReceived(Self.setup(99, channel: 2), now: .zero)
        let actions = interface.messageReceived(Self.setup(1, channel: channel, exclusive: exclusive), now: .zero)
        if let refusal {
            #expect(actions.sentMessages.first?.cause?.value == refusal)
        } else {
            #expect(interface.channel(of: Q931CallID(callReference: 1, isOutgoing: false)) == assigned)
        }
    }

    @Test("the first response to an offered call names the chosen channel as exclusive")
    func firstResponseCarriesChannel() {
        var interface = Self.interface(.user)
        _ = interface.messageReceived(Self.setup(1, channel: nil), now: .zero)
        let id = Q931CallID(callReference: 1, isOutgoing: false)
        let proceeding = interface.proceeding(id, now: .zero).sentMessages.first
        #expect(proceeding?.channelIdentification == .primary(channel: 1, exclusive: true))
        let alerting = interface.alerting(id, now: .zero).sentMessages.first
        #expect(alerting?.channelIdentification == nil)
    }

    @Test("RESTART without restart indicator, or for channels that do not exist, gets STATUS")
    func badRestart() {
        var interface = Self.interface(.user)
        let missing = interface.messageReceived(Q931Message(.restart, callReference: .global(flag: false)), now: .zero).sentMessages
        #expect(missing.first?.messageType == .status)
        #expect(missing.first?.cause?.value == .mandatoryInformationElementMissing)
        let noChannel = interface.messageReceived(Q931Message(.restart, callReference: .global(flag: false),
            informationElements: [.restartIndicator(RestartIndicator(.indicatedChannels))]), now: .zero).sentMessages
        #expect(noChannel.first?.cause?.value == .mandatoryInformationElementMissing)
        let d16 = interface.messageReceived(Q931Message(.restart, callReference: .global(flag: false), informationElements: [
            .channelIdentification(.primary(channel: 16, exclusive: true)), .restartIndicator(RestartIndicator(.indicatedChannels)),
        ]), now: .zero).sentMessages
        #expect(d16.first?.cause?.value == .identifiedChannelDoesNotExist)
    }

    @Test("our RESTART is repeated after T316, reported failed after N316 tries, and the next one follows")
    func restartRetries() {
        var interface = Self.interface(.network)
        let first = interface.restart(channels: [9], now: .zero)
        #expect(first.sentMessages.first?.messageType == .restart)
        #expect(first.sentMessages.first?.callReference == .global(flag: false))
        #expect(first.contains(.startTimer(.restart, deadline: .seconds(120))))
        #expect(interface.busyChannels.contains(9), "a channel under restart is not offered")
        #expect(interface.restart(channels: nil, now: .seconds(1)).isEmpty, "queued behind the first")
        let again = interface.timerExpired(.restart, now: .seconds(120))
        #expect(again.sentMessages.map(\.messageType) == [.restart])
        let failed = interface.timerExpired(.restart, now: .seconds(240))
        #expect(failed.indications.contains(.restartFailed(channels: [9])))
        #expect(failed.sentMessages.first?.restartIndicator?.restartClass == .allInterfaces)
        let ack = interface.messageReceived(Q931Message(.restartAcknowledge, callReference: .global(flag: true),
            informationElements: [.restartIndicator(RestartIndicator(.allInterfaces))]), now: .seconds(241))
        #expect(ack.indications == [.restartCompleted(channels: nil)])
        #expect(interface.busyChannels.isEmpty)
    }

    @Test("data link loss clears calls that are not active, keeps active ones on T309, then clears with 41")
    func dataLinkLoss() throws {
        var interface = Self.interface(.user)
        _ = interface.messageReceived(Self.setup(1, channel: 1), now: .zero)
        let active = Q931CallID(callReference: 1, isOutgoing: false)
        _ = interface.connect(active, now: .zero)
        _ = interface.messageReceived(Self.fromPeer(.connectAcknowledge, 1, weAllocated: false), now: .zero)
        _ = interface.messageReceived(Self.setup(2, channel: 2), now: .zero)
        let ringing = Q931CallID(callReference: 2, isOutgoing: false)
        _ = interface.alerting(ringing, now: .zero)
        let lost = interface.dataLinkReleased(now: .seconds(10))
        #expect(lost.contains(.establishDataLink))
        #expect(lost.indications.contains(.cleared(ringing, cause: .temporaryFailure, channel: 2)))
        #expect(lost.deadline(of: .call(active, .t309)) == .seconds(16))
        let gone = interface.timerExpired(.call(active, .t309), now: .seconds(16))
        #expect(gone.indications.contains(.cleared(active, cause: .temporaryFailure, channel: 1)))
        #expect(gone.sentMessages.isEmpty)
    }

    @Test("STATUS states: only an answered call against early setup is incompatible")
    func stateCompatibility() {
        #expect(Q931Call.statesCompatible(local: 10, far: 10))
        #expect(Q931Call.statesCompatible(local: 8, far: 10))
        #expect(Q931Call.statesCompatible(local: 10, far: 19))
        #expect(!Q931Call.statesCompatible(local: 10, far: 3))
        #expect(!Q931Call.statesCompatible(local: 25, far: 10))
    }

    @Test("call references are allocated in turn and skip those in use")
    func callReferenceAllocation() {
        var interface = Self.interface(.user) { $0.callReferenceLength = 1; $0.bChannels = Array(1...127) }
        var seen = Set<UInt16>()
        for _ in 0..<127 {
            let (call, _) = interface.setupRequest(Q931SetupRequest(calledNumber: PartyNumber(digits: "1")), now: .zero)
            if let call { seen.insert(call.callReference) }
        }
        #expect(seen.count == 127)
        #expect(!seen.contains(0))
        let (none, actions) = interface.setupRequest(Q931SetupRequest(calledNumber: PartyNumber(digits: "1")), now: .zero)
        #expect(none == nil)
        #expect(actions == [.protocolError(.noCallReferenceAvailable)])
    }

    // MARK: - Suspend and resume (user side)

    static func activeOutgoingCall(_ interface: inout Q931Interface) throws -> Q931CallID {
        let (call, _) = interface.setupRequest(Q931SetupRequest(calledNumber: PartyNumber(digits: "1")), now: .zero)
        let id = try #require(call)
        _ = interface.messageReceived(fromPeer(.connect, id.callReference, weAllocated: true), now: .zero)
        return id
    }

    @Test("SUSPEND, SUSPEND ACKNOWLEDGE, then RESUME and RESUME ACKNOWLEDGE on a new call reference")
    func suspendAndResume() throws {
        var interface = Self.interface(.user)
        let id = try Self.activeOutgoingCall(&interface)
        let suspend = interface.suspend(id, callIdentity: [0x31], now: .seconds(1))
        #expect(suspend.sentMessages.first?.messageType == .suspend)
        #expect(suspend.sentMessages.first?.informationElements == [.callIdentity([0x31])])
        #expect(interface.state(of: id) == .suspendRequest)
        let parked = interface.messageReceived(Self.fromPeer(.suspendAcknowledge, id.callReference, weAllocated: true), now: .seconds(1.1))
        #expect(parked.indications == [.suspended(id)])
        #expect(interface.callIDs.isEmpty && interface.busyChannels.isEmpty)

        let (resumed, resumeActions) = interface.resume(callIdentity: [0x31], now: .seconds(5))
        let newID = try #require(resumed)
        #expect(resumeActions.sentMessages.first?.messageType == .resume)
        #expect(interface.state(of: newID) == .resumeRequest)
        let back = interface.messageReceived(Self.fromPeer(.resumeAcknowledge, newID.callReference, weAllocated: true,
            [.channelIdentification(.primary(channel: 12, exclusive: true))]), now: .seconds(5.1))
        #expect(back.indications == [.resumed(newID, channel: 12)])
        #expect(interface.state(of: newID) == .active)
        #expect(interface.channel(of: newID) == 12)
    }

    @Test("SUSPEND REJECT and T319 keep the call active; RESUME REJECT and T318 end the attempt")
    func suspendAndResumeRefused() throws {
        var interface = Self.interface(.user)
        let id = try Self.activeOutgoingCall(&interface)
        _ = interface.suspend(id, now: .seconds(1))
        let rejected = interface.messageReceived(Self.fromPeer(.suspendReject, id.callReference, weAllocated: true,
            [Self.cause(.facilityNotImplemented)]), now: .seconds(1.1))
        #expect(rejected.indications == [.suspendRejected(id, cause: .facilityNotImplemented)])
        #expect(interface.state(of: id) == .active)
        _ = interface.suspend(id, now: .seconds(2))
        let timeout = interface.timerExpired(.call(id, .t319), now: .seconds(6))
        #expect(timeout.indications == [.suspendRejected(id, cause: .recoveryOnTimerExpiry)])
        #expect(interface.state(of: id) == .active)

        let (first, _) = interface.resume(now: .seconds(10))
        let refused = interface.messageReceived(Self.fromPeer(.resumeReject, first!.callReference, weAllocated: true,
            [Self.cause(.callIdentityCleared)]), now: .seconds(10.1))
        #expect(refused.indications == [.cleared(first!, cause: .callIdentityCleared, channel: nil)])
        let (second, _) = interface.resume(now: .seconds(20))
        let silent = interface.timerExpired(.call(second!, .t318), now: .seconds(24))
        #expect(silent.sentMessages.first?.messageType == .release)
        #expect(silent.sentMessages.first?.cause?.value == .recoveryOnTimerExpiry)
    }

    @Test("a network side refuses SUSPEND and RESUME with cause 69")
    func networkRefusesSuspend() throws {
        var interface = Self.interface(.network)
        _ = interface.messageReceived(Self.setup(), now: .zero)
        let id = Q931CallID(callReference: 1, isOutgoing: false)
        _ = interface.connect(id, now: .zero)
        let suspend = interface.messageReceived(Self.fromPeer(.suspend, 1, weAllocated: false), now: .seconds(1)).sentMessages
        #expect(suspend.first?.messageType == .suspendReject)
        #expect(suspend.first?.cause?.value == .facilityNotImplemented)
        #expect(interface.state(of: id) == .active)
        let resume = interface.messageReceived(Self.fromPeer(.resume, 50, weAllocated: false), now: .seconds(1)).sentMessages
        #expect(resume.first?.messageType == .resumeReject)
    }
}
