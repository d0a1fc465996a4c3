/// Why received bytes are not a valid LAPD frame.
public enum LAPDDecodingError: Error, Hashable, Sendable {
    /// Fewer octets than an address and a control field need.
    case tooShort(length: Int)
    /// EA bit of the first address octet set, or of the second clear: not a two-octet address.
    case invalidAddressExtension
    /// A supervisory or unnumbered control octet that Q.921 does not define.
    case undefinedControlField(UInt8)
    /// An information field on a frame type that must not carry one.
    case unexpectedInformationField
}

/// One LAPD frame without its FCS (the D-channel driver checks and adds the FCS).
public struct LAPDFrame: Hashable, Sendable {
    public var address: LAPDAddress
    public var control: LAPDControl
    /// The information field; a slice so that decoding does not copy the payload.
    public var information: ArraySlice<UInt8>

    public init(address: LAPDAddress, control: LAPDControl, information: ArraySlice<UInt8> = []) {
        self.address = address
        self.control = control
        self.information = information
    }

    /// Octets the encoded frame occupies.
    public var encodedCount: Int { 2 + control.encodedCount + information.count }

    /// Decodes one frame. Any byte string yields a frame or a typed error.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(LAPDDecodingError) -> LAPDFrame {
        guard bytes.count >= 3 else { throw .tooShort(length: bytes.count) }
        let start = bytes.startIndex
        let a1 = bytes[start], a2 = bytes[start + 1]
        guard a1 & 0x01 == 0, a2 & 0x01 == 1 else { throw .invalidAddressExtension }
        let address = LAPDAddress(sapi: a1 >> 2, commandResponseBit: a1 & 0x02 != 0, tei: a2 >> 1)
        let c1 = bytes[start + 2]
        if c1 & 0x01 == 0 {
            guard bytes.count >= 4 else { throw .tooShort(length: bytes.count) }
            let c2 = bytes[start + 3]
            let control = LAPDControl.information(ns: c1 >> 1, nr: c2 >> 1, poll: c2 & 0x01 != 0)
            return LAPDFrame(address: address, control: control, information: bytes[(start + 4)...])
        }
        if c1 & 0x03 == 0x01 {
            guard bytes.count >= 4 else { throw .tooShort(length: bytes.count) }
            guard let function = LAPDSupervisoryFunction(rawValue: c1) else { throw .undefinedControlField(c1) }
            guard bytes.count == 4 else { throw .unexpectedInformationField }
            let c2 = bytes[start + 3]
            return LAPDFrame(address: address, control: .supervisory(function, nr: c2 >> 1, pollFinal: c2 & 0x01 != 0))
        }
        // Bit 5 (0x10) of a U control octet is the P/F bit; the rest names the function.
        guard let function = LAPDUnnumberedFunction(rawValue: c1 & ~0x10) else { throw .undefinedControlField(c1) }
        let information = bytes[(start + 3)...]
        guard information.isEmpty || function.carriesInformation else { throw .unexpectedInformationField }
        return LAPDFrame(address: address, control: .unnumbered(function, pollFinal: c1 & 0x10 != 0), information: information)
    }

    public static func decode(_ bytes: [UInt8]) throws(LAPDDecodingError) -> LAPDFrame {
        try decode(bytes[...])
    }

    /// Appends the frame to `buffer`. With enough reserved capacity this does not allocate.
    public func encode(into buffer: inout [UInt8]) {
        buffer.append(address.octet1)
        buffer.append(address.octet2)
        switch control {
        case .information(let ns, let nr, let poll):
            buffer.append((ns & 0x7F) << 1)
            buffer.append(((nr & 0x7F) << 1) | (poll ? 1 : 0))
        case .supervisory(let function, let nr, let pf):
            buffer.append(function.rawValue)
            buffer.append(((nr & 0x7F) << 1) | (pf ? 1 : 0))
        case .unnumbered(let function, let pf):
            buffer.append(function.rawValue | (pf ? 0x10 : 0))
        }
        buffer.append(contentsOf: information)
    }

    /// Writes the frame at the start of `buffer` (for example a driver's write buffer that
    /// also has room for the FCS) and returns the octets written, or nil if it does not fit.
    public func encode(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        guard buffer.count >= encodedCount else { return nil }
        var offset = 0
        func put(_ byte: UInt8) {
            buffer[offset] = byte
            offset += 1
        }
        put(address.octet1)
        put(address.octet2)
        switch control {
        case .information(let ns, let nr, let poll):
            put((ns & 0x7F) << 1)
            put(((nr & 0x7F) << 1) | (poll ? 1 : 0))
        case .supervisory(let function, let nr, let pf):
            put(function.rawValue)
            put(((nr & 0x7F) << 1) | (pf ? 1 : 0))
        case .unnumbered(let function, let pf):
            put(function.rawValue | (pf ? 0x10 : 0))
        }
        // One block copy for the payload rather than a checked store per octet.
        information.withUnsafeBytes { payload in
            UnsafeMutableRawBufferPointer(rebasing: buffer[offset...]).copyMemory(from: payload)
        }
        return offset + information.count
    }

    /// The encoded frame as a new array, for tests and traces.
    public var bytes: [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(encodedCount)
        encode(into: &buffer)
        return buffer
    }
}
