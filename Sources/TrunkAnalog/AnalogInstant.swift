/// A point on the port driver's monotonic clock, in milliseconds (the DAHDI tick).
///
/// The port state machines never read a clock: the driver passes `now` in and gets deadlines
/// back, so tests can run them on the simulator's tick count.
public struct AnalogInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) {
        self.milliseconds = milliseconds
    }

    public static let zero = AnalogInstant(milliseconds: 0)

    public static func < (lhs: AnalogInstant, rhs: AnalogInstant) -> Bool { lhs.milliseconds < rhs.milliseconds }

    public static func + (lhs: AnalogInstant, milliseconds: Int) -> AnalogInstant {
        AnalogInstant(milliseconds: lhs.milliseconds + Int64(milliseconds))
    }

    public static func - (lhs: AnalogInstant, rhs: AnalogInstant) -> Int64 { lhs.milliseconds - rhs.milliseconds }

    public var description: String { "t+\(milliseconds)ms" }
}
