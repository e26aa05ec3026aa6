import CFuse3
import SMBFS
#if canImport(Glibc)
import Glibc
#endif

/// A FUSE request handle that may be replied to from any thread. libfuse's reply functions are
/// thread-safe; each request is replied to exactly once.
struct Request: @unchecked Sendable {
    let raw: fuse_req_t
}

/// Converts SMBFS values to the C structures libfuse replies with.
enum Convert {
    /// The caller of a create, mkdir or mknod and the mode it asked for (the kernel has applied
    /// its umask: the mount does not ask for FUSE_CAP_DONT_MASK).
    static func creation(_ req: fuse_req_t?, mode: mode_t) -> Creation {
        let c = fuse_req_ctx(req)?.pointee
        return Creation(mode: UInt32(mode) & 0o7777, uid: c?.uid ?? 0, gid: c?.gid ?? 0)
    }

    static func stat(_ a: Attributes) -> stat {
        var st = Glibc.stat()
        st.st_ino = UInt(a.ino)
        switch a.kind {
        case .directory: st.st_mode = S_IFDIR | mode_t(a.permissions & 0o7777)
        case .file: st.st_mode = S_IFREG | mode_t(a.permissions & 0o7777)
        case .symlink: st.st_mode = S_IFLNK | 0o777
        case .fifo: st.st_mode = S_IFIFO | mode_t(a.permissions & 0o7777)
        case .socket: st.st_mode = S_IFSOCK | mode_t(a.permissions & 0o7777)
        case .characterDevice: st.st_mode = S_IFCHR | mode_t(a.permissions & 0o7777)
        case .blockDevice: st.st_mode = S_IFBLK | mode_t(a.permissions & 0o7777)
        }
        if let d = a.device { st.st_rdev = makedev(d.major, d.minor) }
        st.st_nlink = UInt(a.nlink)
        st.st_uid = a.uid
        st.st_gid = a.gid
        st.st_size = off_t(clamping: a.size)
        st.st_blksize = 65536
        st.st_blocks = blkcnt_t(clamping: (a.allocationSize + 511) / 512)
        st.st_atim = timespec(a.atime.unix)
        st.st_mtim = timespec(a.mtime.unix)
        st.st_ctim = timespec(a.ctime.unix)
        return st
    }

    /// dev_t from and to major and minor numbers, as glibc's makedev(3) lays them out (its
    /// macros do not reach Swift): minor bits 0-7 and 20-43, major bits 8-19 and 44-63.
    static func makedev(_ major: UInt32, _ minor: UInt32) -> dev_t {
        let (ma, mi) = (UInt64(major), UInt64(minor))
        return dev_t((mi & 0xff) | ((ma & 0xfff) << 8) | ((mi & ~0xff) << 12) | ((ma & ~0xfff) << 32))
    }

    static func major(_ d: dev_t) -> UInt64 { (UInt64(d) >> 8) & 0xfff | (UInt64(d) >> 32) & ~UInt64(0xfff) }
    static func minor(_ d: dev_t) -> UInt64 { UInt64(d) & 0xff | (UInt64(d) >> 12) & ~UInt64(0xff) }

    static func timespec(_ t: (seconds: Int64, nanoseconds: Int64)) -> Glibc.timespec {
        Glibc.timespec(tv_sec: Int(t.seconds), tv_nsec: Int(t.nanoseconds))
    }

    static func entry(_ e: Filesystem.Entry, timeout: Double) -> fuse_entry_param {
        var p = fuse_entry_param()
        p.ino = e.attributes.ino
        p.generation = 1
        p.attr = stat(e.attributes)
        p.attr_timeout = timeout
        p.entry_timeout = timeout
        return p
    }

    static func statvfs(_ s: FSStats) -> statvfs {
        var v = Glibc.statvfs()
        v.f_bsize = UInt(s.blockSize)
        v.f_frsize = UInt(s.blockSize)
        v.f_blocks = fsblkcnt_t(s.blocks)
        v.f_bfree = fsblkcnt_t(s.blocksFree)
        v.f_bavail = fsblkcnt_t(s.blocksAvailable)
        v.f_namemax = UInt(s.nameMax)
        return v
    }
}

extension Request {
    /// Replies with a new entry and counts the kernel's reference to it (lookup, mkdir, symlink, link).
    func entry(_ e: Filesystem.Entry, parent: UInt64, ctx: Context) {
        var p = Convert.entry(e, timeout: ctx.timeout)
        ctx.fs.remember(e, parent: parent)
        fuse_reply_entry(raw, &p)
    }

    /// A name that does not exist, remembered by the kernel for the attribute timeout (a negative
    /// dentry: ino 0), so `tar`, `git` and compilers probing the same missing name ask once.
    /// Creating the name through this mount replaces it at once.
    func absent(ctx: Context) {
        guard ctx.timeout > 0 else { return error(ENOENT) }
        var p = fuse_entry_param()
        p.ino = 0
        p.entry_timeout = ctx.timeout
        fuse_reply_entry(raw, &p)
    }

    /// Replies with data in pieces, gathered by one writev (fuse_reply_iov), so bytes that lie
    /// in two READ responses are not first copied into one buffer.
    func reply(_ pieces: [ArraySlice<UInt8>]) {
        if pieces.count == 1 {
            pieces[0].withUnsafeBytes { b in
                _ = fuse_reply_buf(raw, b.baseAddress?.assumingMemoryBound(to: CChar.self), b.count)
            }
            return
        }
        gathering(pieces[...], into: []) { iov in _ = fuse_reply_iov(raw, iov, Int32(iov.count)) }
    }

    /// Calls `body` with an iovec per piece, each pointer valid for the whole call (the
    /// pieces' buffers are entered one inside the other; a read has a few pieces at most).
    private func gathering(_ pieces: ArraySlice<ArraySlice<UInt8>>, into iov: [iovec], _ body: ([iovec]) -> Void) {
        guard let first = pieces.first else { return body(iov) }
        first.withUnsafeBytes { b in
            var more = iov
            more.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: b.baseAddress), iov_len: b.count))
            gathering(pieces.dropFirst(), into: more, body)
        }
    }

    func error(_ e: Error) { fuse_reply_err(raw, ErrnoMapping.errno(for: e)) }
    func error(_ code: Int32) { fuse_reply_err(raw, code) }
}
