#if canImport(Glibc)
import Glibc
#endif

/// Which events a client must receive: the publisher puts event `seq` on channel
/// `seq % channels + 1` and nothing else publishes, so a client subscribed to everything must
/// see every seq from 1, and a one-channel client every seq of its channel, each exactly once
/// and in order.
struct Expectation: Sendable {
    let channels: Int
    /// nil: subscribed to everything.
    let channel: Int?

    static func channel(ofSeq seq: Int64, channels: Int) -> Int { Int(seq % Int64(channels)) + 1 }

    /// The seq this client must receive next after `seq` (Int64.max: none ever).
    func next(after seq: Int64) -> Int64 {
        guard let channel else { return seq + 1 }
        guard channel <= channels else { return .max }
        let n = Int64(channels), residue = Int64(channel - 1)
        let candidate = seq + 1
        return candidate + (residue - candidate % n + n) % n
    }

    /// The last seq this client must have received once `published` events are out (0: none).
    func last(through published: Int64) -> Int64 {
        guard let channel else { return published }
        guard channel <= channels, published > 0 else { return 0 }
        let n = Int64(channels), residue = Int64(channel - 1)
        let last = published - (published % n - residue + n) % n
        return last >= 1 ? last : 0
    }
}

/// What one client received, checked line by line: every event it must get, in seq order,
/// none missing, none extra; latency of the events inside the measuring window. Owned by one
/// thread at a time (the reader, or the client's event loop), read by the main thread after.
final class Tally: @unchecked Sendable {
    let label: String
    let expectation: Expectation
    var windowStart: Int64 = .max
    var windowEnd: Int64 = .max
    /// The last event seq received (0: none yet).
    private(set) var lastSeq: Int64 = 0
    private(set) var received = 0
    /// Events whose publish stamp is inside the window, and their latencies (ns).
    private(set) var inWindow = 0
    private(set) var latencies: [Int64] = []
    private(set) var responses = 0
    /// The first problems seen (at most 5), and how many there were.
    private(set) var problems: [String] = []
    private(set) var problemCount = 0
    var closedByServer = false

    init(label: String, expectation: Expectation, expectedInWindow: Int) {
        self.label = label
        self.expectation = expectation
        latencies.reserveCapacity(expectedInWindow + expectedInWindow / 4 + 16)
    }

    func problem(_ text: String) {
        problemCount += 1
        if problems.count < 5 { problems.append(text) }
    }

    /// Whether everything up to `published` has been received.
    func isComplete(through published: Int64) -> Bool { lastSeq >= expectation.last(through: published) }

    private static let eventPrefix = Array(#"{"jsonrpc":"2.0","method":"event","params":{"seq":"#.utf8)
    private static let responsePrefix = Array(#"{"jsonrpc":"2.0","id":"#.utf8)
    private static let greetingPrefix = Array(#"{"jsonrpc":"2.0","method":"session.greeting""#.utf8)
    /// After the seq: `,"time":"` + 27 characters of RFC 3339 + `","mono_ns":`.
    private static let monoOffset = #","time":""#.utf8.count + 27 + #"","mono_ns":"#.utf8.count

    /// One line without its newline, received at `now` (CLOCK_MONOTONIC ns, the clock of `mono_ns`).
    func take(_ line: UnsafeRawBufferPointer, now: Int64) {
        guard let base = line.baseAddress else { return }
        let prefix = Self.eventPrefix
        if line.count > prefix.count + Self.monoOffset, memcmp(base, prefix, prefix.count) == 0 {
            var index = prefix.count
            let seq = Self.digits(line, &index)
            index += Self.monoOffset
            let mono = Self.digits(line, &index)
            let expected = expectation.next(after: lastSeq)
            if seq != expected {
                if expected == .max {
                    problem("\(label): event seq \(seq) on channel \(Expectation.channel(ofSeq: seq, channels: expectation.channels)) it did not subscribe to")
                } else {
                    problem("\(label): expected seq \(expected), received \(seq)" + (seq > expected ? " (events lost)" : " (out of order or repeated)"))
                }
            }
            lastSeq = max(lastSeq, seq)
            received += 1
            if mono >= windowStart && mono < windowEnd {
                inWindow += 1
                latencies.append(now - mono)
            }
            return
        }
        let text = String(decoding: line.prefix(200), as: UTF8.self)
        if line.count >= Self.responsePrefix.count, memcmp(base, Self.responsePrefix, Self.responsePrefix.count) == 0 {
            responses += 1
            if text.contains(#""error":"#) { problem("\(label): error response: \(text)") }
        } else if !(line.count >= Self.greetingPrefix.count && memcmp(base, Self.greetingPrefix, Self.greetingPrefix.count) == 0) {
            // events.overflow, session.closed, anything else: the run does not count.
            problem("\(label): unexpected message: \(text)")
        }
    }

    private static func digits(_ line: UnsafeRawBufferPointer, _ index: inout Int) -> Int64 {
        var value: Int64 = 0
        while index < line.count, line[index] >= 48, line[index] <= 57 {
            value = value * 10 + Int64(line[index] - 48)
            index += 1
        }
        return value
    }

    /// Splits `bytes` into lines; returns how many bytes were whole lines (the rest is a partial line).
    func takeLines(_ bytes: UnsafeRawBufferPointer, now: Int64) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var offset = 0
        // memchr over the raw bytes: a per-byte Swift scan would make the instrument cost more
        // than the server it measures.
        while offset < bytes.count, let found = memchr(base + offset, 10, bytes.count - offset) {
            let end = base.distance(to: UnsafeRawPointer(found))
            take(UnsafeRawBufferPointer(rebasing: bytes[offset..<end]), now: now)
            offset = end + 1
        }
        return offset
    }

    /// After the run: every event this client had to receive, and nothing else went wrong.
    func verdict(published: Int64) -> [String] {
        var all = problems
        if problemCount > problems.count { all.append("\(label): \(problemCount - problems.count) more problems") }
        let last = expectation.last(through: published)
        if lastSeq < last { all.append("\(label): received up to seq \(lastSeq), the last of its events is \(last) (events missing at the end)") }
        if closedByServer { all.append("\(label): the server closed the connection") }
        return all
    }
}
