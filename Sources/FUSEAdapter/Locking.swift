import CFuse3
import SMBFS
#if canImport(Glibc)
import Glibc
#endif

/// fcntl(2) record locks and flock(2), sent to the server as SMB2 LOCKs (see SMBFS/Locks.swift).
/// Not installed with `nobrl`: the kernel then keeps locks local.
enum Locking {
    static let toEnd = UInt64(Int64.max)

    /// struct flock from libfuse: l_len 0 means "to the end".
    static func range(_ l: flock) -> LockRange {
        let start = UInt64(max(0, l.l_start))
        let end = l.l_len <= 0 ? toEnd : min(toEnd, start + UInt64(l.l_len) - 1)
        let kind: LockRange.Kind
        switch Int32(l.l_type) {
        case F_RDLCK: kind = .read
        case F_WRLCK: kind = .write
        default: kind = .unlock
        }
        return LockRange(start: start, end: end, kind: kind)
    }

    static func install(_ ops: inout fuse_lowlevel_ops) {
        ops.getlk = { req, _, fi, lock in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let fi, let lock else { return r.error(EINVAL) }
            let fh = fi.pointee.fh, owner = fi.pointee.lock_owner
            var l = lock.pointee
            let range = Locking.range(l)
            ctx.serve {
                do {
                    if let conflict = try await ctx.fs.getlk(handle: fh, owner: owner, range) {
                        l.l_type = Int16(conflict.kind == .write ? F_WRLCK : F_RDLCK)
                        l.l_start = off_t(conflict.start)
                        l.l_len = conflict.end == Locking.toEnd ? 0 : off_t(conflict.end - conflict.start + 1)
                        l.l_pid = 0
                    } else {
                        l.l_type = Int16(F_UNLCK)
                    }
                    fuse_reply_lock(r.raw, &l)
                } catch { r.error(error) }
            }
        }

        ops.setlk = { req, _, fi, lock, sleep in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let fi, let lock else { return r.error(EINVAL) }
            let fh = fi.pointee.fh, owner = fi.pointee.lock_owner
            let range = Locking.range(lock.pointee)
            ctx.serve {
                do {
                    try await ctx.fs.setlk(handle: fh, owner: owner, range, wait: sleep != 0) {
                        fuse_req_interrupted(r.raw) != 0
                    }
                    r.error(0)
                } catch { r.error(error) }
            }
        }

        ops.flock = { req, _, fi, op in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let fi else { return r.error(EINVAL) }
            let fh = fi.pointee.fh, owner = fi.pointee.lock_owner
            let kind: LockRange.Kind = op & LOCK_UN != 0 ? .unlock : op & LOCK_EX != 0 ? .write : .read
            let wait = op & LOCK_NB == 0
            ctx.serve {
                do {
                    try await ctx.fs.setlk(handle: fh, owner: owner, LockRange(start: 0, end: Locking.toEnd, kind: kind),
                                           wait: wait) { fuse_req_interrupted(r.raw) != 0 }
                    r.error(0)
                } catch { r.error(error) }
            }
        }

        // close(2) of a descriptor drops its owner's POSIX locks.
    }
}
