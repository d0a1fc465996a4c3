import TrunkHardware

/// What the media loop tells the control plane. Plain values: building one allocates nothing.
public struct MediaEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A detector attached to the channel recognised something.
        case detection(MediaDetection.Kind)
        /// A playback ended: its source ran out (`stopped` false) or was stopped by a command.
        case playbackFinished(id: UInt32, stopped: Bool)
        /// The first block of audio read from the channel since it joined the loop.
        case firstMedia
        /// A tap's ring was full: its consumer is behind and blocks are being dropped. Sent
        /// once when dropping starts; the tap's own counter has the total.
        case tapOverflow(tapID: UInt32)
        /// An event the device reported (DAHDI_GETEVENT) while the loop owned its I/O.
        case device(ChannelEvent)
        /// The device is gone (ENODEV); the channel stays silent until it is removed.
        case deviceRemoved
        /// A read or write failed in a way other than EAGAIN/ELAST/ENODEV; counted per channel.
        case ioError
        /// The echo canceller stood aside on a 2100 Hz tone with phase reversals (fax/modem).
        case echoCancellerDisabledByTone
        /// The channel left the loop (remove command); the control plane may close the device.
        case channelRemoved
        /// A command named a channel or conference the loop does not have, or a queue was full.
        case commandRejected
    }

    /// DAHDI channel number.
    public var channel: Int32
    public var kind: Kind
    /// The channel's received-sample clock when the event arose (detections: when it began).
    public var sampleTime: UInt64

    public init(channel: Int32, kind: Kind, sampleTime: UInt64) {
        self.channel = channel
        self.kind = kind
        self.sampleTime = sampleTime
    }
}
