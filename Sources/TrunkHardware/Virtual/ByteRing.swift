/// A fixed-capacity FIFO of bytes, allocated once: a channel's receive or transmit buffer.
struct ByteRing {
    private var storage: [UInt8]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) { storage = Array(repeating: 0, count: max(capacity, 1)) }

    var capacity: Int { storage.count }
    var freeSpace: Int { storage.count - count }

    /// Appends as many of `bytes` as fit; returns how many were taken.
    @discardableResult
    mutating func append(_ bytes: UnsafeRawBufferPointer) -> Int {
        let taken = min(bytes.count, freeSpace)
        var tail = (head + count) % storage.count
        for index in 0..<taken {
            storage[tail] = bytes[index]
            tail += 1
            if tail == storage.count { tail = 0 }
        }
        count += taken
        return taken
    }

    @discardableResult
    mutating func append(_ byte: UInt8) -> Bool {
        guard count < storage.count else { return false }
        storage[(head + count) % storage.count] = byte
        count += 1
        return true
    }

    mutating func pop() -> UInt8? {
        guard count > 0 else { return nil }
        let byte = storage[head]
        head = (head + 1) % storage.count
        count -= 1
        return byte
    }

    /// Moves up to `into.count` bytes out; returns how many.
    mutating func pop(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let taken = min(buffer.count, count)
        for index in 0..<taken {
            buffer[index] = storage[head]
            head += 1
            if head == storage.count { head = 0 }
        }
        count -= taken
        return taken
    }

    mutating func removeAll() {
        head = 0
        count = 0
    }

    /// Replaces the storage, dropping what was buffered (a buffer-size change flushes, as in DAHDI).
    mutating func resize(capacity: Int) {
        storage = Array(repeating: 0, count: max(capacity, 1))
        head = 0
        count = 0
    }
}
