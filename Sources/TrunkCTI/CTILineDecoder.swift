import NIOCore

/// Splits the CTI byte stream into lines (LF, with an optional CR before it). A line longer than
/// the limit is not buffered: the decoder reports it once and the connection is closed, since
/// there is no way to resynchronise safely inside a runaway line.
struct CTILineDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    struct LineTooLong: Error, CustomStringConvertible {
        let limit: Int
        var description: String { "a request line is longer than \(limit) bytes" }
    }

    let maximumLength: Int
    /// Bytes already searched for a newline, so a long partial line is not rescanned per read.
    private var scanned = 0

    init(maximumLength: Int) { self.maximumLength = maximumLength }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        if let newline = view[(view.startIndex + scanned)...].firstIndex(of: UInt8(ascii: "\n")) {
            var length = newline - view.startIndex
            scanned = 0
            if length > 0, view[newline - 1] == UInt8(ascii: "\r") { length -= 1 }
            if length > maximumLength { throw LineTooLong(limit: maximumLength) }
            let line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(to: newline + 1)
            context.fireChannelRead(Self.wrapInboundOut(line))
            return .continue
        }
        scanned = view.count
        // One byte of slack: the line may still end with CR LF.
        if scanned > maximumLength + 1 { throw LineTooLong(limit: maximumLength) }
        return .needMoreData
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
