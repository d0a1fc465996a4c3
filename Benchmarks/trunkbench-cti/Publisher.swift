#if canImport(Glibc)
import Glibc
#endif
import TrunkCTI

/// The gateway's side: a thread (the gateway publishes from its signalling threads, not from
/// tasks) keeping the count published equal to rate × elapsed, in steps of about 0.5 ms. Event
/// `seq` is a DTMF digit on channel `seq % channels + 1` (span = 30 B-channels each), so the
/// clients know exactly which events are theirs.
final class Publisher: @unchecked Sendable {
    // Written by the thread, read after `thread.join()`.
    private(set) var published = 0
    private(set) var inWindow = 0
    private(set) var costs: [Int64] = []
    private(set) var failure: String?
    private(set) var thread: BenchThread! = nil

    init(hub: CTIEventHub, rate: Int, channels: Int, start: Int64, windowStart: Int64, windowEnd: Int64, stopAt: Int64) {
        costs.reserveCapacity(Int(Double(stopAt - start) / 1e9 * Double(rate)) + 1024)
        thread = BenchThread(name: "bench-publisher") { [self] in
            while true {
                let now = monotonicNanoseconds()
                if now >= stopAt { break }
                let due = now < start ? 0 : Int((now - start) * Int64(rate) / 1_000_000_000)
                while published < due {
                    let seq = published + 1
                    let channel = Expectation.channel(ofSeq: Int64(seq), channels: channels)
                    let before = monotonicNanoseconds()
                    let assigned = hub.publish(
                        CTIEvent(
                            .channelDTMF, callID: "call-\(channel)", channel: channel, span: (channel - 1) / 30 + 1,
                            fields: [("digit", .string(String(seq % 10))), ("duration_ms", 80)]))
                    costs.append(monotonicNanoseconds() - before)
                    published = seq
                    if assigned != UInt64(seq), failure == nil { failure = "the hub numbered event \(seq) as seq \(assigned)" }
                    if now >= windowStart && now < windowEnd { inWindow += 1 }
                }
                var pause = timespec(tv_sec: 0, tv_nsec: 500_000)
                nanosleep(&pause, nil)
            }
        }
    }
}
