#if canImport(Glibc)
import Glibc
#endif
import CRealTime

/// Puts the calling thread in real-time shape for the media loop, as far as the process is
/// allowed to, and says what it got so that the caller can log it once at start.
///
/// - SCHED_FIFO (needs CAP_SYS_NICE or an RLIMIT_RTPRIO, e.g. systemd's LimitRTPRIO=): the
///   loop then pre-empts every normal thread. Without it the thread stays SCHED_OTHER and asks
///   for nice −20 (which may also be refused): lateness then depends on the machine's load.
/// - CPU pinning (sched_setaffinity, allowed to any thread within its cpuset): the caches and
///   the branch predictors stay warm, and other loops (one per core) do not collide.
/// - mlockall(MCL_CURRENT | MCL_FUTURE) (needs CAP_IPC_LOCK or RLIMIT_MEMLOCK): no page fault
///   ever stalls a tick. Without it the loop's buffers, touched when channels are created,
///   are resident but may be paged out under memory pressure.
public struct RealTimeGrant: Sendable, Equatable, CustomStringConvertible {
    public var fifoPriority: Int32?
    public var pinnedCPU: Int?
    public var memoryLocked: Bool
    /// Errors of what was refused (errno values), for the log line.
    public var refusals: [String]

    public var description: String {
        var parts: [String] = []
        parts.append(fifoPriority.map { "SCHED_FIFO priority \($0)" } ?? "normal scheduling (no SCHED_FIFO)")
        parts.append(pinnedCPU.map { "pinned to CPU \($0)" } ?? "not pinned")
        parts.append(memoryLocked ? "memory locked" : "memory not locked")
        let refused = refusals.isEmpty ? "" : " — refused: " + refusals.joined(separator: ", ")
        return parts.joined(separator: ", ") + refused
    }
}

public enum RealTimeScheduling {
    /// Applies what it can to the calling thread; never throws: each refusal is reported.
    public static func applyToCurrentThread(priority: Int32 = 60, cpu: Int? = nil, lockMemory: Bool = true) -> RealTimeGrant {
        var grant = RealTimeGrant(fifoPriority: nil, pinnedCPU: nil, memoryLocked: false, refusals: [])
        var parameters = sched_param()
        parameters.sched_priority = priority
        let scheduled = pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters)
        if scheduled == 0 {
            grant.fifoPriority = priority
        } else {
            grant.refusals.append("SCHED_FIFO (error \(scheduled): needs CAP_SYS_NICE or LimitRTPRIO)")
            if setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(crt_current_thread_id()), -20) != 0 {
                grant.refusals.append("nice -20 (errno \(errno))")
            }
        }
        if let cpu {
            let result = crt_pin_current_thread(Int32(cpu))
            if result == 0 {
                grant.pinnedCPU = cpu
            } else {
                grant.refusals.append("CPU \(cpu) affinity (errno \(result))")
            }
        }
        if lockMemory {
            if mlockall(Int32(MCL_CURRENT | MCL_FUTURE)) == 0 {
                grant.memoryLocked = true
            } else {
                grant.refusals.append("mlockall (errno \(errno): needs CAP_IPC_LOCK or LimitMEMLOCK=infinity)")
            }
        }
        return grant
    }
}
