import CFuse3
import SMBFS
import SMBProtocol
#if canImport(Glibc)
import Glibc
#endif

/// The operations that change the share.
enum Writing {
    /// renameat2(2) flag values (linux/fs.h), which Glibc does not export to Swift.
    static let renameNoReplace: UInt32 = 1

    static func install(_ ops: inout fuse_lowlevel_ops) {
        ops.create = { req, parent, name, mode, fi in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let name, let n = String(validatingCString: name) else { return r.error(EINVAL) }
            var info = fi?.pointee ?? fuse_file_info()
            let flags = OpenFlags(posix: info.flags)
            let creation = Convert.creation(req, mode: mode)
            ctx.serve {
                do {
                    let (e, handle) = try await ctx.fs.create(parent: parent, name: n, flags: flags, creation: creation)
                    var p = Convert.entry(e, timeout: ctx.timeout)
                    info.fh = handle
                    info.direct_io = ctx.fs.options.directIO ? 1 : 0
                    ctx.fs.remember(e, parent: parent)
                    if fuse_reply_create(r.raw, &p, &info) != 0 {
                        // The kernel dropped the request (interrupted): nobody will release this handle.
                        ctx.fs.forget(e.attributes.ino, count: 1)
                        await ctx.fs.release(handle: handle)
                    }
                } catch { r.error(error) }
            }
        }

        ops.write = { req, _, buf, size, off, fi in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let fh = fi?.pointee.fh else { return r.error(EBADF) }
            // The buffer belongs to libfuse only until this callback returns.
            let data = buf.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
            ctx.serve {
                do {
                    let n = try await ctx.fs.write(handle: fh, offset: UInt64(off), data: data)
                    fuse_reply_write(r.raw, n)
                } catch { r.error(error) }
            }
        }

        ops.fsync = { req, _, _, fi in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let fh = fi?.pointee.fh else { return r.error(EBADF) }
            ctx.serve {
                do {
                    try await ctx.fs.fsync(handle: fh)
                    r.error(0)
                } catch { r.error(error) }
            }
        }

        ops.fsyncdir = { req, _, _, _ in fuse_reply_err(req, 0) }

        ops.setattr = { req, ino, attr, toSet, fi in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let st = attr?.pointee else { return r.error(EINVAL) }
            var c = AttributeChanges()
            if toSet & FUSE_SET_ATTR_MODE != 0 { c.mode = UInt32(st.st_mode) & 0o7777 }
            if toSet & FUSE_SET_ATTR_UID != 0 { c.uid = st.st_uid }
            if toSet & FUSE_SET_ATTR_GID != 0 { c.gid = st.st_gid }
            if toSet & FUSE_SET_ATTR_SIZE != 0 { c.size = UInt64(max(0, st.st_size)) }
            if toSet & FUSE_SET_ATTR_ATIME_NOW != 0 {
                c.atime = Filesystem.now()
            } else if toSet & FUSE_SET_ATTR_ATIME != 0 {
                c.atime = FileTime(unixSeconds: Int64(st.st_atim.tv_sec), nanoseconds: Int64(st.st_atim.tv_nsec))
            }
            if toSet & FUSE_SET_ATTR_MTIME_NOW != 0 {
                c.mtime = Filesystem.now()
            } else if toSet & FUSE_SET_ATTR_MTIME != 0 {
                c.mtime = FileTime(unixSeconds: Int64(st.st_mtim.tv_sec), nanoseconds: Int64(st.st_mtim.tv_nsec))
            }
            let handle = fi?.pointee.fh
            let changes = c
            ctx.serve {
                do {
                    var out = Convert.stat(try await ctx.fs.setattr(ino, changes, handle: handle))
                    fuse_reply_attr(r.raw, &out, ctx.timeout)
                } catch { r.error(error) }
            }
        }

        ops.mkdir = { req, parent, name, mode in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let name, let n = String(validatingCString: name) else { return r.error(EINVAL) }
            let creation = Convert.creation(req, mode: mode)
            ctx.serve {
                do {
                    r.entry(try await ctx.fs.mkdir(parent: parent, name: n, creation: creation), parent: parent, ctx: ctx)
                } catch { r.error(error) }
            }
        }

        // mknod(2) of a regular file (tar --xattrs makes each file so, to set its xattrs before
        // writing it); FIFOs, sockets and device nodes as Interix files with `sfu`.
        ops.mknod = { req, parent, name, mode, rdev in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let name, let n = String(validatingCString: name) else { return r.error(EINVAL) }
            let special: InterixSpecialFile?
            switch mode & S_IFMT {
            case S_IFREG, 0: special = nil
            case S_IFIFO: special = .fifo
            case S_IFSOCK: special = .socket
            case S_IFCHR: special = .characterDevice(major: Convert.major(rdev), minor: Convert.minor(rdev))
            case S_IFBLK: special = .blockDevice(major: Convert.major(rdev), minor: Convert.minor(rdev))
            default: return r.error(EINVAL)
            }
            let creation = Convert.creation(req, mode: mode)
            ctx.serve {
                do {
                    if let special {
                        r.entry(try await ctx.fs.mknod(parent: parent, name: n, special: special, creation: creation),
                                parent: parent, ctx: ctx)
                    } else {
                        r.entry(try await ctx.fs.mknod(parent: parent, name: n, creation: creation), parent: parent, ctx: ctx)
                    }
                } catch { r.error(error) }
            }
        }

        ops.symlink = { req, target, parent, name in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let target, let name, let n = String(validatingCString: name) else { return r.error(EINVAL) }
            let t = Array(UnsafeRawBufferPointer(start: target, count: strlen(target)))
            ctx.serve {
                do {
                    r.entry(try await ctx.fs.symlink(parent: parent, name: n, target: t), parent: parent, ctx: ctx)
                } catch { r.error(error) }
            }
        }

        ops.readlink = { req, ino in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            ctx.serve {
                do {
                    let target = try await ctx.fs.readlink(ino) + [0]
                    target.withUnsafeBufferPointer { b in
                        b.withMemoryRebound(to: CChar.self) { _ = fuse_reply_readlink(r.raw, $0.baseAddress) }
                    }
                } catch { r.error(error) }
            }
        }

        ops.link = { req, ino, newParent, newName in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let newName, let n = String(validatingCString: newName) else { return r.error(EINVAL) }
            ctx.serve {
                do {
                    r.entry(try await ctx.fs.link(ino, newParent: newParent, newName: n), parent: newParent, ctx: ctx)
                } catch { r.error(error) }
            }
        }

        ops.unlink = { req, parent, name in
            Writing.removal(req, name) { fs, n in try await fs.unlink(parent: parent, name: n) }
        }

        ops.rmdir = { req, parent, name in
            Writing.removal(req, name) { fs, n in try await fs.rmdir(parent: parent, name: n) }
        }

        ops.rename = { req, parent, name, newParent, newName, flags in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let name, let n = String(validatingCString: name),
                  let newName, let nn = String(validatingCString: newName) else { return r.error(EINVAL) }
            // RENAME_EXCHANGE and RENAME_WHITEOUT have no SMB equivalent.
            guard flags & ~Writing.renameNoReplace == 0 else { return r.error(EINVAL) }
            let noReplace = flags & Writing.renameNoReplace != 0
            ctx.serve {
                do {
                    try await ctx.fs.rename(parent: parent, name: n, newParent: newParent, newName: nn, noReplace: noReplace)
                    r.error(0)
                } catch { r.error(error) }
            }
        }
    }

    static func removal(_ req: fuse_req_t?, _ name: UnsafePointer<CChar>?,
                                _ body: @escaping @Sendable (Filesystem, String) async throws -> Void) {
        let r = Request(raw: req!)
        let ctx = Context.of(req)
        guard let name, let n = String(validatingCString: name) else { return r.error(EINVAL) }
        ctx.serve {
            do {
                try await body(ctx.fs, n)
                r.error(0)
            } catch { r.error(error) }
        }
    }
}

/// copy_file_range, fallocate and lseek (SEEK_DATA/SEEK_HOLE).
enum Ranges {
    static func install(_ ops: inout fuse_lowlevel_ops) {
        ops.copy_file_range = { req, _, offIn, fiIn, _, offOut, fiOut, len, flags in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let inFh = fiIn?.pointee.fh, let outFh = fiOut?.pointee.fh else { return r.error(EBADF) }
            guard flags == 0 else { return r.error(EINVAL) }
            ctx.serve {
                do {
                    let n = try await ctx.fs.copyFileRange(from: inFh, offset: UInt64(offIn), to: outFh,
                                                           offset: UInt64(offOut), length: UInt64(len))
                    fuse_reply_write(r.raw, Int(n))
                } catch { r.error(error) }
            }
        }

        ops.fallocate = { req, _, mode, offset, length, fi in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let fh = fi?.pointee.fh else { return r.error(EBADF) }
            guard offset >= 0, length > 0 else { return r.error(EINVAL) }
            ctx.serve {
                do {
                    try await ctx.fs.fallocate(handle: fh, mode: mode, offset: UInt64(offset), length: UInt64(length))
                    r.error(0)
                } catch { r.error(error) }
            }
        }

        ops.lseek = { req, _, off, whence, fi in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let fh = fi?.pointee.fh else { return r.error(EBADF) }
            guard whence == Filesystem.seekData || whence == Filesystem.seekHole else { return r.error(EINVAL) }
            guard off >= 0 else { return r.error(ENXIO) }
            ctx.serve {
                do {
                    let at = try await ctx.fs.seek(handle: fh, offset: UInt64(off), whence: whence)
                    fuse_reply_lseek(r.raw, off_t(at))
                } catch { r.error(error) }
            }
        }
    }
}
