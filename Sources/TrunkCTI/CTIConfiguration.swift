import NIOCore

/// Everything the CTI server needs to run, as plain values: the gateway fills it from the
/// configuration file and hands it over. Defaults are the embedded default's: loopback TCP
/// on port 7420, no Unix socket, no tokens (so nobody can log in until one is configured).
public struct CTIConfiguration: Sendable {
    public enum Listener: Sendable, Equatable {
        /// TCP; `host` defaults to loopback so nothing is exposed off the machine by accident.
        case tcp(host: String = "127.0.0.1", port: Int)
        /// A Unix socket; the peer's uid (SO_PEERCRED) is recorded in the session and audit log.
        /// `mode` is applied to the socket file (0660: owner and group).
        case unix(path: String, mode: UInt32 = 0o660)
        /// TCP with TLS (1.2 or later; 1.3 when the client offers it): the port accepts only TLS.
        /// The server needs a TLS loader (`CTIServer(tls:)`) to open it.
        case tls(host: String = "127.0.0.1", port: Int, CTITLSFiles)
    }

    public struct Token: Sendable, Equatable {
        /// The secret the client presents in `session.login`.
        public var secret: String
        /// Who it belongs to, for logs and the audit file (never the secret itself).
        public var name: String
        public var permissions: Set<CTIPermission>
        public var scope: CTIScope
        /// When set, the token is only accepted over a Unix socket from this uid.
        public var requiredUID: UInt32?

        public init(secret: String, name: String, permissions: Set<CTIPermission>, scope: CTIScope = .everything, requiredUID: UInt32? = nil) {
            self.secret = secret
            self.name = name
            self.permissions = permissions
            self.scope = scope
            self.requiredUID = requiredUID
        }
    }

    public var listeners: [Listener] = [.tcp(port: 7420)]
    public var tokens: [Token] = []
    /// A session that sends nothing for this long is closed (`session.closed` with reason idle_timeout).
    public var idleTimeoutMilliseconds: Int64 = 300_000
    /// Append-only JSON lines: logins, failed logins, denials, supervision starts. nil: no audit file.
    public var auditLogPath: String?
    /// The longest request line accepted (bytes, without the newline). Longer closes the connection.
    public var maximumLineBytes: Int = 1 << 20
    /// Events kept per node for `events.subscribe {since_seq}` resumption.
    public var replayBufferEvents: Int = 65_536
    /// Events a client may have waiting (not yet taken by its socket) before it is told it
    /// overflowed and is disconnected.
    public var clientQueueEvents: Int = 8_192
    /// Bytes NIO may hold for a client's socket before the client counts as not reading
    /// (the channel's write-buffer high watermark); the low watermark is half of it.
    public var clientSocketBufferBytes: Int = 1 << 20
    /// The kernel send buffer per client socket (SO_SNDBUF); nil keeps the system's default.
    /// With the watermark above and the queue below it bounds what one client can hold.
    public var socketSendBufferBytes: Int?
    /// Requests a session may have waiting on the backend at once; beyond it: too_many_requests.
    public var maximumRequestsInFlight: Int = 64
    /// Failed logins allowed per peer (address or uid) within `loginFailureWindowMilliseconds`
    /// before further attempts are refused without being checked.
    public var loginFailuresAllowed: Int = 5
    public var loginFailureWindowMilliseconds: Int64 = 60_000
    /// How long an overflowed or timed-out client has to take the closing notice before the
    /// connection is dropped anyway.
    public var closeGraceMilliseconds: Int64 = 2_000
    /// The node's name in the greeting and in events' origin (one node per trunkd).
    public var nodeName: String = "trunkd"

    public init() {}
}

/// The PEM files of a TLS listener: read and checked when the server starts.
public struct CTITLSFiles: Sendable, Equatable {
    /// The server's certificate, followed by any intermediate certificates.
    public var certificatePath: String
    /// The certificate's private key, unencrypted.
    public var privateKeyPath: String

    public init(certificatePath: String, privateKeyPath: String) {
        self.certificatePath = certificatePath
        self.privateKeyPath = privateKeyPath
    }
}

/// What a TLS listener puts in front of the CTI framing on each connection it accepts. The
/// TLS library lives outside this module (TrunkCTITLS) so the protocol layer, its tests and its
/// benchmark build without it; the server is handed a loader that makes one of these per listener.
public protocol CTITransportSecurity: Sendable {
    func addServerHandlers(to pipeline: ChannelPipeline.SynchronousOperations) throws
}

/// Reads and checks a listener's TLS files; throws an error that names the file and what is wrong.
public typealias CTITLSLoader = @Sendable (CTITLSFiles) throws -> any CTITransportSecurity
