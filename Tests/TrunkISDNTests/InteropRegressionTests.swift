import Testing
@testable import TrunkISDN

/// Bugs the libpri interop tests found, pinned down without libpri.
@Suite("Regressions found against libpri")
struct InteropRegressionTests {
    typealias Peer = Q931InterfaceTests

    @Test("CONNECT ACKNOWLEDGE crossing our DISCONNECT of a call we answered is not an error",
          arguments: [ISDNRole.user, .network])
    func connectAcknowledgeCrossesDisconnect(role: ISDNRole) {
        var interface = Peer.interface(role)
        _ = interface.messageReceived(Peer.setup(1, channel: 3), now: .zero)
        let id = Q931CallID(callReference: 1, isOutgoing: false)
        _ = interface.connect(id, now: .zero)
        if role == .user {
            _ = interface.messageReceived(Peer.fromPeer(.connectAcknowledge, 1, weAllocated: false), now: .zero)
        }
        _ = interface.disconnect(id, cause: .normalCallClearing, now: .zero)
        // The network's CONNECT ACKNOWLEDGE (or the user's optional one) was already on its way.
        let actions = interface.messageReceived(Peer.fromPeer(.connectAcknowledge, 1, weAllocated: false), now: .zero)
        #expect(actions.sentMessages.isEmpty, "no STATUS for a crossing CONNECT ACKNOWLEDGE")
        #expect(!actions.contains { if case .protocolError = $0 { true } else { false } })
        #expect(interface.state(of: id) == (role == .user ? .disconnectRequest : .disconnectIndication))
    }
}
