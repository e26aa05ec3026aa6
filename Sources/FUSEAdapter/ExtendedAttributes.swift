import CFuse3
import SMBFS
#if canImport(Glibc)
import Glibc
#endif

/// getxattr/listxattr follow the size protocol of xattr(7): size 0 asks for the length.
enum ExtendedAttributes {
    static func install(_ ops: inout fuse_lowlevel_ops) {
        ops.getxattr = { req, ino, name, size in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let name, let n = String(validatingCString: name) else { return r.error(EINVAL) }
            // SMB stores no security.* or system.* attributes: "not supported", as for setxattr.
            // ls -l asks every file for security.selinux and system.posix_acl_access unless a
            // device answers that, so this is one request per listing instead of two per file.
            guard Filesystem.isStoredXattr(n) else { return r.error(EOPNOTSUPP) }
            ctx.serve {
                do { ExtendedAttributes.reply(r, try await ctx.fs.getxattr(ino, name: n), size: size) } catch { r.error(error) }
            }
        }

        ops.listxattr = { req, ino, size in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            ctx.serve {
                do {
                    let names = try await ctx.fs.listxattr(ino)
                    ExtendedAttributes.reply(r, names.flatMap { Array($0.utf8) + [0] }, size: size)
                } catch { r.error(error) }
            }
        }

        ops.setxattr = { req, ino, name, value, size, flags in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let name, let n = String(validatingCString: name) else { return r.error(EINVAL) }
            let v = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
            ctx.serve {
                do {
                    try await ctx.fs.setxattr(ino, name: n, value: v, flags: flags)
                    r.error(0)
                } catch { r.error(error) }
            }
        }

        ops.removexattr = { req, ino, name in
            let r = Request(raw: req!)
            let ctx = Context.of(req)
            guard let name, let n = String(validatingCString: name) else { return r.error(EINVAL) }
            ctx.serve {
                do {
                    try await ctx.fs.removexattr(ino, name: n)
                    r.error(0)
                } catch { r.error(error) }
            }
        }
    }

    static func reply(_ r: Request, _ bytes: [UInt8], size: Int) {
        if size == 0 { fuse_reply_xattr(r.raw, bytes.count); return }
        guard bytes.count <= size else { return r.error(ERANGE) }
        bytes.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { _ = fuse_reply_buf(r.raw, $0.baseAddress, $0.count) }
        }
    }
}
