import Locking
import SMBClient
import Synchronization

/// Read-ahead of file data for sequential readers (cp, cat, dd, sha256sum, tar c, rsync).
///
/// The kernel asks for a file in read_ahead_kb windows (1 MiB here) and keeps at most one
/// window ahead of the reader, so each READ's round trip, and on a sealed session the
/// server's encryption and this side's decryption, waits for the one before. Once a handle
/// has read `ReadStream.threshold` chunks in order, the next `rasize=` bytes are asked for in
/// MaxReadSize chunks with several READs in flight, and the kernel's requests are answered
/// from them. A handle read at random never reads ahead.
///
/// What is read ahead stays true to what this mount and others write:
/// - no read-ahead while this mount has the file open for writing (its writes behind would
///   race the READs), and every change through the mount (write, truncate, copy, fallocate,
///   setattr) drops what was read ahead of the inode;
/// - only under a read lease: a lease break, or a change seen at open, drops it (`invalidate`)
///   as it does the kernel's pages, and a read after the break arrived never uses it;
/// - a chunk is used within `maxAge` of being asked for, or asked for again;
/// - a chunk that came back short (the end of the file when it was read) answers nothing:
///   the request goes to the server as it is, so a file that grows is read as it is now.
struct ReadStream: Sendable {
    /// Chunks read in order before reading ahead starts (a file of two chunks or less is
    /// never read ahead).
    static let threshold: UInt64 = 2
    /// How old a chunk may be when it answers a read.
    static let maxAge: Duration = .seconds(1)

    struct Chunk: Sendable {
        var task: Task<ArraySlice<UInt8>, Error>
        var asked: ContinuousClock.Instant
    }

    let ino: UInt64
    /// Where the reader's next read is expected: the end of the furthest read so far.
    var next: UInt64 = 0
    /// Bytes read in order up to `next`.
    var inOrder: UInt64 = 0
    /// Chunks read or being read, by index (offset / chunk size).
    var chunks: [UInt64: Chunk] = [:]

    /// Notes a read of `size` bytes at `offset`. Reads within two chunks of `next` continue
    /// the stream: the kernel's read and its read-ahead window arrive concurrently and may
    /// be served out of order. Any other read starts a new stream (its chunks are returned,
    /// to be cancelled).
    mutating func note(offset: UInt64, size: Int, chunk: Int) -> [Chunk] {
        let slack = 2 * UInt64(chunk)
        let near = offset + slack >= next && offset <= next + slack
        var dropped: [Chunk] = []
        if near {
            inOrder += UInt64(size)
        } else {
            dropped = Array(chunks.values)
            chunks = [:]
            inOrder = UInt64(size)
        }
        next = near ? max(next, offset + UInt64(size)) : offset + UInt64(size)
        return dropped
    }

    /// Whether reads of this stream are answered from chunks.
    func streaming(chunk: Int) -> Bool { inOrder > Self.threshold * UInt64(chunk) }

    /// The chunk indices a read of `size` bytes at `offset` needs, and those to ask for ahead
    /// of it: up to `ahead` bytes past its end, none at or past `fileSize` when it is known.
    static func plan(offset: UInt64, size: Int, chunk: Int, ahead: Int, fileSize: UInt64?) -> (needed: ClosedRange<UInt64>, ahead: Range<UInt64>) {
        let c = UInt64(chunk)
        let end = offset + UInt64(max(size, 1))
        let needed = (offset / c)...((end - 1) / c)
        var aheadEnd = end + UInt64(ahead)
        if let fileSize { aheadEnd = min(aheadEnd, fileSize) }
        let lastAhead = aheadEnd > 0 ? (aheadEnd - 1) / c + 1 : 0
        let from = needed.upperBound + 1
        return (needed, from..<max(from, lastAhead))
    }

    /// The bytes of `offset..<offset+size` out of the chunks' data (indices `needed`, in
    /// order), as one piece per chunk, never copied: a read that straddles two chunks is
    /// answered with both pieces (one writev). Nil when a chunk came back short before the
    /// request's end.
    static func assemble(offset: UInt64, size: Int, chunk: Int, needed: ClosedRange<UInt64>,
                         data: [ArraySlice<UInt8>]) -> [ArraySlice<UInt8>]? {
        let c = UInt64(chunk)
        let end = offset + UInt64(size)
        var parts: [ArraySlice<UInt8>] = []
        for (k, i) in needed.enumerated() {
            let d = data[k]
            let base = i * c
            let from = max(offset, base) - base
            let to = min(end, base + c) - base
            guard to <= UInt64(d.count) else { return nil }
            let start = d.startIndex + Int(from)
            parts.append(d[start..<(d.startIndex + Int(to))])
        }
        return parts
    }
}

extension Filesystem {
    /// Bytes read ahead at once, over every handle of the mount.
    static let fileReadAheadLimit = 64 << 20

    /// read(2) of an open file: from the chunks read ahead while the handle reads in order,
    /// else one READ (or several for more than MaxReadSize). The bytes come in pieces, in
    /// order, as they lie in the responses.
    public func readPieces(handle: UInt64, offset: UInt64, size: Int) async throws -> [ArraySlice<UInt8>] {
        if let data = readFromOpening(handle: handle, offset: offset, size: size) {
            CacheCounters.bump(counters.readAheadHits)
            return [data]
        }
        if options.readAheadBytes > 0, size > 0, let data = try await readStreaming(handle: handle, offset: offset, size: size) {
            CacheCounters.bump(counters.readAheadHits)
            return data
        }
        CacheCounters.bump(counters.reads)
        let fid = try await settledFileId(handle, start: offset, end: offset + UInt64(size))
        return [try await share.readSlice(fid, offset: offset, length: size)]
    }

    /// As `readPieces`, in one array.
    public func read(handle: UInt64, offset: UInt64, size: Int) async throws -> ArraySlice<UInt8> {
        let pieces = try await readPieces(handle: handle, offset: offset, size: size)
        return pieces.count == 1 ? pieces[0] : Array(pieces.joined())[...]
    }

    /// The read answered from chunks, or nil when this read is not part of a stream (or the
    /// chunks cannot answer it): the caller then reads from the server.
    private func readStreaming(handle: UInt64, offset: UInt64, size: Int) async throws -> [ArraySlice<UInt8>]? {
        let f = try openFile(handle)
        let chunk = share.maxReadSize
        // Writes through this mount race READs read ahead: none while a writer is open here.
        // Nor without a read lease (as the kernel's cifs client caches reads only under one):
        // another client's write would not be heard of.
        if writableFileId(ino: f.ino, preferring: nil) != nil || !share.cachesReads(f.fileId) {
            dropReadAhead(handle: handle)
            return nil
        }
        // A read past the end known goes to the server as it is (a file that grows is read as
        // it is now).
        let fileSize = inodes.withLock { $0.attributes(of: f.ino) }?.size
        if let fileSize, offset + UInt64(size) > fileSize { return nil }
        let plan = ReadStream.plan(offset: offset, size: size, chunk: chunk, ahead: options.readAheadBytes, fileSize: fileSize)
        let now = ContinuousClock.now
        let share = self.share
        let fid = f.fileId
        let start: (UInt64) -> ReadStream.Chunk = { i in
            ReadStream.Chunk(task: Task(executorPreference: nil) {
                try await share.readSlice(fid, offset: i * UInt64(chunk), length: chunk)
            }, asked: now)
        }
        let (tasks, cancelled): ([Task<ArraySlice<UInt8>, Error>]?, [ReadStream.Chunk]) = readStreams.withLock { streams in
            var s = streams[handle] ?? ReadStream(ino: f.ino)
            var cancelled = s.note(offset: offset, size: size, chunk: chunk)
            guard s.streaming(chunk: chunk) else {
                streams[handle] = s
                return (nil, cancelled)
            }
            // Chunks wholly behind this read are done with; one is kept for a read that
            // arrives out of order.
            for (i, c) in s.chunks where i + 1 < plan.needed.lowerBound {
                cancelled.append(c)
                s.chunks[i] = nil
            }
            var tasks: [Task<ArraySlice<UInt8>, Error>] = []
            for i in plan.needed {
                if let c = s.chunks[i] {
                    if now - c.asked <= ReadStream.maxAge {
                        tasks.append(c.task)
                        continue
                    }
                    cancelled.append(c)
                } else {
                    // Counted, but never refused: the read needs it anyway.
                    readAheadBytes.add(chunk, ordering: .relaxed)
                }
                let c = start(i)
                s.chunks[i] = c
                tasks.append(c.task)
            }
            for i in plan.ahead where s.chunks[i] == nil {
                guard readAheadBytes.add(chunk, ordering: .relaxed).newValue <= Self.fileReadAheadLimit else {
                    readAheadBytes.subtract(chunk, ordering: .relaxed)
                    break
                }
                s.chunks[i] = start(i)
            }
            streams[handle] = s
            return (tasks, cancelled)
        }
        release(cancelled, chunk: chunk)
        guard let tasks else { return nil }
        var data: [ArraySlice<UInt8>] = []
        for t in tasks {
            guard let d = try? await t.value else {
                // The READ failed (a reconnect, a handle gone): asked again on its own below,
                // which says why if it fails again.
                dropReadAhead(handle: handle)
                return nil
            }
            data.append(d)
        }
        // A lease break that arrived while the chunks were read: they may be older than
        // another client's write.
        guard share.cachesReads(f.fileId), let out = ReadStream.assemble(offset: offset, size: size, chunk: chunk, needed: plan.needed, data: data) else {
            dropReadAhead(handle: handle)
            return nil
        }
        return out
    }

    private func release(_ chunks: [ReadStream.Chunk], chunk: Int) {
        guard !chunks.isEmpty else { return }
        for c in chunks { c.task.cancel() }
        readAheadBytes.subtract(chunks.count * chunk, ordering: .relaxed)
    }

    /// Forgets what was read ahead for one handle (closed, or its reads went wrong).
    func dropReadAhead(handle: UInt64) {
        dropOpeningRead(handle: handle)
        let dropped = readStreams.withLock { s -> [ReadStream.Chunk] in
            guard let r = s.removeValue(forKey: handle) else { return [] }
            return Array(r.chunks.values)
        }
        release(dropped, chunk: share.maxReadSize)
    }

    /// Forgets what was read ahead of `ino` by every handle: the file changed (through this
    /// mount, or a lease break or an open says so). Its readers start their streams again.
    func dropReadAhead(ino: UInt64) {
        dropOpeningReads(ino: ino)
        let dropped = readStreams.withLock { streams -> [ReadStream.Chunk] in
            var out: [ReadStream.Chunk] = []
            for (h, s) in streams where s.ino == ino {
                out += s.chunks.values
                streams[h] = nil
            }
            return out
        }
        release(dropped, chunk: share.maxReadSize)
    }
}
