/// An error a person can act on: a stable code for programs, a sentence for people, and the
/// context (device, span, channel, file) that says where it happened.
public struct TrunkError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Code: String, Sendable, Codable {
        case invalidArgument = "invalid_argument"
        case notFound = "not_found"
        case busy
        case permissionDenied = "permission_denied"
        case deviceError = "device_error"
        case protocolError = "protocol_error"
        case alreadyRunning = "already_running"
        case unavailable
        case `internal`
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
