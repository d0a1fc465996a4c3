/// Who is asking: handed to the backend with every request, so claims, snoops and operations
/// can be tied to the session that made them (and released when it ends).
public struct CTISessionInfo: Sendable, Equatable {
    public var sessionID: String
    /// The configured token's name (never its secret).
    public var tokenName: String
    /// What the client called itself in `session.login`.
    public var client: String
    public var permissions: Set<CTIPermission>
    public var scope: CTIScope
    /// "tcp:127.0.0.1:51234" or "unix:/run/trunkline/cti.sock".
    public var peer: String
    /// The local user on a Unix socket (SO_PEERCRED); nil over TCP.
    public var uid: UInt32?
    public var user: String?

    public init(sessionID: String, tokenName: String, client: String, permissions: Set<CTIPermission>, scope: CTIScope,
                peer: String, uid: UInt32?, user: String?) {
        self.sessionID = sessionID
        self.tokenName = tokenName
        self.client = client
        self.permissions = permissions
        self.scope = scope
        self.peer = peer
        self.uid = uid
        self.user = user
    }
}

/// What the gateway implements to carry out verbs. The protocol layer has already checked the
/// request's types, ranges, the session's permission and scope; the backend checks the rest
/// (does the call exist, is the channel free, does the verb fit the call's state) and throws a
/// `CTIBackendError` when it cannot. Long operations (originate, ring, play, collect, record,
/// transfer) return `.done` as soon as they are accepted and later publish their ending event
/// carrying the request's `opID` on the `CTIEventHub`.
public protocol CTIBackend: Sendable {
    func perform(_ request: CTIRequest, session: CTISessionInfo) async throws(CTIBackendError) -> CTIResult

    /// Where a channel or call is (for scoped tokens). Throws `.notFound` for an unknown call or channel.
    func locate(_ target: CTITarget) async throws(CTIBackendError) -> CTILocation

    /// The session ended (logout, disconnect, timeout, overflow): release its claims, stop its snoops.
    func sessionEnded(_ session: CTISessionInfo) async

    /// Read-only requests (`span.status`, `state.snapshot`) the gateway can answer at once from
    /// state it keeps current, without a task hop: called on the connection's event loop, so it
    /// must not block or wait. nil (the default) sends the request to `perform`.
    func answerImmediately(_ request: CTIRequest, session: CTISessionInfo) -> CTIResult?
}

extension CTIBackend {
    public func answerImmediately(_ request: CTIRequest, session: CTISessionInfo) -> CTIResult? { nil }
}
