import Foundation
import TrunkISDN

/// Where a call runs: a span and the channel's position on it (a PRI B-channel number, or an
/// analog port number). Upper layers see "2/5" whatever the trunk type.
public struct ChannelAddress: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public var span: Int
    public var channel: Int

    public init(span: Int, channel: Int) {
        self.span = span
        self.channel = channel
    }

    public var description: String { "\(span)/\(channel)" }

    public static func < (a: Self, b: Self) -> Bool { (a.span, a.channel) < (b.span, b.channel) }

    /// Parses "SPAN/CHANNEL".
    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let span = Int(parts[0]), let channel = Int(parts[1]), span > 0, channel > 0 else { return nil }
        self.init(span: span, channel: channel)
    }
}

/// What kind of line a call came over: metadata for upper layers, never a different shape.
public enum TrunkKind: String, Sendable, Codable {
    case pri
    case fxo
    case fxs
}

/// The one state machine every channel has, whatever signals it (ISDN or analog).
public enum ChannelState: String, Sendable, Codable, CaseIterable {
    case idle
    /// Ringing in: a call is offered to the gateway.
    case offered
    /// Going out: seized, number being sent.
    case dialing
    case proceeding
    case alerting
    case up
    case held
    case releasing
    /// Taken out of service by maintenance.
    case blocked
    /// The line is in alarm or its signalling link is down.
    case outOfService = "out_of_service"
}

public enum CallDirection: String, Sendable, Codable {
    case inbound
    case outbound
}

/// Who ended a call.
public enum ClearingSide: String, Sendable, Codable {
    /// The far end (the caller on an inbound call, the called party on an outbound one).
    case remote
    /// This gateway (a CTI client, the built-in flow, an operator).
    case local
    /// Neither: the line failed, the node restarted.
    case system
}

/// Why a call failed, when it did not end normally.
public enum CallFailure: String, Sendable, Codable {
    /// No free channel to place or take the call (cause 34).
    case noChannel = "no_channel"
    /// Nothing would take the inbound call (no claim, no built-in flow) (cause 21).
    case rejected
    /// The far end or an upper layer did not act in time.
    case timeout
    /// The signalling link went down during the call.
    case linkDown = "link_down"
    /// trunkd stopped or was killed while the call was active; closed on restart.
    case nodeRestart = "node_restart"
    /// The far end refused or could not be reached (busy, unallocated number …).
    case farEndFailure = "far_end_failure"
    /// The caller hung up before the call was answered.
    case abandoned
}

/// A step in a call's life, on the monotonic clock relative to the call's start.
public struct CallEvent: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case seized
        case numberComplete = "number_complete"
        case proceeding
        case alerting
        case answered
        case firstMedia = "first_media"
        case dtmf
        case held
        case retrieved
        case transferred
        case hangup
    }

    public var kind: Kind
    /// Milliseconds since the call began (monotonic: a clock change does not move it).
    public var atMs: Double
    /// The digit for `dtmf`, the target for `transferred`.
    public var detail: String?

    public init(_ kind: Kind, atMs: Double, detail: String? = nil) {
        self.kind = kind
        self.atMs = atMs
        self.detail = detail
    }
}

/// One call as every upper layer sees it: the live view and the call detail record are the same shape.
public struct CallRecord: Codable, Sendable, Equatable {
    /// Time-ordered and unique across restarts (a UUIDv7).
    public var callID: String
    public var direction: CallDirection
    public var trunk: TrunkKind
    public var address: ChannelAddress
    /// Caller (ANI) and its presentation (allowed, restricted, unavailable).
    public var caller: String?
    public var callerPresentation: String?
    /// Called number (DNIS).
    public var callee: String?
    public var redirecting: String?
    public var trunkGroup: String?
    public var state: ChannelState
    /// Wall-clock time the call began (seizure or SETUP).
    public var started: Date
    public var events: [CallEvent]
    public var clearedBy: ClearingSide?
    /// Q.850 cause value and location of the clearing.
    public var cause: Int?
    public var causeLocation: Int?
    public var failure: CallFailure?
    /// Who handled an inbound call: "cti:<client>", "flow", or nil while ringing.
    public var handler: String?
    public var recordings: [String]
    /// Digits collected from the caller (by the built-in flow or a CTI collect).
    public var digits: String

    public init(callID: String, direction: CallDirection, trunk: TrunkKind, address: ChannelAddress, started: Date) {
        self.callID = callID
        self.direction = direction
        self.trunk = trunk
        self.address = address
        self.state = direction == .inbound ? .offered : .dialing
        self.started = started
        self.events = [CallEvent(.seized, atMs: 0)]
        self.recordings = []
        self.digits = ""
    }

    public var isEnded: Bool { events.last?.kind == .hangup }

    public func time(of kind: CallEvent.Kind) -> Double? { events.first { $0.kind == kind }?.atMs }

    public var causeText: String? { cause.map { Q850Cause(rawValue: UInt8(clamping: $0)).text } }
}

/// Call ids: UUIDv7 (RFC 9562), so they sort by creation time and never repeat across restarts.
public enum CallIdentifier {
    public static func make(now: Date = Date()) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        let ms = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: ms >> (40 - 8 * UInt64(i))) }
        var random = SystemRandomNumberGenerator()
        for i in 6..<16 { bytes[i] = UInt8.random(in: 0...255, using: &random) }
        bytes[6] = 0x70 | (bytes[6] & 0x0F)
        bytes[8] = 0x80 | (bytes[8] & 0x3F)
        let hex = bytes.map { String($0, radix: 16).leftPadded(2) }.joined()
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
