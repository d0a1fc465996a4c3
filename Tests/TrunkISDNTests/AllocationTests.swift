import CMallocCounter
import Testing
import TrunkISDN

/// The real-time path must not allocate per frame once buffers are sized (STYLE.md).
/// Counting uses the test-only malloc shim, per thread, so parallel tests do not disturb it.
@Suite("allocation-free codecs")
struct AllocationTests {
    static let setup = Q931Message(.setup, callReference: Q931CallReference(value: 0x1234, flag: false), informationElements: [
        .bearerCapability(.speechALaw),
        .channelIdentification(.primary(channel: 17, exclusive: true)),
        .callingPartyNumber(PartyNumber(digits: "13900139000", presentation: .allowedUserNotScreened)),
        .calledPartyNumber(PartyNumber(digits: "8610012345")),
        .sendingComplete,
    ])

    @Test("the shim counts: a fresh array allocates")
    func shimCounts() {
        malloc_counter_start()
        let array = [UInt8](repeating: 1, count: Int.random(in: 100...200))
        let count = malloc_counter_stop()
        #expect(array.count >= 100)
        #expect(count >= 1)
    }

    @Test("LAPD frames: 1,000 encodes and decodes into reused buffers allocate nothing")
    func lapdSteadyState() throws {
        let payload = try Self.setup.encoded()
        let frame = LAPDFrame(
            address: LAPDAddress(sapi: 0, commandResponseBit: false, tei: 0),
            control: .information(ns: 5, nr: 9, poll: false),
            information: payload[...])
        var buffer: [UInt8] = []
        buffer.reserveCapacity(300)
        var checksum = 0
        // One round first: steady state is what counts, not first-use runtime work.
        frame.encode(into: &buffer)
        _ = try LAPDFrame.decode(buffer[...])
        malloc_counter_start()
        for _ in 0..<1000 {
            buffer.removeAll(keepingCapacity: true)
            frame.encode(into: &buffer)
            let decoded = try LAPDFrame.decode(buffer[...])
            if case .information(let ns, _, _) = decoded.control { checksum &+= Int(ns) + decoded.information.count }
        }
        let count = malloc_counter_stop()
        #expect(count == 0)
        #expect(checksum == 1000 * (5 + payload.count))
    }

    // The element-level Q.931 codec is allocation-free only when optimised (unoptimised code
    // allocates for generic calls the optimiser removes), so that is measured where it is
    // true: the allocation line of trunkbench-pri, a release build.

    @Test("decoding into a reused message gives what a fresh decode gives, errors included")
    func decodeIntoMatchesDecode() throws {
        var message = Q931Message.empty
        let octets = try Self.setup.encoded()
        try Q931Message.decode(octets[...], into: &message)
        #expect(message == (try Q931Message.decode(octets)))
        let release = Q931Message(.release, callReference: Q931CallReference(value: 7, flag: true), informationElements: [
            .cause(CauseElement(.normalCallClearing, location: .user)),
        ])
        try Q931Message.decode(try release.encoded()[...], into: &message)
        #expect(message == release)
        #expect(throws: Q931DecodingError.self) { try Q931Message.decode([0x08, 0x02, 0x00][...], into: &message) }
        #expect(message.informationElements.isEmpty)
    }
}
