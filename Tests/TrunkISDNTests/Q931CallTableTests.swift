import Testing
@testable import TrunkISDN

/// The call table leaves a removed call's slot vacant and reuses it; lookups, counts, keys and
/// channel occupancy must not see vacant slots.
@Suite("Q.931 call table")
struct Q931CallTableTests {
    private static let configuration = Q931Configuration(role: .network)
    private static let setup = Q931Message(.setup, callReference: Q931CallReference(value: 1, flag: false))

    private static func call(_ reference: UInt16, channel: UInt8) -> Q931Call {
        Q931Call.incoming(
            id: Q931CallID(callReference: reference, isOutgoing: false), setup: setup, channel: channel, configuration: configuration)
    }

    @Test("removing from the middle leaves a vacant slot that the next call takes; lookups find every live call")
    func vacantSlots() {
        var table = Q931CallTable()
        for reference in UInt16(1)...5 { table.insertNew(Self.call(reference, channel: UInt8(reference))) }
        let middle = table.index(of: Q931CallID(callReference: 3, isOutgoing: false))!
        table.remove(at: middle)
        #expect(table.count == 4)
        #expect(!table.contains(Q931CallID(callReference: 3, isOutgoing: false)))
        #expect(!table.contains(Q931CallTable.vacantID))
        #expect(Set(table.keys.map(\.callReference)) == [1, 2, 4, 5])
        #expect(!table.occupiedChannels.contains(3))
        #expect(table.occupancyIsConsistent)
        // 3 + 128 shares call reference 3's hint slot.
        let reused = table.insertNew(Self.call(131, channel: 9))
        #expect(reused == middle, "the vacant slot is reused")
        #expect(table.count == 5)
        for reference: UInt16 in [1, 2, 4, 5, 131] {
            let index = table.index(of: Q931CallID(callReference: reference, isOutgoing: false))
            #expect(index.map { table[$0].id.callReference } == reference)
        }
        #expect(table.occupiedChannels.contains(9))
        // Removing the last slot shrinks the storage instead.
        table.remove(at: table.index(of: Q931CallID(callReference: 5, isOutgoing: false))!)
        #expect(table.storage.count == 4)
        while let id = table.keys.first { table.remove(at: table.index(of: id)!) }
        #expect(table.isEmpty && table.count == 0 && table.keys.isEmpty)
        #expect(table.occupancyIsConsistent && table.occupiedChannels.count == 0)
    }
}
