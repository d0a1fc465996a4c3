import Synchronization

/// A bounded lock-free queue for exactly one producer thread and one consumer thread: how
/// commands reach the media loop and events and retired objects leave it. Storage is
/// allocated once; `push` and `pop` never allocate, never block and never take a lock.
///
/// Indices only grow (wrapping is impossible in practice with `Int`); each side writes only
/// its own index, publishing with release and reading the other's with acquire, so an element
/// is fully written before the consumer can see it and fully moved out before its slot is reused.
public final class SPSCQueue<Element>: @unchecked Sendable {
    public let capacity: Int
    private let mask: Int
    private let storage: UnsafeMutablePointer<Element>
    /// Next slot to read; written by the consumer only.
    private let head = Atomic<Int>(0)
    /// Next slot to write; written by the producer only.
    private let tail = Atomic<Int>(0)

    /// `capacity` is rounded up to a power of two.
    public init(capacity: Int) {
        precondition(capacity > 0, "an SPSC queue needs room for at least one element")
        var size = 1
        while size < capacity { size <<= 1 }
        self.capacity = size
        mask = size - 1
        storage = .allocate(capacity: size)
    }

    deinit {
        var index = head.load(ordering: .relaxed)
        let end = tail.load(ordering: .relaxed)
        while index != end {
            (storage + (index & mask)).deinitialize(count: 1)
            index += 1
        }
        storage.deallocate()
    }

    /// Producer side. False when full: the element is not queued (the caller counts it).
    @inline(__always)
    public func push(_ element: consuming Element) -> Bool {
        let position = tail.load(ordering: .relaxed)
        guard position - head.load(ordering: .acquiring) < capacity else { return false }
        (storage + (position & mask)).initialize(to: element)
        tail.store(position + 1, ordering: .releasing)
        return true
    }

    /// Consumer side. Nil when empty.
    @inline(__always)
    public func pop() -> Element? {
        let position = head.load(ordering: .relaxed)
        guard position != tail.load(ordering: .acquiring) else { return nil }
        let element = (storage + (position & mask)).move()
        head.store(position + 1, ordering: .releasing)
        return element
    }

    /// Elements queued at this instant (exact only from one of the two sides' threads).
    public var count: Int { tail.load(ordering: .acquiring) - head.load(ordering: .acquiring) }
}
