/// Failed logins per peer (an IP address, or a uid on the Unix socket) in a sliding window.
/// Once a peer has used up its allowance, further attempts are refused without checking the
/// token until the oldest failure leaves the window: guessing tokens costs the window per
/// few tries. Pure: the caller passes `now` (milliseconds, monotonic).
struct LoginRateLimiter {
    let allowed: Int
    let windowMilliseconds: Int64
    /// Bounded: beyond this many peers the oldest entries are forgotten first.
    let maximumPeers: Int
    private var failures: [String: [Int64]] = [:]

    init(allowed: Int, windowMilliseconds: Int64, maximumPeers: Int = 10_000) {
        self.allowed = allowed
        self.windowMilliseconds = windowMilliseconds
        self.maximumPeers = maximumPeers
    }

    /// nil if the peer may try; otherwise how long (ms) until it may.
    mutating func retryAfter(peer: String, now: Int64) -> Int64? {
        guard var times = failures[peer] else { return nil }
        times.removeAll { now - $0 >= windowMilliseconds }
        failures[peer] = times.isEmpty ? nil : times
        guard times.count >= allowed, let oldest = times.first else { return nil }
        return max(1, oldest + windowMilliseconds - now)
    }

    mutating func recordFailure(peer: String, now: Int64) {
        if failures[peer] == nil, failures.count >= maximumPeers {
            // Drop the peer whose latest failure is oldest.
            if let stale = failures.min(by: { ($0.value.last ?? 0) < ($1.value.last ?? 0) })?.key {
                failures[stale] = nil
            }
        }
        failures[peer, default: []].append(now)
        if let count = failures[peer]?.count, count > allowed { failures[peer]?.removeFirst(count - allowed) }
    }

    mutating func recordSuccess(peer: String) {
        failures[peer] = nil
    }
}
