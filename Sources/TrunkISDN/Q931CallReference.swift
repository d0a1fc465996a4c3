/// The call reference of a Q.931 message (Q.931 §4.3).
public struct Q931CallReference: Hashable, Sendable, CustomStringConvertible {
    /// The call reference value without the flag (15 bits for two-octet references).
    public var value: UInt16
    /// The call reference flag: false on messages from the side that allocated the value,
    /// true on messages towards it.
    public var flag: Bool
    /// Octets of the value: 2 on a PRI, 1 on a BRI, 0 for the dummy call reference.
    public var length: Int

    public init(value: UInt16, flag: Bool, length: Int = 2) {
        self.length = max(0, min(length, 2))
        self.value = self.length == 2 ? value & 0x7FFF : (self.length == 1 ? value & 0x7F : 0)
        self.flag = self.length == 0 ? false : flag
    }

    /// The global call reference (value 0) used by RESTART and RESTART ACKNOWLEDGE.
    public static func global(flag: Bool, length: Int = 2) -> Q931CallReference {
        Q931CallReference(value: 0, flag: flag, length: length)
    }

    public static let dummy = Q931CallReference(value: 0, flag: false, length: 0)

    public var isGlobal: Bool { value == 0 && length > 0 }
    public var isDummy: Bool { length == 0 }

    /// The same reference as the other side writes it.
    public var flipped: Q931CallReference {
        Q931CallReference(value: value, flag: !flag, length: length)
    }

    public var description: String {
        "CR \(value)\(flag ? "/1" : "/0")"
    }
}
