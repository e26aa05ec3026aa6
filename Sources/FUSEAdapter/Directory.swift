import CFuse3
import SMBFS
#if canImport(Glibc)
import Glibc
#endif

/// Fills readdir/readdirplus buffers from an open directory's snapshot. Offsets: 0 is ".",
/// 1 is "..", n ≥ 2 is entry n-2; each entry's `off` is the offset of the next one.
enum Directory {
    static func readdirplus(req: fuse_req_t, ctx: Context, dir: UInt64, handle: UInt64, size: Int, offset: Int) {
        fill(req: req, ctx: ctx, dir: dir, handle: handle, size: size, offset: offset, plus: true)
    }

    static func readdir(req: fuse_req_t, ctx: Context, dir: UInt64, handle: UInt64, size: Int, offset: Int) {
        fill(req: req, ctx: ctx, dir: dir, handle: handle, size: size, offset: offset, plus: false)
    }

    private static func fill(req: fuse_req_t, ctx: Context, dir: UInt64, handle: UInt64, size: Int, offset: Int, plus: Bool) {
        let r = Request(raw: req)
        ctx.serve {
            do {
                let entries = try await ctx.fs.readdir(handle: handle, offset: max(0, offset - 2))
                reply(req: r.raw, ctx: ctx, dir: dir, entries: entries, size: size, offset: offset, plus: plus)
            } catch { r.error(error) }
        }
    }

    private static func reply(req: fuse_req_t, ctx: Context, dir: UInt64, entries: ArraySlice<Filesystem.Entry>,
                              size: Int, offset: Int, plus: Bool) {
        var buf = [CChar](repeating: 0, count: size)
        var used = 0
        buf.withUnsafeMutableBufferPointer { b in
            guard let base = b.baseAddress else { return }
            var next = offset
            func add(_ name: String, _ param: inout fuse_entry_param) -> Bool {
                let need = name.withCString { n in
                    plus ? fuse_add_direntry_plus(req, base + used, size - used, n, &param, off_t(next + 1))
                         : fuse_add_direntry(req, base + used, size - used, n, &param.attr, off_t(next + 1))
                }
                guard need <= size - used else { return false }
                used += need
                next += 1
                return true
            }
            // "." and "..": the kernel counts no lookup for them.
            while next < 2 {
                var p = fuse_entry_param()
                p.attr.st_ino = UInt(next == 0 ? dir : 1)
                p.attr.st_mode = S_IFDIR
                guard add(next == 0 ? "." : "..", &p) else { return }
            }
            for e in entries {
                var p = Convert.entry(e, timeout: ctx.timeout)
                guard add(e.name, &p) else { return }
                // Every other entry readdirplus returns is a lookup the kernel will forget later.
                if plus { ctx.fs.remember(e, parent: dir) }
            }
        }
        _ = buf.withUnsafeBufferPointer { fuse_reply_buf(req, $0.baseAddress, used) }
    }
}
