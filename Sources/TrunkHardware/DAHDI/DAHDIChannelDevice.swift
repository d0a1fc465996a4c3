import CDAHDI
import TrunkCore
#if canImport(Glibc)
import Glibc
#endif

/// An open DAHDI channel: `/dev/dahdi/channel` bound to a channel number with DAHDI_SPECIFY.
/// errno is handled here once: EINTR is retried, EAGAIN is `.wouldBlock`, ELAST (an event is
/// waiting) is `.eventPending`, ENODEV is `.removed`; EBADF and EFAULT are our own bugs.
final class DAHDIChannelDevice: ChannelDevice, @unchecked Sendable {
    static let channelPath = "/dev/dahdi/channel"
    /// Default audio block: 20 ms, Asterisk's choice.
    static let defaultBlockSize = 160
    /// D-channel buffers: whole frames up to 1024 bytes, 16 of them.
    static let hdlcBufferSize: Int32 = 1024
    static let hdlcBufferCount: Int32 = 16

    let channel: Int
    private let system: DAHDISystem
    private let fd: Int32
    private let signalling: Int32
    private var closed = false

    init(channel: Int, system: DAHDISystem, devicePath: String = channelPath) throws(TrunkError) {
        self.channel = channel
        self.system = system
        let opened = system.open(devicePath, O_RDWR | O_NONBLOCK)
        guard !opened.failed else {
            var message = "\(devicePath): \(errnoText(opened.errno))"
            if opened.errno == EACCES || opened.errno == EPERM { message += " — is trunkd in group trunkline?" }
            if opened.errno == ENOENT { message += " — are the DAHDI kernel modules loaded?" }
            throw TrunkError(opened.errno == EACCES || opened.errno == EPERM ? .permissionDenied : .deviceError, message)
        }
        fd = Int32(opened.value)
        var number = Int32(channel)
        // DAHDI_SPECIFY binds the file to the channel and must be the first ioctl.
        let specified = Self.ioctl(system, fd, CDAHDI_SPECIFY, &number)
        if specified.failed {
            _ = system.close(fd)
            let reason = specified.errno == ENXIO || specified.errno == EINVAL ? "no such channel" : errnoText(specified.errno)
            throw TrunkError(.notFound, "channel \(channel): DAHDI_SPECIFY: \(reason)")
        }
        var parameters = dahdi_params()
        parameters.channo = Int32(channel)
        let got = Self.ioctl(system, fd, CDAHDI_GET_PARAMS, &parameters)
        guard !got.failed else {
            _ = system.close(fd)
            throw TrunkError(.deviceError, "channel \(channel): DAHDI_GET_PARAMS: \(errnoText(got.errno))")
        }
        signalling = parameters.sigtype
        do {
            if signalling == CDAHDI_SIG_HARDHDLC {
                var buffers = dahdi_bufferinfo(txbufpolicy: Int32(BufferPolicy.immediate.rawValue), rxbufpolicy: Int32(BufferPolicy.immediate.rawValue),
                                               numbufs: Self.hdlcBufferCount, bufsize: Self.hdlcBufferSize, readbufs: 0, writebufs: 0)
                try control(CDAHDI_SET_BUFINFO, &buffers, name: "DAHDI_SET_BUFINFO")
            } else {
                var size = Int32(Self.defaultBlockSize)
                try control(CDAHDI_SET_BLOCKSIZE, &size, name: "DAHDI_SET_BLOCKSIZE")
            }
        } catch {
            _ = system.close(fd)
            throw error
        }
    }

    deinit { close() }

    var isHDLC: Bool { signalling == CDAHDI_SIG_HARDHDLC }

    private static func ioctl<T>(_ system: DAHDISystem, _ fd: Int32, _ request: UInt, _ argument: inout T) -> SyscallResult {
        while true {
            let result = withUnsafeMutableBytes(of: &argument) { system.ioctl(fd, request, $0.baseAddress) }
            if result.failed && result.errno == EINTR { continue }
            return result
        }
    }

    /// One ioctl with errno turned into a TrunkError naming the call and the channel.
    private func control<T>(_ request: UInt, _ argument: inout T, name: String) throws(TrunkError) {
        let result = Self.ioctl(system, fd, request, &argument)
        guard result.failed else { return }
        try checkOurBug(result.errno, name)
        if result.errno == ENODEV { throw TrunkError(.deviceError, "channel \(channel): \(name): the device is gone") }
        throw TrunkError(.deviceError, "channel \(channel): \(name): \(errnoText(result.errno))")
    }

    private func checkOurBug(_ code: Int32, _ call: String) throws(TrunkError) {
        // A bad descriptor or address means Trunkline passed garbage: stop rather than limp on.
        precondition(code != EBADF && code != EFAULT, "channel \(channel): \(call) got \(errnoText(code)): a Trunkline bug")
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> DeviceIO {
        while true {
            let result = system.read(fd, buffer)
            if !result.failed { return .transferred(result.value) }
            if let outcome = outcome(of: result.errno, "read") { return outcome }
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> DeviceIO {
        while true {
            let result = system.write(fd, bytes)
            if !result.failed { return .transferred(result.value) }
            if let outcome = outcome(of: result.errno, "write") { return outcome }
        }
    }

    /// What a failed read or write means; nil: try again (EINTR).
    private func outcome(of code: Int32, _ call: String) -> DeviceIO? {
        switch code {
        case EINTR: return nil
        case EAGAIN: return .wouldBlock
        case CDAHDI_ELAST: return .eventPending
        case ENODEV: return .removed
        default:
            precondition(code != EBADF && code != EFAULT, "channel \(channel): \(call) got \(errnoText(code)): a Trunkline bug")
            return .failed(TrunkError(.deviceError, "channel \(channel): \(call): \(errnoText(code))"))
        }
    }

    enum Readiness: Equatable {
        case readable
        /// POLLPRI: an event is queued (fetch it before reading).
        case event
        case timeout
        case removed
    }

    /// Waits with poll() until the channel can be read or has an event.
    func waitReady(timeoutMs: Int32) -> Readiness {
        while true {
            let (result, revents) = system.poll(fd, Int16(POLLIN | POLLPRI), timeoutMs)
            if result.failed {
                if result.errno == EINTR { continue }
                return .removed
            }
            if result.value == 0 { return .timeout }
            if revents & Int16(POLLPRI) != 0 { return .event }
            if revents & Int16(POLLIN) != 0 { return .readable }
            return .removed // POLLERR / POLLHUP / POLLNVAL: the device went away
        }
    }

    func nextEvent() -> ChannelEvent? {
        var event: Int32 = 0
        let result = Self.ioctl(system, fd, CDAHDI_GETEVENT, &event)
        if result.failed {
            // A vanished device still owes its reader the news.
            return result.errno == ENODEV ? ChannelEvent(.removed) : nil
        }
        return event == 0 ? nil : ChannelEvent(rawValue: event)
    }

    func hook(_ operation: HookOperation) throws(TrunkError) {
        var value = operation.rawValue
        try control(CDAHDI_HOOK, &value, name: "DAHDI_HOOK")
    }

    func setPolarity(reversed: Bool) throws(TrunkError) {
        var value: Int32 = reversed ? 1 : 0
        try control(CDAHDI_SETPOLARITY, &value, name: "DAHDI_SETPOLARITY")
    }

    func setLaw(_ law: AudioLaw) throws(TrunkError) {
        var value: Int32 = law == .alaw ? Int32(DAHDI_LAW_ALAW) : Int32(DAHDI_LAW_MULAW)
        try control(CDAHDI_SETLAW, &value, name: "DAHDI_SETLAW")
    }

    func setLinear(_ linear: Bool) throws(TrunkError) {
        var value: Int32 = linear ? 1 : 0
        try control(CDAHDI_SETLINEAR, &value, name: "DAHDI_SETLINEAR")
    }

    func setBlockSize(_ samples: Int) throws(TrunkError) {
        guard samples >= 8 && samples <= 8000 else { throw TrunkError(.invalidArgument, "block size must be 8…8000 samples, not \(samples)") }
        var value = Int32(samples)
        try control(CDAHDI_SET_BLOCKSIZE, &value, name: "DAHDI_SET_BLOCKSIZE")
    }

    func setBufferPolicy(_ policy: BufferPolicy, buffers: Int) throws(TrunkError) {
        guard buffers >= 2 && buffers <= 32 else { throw TrunkError(.invalidArgument, "buffer count must be 2…32, not \(buffers)") }
        var info = dahdi_bufferinfo()
        try control(CDAHDI_GET_BUFINFO, &info, name: "DAHDI_GET_BUFINFO")
        info.txbufpolicy = policy.rawValue
        info.rxbufpolicy = BufferPolicy.immediate.rawValue
        info.numbufs = Int32(buffers)
        try control(CDAHDI_SET_BUFINFO, &info, name: "DAHDI_SET_BUFINFO")
    }

    func setRingCadence(_ cadence: [Int]) throws(TrunkError) {
        guard !cadence.isEmpty, cadence.count % 2 == 0, cadence.count <= Int(DAHDI_MAX_CADENCE), cadence.allSatisfy({ $0 > 0 && $0 <= 10000 }) else {
            throw TrunkError(.invalidArgument, "a ring cadence is 2…\(DAHDI_MAX_CADENCE) on/off times of 1…10000 ms, in pairs")
        }
        var value = dahdi_ring_cadence()
        withUnsafeMutableBytes(of: &value.ringcadence) { raw in
            let slots = raw.bindMemory(to: Int32.self)
            for (index, milliseconds) in cadence.enumerated() { slots[index] = Int32(milliseconds) }
        }
        try control(CDAHDI_SETCADENCE, &value, name: "DAHDI_SETCADENCE")
    }

    /// Switches the kernel's echo canceller off (Trunkline runs its own) or on with `taps`.
    func setKernelEchoCanceller(taps: Int) throws(TrunkError) {
        var value = dahdi_echocanparams()
        value.tap_length = UInt32(taps)
        value.param_count = 0
        try control(CDAHDI_ECHOCANCEL_PARAMS, &value, name: "DAHDI_ECHOCANCEL_PARAMS")
    }

    func parameters() -> ChannelParameters {
        var value = dahdi_params()
        value.channo = Int32(channel)
        let result = Self.ioctl(system, fd, CDAHDI_GET_PARAMS, &value)
        return DAHDIBackend.channelParameters(from: value, channel: channel, isOpen: !result.failed)
    }

    func close() {
        guard !closed else { return }
        closed = true
        _ = system.close(fd)
    }
}
