import CDAHDI
import Foundation
import TrunkCore
@testable import TrunkHardware

/// A stand-in for the DAHDI kernel at the syscall seam: it keeps channels, event queues,
/// receive queues and span status the way the kernel would, records every call, and can be
/// told to fail the next call of a kind with an errno.
final class ScriptedKernel: @unchecked Sendable {
    struct Call: Equatable, CustomStringConvertible {
        var name: String
        var fd: Int32
        var request: UInt = 0
        var value: Int32? = nil
        var description: String { "\(name)(fd \(fd)\(request != 0 ? ", 0x" + String(request, radix: 16) : "")\(value.map { ", \($0)" } ?? ""))" }
    }

    struct Span {
        var name: String
        var type: String
        var alarms: SpanAlarms
        var totalChannels: Int
        var bpv: Int32 = 0
    }

    private let lock = NSLock()
    private(set) var calls: [Call] = []
    private var nextFD: Int32 = 10
    private var boundChannel: [Int32: Int32] = [:]
    var signalling: [Int32: Int32] = [:]          // channel → DAHDI_SIG_*
    var events: [Int32: [Int32]] = [:]            // channel → queued events
    var received: [Int32: [[UInt8]]] = [:]        // channel → data or frames to read
    var written: [Int32: [[UInt8]]] = [:]         // channel → what was written
    var spans: [Int: Span] = [:]
    var failures: [String: [Int32]] = [:]         // call name → errnos for its next calls
    var existingPaths: Set<String> = ["/dev/dahdi/ctl", "/dev/dahdi/channel", "/dev/dahdi/timer"]
    /// Timer expiries pending on any timer descriptor.
    var timerExpiries = 0
    var timerFDs: Set<Int32> = []
    var timerConfigured: Int32?

    var system: DAHDISystem {
        DAHDISystem(
            open: { [self] path, flags in open(path, flags) },
            close: { [self] fd in record(Call(name: "close", fd: fd)); return SyscallResult(value: 0) },
            ioctl: { [self] fd, request, argument in ioctl(fd, request, argument) },
            read: { [self] fd, buffer in read(fd, buffer) },
            write: { [self] fd, bytes in write(fd, bytes) },
            poll: { [self] fd, events, timeout in poll(fd, events, timeout) },
            fileExists: { [self] path in lock.withLock { existingPaths.contains(path) } })
    }

    func record(_ call: Call) { lock.withLock { calls.append(call) } }

    func callNames(fd: Int32? = nil) -> [String] {
        lock.withLock { calls.filter { fd == nil || $0.fd == fd }.map(\.name) }
    }

    private func injectedFailure(_ name: String) -> Int32? {
        lock.withLock {
            guard var queue = failures[name], !queue.isEmpty else { return nil }
            let code = queue.removeFirst()
            failures[name] = queue
            return code
        }
    }

    private func open(_ path: String, _ flags: Int32) -> SyscallResult {
        record(Call(name: "open \(path)", fd: -1, value: flags))
        if let code = injectedFailure("open") { return .failure(code) }
        guard lock.withLock({ existingPaths.contains(path) }) else { return .failure(ENOENT) }
        return lock.withLock {
            nextFD += 1
            if path.hasSuffix("/timer") { timerFDs.insert(nextFD) }
            return SyscallResult(value: Int(nextFD))
        }
    }

    private func channel(of fd: Int32) -> Int32? { lock.withLock { boundChannel[fd] } }

    private func ioctl(_ fd: Int32, _ request: UInt, _ argument: UnsafeMutableRawPointer?) -> SyscallResult {
        let name = Self.requestName(request)
        var value: Int32?
        if [CDAHDI_SPECIFY, CDAHDI_HOOK, CDAHDI_SET_BLOCKSIZE, CDAHDI_SETLAW, CDAHDI_SETLINEAR, CDAHDI_SETPOLARITY,
            CDAHDI_ECHOCANCEL_PARAMS].contains(request) {
            value = argument!.load(as: Int32.self)
        }
        if request == CDAHDI_MAINT { value = argument!.assumingMemoryBound(to: dahdi_maintinfo.self).pointee.command }
        record(Call(name: name, fd: fd, request: request, value: value))
        if let code = injectedFailure(name) { return .failure(code) }
        switch request {
        case CDAHDI_SPECIFY:
            let channel = argument!.load(as: Int32.self)
            guard lock.withLock({ signalling[channel] != nil }) else { return .failure(ENXIO) }
            lock.withLock { boundChannel[fd] = channel }
        case CDAHDI_GET_PARAMS:
            let parameters = argument!.assumingMemoryBound(to: dahdi_params.self)
            let channel = channel(of: fd) ?? parameters.pointee.channo
            guard let sigtype = lock.withLock({ signalling[channel] }) else { return .failure(EINVAL) }
            parameters.pointee.sigtype = sigtype
            parameters.pointee.chanpos = channel
            parameters.pointee.curlaw = Int32(DAHDI_LAW_ALAW)
        case CDAHDI_GETEVENT:
            guard let channel = channel(of: fd) else { return .failure(EINVAL) }
            let event = lock.withLock { () -> Int32 in
                guard var queue = events[channel], !queue.isEmpty else { return 0 }
                let first = queue.removeFirst()
                events[channel] = queue
                return first
            }
            argument!.storeBytes(of: event, as: Int32.self)
        case CDAHDI_TIMERCONFIG:
            lock.withLock { timerConfigured = argument!.load(as: Int32.self) }
        case CDAHDI_TIMERACK:
            let count = argument!.load(as: Int32.self)
            lock.withLock { timerExpiries = max(0, timerExpiries - Int(count)) }
        case CDAHDI_SPANSTAT:
            let info = argument!.assumingMemoryBound(to: dahdi_spaninfo.self)
            guard let span = lock.withLock({ spans[Int(info.pointee.spanno)] }) else { return .failure(EINVAL) }
            info.pointee.alarms = span.alarms.rawValue
            info.pointee.totalchans = Int32(span.totalChannels)
            info.pointee.bpvcount = span.bpv
            withUnsafeMutableBytes(of: &info.pointee.name) { raw in for (i, b) in span.name.utf8.enumerated() { raw[i] = b } }
            withUnsafeMutableBytes(of: &info.pointee.spantype) { raw in for (i, b) in span.type.utf8.enumerated() { raw[i] = b } }
        default:
            break
        }
        return SyscallResult(value: 0)
    }

    private func poll(_ fd: Int32, _ wanted: Int16, _ timeout: Int32) -> (result: SyscallResult, revents: Int16) {
        record(Call(name: "poll", fd: fd, value: Int32(wanted)))
        if let code = injectedFailure("poll") { return (.failure(code), 0) }
        return lock.withLock {
            var revents: Int16 = 0
            if timerFDs.contains(fd) {
                if timerExpiries > 0 { revents |= Int16(POLLPRI) }
            } else if let channel = boundChannel[fd] {
                if !(events[channel] ?? []).isEmpty { revents |= Int16(POLLPRI) }
                if !(received[channel] ?? []).isEmpty { revents |= Int16(POLLIN) }
            }
            return (SyscallResult(value: revents == 0 ? 0 : 1), revents & (wanted | Int16(POLLERR | POLLHUP)))
        }
    }

    private func read(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> SyscallResult {
        record(Call(name: "read", fd: fd))
        if let code = injectedFailure("read") { return .failure(code) }
        guard let channel = channel(of: fd) else { return .failure(EBADF) }
        // The kernel refuses I/O while an event waits: the reader must fetch it first.
        if lock.withLock({ !(events[channel] ?? []).isEmpty }) { return .failure(CDAHDI_ELAST) }
        let next = lock.withLock { () -> [UInt8]? in
            guard var queue = received[channel], !queue.isEmpty else { return nil }
            let first = queue.removeFirst()
            received[channel] = queue
            return first
        }
        guard let next else { return .failure(EAGAIN) }
        for (index, byte) in next.prefix(buffer.count).enumerated() { buffer[index] = byte }
        return SyscallResult(value: min(next.count, buffer.count))
    }

    private func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> SyscallResult {
        record(Call(name: "write", fd: fd))
        if let code = injectedFailure("write") { return .failure(code) }
        guard let channel = channel(of: fd) else { return .failure(EBADF) }
        if lock.withLock({ !(events[channel] ?? []).isEmpty }) { return .failure(CDAHDI_ELAST) }
        lock.withLock { written[channel, default: []].append(Array(bytes)) }
        return SyscallResult(value: bytes.count)
    }

    static func requestName(_ request: UInt) -> String {
        let names: [UInt: String] = [
            CDAHDI_SPECIFY: "DAHDI_SPECIFY", CDAHDI_GET_PARAMS: "DAHDI_GET_PARAMS", CDAHDI_SET_BLOCKSIZE: "DAHDI_SET_BLOCKSIZE",
            CDAHDI_SET_BUFINFO: "DAHDI_SET_BUFINFO", CDAHDI_GET_BUFINFO: "DAHDI_GET_BUFINFO", CDAHDI_GETEVENT: "DAHDI_GETEVENT",
            CDAHDI_HOOK: "DAHDI_HOOK", CDAHDI_SPANSTAT: "DAHDI_SPANSTAT", CDAHDI_SETLAW: "DAHDI_SETLAW",
            CDAHDI_SETLINEAR: "DAHDI_SETLINEAR", CDAHDI_SETPOLARITY: "DAHDI_SETPOLARITY", CDAHDI_SETCADENCE: "DAHDI_SETCADENCE",
            CDAHDI_ECHOCANCEL_PARAMS: "DAHDI_ECHOCANCEL_PARAMS", CDAHDI_TIMERCONFIG: "DAHDI_TIMERCONFIG",
            CDAHDI_TIMERACK: "DAHDI_TIMERACK", CDAHDI_MAINT: "DAHDI_MAINT",
        ]
        return names[request] ?? "ioctl 0x" + String(request, radix: 16)
    }
}
