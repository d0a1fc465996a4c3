import Testing
@testable import TrunkISDN

/// Messages call control sends reach the wire whole, however long, or are refused by the data
/// link as before: the stack encodes them straight into the data link's queue buffers.
@Suite("PRI stack transmit path")
struct PRIDChannelTransmitTests {
    typealias Efficiency = PRIDChannelEfficiencyTests
    static let t0 = Efficiency.t0

    static let longRequest = Q931SetupRequest(
        calledNumber: PartyNumber(digits: String(repeating: "8", count: PartyNumber.maximumDigitCount)),
        callingNumber: PartyNumber(digits: String(repeating: "1", count: PartyNumber.maximumDigitCount)),
        channel: 3, exclusive: true, display: "A display of some length")

    @Test("a SETUP longer than a payload buffer's first size goes out whole")
    func longMessage() throws {
        var (network, user) = Efficiency.linkedPair()
        let placed = user.setupRequest(Self.longRequest, now: Self.t0)
        let frames = Efficiency.frames(placed.actions)
        #expect(frames.count == 1)
        #expect(try #require(frames.first).information.count > 64)
        let atNetwork = Efficiency.deliver(frames, to: &network, now: Self.t0)
        let offer = try #require(atNetwork.lazy.compactMap { action -> Q931IncomingCall? in
            if case .indication(.incomingCall(let offer)) = action { return offer } else { return nil }
        }.first)
        #expect(offer.calledNumber == Self.longRequest.calledNumber)
        #expect(offer.callingNumber == Self.longRequest.callingNumber)
        #expect(offer.display == Self.longRequest.display)
    }

    @Test("a message longer than N201 is discarded by the data link and reported, nothing is sent")
    func messageLongerThanN201() {
        var network = PRIDChannel(role: .network)
        var user = PRIDChannel(dataLink: Q921Configuration(role: .user, n201: 40), callControl: Q931Configuration(role: .user))
        var toNetwork = Efficiency.frames(user.start(now: Self.t0))
        var toUser = Efficiency.frames(network.start(now: Self.t0))
        while !toNetwork.isEmpty || !toUser.isEmpty {
            let fromNetwork = Efficiency.frames(Efficiency.deliver(toNetwork, to: &network, now: Self.t0))
            toNetwork = Efficiency.frames(Efficiency.deliver(toUser, to: &user, now: Self.t0))
            toUser = fromNetwork
        }
        #expect(user.dataLink.isEstablished)
        let placed = user.setupRequest(Self.longRequest, now: Self.t0)
        #expect(Efficiency.frames(placed.actions).isEmpty)
        #expect(placed.actions.contains(.dataLinkError(.dataDiscarded)))
        #expect(user.dataLink.counters.discardedData == 1)
        #expect(user.dataLink.queuedFrameCount == 0)
    }
}
