import Testing
@testable import TrunkISDN

/// What the stack does to spend fewer frames and less driver work per call: acknowledgements
/// carried by layer 3's immediate answers, and timers the stack runs itself.
@Suite("PRI stack efficiency")
struct PRIDChannelEfficiencyTests {
    static let t0 = ISDNInstant.seconds(100)

    static func frames(_ actions: [PRIAction]) -> [LAPDFrame] {
        actions.compactMap { if case .transmit(let frame) = $0 { return frame } else { return nil } }
    }

    static func messageType(_ frame: LAPDFrame) -> Q931MessageType? {
        guard case .information = frame.control else { return nil }
        return try? Q931Message.decode(frame.information).messageType
    }

    static func isReceiveReady(_ frame: LAPDFrame) -> Bool {
        if case .supervisory(.receiveReady, _, _) = frame.control { return true }
        return false
    }

    /// Hands `frames` from one stack to the other and returns what the receiver did.
    static func deliver(_ frames: [LAPDFrame], to stack: inout PRIDChannel, now: ISDNInstant) -> [PRIAction] {
        var out: [PRIAction] = []
        for frame in frames { stack.frameReceived(frame.bytes[...], now: now, into: &out) }
        return out
    }

    /// Both stacks started and their links up, every frame delivered.
    static func linkedPair() -> (network: PRIDChannel, user: PRIDChannel) {
        var network = PRIDChannel(role: .network)
        var user = PRIDChannel(role: .user)
        var toNetwork = frames(user.start(now: t0))
        var toUser = frames(network.start(now: t0))
        while !toNetwork.isEmpty || !toUser.isEmpty {
            let fromNetwork = frames(deliver(toNetwork, to: &network, now: t0))
            let fromUser = frames(deliver(toUser, to: &user, now: t0))
            toUser = fromNetwork
            toNetwork = fromUser
        }
        return (network, user)
    }

    @Test("an I frame layer 3 answers at once is acknowledged by the answer's N(R), without an RR")
    func acknowledgementRidesOnTheAnswer() throws {
        var (network, user) = Self.linkedPair()
        #expect(network.dataLink.isEstablished && user.dataLink.isEstablished)
        let request = Q931SetupRequest(calledNumber: PartyNumber(digits: "10086"), channel: 1, exclusive: true)
        let (placed, setupActions) = user.setupRequest(request, now: Self.t0)
        let call = try #require(placed)
        let setup = Self.frames(setupActions)
        #expect(setup.count == 1 && Self.messageType(setup[0]) == .setup)

        // Nobody answers SETUP within the input: the network owes an RR and sends it.
        let afterSetup = Self.deliver(setup, to: &network, now: Self.t0)
        let acknowledgements = Self.frames(afterSetup)
        #expect(acknowledgements.count == 1 && Self.isReceiveReady(acknowledgements[0]))
        let offer = try #require(afterSetup.lazy.compactMap { action -> Q931IncomingCall? in
            if case .indication(.incomingCall(let offer)) = action { return offer } else { return nil }
        }.first)
        _ = Self.deliver(acknowledgements, to: &user, now: Self.t0)

        // CONNECT is answered by CONNECT ACKNOWLEDGE in the same input: that I frame acknowledges.
        let connect = Self.frames(network.callControl(now: Self.t0) { $0.connect(offer.id, now: Self.t0) })
        #expect(connect.count == 1 && Self.messageType(connect[0]) == .connect)
        let afterConnect = Self.deliver(connect, to: &user, now: Self.t0)
        #expect(afterConnect.contains(.indication(.answered(call, connectedNumber: nil))))
        let answer = Self.frames(afterConnect)
        #expect(answer.count == 1, "CONNECT ACKNOWLEDGE only, no separate RR")
        let connectAcknowledge = try #require(answer.first)
        #expect(Self.messageType(connectAcknowledge) == .connectAcknowledge)
        guard case .information(_, let nr, _) = connectAcknowledge.control else {
            Issue.record("not an I frame: \(connectAcknowledge.control)")
            return
        }
        #expect(nr == user.dataLink.sequenceVariables.vr, "N(R) acknowledges the CONNECT")

        // And the network takes that N(R) as the acknowledgement of its CONNECT.
        _ = Self.deliver(answer, to: &network, now: Self.t0)
        #expect(network.dataLink.queuedFrameCount == 0)
        #expect(network.callControl.state(of: offer.id) == .active)
    }

    @Test("with the acknowledgement left to the driver, the call manager's answer carries N(R) and no RR is sent")
    func acknowledgementDeferredToTheDriver() throws {
        var (network, user) = Self.linkedPair()
        network.defersAcknowledgementToDriver = true
        let request = Q931SetupRequest(calledNumber: PartyNumber(digits: "10086"), channel: 3, exclusive: true)
        let setup = Self.frames(user.setupRequest(request, now: Self.t0).actions)

        // SETUP arrives: the offer goes up, and no RR comes out of the input itself.
        let afterSetup = Self.deliver(setup, to: &network, now: Self.t0)
        #expect(Self.frames(afterSetup).isEmpty, "no RR within frameReceived")
        let offer = try #require(afterSetup.lazy.compactMap { action -> Q931IncomingCall? in
            if case .indication(.incomingCall(let offer)) = action { return offer } else { return nil }
        }.first)

        // The call manager answers before the driver flushes: CALL PROCEEDING carries N(R).
        let proceeding = Self.frames(network.callControl(now: Self.t0) { $0.proceeding(offer.id, now: Self.t0) })
        #expect(proceeding.count == 1 && Self.messageType(proceeding[0]) == .callProceeding)
        guard case .information(_, let nr, _)? = proceeding.first?.control else {
            Issue.record("not an I frame: \(String(describing: proceeding.first?.control))")
            return
        }
        #expect(nr == network.dataLink.sequenceVariables.vr, "N(R) acknowledges the SETUP")
        var flushed: [PRIAction] = []
        network.sendPendingAcknowledgement(now: Self.t0, into: &flushed)
        #expect(flushed.isEmpty, "nothing is owed any more: no RR")

        // The user's SETUP is acknowledged by that N(R): nothing left outstanding.
        _ = Self.deliver(proceeding, to: &user, now: Self.t0)
        #expect(user.dataLink.queuedFrameCount == 0)

        // CONNECT ACKNOWLEDGE needs no answer: then the flush sends the RR, once.
        let connect = Self.frames(network.callControl(now: Self.t0) { $0.connect(offer.id, now: Self.t0) })
        let connectAcknowledge = Self.frames(Self.deliver(connect, to: &user, now: Self.t0))
        #expect(connectAcknowledge.compactMap(Self.messageType) == [.connectAcknowledge])
        #expect(Self.frames(Self.deliver(connectAcknowledge, to: &network, now: Self.t0)).isEmpty)
        var owed: [PRIAction] = []
        network.sendPendingAcknowledgement(now: Self.t0, into: &owed)
        let rr = Self.frames(owed)
        #expect(rr.count == 1 && Self.isReceiveReady(rr[0]))
        #expect(rr.first?.control == .supervisory(.receiveReady, nr: network.dataLink.sequenceVariables.vr, pollFinal: false))
        var again: [PRIAction] = []
        network.sendPendingAcknowledgement(now: Self.t0, into: &again)
        #expect(again.isEmpty, "one RR per owed acknowledgement")
        _ = Self.deliver(rr, to: &user, now: Self.t0)
        #expect(user.dataLink.queuedFrameCount == 0, "the RR acknowledged CONNECT ACKNOWLEDGE")
    }

    @Test("on re-establishment, frames still waiting go out before call control's STATUS, in N(S) order")
    func reestablishmentKeepsSendOrder() throws {
        var (network, user) = Self.linkedPair()
        // One active call, so call control sends STATUS when the link is reset (Q.931 §5.8.9).
        let first = Q931SetupRequest(calledNumber: PartyNumber(digits: "10086"), channel: 1, exclusive: true)
        let placed = user.setupRequest(first, now: Self.t0)
        let afterSetup = Self.deliver(Self.frames(placed.actions), to: &network, now: Self.t0)
        let offer = try #require(afterSetup.lazy.compactMap { action -> Q931IncomingCall? in
            if case .indication(.incomingCall(let offer)) = action { return offer } else { return nil }
        }.first)
        _ = Self.deliver(Self.frames(afterSetup), to: &user, now: Self.t0)
        let connect = Self.frames(network.callControl(now: Self.t0) { $0.connect(offer.id, now: Self.t0) })
        let connectAcknowledge = Self.frames(Self.deliver(connect, to: &user, now: Self.t0))
        let acknowledgement = Self.frames(Self.deliver(connectAcknowledge, to: &network, now: Self.t0))
        _ = Self.deliver(acknowledgement, to: &user, now: Self.t0)
        let call = try #require(placed.call)
        #expect(user.callControl.state(of: call) == .active)

        // Ten more SETUPs that the network never sees: seven fill the window, three wait.
        for channel in 2...11 {
            let request = Q931SetupRequest(calledNumber: PartyNumber(digits: "10086"), channel: UInt8(channel), exclusive: true)
            _ = user.setupRequest(request, now: Self.t0)
        }
        #expect(user.dataLink.queuedFrameCount == 10)

        // The network resets the link. The user answers UA, sends the three waiting SETUPs from
        // N(S) 0, and only then the STATUS call control sends on the new link.
        let sabme = Self.frames(network.start(now: Self.t0))
        #expect(sabme.first?.control == .unnumbered(.setAsynchronousBalancedModeExtended, pollFinal: true))
        let answer = Self.frames(Self.deliver(sabme, to: &user, now: Self.t0))
        let information = answer.filter { if case .information = $0.control { return true } else { return false } }
        let sendSequence = information.map { frame -> UInt8 in
            if case .information(let ns, _, _) = frame.control { return ns } else { return 0xFF }
        }
        #expect(sendSequence == Array(0..<UInt8(information.count)), "N(S) in wire order: \(sendSequence)")
        #expect(information.compactMap(Self.messageType) == [.setup, .setup, .setup, .status])
    }

    @Test("a call-control request given as a value does what the matching Q931Interface method does")
    func callRequestValues() throws {
        var (network, user) = Self.linkedPair()
        network.defersAcknowledgementToDriver = true
        let request = Q931SetupRequest(calledNumber: PartyNumber(digits: "10086"), channel: 9, exclusive: true)
        let placed = user.setupRequest(request, now: Self.t0)
        let call = try #require(placed.call)
        let afterSetup = Self.deliver(Self.frames(placed.actions), to: &network, now: Self.t0)
        let offer = try #require(afterSetup.lazy.compactMap { action -> Q931IncomingCall? in
            if case .indication(.incomingCall(let offer)) = action { return offer } else { return nil }
        }.first)
        var answers: [PRIAction] = []
        network.request(.proceeding(offer.id), now: Self.t0, into: &answers)
        network.request(.alerting(offer.id), now: Self.t0, into: &answers)
        network.request(.connect(offer.id), now: Self.t0, into: &answers)
        #expect(Self.frames(answers).compactMap(Self.messageType) == [.callProceeding, .alerting, .connect])
        let atUser = Self.deliver(Self.frames(answers), to: &user, now: Self.t0)
        #expect(atUser.contains(.indication(.answered(call, connectedNumber: nil))))
        _ = Self.deliver(Self.frames(atUser), to: &network, now: Self.t0)

        var clearing: [PRIAction] = []
        user.request(.disconnect(call, cause: .userBusy), now: Self.t0, into: &clearing)
        let disconnect = Self.frames(clearing).compactMap { frame in
            try? Q931Message.decode(frame.information)
        }.filter { $0.messageType == .disconnect }
        #expect(disconnect.count == 1)
        let atNetwork = Self.deliver(Self.frames(clearing), to: &network, now: Self.t0)
        #expect(atNetwork.contains(.indication(.disconnecting(offer.id, cause: .userBusy))))
        #expect(user.callControl.state(of: call) == .disconnectRequest)
    }

    @Test("with indications kept by the stack, the same indications come out of takeIndications, in order, and none among the actions")
    func keptIndications() throws {
        func indications(_ actions: [PRIAction]) -> [Q931Indication] {
            actions.compactMap { if case .indication(let indication) = $0 { return indication } else { return nil } }
        }
        // The same call on two network sides, one reporting indications among the actions, one keeping them.
        var (plain, plainUser) = Self.linkedPair()
        var (keeping, keepingUser) = Self.linkedPair()
        keeping.keepsIndications = true
        let request = Q931SetupRequest(calledNumber: PartyNumber(digits: "10086"), channel: 4, exclusive: true)
        let plainSetup = Self.frames(plainUser.setupRequest(request, now: Self.t0).actions)
        let keepingSetup = Self.frames(keepingUser.setupRequest(request, now: Self.t0).actions)
        let plainActions = Self.deliver(plainSetup, to: &plain, now: Self.t0)
        let keepingActions = Self.deliver(keepingSetup, to: &keeping, now: Self.t0)
        #expect(indications(keepingActions).isEmpty, "no indication among the actions")
        #expect(Self.frames(keepingActions) == Self.frames(plainActions), "the same frames")
        var batch: [Q931Indication] = []
        keeping.takeIndications(into: &batch)
        #expect(batch == indications(plainActions))
        let offer = try #require(batch.first.flatMap { if case .incomingCall(let offer) = $0 { offer } else { nil } })

        // Answers and the far end's clearing: kept in order across inputs until taken.
        batch.removeAll()
        var out: [PRIAction] = []
        keeping.request(.connect(offer.id), now: Self.t0, into: &out)
        let answer = Self.frames(Self.deliver(Self.frames(out), to: &keepingUser, now: Self.t0))
        _ = Self.deliver(answer, to: &keeping, now: Self.t0)
        var clearing: [PRIAction] = []
        let userCall = try #require(keepingUser.callControl.callIDs.first)
        keepingUser.request(.disconnect(userCall, cause: .normalCallClearing), now: Self.t0, into: &clearing)
        _ = Self.deliver(Self.frames(clearing), to: &keeping, now: Self.t0)
        keeping.takeIndications(into: &batch)
        #expect(batch == [.connected(offer.id), .disconnecting(offer.id, cause: .normalCallClearing)])
        var again: [Q931Indication] = []
        keeping.takeIndications(into: &again)
        #expect(again.isEmpty, "taken once")
    }

    @Test("frames read in place from the driver's buffer do what the same frames given as arrays do, and nothing of the buffer is kept")
    func framesReadInPlace() throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 8)
        defer { buffer.deallocate() }
        /// Hands each frame over from the reused buffer, then scribbles over it.
        func deliverInPlace(_ frames: [LAPDFrame], to stack: inout PRIDChannel, now: ISDNInstant) -> [PRIAction] {
            var out: [PRIAction] = []
            for frame in frames {
                let bytes = frame.bytes
                buffer.copyBytes(from: bytes)
                stack.frameReceived(UnsafeRawBufferPointer(rebasing: buffer[0..<bytes.count]), now: now, into: &out)
                buffer.initializeMemory(as: UInt8.self, repeating: 0xEE)
            }
            return out
        }
        /// Link set-up (SABME, UA), a call from SETUP to RELEASE COMPLETE and an idle RR poll,
        /// every action of both sides in order.
        func conversation(inPlace: Bool) throws -> [PRIAction] {
            var log: [PRIAction] = []
            var network = PRIDChannel(role: .network)
            var user = PRIDChannel(role: .user)
            func exchange(_ toNetwork: [PRIAction], _ toUser: [PRIAction], at now: ISDNInstant) {
                var toNetwork = Self.frames(toNetwork), toUser = Self.frames(toUser)
                while !toNetwork.isEmpty || !toUser.isEmpty {
                    let fromNetwork = inPlace ? deliverInPlace(toNetwork, to: &network, now: now) : Self.deliver(toNetwork, to: &network, now: now)
                    let fromUser = inPlace ? deliverInPlace(toUser, to: &user, now: now) : Self.deliver(toUser, to: &user, now: now)
                    log += fromNetwork + fromUser
                    toUser = Self.frames(fromNetwork)
                    toNetwork = Self.frames(fromUser)
                }
            }
            exchange(user.start(now: Self.t0), network.start(now: Self.t0), at: Self.t0)
            let request = Q931SetupRequest(
                calledNumber: PartyNumber(digits: "8610012345"), callingNumber: PartyNumber(digits: "13900139000"),
                channel: 7, exclusive: true)
            let placed = user.setupRequest(request, now: Self.t0)
            exchange(placed.actions, [], at: Self.t0)
            let offered = try #require(network.callControl.callIDs.first)
            exchange([], network.callControl(now: Self.t0) { $0.connect(offered, now: Self.t0) }, at: Self.t0)
            let userCall = try #require(placed.call)
            exchange(user.callControl(now: Self.t0) { $0.disconnect(userCall, cause: .normalCallClearing, now: Self.t0) }, [], at: Self.t0)
            // T203 runs out on the idle link: RR polls and their answers, none of them I frames.
            let idle = Self.t0 + .seconds(11)
            var userPoll: [PRIAction] = [], networkPoll: [PRIAction] = []
            user.expireTimers(now: idle, into: &userPoll)
            network.expireTimers(now: idle, into: &networkPoll)
            exchange(userPoll, networkPoll, at: idle)
            #expect(user.callControl.callIDs.isEmpty && network.callControl.callIDs.isEmpty, "the call is over")
            return log
        }
        let asArrays = try conversation(inPlace: false)
        let inPlace = try conversation(inPlace: true)
        #expect(Self.frames(asArrays).contains { Self.messageType($0) == .releaseComplete })
        #expect(Self.frames(asArrays).contains { Self.isReceiveReady($0) })
        #expect(inPlace == asArrays)
    }

    @Test("the stack reports its earliest timer and runs only the due ones")
    func stackRunsItsOwnTimers() throws {
        // A user side with no peer: SABME goes out and T200 runs.
        var user = PRIDChannel(role: .user)
        _ = user.start(now: Self.t0)
        let first = try #require(user.nextTimer)
        #expect(first.timer == .dataLink(.t200))
        #expect(first.deadline == Self.t0 + .seconds(1))

        var early: [PRIAction] = []
        user.expireTimers(now: Self.t0 + .milliseconds(999), into: &early)
        #expect(early.isEmpty, "nothing is due before the deadline")

        var due: [PRIAction] = []
        user.expireTimers(now: Self.t0 + .seconds(1), into: &due)
        let retried = Self.frames(due)
        #expect(retried.count == 1)
        #expect(retried.first?.control == .unnumbered(.setAsynchronousBalancedModeExtended, pollFinal: true))
        #expect(user.nextTimer?.deadline == Self.t0 + .seconds(2), "T200 runs again for the retry")
    }

    @Test("call timers come out earliest first, and an expired T303 resends SETUP")
    func callTimerExpiresThroughTheStack() throws {
        var (network, user) = Self.linkedPair()
        let request = Q931SetupRequest(calledNumber: PartyNumber(digits: "10086"), channel: 5, exclusive: true)
        let placed = user.setupRequest(request, now: Self.t0)
        let call = try #require(placed.call)
        // The network acknowledges the frame but never answers the call.
        let acknowledgement = Self.frames(Self.deliver(Self.frames(placed.actions), to: &network, now: Self.t0))
        _ = Self.deliver(acknowledgement, to: &user, now: Self.t0)

        let next = try #require(user.nextTimer)
        #expect(next.timer == .callControl(.call(call, .t303)), "T303 (4 s) ends before T203 (10 s)")
        #expect(next.deadline == Self.t0 + .seconds(4))

        var out: [PRIAction] = []
        user.expireTimers(now: Self.t0 + .seconds(4), into: &out)
        let resent = Self.frames(out)
        #expect(resent.compactMap(Self.messageType) == [.setup], "the one retransmission T303 allows")
        // Until the network acknowledges the resent frame T200 comes first; then T303 again.
        #expect(user.nextTimer?.timer == .dataLink(.t200))
        #expect(user.nextTimer?.deadline == Self.t0 + .seconds(5))
        let later = Self.t0 + .seconds(4)
        _ = Self.deliver(Self.frames(Self.deliver(resent, to: &network, now: later)), to: &user, now: later)
        #expect(user.nextTimer?.timer == .callControl(.call(call, .t303)))
        #expect(user.nextTimer?.deadline == Self.t0 + .seconds(8))
    }

    @Test("with timer actions off, no start or stop comes out, and expiries still work")
    func timerActionsOff() throws {
        var (network, user) = Self.linkedPair()
        network.reportsTimerActions = false
        user.reportsTimerActions = false
        func hasTimerAction(_ actions: [PRIAction]) -> Bool {
            actions.contains { action in
                switch action {
                case .startTimer, .stopTimer: return true
                default: return false
                }
            }
        }
        let request = Q931SetupRequest(calledNumber: PartyNumber(digits: "10086"), channel: 7, exclusive: true)
        let placed = user.setupRequest(request, now: Self.t0)
        let call = try #require(placed.call)
        #expect(!hasTimerAction(placed.actions), "T303 and T200 start silently")
        let afterSetup = Self.deliver(Self.frames(placed.actions), to: &network, now: Self.t0)
        #expect(!hasTimerAction(afterSetup))
        _ = Self.deliver(Self.frames(afterSetup), to: &user, now: Self.t0)
        #expect(user.nextTimer?.timer == .callControl(.call(call, .t303)), "the deadline is kept all the same")

        var out: [PRIAction] = []
        user.expireTimers(now: Self.t0 + .seconds(4), into: &out)
        #expect(!hasTimerAction(out))
        #expect(Self.frames(out).compactMap(Self.messageType) == [.setup], "T303 still resends SETUP")
    }
}
