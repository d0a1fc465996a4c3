import TrunkCore
@testable import TrunkHardware

/// Channel numbers of the embedded default lab (DAHDI-style global numbering).
enum Lab {
    static func bChannel(span: Int, timeslot: Int) -> Int { (span - 1) * 31 + timeslot }
    static let span1DChannel = 16
    static let span2DChannel = 47
    static func fxsPort(_ port: Int) -> Int { 62 + port }
    static func fxoPort(_ port: Int) -> Int { 66 + port }
}

extension ChannelDevice {
    /// Everything queued now (DAHDI_GETEVENT until it returns none).
    func drainEvents() -> [ChannelEvent] {
        var events: [ChannelEvent] = []
        while let event = nextEvent() { events.append(event) }
        return events
    }

    @discardableResult
    func write(_ bytes: [UInt8]) -> DeviceIO { bytes.withUnsafeBytes { write($0) } }

    /// One read into a fresh buffer; nil unless it transferred bytes.
    func readBytes(max: Int = 2048) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: max)
        let result = buffer.withUnsafeMutableBytes { read(into: $0) }
        guard case .transferred(let count) = result else { return nil }
        return Array(buffer[0..<count])
    }
}

/// A small deterministic generator for test data.
struct TestRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 17
    }
    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in byte() } }
    mutating func int(in range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
}

/// Records each event of a device with the simulator tick it was seen on.
struct TimedEvents {
    var events: [(tick: UInt64, event: ChannelEvent)] = []

    mutating func collect(from device: any ChannelDevice, at tick: UInt64) {
        while let event = device.nextEvent() { events.append((tick, event)) }
    }

    func ticks(of kind: ChannelEvent.Kind) -> [UInt64] { events.filter { $0.event.kind == kind }.map(\.tick) }
    var kinds: [ChannelEvent.Kind] { events.map(\.event.kind) }
}
