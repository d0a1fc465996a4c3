import CPcap
import TrunkCore
#if canImport(Glibc)
import Glibc
#endif

/// Which way a traced D-channel frame went, as the LINUX_LAPD pseudo-header says it.
public enum LAPDDirection: UInt16, Sendable, Codable {
    /// `pkttype` 0: received by us.
    case received = 0
    /// `pkttype` 4: sent by us.
    case sent = 4
}

/// One traced frame: the LAPD frame without FCS, as Wireshark expects after the pseudo-header.
public struct LAPDTraceRecord: Sendable, Equatable {
    public var seconds: Int
    public var microseconds: Int
    public var direction: LAPDDirection
    /// Whether the tracing side is the network side (decides how C/R bits are read).
    public var networkSide: Bool
    public var frame: [UInt8]

    public init(seconds: Int, microseconds: Int, direction: LAPDDirection, networkSide: Bool, frame: [UInt8]) {
        self.seconds = seconds
        self.microseconds = microseconds
        self.direction = direction
        self.networkSide = networkSide
        self.frame = frame
    }
}

/// The 16-byte LINUX_LAPD (link type 177) pseudo-header that precedes each frame.
enum LAPDPseudoHeader {
    static let length = 16
    static let ethernetProtocolLAPD: UInt16 = 0x0030

    static func encode(direction: LAPDDirection, networkSide: Bool, into bytes: inout [UInt8]) {
        func u16(_ value: UInt16) { bytes.append(UInt8(value >> 8)); bytes.append(UInt8(value & 0xFF)) }
        u16(direction.rawValue)     // pkttype
        u16(0)                      // hatype
        u16(1)                      // halen
        bytes.append(networkSide ? 1 : 0) // addr[0]: non-zero when we are the network side
        bytes.append(contentsOf: repeatElement(0, count: 7))
        u16(ethernetProtocolLAPD)   // protocol
    }
}

/// Writes D-channel frames to a pcap file through libpcap, so Wireshark and tshark decode
/// them as LAPD/Q.931.
public final class LAPDTraceWriter: @unchecked Sendable {
    public let path: String
    public let networkSide: Bool
    public private(set) var framesWritten = 0
    private var pcap: OpaquePointer?
    private var dumper: OpaquePointer?
    private var record: [UInt8] = []

    public init(path: String, networkSide: Bool) throws(TrunkError) {
        self.path = path
        self.networkSide = networkSide
        guard let pcap = pcap_open_dead(cpcap_linktype_linux_lapd, 65535) else {
            throw TrunkError(.internal, "libpcap could not set up a LINUX_LAPD capture")
        }
        guard let dumper = pcap_dump_open(pcap, path) else {
            let reason = String(cString: pcap_geterr(pcap))
            pcap_close(pcap)
            throw TrunkError(.permissionDenied, "cannot write trace \(path): \(reason)")
        }
        self.pcap = pcap
        self.dumper = dumper
        record.reserveCapacity(LAPDPseudoHeader.length + 300)
    }

    deinit { close() }

    public func write<Frame: Collection>(_ frame: Frame, direction: LAPDDirection,
                                         seconds: Int, microseconds: Int) where Frame.Element == UInt8 {
        guard let dumper else { return }
        record.removeAll(keepingCapacity: true)
        LAPDPseudoHeader.encode(direction: direction, networkSide: networkSide, into: &record)
        record.append(contentsOf: frame)
        var header = pcap_pkthdr()
        header.ts.tv_sec = seconds
        header.ts.tv_usec = microseconds
        header.caplen = bpf_u_int32(record.count)
        header.len = bpf_u_int32(record.count)
        record.withUnsafeBufferPointer { bytes in
            pcap_dump(UnsafeMutableRawPointer(dumper).assumingMemoryBound(to: UInt8.self), &header, bytes.baseAddress)
        }
        framesWritten += 1
    }

    /// Writes with the current wall-clock time (what a technician compares with the carrier's trace).
    public func write<Frame: Collection>(_ frame: Frame, direction: LAPDDirection) where Frame.Element == UInt8 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        write(frame, direction: direction, seconds: now.tv_sec, microseconds: now.tv_nsec / 1000)
    }

    public func flush() {
        if let dumper { pcap_dump_flush(dumper) }
    }

    public func close() {
        if let dumper { pcap_dump_close(dumper) }
        if let pcap { pcap_close(pcap) }
        dumper = nil
        pcap = nil
    }
}

/// Reads a LINUX_LAPD pcap file back (ours or anyone's), for offline decoding.
public struct LAPDTraceReader {
    public static func read(path: String) throws(TrunkError) -> [LAPDTraceRecord] {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let pcap = pcap_open_offline(path, &errorBuffer) else {
            throw TrunkError(.notFound, "cannot read trace \(path): \(String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
        defer { pcap_close(pcap) }
        guard pcap_datalink(pcap) == cpcap_linktype_linux_lapd else {
            throw TrunkError(.invalidArgument, "\(path) is not a LINUX_LAPD (177) capture (link type \(pcap_datalink(pcap)))")
        }
        var records: [LAPDTraceRecord] = []
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        while pcap_next_ex(pcap, &header, &data) == 1 {
            guard let header, let data, header.pointee.caplen >= UInt32(LAPDPseudoHeader.length) else { continue }
            let bytes = UnsafeBufferPointer(start: data, count: Int(header.pointee.caplen))
            let packetType = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
            records.append(LAPDTraceRecord(
                seconds: header.pointee.ts.tv_sec, microseconds: header.pointee.ts.tv_usec,
                direction: packetType == LAPDDirection.sent.rawValue ? .sent : .received,
                networkSide: bytes[6] != 0, frame: Array(bytes[LAPDPseudoHeader.length...])))
        }
        return records
    }
}
