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

/// Splits the byte stream into Direct TCP frames (MS-SMB2 2.1) and hands each to the
/// connection, with the channel's end. Each frame is copied once, from the socket's buffers
/// straight into the array it is handed over in (no gathering buffer in between: a 1 MiB READ
/// response arrives in many reads). A frame over the limit is an error that closes the
/// connection; it is never buffered.
final class FrameReceiver: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let sink: Connection
    let limit: FrameLimit
    /// The length prefix, while it arrives.
    private var prefix: [UInt8] = []
    /// The frame being filled, its length, and how much of it has arrived.
    private var frame: [UInt8] = []
    private var expected: Int?
    private var filled = 0
    private var failed = false

    init(sink: Connection, limit: FrameLimit) {
        self.sink = sink
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var buf = unwrapInboundIn(data)
        do {
            while buf.readableBytes > 0 {
                guard let length = expected else {
                    let take = min(DirectTCP.headerSize - prefix.count, buf.readableBytes)
                    prefix.append(contentsOf: buf.readBytes(length: take) ?? [])
                    guard prefix.count == DirectTCP.headerSize else { return }
                    let n = try DirectTCP.frameLength(prefix[0], prefix[1], prefix[2], prefix[3])
                    prefix.removeAll(keepingCapacity: true)
                    let max = limit.current
                    guard n <= max else { throw SMBError.frameTooLarge(length: n, limit: max) }
                    // Every byte is written below before the frame is handed over.
                    frame = [UInt8](unsafeUninitializedCapacity: n) { _, count in count = n }
                    expected = n
                    filled = 0
                    if n == 0 { deliver() }
                    continue
                }
                let take = min(length - filled, buf.readableBytes)
                let at = filled
                frame.withUnsafeMutableBytes { dst in
                    buf.withUnsafeReadableBytes { src in
                        dst.baseAddress!.advanced(by: at).copyMemory(from: src.baseAddress!, byteCount: take)
                    }
                }
                buf.moveReaderIndex(forwardBy: take)
                filled += take
                if filled == length { deliver() }
            }
        } catch {
            failed = true
            errorCaught(context: context, error: error)
        }
    }

    private func deliver() {
        let f = frame
        frame = []
        expected = nil
        sink.didReceive(frame: f)
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
