import Locking
import NIOCore
import SMBCrypto
import SMBProtocol

extension Connection {
    /// Sends related requests as one compound (MS-SMB2 3.2.4.1.4): one frame, each message
    /// 8-byte aligned with NextCommand pointing at the next, every one after the first marked
    /// SMB2_FLAGS_RELATED_OPERATIONS (so a FileId of all ones means "the file the CREATE before
    /// opened"), each signed on its own, padding included. Returns the responses in order; the
    /// server may answer them in one frame or several.
    /// `charges`: CreditCharge of each part (default 1), for outputs above 64 KiB (3.2.4.1.5).
    /// `related`: each part after the first works on the open the one before it made or used
    /// (SMB2_FLAGS_RELATED_OPERATIONS); unrelated parts name their FileId themselves.
    func sendCompound(_ parts: [(command: Command, body: [UInt8])], charges: [Int]? = nil,
                      related: Bool = true, treeId: UInt32) async throws -> [Response] {
        guard !parts.isEmpty else { return [] }
        let multi = headerContext(charge: 1).multiCredit
        let charge = parts.indices.map { multi ? max(1, charges?[$0] ?? 1) : 1 }
        var ids: [UInt64] = []
        do {
            for c in charge { ids.append(try await acquireMessageId(charge: c)) }
        } catch {
            for _ in ids { completeWithoutResponse() }
            throw error
        }
        let context = headerContext(charge: 1)
        let (sid, sealer) = (context.sessionId, context.sessionId != 0 ? context.sealer : nil)
        // Encrypted: the chain goes in one transform, its parts unsigned (MS-SMB2 3.2.4.1.4).
        let signer = sealer == nil ? context.signer : nil
        let dfsTree = parts.contains { $0.command == .create } && isDFSTree(treeId)
        var frame: [UInt8] = []
        for (i, part) in parts.enumerated() {
            var header = Header(command: part.command)
            header.creditCharge = context.multiCredit ? UInt16(charge[i]) : 0
            header.credits = headerContext(charge: charge[i]).credits
            header.messageId = ids[i]
            header.treeId = treeId
            header.sessionId = sid
            if i > 0 && related { header.flags.insert(.relatedOperations) }
            if dfsTree && part.command == .create { header.flags.insert(.dfsOperations) }
            if signer != nil && sid != 0 { header.flags.insert(.signed) }
            var w = WireWriter(capacity: Header.size + part.body.count + 8)
            header.encode(into: &w)
            w.bytes(part.body)
            if i < parts.count - 1 {
                w.align(8)
                w.patchU32(at: 20, UInt32(w.count))           // NextCommand
            }
            var message = w.bytes
            if let signer, sid != 0 {
                do { try signer.sign(&message) } catch {
                    for _ in ids { completeWithoutResponse() }
                    throw SMBError.securityPolicy("cannot sign \(part.command): \(error)")
                }
            }
            frame += message
        }
        guard frame.count + TransformHeader.size <= DirectTCP.maxFrameLength else {
            for _ in ids { completeWithoutResponse() }
            throw SMBError.unsupported("compound of \(frame.count) bytes is too large")
        }
        logger.debug("send compound", metadata: ["cmds": "\(parts.map(\.command))", "mid": "\(ids[0])"])

        // Every response slot is registered before the frame leaves.
        let registered = Registration(count: parts.count)
        let protection: Connection.Protection = sealer != nil ? .encrypted : signer != nil && sid != 0 ? .signed : .none
        let buffer: ByteBuffer
        do {
            buffer = try Connection.frame([frame], sealedBy: sealer, allocator: context.channel?.allocator ?? ByteBufferAllocator()).0
        } catch {
            for _ in ids { completeWithoutResponse() }
            throw SMBError.securityPolicy("cannot encrypt a compound: \(error)")
        }
        let messageIds = ids
        let results = await withTaskGroup(of: (Int, Result<Response, Error>).self) { group in
            for (i, part) in parts.enumerated() {
                let command = part.command
                group.addTask {
                    let r: Result<Response, Error>
                    do { r = .success(try await withCheckedThrowingContinuation { (c: CheckedContinuation<Response, Error>) in
                        if let failure = self.register(messageId: messageIds[i], command: command, continuation: c,
                                                       protection: protection, request: nil, limit: self.requestTimeout) {
                            self.completeWithoutResponse()
                            c.resume(throwing: failure)
                        }
                        registered.arrive()
                    }) } catch { r = .failure(error) }
                    return (i, r)
                }
            }
            await registered.wait()
            if let channel = context.channel {
                write(buffer, on: channel)
            } else {
                fail(.connectionClosed("not connected"))
            }
            var out = [Result<Response, Error>?](repeating: nil, count: parts.count)
            for await (i, r) in group { out[i] = r }
            return out.map { $0! }
        }
        // A verified answer that the session expired speaks for the whole compound (the server
        // may sign the rest of the chain with a key it no longer holds valid): the caller
        // authenticates again and sends it all again, using none of it (MS-SMB2 3.2.5.1.6).
        for case .success(let r) in results where r.header.status == .networkSessionExpired {
            throw SMBError.status(.networkSessionExpired, r.header.command)
        }
        return try results.map { try $0.get() }
    }
}

/// Counts registrations; `wait` returns once all have arrived.
final class Registration: Sendable {
    private struct State { var left: Int; var waiter: CheckedContinuation<Void, Never>? }
    private let state: Locked<State>
    init(count: Int) { state = Locked(State(left: count, waiter: nil)) }

    func arrive() {
        let w = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.left -= 1
            guard s.left == 0 else { return nil }
            defer { s.waiter = nil }
            return s.waiter
        }
        w?.resume()
    }

    func wait() async {
        await withCheckedContinuation { c in
            let done = state.withLock { s -> Bool in
                if s.left <= 0 { return true }
                s.waiter = c
                return false
            }
            if done { c.resume() }
        }
    }
}
