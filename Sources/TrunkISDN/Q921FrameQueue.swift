/// The data link's I-frame payloads in order, each in a buffer the queue keeps in its slot.
///
/// A ring of buffers written in place: a payload is written straight into the next slot's
/// buffer (`writeNext`, `appendWritten`), acknowledging frames at the front only moves the
/// head, and the buffer is written again when the ring comes round to it. So queueing and
/// acknowledging a payload retain and release nothing; only a frame that carries one holds a
/// reference (a slice of the buffer). If a frame still holds it when the slot is written again,
/// copy-on-write gives the new payload a fresh buffer and the frame is not disturbed.
struct Q921FrameQueue: Sendable {
    private struct Slot: Sendable {
        /// Empty until the slot is first written, so a quiet link allocates little.
        var buffer: [UInt8] = []
        /// Octets of `buffer` the payload takes.
        var count = 0
    }

    private var slots: [Slot]
    /// Index in `slots` of element 0.
    private var head = 0
    private(set) var count = 0

    init(initialCapacity: Int = 16) {
        var capacity = 1
        while capacity < initialCapacity { capacity <<= 1 }
        slots = Array(repeating: Slot(), count: capacity)
    }

    var isEmpty: Bool { count == 0 }

    /// The payload at `position`, sharing its slot's buffer.
    subscript(position: Int) -> ArraySlice<UInt8> {
        slots.withUnsafeBufferPointer { slots in
            let slot = (head + position) & (slots.count - 1)
            return slots[slot].buffer[0..<slots[slot].count]
        }
    }

    /// Writes a payload into the buffer of the slot after the last element, for
    /// `appendWritten` to add to the queue. `write` puts the payload at the start of the buffer
    /// it is given and returns its length, or nil if it does not fit (it is then given one twice
    /// the size). Returns the length, or nil for a payload longer than `limit`, which is not
    /// written.
    mutating func writeNext<E: Error>(
        limit: Int, _ write: (UnsafeMutableBufferPointer<UInt8>) throws(E) -> Int?
    ) throws(E) -> Int? {
        if count == slots.count { grow() }
        let slot = (head + count) & (slots.count - 1)
        // Room for any usual message.
        var room = Swift.max(slots[slot].buffer.count, 64)
        if slots[slot].buffer.count < room { slots[slot].buffer = Array(repeating: 0, count: room) }
        while true {
            if let length = try slots[slot].buffer.withUnsafeMutableBufferPointer({ buffer throws(E) in try write(buffer) }) {
                guard length <= limit else { return nil }
                slots[slot].count = length
                return length
            }
            // A buffer longer than `limit` that was too small: the payload is too long.
            guard room <= limit else { return nil }
            room *= 2
            slots[slot].buffer = Array(repeating: 0, count: room)
        }
    }

    /// Adds the payload `writeNext` wrote as the last element.
    mutating func appendWritten() {
        count += 1
    }

    /// Drops the first `n` payloads (at most `count`); their buffers stay for later payloads.
    /// Inlined: only the head and count move.
    @inline(__always)
    mutating func removeFirst(_ n: Int) {
        let n = Swift.min(n, count)
        head = (head + n) & (slots.count - 1)
        count -= n
    }

    mutating func removeAll() {
        removeFirst(count)
        head = 0
    }

    /// Doubles the ring, unrolling it so element 0 is at slot 0 again; every buffer is kept.
    private mutating func grow() {
        var larger: [Slot] = []
        larger.reserveCapacity(slots.count * 2)
        for position in 0..<slots.count { larger.append(slots[(head + position) & (slots.count - 1)]) }
        larger.append(contentsOf: repeatElement(Slot(), count: slots.count))
        slots = larger
        head = 0
    }
}
