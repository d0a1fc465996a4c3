import Testing
import TrunkCore

@Suite("G.711")
struct G711Tests {
    @Test("every A-law and µ-law code decodes and re-encodes to itself (µ-law's negative zero aside)")
    func codesRoundTrip() {
        for code in 0...255 {
            let byte = UInt8(code)
            #expect(G711.linearToAlaw(G711.alawToLinear(byte)) == byte, "A-law \(code)")
            let decoded = G711.ulawToLinear(byte)
            let expected: UInt8 = byte == 0x7F ? 0xFF : byte // 0x7F is −0, which encodes as +0
            #expect(G711.linearToUlaw(decoded) == expected, "µ-law \(code)")
        }
    }

    @Test("known values from G.711's tables")
    func knownValues() {
        #expect(G711.alawToLinear(0xD5) == 8)
        #expect(G711.alawToLinear(0x55) == -8)
        #expect(G711.alawToLinear(0xAA) == 32256)
        #expect(G711.alawToLinear(0x2A) == -32256)
        #expect(G711.ulawToLinear(0xFF) == 0)
        #expect(G711.ulawToLinear(0x80) == 32124)
        #expect(G711.ulawToLinear(0x00) == -32124)
        #expect(G711.linearToAlaw(0) == 0xD5)
        #expect(G711.linearToUlaw(0) == 0xFF)
        #expect(G711.linearToAlaw(.max) == 0xAA)
        #expect(G711.linearToUlaw(.min) == 0x00)
    }

    @Test("companding is monotonic and its error stays within the segment step")
    func monotonicAndBounded() {
        var previousA = Int16.min, previousU = Int16.min
        for value in stride(from: Int(Int16.min), through: Int(Int16.max), by: 7) {
            let sample = Int16(value)
            let a = G711.alawToLinear(G711.linearToAlaw(sample))
            let u = G711.ulawToLinear(G711.linearToUlaw(sample))
            #expect(a >= previousA && u >= previousU)
            previousA = a
            previousU = u
            // The quantisation step doubles per segment, so the error is a bounded fraction of the
            // magnitude: ≤ 1/32 for A-law's 16 steps per segment, ≤ 1/16 for µ-law's biased ones.
            let magnitude = abs(Double(value))
            #expect(abs(Double(a) - Double(value)) <= max(16, magnitude / 32 + 1))
            #expect(abs(Double(u) - Double(value)) <= max(8, magnitude / 16 + 4) || magnitude > 32124)
        }
    }

    @Test("the silence codes decode nearest zero")
    func silence() {
        #expect(AudioLaw.alaw.decode(AudioLaw.alaw.silence) == 8)
        #expect(AudioLaw.mulaw.decode(AudioLaw.mulaw.silence) == 0)
    }
}
