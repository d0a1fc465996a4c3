/// The companding law of a channel (DAHDI_SETLAW). Whether the channel is read and written
/// companded or as 16-bit linear (DAHDI_SETLINEAR) is a separate setting of the channel.
public enum AudioLaw: String, Sendable, Codable, CaseIterable {
    case alaw
    case mulaw

    /// The byte an idle channel carries: the code nearest zero.
    @inlinable public var silence: UInt8 { self == .alaw ? G711.alawSilence : G711.ulawSilence }

    @inlinable public func decode(_ byte: UInt8) -> Int16 {
        self == .alaw ? G711.alawToLinear(byte) : G711.ulawToLinear(byte)
    }

    @inlinable public func encode(_ sample: Int16) -> UInt8 {
        self == .alaw ? G711.linearToAlaw(sample) : G711.linearToUlaw(sample)
    }
}
