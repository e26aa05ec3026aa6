import NIOCore
import SMBProtocol

/// The names of a NetBIOS session (RFC 1002 4.3.2): whom the SESSION REQUEST calls, and who calls.
struct NetBIOSCall: Sendable, Equatable {
    var called: String
    var calling: String
}

/// Reads the answer to the SESSION REQUEST, the first bytes a port-139 server sends, then
/// leaves the pipeline to the frame receiver behind it (handing on anything that came after).
final class SessionResponseReader: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let answer: EventLoopPromise<NetBIOSSession.Response>
    private var got: [UInt8] = []
    private var done = false
    /// No response packet is longer than a RETARGET's 6-byte trailer.
    static let longest = 4 + 6

    init(answer: EventLoopPromise<NetBIOSSession.Response>) { self.answer = answer }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return context.fireChannelRead(data) }
        var buf = unwrapInboundIn(data)
        do {
            // Up to the packet's end and no further: what follows belongs to the next handler.
            while !done {
                if got.count < 4 {
                    guard buf.readableBytes > 0 else { break }
                    got += buf.readBytes(length: min(4 - got.count, buf.readableBytes)) ?? []
                    continue
                }
                let n = try NetBIOSSession.trailerLength(Array(got[0..<4]))
                if got[0] == NetBIOSSession.keepAlive && n == 0 { got.removeAll(); continue }
                guard 4 + n <= Self.longest else { throw SMBError.malformed("NetBIOS session response of \(4 + n) bytes") }
                if got.count < 4 + n {
                    guard buf.readableBytes > 0 else { break }
                    got += buf.readBytes(length: min(4 + n - got.count, buf.readableBytes)) ?? []
                    continue
                }
                let r = try NetBIOSSession.decodeResponse(type: got[0], trailer: Array(got[4...]))
                done = true
                answer.succeed(r)
            }
        } catch { return fail(context, error) }
        if done {
            if buf.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(buf)) }
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done { done = true; answer.fail(SMBError.connectionClosed("closed before answering the NetBIOS session request")) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(context, error)
    }

    private func fail(_ context: ChannelHandlerContext, _ error: Error) {
        guard !done else { return }
        done = true
        answer.fail(error is ProtocolError ? SMBError.malformed("\(error)") : error)
        context.close(promise: nil)
    }
}
