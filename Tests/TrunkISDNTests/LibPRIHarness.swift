import CLibPRIPeer
import Glibc
import TrunkISDN

/// CRC-16/X.25, the HDLC frame check sequence of Q.921 §2.7 (ISO/IEC 13239).
enum HDLCFrameCheck {
    static func fcs<C: Collection>(_ bytes: C) -> UInt16 where C.Element == UInt8 {
        var crc: UInt16 = 0xFFFF
        for byte in bytes {
            crc ^= UInt16(byte)
            for _ in 0..<8 {
                crc = crc & 1 != 0 ? (crc >> 1) ^ 0x8408 : crc >> 1
            }
        }
        return ~crc
    }

    /// The frame followed by its FCS, low octet first, as an HDLC controller sends it.
    static func appendingFCS(_ frame: [UInt8]) -> [UInt8] {
        let fcs = fcs(frame)
        return frame + [UInt8(fcs & 0xFF), UInt8(fcs >> 8)]
    }
}

/// The monotonic clock both the harness and the TrunkISDN stack read.
func monotonicNow() -> ISDNInstant {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ISDNInstant(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
}

/// A libpri event copied out of libpri, with the C strings turned into Swift strings.
struct LibPRIEvent: CustomStringConvertible {
    var type: Int32
    var channel: Int32
    var cause: Int32
    var complete: Bool
    var call: OpaquePointer?
    var called: String
    var calling: String
    var digits: String

    init(_ raw: lpp_event) {
        var raw = raw
        type = raw.type
        // libpri packs span and explicit-interface flags above the channel number.
        channel = raw.channel < 0 ? -1 : raw.channel & 0xFF
        cause = raw.cause
        complete = raw.complete != 0
        call = raw.call
        called = withUnsafeBytes(of: &raw.called) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        calling = withUnsafeBytes(of: &raw.calling) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        digits = withUnsafeBytes(of: &raw.digits) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
    }

    var description: String {
        "\(String(cString: pri_event2str(type))) ch=\(channel) cause=\(cause) called=\(called) calling=\(calling)"
    }
}

/// TrunkISDN's `PRIDChannel` and a libpri stack cabled back to back over a SOCK_SEQPACKET
/// socket pair, both on real time.
///
/// The harness plays the DAHDI HDLC driver for TrunkISDN: frames it writes get a real FCS,
/// frames libpri writes lose their 2 FCS octets. It also plays the call manager on both sides:
/// the tests read the recorded indications and events and answer them through `trunk(_:)` and
/// libpri's API. The "cable" can be cut, which loses frames in both directions.
final class LibPRIHarness {
    let trunkRole: ISDNRole
    private(set) var trunk: PRIDChannel
    private let trunkFD: Int32
    private let libpriFD: Int32
    let peer: OpaquePointer
    var pri: OpaquePointer { lpp_pri(peer) }
    var cableConnected = true
    /// Frames from libpri for which this returns true are lost (before TrunkISDN sees them).
    var dropFromLibPRI: ([UInt8]) -> Bool = { _ in false }

    private var timers: [PRITimer: ISDNInstant] = [:]
    /// Indications and events not yet taken by the test.
    private var pendingIndications: [Q931Indication] = []
    private var pendingEvents: [LibPRIEvent] = []
    /// Everything, for assertions at the end.
    private(set) var allIndications: [Q931Indication] = []
    private(set) var allEvents: [LibPRIEvent] = []
    private(set) var trunkLinkChanges: [Bool] = []
    private(set) var trunkDataLinkErrors: [Q921Error] = []
    private(set) var trunkCallControlErrors: [Q931ProtocolError] = []
    /// Frames each side put on the wire (without FCS), in order.
    private(set) var framesFromTrunk: [[UInt8]] = []
    private(set) var framesFromLibPRI: [[UInt8]] = []
    var recordFrames = true

    private var readBuffer = [UInt8](repeating: 0, count: 1024)
    private var writeBuffer: [UInt8] = []
    private var eventBuffer = [lpp_event](repeating: lpp_event(), count: 64)

    /// - Parameters:
    ///   - trunkRole: the side TrunkISDN plays; libpri plays the other.
    ///   - startLibPRI: create libpri at once (it starts its data link as soon as it exists).
    init(
        trunkRole: ISDNRole,
        dataLink: Q921Configuration? = nil,
        callControl: Q931Configuration? = nil,
        libpriTimers: [(Int32, Int32)] = [],
        deferredAcknowledgement: Bool = false
    ) {
        self.trunkRole = trunkRole
        trunk = PRIDChannel(
            dataLink: dataLink ?? Q921Configuration(role: trunkRole),
            callControl: callControl ?? Q931Configuration(role: trunkRole))
        // Played like a driver that flushes the owed RR before it waits (see `pump`).
        trunk.defersAcknowledgementToDriver = deferredAcknowledgement
        var fds: [Int32] = [0, 0]
        let rc = socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue), 0, &fds)
        precondition(rc == 0, "socketpair failed: \(errno)")
        trunkFD = fds[0]
        libpriFD = fds[1]
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        guard let peer = lpp_new(libpriFD, trunkRole == .user ? 1 : 0) else {
            preconditionFailure("libpri did not create a D-channel")
        }
        self.peer = peer
        for (timer, value) in libpriTimers {
            pri_set_timer(lpp_pri(peer), timer, value)
        }
        writeBuffer.reserveCapacity(512)
    }

    deinit {
        lpp_close(peer)
        close(trunkFD)
        close(libpriFD)
    }

    // MARK: - Driving TrunkISDN

    func startTrunk() {
        let now = monotonicNow()
        perform(trunk.start(now: now), now: now)
    }

    func trunk(_ body: (inout Q931Interface, ISDNInstant) -> [Q931Action]) {
        let now = monotonicNow()
        perform(trunk.callControl(now: now) { body(&$0, now) }, now: now)
    }

    func trunkSetup(_ request: Q931SetupRequest) -> Q931CallID? {
        let now = monotonicNow()
        let (call, actions) = trunk.setupRequest(request, now: now)
        perform(actions, now: now)
        return call
    }

    private func perform(_ actions: [PRIAction], now: ISDNInstant) {
        for action in actions {
            switch action {
            case .transmit(let frame):
                writeBuffer.removeAll(keepingCapacity: true)
                frame.encode(into: &writeBuffer)
                if recordFrames { framesFromTrunk.append(writeBuffer) }
                guard cableConnected else { continue }
                let fcs = HDLCFrameCheck.fcs(writeBuffer)
                writeBuffer.append(UInt8(fcs & 0xFF))
                writeBuffer.append(UInt8(fcs >> 8))
                let written = writeBuffer.withUnsafeBytes { write(trunkFD, $0.baseAddress, $0.count) }
                precondition(written == writeBuffer.count, "D-channel write failed: \(errno)")
            case .startTimer(let timer, let deadline):
                timers[timer] = deadline
            case .stopTimer(let timer):
                timers[timer] = nil
            case .indication(let indication):
                pendingIndications.append(indication)
                allIndications.append(indication)
            case .dataLinkChanged(let up):
                trunkLinkChanges.append(up)
            case .dataLinkError(let error):
                trunkDataLinkErrors.append(error)
            case .callControlError(let error):
                trunkCallControlErrors.append(error)
            }
        }
    }

    // MARK: - The loop

    /// One round: waits up to `maximumWait` for frames or the next timer of either stack, then
    /// delivers frames and runs due timers on both sides.
    func pump(maximumWait: Duration = .milliseconds(20)) {
        var waitMs = Int32(maximumWait.components.seconds * 1000 + maximumWait.components.attoseconds / 1_000_000_000_000_000)
        let now = monotonicNow()
        if let next = timers.values.min() {
            let ms = (next.nanoseconds - now.nanoseconds) / 1_000_000
            waitMs = min(waitMs, Int32(max(0, ms)))
        }
        // The test has answered what the last round brought: the RR still owed, if any, goes
        // now, before the wait (a no-op unless acknowledgements are deferred to the driver).
        var owed: [PRIAction] = []
        trunk.sendPendingAcknowledgement(now: now, into: &owed)
        perform(owed, now: now)
        let libpriWait = lpp_next_timeout_ms(peer)
        if libpriWait >= 0 { waitMs = min(waitMs, libpriWait) }
        var fds = [pollfd(fd: trunkFD, events: Int16(POLLIN), revents: 0), pollfd(fd: libpriFD, events: Int16(POLLIN), revents: 0)]
        _ = poll(&fds, 2, waitMs)
        receiveTrunkFrames()
        collect(lpp_receive(peer, &eventBuffer, Int32(eventBuffer.count)))
        runTrunkTimers()
        collect(lpp_run_timers(peer, &eventBuffer, Int32(eventBuffer.count)))
    }

    private func receiveTrunkFrames() {
        while true {
            let count = readBuffer.withUnsafeMutableBytes { read(trunkFD, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            // libpri leaves the 2 FCS octets for the HDLC driver to fill in; drop them.
            let frame = Array(readBuffer[0..<max(0, count - 2)])
            if recordFrames { framesFromLibPRI.append(frame) }
            guard cableConnected, !dropFromLibPRI(frame) else { continue }
            let now = monotonicNow()
            perform(trunk.frameReceived(frame[...], now: now), now: now)
        }
    }

    private func runTrunkTimers() {
        while true {
            let now = monotonicNow()
            guard let (timer, deadline) = timers.min(by: { $0.value < $1.value }), deadline <= now else { return }
            timers[timer] = nil
            perform(trunk.timerExpired(timer, now: now), now: now)
        }
    }

    private func collect(_ count: Int32) {
        for index in 0..<Int(count) {
            let event = LibPRIEvent(eventBuffer[index])
            pendingEvents.append(event)
            allEvents.append(event)
        }
    }

    /// Hands over what happened since the last call.
    func takeIndications() -> [Q931Indication] {
        defer { pendingIndications.removeAll(keepingCapacity: true) }
        return pendingIndications
    }

    func takeEvents() -> [LibPRIEvent] {
        defer { pendingEvents.removeAll(keepingCapacity: true) }
        return pendingEvents
    }

    /// Pumps until `condition` holds or `timeout` passes; returns whether it held.
    @discardableResult
    func run(for timeout: Duration, until condition: () -> Bool = { false }) -> Bool {
        let end = monotonicNow() + timeout
        while monotonicNow() < end {
            if condition() { return true }
            pump(maximumWait: .milliseconds(10))
        }
        return condition()
    }

    /// Pumps until an event of `type` arrives; takes it and returns it.
    func waitForEvent(_ type: Int32, timeout: Duration = .seconds(3), where match: (LibPRIEvent) -> Bool = { _ in true }) -> LibPRIEvent? {
        var found: LibPRIEvent?
        run(for: timeout) {
            if let index = pendingEvents.firstIndex(where: { $0.type == type && match($0) }) {
                found = pendingEvents.remove(at: index)
            }
            return found != nil
        }
        return found
    }

    /// Pumps until TrunkISDN indicates something `match` picks; takes that indication and
    /// returns what `match` made of it.
    func waitForIndication<T>(timeout: Duration = .seconds(3), _ match: (Q931Indication) -> T?) -> T? {
        var found: T?
        run(for: timeout) {
            for (index, indication) in pendingIndications.enumerated() {
                if let value = match(indication) {
                    found = value
                    pendingIndications.remove(at: index)
                    break
                }
            }
            return found != nil
        }
        return found
    }

    var libpriErrorCount: Int { Int(lpp_error_count(peer)) }
    var libpriLastError: String { String(cString: lpp_last_error(peer)) }

    /// Both data links are up: TrunkISDN's is established and libpri reported DCHAN_UP.
    func bringUp(startTrunk: Bool = true, timeout: Duration = .seconds(3)) -> Bool {
        if startTrunk { self.startTrunk() }
        return run(for: timeout) {
            trunk.dataLink.isEstablished && allEvents.contains { $0.type == PRI_EVENT_DCHAN_UP }
        }
    }
}

extension Q931Indication {
    var clearedCall: (Q931CallID, Q850Cause)? {
        if case .cleared(let id, let cause, _) = self { return (id, cause) }
        return nil
    }
}
