#if canImport(Glibc)
import Glibc
#endif
import Foundation
import TrunkCore

extension ControlClient {
    /// Sends one request whose answer is streamed: every notification line (a JSON-RPC object
    /// with a `method`) goes to `onNotification` as it arrives, then the reply's result is
    /// returned. `shouldStop` is asked at least every 200 ms; once it says yes the connection is
    /// closed — that is how trunkd learns the client is done — and nil is returned.
    public func stream<Params: Codable & Sendable, Result: Codable & Sendable>(
        _ method: ControlMethod, _ params: Params, as _: Result.Type,
        shouldStop: () -> Bool, onNotification: (Data) throws -> Void
    ) throws -> Result? {
        let fd = try connectSocket(receiveTimeout: timeval(tv_sec: 0, tv_usec: 200_000))
        defer { close(fd) }
        try sendLine(JSONEncoder().encode(ControlRequest(id: 1, method: method, params: params)), on: fd)
        var pending = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var silentSince = Date()
        while !shouldStop() {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN {
                    // A stream sends every few tens of ms; this long without a byte is a hung daemon.
                    if Date().timeIntervalSince(silentSince) > Double(timeoutSeconds) {
                        throw TrunkError(.unavailable, "trunkd sent nothing for \(timeoutSeconds) s")
                    }
                    continue
                }
                throw TrunkError(.unavailable, "reading from trunkd failed: \(String(cString: strerror(errno)))")
            }
            if count == 0 { throw TrunkError(.unavailable, "trunkd closed the connection before the end of the stream") }
            silentSince = Date()
            pending.append(contentsOf: buffer[0..<count])
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending[pending.startIndex..<newline]
                pending = Data(pending[(newline + 1)...])
                let envelope = try? JSONDecoder().decode(ControlEnvelope.self, from: line)
                if envelope?.method != nil && envelope?.id == nil {
                    try onNotification(Data(line))
                    continue
                }
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
        }
        return nil
    }
}
