import Testing
@testable import TrunkCore

@Suite("WAV headers")
struct WAVFormatTests {
    @Test("a stereo A-law header round-trips and states its sizes")
    func alawStereo() throws {
        let format = WAVFormat(encoding: .alaw, channels: 2)
        let header = format.header(dataBytes: 16000)
        #expect(header.count == format.headerSize)
        let layout = try WAVFormat.parse(header)
        #expect(layout.format == format)
        #expect(layout.dataOffset == 58)
        #expect(layout.declaredDataBytes == 16000)
        #expect(header.le32(4) == UInt32(58 - 8 + 16000))
        #expect(header.le16(20) == 6)
        #expect(header.le16(32) == 2)  // block align: two 8-bit channels
    }

    @Test("a mono PCM16 header is the canonical 44 bytes")
    func pcmMono() throws {
        let header = WAVFormat(encoding: .pcm16).header(dataBytes: 3)
        #expect(header.count == 44)
        #expect(header.le32(4) == 36 + 4)  // odd data is padded in the RIFF size
        #expect(try WAVFormat.parse(header).format.encoding == .pcm16)
    }

    @Test("foreign chunks before data are skipped; bad files are refused with a reason")
    func parsing() throws {
        var bytes = WAVFormat(encoding: .mulaw).header(dataBytes: 8)
        // Insert a LIST chunk between fact and data.
        let dataAt = bytes.count - 8
        bytes.insert(contentsOf: Array("LIST".utf8) + [3, 0, 0, 0, 1, 2, 3, 0], at: dataAt)
        #expect(try WAVFormat.parse(bytes).dataOffset == dataAt + 12 + 8)
        #expect(throws: TrunkError.self) { try WAVFormat.parse(Array("RIFX....WAVE".utf8)) }
        var float = WAVFormat(encoding: .pcm16).header(dataBytes: 0)
        float[20] = 3
        #expect(throws: TrunkError.self) { try WAVFormat.parse(float) }
    }
}
