import Foundation
import NIOCore
import TrunkCore

/// `config apply`: the file's text as trunkctl read it (so what was checked is what is
/// applied, whoever may read the file), and whether only to show the diff.
public struct ConfigApplyParams: Codable, Sendable, Equatable {
    public var file: String
    public var text: String
    public var dryRun: Bool
    public init(file: String, text: String, dryRun: Bool) {
        self.file = file
        self.text = text
        self.dryRun = dryRun
    }
}

public struct ConfigApplyResult: Codable, Sendable, Equatable {
    public var file: String
    public var dryRun: Bool
    public var applied: Bool
    public var user: String
    public var diff: ConfigDiff
}

extension GatewayNode {
    /// The kinds of this node's analog ports, for checking a new file against the hardware.
    var hardwarePorts: HardwarePorts? {
        if let dahdi, let spans = try? dahdi.discover() { return HardwarePorts(dahdiSpans: spans) }
        return nil
    }

    func handleConfigApply(id: Int?, data: Data, peer: ControlPeer?) throws -> ByteBuffer {
        guard let configuration else { throw TrunkError(.unavailable, "this node does not take configuration changes") }
        let params = try decodeParams(ConfigApplyParams.self, from: data)
        let user = peer?.user ?? "unknown"
        let new: TrunklineConfig
        do {
            new = try TrunklineConfig.parse(text: params.text, file: params.file, hardware: hardwarePorts)
        } catch {
            logger.warning("configuration refused; the running one stays", metadata: ["user": "\(user)", "file": "\(params.file)",
                                                                                    "errors": "\(error.errors.count)"])
            throw TrunkError(.invalidArgument, error.errors.map(\.description).joined(separator: "\n"))
        }
        if params.dryRun {
            return encode(id: id, ConfigApplyResult(file: params.file, dryRun: true, applied: false, user: user, diff: configuration.plan(new)))
        }
        let diff = try configuration.apply(new, user: user, now: Date().timeIntervalSince1970)
        return encode(id: id, ConfigApplyResult(file: params.file, dryRun: false, applied: diff.changes.contains { $0.action == .live },
                                                user: user, diff: diff))
    }
}
