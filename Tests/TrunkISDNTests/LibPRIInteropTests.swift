import CLibPRIPeer
import Testing
import TrunkISDN

/// TrunkISDN against libpri, a real and widely deployed EuroISDN stack, over a socket pair on
/// real time. Every test runs in both pairings: TrunkISDN as user with libpri as network, and
/// TrunkISDN as network with libpri as user. Serialized, so timer-driven tests are not starved
/// on a busy machine.
@Suite("libpri interop", .serialized)
struct LibPRIInteropTests {
    static let roles: [ISDNRole] = [.user, .network]

    /// Nothing went wrong on either side that the stacks noticed themselves.
    static func expectClean(_ lab: LibPRIHarness, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(lab.trunkCallControlErrors.isEmpty, "\(lab.trunkCallControlErrors.prefix(5))", sourceLocation: sourceLocation)
        #expect(lab.trunkDataLinkErrors.isEmpty, "\(lab.trunkDataLinkErrors.prefix(5))", sourceLocation: sourceLocation)
        #expect(lab.libpriErrorCount == 0, "libpri: \(lab.libpriLastError)", sourceLocation: sourceLocation)
    }

    static func request(_ called: String, _ calling: String = "", channel: UInt8, sendingComplete: Bool = true) -> Q931SetupRequest {
        Q931SetupRequest(
            calledNumber: PartyNumber(digits: called),
            callingNumber: calling.isEmpty ? nil : PartyNumber(digits: calling, presentation: .allowedUserNotScreened),
            channel: channel, exclusive: true, sendingComplete: sendingComplete)
    }

    static func incomingCall(_ indication: Q931Indication) -> Q931IncomingCall? {
        if case .incomingCall(let call) = indication { return call }
        return nil
    }

    /// An answered call from TrunkISDN to libpri on `channel`.
    static func activeCall(_ lab: LibPRIHarness, channel: UInt8, called: String) -> (Q931CallID, OpaquePointer)? {
        guard let id = lab.trunkSetup(request(called, channel: channel)),
              let ring = lab.waitForEvent(PRI_EVENT_RING, where: { $0.called == called }), let call = ring.call
        else { return nil }
        _ = pri_answer(lab.pri, call, Int32(channel), 0)
        let answered = lab.waitForIndication { if case .answered(id, _) = $0 { true } else { nil } }
        guard answered == true else { return nil }
        return (id, call)
    }

    /// Clears an active call from TrunkISDN with cause 16 and checks libpri hears 16.
    static func clearFromTrunk(_ lab: LibPRIHarness, _ id: Q931CallID, _ call: OpaquePointer,
                               sourceLocation: SourceLocation = #_sourceLocation) {
        lab.trunk { $0.disconnect(id, cause: .normalCallClearing, now: $1) }
        let request = lab.waitForEvent(PRI_EVENT_HANGUP_REQ) { $0.call == call }
        #expect(request?.cause == 16, sourceLocation: sourceLocation)
        _ = pri_hangup(lab.pri, call, 16)
        let cleared = lab.waitForIndication { $0.clearedCall?.0 == id ? $0.clearedCall?.1 : nil }
        #expect(cleared == .normalCallClearing, sourceLocation: sourceLocation)
    }

    /// Clears an active call from libpri with cause 16 and checks TrunkISDN hears 16.
    static func clearFromLibPRI(_ lab: LibPRIHarness, _ id: Q931CallID, _ call: OpaquePointer,
                                sourceLocation: SourceLocation = #_sourceLocation) {
        _ = pri_hangup(lab.pri, call, 16)
        // DISCONNECT out, RELEASE in: libpri reports the hangup and sends RELEASE COMPLETE
        // once its call manager lets go of the call.
        #expect(lab.waitForEvent(PRI_EVENT_HANGUP) { $0.call == call } != nil, sourceLocation: sourceLocation)
        _ = pri_hangup(lab.pri, call, 16)
        let cleared = lab.waitForIndication { $0.clearedCall?.0 == id ? $0.clearedCall?.1 : nil }
        #expect(cleared == .normalCallClearing, sourceLocation: sourceLocation)
    }
}

// MARK: - Data link

extension LibPRIInteropTests {
    @Suite("data link") struct DataLink {
        @Test("libpri sends SABME, TrunkISDN answers UA: both links up", arguments: LibPRIInteropTests.roles)
        func libpriInitiates(role: ISDNRole) {
            let lab = LibPRIHarness(trunkRole: role)
            // TrunkISDN never asks for the link: libpri's SABME alone must bring both sides up.
            #expect(lab.bringUp(startTrunk: false))
            #expect(lab.trunk.dataLink.stateName == .multipleFrameEstablished)
            #expect(lab.trunkLinkChanges == [true])
            #expect(!lab.framesFromTrunk.contains { $0[2] == 0x7F }, "TrunkISDN sent no SABME")
            #expect(lab.framesFromTrunk.contains { $0[2] == 0x73 }, "TrunkISDN answered with UA, F = 1")
            #expect(lab.allEvents.filter { $0.type == PRI_EVENT_DCHAN_UP }.count == 1)
            LibPRIInteropTests.expectClean(lab)
        }

        @Test("TrunkISDN sends SABME, libpri answers UA: both links up", arguments: LibPRIInteropTests.roles)
        func trunkInitiates(role: ISDNRole) {
            let lab = LibPRIHarness(trunkRole: role)
            // libpri starts its own establishment as soon as it exists; lose its SABMEs so the
            // link can only come up through TrunkISDN's.
            lab.dropFromLibPRI = { $0.count == 3 && $0[2] == 0x7F }
            lab.startTrunk()
            #expect(lab.run(for: .seconds(3)) { lab.trunk.dataLink.isEstablished })
            #expect(lab.framesFromLibPRI.contains { $0[2] == 0x73 }, "libpri answered with UA, F = 1")
            #expect(lab.trunkLinkChanges == [true])
            #expect(lab.trunk.dataLink.counters.establishments == 1)
            // libpri answered TrunkISDN's SABME while waiting for the UA to its own (Q.921 state 5);
            // once its SABME gets through, TrunkISDN answers it too and libpri is up.
            lab.dropFromLibPRI = { _ in false }
            #expect(lab.run(for: .seconds(3)) { lab.allEvents.contains { $0.type == PRI_EVENT_DCHAN_UP } })
            #expect(lab.trunk.dataLink.isEstablished)
            // And the link carries a call afterwards.
            if let (id, call) = LibPRIInteropTests.activeCall(lab, channel: 1, called: "100") {
                LibPRIInteropTests.clearFromTrunk(lab, id, call)
            } else {
                Issue.record("no call over the link TrunkISDN established")
            }
            #expect(lab.libpriErrorCount == 0, "libpri: \(lab.libpriLastError)")
            #expect(lab.trunkCallControlErrors.isEmpty)
        }
    }
}

// MARK: - Calls

extension LibPRIInteropTests {
    @Suite("calls") struct Calls {
        @Test("1,000 complete calls, 30 at a time, both directions, causes 16/17/21 checked on the far side",
              arguments: LibPRIInteropTests.roles)
        func thousandCalls(role: ISDNRole) {
            let lab = LibPRIHarness(trunkRole: role)
            lab.recordFrames = false
            #expect(lab.bringUp())
            var engine = LibPRICallEngine(lab: lab, total: 1000)
            let finished = engine.run(timeout: .seconds(30))
            #expect(finished)
            #expect(engine.records.count == 1000)
            #expect(engine.records.allSatisfy { $0.isDone })
            #expect(engine.peakConcurrentCalls == 30)
            #expect(engine.problems.isEmpty, "\(engine.problems.prefix(5))")
            // Both originators and all four endings ran, and every answered call was answered.
            #expect(engine.records.filter { $0.plan.caller == .trunk }.count == 500)
            #expect(engine.records.filter(\.answered).count == 500)
            LibPRIInteropTests.expectClean(lab)
        }

        @Test("1,000 calls with TrunkISDN's RR left to the driver's flush: libpri takes the N(R) of the answers",
              arguments: LibPRIInteropTests.roles)
        func thousandCallsWithDeferredAcknowledgement(role: ISDNRole) {
            let lab = LibPRIHarness(trunkRole: role, deferredAcknowledgement: true)
            #expect(lab.bringUp())
            var engine = LibPRICallEngine(lab: lab, total: 1000)
            let finished = engine.run(timeout: .seconds(30))
            #expect(finished)
            #expect(engine.records.count == 1000)
            #expect(engine.records.allSatisfy { $0.isDone })
            #expect(engine.problems.isEmpty, "\(engine.problems.prefix(5))")
            LibPRIInteropTests.expectClean(lab)
            // Nothing timed out on either side: every I frame was acknowledged within T200.
            #expect(lab.trunk.dataLink.counters.retransmittedFrames == 0)
            #expect(lab.trunk.dataLink.counters.establishments == 1, "the link never had to be reset")
            let libpriPolls = lab.framesFromLibPRI.filter { $0.count == 4 && $0[2] == 0x01 && $0[3] & 0x01 == 1 }
            #expect(libpriPolls.isEmpty, "libpri never had to poll with RR P = 1 (its T200 never ran out)")
        }

        @Test("ALERTING, CONNECT, DISCONNECT, RELEASE, RELEASE COMPLETE on the wire, in order", arguments: LibPRIInteropTests.roles)
        func messageFlow(role: ISDNRole) throws {
            let lab = LibPRIHarness(trunkRole: role)
            #expect(lab.bringUp())
            let id = try #require(lab.trunkSetup(LibPRIInteropTests.request("2001", "3001", channel: 7)))
            let ring = try #require(lab.waitForEvent(PRI_EVENT_RING))
            #expect(ring.called == "2001" && ring.calling == "3001" && ring.channel == 7 && ring.complete)
            let call = try #require(ring.call)
            _ = pri_proceeding(lab.pri, call, 7, 0)
            _ = pri_acknowledge(lab.pri, call, 7, 0)
            #expect(lab.waitForIndication { if case .alerting(id, _) = $0 { true } else { nil } } == true)
            _ = pri_answer(lab.pri, call, 7, 0)
            #expect(lab.waitForIndication { if case .answered(id, _) = $0 { true } else { nil } } == true)
            #expect(lab.trunk.callControl.state(of: id) == .active)
            LibPRIInteropTests.clearFromLibPRI(lab, id, call)
            let trunkSent = lab.framesFromTrunk.compactMap(Self.messageType)
            let libpriSent = lab.framesFromLibPRI.compactMap(Self.messageType)
            #expect(trunkSent == [.setup, .connectAcknowledge, .release])
            #expect(libpriSent == [.callProceeding, .alerting, .connect, .disconnect, .releaseComplete])
            #expect(lab.trunk.callControl.callIDs.isEmpty)
            LibPRIInteropTests.expectClean(lab)
        }

        static func messageType(_ frame: [UInt8]) -> Q931MessageType? {
            guard let decoded = try? LAPDFrame.decode(frame), case .information = decoded.control else { return nil }
            return try? Q931Message.decode(decoded.information).messageType
        }

        @Test("overlap sending from TrunkISDN: SETUP without Sending complete, INFORMATION digits", arguments: LibPRIInteropTests.roles)
        func overlapFromTrunk(role: ISDNRole) throws {
            let lab = LibPRIHarness(trunkRole: role)
            #expect(lab.bringUp())
            let id = try #require(lab.trunkSetup(LibPRIInteropTests.request("86", "5550", channel: 12, sendingComplete: false)))
            let ring = try #require(lab.waitForEvent(PRI_EVENT_RING))
            #expect(ring.called == "86" && !ring.complete && ring.calling == "5550")
            let call = try #require(ring.call)
            _ = pri_need_more_info(lab.pri, call, 12, 0)
            #expect(lab.waitForIndication { if case .setupAcknowledged(id) = $0 { true } else { nil } } == true)
            lab.trunk { $0.information(id, digits: "10", now: $1) }
            lab.trunk { $0.information(id, digits: "5678", sendingComplete: true, now: $1) }
            var digits = ""
            let allDigits = lab.run(for: .seconds(3)) {
                for event in lab.takeEvents() where event.type == PRI_EVENT_INFO_RECEIVED { digits += event.called }
                return digits.count >= 6
            }
            #expect(allDigits)
            #expect(digits == "105678")
            _ = pri_answer(lab.pri, call, 12, 0)
            #expect(lab.waitForIndication { if case .answered(id, _) = $0 { true } else { nil } } == true)
            LibPRIInteropTests.clearFromTrunk(lab, id, call)
            LibPRIInteropTests.expectClean(lab)
        }

        @Test("overlap receiving at TrunkISDN: SETUP ACKNOWLEDGE, digits from libpri, then a keypad digit", arguments: LibPRIInteropTests.roles)
        func overlapToTrunk(role: ISDNRole) throws {
            let lab = LibPRIHarness(trunkRole: role)
            pri_set_overlapdial(lab.pri, 1)
            #expect(lab.bringUp())
            // Not inside #require: its expansion would let the C strings die before the call.
            let placed = lpp_place_call(lab.peer, 20, 1, "86", "1390", 0)
            let call = try #require(placed)
            let offer = try #require(lab.waitForIndication(LibPRIInteropTests.incomingCall))
            #expect(!offer.sendingComplete, "\(offer)")
            #expect(offer.calledNumber?.digits == "86" && offer.callingNumber?.digits == "1390")
            #expect(offer.channel == 20)
            lab.trunk { $0.setupAcknowledge(offer.id, now: $1) }
            #expect(lab.waitForEvent(PRI_EVENT_SETUP_ACK) != nil)
            for digit in "105678" { _ = pri_information(lab.pri, call, CChar(digit.asciiValue!)) }
            var digits = ""
            let allDigits = lab.run(for: .seconds(3)) {
                for case .moreDigits(offer.id, let more, _) in lab.takeIndications() { digits += more }
                return digits.count >= 6
            }
            #expect(allDigits)
            #expect(digits == "105678")
            // The number is complete: the call manager says so with CALL PROCEEDING.
            lab.trunk { $0.proceeding(offer.id, now: $1) }
            #expect(lab.waitForEvent(PRI_EVENT_PROCEEDING) != nil)
            lab.trunk { $0.connect(offer.id, now: $1) }
            #expect(lab.waitForEvent(PRI_EVENT_ANSWER) != nil)
            #expect(lab.waitForIndication { if case .connected(offer.id) = $0 { true } else { nil } } == true)
            _ = pri_keypad_facility(lab.pri, call, "*9")
            #expect(lab.waitForIndication { if case .information(offer.id, let keypad) = $0 { keypad } else { nil } } == "*9")
            LibPRIInteropTests.clearFromTrunk(lab, offer.id, call)
            LibPRIInteropTests.expectClean(lab)
        }

        @Test("glare: both sides seize channel 9 at once; the network's call wins, the user's gets cause 44",
              arguments: LibPRIInteropTests.roles)
        func glare(role: ISDNRole) throws {
            let lab = LibPRIHarness(trunkRole: role)
            #expect(lab.bringUp())
            // Both SETUPs are on the wire before either side reads the other's.
            let trunkCall = try #require(lab.trunkSetup(LibPRIInteropTests.request("100", channel: 9)))
            let placed = lpp_place_call(lab.peer, 9, 1, "200", "", 1)
            let libpriCall = try #require(placed)
            if role == .user {
                // libpri is the network: TrunkISDN yields channel 9 to libpri's call...
                let offer = try #require(lab.waitForIndication(LibPRIInteropTests.incomingCall))
                #expect(offer.channel == 9)
                #expect(offer.calledNumber?.digits == "200", "\(offer)")
                // ...and libpri's call manager refuses TrunkISDN's call for the busy channel.
                let ring = try #require(lab.waitForEvent(PRI_EVENT_RING))
                #expect(ring.channel == 9)
                _ = pri_hangup(lab.pri, ring.call, 44)
                let lost = lab.waitForIndication { $0.clearedCall?.0 == trunkCall ? $0.clearedCall?.1 : nil }
                #expect(lost == .requestedChannelNotAvailable)
                lab.trunk { $0.connect(offer.id, now: $1) }
                #expect(lab.waitForEvent(PRI_EVENT_ANSWER) { $0.call == libpriCall } != nil)
                #expect(lab.trunk.callControl.channel(of: offer.id) == 9)
                LibPRIInteropTests.clearFromLibPRI(lab, offer.id, libpriCall)
            } else {
                // TrunkISDN is the network: it refuses libpri's SETUP with cause 44...
                let hangup = try #require(lab.waitForEvent(PRI_EVENT_HANGUP) { $0.call == libpriCall })
                #expect(hangup.cause == 44)
                _ = pri_hangup(lab.pri, libpriCall, 44)
                // ...and libpri's call manager takes TrunkISDN's call on channel 9.
                let ring = try #require(lab.waitForEvent(PRI_EVENT_RING))
                #expect(ring.channel == 9 && ring.called == "100")
                let call = try #require(ring.call)
                _ = pri_answer(lab.pri, call, 9, 0)
                #expect(lab.waitForIndication { if case .answered(trunkCall, _) = $0 { true } else { nil } } == true)
                LibPRIInteropTests.clearFromTrunk(lab, trunkCall, call)
            }
            LibPRIInteropTests.expectClean(lab)
        }
    }
}

// MARK: - RESTART

extension LibPRIInteropTests {
    @Suite("RESTART") struct Restart {
        @Test("TrunkISDN restarts one channel, then the interface; libpri acknowledges both", arguments: LibPRIInteropTests.roles)
        func restartFromTrunk(role: ISDNRole) throws {
            let lab = LibPRIHarness(trunkRole: role)
            #expect(lab.bringUp())
            let (id, call) = try #require(LibPRIInteropTests.activeCall(lab, channel: 3, called: "300"))
            lab.trunk { $0.restart(channels: [5], now: $1) }
            #expect(lab.waitForEvent(PRI_EVENT_RESTART)?.channel == 5)
            #expect(lab.waitForIndication { if case .restartCompleted(let channels) = $0 { channels } else { nil } } == [UInt8(5)])
            // The call on channel 3 is untouched at both ends and clears normally.
            #expect(lab.trunk.callControl.state(of: id) == .active)
            LibPRIInteropTests.clearFromTrunk(lab, id, call)
            // A call on the restarted channel works.
            let (again, againCall) = try #require(LibPRIInteropTests.activeCall(lab, channel: 5, called: "301"))
            LibPRIInteropTests.clearFromLibPRI(lab, again, againCall)

            lab.trunk { $0.restart(channels: nil, now: $1) }
            #expect(lab.waitForEvent(PRI_EVENT_RESTART) { $0.channel == -1 } != nil)
            let completed = lab.waitForIndication { if case .restartCompleted(let channels) = $0 { Optional(channels) } else { nil } }
            #expect(completed == .some(nil))
            LibPRIInteropTests.expectClean(lab)
        }

        @Test("libpri restarts one channel; TrunkISDN clears the call on it and acknowledges", arguments: LibPRIInteropTests.roles)
        func restartFromLibPRI(role: ISDNRole) throws {
            let lab = LibPRIHarness(trunkRole: role)
            #expect(lab.bringUp())
            let (onSix, _) = try #require(LibPRIInteropTests.activeCall(lab, channel: 6, called: "600"))
            let (onEight, callEight) = try #require(LibPRIInteropTests.activeCall(lab, channel: 8, called: "800"))
            _ = pri_reset(lab.pri, 6)
            #expect(lab.waitForIndication { if case .restarted(let channels) = $0 { channels } else { nil } } == [UInt8(6)])
            #expect(lab.waitForEvent(PRI_EVENT_RESTART_ACK)?.channel == 6)
            #expect(lab.trunk.callControl.state(of: onSix) == .null, "the call on the restarted channel is gone")
            #expect(lab.trunk.callControl.state(of: onEight) == .active)
            LibPRIInteropTests.clearFromLibPRI(lab, onEight, callEight)
            LibPRIInteropTests.expectClean(lab)
        }
    }
}

// MARK: - Data link loss (T309)

extension LibPRIInteropTests {
    @Suite("data link loss") struct DataLinkLoss {
        /// Short data link timers on both sides so a cut is noticed within a second.
        static func lab(_ role: ISDNRole, t309: Duration) -> LibPRIHarness {
            LibPRIHarness(
                trunkRole: role,
                dataLink: Q921Configuration(role: role, t200: .milliseconds(100), t203: .milliseconds(300)),
                callControl: Q931Configuration(role: role, t309: t309),
                libpriTimers: [
                    (Int32(PRI_TIMER_T200.rawValue), 100), (Int32(PRI_TIMER_T203.rawValue), 300),
                    (Int32(PRI_TIMER_T309.rawValue), Int32(t309.components.seconds * 1000)),
                ])
        }

        @Test("the D-channel drops and comes back within T309: active calls survive at both ends", arguments: LibPRIInteropTests.roles)
        func callsSurvive(role: ISDNRole) throws {
            let lab = Self.lab(role, t309: .seconds(4))
            #expect(lab.bringUp())
            let (first, firstCall) = try #require(LibPRIInteropTests.activeCall(lab, channel: 1, called: "101"))
            let (second, secondCall) = try #require(LibPRIInteropTests.activeCall(lab, channel: 2, called: "102"))
            lab.cableConnected = false
            // Both sides notice: T203, then N200 polls unanswered.
            #expect(lab.run(for: .seconds(3)) {
                lab.trunkLinkChanges.last == false && lab.allEvents.contains { $0.type == PRI_EVENT_DCHAN_DOWN }
            })
            #expect(lab.trunk.callControl.state(of: first) == .active)
            lab.cableConnected = true
            #expect(lab.run(for: .seconds(3)) {
                lab.trunk.dataLink.isEstablished && lab.allEvents.filter { $0.type == PRI_EVENT_DCHAN_UP }.count == 2
            })
            // Past the moment T309 would have fired had it not been stopped.
            lab.run(for: .seconds(1))
            #expect(!lab.allEvents.contains { $0.type == PRI_EVENT_HANGUP }, "libpri kept its calls")
            #expect(!lab.allIndications.contains { $0.clearedCall != nil }, "TrunkISDN kept its calls")
            #expect(lab.trunk.callControl.state(of: first) == .active)
            #expect(lab.trunk.callControl.state(of: second) == .active)
            // Both calls still clear normally, one from each side.
            LibPRIInteropTests.clearFromTrunk(lab, first, firstCall)
            LibPRIInteropTests.clearFromLibPRI(lab, second, secondCall)
            #expect(lab.libpriErrorCount == 0, "libpri: \(lab.libpriLastError)")
            #expect(!lab.trunkCallControlErrors.contains { if case .unexpectedMessage = $0 { true } else { false } })
        }

        @Test("the D-channel stays down past T309: both ends clear the call with cause 41", arguments: LibPRIInteropTests.roles)
        func callsClearedAfterT309(role: ISDNRole) throws {
            let lab = Self.lab(role, t309: .seconds(1))
            #expect(lab.bringUp())
            let (id, call) = try #require(LibPRIInteropTests.activeCall(lab, channel: 4, called: "104"))
            lab.cableConnected = false
            let cleared = lab.waitForIndication(timeout: .seconds(4)) { $0.clearedCall?.0 == id ? $0.clearedCall?.1 : nil }
            #expect(cleared == .temporaryFailure)
            let hangup = lab.waitForEvent(PRI_EVENT_HANGUP, timeout: .seconds(4)) { $0.call == call }
            #expect(hangup != nil)
            _ = pri_hangup(lab.pri, call, 41)
            lab.cableConnected = true
            #expect(lab.run(for: .seconds(3)) { lab.trunk.dataLink.isEstablished })
        }
    }
}
