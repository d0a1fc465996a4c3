import Testing
@testable import TrunkISDN

/// A network-side and a user-side stack (Q.931 over Q.921 each) cabled back to back.
@Suite("PRI calls back to back")
struct PRIBackToBackTests {
    static func startedLab() -> PRILab {
        var lab = PRILab()
        lab.start()
        lab.advance(by: .milliseconds(100))
        return lab
    }

    static let called = PartyNumber(digits: "10086", typeOfNumber: .national)
    static let calling = PartyNumber(digits: "13800138000", typeOfNumber: .national, presentation: .allowedUserNotScreened)

    /// Places a call from `side` and answers it on the other; returns both ends' ids.
    static func activeCall(_ lab: inout PRILab, from side: PRILab.Side, channel: UInt8? = nil) -> (caller: Q931CallID, callee: Q931CallID) {
        let caller = lab.setup(side, Q931SetupRequest(calledNumber: called, callingNumber: calling, channel: channel))!
        lab.settle()
        let callee = lab.incomingCall(at: side.other)!.id
        lab.request(side.other) { $0.connect(callee, now: $1) }
        lab.settle()
        return (caller, callee)
    }

    @Test("both data links come up at start")
    func linksComeUp() {
        let lab = Self.startedLab()
        #expect(lab.network.dataLink.isEstablished)
        #expect(lab.user.dataLink.isEstablished)
        #expect(lab.network.callControl.isDataLinkUp && lab.user.callControl.isDataLinkUp)
    }

    @Test("en-bloc call from the user, answered, cleared by the user with cause 16")
    func enBlocCallFromUser() throws {
        var lab = Self.startedLab()
        let placedCall = lab.setup(.user, Q931SetupRequest(calledNumber: Self.called, callingNumber: Self.calling))
        let call = try #require(placedCall)
        lab.settle()
        let offered = try #require(lab.incomingCall(at: .network))
        #expect(offered.calledNumber?.digits == "10086")
        #expect(offered.callingNumber?.digits == "13800138000")
        #expect(offered.callingNumber?.presentation?.presentation == .allowed)
        #expect(offered.sendingComplete)
        #expect(offered.channel == 1, "the user hunts from the bottom")
        #expect(lab.user.callControl.channel(of: call) == 1)

        lab.request(.network) { $0.proceeding(offered.id, now: $1) }
        lab.settle()
        #expect(lab.has(.user, .proceeding(call)))
        #expect(lab.user.callControl.state(of: call) == .outgoingCallProceeding)
        #expect(lab.network.callControl.state(of: offered.id) == .outgoingCallProceeding)

        lab.request(.network) { $0.alerting(offered.id, inBandInformation: true, now: $1) }
        lab.settle()
        #expect(lab.has(.user, .alerting(call, inBandInformation: true)))
        #expect(lab.user.callControl.state(of: call) == .callDelivered)
        #expect(lab.network.callControl.state(of: offered.id) == .callDelivered)

        lab.request(.network) { $0.connect(offered.id, now: $1) }
        lab.settle()
        #expect(lab.has(.user, .answered(call, connectedNumber: nil)))
        #expect(lab.has(.network, .connected(offered.id)))
        #expect(lab.user.callControl.state(of: call) == .active)
        #expect(lab.network.callControl.state(of: offered.id) == .active)
        #expect(lab.messages(.user, .connectAcknowledge).count == 1)

        lab.request(.user) { $0.disconnect(call, cause: .normalCallClearing, now: $1) }
        lab.settle()
        #expect(lab.has(.network, .disconnecting(offered.id, cause: .normalCallClearing)))
        #expect(lab.clearedCause(.network, offered.id) == .normalCallClearing)
        #expect(lab.clearedCause(.user, call) == .normalCallClearing)
        #expect(lab.messages(.user, .disconnect).first?.cause?.value == .normalCallClearing)
        #expect(lab.messages(.user, .disconnect).first?.cause?.location == .user)
        #expect(lab.messages(.network, .release).count == 1)
        #expect(lab.messages(.user, .releaseComplete).count == 1)
        #expect(lab.user.callControl.callIDs.isEmpty && lab.network.callControl.callIDs.isEmpty)
        #expect(lab.callControlErrors[.user]!.isEmpty && lab.callControlErrors[.network]!.isEmpty)
    }

    @Test("call from the network, answered by the user, cleared by the network with cause 16")
    func callFromNetworkClearedByNetwork() throws {
        var lab = Self.startedLab()
        let placedCall = lab.setup(.network, Q931SetupRequest(calledNumber: Self.called, callingNumber: Self.calling, exclusive: true))
        let call = try #require(placedCall)
        lab.settle()
        let offered = try #require(lab.incomingCall(at: .user))
        #expect(offered.channel == 31, "the network hunts from the top")
        #expect(lab.network.callControl.state(of: call) == .callPresent)
        #expect(lab.user.callControl.state(of: offered.id) == .callPresent)

        lab.request(.user) { $0.alerting(offered.id, now: $1) }
        lab.settle()
        #expect(lab.network.callControl.state(of: call) == .callReceived)
        #expect(lab.user.callControl.state(of: offered.id) == .callReceived)

        lab.request(.user) { $0.connect(offered.id, now: $1) }
        lab.settle()
        #expect(lab.has(.network, .answered(call, connectedNumber: nil)))
        #expect(lab.has(.user, .connected(offered.id)), "the network acknowledges CONNECT")
        #expect(lab.user.callControl.state(of: offered.id) == .active)

        lab.request(.network) { $0.disconnect(call, cause: .normalCallClearing, now: $1) }
        lab.settle()
        #expect(lab.has(.user, .disconnecting(offered.id, cause: .normalCallClearing)))
        #expect(lab.clearedCause(.user, offered.id) == .normalCallClearing)
        #expect(lab.clearedCause(.network, call) == .normalCallClearing)
        #expect(lab.messages(.network, .disconnect).first?.cause?.location == .publicNetworkServingLocalUser)
    }

    @Test("the user rejects an offered call as busy (cause 17) with RELEASE COMPLETE")
    func userBusy() throws {
        var lab = Self.startedLab()
        let placedCall = lab.setup(.network, Q931SetupRequest(calledNumber: Self.called))
        let call = try #require(placedCall)
        lab.settle()
        let offered = try #require(lab.incomingCall(at: .user))
        lab.request(.user) { $0.disconnect(offered.id, cause: .userBusy, now: $1) }
        lab.settle()
        #expect(lab.messages(.user, .releaseComplete).first?.cause?.value == .userBusy)
        #expect(lab.clearedCause(.network, call) == .userBusy)
        #expect(lab.clearedCause(.user, offered.id) == .userBusy)
    }

    @Test("the network clears a ringing call with cause 21; the user hears the cause")
    func networkRejectsAfterAlerting() throws {
        var lab = Self.startedLab()
        let placedCall = lab.setup(.user, Q931SetupRequest(calledNumber: Self.called))
        let call = try #require(placedCall)
        lab.settle()
        let offered = try #require(lab.incomingCall(at: .network))
        lab.request(.network) { $0.alerting(offered.id, now: $1) }
        lab.request(.network) { $0.disconnect(offered.id, cause: .callRejected, now: $1) }
        lab.settle()
        #expect(lab.has(.user, .disconnecting(call, cause: .callRejected)))
        #expect(lab.clearedCause(.user, call) == .callRejected)
        #expect(lab.clearedCause(.network, offered.id) == .callRejected)
    }

    @Test("overlap sending from the user: SETUP ACK, INFORMATION digits, Sending complete")
    func overlapSending() throws {
        var lab = Self.startedLab()
        let placedCall = lab.setup(.user, Q931SetupRequest(calledNumber: PartyNumber(digits: "1"), sendingComplete: false))
        let call = try #require(placedCall)
        lab.settle()
        let offered = try #require(lab.incomingCall(at: .network))
        #expect(!offered.sendingComplete)
        lab.request(.network) { $0.setupAcknowledge(offered.id, now: $1) }
        lab.settle()
        #expect(lab.has(.user, .setupAcknowledged(call)))
        #expect(lab.user.callControl.state(of: call) == .overlapSending)
        #expect(lab.network.callControl.state(of: offered.id) == .overlapSending)

        lab.request(.user) { $0.information(call, digits: "00", now: $1) }
        lab.settle()
        #expect(lab.has(.network, .moreDigits(offered.id, digits: "00", sendingComplete: false)))
        lab.request(.user) { $0.information(call, digits: "86", sendingComplete: true, now: $1) }
        lab.settle()
        #expect(lab.has(.network, .moreDigits(offered.id, digits: "86", sendingComplete: true)))
        #expect(lab.has(.network, .digitsComplete(offered.id, calledNumber: "10086")))
        #expect(lab.has(.user, .proceeding(call)), "Sending complete makes the network proceed")

        lab.request(.network) { $0.connect(offered.id, now: $1) }
        lab.settle()
        #expect(lab.user.callControl.state(of: call) == .active)
        #expect(lab.network.callControl.state(of: offered.id) == .active)
    }

    @Test("overlap receiving at the user ends with T302 and CALL PROCEEDING")
    func overlapReceivingTimeout() throws {
        var lab = Self.startedLab()
        let placedCall = lab.setup(.network, Q931SetupRequest(calledNumber: PartyNumber(digits: "4"), sendingComplete: false))
        let call = try #require(placedCall)
        lab.settle()
        let offered = try #require(lab.incomingCall(at: .user))
        lab.request(.user) { $0.setupAcknowledge(offered.id, now: $1) }
        lab.settle()
        #expect(lab.network.callControl.state(of: call) == .overlapReceiving)
        #expect(lab.user.callControl.state(of: offered.id) == .overlapReceiving)
        lab.request(.network) { $0.information(call, digits: "00", now: $1) }
        lab.settle()
        #expect(lab.has(.user, .moreDigits(offered.id, digits: "00", sendingComplete: false)))
        lab.advance(by: .seconds(16))
        #expect(lab.has(.user, .digitsComplete(offered.id, calledNumber: "400")))
        #expect(lab.has(.network, .proceeding(call)))
        #expect(lab.user.callControl.state(of: offered.id) == .incomingCallProceeding)
        #expect(lab.network.callControl.state(of: call) == .incomingCallProceeding)
    }

    @Test("overlap receiving with no digits at all is cleared with cause 28 on T302")
    func overlapReceivingNoDigits() throws {
        var lab = Self.startedLab()
        let placedCall = lab.setup(.user, Q931SetupRequest(calledNumber: PartyNumber(digits: ""), sendingComplete: false))
        let call = try #require(placedCall)
        lab.settle()
        let offered = try #require(lab.incomingCall(at: .network))
        lab.request(.network) { $0.setupAcknowledge(offered.id, now: $1) }
        lab.advance(by: .seconds(16))
        #expect(lab.clearedCause(.user, call) == .invalidNumberFormat)
        #expect(lab.clearedCause(.network, offered.id) == .invalidNumberFormat)
    }

    @Test("glare on one channel: the network wins, the user's preferred call moves to another channel")
    func glarePreferred() throws {
        var lab = Self.startedLab()
        let placedNetworkCall = lab.setup(.network, Q931SetupRequest(calledNumber: Self.called, channel: 5, exclusive: true))
        let networkCall = try #require(placedNetworkCall)
        let placedUserCall = lab.setup(.user, Q931SetupRequest(calledNumber: Self.called, channel: 5, exclusive: false))
        let userCall = try #require(placedUserCall)
        lab.settle()
        let atUser = try #require(lab.incomingCall(at: .user))
        #expect(atUser.channel == 5, "the network's call keeps the channel")
        let atNetwork = try #require(lab.incomingCall(at: .network))
        #expect(atNetwork.channel != 5)
        lab.request(.network) { $0.proceeding(atNetwork.id, now: $1) }
        lab.settle()
        #expect(lab.has(.user, .channelAssigned(userCall, channel: atNetwork.channel)))
        #expect(lab.user.callControl.channel(of: userCall) == atNetwork.channel)
        lab.request(.user) { $0.connect(atUser.id, now: $1) }
        lab.request(.network) { $0.connect(atNetwork.id, now: $1) }
        lab.settle()
        #expect(lab.network.callControl.state(of: networkCall) == .active)
        #expect(lab.user.callControl.state(of: userCall) == .active)
        #expect(lab.user.callControl.busyChannels == [5, atNetwork.channel])
    }

    @Test("glare on one channel: the user's exclusive call is cleared with cause 44")
    func glareExclusive() throws {
        var lab = Self.startedLab()
        let placedNetworkCall = lab.setup(.network, Q931SetupRequest(calledNumber: Self.called, channel: 7, exclusive: true))
        let networkCall = try #require(placedNetworkCall)
        let placedUserCall = lab.setup(.user, Q931SetupRequest(calledNumber: Self.called, channel: 7, exclusive: true))
        let userCall = try #require(placedUserCall)
        lab.settle()
        #expect(lab.clearedCause(.user, userCall) == .requestedChannelNotAvailable)
        #expect(lab.messages(.network, .releaseComplete).first?.cause?.value == .requestedChannelNotAvailable)
        let atUser = try #require(lab.incomingCall(at: .user))
        #expect(atUser.channel == 7)
        lab.request(.user) { $0.connect(atUser.id, now: $1) }
        lab.settle()
        #expect(lab.network.callControl.state(of: networkCall) == .active)
    }

    @Test("RESTART of one channel clears the call on it at both ends")
    func restartChannel() throws {
        var lab = Self.startedLab()
        let (caller, callee) = Self.activeCall(&lab, from: .user, channel: 3)
        let (other, otherCallee) = Self.activeCall(&lab, from: .user, channel: 4)
        lab.request(.network) { $0.restart(channels: [3], now: $1) }
        lab.settle()
        #expect(lab.has(.user, .restarted(channels: [3])))
        #expect(lab.has(.network, .restartCompleted(channels: [3])))
        #expect(lab.clearedCause(.user, caller) == .temporaryFailure)
        #expect(lab.clearedCause(.network, callee) == .temporaryFailure)
        #expect(lab.user.callControl.state(of: other) == .active)
        #expect(lab.network.callControl.state(of: otherCallee) == .active)
        #expect(lab.messages(.user, .restartAcknowledge).first?.channelIdentification?.channelNumber == 3)
        #expect(!lab.isTimerRunning(.network, .callControl(.restart)))
    }

    @Test("RESTART of the whole interface clears every call")
    func restartInterface() throws {
        var lab = Self.startedLab()
        let first = Self.activeCall(&lab, from: .user)
        let second = Self.activeCall(&lab, from: .network)
        lab.request(.user) { $0.restart(channels: nil, now: $1) }
        lab.settle()
        #expect(lab.has(.network, .restarted(channels: nil)))
        #expect(lab.has(.user, .restartCompleted(channels: nil)))
        for (side, id) in [(PRILab.Side.user, first.caller), (.network, first.callee), (.network, second.caller), (.user, second.callee)] {
            #expect(lab.clearedCause(side, id) == .temporaryFailure)
        }
        #expect(lab.user.callControl.callIDs.isEmpty && lab.network.callControl.callIDs.isEmpty)
    }

    @Test("T309: the data link drops and comes back; active calls survive")
    func dataLinkLossRecovered() throws {
        var lab = Self.startedLab()
        let (caller, callee) = Self.activeCall(&lab, from: .user)
        let placedRinging = lab.setup(.network, Q931SetupRequest(calledNumber: Self.called))
        let ringing = try #require(placedRinging)
        lab.settle()
        let ringingAtUser = try #require(lab.incomingCall(at: .user)).id
        lab.request(.user) { $0.alerting(ringingAtUser, now: $1) }
        lab.settle()
        lab.cableConnected = false
        // T203 (10 s), then N200 polls and N200 SABMEs at T200 (1 s) before a side declares the link down.
        var waited = 0
        while lab.linkChanges[.user]!.count < 2 && lab.linkChanges[.network]!.count < 2 && waited < 60 {
            lab.advance(by: .milliseconds(500))
            waited += 1
        }
        let downSide: PRILab.Side = lab.linkChanges[.user]!.count >= 2 ? .user : .network
        let downCall = downSide == .user ? caller : callee
        #expect(lab.linkChanges[downSide]!.last?.up == false)
        #expect(lab.isTimerRunning(downSide, .callControl(.call(downCall, .t309))))
        #expect(lab.clearedCause(downSide, downSide == .user ? ringingAtUser : ringing) == .temporaryFailure,
                "calls not yet active are cleared at once")
        #expect(lab.stateOfCall(downSide, downCall) == .active)
        lab.advance(by: .seconds(2))
        lab.cableConnected = true
        lab.advance(by: .seconds(3))
        #expect(lab.network.dataLink.isEstablished && lab.user.dataLink.isEstablished)
        #expect(!lab.isTimerRunning(.user, .callControl(.call(caller, .t309))))
        #expect(!lab.isTimerRunning(.network, .callControl(.call(callee, .t309))))
        #expect(lab.user.callControl.state(of: caller) == .active)
        #expect(lab.network.callControl.state(of: callee) == .active)
        #expect(lab.messages(downSide, .status).last?.cause?.value == .normalUnspecified)
        #expect(lab.messages(downSide, .status).last?.callState?.value == 10)
        // And the call still clears normally.
        lab.request(.network) { $0.disconnect(callee, cause: .normalCallClearing, now: $1) }
        lab.settle()
        #expect(lab.clearedCause(.user, caller) == .normalCallClearing)
        #expect(lab.clearedCause(.network, callee) == .normalCallClearing)
    }

    @Test("T309: the data link stays down; active calls are cleared with cause 41")
    func dataLinkLossPermanent() throws {
        var lab = Self.startedLab()
        let (caller, callee) = Self.activeCall(&lab, from: .network)
        lab.cableConnected = false
        lab.advance(by: .seconds(40))
        #expect(lab.clearedCause(.network, caller) == .temporaryFailure)
        #expect(lab.clearedCause(.user, callee) == .temporaryFailure)
        #expect(lab.user.callControl.callIDs.isEmpty && lab.network.callControl.callIDs.isEmpty)
        // The stack keeps trying to bring the link back.
        lab.cableConnected = true
        lab.advance(by: .seconds(10))
        #expect(lab.network.dataLink.isEstablished && lab.user.dataLink.isEstablished)
    }

    @Test("thirty simultaneous calls fill the span; the thirty-first gets cause 34")
    func fullSpan() throws {
        var lab = Self.startedLab()
        for _ in 0..<30 {
            _ = Self.activeCall(&lab, from: .network)
        }
        #expect(lab.network.callControl.busyChannels.count == 30)
        let placedExtra = lab.setup(.network, Q931SetupRequest(calledNumber: Self.called))
        let extra = try #require(placedExtra)
        #expect(lab.clearedCause(.network, extra) == .noCircuitAvailable)
        let placedFromUser = lab.setup(.user, Q931SetupRequest(calledNumber: Self.called))
        let fromUser = try #require(placedFromUser)
        #expect(lab.clearedCause(.user, fromUser) == .noCircuitAvailable)
    }

    @Test("clear collision: both sides send DISCONNECT at once")
    func clearCollision() throws {
        var lab = Self.startedLab()
        let (caller, callee) = Self.activeCall(&lab, from: .user)
        lab.request(.user) { $0.disconnect(caller, cause: .normalCallClearing, now: $1) }
        lab.request(.network) { $0.disconnect(callee, cause: .temporaryFailure, now: $1) }
        lab.settle()
        #expect(lab.clearedCause(.user, caller) == .normalCallClearing)
        #expect(lab.clearedCause(.network, callee) == .temporaryFailure)
        #expect(lab.user.callControl.callIDs.isEmpty && lab.network.callControl.callIDs.isEmpty)
    }

    @Test("a hundred calls in a row over one D-channel")
    func manyCalls() {
        var lab = Self.startedLab()
        for index in 0..<100 {
            let side: PRILab.Side = index % 2 == 0 ? .user : .network
            let (caller, callee) = Self.activeCall(&lab, from: side)
            lab.request(index % 3 == 0 ? side : side.other) { $0.disconnect(index % 3 == 0 ? caller : callee, cause: .normalCallClearing, now: $1) }
            lab.advance(by: .milliseconds(200))
        }
        #expect(lab.user.callControl.callIDs.isEmpty && lab.network.callControl.callIDs.isEmpty)
        #expect(lab.indications[.user]!.filter { if case .cleared = $0 { return true } else { return false } }.count == 100)
        #expect(lab.callControlErrors[.user]!.isEmpty && lab.callControlErrors[.network]!.isEmpty)
        #expect(lab.dataLinkErrors[.user]!.isEmpty && lab.dataLinkErrors[.network]!.isEmpty)
    }
}
