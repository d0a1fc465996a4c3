import TrunkCore
import TrunkHardware
import TrunkMedia

/// A trunk that owns its channels' devices and lends them to the media engine while a call is
/// up, instead of the engine opening a device of its own.
///
/// Why: an analog port's signalling needs the line's audio while a call is being set up
/// (caller ID between rings, dial tone, DTMF dialling, call progress), and the media loop needs
/// it once the call is up (prompts, DTMF collection, bridges). Only one party may read a
/// device — a block read by one is gone for the other — so the device is handed over whole.
/// While lent, the loop fetches the device's events (DAHDI_GETEVENT) and runs the detectors the
/// lender asked for; the engine hands both back, so hook, polarity and busy-tone supervision
/// keep working on a connected call.
public protocol ChannelLender: AnyObject, Sendable {
    /// Gives the device of `address` to the media loop, with detectors whose detections the
    /// lender wants back; nil: the lender cannot give it (the engine then leaves the call silent).
    func lend(_ address: ChannelAddress) -> LentChannel?
    /// The same for a line test (see the default below).
    func lendForLineTest(_ address: ChannelAddress) -> LentChannel?
    /// An event the device reported while the loop owned it.
    func deviceEvent(_ event: ChannelEvent, on address: ChannelAddress)
    /// A tone one of the lender's detectors recognised while the loop owned the device;
    /// `sampleTime` is when it began on the loop's received-sample clock of the channel, which
    /// starts at 0 when the device is lent.
    func detected(_ detection: MediaDetection.Kind, sampleTime: UInt64, on address: ChannelAddress)
    /// The loop has let go of the device: the lender owns its I/O again.
    func returned(_ address: ChannelAddress)
}

extension ChannelLender {
    /// Gives the device of `address` to the media loop for a line test (`trunkctl chan tone`,
    /// `level`, `monitor`); nil: not now. By default as for a call; a lender whose lines need
    /// their audio while a call is being set up refuses then.
    public func lendForLineTest(_ address: ChannelAddress) -> LentChannel? { lend(address) }
}

/// A device handed to the media loop, and the detectors to run on it for the lender.
public struct LentChannel {
    public var device: any ChannelDevice
    public var detectors: [any AudioDetector]

    public init(device: any ChannelDevice, detectors: [any AudioDetector]) {
        self.device = device
        self.detectors = detectors
    }
}
