import Foundation
import Testing
import TrunkTrace

@Suite("D-channel traces (pcap, LINUX_LAPD)")
struct LAPDTraceTests {
    func temporaryPath() -> String { NSTemporaryDirectory() + "trunkline-trace-\(UUID().uuidString.prefix(8)).pcap" }

    @Test("frames written come back in order with direction, side and time")
    func roundTrip() throws {
        let path = temporaryPath()
        let writer = try LAPDTraceWriter(path: path, networkSide: true)
        let frames: [[UInt8]] = [[0x00, 0x01, 0x7F], [0x02, 0x01, 0x00, 0x00, 0x08, 0x02, 0x00, 0x01, 0x05], [0x00, 0x01, 0x01, 0x02]]
        for (index, frame) in frames.enumerated() {
            writer.write(frame, direction: index % 2 == 0 ? .sent : .received, seconds: 1_700_000_000 + index, microseconds: 250 * index)
        }
        writer.close()
        #expect(writer.framesWritten == 3)
        let records = try LAPDTraceReader.read(path: path)
        #expect(records.map(\.frame) == frames)
        #expect(records.map(\.direction) == [.sent, .received, .sent])
        #expect(records.allSatisfy { $0.networkSide })
        #expect(records.map(\.seconds) == [1_700_000_000, 1_700_000_001, 1_700_000_002])
        #expect(records.map(\.microseconds) == [0, 250, 500])
    }

    @Test("the file is a pcap of link type 177 with the 16-byte pseudo-header before each frame")
    func fileLayout() throws {
        let path = temporaryPath()
        let writer = try LAPDTraceWriter(path: path, networkSide: false)
        writer.write([0x02, 0x01, 0x7F], direction: .received, seconds: 1, microseconds: 2)
        writer.close()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // Global header: magic (little-endian 0xa1b2c3d4), version 2.4, link type 177 at offset 20.
        #expect(Array(bytes[0..<4]) == [0xD4, 0xC3, 0xB2, 0xA1])
        #expect(bytes[20] == 177 && bytes[21] == 0)
        // Record: 16-byte header, then pkttype 0 (received), hatype 0, halen 1, addr[0] 0 (user side), protocol 0x0030.
        let record = Array(bytes[(24 + 16)...])
        #expect(Array(record[0..<6]) == [0, 0, 0, 0, 0, 1])
        #expect(record[6] == 0)
        #expect(Array(record[14..<16]) == [0x00, 0x30])
        #expect(Array(record[16...]) == [0x02, 0x01, 0x7F])
    }

    @Test("a capture of another link type, or no file at all, is refused with the reason")
    func refusesOtherFiles() throws {
        let path = temporaryPath()
        // A valid pcap header for Ethernet (link type 1) with no records.
        var header: [UInt8] = [0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0] + [UInt8](repeating: 0, count: 8) + [0xFF, 0xFF, 0, 0, 1, 0, 0, 0]
        try Data(header).write(to: URL(fileURLWithPath: path))
        #expect(throws: (any Error).self) { try LAPDTraceReader.read(path: path) }
        header.removeAll()
        #expect(throws: (any Error).self) { try LAPDTraceReader.read(path: path + ".missing") }
        #expect(throws: (any Error).self) { try LAPDTraceWriter(path: "/nonexistent-dir/trace.pcap", networkSide: false) }
    }
}
