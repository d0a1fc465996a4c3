#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The two clocks events carry: wall time for people and records (it may jump when NTP steps
/// it), monotonic time for durations and ordering (it never does).
enum CTIClock {
    static func monotonicNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    static func wallMicroseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000
    }

    /// RFC 3339 UTC with microseconds: "2026-11-30T16:20:01.123456Z".
    static func writeRFC3339(_ microseconds: Int64, into writer: inout JSONWriter) {
        var seconds = time_t(microseconds / 1_000_000)
        let fraction = Int(microseconds % 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        writer.bytes.append(UInt8(ascii: "\""))
        pad(Int(parts.tm_year) + 1900, 4, &writer)
        writer.bytes.append(UInt8(ascii: "-"))
        pad(Int(parts.tm_mon) + 1, 2, &writer)
        writer.bytes.append(UInt8(ascii: "-"))
        pad(Int(parts.tm_mday), 2, &writer)
        writer.bytes.append(UInt8(ascii: "T"))
        pad(Int(parts.tm_hour), 2, &writer)
        writer.bytes.append(UInt8(ascii: ":"))
        pad(Int(parts.tm_min), 2, &writer)
        writer.bytes.append(UInt8(ascii: ":"))
        pad(Int(parts.tm_sec), 2, &writer)
        writer.bytes.append(UInt8(ascii: "."))
        pad(fraction, 6, &writer)
        writer.raw("Z\"")
    }

    static func rfc3339(_ microseconds: Int64) -> String {
        var writer = JSONWriter(capacity: 32)
        writeRFC3339(microseconds, into: &writer)
        return String(decoding: writer.bytes.dropFirst().dropLast(), as: UTF8.self)
    }

    private static func pad(_ value: Int, _ width: Int, _ writer: inout JSONWriter) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var remaining = value
        while divisor > 0 {
            writer.bytes.append(UInt8(ascii: "0") + UInt8((remaining / divisor) % 10))
            remaining %= divisor
            divisor /= 10
        }
    }
}
