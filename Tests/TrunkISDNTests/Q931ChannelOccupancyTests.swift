import Testing
@testable import TrunkISDN

/// The interface keeps the channels its calls hold as they take and free them (no scan of the
/// calls per request); these pin that what it reports busy is what the calls hold.
@Suite("Q.931 channel occupancy")
struct Q931ChannelOccupancyTests {
    private static func fromPeer(_ type: Q931MessageType, _ id: Q931CallID, _ elements: [Q931InformationElement] = []) -> Q931Message {
        Q931Message(type, callReference: Q931CallReference(value: id.callReference, flag: id.isOutgoing), informationElements: elements)
    }

    private static func channel(_ number: UInt8) -> Q931InformationElement {
        .channelIdentification(.primary(channel: number, exclusive: true))
    }

    @Test("a channel the network assigns moves the call: the old one is free, the new one busy")
    func assignedChannel() throws {
        var interface = Q931Interface(configuration: Q931Configuration(role: .user))
        _ = interface.dataLinkEstablished(now: .zero)
        let (placed, _) = interface.setupRequest(
            Q931SetupRequest(calledNumber: PartyNumber(digits: "1"), channel: 5, exclusive: false), now: .zero)
        let id = try #require(placed)
        #expect(interface.busyChannels == [5])
        let proceeding = interface.messageReceived(Self.fromPeer(.callProceeding, id, [Self.channel(9)]), now: .zero)
        #expect(proceeding.indications.contains(.channelAssigned(id, channel: 9)))
        #expect(interface.busyChannels == [9])
        #expect(interface.calls.occupancyIsConsistent)
        // A second call may now take 5 and may not take 9.
        let (second, secondActions) = interface.setupRequest(
            Q931SetupRequest(calledNumber: PartyNumber(digits: "2"), channel: 9, exclusive: true), now: .zero)
        #expect(secondActions.indications == [.cleared(try #require(second), cause: .requestedChannelNotAvailable, channel: nil)])
        let (third, _) = interface.setupRequest(
            Q931SetupRequest(calledNumber: PartyNumber(digits: "3"), channel: 5, exclusive: true), now: .zero)
        #expect(interface.channel(of: try #require(third)) == 5)
        #expect(interface.busyChannels == [5, 9])
        _ = interface.messageReceived(Self.fromPeer(.releaseComplete, id, [.cause(CauseElement(.normalCallClearing, location: .user))]), now: .zero)
        #expect(interface.busyChannels == [5])
        #expect(interface.calls.occupancyIsConsistent)
    }

    @Test("a resumed call on a channel another call holds: the channel stays busy until both let go")
    func sharedChannel() throws {
        var interface = Q931Interface(configuration: Q931Configuration(role: .user))
        _ = interface.dataLinkEstablished(now: .zero)
        let (placed, _) = interface.setupRequest(
            Q931SetupRequest(calledNumber: PartyNumber(digits: "1"), channel: 12, exclusive: true), now: .zero)
        let first = try #require(placed)
        let (resumed, _) = interface.resume(callIdentity: [0x31], now: .zero)
        let second = try #require(resumed)
        _ = interface.messageReceived(Self.fromPeer(.resumeAcknowledge, second, [Self.channel(12)]), now: .zero)
        #expect(interface.channel(of: second) == 12)
        #expect(interface.busyChannels == [12])
        #expect(interface.calls.occupancyIsConsistent)
        _ = interface.messageReceived(Self.fromPeer(.releaseComplete, first), now: .zero)
        #expect(interface.callIDs == [second])
        #expect(interface.busyChannels == [12], "the resumed call still holds 12")
        #expect(interface.calls.occupancyIsConsistent)
        _ = interface.messageReceived(Self.fromPeer(.releaseComplete, second), now: .zero)
        #expect(interface.busyChannels.isEmpty)
        #expect(interface.calls.occupancyIsConsistent)
    }

    @Test("glare: the user's call gives its channel up and the network's call takes it")
    func glare() throws {
        var interface = Q931Interface(configuration: Q931Configuration(role: .user))
        _ = interface.dataLinkEstablished(now: .zero)
        let (placed, _) = interface.setupRequest(
            Q931SetupRequest(calledNumber: PartyNumber(digits: "1"), channel: 7, exclusive: false), now: .zero)
        let ours = try #require(placed)
        let offer = Q931Message(.setup, callReference: Q931CallReference(value: 40, flag: false), informationElements: [
            .bearerCapability(.speechALaw), Self.channel(7), .calledPartyNumber(PartyNumber(digits: "100")),
        ])
        _ = interface.messageReceived(offer, now: .zero)
        #expect(interface.channel(of: ours) == nil)
        #expect(interface.channel(of: Q931CallID(callReference: 40, isOutgoing: false)) == 7)
        #expect(interface.busyChannels == [7])
        #expect(interface.calls.occupancyIsConsistent)
    }
}
