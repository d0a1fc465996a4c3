import Testing
@testable import TrunkISDN

/// The exact octets of every message a call sends, as they leave the stack in I frames: the
/// transmit path is tuned for speed, and nothing of that may change what goes on the wire.
/// The expected octets are written out from Q.931 (sections and tables named per element).
/// Also the called number a call collects, now kept as octets rather than a String.
@Suite("Q.931 octets a call sends")
struct Q931TransmitOctetsTests {
    typealias Efficiency = PRIDChannelEfficiencyTests
    static let t0 = Efficiency.t0

    /// The Q.931 payloads of the I frames among `actions`, in order.
    static func payloads(_ actions: [PRIAction]) -> [[UInt8]] {
        Efficiency.frames(actions).compactMap { frame in
            guard case .information = frame.control else { return nil }
            return Array(frame.information)
        }
    }

    /// Delivers everything in `actions` to `stack` and returns its Q.931 payloads and actions.
    static func pass(_ actions: [PRIAction], to stack: inout PRIDChannel) -> [PRIAction] {
        Efficiency.deliver(Efficiency.frames(actions), to: &stack, now: t0)
    }

    /// One call placed by the user side and cleared by it, every message carrying what the
    /// stack can put in it (channel, numbers, display, progress, causes).
    static func callCycle(clearing disconnectCause: Q850Cause) throws -> (user: [[UInt8]], network: [[UInt8]]) {
        var (network, user) = Efficiency.linkedPair()
        var userSent: [[UInt8]] = []
        var networkSent: [[UInt8]] = []

        let request = Q931SetupRequest(
            calledNumber: PartyNumber(digits: "8610012345"),
            callingNumber: PartyNumber(digits: "13900139000", presentation: .allowedUserNotScreened),
            channel: 5, exclusive: true, display: "Desk 4")
        let placed = user.setupRequest(request, now: t0)
        let call = try #require(placed.call)
        userSent += payloads(placed.actions)
        let atNetwork = pass(placed.actions, to: &network)
        networkSent += payloads(atNetwork)
        let offer = try #require(atNetwork.lazy.compactMap { action -> Q931IncomingCall? in
            if case .indication(.incomingCall(let offer)) = action { return offer } else { return nil }
        }.first)

        var answers: [PRIAction] = []
        network.request(.proceeding(offer.id), now: t0, into: &answers)
        network.request(.alerting(offer.id, inBandInformation: true), now: t0, into: &answers)
        network.request(.connect(offer.id, connectedNumber: PartyNumber(digits: "8610012345", typeOfNumber: .national)),
                        now: t0, into: &answers)
        networkSent += payloads(answers)
        let atUser = pass(answers, to: &user)
        userSent += payloads(atUser)
        networkSent += payloads(pass(atUser, to: &network))

        var clearing: [PRIAction] = []
        user.request(.disconnect(call, cause: disconnectCause), now: t0, into: &clearing)
        userSent += payloads(clearing)
        let release = pass(clearing, to: &network)
        networkSent += payloads(release)
        let complete = pass(release, to: &user)
        userSent += payloads(complete)
        networkSent += payloads(pass(complete, to: &network))
        return (userSent, networkSent)
    }

    @Test("every message of a call goes out with the octets Q.931 gives for its elements")
    func callMessages() throws {
        let (user, network) = try Self.callCycle(clearing: .userBusy)
        let digits86: [UInt8] = Array("8610012345".utf8)
        #expect(user == [
            // SETUP, call reference 1 from the originating side (flag 0).
            [0x08, 0x02, 0x00, 0x01, 0x05,
             0x04, 0x03, 0x80, 0x90, 0xA3,                  // bearer: speech, 64 kbit/s circuit, G.711 A-law
             0x18, 0x03, 0xA9, 0x83, 0x85,                  // channel: PRI, exclusive, B-channel 5
             0x28, 0x06] + Array("Desk 4".utf8) +           // display
            [0x6C, 0x0D, 0x01, 0x80] + Array("13900139000".utf8) +  // calling: unknown/ISDN, allowed, user not screened
            [0x70, 0x0B, 0x81] + digits86 +                 // called: unknown/ISDN
            [0xA1],                                         // sending complete
            [0x08, 0x02, 0x00, 0x01, 0x0F],                 // CONNECT ACKNOWLEDGE
            [0x08, 0x02, 0x00, 0x01, 0x45, 0x08, 0x02, 0x80, 0x91],  // DISCONNECT, cause 17 at the user
            [0x08, 0x02, 0x00, 0x01, 0x5A],                 // RELEASE COMPLETE
        ])
        #expect(network == [
            // Answers carry flag 1; the first one fixes the channel (Q.931 §5.1.2).
            [0x08, 0x02, 0x80, 0x01, 0x02, 0x18, 0x03, 0xA9, 0x83, 0x85],  // CALL PROCEEDING
            [0x08, 0x02, 0x80, 0x01, 0x01, 0x1E, 0x02, 0x82, 0x88],  // ALERTING, in-band information (public network, local user)
            [0x08, 0x02, 0x80, 0x01, 0x07, 0x4C, 0x0B, 0xA1] + digits86,  // CONNECT, connected number national/ISDN
            [0x08, 0x02, 0x80, 0x01, 0x4D],                 // RELEASE (the DISCONNECT had a cause)
        ])
    }

    @Test("rejecting an offered call sends RELEASE COMPLETE with our cause and location")
    func rejection() throws {
        var (network, user) = Efficiency.linkedPair()
        let placed = user.setupRequest(Q931SetupRequest(calledNumber: PartyNumber(digits: "10086")), now: Self.t0)
        #expect(Self.payloads(placed.actions) == [
            [0x08, 0x02, 0x00, 0x01, 0x05,
             0x04, 0x03, 0x80, 0x90, 0xA3,
             0x18, 0x03, 0xA1, 0x83, 0x81,                  // channel: PRI, preferred, the first free (B-channel 1)
             0x70, 0x06, 0x81] + Array("10086".utf8) +
            [0xA1],
        ])
        let atNetwork = Self.pass(placed.actions, to: &network)
        let offer = try #require(atNetwork.lazy.compactMap { action -> Q931IncomingCall? in
            if case .indication(.incomingCall(let offer)) = action { return offer } else { return nil }
        }.first)
        var answer: [PRIAction] = []
        network.request(.disconnect(offer.id, cause: .callRejected), now: Self.t0, into: &answer)
        #expect(Self.payloads(answer) == [[0x08, 0x02, 0x80, 0x01, 0x5A, 0x08, 0x02, 0x82, 0x95]])
    }

    @Test("overlap receiving reports every digit collected, past the 31 a number holds inline")
    func longCollectedNumber() throws {
        var lab = PRIBackToBackTests.startedLab()
        let first = String(repeating: "1234567890", count: 3)  // 30 digits in the SETUP
        let placedCall = lab.setup(.network, Q931SetupRequest(calledNumber: PartyNumber(digits: first), sendingComplete: false))
        let call = try #require(placedCall)
        lab.settle()
        let offered = try #require(lab.incomingCall(at: .user))
        lab.request(.user) { $0.setupAcknowledge(offered.id, now: $1) }
        lab.settle()
        // 30 + 5 + 4 digits: the second INFORMATION crosses the inline limit, the third lies past it.
        lab.request(.network) { $0.information(call, digits: "ABCDE", now: $1) }
        lab.settle()
        lab.request(.network) { $0.information(call, digits: "9876", sendingComplete: true, now: $1) }
        lab.settle()
        #expect(lab.has(.user, .digitsComplete(offered.id, calledNumber: first + "ABCDE9876")))
    }

    @Test("T303 repeats the SETUP with the octets of the first, every element a SETUP can carry included")
    func setupRepeated() throws {
        var (network, user) = Efficiency.linkedPair()
        let request = Q931SetupRequest(
            calledNumber: PartyNumber(digits: "8610012345"),
            callingNumber: PartyNumber(digits: "13900139000", presentation: .allowedUserNotScreened),
            channel: 5, exclusive: true, bearerCapability: .audio31kHzALaw, display: "Desk 4",
            redirectingNumber: PartyNumber(digits: "8610054321", presentation: .allowedUserNotScreened, redirectionReason: 1))
        let placed = user.setupRequest(request, now: Self.t0)
        let first = Self.payloads(placed.actions)
        #expect(first.count == 1)
        // The network takes the frame (its RR stops T200) but never answers the call.
        _ = Self.pass(Self.pass(placed.actions, to: &network), to: &user)
        var out: [PRIAction] = []
        user.expireTimers(now: Self.t0 + .seconds(4), into: &out)
        #expect(Self.payloads(out) == first)
    }

    @Test("T303 repeats the SETUP of a call that lost its channel to glare with the channel it named")
    func setupRepeatedAfterGlare() throws {
        typealias Interface = Q931InterfaceTests
        var interface = Interface.interface(.user)
        let (placed, actions) = interface.setupRequest(
            Q931SetupRequest(calledNumber: PartyNumber(digits: "1"), channel: 7, exclusive: false), now: .zero)
        let ours = try #require(placed)
        let first = try #require(actions.sentMessages.first).encoded()
        _ = interface.messageReceived(Interface.setup(40, channel: 7), now: .zero)
        #expect(interface.channel(of: ours) == nil, "the network's call took channel 7")
        let again = interface.timerExpired(.call(ours, .t303), now: .seconds(4))
        #expect(try again.sentMessages.map { try $0.encoded() } == [first])
    }

    @Test("T308 repeats the RELEASE with the octets of the first, a cause with diagnostic included")
    func releaseRepeated() throws {
        typealias Interface = Q931InterfaceTests
        var interface = Interface.interface(.user)
        _ = interface.messageReceived(Interface.setup(), now: .zero)
        let id = Q931CallID(callReference: 1, isOutgoing: false)
        _ = interface.connect(id, now: .zero)
        _ = interface.messageReceived(Interface.fromPeer(.connectAcknowledge, 1, weAllocated: false), now: .zero)
        // A DISCONNECT without Cause is obeyed; our RELEASE says cause 96 about element 0x08
        // (Q.931 §5.8.6.2): the one RELEASE whose contents are not a plain cause.
        let release = interface.messageReceived(Interface.fromPeer(.disconnect, 1, weAllocated: false), now: .seconds(1))
        let first = try #require(release.sentMessages.first)
        let octets = try first.encoded()
        #expect(octets == [0x08, 0x02, 0x80, 0x01, 0x4D, 0x08, 0x03, 0x80, 0xE0, 0x08])
        let again = interface.timerExpired(.call(id, .t308), now: .seconds(5))
        #expect(try again.sentMessages.map { try $0.encoded() } == [octets])
    }
}

