import TrunkCore

/// Result of a read or write on a channel, mirroring the system call's outcomes.
public enum DeviceIO: Equatable, Sendable {
    case transferred(Int)
    /// EAGAIN: nothing to read yet, or no room to write. Not an error.
    case wouldBlock
    /// ELAST: an event is queued and must be fetched with `nextEvent()` before I/O goes on.
    case eventPending
    /// ENODEV: the device is gone (a card removed or its driver unloaded); close the channel.
    case removed
    /// Any other failure, with the call, the channel and the errno in words.
    case failed(TrunkError)
}

/// An open channel: what a process holds after opening `/dev/dahdi/channel` and DAHDI_SPECIFY.
/// Bearer and analog channels move audio in the channel's law (or 16-bit linear); an HDLC
/// channel moves whole frames: each read is one frame followed by its 2 FCS bytes, and each
/// write is one frame followed by 2 bytes of room for the FCS the device computes.
public protocol ChannelDevice: AnyObject, Sendable {
    var channel: Int { get }
    func read(into buffer: UnsafeMutableRawBufferPointer) -> DeviceIO
    func write(_ bytes: UnsafeRawBufferPointer) -> DeviceIO
    /// `DAHDI_GETEVENT`: the oldest queued event, nil when none.
    func nextEvent() -> ChannelEvent?
    func hook(_ operation: HookOperation) throws(TrunkError)
    func setPolarity(reversed: Bool) throws(TrunkError)
    func setLaw(_ law: AudioLaw) throws(TrunkError)
    func setLinear(_ linear: Bool) throws(TrunkError)
    /// Samples per read/write block (DAHDI_SET_BLOCKSIZE); 8, 64 and 160 are typical.
    func setBlockSize(_ samples: Int) throws(TrunkError)
    func setBufferPolicy(_ policy: BufferPolicy, buffers: Int) throws(TrunkError)
    /// Ring cadence in milliseconds, alternating on and off (DAHDI_SETCADENCE); FXS ports only.
    func setRingCadence(_ cadence: [Int]) throws(TrunkError)
    func parameters() -> ChannelParameters
    func close()
}

/// A source of spans and channels: the DAHDI kernel devices, ALSA PCMs, or the simulator.
public protocol TelephonyBackend: AnyObject, Sendable {
    var name: String { get }
    func spanStatuses() -> [SpanStatus]
    func openChannel(_ channel: Int) throws(TrunkError) -> any ChannelDevice
}
