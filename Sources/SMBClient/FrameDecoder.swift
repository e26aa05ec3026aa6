import NIOCore
import SMBProtocol
import Synchronization

/// The largest frame accepted right now; raised once NEGOTIATE reports the server's sizes.
final class FrameLimit: Sendable {
    private let value: Atomic<Int>
    init(_ initial: Int) { value = Atomic(initial) }
    var current: Int { value.load(ordering: .relaxed) }
    func set(_ v: Int) { value.store(v, ordering: .relaxed) }
}

/// Splits the byte stream into Direct TCP frames (MS-SMB2 2.1). A frame over the limit is an
/// error that closes the connection: it is never buffered.
struct DirectTCPFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer
    let limit: FrameLimit

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard buffer.readableBytes >= DirectTCP.headerSize,
              let h = buffer.getBytes(at: buffer.readerIndex, length: DirectTCP.headerSize) else {
            return .needMoreData
        }
        let length = try DirectTCP.frameLength(h[0], h[1], h[2], h[3])
        let max = limit.current
        guard length <= max else { throw SMBError.frameTooLarge(length: length, limit: max) }
        guard buffer.readableBytes >= DirectTCP.headerSize + length else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: DirectTCP.headerSize)
        guard let frame = buffer.readSlice(length: length) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Hands complete frames to the connection and reports the channel's end.
final class FrameReceiver: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let sink: Connection

    init(sink: Connection) { self.sink = sink }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buf = unwrapInboundIn(data)
        let bytes = buf.readBytes(length: buf.readableBytes) ?? []
        sink.didReceive(frame: bytes)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        sink.fail(error as? SMBError ?? .connectionClosed("\(error)"))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        sink.fail(.connectionClosed("the server closed the connection"))
        context.fireChannelInactive()
    }
}
