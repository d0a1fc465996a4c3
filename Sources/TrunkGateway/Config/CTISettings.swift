/// `[cti]` listeners and `[[cti.token]]` clients: what the CTI server opens and whom it lets in.
public struct CTISettings: Sendable, Equatable, Codable {
    public struct TCPListener: Sendable, Equatable, Codable {
        public var host: String
        public var port: Int
    }

    public enum Permission: String, Sendable, CaseIterable, Codable {
        case call, media, record, supervise, config, admin
    }

    public struct Token: Sendable, Equatable, Codable {
        public var name: String
        public var token: String
        public var permissions: [Permission]
        /// Empty: every span.
        public var spans: [Int]
        /// Empty: every channel of the allowed spans.
        public var channels: [Int]
        public var idleTimeoutSeconds: Int
        public var line: Int
        public var column: Int
        var spansPosition: SourcePosition?

        public var position: SourcePosition { SourcePosition(line: line, column: column) }

        public static func == (a: Self, b: Self) -> Bool {
            a.name == b.name && a.token == b.token && a.permissions == b.permissions && a.spans == b.spans
                && a.channels == b.channels && a.idleTimeoutSeconds == b.idleTimeoutSeconds
        }

        enum CodingKeys: String, CodingKey { case name, token, permissions, spans, channels, idleTimeoutSeconds, line, column }
    }

    public var tcp: [TCPListener] = []
    public var unix: [String] = []
    /// TCP listeners that speak only TLS, with the certificate and key below.
    public var tls: [TCPListener] = []
    /// PEM files of the TLS listeners (absolute paths; read and checked when trunkd starts).
    public var tlsCertificate: String?
    public var tlsKey: String?
    public var tokens: [Token] = []

    public init() {}

    /// Tokens are secrets: long enough that guessing is hopeless.
    public static let minimumTokenLength = 16
}

extension ConfigReader {
    mutating func ctiListeners(_ table: ConfigTable, into settings: inout CTISettings) {
        checkKeys(table, allowed: ["tcp", "unix", "tls", "tls_cert", "tls_key"], label: "[cti]")
        for (text, position) in strings(table, "tcp") {
            if let listener = tcpListener(text, at: position) { settings.tcp.append(listener) }
        }
        for (path, position) in strings(table, "unix") {
            if path.hasPrefix("/") { settings.unix.append(path) } else { fail(position, "unix must be an absolute socket path, not \"\(path)\"") }
        }
        ctiTLS(table, into: &settings)
    }

    /// `tls` listeners need both PEM files; the files without a listener are a mistake too.
    private mutating func ctiTLS(_ table: ConfigTable, into settings: inout CTISettings) {
        for (text, position) in strings(table, "tls") {
            guard let listener = tcpListener(text, at: position, key: "tls") else { continue }
            if settings.tcp.contains(listener) {
                fail(position, "\(text) is both a tcp and a tls listener: a port speaks either plain text or TLS")
            }
            settings.tls.append(listener)
        }
        for (key, label) in [("tls_cert", "certificate"), ("tls_key", "private key")] {
            guard value(table, key) != nil, let path = string(table, key) else {
                if !settings.tls.isEmpty {
                    fail(value(table, "tls")!.position, "tls listeners need \(key): the absolute path of the PEM \(label) file")
                }
                continue
            }
            let position = value(table, key)!.position
            if !path.hasPrefix("/") {
                fail(position, "\(key) must be an absolute path to a PEM \(label) file, not \"\(path)\"")
            } else if settings.tls.isEmpty && value(table, "tls") == nil {
                fail(position, "\(key) is set but there is no tls listener: add tls = \"HOST:PORT\" or remove \(key)")
            }
            if key == "tls_cert" { settings.tlsCertificate = path } else { settings.tlsKey = path }
        }
    }

    /// "host:port" or "[v6]:port".
    private mutating func tcpListener(_ text: String, at position: SourcePosition, key: String = "tcp") -> CTISettings.TCPListener? {
        var host = "", portText = ""
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            portText = text[text.index(after: close)...].hasPrefix(":") ? String(text[text.index(close, offsetBy: 2)...]) : ""
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            portText = String(text[text.index(after: colon)...])
        }
        guard !host.isEmpty, let port = Int(portText), (1...65535).contains(port) else {
            fail(position, "\(key) must be \"HOST:PORT\" (port 1…65535), like \"127.0.0.1:7070\", not \"\(text)\"")
            return nil
        }
        return CTISettings.TCPListener(host: host, port: port)
    }

    /// A string or an array of strings, each with its position.
    mutating func strings(_ table: ConfigTable, _ key: String) -> [(String, SourcePosition)] {
        guard let entry = value(table, key) else { return [] }
        let items: [ConfigValue]
        if case .array(let list) = entry.kind { items = list } else { items = [entry] }
        var out: [(String, SourcePosition)] = []
        for item in items {
            guard case .string(let text) = item.kind else {
                fail(item.position, "\(key) must be a string or a list of strings, not \(item.typeName)")
                continue
            }
            out.append((text, item.position))
        }
        return out
    }

    mutating func ctiToken(_ table: ConfigTable) -> CTISettings.Token? {
        checkKeys(table, allowed: ["name", "token", "permissions", "spans", "channels", "idle_timeout_s"])
        let errorsBefore = errors.count
        let name = string(table, "name")
        let token = string(table, "token")
        if let token, token.count < CTISettings.minimumTokenLength {
            fail(value(table, "token")!.position, "token \(name ?? "?"): a token needs at least \(CTISettings.minimumTokenLength) characters, this has \(token.count)")
        }
        var permissions: [CTISettings.Permission] = []
        let listed = strings(table, "permissions")
        if value(table, "permissions") == nil { fail(table.position, "[[cti.token]] needs permissions") }
        for (text, position) in listed {
            if let permission = CTISettings.Permission(rawValue: text) {
                permissions.append(permission)
            } else {
                fail(position, "permissions are among \(CTISettings.Permission.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(text)\"")
            }
        }
        let spans = integerList(table, "spans", in: 1...128)
        let channels = channelList(table, "channels") ?? []
        let idle = integer(table, "idle_timeout_s", in: 10...86_400, default: 300)
        guard errors.count == errorsBefore, let name, let token, let idle else { return nil }
        return CTISettings.Token(name: name, token: token, permissions: permissions, spans: spans, channels: channels,
                                 idleTimeoutSeconds: idle, line: table.position.line, column: table.position.column,
                                 spansPosition: value(table, "spans")?.position)
    }
}
