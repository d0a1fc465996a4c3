import CDAHDI
import TrunkCore
#if canImport(Glibc)
import Glibc
#endif

/// A timing source from `/dev/dahdi/timer`: DAHDI_TIMERCONFIG sets the period in samples
/// (8 = every 1 ms tick, 160 = 20 ms); each expiry shows as POLLPRI and is acknowledged with
/// DAHDI_TIMERACK. This is how a media loop keeps the cards' clock when it has no channel of
/// its own to read.
public final class DAHDITimer: @unchecked Sendable {
    public static let path = "/dev/dahdi/timer"
    public let samplesPerExpiry: Int
    private let system: DAHDISystem
    private let fd: Int32
    private var closed = false

    public init(samples: Int = Tick.samplesPerTick, system: DAHDISystem = .live, path: String = DAHDITimer.path) throws(TrunkError) {
        guard samples >= Tick.samplesPerTick && samples % Tick.samplesPerTick == 0 else {
            throw TrunkError(.invalidArgument, "a DAHDI timer counts whole 8-sample ticks, not \(samples) samples")
        }
        self.samplesPerExpiry = samples
        self.system = system
        let opened = system.open(path, O_RDWR | O_NONBLOCK)
        guard !opened.failed else {
            throw TrunkError(.deviceError, "\(path): \(errnoText(opened.errno))\(opened.errno == EACCES ? " — is trunkd in group trunkline?" : "")")
        }
        fd = Int32(opened.value)
        var value = Int32(samples)
        let configured = withUnsafeMutableBytes(of: &value) { system.ioctl(fd, CDAHDI_TIMERCONFIG, $0.baseAddress) }
        guard !configured.failed else {
            _ = system.close(fd)
            throw TrunkError(.deviceError, "\(path): DAHDI_TIMERCONFIG: \(errnoText(configured.errno))")
        }
    }

    deinit { close() }

    /// Waits up to `timeoutMs` for the timer; returns how many expiries were acknowledged
    /// (more than one when the caller was late), 0 on timeout.
    public func wait(timeoutMs: Int32) throws(TrunkError) -> Int {
        var expiries = 0
        var timeout = timeoutMs
        while true {
            let (result, revents) = system.poll(fd, Int16(POLLPRI), timeout)
            if result.failed {
                if result.errno == EINTR { continue }
                throw TrunkError(.deviceError, "\(Self.path): poll: \(errnoText(result.errno))")
            }
            guard result.value > 0, revents & Int16(POLLPRI) != 0 else { return expiries }
            var one: Int32 = 1
            let acknowledged = withUnsafeMutableBytes(of: &one) { system.ioctl(fd, CDAHDI_TIMERACK, $0.baseAddress) }
            guard !acknowledged.failed else { throw TrunkError(.deviceError, "\(Self.path): DAHDI_TIMERACK: \(errnoText(acknowledged.errno))") }
            expiries += 1
            // Collect expiries already due without waiting again.
            timeout = 0
        }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        _ = system.close(fd)
    }
}
