/// The data link's I-frame payloads in order: a ring, so acknowledging frames at the front
/// moves no other element (an array's `removeFirst` shifts and retains every one left).
struct Q921FrameQueue: Sendable {
    private var slots: [ArraySlice<UInt8>]
    /// Index in `slots` of element 0.
    private var head = 0
    private(set) var count = 0

    init(initialCapacity: Int = 16) {
        var capacity = 1
        while capacity < initialCapacity { capacity <<= 1 }
        slots = Array(repeating: [], count: capacity)
    }

    var isEmpty: Bool { count == 0 }

    subscript(position: Int) -> ArraySlice<UInt8> {
        slots[(head + position) & (slots.count - 1)]
    }

    mutating func append(_ payload: consuming ArraySlice<UInt8>) {
        if count == slots.count { grow() }
        slots[(head + count) & (slots.count - 1)] = consume payload
        count += 1
    }

    /// Drops the first `n` payloads (at most `count`).
    mutating func removeFirst(_ n: Int) {
        let n = min(n, count)
        let mask = slots.count - 1
        for offset in 0..<n {
            // Released now rather than when the slot is next written.
            slots[(head + offset) & mask] = []
        }
        head = (head + n) & mask
        count -= n
    }

    mutating func removeAll() {
        removeFirst(count)
        head = 0
    }

    /// Doubles the ring, unrolling it so element 0 is at slot 0 again.
    private mutating func grow() {
        var larger: [ArraySlice<UInt8>] = []
        larger.reserveCapacity(slots.count * 2)
        for position in 0..<count { larger.append(self[position]) }
        larger.append(contentsOf: repeatElement([], count: slots.count * 2 - count))
        slots = larger
        head = 0
    }
}
