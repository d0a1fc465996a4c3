#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import ServiceLifecycle
import TrunkCore
import TrunkHardware

/// Runs the alarm monitor on the control plane: a pass every `interval`, pruning once an hour.
/// It reads status the node already keeps; nothing here touches the media loop.
public struct AlarmService: Service {
    let node: GatewayNode
    let monitor: AlarmMonitor
    let interval: Duration
    let logger: Logger
    /// A path on the file system whose fullness is watched (the data folder).
    let storagePath: String?

    public init(node: GatewayNode, monitor: AlarmMonitor, interval: Duration = .milliseconds(200), storagePath: String? = nil, logger: Logger) {
        self.storagePath = storagePath
        self.node = node
        self.monitor = monitor
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        var lastPrune = -Double.infinity
        var lastFailure = ""
        while !Task.isCancelledOrShuttingDown {
            let now = Date().timeIntervalSince1970
            do throws(TrunkError) {
                var snapshot = node.alarmSnapshot()
                snapshot.storageUsedPercent = storagePath.flatMap(Self.usedPercent(path:))
                try monitor.observe(snapshot, now: now, monotonic: Double(SimulatorClock.now()) / 1e9)
                if now - lastPrune >= 3600 {
                    lastPrune = now
                    try monitor.prune(now: now)
                }
                lastFailure = ""
            } catch {
                // A full disk must not stop monitoring; say so once per distinct problem.
                if error.message != lastFailure { logger.error("alarm monitor: \(error.message)") }
                lastFailure = error.message
            }
            try? await Task.sleep(for: interval)
        }
    }
}

extension AlarmService {
    /// Used blocks over the blocks an unprivileged process may fill, as `df` reports it.
    static func usedPercent(path: String) -> Double? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        let used = Double(info.f_blocks - info.f_bfree)
        let usable = used + Double(info.f_bavail)
        return usable > 0 ? used / usable * 100 : nil
    }
}

extension Task where Success == Never, Failure == Never {
    static var isCancelledOrShuttingDown: Bool { Task.isCancelled || Task.isShuttingDownGracefully }
}
