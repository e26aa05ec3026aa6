import Locking
import Logging
import NIOCore
import NIOPosix
import SMBCrypto
import SMBProtocol
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A response as received: its decoded header and the whole message (header + body).
public struct Response: Sendable {
    public let header: Header
    public let message: [UInt8]
    /// The request as sent, when asked for (the preauth integrity hash needs it).
    let request: [UInt8]?
}

/// One TCP connection to a server (MS-SMB2 3.2.1.2 Connection): the command sequence window,
/// outstanding requests keyed by MessageId, and the signing state of the session bound to it.
/// All mutable state is in one lock (Locked); I/O goes through the NIO channel.
final class Connection: Sendable {
    struct Pending {
        let command: Command
        let continuation: CheckedContinuation<Response, Error>
        /// What the response must carry: a valid signature (MS-SMB2 3.2.5.1.3), or encryption
        /// under this session's key (3.2.5.1.1.1; a request sent encrypted is answered so).
        let protection: Protection
        let request: [UInt8]?
        var timeout: Scheduled<Void>?
        let sent: ContinuousClock.Instant
        /// An interim response came: the server works on it (MS-SMB2 3.2.5.1.5).
        var async = false
    }

    struct State {
        var channel: Channel?
        var window = CreditWindow()
        var pending: [UInt64: Pending] = [:]
        var creditWaiters: [(charge: Int, continuation: CheckedContinuation<UInt64, Error>)] = []
        var failure: SMBError?
        /// Connection.Dialect once negotiated.
        var dialect: Dialect?
        var largeMTU = false
        /// Session.SessionId and Session.SigningKey as a signer, once the session is set up.
        var sessionId: UInt64 = 0
        var signer: MessageSigner?
        var signingRequired = false
        /// The session's keys for encrypted messages, once the session is set up on a dialect and
        /// cipher that have them: responses may come encrypted from then on.
        var cipher: SessionCipher?
        /// Requests are sent encrypted (`seal`, or the session or share demands it).
        var encrypting = false
        /// Trees on a DFS share: their CREATEs carry SMB2_FLAGS_DFS_OPERATIONS (MS-SMB2 3.2.4.3).
        var dfsTrees: Set<UInt32> = []
    }

    /// What protects a response, or must.
    enum Protection: Sendable { case none, signed, encrypted }

    let label: String
    let logger: Logger
    /// The server's numeric address, once connected.
    let remoteIP = Locked<String?>(nil)
    /// The TCP port connected to (445, or 139 for the NetBIOS session service).
    let port: Int
    let frameLimit = FrameLimit(Connection.initialFrameLimit)
    let requestTimeout: TimeAmount
    private let state = Locked(State())

    /// How long a request the server answered STATUS_PENDING for may take in all.
    var asyncTimeout: TimeAmount { requestTimeout * 5 }

    /// Before NEGOTIATE has told us the server's sizes: enough for any NEGOTIATE or
    /// SESSION_SETUP response (security blobs are a few KiB).
    static let initialFrameLimit = 256 * 1024
    /// Headroom above the largest payload for headers and compound framing.
    static let frameHeadroom = 64 * 1024

    /// Over the NetBIOS session service (port 139): messages stay within its 17-bit length.
    let overNetBIOS: Bool

    init(label: String, port: Int = 445, logger: Logger, requestTimeout: TimeAmount, overNetBIOS: Bool = false) {
        self.label = label
        self.port = port
        self.overNetBIOS = overNetBIOS
        var l = logger
        l[metadataKey: "conn"] = "\(label)"
        self.logger = l
        self.requestTimeout = requestTimeout
    }

    /// Opens the TCP connection: Direct TCP (MS-SMB2 2.1), or with `netbios` the NetBIOS
    /// session service (RFC 1002 4.3, port 139), whose SESSION REQUEST is answered before
    /// this returns. A server that does not answer the call is `Unanswered`.
    static func open(host: String, port: Int, netbios: NetBIOSCall? = nil, addresses: [String]? = nil,
                     connectTimeout: TimeAmount, requestTimeout: TimeAmount, logger: Logger) async throws -> Connection {
        let conn = Connection(label: "\(host):\(port)", port: port, logger: logger, requestTimeout: requestTimeout,
                              overNetBIOS: netbios != nil)
        let limit = conn.frameLimit
        let loop = EventLoopExecutor.shared.loop
        let called = netbios.map { _ in loop.makePromise(of: NetBIOSSession.Response.self) }
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(connectTimeout)
            .resolver(addresses.map { HostTableResolver(addresses: $0, port: port, loop: loop) })
            // TCP_NODELAY is a TCP-level option (socketOption() would set SOL_SOCKET 1, SO_DEBUG,
            // which only CAP_NET_ADMIN may: every unprivileged mount failed with EACCES).
            .channelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(ChannelOptions.socketOption(.so_keepalive), value: 1)
            // READ responses are frames of up to a few MiB: reading up to 1 MiB per call keeps
            // them from being gathered 64 KiB at a time (fewer calls, fewer copies).
            .channelOption(ChannelOptions.recvAllocator,
                           value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 65536, maximum: 1 << 20))
            .channelInitializer { ch in
                ch.eventLoop.makeCompletedFuture {
                    if let called { try ch.pipeline.syncOperations.addHandler(SessionResponseReader(answer: called)) }
                    try ch.pipeline.syncOperations.addHandler(FrameReceiver(sink: conn, limit: limit))
                }
            }
        let channel: Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            called?.fail(error)
            throw Unanswered(message: "cannot connect to \(host) port \(port): \(Self.describe(error))",
                             refusedOrTimedOut: Self.refusedOrTimedOut(error))
        }
        conn.state.withLock { $0.channel = channel }
        conn.remoteIP.withLock { $0 = channel.remoteAddress?.ipAddress }
        if let netbios, let called {
            do {
                try await Self.call(netbios, on: channel, answer: called, host: host, port: port, within: connectTimeout)
            } catch {
                channel.close(promise: nil)
                throw error
            }
        }
        conn.logger.info("connected", metadata: ["address": "\(channel.remoteAddress?.ipAddress ?? "?")",
                                                 "port": "\(port)"])
        return conn
    }

    /// A connect that failed: why, and whether nothing answered there (refused, unreachable,
    /// timed out), where another port may.
    struct Unanswered: Error, CustomStringConvertible {
        let message: String
        let refusedOrTimedOut: Bool
        var description: String { message }
    }

    /// SESSION REQUEST and its answer (RFC 1002 4.3.2-4.3.5).
    private static func call(_ names: NetBIOSCall, on channel: Channel, answer: EventLoopPromise<NetBIOSSession.Response>,
                             host: String, port: Int, within limit: TimeAmount) async throws {
        let timer = channel.eventLoop.scheduleTask(in: limit) {
            answer.fail(SMBError.connectFailed("\(host) port \(port) did not answer the NetBIOS session request"))
        }
        defer { timer.cancel() }
        var out = channel.allocator.buffer(capacity: 80)
        out.writeBytes(NetBIOSSession.request(called: names.called, calling: names.calling))
        channel.writeAndFlush(out, promise: nil)
        let r: NetBIOSSession.Response
        do { r = try await answer.futureResult.get() } catch let e as SMBError { throw e } catch {
            throw SMBError.connectFailed("NetBIOS session with \(host) port \(port) failed: \(describe(error))")
        }
        switch r {
        case .positive: return
        case .negative(let code):
            throw NegativeSessionResponse(code: code, message: "\(host) port \(port) refused the NetBIOS session for called name "
                                          + "\"\(names.called)\": \(NetBIOSSession.describe(negative: code))")
        case .retarget(let address, let p):
            throw Retarget(address: address, port: p)
        }
    }

    /// NEGATIVE SESSION RESPONSE (RFC 1002 4.3.4).
    struct NegativeSessionResponse: Error, CustomStringConvertible {
        let code: UInt8
        let message: String
        var description: String { message }
    }

    /// RETARGET SESSION RESPONSE (RFC 1002 4.3.5): call again there.
    struct Retarget: Error {
        let address: String
        let port: Int
    }

    /// Whether a connect failed because nothing answered at that address and port.
    static func refusedOrTimedOut(_ error: Error) -> Bool {
        if let e = error as? NIOConnectionError {
            return !e.connectionErrors.isEmpty && e.connectionErrors.allSatisfy { refusedOrTimedOut($0.error) }
        }
        if let e = error as? IOError {
            return [ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH].contains(e.errnoCode)
        }
        if case ChannelError.connectTimeout = error { return true }
        return false
    }

    /// A one-line reason for a failed connect: "connection refused", "timed out", ...
    static func describe(_ error: Error) -> String {
        if let e = error as? NIOConnectionError {
            if let first = e.connectionErrors.first { return describe(first.error) }
            if e.dnsAError != nil || e.dnsAAAAError != nil { return "host name not found" }
            return "no address to connect to"
        }
        if let e = error as? IOError { return String(cString: strerror(e.errnoCode)).lowercased() }
        if case ChannelError.connectTimeout = error { return "timed out" }
        return "\(error)"
    }

    // MARK: - session state

    func setNegotiated(dialect: Dialect, largeMTU: Bool, maxPayload: Int) {
        state.withLock { $0.dialect = dialect; $0.largeMTU = largeMTU }
        frameLimit.set(min(DirectTCP.maxFrameLength, maxPayload + Self.frameHeadroom))
    }

    func setSession(id: UInt64, signer: MessageSigner?, signingRequired: Bool,
                    cipher: SessionCipher? = nil, encrypt: Bool = false) {
        state.withLock {
            $0.sessionId = id
            $0.signer = signer
            $0.signingRequired = signingRequired
            $0.cipher = cipher
            $0.encrypting = encrypt && cipher != nil
        }
    }

    /// Every request from now on is encrypted (a share flagged SHARE_FLAG_ENCRYPT_DATA,
    /// MS-SMB2 3.2.5.5). False when the session has no cipher.
    func encryptFromNowOn() -> Bool {
        state.withLock { s in
            guard s.cipher != nil else { return false }
            s.encrypting = true
            return true
        }
    }

    /// TREE_CONNECT answered SMB2_SHARE_CAP_DFS for this tree (MS-SMB2 3.2.5.5 IsDfsShare).
    func markDFSTree(_ treeId: UInt32) { state.withLock { _ = $0.dfsTrees.insert(treeId) } }

    /// Whether `treeId` is on a DFS share: its CREATEs are DFS operations (MS-SMB2 3.2.4.3).
    func isDFSTree(_ treeId: UInt32) -> Bool { state.withLock { $0.dfsTrees.contains(treeId) } }

    var sessionSigner: MessageSigner? { state.withLock { $0.signer } }
    var currentChannel: Channel? { state.withLock { $0.channel } }
    var sessionCipher: SessionCipher? { state.withLock { $0.cipher } }
    /// Requests on this connection are encrypted.
    var isEncrypting: Bool { state.withLock { $0.encrypting } }

    /// The connection has failed (socket error, malformed traffic, closed): requests on it fail.
    var isFailed: Bool { state.withLock { $0.failure != nil } }

    /// Requests sent and not answered yet, and credits granted and not yet used.
    var load: (inFlight: Int, credits: Int) { state.withLock { ($0.pending.count, $0.window.available) } }

    /// When a frame last arrived, for the keepalive (ContinuousClock nanoseconds since `born`).
    private let lastReceive = Atomic<Int64>(0)
    private let born = ContinuousClock.now

    /// How long nothing has arrived.
    var idle: Duration {
        let since = born.duration(to: ContinuousClock.now)
        return since - .nanoseconds(lastReceive.load(ordering: .relaxed))
    }

    /// How long the server has been silent while owing an answer: since the oldest request
    /// still waiting for its response (not counting async ones) or the last frame received,
    /// whichever is later; zero when nothing is owed.
    var silence: Duration {
        let oldest = state.withLock { s in s.pending.values.lazy.filter { !$0.async }.map(\.sent).min() }
        guard let oldest else { return .zero }
        return min(idle, ContinuousClock.now - oldest)
    }

    // MARK: - sending

    /// Sends one request and waits for its final response, whatever its status.
    /// `charge` is the number of 64 KiB units of payload (MS-SMB2 3.2.4.1.5). `sent` runs once
    /// the request is on its way, before any later request of this connection.
    /// `payload`: bytes that end the body (a WRITE's data), copied once, straight into the frame.
    func send(_ command: Command, body: [UInt8], payload: ArraySlice<UInt8> = [], treeId: UInt32 = 0, sessionId: UInt64? = nil,
              charge requestedCharge: Int = 1, sign: Bool = true, keepRequest: Bool = false,
              timeout: TimeAmount? = nil, signWith: MessageSigner? = nil,
              sent: (@Sendable () -> Void)? = nil) async throws -> Response {
        let (dialect, largeMTU) = state.withLock { ($0.dialect, $0.largeMTU) }
        // Without LARGE_MTU (and always in 2.0.2) every request costs one credit and CreditCharge is 0.
        let multiCredit = largeMTU && (dialect ?? .smb202) >= .smb210
        let charge = multiCredit ? max(1, requestedCharge) : 1
        let messageId = try await acquireMessageId(charge: charge)

        var header = Header(command: command)
        // `signWith`: a request signed with another key than this connection's (a session binding
        // is signed with the session's key, MS-SMB2 3.2.4.1.1); its response is checked by the caller.
        let (sid, signer, creditRequest, channel, sessionCipher, dfs) = state.withLock { s in
            (sessionId ?? s.sessionId, signWith ?? s.signer, s.window.creditRequest(charge: charge), s.channel,
             s.encrypting ? s.cipher : nil, command == .create && s.dfsTrees.contains(treeId))
        }
        header.creditCharge = multiCredit ? UInt16(charge) : 0
        header.credits = creditRequest
        header.messageId = messageId
        header.treeId = treeId
        header.sessionId = sid
        // An encrypted message is not signed (MS-SMB2 3.2.4.1.1): the cipher's tag covers it.
        let sealer = sid != 0 && signWith == nil ? sessionCipher : nil
        let signing = sealer == nil && sign && signer != nil && sid != 0
        if signing { header.flags.insert(.signed) }
        if dfs { header.flags.insert(.dfsOperations) }

        let length = Header.size + body.count + payload.count
        let room = sealer == nil ? 0 : TransformHeader.size
        guard room + length <= DirectTCP.maxFrameLength else {
            completeWithoutResponse()
            throw SMBError.unsupported("\(command) request of \(length) bytes is too large")
        }
        var w = WireWriter(capacity: Header.size)
        header.encode(into: &w)
        let frame: ByteBuffer
        var requestCopy: [UInt8]?
        do {
            (frame, requestCopy) = try Self.frame([w.bytes, body], payload: payload, signedBy: signing ? signer : nil, sealedBy: sealer,
                                                  keepingRequest: keepRequest,
                                                  allocator: channel?.allocator ?? ByteBufferAllocator())
        } catch {
            completeWithoutResponse()
            throw SMBError.securityPolicy("cannot \(sealer == nil ? "sign" : "encrypt") \(command): \(error)")
        }
        let protection: Protection = sealer != nil ? .encrypted
            : signer != nil && sid != 0 && sign && signWith == nil ? .signed : .none

        logger.debug("send", metadata: ["cmd": "\(command)", "mid": "\(messageId)", "len": "\(length)"])
        let limit = timeout ?? requestTimeout
        return try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Response, Error>) in
            if let failure = register(messageId: messageId, command: command, continuation: cont,
                                      protection: protection, request: requestCopy, limit: limit) {
                completeWithoutResponse()
                cont.resume(throwing: failure)
                return
            }
            guard let channel else { return }
            write(frame, on: channel)
            sent?()
        }
    }

    /// Registers the wait for one response, with its timeout; nil, or why it cannot be sent.
    func register(messageId: UInt64, command: Command, continuation: CheckedContinuation<Response, Error>,
                  protection: Protection, request: [UInt8]?, limit: TimeAmount) -> SMBError? {
        state.withLock { s in
            if let f = s.failure { return f }
            guard let ch = s.channel else { return .connectionClosed("not connected") }
            let timer = ch.eventLoop.scheduleTask(in: limit) { [weak self] () -> Void in
                self?.timedOut(messageId: messageId)
            }
            s.pending[messageId] = Pending(command: command, continuation: continuation, protection: protection,
                                           request: request, timeout: timer, sent: .now)
            return nil
        }
    }

    /// One Direct TCP frame (MS-SMB2 2.1) holding the message made of `pieces` (one request, or
    /// a compound chain already signed part by part), put together once in the buffer the socket
    /// is written from and signed or encrypted there, so a WRITE's payload is copied once on its
    /// way out. `sealer` encrypts the whole message in one TRANSFORM_HEADER (3.2.4.1.4: a compound
    /// is one transform). With `keepingRequest`, also the message as the server sees it (signed,
    /// before encryption), which the preauth integrity hash takes (3.2.5.3.1).
    static func frame(_ pieces: [[UInt8]], payload: ArraySlice<UInt8> = [], signedBy signer: MessageSigner? = nil, sealedBy sealer: SessionCipher?,
                      keepingRequest: Bool = false, allocator: ByteBufferAllocator) throws -> (ByteBuffer, [UInt8]?) {
        let room = sealer == nil ? 0 : TransformHeader.size
        let length = pieces.reduce(payload.count) { $0 + $1.count }
        var buffer = allocator.buffer(capacity: DirectTCP.headerSize + room + length)
        buffer.writeBytes(DirectTCP.frameHeader(length: room + length))
        buffer.writeRepeatingByte(0, count: room)
        for p in pieces { buffer.writeBytes(p) }
        buffer.writeBytes(payload)
        var request: [UInt8]?
        try buffer.withUnsafeMutableReadableBytes { b in
            let message = UnsafeMutableRawBufferPointer(rebasing: b[DirectTCP.headerSize...])
            if let signer { try signer.sign(bytes: UnsafeMutableRawBufferPointer(rebasing: message[room...])) }
            if keepingRequest { request = Array(message[room...]) }
            if let sealer { try sealer.seal(message) }
        }
        return (buffer, request)
    }

    /// A whole Direct TCP frame, its 4-byte header included.
    func write(_ frame: ByteBuffer, on channel: Channel) {
        channel.writeAndFlush(frame).whenFailure { [weak self] error in
            self?.fail(.connectionClosed("write failed: \(error)"))
        }
    }

    /// What a request header needs from the connection: CreditCharge in use, SessionId and the
    /// signer, the channel, and the CreditRequest for `charge` more.
    func headerContext(charge: Int) -> (multiCredit: Bool, sessionId: UInt64, signer: MessageSigner?, channel: Channel?,
                                        credits: UInt16, sealer: SessionCipher?) {
        state.withLock { s in
            let multi = s.largeMTU && (s.dialect ?? .smb202) >= .smb210
            return (multi, s.sessionId, s.signer, s.channel, s.window.creditRequest(charge: charge),
                    s.encrypting ? s.cipher : nil)
        }
    }

    func completeWithoutResponse() {
        let waiters = state.withLock { s in
            s.window.completed()
            return releaseWaiters(&s)
        }
        for (c, id) in waiters { c.resume(returning: id) }
    }

    func acquireMessageId(charge: Int) async throws -> UInt64 {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<UInt64, Error>) in
            let immediate: Result<UInt64, SMBError>? = state.withLock { s in
                if let f = s.failure { return .failure(f) }
                if s.creditWaiters.isEmpty, let id = s.window.take(charge: charge) { return .success(id) }
                if s.creditWaiters.isEmpty && s.window.wouldStall(charge: charge) {
                    return .failure(.malformed("the server granted no credits"))
                }
                s.creditWaiters.append((charge, cont))
                return nil
            }
            if let immediate { cont.resume(with: immediate) }
        }
    }

    /// Takes credits for waiting requests, in order, while they fit.
    private func releaseWaiters(_ s: inout State) -> [(CheckedContinuation<UInt64, Error>, UInt64)] {
        var ready: [(CheckedContinuation<UInt64, Error>, UInt64)] = []
        while let first = s.creditWaiters.first, let id = s.window.take(charge: first.charge) {
            s.creditWaiters.removeFirst()
            ready.append((first.continuation, id))
        }
        return ready
    }

    private func timedOut(messageId: UInt64) {
        let (p, waiters) = state.withLock { s in
            let p = s.pending.removeValue(forKey: messageId)
            if p != nil { s.window.completed() }
            return (p, releaseWaiters(&s))
        }
        for (c, id) in waiters { c.resume(returning: id) }
        guard let p else { return }
        logger.warning("request timed out", metadata: ["cmd": "\(p.command)", "mid": "\(messageId)"])
        p.continuation.resume(throwing: SMBError.timeout(p.command))
    }

    // MARK: - receiving

    /// Called by the channel for every Direct TCP frame; a frame may hold a chain of
    /// compounded responses linked by NextCommand (MS-SMB2 3.2.5.1.9).
    func didReceive(frame received: [UInt8]) {
        if TransformHeader.isTransform(received) {
            guard received.count >= TransformHeader.size else {
                fail(.malformed("a TRANSFORM_HEADER frame of \(received.count) bytes"))
                return
            }
            didReceive(transformHeader: Array(received[..<TransformHeader.size]),
                       body: Array(received[TransformHeader.size...]))
            return
        }
        noteReceive()
        if received.starts(with: TransformHeader.compressedProtocolId) {
            fail(.malformed("a compressed message arrived; compression was not negotiated"))
            return
        }
        dispatch(frame: received, encrypted: false)
    }

    /// An encrypted frame, received as its TRANSFORM_HEADER and the rest, which is decrypted
    /// in place (MS-SMB2 3.2.5.1.1.1). Which request a message that does not decrypt answers
    /// is unknown (its header is inside), so every request waiting here fails with it.
    func didReceive(transformHeader: [UInt8], body: consuming [UInt8]) {
        noteReceive()
        guard let cipher = state.withLock({ $0.cipher }) else {
            fail(.malformed("an encrypted message arrived on a connection without encryption keys"))
            return
        }
        var message = consume body
        do {
            try cipher.open(header: transformHeader, body: &message)
        } catch {
            logger.error("encrypted message rejected", metadata: ["reason": "\(error)"])
            fail(.decryptionFailed("\(error)"))
            return
        }
        dispatch(frame: message, encrypted: true)
    }

    /// An Opening for an encrypted frame whose ciphertext is still to arrive, when this
    /// connection's cipher can decrypt it as it comes (GCM); nil sends it the whole-frame way.
    func opening(transformHeader: [UInt8], following: Int) -> Opening? {
        state.withLock { $0.cipher }?.opening(header: transformHeader, following: following)
    }

    /// An encrypted frame decrypted as it arrived: its tag decides whether it is used.
    func didReceive(opened body: consuming [UInt8], by opening: Opening) {
        noteReceive()
        var message = consume body
        do {
            try opening.finish(body: &message)
        } catch {
            logger.error("encrypted message rejected", metadata: ["reason": "\(error)"])
            fail(.decryptionFailed("\(error)"))
            return
        }
        dispatch(frame: message, encrypted: true)
    }

    private func noteReceive() {
        let c = born.duration(to: ContinuousClock.now).components
        lastReceive.store(c.seconds * 1_000_000_000 + c.attoseconds / 1_000_000_000, ordering: .relaxed)
    }

    /// A frame in clear (or decrypted): its messages, each to the request it answers.
    private func dispatch(frame: [UInt8], encrypted: Bool) {
        if MultiProtocolNegotiate.isSMB1(frame) {
            fail(.smb1Response)
            return
        }
        let messages: [(header: Header, range: Range<Int>)]
        do {
            messages = try CompoundResponse.split(frame)
        } catch {
            fail(.malformed("\(error)"))
            return
        }
        for (header, range) in messages {
            handle(header: header, message: range == frame.indices ? frame : Array(frame[range]), encrypted: encrypted)
        }
    }

    private func handle(header: Header, message: [UInt8], encrypted: Bool) {
        guard header.flags.contains(.serverToRedir) else {
            fail(.malformed("a request arrived from the server"))
            return
        }
        // Oplock and lease break notifications use MessageId 0xFFFFFFFFFFFFFFFF (MS-SMB2 3.2.5.19).
        // They are not signed (no session is named, 3.3.4.6/3.3.4.7): acting on one can only give
        // up caching this client does not rely on.
        if header.messageId == UInt64.max {
            if header.command == .oplockBreak, let h = unsolicitedHandler.current {
                h(header, message)
            } else {
                logger.debug("unsolicited message ignored", metadata: ["cmd": "\(header.command)"])
            }
            return
        }
        // An interim response (MS-SMB2 3.2.5.1.5) grants credits and carries the AsyncId; it is not
        // signed (3.2.5.1.3), so it is never verified, and it completes nothing.
        let interim = header.status == .pending && header.flags.contains(.asyncCommand)
        let (pending, waiters, signer) = state.withLock { s -> (Pending?, [(CheckedContinuation<UInt64, Error>, UInt64)], MessageSigner?) in
            // An encrypted request's interim response comes encrypted too (MS-SMB2 3.3.4.1.4);
            // a clear one is nobody's word that the server works on it.
            if interim && !encrypted && s.pending[header.messageId]?.protection == .encrypted {
                return (nil, [], nil)
            }
            s.window.grant(header.credits)
            var p: Pending?
            if interim, var p = s.pending[header.messageId], !p.async {
                // The wait becomes that of an async request (MS-SMB2 3.2.6.1): without end for
                // the commands that wait by design (a change to watch, a lock to be free),
                // otherwise `asyncTimeout`, so a server that answers STATUS_PENDING and never
                // more cannot hold a request for ever. Later interims extend nothing.
                p.async = true
                p.timeout?.cancel()
                p.timeout = nil
                if p.command != .changeNotify && p.command != .lock, let ch = s.channel {
                    let id = header.messageId
                    p.timeout = ch.eventLoop.scheduleTask(in: asyncTimeout) { [weak self] () -> Void in
                        self?.timedOut(messageId: id)
                    }
                }
                s.pending[header.messageId] = p
            } else if !interim {
                p = s.pending.removeValue(forKey: header.messageId)
                if p != nil { s.window.completed() }
            }
            return (p, releaseWaiters(&s), s.signer)
        }
        for (c, id) in waiters { c.resume(returning: id) }
        if interim { return }
        guard let pending else {
            logger.debug("response to no outstanding request", metadata: ["mid": "\(header.messageId)"])
            return
        }
        pending.timeout?.cancel()
        if pending.protection == .encrypted && !encrypted {
            logger.error("unencrypted response on an encrypted session; response rejected",
                         metadata: ["cmd": "\(header.command)", "mid": "\(header.messageId)"])
            pending.continuation.resume(throwing: SMBError.notEncrypted(header.command, header.messageId))
            return
        }
        // A message that decrypted under the session's key needs no signature (3.2.5.1.3).
        if pending.protection == .signed && !encrypted {
            guard header.flags.contains(.signed), let signer, signer.verify(message) else {
                logger.error("response signature missing or invalid; response rejected",
                             metadata: ["cmd": "\(header.command)", "mid": "\(header.messageId)",
                                        "signed": "\(header.flags.contains(.signed))"])
                pending.continuation.resume(throwing: SMBError.signatureInvalid(header.command, header.messageId))
                return
            }
        }
        logger.debug("recv", metadata: ["cmd": "\(header.command)", "mid": "\(header.messageId)",
                                        "status": "\(header.status)"])
        pending.continuation.resume(returning: Response(header: header, message: message, request: pending.request))
    }

    /// Called for each oplock or lease break notification.
    private let unsolicitedHandler = LockedFunction<@Sendable (Header, [UInt8]) -> Void>()

    func onBreak(_ handler: @escaping @Sendable (Header, [UInt8]) -> Void) {
        unsolicitedHandler.set(handler)
    }

    /// Called once when the connection fails (the share starts its reconnect from here).
    private let failureHandler = LockedFunction<@Sendable (SMBError) -> Void>()

    func onFailure(_ handler: @escaping @Sendable (SMBError) -> Void) {
        failureHandler.set(handler)
        if let f = state.withLock({ $0.failure }) { handler(f) }
    }

    /// Ends the connection: every waiting request fails with `error`.
    func fail(_ error: SMBError) {
        let (pending, waiters, channel, first) = state.withLock { s -> ([Pending], [CheckedContinuation<UInt64, Error>], Channel?, Bool) in
            let first = s.failure == nil
            if first { s.failure = error }
            let p = Array(s.pending.values)
            s.pending.removeAll()
            let w = s.creditWaiters.map(\.continuation)
            s.creditWaiters.removeAll()
            let ch = s.channel
            return (p, w, ch, first)
        }
        if !pending.isEmpty || !waiters.isEmpty {
            logger.info("connection failed", metadata: ["error": "\(error)"])
        }
        for p in pending { p.timeout?.cancel(); p.continuation.resume(throwing: error) }
        for w in waiters { w.resume(throwing: error) }
        channel?.close(promise: nil)
        if first, let handler = failureHandler.current { handler(error) }
    }

    func close() {
        fail(.connectionClosed("closed by the client"))
    }
}
