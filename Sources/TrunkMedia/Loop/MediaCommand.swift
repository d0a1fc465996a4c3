/// What the control plane asks of the media loop. Objects inside (channels, sources,
/// detectors, taps, cancellers) are built and allocated by the sender; sending one hands it
/// to the loop thread, which hands it back through `MediaLoop.releaseRetired()` when done.
/// Channels are named by DAHDI channel number.
public enum MediaCommand: @unchecked Sendable {
    /// A channel joins the loop; anything already in the device's receive buffer is dropped.
    case add(MediaChannel)
    /// The channel leaves the loop (and any cross-connect or conference); `.channelRemoved` follows.
    case remove(channel: Int32)
    /// TDM cross-connect: each channel sends what the other receives.
    case connect(Int32, Int32)
    /// Ends the channel's cross-connect (both ends go back to silence or their playback).
    case disconnect(Int32)
    /// Joins conference `conference` (0 ..< maximumConferences), leaving any other switching.
    case joinConference(channel: Int32, conference: Int, side: ConferenceSide, mode: ConferenceMode)
    case setConferenceMode(channel: Int32, mode: ConferenceMode)
    /// A muted party hears the others but is heard by no one.
    case setMuted(channel: Int32, muted: Bool)
    case leaveConference(channel: Int32)
    /// Queues a playback on the channel: it replaces the switched audio while it plays, or is
    /// mixed over it (`mixWithSwitched`). `.playbackFinished(id)` is sent when it ends.
    case play(channel: Int32, source: any SampleSource, id: UInt32, gain: MediaGain, mixWithSwitched: Bool)
    /// Stops the playing and queued playbacks of the channel.
    case stopPlayback(channel: Int32)
    /// Receive gain (what the other parties hear of this line) and transmit gain (what the line is sent).
    case setGains(channel: Int32, receive: MediaGain, transmit: MediaGain)
    case attachDetector(channel: Int32, detector: any AudioDetector)
    case detachDetectors(channel: Int32)
    /// One tap per channel; attaching replaces the previous one.
    case attachTap(channel: Int32, tap: MediaTap)
    case detachTap(channel: Int32)
    /// The line-test tap (trunkctl `chan monitor` / `chan level`): a slot of its own, so
    /// listening to a channel never takes the place of its recording.
    case attachLineTestTap(channel: Int32, tap: MediaTap)
    case detachLineTestTap(channel: Int32)
    /// Installs (or with nil removes) the channel's echo canceller.
    case setEchoCanceller(channel: Int32, canceller: EchoCanceller?)
}
