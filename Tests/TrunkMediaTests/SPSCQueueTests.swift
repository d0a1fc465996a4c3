#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import TrunkMedia

@Suite("Lock-free SPSC queues")
struct SPSCQueueTests {
    @Test("a queue holds its capacity, refuses more, and gives elements back in order")
    func bounded() {
        let queue = SPSCQueue<Int>(capacity: 5)
        #expect(queue.capacity == 8)
        for value in 0..<8 { #expect(queue.push(value)) }
        #expect(!queue.push(8))
        #expect((0..<8).map { _ in queue.pop() } == (0..<8).map { Optional($0) })
        #expect(queue.pop() == nil)
    }

    /// Hands `count` values from a producer thread to the calling thread; returns what arrived.
    static func transfer(_ count: Int, capacity: Int) -> [Int] {
        final class Shared: @unchecked Sendable {
            let queue: SPSCQueue<Int>
            let count: Int
            init(queue: SPSCQueue<Int>, count: Int) { self.queue = queue; self.count = count }
        }
        let shared = Shared(queue: SPSCQueue(capacity: capacity), count: count)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(shared).toOpaque()
        pthread_create(&thread, nil, { raw in
            let shared = Unmanaged<Shared>.fromOpaque(raw!).takeRetainedValue()
            var next = 0
            while next < shared.count {
                if shared.queue.push(next) { next += 1 } else { sched_yield() }
            }
            return nil
        }, context)
        var received: [Int] = []
        received.reserveCapacity(count)
        while received.count < count {
            if let value = shared.queue.pop() { received.append(value) } else { sched_yield() }
        }
        pthread_join(thread, nil)
        return received
    }

    @Test("across two threads every element arrives once, in order, through a small queue")
    func concurrent() {
        let received = Self.transfer(200_000, capacity: 16)
        #expect(received == Array(0..<200_000))
    }

    @Test("a stereo ring interleaves left and right and stamps each block with its sample time")
    func stereoRing() {
        let ring = StereoBlockRing(blockFrames: 4, capacityBlocks: 2)
        let left: [Int16] = [1, 2, 3, 4]
        let right: [Int16] = [-1, -2, -3, -4]
        #expect(ring.push(left: left, right: right, sampleTime: 40))
        #expect(ring.push(left: right, right: left, sampleTime: 44))
        #expect(!ring.push(left: left, right: right, sampleTime: 48))
        #expect(ring.overflowCount == 1)
        var out = [Int16](repeating: 0, count: 8)
        #expect(out.withUnsafeMutableBufferPointer { ring.pop(into: $0) } == 40)
        #expect(out == [1, -1, 2, -2, 3, -3, 4, -4])
        #expect(out.withUnsafeMutableBufferPointer { ring.pop(into: $0) } == 44)
        #expect(out.withUnsafeMutableBufferPointer { ring.pop(into: $0) } == nil)
    }
}

@Suite("Media loop thread")
struct MediaLoopThreadTests {
    @Test("a loop thread on a monotonic clock ticks, reports its real-time grant and records lateness")
    func runs() throws {
        let loop = MediaLoop(configuration: MediaLoopConfiguration(blockSize: .ms8, maximumChannels: 4, maximumConferences: 1))
        let thread = MediaLoopThread(loop: loop, source: MonotonicTickSource(), lockMemory: false)
        let grant = try thread.start()
        #expect(!grant.description.isEmpty && !grant.memoryLocked)
        #expect(grant.fifoPriority != nil || !grant.refusals.isEmpty, "SCHED_FIFO was granted or its refusal is reported")
        // Generous: the machine may be loaded; only progress is checked, not speed.
        for _ in 0..<5000 where loop.statistics.ticks.load(ordering: .relaxed) < 20 { usleep(1000) }
        thread.stop()
        let ticks = loop.statistics.ticks.load(ordering: .relaxed)
        #expect(ticks >= 20)
        #expect(thread.completionLateness.count > 0 && thread.wakeLateness.count == thread.completionLateness.count)
        // Stopped means stopped.
        usleep(20_000)
        #expect(loop.statistics.ticks.load(ordering: .relaxed) == ticks)
    }
}
