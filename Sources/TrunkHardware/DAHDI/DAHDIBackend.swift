import CDAHDI
import TrunkCore
#if canImport(Glibc)
import Glibc
#endif

/// Spans and channels of the DAHDI kernel devices, discovered as `dahdi_scan` does:
/// DAHDI_SPANSTAT on `/dev/dahdi/ctl` for every span number, DAHDI_GET_PARAMS per channel.
public final class DAHDIBackend: TelephonyBackend, @unchecked Sendable {
    public let name = "dahdi"
    public static let maximumSpans = 128
    private let system: DAHDISystem
    private let root: String

    public init(system: DAHDISystem = .live, root: String = "/dev/dahdi") {
        self.system = system
        self.root = root
    }

    /// Whether the kernel side is there at all (the modules loaded, `/dev/dahdi/ctl` present).
    public var devicesPresent: Bool { system.fileExists(root + "/ctl") }

    func withControlDevice<R>(_ body: (Int32) throws(TrunkError) -> R) throws(TrunkError) -> R { try withControl(body) }

    func controlIoctl<T>(_ fd: Int32, _ request: UInt, _ argument: inout T) -> SyscallResult { ioctl(fd, request, &argument) }

    private func withControl<R>(_ body: (Int32) throws(TrunkError) -> R) throws(TrunkError) -> R {
        let path = root + "/ctl"
        let opened = system.open(path, O_RDWR)
        guard !opened.failed else {
            var message = "\(path): \(errnoText(opened.errno))"
            switch opened.errno {
            case ENOENT: message = "no DAHDI devices found (\(path) does not exist: the DAHDI kernel modules are not loaded)"
            case EACCES, EPERM: message += " — is trunkd in group trunkline?"
            default: break
            }
            throw TrunkError(opened.errno == EACCES || opened.errno == EPERM ? .permissionDenied : .unavailable, message)
        }
        defer { _ = system.close(Int32(opened.value)) }
        return try body(Int32(opened.value))
    }

    private func ioctl<T>(_ fd: Int32, _ request: UInt, _ argument: inout T) -> SyscallResult {
        while true {
            let result = withUnsafeMutableBytes(of: &argument) { system.ioctl(fd, request, $0.baseAddress) }
            if result.failed && result.errno == EINTR { continue }
            return result
        }
    }

    /// Every configured span; channel numbers are assigned in span order, as DAHDI does.
    public func discover() throws(TrunkError) -> [DAHDISpan] {
        try withControl { (ctl) throws(TrunkError) -> [DAHDISpan] in
            var spans: [DAHDISpan] = []
            var baseChannel = 1
            for number in 1...Self.maximumSpans {
                var info = dahdi_spaninfo()
                info.spanno = Int32(number)
                let result = ioctl(ctl, CDAHDI_SPANSTAT, &info)
                if result.failed {
                    // No span with that number: DAHDI answers EINVAL (or ENXIO on newer kernels).
                    if result.errno == EINVAL || result.errno == ENXIO { continue }
                    throw TrunkError(.deviceError, "DAHDI_SPANSTAT span \(number): \(errnoText(result.errno))")
                }
                var channels: [ChannelParameters] = []
                for position in 0..<Int(info.totalchans) {
                    var parameters = dahdi_params()
                    parameters.channo = Int32(baseChannel + position)
                    if !ioctl(ctl, CDAHDI_GET_PARAMS, &parameters).failed {
                        channels.append(Self.channelParameters(from: parameters, channel: baseChannel + position, isOpen: false))
                    }
                }
                spans.append(DAHDISpan(info: info, baseChannel: baseChannel, channels: channels))
                baseChannel += Int(info.totalchans)
            }
            return spans
        }
    }

    public func spanStatuses() -> [SpanStatus] {
        ((try? discover()) ?? []).map(\.status)
    }

    public func openChannel(_ channel: Int) throws(TrunkError) -> any ChannelDevice {
        guard channel >= 1 && channel <= 1024 else { throw TrunkError(.invalidArgument, "DAHDI channel numbers run from 1 to 1024, not \(channel)") }
        return try DAHDIChannelDevice(channel: channel, system: system, devicePath: root + "/channel")
    }

    static func channelParameters(from value: dahdi_params, channel: Int, isOpen: Bool) -> ChannelParameters {
        let signalling: ChannelSignalling
        switch value.sigtype {
        case CDAHDI_SIG_HARDHDLC: signalling = .hdlc
        case CDAHDI_SIG_FXOKS, CDAHDI_SIG_FXOLS: signalling = .fxoKewlStart
        case CDAHDI_SIG_FXSKS, CDAHDI_SIG_FXSLS: signalling = .fxsKewlStart
        default: signalling = .bearer
        }
        let hook: HookState = value.rxisoffhook != 0 ? .offHook : .onHook
        return ChannelParameters(
            channel: channel, span: Int(value.spanno), chanPos: Int(value.chanpos), signalling: signalling,
            law: value.curlaw == Int32(DAHDI_LAW_MULAW) ? .mulaw : .alaw, linear: false, blockSize: DAHDIChannelDevice.defaultBlockSize,
            hookState: hook, polarityReversed: false, alarms: SpanAlarms(rawValue: Int32(bitPattern: value.chan_alarms)), isOpen: isOpen)
    }
}

/// One span as DAHDI_SPANSTAT describes it.
public struct DAHDISpan: Sendable {
    public var number: Int
    public var name: String
    public var description: String
    public var spanType: String
    public var alarms: SpanAlarms
    public var counters: SpanCounters
    public var syncSource: Int
    public var baseChannel: Int
    public var totalChannels: Int
    public var lineBuildOut: String
    public var location: String
    public var channels: [ChannelParameters]

    init(info: dahdi_spaninfo, baseChannel: Int, channels: [ChannelParameters]) {
        number = Int(info.spanno)
        name = cString(info.name)
        description = cString(info.desc)
        spanType = cString(info.spantype)
        alarms = SpanAlarms(rawValue: info.alarms)
        var counters = SpanCounters()
        counters.bipolarViolations = Int(info.bpvcount)
        counters.crc4Errors = Int(info.crc4count)
        counters.eBitErrors = Int(info.ebitcount)
        counters.framingErrors = Int(info.fascount)
        counters.erroredSeconds = Int(info.errsec)
        self.counters = counters
        syncSource = Int(info.syncsrc)
        self.baseChannel = baseChannel
        totalChannels = Int(info.totalchans)
        lineBuildOut = cString(info.lboname)
        location = cString(info.location)
        self.channels = channels
    }

    /// Whether this span's channels are analog ports (FXS/FXO signalling).
    public var isAnalog: Bool { channels.contains { $0.signalling == .fxoKewlStart || $0.signalling == .fxsKewlStart } || spanType.isEmpty }

    public var status: SpanStatus {
        SpanStatus(span: number, name: name, description: description, type: spanType.uppercased() == "E1" ? .e1 : .analog,
                   role: nil, alarms: alarms, counters: counters, timingPriority: 0, lineCode: nil, framing: nil,
                   baseChannel: baseChannel, totalChannels: totalChannels, backend: "dahdi")
    }
}

/// A fixed-size C char array (imported as a tuple) as a Swift string.
func cString<T>(_ tuple: T) -> String {
    withUnsafeBytes(of: tuple) { raw in
        let bytes = raw.prefix { $0 != 0 }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension DAHDIBackend {
    /// DAHDI_MAINT on /dev/dahdi/ctl: local loopback, network line loopback, or normal. Whether
    /// a span can loop is up to its driver; one that cannot answers EINVAL, said as such.
    public func setLoopback(_ mode: SpanLoopback, span: Int) throws(TrunkError) {
        try withControlDevice { (ctl) throws(TrunkError) in
            var info = dahdi_maintinfo()
            info.spanno = Int32(span)
            info.command = switch mode {
            case .off: Int32(DAHDI_MAINT_NONE)
            case .local: Int32(DAHDI_MAINT_LOCALLOOP)
            case .network: Int32(DAHDI_MAINT_NETWORKLINELOOP)
            }
            let result = controlIoctl(ctl, CDAHDI_MAINT, &info)
            guard result.failed else { return }
            if result.errno == EINVAL || result.errno == ENOSYS || result.errno == ENOTTY {
                throw TrunkError(.unavailable, "span \(span): its DAHDI driver does not support \(mode.rawValue) loopback (DAHDI_MAINT: \(errnoText(result.errno)))")
            }
            throw TrunkError(.deviceError, "DAHDI_MAINT span \(span) \(mode.rawValue): \(errnoText(result.errno))")
        }
    }
}
