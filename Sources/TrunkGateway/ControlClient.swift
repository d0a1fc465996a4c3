#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TrunkCore
import TrunkHardware

/// trunkctl's side of the control socket: a blocking Unix-socket client, one request per
/// call. Plain sockets keep a CLI invocation quick to start.
public struct ControlClient {
    public let path: String
    public var timeoutSeconds = 30

    public init(path: String) { self.path = path }

    /// Sends one request and decodes its result, turning a JSON-RPC error into a TrunkError.
    public func call<Params: Codable & Sendable, Result: Codable & Sendable>(
        _ method: ControlMethod, _ params: Params, as _: Result.Type
    ) throws -> Result {
        let request = ControlRequest(id: 1, method: method, params: params)
        let line = try exchange(JSONEncoder().encode(request))
        let response: ControlResponse<Result>
        do {
            response = try JSONDecoder().decode(ControlResponse<Result>.self, from: line)
        } catch {
            throw TrunkError(.protocolError, "trunkd sent a reply trunkctl cannot read: \(error)")
        }
        if let error = response.error { throw TrunkError(Self.errorCode(error.code), error.message) }
        guard let result = response.result else { throw TrunkError(.protocolError, "trunkd's reply has neither result nor error") }
        return result
    }

    static func errorCode(_ number: Int) -> TrunkError.Code {
        switch number {
        case 1002: .notFound
        case 1003: .busy
        case 1004: .permissionDenied
        case 1005: .deviceError
        case 1007: .alreadyRunning
        case 1008: .unavailable
        case 1099: .internal
        default: .invalidArgument
        }
    }

    private func exchange(_ request: Data) throws -> Data {
        let fd = try connectSocket(receiveTimeout: timeval(tv_sec: timeoutSeconds, tv_usec: 0))
        defer { close(fd) }
        try sendLine(request, on: fd)
        var reply = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !reply.contains(UInt8(ascii: "\n")) {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN { throw TrunkError(.unavailable, "trunkd did not answer within \(timeoutSeconds) s") }
                throw TrunkError(.unavailable, "reading from trunkd failed: \(String(cString: strerror(errno)))")
            }
            if count == 0 { throw TrunkError(.unavailable, "trunkd closed the connection without answering") }
            reply.append(contentsOf: buffer[0..<count])
        }
        return reply.prefix { $0 != UInt8(ascii: "\n") }
    }

    /// A connected socket to trunkd, reads timing out after `receiveTimeout`.
    func connectSocket(receiveTimeout: timeval) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TrunkError(.internal, "socket(): \(String(cString: strerror(errno)))") }
        var address: sockaddr_un
        do {
            address = try LinkWire.address(path)
        } catch {
            close(fd)
            throw error
        }
        var timeout = receiveTimeout
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let reason = errno
            close(fd)
            if reason == ENOENT || reason == ECONNREFUSED {
                throw TrunkError(.unavailable, "trunkd is not running (no control socket at \(path)); start it with `trunkd` or `make run`")
            }
            if reason == EACCES { throw TrunkError(.permissionDenied, "\(path): permission denied; run trunkctl as the user that runs trunkd") }
            throw TrunkError(.unavailable, "cannot reach trunkd at \(path): \(String(cString: strerror(reason)))")
        }
        return fd
    }

    /// Writes one request line.
    func sendLine(_ request: Data, on fd: Int32) throws {
        var payload = request
        payload.append(UInt8(ascii: "\n"))
        try payload.withUnsafeBytes { bytes in
            var sent = 0
            while sent < bytes.count {
                let count = send(fd, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
                if count < 0 {
                    if errno == EINTR { continue }
                    throw TrunkError(.unavailable, "sending to trunkd failed: \(String(cString: strerror(errno)))")
                }
                sent += count
            }
        }
    }
}
