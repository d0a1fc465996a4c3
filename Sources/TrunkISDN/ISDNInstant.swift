/// A point on the driver's monotonic clock.
///
/// The state machines never read a clock: the driver passes `now` in and gets
/// deadlines back, so tests can run on a virtual clock and a production driver
/// can use whatever monotonic source it owns.
public struct ISDNInstant: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Nanoseconds since an arbitrary origin chosen by the driver.
    public var nanoseconds: Int64

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    public static let zero = ISDNInstant(nanoseconds: 0)

    public static func < (lhs: ISDNInstant, rhs: ISDNInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    public static func + (lhs: ISDNInstant, rhs: Duration) -> ISDNInstant {
        let (seconds, attoseconds) = rhs.components
        return ISDNInstant(nanoseconds: lhs.nanoseconds + seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    public static func - (lhs: ISDNInstant, rhs: ISDNInstant) -> Duration {
        .nanoseconds(lhs.nanoseconds - rhs.nanoseconds)
    }

    public var description: String {
        let millis = nanoseconds / 1_000_000
        return "t+\(millis)ms"
    }
}
