import TrunkCore

/// An error a CTI client receives: a stable numeric code (JSON-RPC's own for framing and
/// parameter problems, ours in −32000…−32099 for the rest), a sentence for people, and `data`
/// that says what exactly was wrong (which field, which permission, which range).
/// The codes are part of the protocol: docs/cti-protocol.md lists them and they never change.
public struct CTIError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: Int, Sendable, CaseIterable {
        case parseError = -32700
        case invalidRequest = -32600
        case methodNotFound = -32601
        case invalidParams = -32602
        case internalError = -32603

        case notLoggedIn = -32001
        case loginFailed = -32002
        case rateLimited = -32003
        case permissionDenied = -32004
        case outOfScope = -32005
        case unsupportedVersion = -32006
        case alreadyLoggedIn = -32007
        case notFound = -32010
        case busy = -32011
        case invalidState = -32012
        case conflict = -32013
        case unavailable = -32014
        case tooManyRequests = -32015
        case lineTooLong = -32020
        case idleTimeout = -32021

        /// The short name used in logs, the audit file and the docs' table.
        public var name: String {
            switch self {
            case .parseError: "parse_error"
            case .invalidRequest: "invalid_request"
            case .methodNotFound: "method_not_found"
            case .invalidParams: "invalid_params"
            case .internalError: "internal_error"
            case .notLoggedIn: "not_logged_in"
            case .loginFailed: "login_failed"
            case .rateLimited: "rate_limited"
            case .permissionDenied: "permission_denied"
            case .outOfScope: "out_of_scope"
            case .unsupportedVersion: "unsupported_version"
            case .alreadyLoggedIn: "already_logged_in"
            case .notFound: "not_found"
            case .busy: "busy"
            case .invalidState: "invalid_state"
            case .conflict: "conflict"
            case .unavailable: "unavailable"
            case .tooManyRequests: "too_many_requests"
            case .lineTooLong: "line_too_long"
            case .idleTimeout: "idle_timeout"
            }
        }
    }

    public var code: Code
    public var message: String
    /// Always an object; `reason` carries the code's name so logs read without the table.
    public var data: [(String, JSONValue)]

    public init(_ code: Code, _ message: String, data: [(String, JSONValue)] = []) {
        self.code = code
        self.message = message
        self.data = data
    }

    public var description: String { "\(code.name) (\(code.rawValue)): \(message)" }

    public static func == (lhs: CTIError, rhs: CTIError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message && JSONValue.object(lhs.data) == JSONValue.object(rhs.data)
    }

    var json: JSONValue {
        .object([
            ("code", .int(Int64(code.rawValue))),
            ("message", .string(message)),
            ("data", .object([("reason", .string(code.name))] + data)),
        ])
    }

    static func invalidParam(_ field: String, _ expected: String, got: JSONValue?) -> CTIError {
        let got = got.map { $0.typeName == "string" || $0.typeName == "integer" ? $0.serialized : $0.typeName } ?? "nothing"
        return CTIError(
            .invalidParams, "params.\(field): expected \(expected), got \(got)",
            data: [("field", .string(field)), ("expected", .string(expected))])
    }
}

/// What a `CTIBackend` throws when the gateway cannot do what a valid request asked: the call
/// is gone, the channel is busy, the operation does not fit the call's state.
public struct CTIBackendError: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case notFound, busy, invalidState, conflict, unavailable

        var code: CTIError.Code {
            switch self {
            case .notFound: .notFound
            case .busy: .busy
            case .invalidState: .invalidState
            case .conflict: .conflict
            case .unavailable: .unavailable
            }
        }
    }

    public var kind: Kind
    public var message: String
    public var data: [String: JSONValue]

    public init(_ kind: Kind, _ message: String, data: [String: JSONValue] = [:]) {
        self.kind = kind
        self.message = message
        self.data = data
    }

    var ctiError: CTIError {
        CTIError(kind.code, message, data: data.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }
}

extension CTIBackendError {
    /// The gateway's own errors, as a CTI client sees them: the code maps to the nearest kind and
    /// the message (which names the device, span or channel) is kept.
    public init(_ error: TrunkError) {
        let kind: Kind
        switch error.code {
        case .notFound: kind = .notFound
        case .busy, .alreadyRunning: kind = .busy
        case .invalidArgument, .protocolError: kind = .invalidState
        case .permissionDenied, .deviceError, .unavailable, .internal: kind = .unavailable
        }
        self.init(kind, error.message, data: ["gateway_code": .string(error.code.rawValue)])
    }
}
