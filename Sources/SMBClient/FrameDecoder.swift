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
/// response arrives in many reads). An encrypted frame's TRANSFORM_HEADER (MS-SMB2 2.2.41) is
/// kept apart from the rest; the message is decrypted as it arrives, from the socket's buffers
/// into its own array (GCM), or in place once it is all there (CCM, and small frames). A frame
/// over the limit is an error that closes the connection; it is never buffered.
final class FrameReceiver: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let sink: Connection
    let limit: FrameLimit
    /// The length prefix, while it arrives.
    private var prefix: [UInt8] = []
    /// The frame's first bytes (a TRANSFORM_HEADER's worth), while they arrive.
    private var head: [UInt8] = []
    /// The rest of the frame being filled (or the whole frame, when it is not encrypted), the
    /// frame's length, and how much of `frame` has arrived.
    private var frame: [UInt8] = []
    private var expected: Int?
    private var headDone = false
    private var encrypted = false
    private var filled = 0
    private var failed = false
    /// The frame's decryption as it arrives, when its cipher allows (GCM).
    private var opening: Opening?

    static let openingThreshold = 64 << 10

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
                    // A NetBIOS SESSION KEEP ALIVE (RFC 1002 4.3.7, no trailer) carries no message;
                    // servers send it on port 139, and some on 445 too.
                    if prefix == [NetBIOSSession.keepAlive, 0, 0, 0] {
                        prefix.removeAll(keepingCapacity: true)
                        continue
                    }
                    let n = try DirectTCP.frameLength(prefix[0], prefix[1], prefix[2], prefix[3])
                    prefix.removeAll(keepingCapacity: true)
                    let max = limit.current
                    guard n <= max else { throw SMBError.frameTooLarge(length: n, limit: max) }
                    expected = n
                    head.removeAll(keepingCapacity: true)
                    headDone = false
                    if n == 0 { startBody(length: 0) }
                    continue
                }
                if !headDone {
                    let want = min(TransformHeader.size, length)
                    let take = min(want - head.count, buf.readableBytes)
                    head.append(contentsOf: buf.readBytes(length: take) ?? [])
                    if head.count == want { startBody(length: length) }
                    continue
                }
                let take = min(frame.count - filled, buf.readableBytes)
                let at = filled
                frame.withUnsafeMutableBytes { dst in
                    buf.withUnsafeReadableBytes { src in
                        if let opening {
                            opening.take(UnsafeRawBufferPointer(rebasing: src[..<take]), into: dst.baseAddress!.advanced(by: at))
                        } else {
                            dst.baseAddress!.advanced(by: at).copyMemory(from: src.baseAddress!, byteCount: take)
                        }
                    }
                }
                buf.moveReaderIndex(forwardBy: take)
                filled += take
                if filled == frame.count { deliver() }
            }
        } catch {
            failed = true
            errorCaught(context: context, error: error)
        }
    }

    /// The frame's first bytes are in: the array the rest goes into (every byte of it is
    /// written before it is handed over).
    private func startBody(length: Int) {
        headDone = true
        encrypted = head.count == TransformHeader.size && head.starts(with: TransformHeader.protocolId)
        let n = encrypted ? length - head.count : length
        frame = [UInt8](unsafeUninitializedCapacity: n) { _, count in count = n }
        // Small frames (credits, CREATEs) gain nothing from it.
        opening = encrypted && n >= Self.openingThreshold ? sink.opening(transformHeader: head, following: n) : nil
        filled = 0
        if !encrypted && !head.isEmpty {
            frame.withUnsafeMutableBytes { dst in
                head.withUnsafeBytes { dst.baseAddress?.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            }
            filled = head.count
        }
        if filled == n { deliver() }
    }

    private func deliver() {
        let f = frame
        frame = []
        expected = nil
        if let o = opening {
            opening = nil
            sink.didReceive(opened: f, by: o)
        } else if encrypted {
            sink.didReceive(transformHeader: head, body: f)
        } else {
            sink.didReceive(frame: f)
        }
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
