import Testing
@testable import TrunkISDN

@Suite("LAPD frame codec")
struct LAPDCodecTests {
    static let networkCommand = LAPDAddress(sapi: 0, commandResponseBit: true, tei: 0)

    @Test("SABME from the network encodes as libpri sends it")
    func sabmeBytes() throws {
        let frame = LAPDFrame(address: Self.networkCommand, control: .unnumbered(.setAsynchronousBalancedModeExtended, pollFinal: true))
        #expect(frame.bytes == [0x02, 0x01, 0x7F])
        #expect(try LAPDFrame.decode([0x02, 0x01, 0x7F]) == frame)
    }

    @Test("I frame with N(S), N(R) and P bit")
    func informationFrame() throws {
        let frame = LAPDFrame(address: LAPDAddress(sapi: 0, commandResponseBit: false, tei: 0),
                              control: .information(ns: 5, nr: 127, poll: true), information: [0x08, 0x02, 0x00, 0x01, 0x05])
        #expect(frame.bytes == [0x00, 0x01, 0x0A, 0xFF, 0x08, 0x02, 0x00, 0x01, 0x05])
        let decoded = try LAPDFrame.decode(frame.bytes)
        #expect(decoded == frame)
    }

    @Test("every control field round-trips", arguments: [
        LAPDControl.information(ns: 0, nr: 0, poll: false),
        .information(ns: 127, nr: 64, poll: true),
        .supervisory(.receiveReady, nr: 3, pollFinal: false),
        .supervisory(.receiveNotReady, nr: 127, pollFinal: true),
        .supervisory(.reject, nr: 9, pollFinal: true),
        .unnumbered(.setAsynchronousBalancedModeExtended, pollFinal: true),
        .unnumbered(.unnumberedAcknowledgement, pollFinal: true),
        .unnumbered(.disconnectedMode, pollFinal: false),
        .unnumbered(.disconnect, pollFinal: true),
        .unnumbered(.frameReject, pollFinal: false),
        .unnumbered(.unnumberedInformation, pollFinal: false),
        .unnumbered(.exchangeIdentification, pollFinal: true),
    ])
    func controlRoundTrip(control: LAPDControl) throws {
        let carries: Bool
        switch control {
        case .information: carries = true
        case .unnumbered(let function, _): carries = function.carriesInformation
        case .supervisory: carries = false
        }
        let frame = LAPDFrame(address: LAPDAddress(sapi: 63, commandResponseBit: true, tei: 127),
                              control: control, information: carries ? [1, 2, 3] : [])
        #expect(try LAPDFrame.decode(frame.bytes) == frame)
    }

    @Test("encoding into a raw buffer matches and refuses a short buffer")
    func rawBufferEncoding() {
        let frame = LAPDFrame(address: Self.networkCommand, control: .information(ns: 1, nr: 2, poll: false), information: [9, 8, 7])
        var storage = [UInt8](repeating: 0, count: 16)
        let written = storage.withUnsafeMutableBytes { frame.encode(into: $0) }
        #expect(written == 7)
        #expect(Array(storage[0..<7]) == frame.bytes)
        var small = [UInt8](repeating: 0, count: 4)
        #expect(small.withUnsafeMutableBytes { frame.encode(into: $0) } == nil)
    }

    @Test("encoding into a reserved array keeps its storage")
    func steadyStateEncodingReusesBuffer() {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(300)
        let frame = LAPDFrame(address: Self.networkCommand, control: .information(ns: 1, nr: 2, poll: false), information: ArraySlice(repeating: 0x55, count: 260))
        let before = buffer.withUnsafeBufferPointer { $0.baseAddress }
        for _ in 0..<100 {
            buffer.removeAll(keepingCapacity: true)
            frame.encode(into: &buffer)
        }
        #expect(buffer.withUnsafeBufferPointer { $0.baseAddress } == before)
        #expect(buffer.count == 264)
    }

    @Test("malformed frames give typed errors")
    func malformed() {
        #expect(throws: LAPDDecodingError.tooShort(length: 2)) { try LAPDFrame.decode([0x02, 0x01]) }
        #expect(throws: LAPDDecodingError.invalidAddressExtension) { try LAPDFrame.decode([0x03, 0x01, 0x7F]) }
        #expect(throws: LAPDDecodingError.invalidAddressExtension) { try LAPDFrame.decode([0x02, 0x00, 0x7F]) }
        #expect(throws: LAPDDecodingError.undefinedControlField(0x0D)) { try LAPDFrame.decode([0x02, 0x01, 0x0D, 0x00]) }
        #expect(throws: LAPDDecodingError.undefinedControlField(0x2B)) { try LAPDFrame.decode([0x02, 0x01, 0x2B]) }
        #expect(throws: LAPDDecodingError.unexpectedInformationField) { try LAPDFrame.decode([0x02, 0x01, 0x01, 0x00, 0x99]) }
        #expect(throws: LAPDDecodingError.unexpectedInformationField) { try LAPDFrame.decode([0x02, 0x01, 0x7F, 0x99]) }
        #expect(throws: LAPDDecodingError.tooShort(length: 3)) { try LAPDFrame.decode([0x02, 0x01, 0x00]) }
    }

    @Test("C/R bit follows the role (Q.921 table 1)")
    func commandResponseBit() {
        #expect(LAPDAddress.commandResponseBit(for: .network, isCommand: true))
        #expect(!LAPDAddress.commandResponseBit(for: .network, isCommand: false))
        #expect(!LAPDAddress.commandResponseBit(for: .user, isCommand: true))
        #expect(LAPDAddress.commandResponseBit(for: .user, isCommand: false))
        let fromUserCommand = LAPDAddress(sapi: 0, commandResponseBit: false, tei: 0)
        #expect(fromUserCommand.isCommand(receivedBy: .network))
        let fromNetworkCommand = LAPDAddress(sapi: 0, commandResponseBit: true, tei: 0)
        #expect(fromNetworkCommand.isCommand(receivedBy: .user))
    }
}
