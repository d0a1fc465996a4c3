/// Silence for a given time (a pause between prompts), or until stopped.
public final class SilenceSource: SampleSource {
    private var remaining: Int?

    /// `samples` nil: silence until the playback is stopped.
    public init(samples: Int?) { remaining = samples }

    public convenience init(milliseconds: Int) { self.init(samples: milliseconds * 8) }

    public func fill(_ out: UnsafeMutableBufferPointer<Int16>) -> Int {
        let count = remaining.map { min($0, out.count) } ?? out.count
        guard count > 0, let destination = out.baseAddress else { return 0 }
        destination.update(repeating: 0, count: count)
        if let left = remaining { remaining = left - count }
        return count
    }
}
