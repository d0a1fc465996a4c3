import CSpanDSP
import Testing
import TrunkAnalog
import TrunkMedia

/// Sends octets as caller ID FSK with spandsp's modem (seizure, marks, 8N1 characters), so a
/// test can put on the line what no correct transmitter sends: a message with a bad checksum.
final class CorruptFSKSender {
    private var bits: [Int32] = []
    private var next = 0

    init(octets: [UInt8]) {
        for index in 0..<300 { bits.append(Int32(index & 1)) }
        bits += [Int32](repeating: 1, count: 180)
        for octet in octets {
            bits.append(0)
            for bit in 0..<8 { bits.append(Int32((octet >> UInt8(bit)) & 1)) }
            bits.append(1)
        }
        bits += [Int32](repeating: 1, count: 10)
    }

    func render(preset: Int32) -> [Int16] {
        let context = Unmanaged.passUnretained(self).toOpaque()
        let tx = fsk_tx_init(nil, cspandsp_fsk_spec(preset), { context in
            let sender = Unmanaged<CorruptFSKSender>.fromOpaque(context!).takeUnretainedValue()
            guard sender.next < sender.bits.count else { return Int32(SIG_STATUS_END_OF_DATA) }
            defer { sender.next += 1 }
            return sender.bits[sender.next]
        }, context)
        defer { fsk_tx_free(tx) }
        let samples = bits.count * 8000 / 1200 + 160
        var out = [Int16](repeating: 0, count: samples)
        let written = out.withUnsafeMutableBufferPointer { Int(fsk_tx(tx, $0.baseAddress, Int32(samples))) }
        return Array(out[0..<written])
    }
}

@Suite("Corrupted caller ID on the simulated line")
struct CorruptCallerIDTests {
    @Test("FSK caller ID with a bad checksum between the rings is reported, and the call is offered without a number")
    func badChecksumOnTheLine() throws {
        var fxsConfiguration = FXSConfiguration()
        fxsConfiguration.callerID = .none
        let lab = try AnalogLab(port: 2, fxsConfiguration: fxsConfiguration)
        lab.fxsRequest { port, now, actions in port.ring(callerID: nil, now: now, into: &actions) }
        lab.run(ms: 1600)
        var message = CallerID(number: "13800138000").fskMessage()
        var sum: UInt8 = 0
        for byte in message { sum &+= byte }
        message.append((0 &- sum) ^ 0x01)
        lab.fxsTalk = CorruptFSKSender(octets: message).render(preset: Int32(FSK_V23CH1))
        lab.run(ms: 4000) { $0.fxoSaw { if case .incomingCall = $0 { true } else { false } } != nil }
        let rejected = lab.fxoIndications.compactMap { if case .callerIDRejected(let error, _) = $0.indication { error } else { nil } }
        #expect(rejected == [.checksum(messageType: 0x80, expected: 0 &- sum, received: (0 &- sum) ^ 0x01)])
        #expect(lab.fxoSaw { $0 == .incomingCall(callerID: nil, method: nil) } != nil)
    }
}
