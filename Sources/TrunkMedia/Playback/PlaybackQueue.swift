/// One playback waiting or playing on a channel.
struct PlaybackItem {
    var source: any SampleSource
    var id: UInt32
    var gain: MediaGain
    /// Mixed over the switched audio (an announcement in a conference) rather than replacing it.
    var mixesWithSwitched: Bool
}

/// A channel's playbacks in order, in fixed storage: when one source runs out mid-block the
/// next one continues at the following sample, so queued prompts play without a gap.
/// A class held by a `let`, so that the loop asks `isEmpty` without copying the storage.
final class PlaybackQueue {
    static let capacity = 8
    private var items: [PlaybackItem?]
    private var head = 0
    private(set) var count = 0

    init() {
        items = Array(repeating: nil, count: Self.capacity)
    }

    var isEmpty: Bool { count == 0 }
    var first: PlaybackItem? { count > 0 ? items[head] : nil }

    func append(_ item: PlaybackItem) -> Bool {
        guard count < Self.capacity else { return false }
        items[(head + count) % Self.capacity] = item
        count += 1
        return true
    }

    /// Takes the playing item out; the caller retires its source off the loop.
    func removeFirst() -> PlaybackItem? {
        guard count > 0 else { return nil }
        let item = items[head]
        items[head] = nil
        head = (head + 1) % Self.capacity
        count -= 1
        return item
    }
}
