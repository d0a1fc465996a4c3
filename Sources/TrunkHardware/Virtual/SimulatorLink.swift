#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import TrunkCore

/// Carries the simulator's cables between two processes over a Unix SOCK_SEQPACKET socket, so
/// the carrier (trunksim) and the call centre (trunkd) run apart while every tick still moves
/// real line signals. The carrier side is the clock master: each of its ticks sends one
/// message holding its remote ends' line signals and waits for the peer's for the same tick.
/// A peer that is gone or silent is a dead line: the far spans see loss of signal.
public enum LinkWire {
    static let magic: [UInt8] = Array("TLK1".utf8)
    static let headerBytes = 12 // magic + tick (UInt64 LE)
    static let replyTimeoutMs: Int32 = 100

    static func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        while true {
            let sent = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if sent == bytes.count { return true }
            if sent < 0 && errno == EINTR { continue }
            return false
        }
    }

    /// Waits up to `timeoutMs` for one message; nil on timeout, EOF or error.
    static func receive(_ fd: Int32, into buffer: inout [UInt8], timeoutMs: Int32) -> Int? {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&descriptor, 1, timeoutMs)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            break
        }
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count > 0 ? count : nil
    }

    public static func address(_ path: String) throws(TrunkError) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw TrunkError(.invalidArgument, "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        return address
    }
}

/// The clock-master end (trunksim): accepts one peer at a time and exchanges every tick with it.
public final class SimulatorLinkMaster: @unchecked Sendable {
    private let listener: Int32
    private let path: String
    private let peer = Mutex<Int32>(-1)
    private let payloadSize: Int
    private var message: [UInt8]
    private var reply: [UInt8]
    private let accepting = Atomic<Bool>(true)
    private var acceptThread: pthread_t?

    public init(path: String, simulator: LineSimulator) throws(TrunkError) {
        self.path = path
        payloadSize = simulator.remotePayloadSize
        message = Array(repeating: 0, count: LinkWire.headerBytes + payloadSize)
        reply = Array(repeating: 0, count: LinkWire.headerBytes + payloadSize + 64)
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TrunkError(.internal, "socket(): \(String(cString: strerror(errno)))") }
        var address = try LinkWire.address(path)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 1) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw TrunkError(.deviceError, "cannot listen on \(path): \(reason)")
        }
        chmod(path, 0o600)
        listener = fd
        simulator.attach(exchange: { [unowned self] outgoing, tick in self.exchange(outgoing, tick: tick) })
        let context = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        pthread_create(&handle, nil, { raw in
            let link = Unmanaged<SimulatorLinkMaster>.fromOpaque(raw!).takeRetainedValue()
            link.acceptLoop()
            return nil
        }, context)
        acceptThread = handle
    }

    public var isConnected: Bool { peer.withLock { $0 >= 0 } }

    private func acceptLoop() {
        while accepting.load(ordering: .acquiring) {
            var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 200) > 0 else { continue }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            // The peer introduces itself with the payload size it expects; a mismatch means the
            // two sides were built from different topologies.
            var hello = [UInt8](repeating: 0, count: 16)
            guard let count = LinkWire.receive(fd, into: &hello, timeoutMs: 2000), count == 8,
                  Array(hello[0..<4]) == LinkWire.magic else {
                Glibc.close(fd)
                continue
            }
            let expected = Int(UInt32(hello[4]) | UInt32(hello[5]) << 8 | UInt32(hello[6]) << 16 | UInt32(hello[7]) << 24)
            let answer: [UInt8] = expected == payloadSize ? Array("OKAY".utf8) : Array("SIZE".utf8)
            _ = answer.withUnsafeBytes { LinkWire.sendAll(fd, $0) }
            guard expected == payloadSize else {
                Glibc.close(fd)
                continue
            }
            let previous = peer.withLock { old in
                let previous = old
                old = fd
                return previous
            }
            if previous >= 0 { Glibc.close(previous) }
        }
    }

    private func exchange(_ outgoing: UnsafeRawBufferPointer, tick: UInt64) -> UnsafeRawBufferPointer? {
        let fd = peer.withLock { $0 }
        guard fd >= 0 else { return nil }
        for index in 0..<4 { message[index] = LinkWire.magic[index] }
        for index in 0..<8 { message[4 + index] = UInt8(truncatingIfNeeded: tick >> (8 * UInt64(index))) }
        for index in 0..<outgoing.count { message[LinkWire.headerBytes + index] = outgoing[index] }
        let sent = message.withUnsafeBytes { LinkWire.sendAll(fd, $0) }
        guard sent, let count = LinkWire.receive(fd, into: &reply, timeoutMs: LinkWire.replyTimeoutMs),
              count == LinkWire.headerBytes + payloadSize else {
            dropPeer(fd)
            return nil
        }
        return reply.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[LinkWire.headerBytes..<count]) }
    }

    private func dropPeer(_ fd: Int32) {
        peer.withLock { if $0 == fd { $0 = -1 } }
        Glibc.close(fd)
    }

    public func close() {
        accepting.store(false, ordering: .releasing)
        if let acceptThread { pthread_join(acceptThread, nil) }
        acceptThread = nil
        peer.withLock {
            if $0 >= 0 { Glibc.close($0) }
            $0 = -1
        }
        Glibc.close(listener)
        unlink(path)
    }
}

/// The follower end (trunkd with its far ends in trunksim): its ticks are the master's
/// messages, as a card's clock is recovered from the line. While the master is unreachable
/// it free-runs on its own clock with dead lines, and keeps trying to reconnect.
public final class SimulatorLinkFollower: @unchecked Sendable {
    private let path: String
    private let simulator: LineSimulator
    private let fallbackClock: SimulatorClock
    private let running = Atomic<Bool>(true)
    private let connected = Atomic<Bool>(false)
    private var thread: pthread_t?
    private var incoming: [UInt8]
    private var replyBuffer: [UInt8]
    private var currentFD: Int32 = -1
    private var incomingCount = 0

    public init(path: String, simulator: LineSimulator) {
        self.path = path
        self.simulator = simulator
        fallbackClock = SimulatorClock(simulator: simulator)
        incoming = Array(repeating: 0, count: LinkWire.headerBytes + simulator.remotePayloadSize + 64)
        replyBuffer = Array(repeating: 0, count: LinkWire.headerBytes + simulator.remotePayloadSize)
    }

    public var isConnected: Bool { connected.load(ordering: .acquiring) }

    public func start() throws(TrunkError) {
        try fallbackClock.start()
        let context = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        pthread_create(&handle, nil, { raw in
            let link = Unmanaged<SimulatorLinkFollower>.fromOpaque(raw!).takeRetainedValue()
            link.run()
            return nil
        }, context)
        thread = handle
    }

    public func stop() {
        running.store(false, ordering: .releasing)
        if let thread { pthread_join(thread, nil) }
        thread = nil
        fallbackClock.stop()
    }

    private func connectOnce() -> Int32? {
        let fd = socket(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0, var address = try? LinkWire.address(path) else { return nil }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            close(fd)
            return nil
        }
        let size = UInt32(simulator.remotePayloadSize)
        let hello = LinkWire.magic + [UInt8(truncatingIfNeeded: size), UInt8(truncatingIfNeeded: size >> 8),
                                      UInt8(truncatingIfNeeded: size >> 16), UInt8(truncatingIfNeeded: size >> 24)]
        var answer = [UInt8](repeating: 0, count: 8)
        guard hello.withUnsafeBytes({ LinkWire.sendAll(fd, $0) }),
              LinkWire.receive(fd, into: &answer, timeoutMs: 2000) == 4, Array(answer[0..<4]) == Array("OKAY".utf8) else {
            close(fd)
            return nil
        }
        return fd
    }

    private func run() {
        while running.load(ordering: .acquiring) {
            guard let fd = connectOnce() else {
                var pause = timespec(tv_sec: 0, tv_nsec: 250_000_000)
                nanosleep(&pause, nil)
                continue
            }
            fallbackClock.stop()
            connected.store(true, ordering: .releasing)
            currentFD = fd
            while running.load(ordering: .acquiring) {
                guard let count = LinkWire.receive(fd, into: &incoming, timeoutMs: 500),
                      count == LinkWire.headerBytes + simulator.remotePayloadSize else { break }
                incomingCount = count
                simulator.tickOnce(exchange: { [unowned self] outgoing, _ in self.answer(outgoing) })
            }
            connected.store(false, ordering: .releasing)
            close(fd)
            currentFD = -1
            if running.load(ordering: .acquiring) { try? fallbackClock.start() }
        }
    }

    /// Sends this tick's line signals back and hands the master's to the simulator.
    private func answer(_ outgoing: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        for index in 0..<LinkWire.headerBytes { replyBuffer[index] = incoming[index] }
        for index in 0..<outgoing.count { replyBuffer[LinkWire.headerBytes + index] = outgoing[index] }
        guard replyBuffer.withUnsafeBytes({ LinkWire.sendAll(currentFD, $0) }) else { return nil }
        return incoming.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[LinkWire.headerBytes..<incomingCount]) }
    }
}
