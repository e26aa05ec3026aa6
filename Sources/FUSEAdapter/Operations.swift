import CFuse3
import Logging
import SMBFS
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// What every callback reaches through the session's userdata.
final class Context: Sendable {
    let fs: Filesystem
    let timeout: Double
    let logger: Logger
    init(fs: Filesystem, timeout: Double, logger: Logger) {
        self.fs = fs
        self.timeout = timeout
        self.logger = logger
    }

    static func of(_ req: fuse_req_t?) -> Context {
        Unmanaged<Context>.fromOpaque(fuse_req_userdata(req)!).takeUnretainedValue()
    }

    /// Runs one operation on the connection's own thread (Share.executor), where its requests
    /// are written and its responses read: no hand-over between threads on the way out or back.
    /// `bulk` work (large reads: a megabyte to check and copy into the kernel) runs on Swift's
    /// pool instead, so the connection's thread keeps reading the socket meanwhile.
    func serve(bulk: Bool = false, _ operation: sending @escaping () async -> Void) {
        inFlight.add(1, ordering: .relaxed)
        Task(executorPreference: bulk ? nil : fs.share.executor) {
            await operation()
            self.inFlight.subtract(1, ordering: .releasing)
        }
    }

    /// Operations started by `serve` that have not replied yet: the session is not destroyed
    /// under them (FUSEMount.run), or their replies would use freed memory.
    let inFlight = Atomic<Int>(0)
}

/// The libfuse low-level operations table. Every callback copies its arguments, starts a Task
/// (Context.serve) and returns; the Task replies when SMBFS answers.
enum Operations {
    static func table(localLocks: Bool) -> fuse_lowlevel_ops {
        var ops = fuse_lowlevel_ops()

        ops.`init` = { userdata, conn in
            guard let conn else { return }
            // The kernel's read-ahead window (with read_ahead_kb raised, FUSEMount.raiseReadAhead):
            // one READ of the usual MaxReadSize, the next asked for while this one is read. Wider
            // kernel windows (read_ahead_kb raised after INIT, up to 16 MiB) measured slower on a
            // local server: more buffers in flight for the same bytes. Further ahead, the mount
            // reads by itself (SMBFS FileReadAhead.swift, rasize=).
            conn.pointee.max_readahead = 1 << 20
            conn.pointee.max_write = 1 << 20
            // Writeback caching would make the kernel ignore the server's file sizes.
            conn.pointee.want &= ~UInt32(FUSE_CAP_WRITEBACK_CACHE)
            // Always READDIRPLUS: a listing costs the same with attributes (they come with
            // FileIdBothDirectoryInformation), and without them every stat after a second
            // listing would ask the server (`find` and `ls -l` over known directories).
            conn.pointee.want &= ~UInt32(FUSE_CAP_READDIRPLUS_AUTO)
        }

        ops.lookup = { req, parent, name in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let name, let n = String(validatingCString: name) else { return r.error(ENOENT) }
            // Answered from a listing in memory: replied here, without a thread hand-over (git
            // status, find and make look up thousands of known names).
            do {
                if let e = try ctx.fs.cachedLookup(parent: parent, name: n) { return r.entry(e, parent: parent, ctx: ctx) }
            } catch where ErrnoMapping.errno(for: error) == ENOENT {
                return r.absent(ctx: ctx)
            } catch { return r.error(error) }
            ctx.serve {
                do {
                    r.entry(try await ctx.fs.lookup(parent: parent, name: n), parent: parent, ctx: ctx)
                } catch where ErrnoMapping.errno(for: error) == ENOENT {
                    r.absent(ctx: ctx)
                } catch { r.error(error) }
            }
        }

        ops.forget = { req, ino, nlookup in
            Context.of(req).fs.forget(ino, count: nlookup)
            fuse_reply_none(req)
        }

        ops.forget_multi = { req, count, forgets in
            let fs = Context.of(req).fs
            if let forgets {
                for i in 0..<count { fs.forget(forgets[i].ino, count: forgets[i].nlookup) }
            }
            fuse_reply_none(req)
        }

        ops.getattr = { req, ino, _ in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            if let a = ctx.fs.cachedAttributes(ino) {
                var st = Convert.stat(a)
                fuse_reply_attr(r.raw, &st, ctx.timeout)
                return
            }
            ctx.serve {
                do {
                    var st = Convert.stat(try await ctx.fs.getattr(ino))
                    fuse_reply_attr(r.raw, &st, ctx.timeout)
                } catch { r.error(error) }
            }
        }

        ops.opendir = { req, ino, fi in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            var info = fi?.pointee ?? fuse_file_info()
            do {
                info.fh = try ctx.fs.opendir(ino)
                fuse_reply_open(r.raw, &info)
            } catch { r.error(error) }
        }

        ops.readdirplus = { req, ino, size, off, fi in
            let ctx = Context.of(req)
            guard let fh = fi?.pointee.fh else { fuse_reply_err(req, EBADF); return }
            Directory.readdirplus(req: req!, ctx: ctx, dir: ino, handle: fh, size: size, offset: Int(off))
        }

        ops.readdir = { req, ino, size, off, fi in
            let ctx = Context.of(req)
            guard let fh = fi?.pointee.fh else { fuse_reply_err(req, EBADF); return }
            Directory.readdir(req: req!, ctx: ctx, dir: ino, handle: fh, size: size, offset: Int(off))
        }

        ops.releasedir = { req, _, fi in
            if let fh = fi?.pointee.fh { Context.of(req).fs.releasedir(handle: fh) }
            fuse_reply_err(req, 0)
        }

        ops.open = { req, ino, fi in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            var info = fi?.pointee ?? fuse_file_info()
            let flags = OpenFlags(posix: info.flags)
            ctx.serve {
                do {
                    let (fh, keep) = try await ctx.fs.open(ino, flags: flags)
                    info.fh = fh
                    info.keep_cache = keep ? 1 : 0
                    info.direct_io = ctx.fs.options.directIO ? 1 : 0
                    fuse_reply_open(r.raw, &info)
                } catch { r.error(error) }
            }
        }

        ops.read = { req, _, size, off, fi in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let fh = fi?.pointee.fh else { return r.error(EBADF) }
            ctx.serve(bulk: size > 65536) {
                do {
                    let pieces = try await ctx.fs.readPieces(handle: fh, offset: UInt64(off), size: size)
                    r.reply(pieces)
                } catch { r.error(error) }
            }
        }

        ops.release = { req, _, fi in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let fh = fi?.pointee.fh else { return r.error(0) }
            ctx.serve {
                await ctx.fs.release(handle: fh)
                r.error(0)
            }
        }

        ops.statfs = { req, _ in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            ctx.serve {
                do {
                    var v = Convert.statvfs(try await ctx.fs.statfs())
                    fuse_reply_statfs(r.raw, &v)
                } catch { r.error(error) }
            }
        }
        Writing.install(&ops)
        ExtendedAttributes.install(&ops)
        Ranges.install(&ops)
        if !localLocks { Locking.install(&ops) }

        // close(2) of a descriptor: its writes in flight land (a failure is reported here), and
        // its owner's POSIX locks are released on the server (FUSE sends the lock owner).
        ops.flush = { req, _, fi in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let fi else { return r.error(0) }
            let fh = fi.pointee.fh, owner = fi.pointee.lock_owner
            ctx.serve {
                var failure: Error?
                do { try await ctx.fs.flush(handle: fh) } catch { failure = error }
                if !ctx.fs.options.localLocks { await ctx.fs.releaseLocks(handle: fh, owner: owner) }
                if let failure { r.error(failure) } else { r.error(0) }
            }
        }
        return ops
    }
}
