import SMBClient

/// The first bytes of a file, read in the same compound as the CREATE that opened it for
/// reading (MS-SMB2 3.2.4.1.4): `cat`, `grep`, a compiler reading a header, git reading a
/// blob: the open and the first read cost one round trip, not two.
///
/// They answer the handle's reads under the rules read-ahead keeps (FileReadAhead.swift):
/// only under a read lease, with no writer of the inode open on this mount, within
/// `ReadStream.maxAge` of the open, and never after a change through the mount or a lease
/// break (`dropReadAhead`). A READ that came back short was the whole file, so a read past
/// its end is answered with the end of file; the lease says no other client wrote since.
struct OpeningRead: Sendable {
    let ino: UInt64
    let data: ArraySlice<UInt8>
    /// The READ asked for more than it got: `data` is the whole file as it was at the open.
    let whole: Bool
    let asked: ContinuousClock.Instant

    /// The bytes of `offset..<offset+size`, or nil when they must come from the server.
    func answer(offset: UInt64, size: Int, at now: ContinuousClock.Instant) -> ArraySlice<UInt8>? {
        guard now - asked <= ReadStream.maxAge, offset <= UInt64(data.count), size >= 0 else { return nil }
        let end = offset + UInt64(size)
        guard end <= UInt64(data.count) || whole else { return nil }
        let from = data.startIndex + Int(offset)
        return data[from..<(data.startIndex + Int(min(end, UInt64(data.count))))]
    }
}

extension Filesystem {
    /// Bytes read with the CREATE of a file opened for reading.
    static let openingReadLength = 1 << 20

    /// How much to read with this open, 0 for none: a read-only open of a file that is not
    /// known to be empty, with no writer open on this mount (its bytes would not be used),
    /// whose pages the kernel is not known to hold (they would answer its reads), within the
    /// mount's read-ahead budget. `rasize=0` reads nothing ahead, this
    /// included.
    func openingReadLength(ino: UInt64, flags: OpenFlags) -> Int {
        guard options.readAheadBytes > 0, !flags.write, !flags.truncate,
              writableFileId(ino: ino, preferring: nil) == nil else { return 0 }
        let (known, pages) = inodes.withLock { ($0.attributes(of: ino), $0.mayHoldPages(ino)) }
        if let known, known.kind != .file || known.size == 0 { return 0 }
        if pages && !options.directIO { return 0 }
        let length = min(Self.openingReadLength, share.maxReadSize)
        guard readAheadBytes.add(length, ordering: .relaxed).newValue <= Self.fileReadAheadLimit else {
            readAheadBytes.subtract(length, ordering: .relaxed)
            return 0
        }
        return length
    }

    /// Keeps what the open read for the handle's reads; `asked` bytes were counted against the
    /// read-ahead budget.
    func keepOpeningRead(handle: UInt64, ino: UInt64, data: ArraySlice<UInt8>?, asked: Int, at time: ContinuousClock.Instant) {
        guard let data, asked > 0 else {
            readAheadBytes.subtract(asked, ordering: .relaxed)
            return
        }
        let kept = OpeningRead(ino: ino, data: data, whole: data.count < asked, asked: time)
        let old = openingReads.withLock { $0.updateValue(kept, forKey: handle) }
        readAheadBytes.subtract(asked - data.count + (old?.data.count ?? 0), ordering: .relaxed)
    }

    /// The read answered from what the open read, or nil.
    func readFromOpening(handle: UInt64, offset: UInt64, size: Int) -> ArraySlice<UInt8>? {
        guard let o = openingReads.withLock({ $0[handle] }) else { return nil }
        guard let f = try? openFile(handle), writableFileId(ino: f.ino, preferring: nil) == nil,
              share.cachesReads(f.fileId), let data = o.answer(offset: offset, size: size, at: .now) else {
            dropOpeningRead(handle: handle)
            return nil
        }
        return data
    }

    func dropOpeningRead(handle: UInt64) {
        if let o = openingReads.withLock({ $0.removeValue(forKey: handle) }) {
            readAheadBytes.subtract(o.data.count, ordering: .relaxed)
        }
    }

    func dropOpeningReads(ino: UInt64) {
        let dropped = openingReads.withLock { reads -> Int in
            var bytes = 0
            for (h, o) in reads where o.ino == ino {
                bytes += o.data.count
                reads[h] = nil
            }
            return bytes
        }
        readAheadBytes.subtract(dropped, ordering: .relaxed)
    }
}
