import TrunkCore
import TrunkCTI
import TrunkISDN

/// The configuration file's call tables (`[[trunk_group]]`, `[[route]]`, `[cti]`) turned into
/// what the call manager and the CTI server run with.
extension TrunklineConfig {
    /// Routes for the call manager. A route to a trunk group (tandem switching) is refused: this
    /// version does not switch a call out again, and a file must not claim it does.
    public func callManagerConfiguration() throws(TrunkError) -> CallManager.Configuration {
        var configuration = CallManager.Configuration()
        if let flow { configuration.flow = flow }
        for route in routes {
            let action: CallManager.InboundRoute.Action
            switch route.action {
            case .flow: action = .flow
            case .reject(let cause): action = .reject(Q850Cause(rawValue: UInt8(clamping: cause)))
            case .trunkGroup(let name):
                throw TrunkError(.invalidArgument, "\(file):\(route.line):\(route.column): route to trunk group \(name): tandem switching is not supported yet; route to flow or reject")
            }
            let channel = route.channel.flatMap { number in route.span.map { ChannelAddress(span: $0, channel: number) } }
            configuration.routes.append(CallManager.InboundRoute(dnis: route.dnis, span: channel == nil ? route.span : nil,
                                                                 channel: channel, action: action))
        }
        return configuration
    }

    /// Trunk groups over the node's trunks: `spans` take every channel of those spans' trunks,
    /// `channels` are DAHDI channel numbers.
    public func callTrunkGroups(trunks: [Int: [Int]], numbering: ChannelNumbering) throws(TrunkError) -> [TrunkGroup]? {
        guard !trunkGroups.isEmpty else { return nil }
        return try trunkGroups.map { (group) throws(TrunkError) -> TrunkGroup in
            var members: [ChannelAddress] = []
            for span in group.spans {
                guard let channels = trunks[span] else {
                    throw TrunkError(.invalidArgument, "\(file):\(group.line):\(group.column): trunk group \(group.name): span \(span) carries no calls on this node")
                }
                members += channels.map { ChannelAddress(span: span, channel: $0) }
            }
            for number in group.channels {
                guard let address = numbering.address(of: number), trunks[address.span]?.contains(address.channel) == true else {
                    throw TrunkError(.invalidArgument, "\(file):\(group.line):\(group.column): trunk group \(group.name): channel \(number) carries no calls on this node")
                }
                members.append(address)
            }
            let hunt: TrunkGroup.HuntOrder = switch group.hunt {
            case .ascending: .ascending
            case .descending: .descending
            case .roundRobin: .roundRobin
            }
            return TrunkGroup(name: group.name, members: members, hunt: hunt)
        }
    }

    /// The CTI server's listeners and tokens; nil when the file declares none (no CTI socket).
    public func ctiConfiguration(folder: DataFolder) -> CTIConfiguration? {
        guard !cti.tcp.isEmpty || !cti.unix.isEmpty || !cti.tls.isEmpty else { return nil }
        var configuration = CTIConfiguration()
        configuration.listeners = cti.tcp.map { .tcp(host: $0.host, port: $0.port) } + cti.unix.map { .unix(path: $0, mode: 0o660) }
        if let certificate = cti.tlsCertificate, let key = cti.tlsKey {
            let files = CTITLSFiles(certificatePath: certificate, privateKeyPath: key)
            configuration.listeners += cti.tls.map { .tls(host: $0.host, port: $0.port, files) }
        }
        configuration.auditLogPath = folder.path + "/cti-audit.jsonl"
        configuration.tokens = cti.tokens.map { token in
            CTIConfiguration.Token(secret: token.token, name: token.name,
                                   permissions: Set(token.permissions.compactMap { CTIPermission(rawValue: $0.rawValue) }),
                                   scope: CTIScope(spans: Set(token.spans), channels: Set(token.channels)))
        }
        if let idle = cti.tokens.map(\.idleTimeoutSeconds).max(), idle > 0 { configuration.idleTimeoutMilliseconds = Int64(idle) * 1000 }
        return configuration
    }
}
