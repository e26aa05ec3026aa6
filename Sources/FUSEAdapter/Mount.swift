import CFuse3
import Dispatch
import Logging
import SMBFS
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public enum MountError: Error, CustomStringConvertible {
    case session(String)
    case mount(String)
    public var description: String {
        switch self {
        case .session(let s): return s
        case .mount(let s): return s
        }
    }
}

/// Mounts a Filesystem with libfuse3's low-level API and runs its session loop.
public enum FUSEMount {
    /// Blocks until the filesystem is unmounted (fusermount3 -u, umount) or SIGTERM/SIGINT/SIGHUP.
    /// `mounted` is called once the kernel mount exists.
    public static func run(fs: Filesystem, mountpoint: String, fsname: String, fuseOptions: [String],
                           logger: Logger, mounted: () -> Void) throws {
        var args = fuse_args(argc: 0, argv: nil, allocated: 0)
        defer { fuse_opt_free_args(&args) }
        let opts = (["fsname=" + fsname, "subtype=smb3fs"] + fuseOptions).map(escape).joined(separator: ",")
        for a in ["smb3fs", "-o", opts] { _ = fuse_opt_add_arg(&args, a) }

        let ctx = Context(fs: fs, timeout: fs.options.attributeTimeout, logger: logger)
        let userdata = Unmanaged.passRetained(ctx)
        defer { userdata.release() }
        var ops = Operations.table(localLocks: fs.options.localLocks)
        guard let se = fuse_session_new(&args, &ops, MemoryLayout<fuse_lowlevel_ops>.size, userdata.toOpaque()) else {
            throw MountError.session("cannot start a FUSE session (options: \(opts))")
        }
        // Destroyed once every operation under way has replied (see the end).
        var quiet = true
        defer { if quiet { fuse_session_destroy(se) } }
        // The kernel is told to drop attributes or pages the server changed (close-to-open,
        // lease breaks). libfuse's notify calls may come from any thread.
        let session = SessionHandle(se)
        fs.setInvalidator { ino, what in
            session.notify { se in
                switch what {
                case .attributes: _ = fuse_lowlevel_notify_inval_inode(se, ino, -1, 0)
                case .contents: _ = fuse_lowlevel_notify_inval_inode(se, ino, 0, 0)
                case .entry(let name):
                    _ = name.withCString { fuse_lowlevel_notify_inval_entry(se, ino, $0, name.utf8.count) }
                }
            }
        }
        defer {
            fs.setInvalidator(nil)
            session.close()
        }
        // A daemon started with `&` from a script inherits SIGINT ignored; libfuse only installs
        // its handler where the disposition is the default.
        signal(SIGINT, SIG_DFL)
        guard fuse_set_signal_handlers(se) == 0 else { throw MountError.session("cannot install signal handlers") }
        defer { fuse_remove_signal_handlers(se) }
        guard fuse_session_mount(se, mountpoint) == 0 else {
            throw MountError.mount("cannot mount on \(mountpoint) (is /dev/fuse available and fuse3 installed?)")
        }
        raiseReadAhead(mountpoint: mountpoint, logger: logger)
        mounted()
        // Megabyte I/O buffers come from the heap, not a fresh mmap each: glibc maps
        // allocations over 128 KiB on their own until it has seen one freed, and trims an
        // arena's top past 128 KiB, so each 1 MiB frame cost page faults and zeroed pages
        // (a fifth of the daemon's CPU in a sequential read). Kept instead, and what is free
        // given back to the system now and then: after a burst of large reads or writes.
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 64 << 20)
        let trimmer = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
        trimmer.schedule(deadline: .now() + .seconds(5), repeating: .seconds(5), leeway: .seconds(1))
        trimmer.setEventHandler { _ = malloc_trim(0) }
        trimmer.resume()
        defer { trimmer.cancel() }
        let rc = fuse_session_loop(se)
        fuse_session_unmount(se)
        logger.info("unmounted", metadata: ["loop": "\(rc)"])
        // Requests the kernel sent last (releases at unmount) may still be answered by their
        // tasks; they reply through the session. One that waits for good (a blocking lock, a
        // server that went away) leaves the session to go with the process.
        quiet = waitForReplies(ctx, seconds: 5)
        if !quiet { logger.debug("operations still under way at unmount", metadata: ["count": "\(ctx.inFlight.load(ordering: .acquiring))"]) }
    }

    /// Waits until no operation is under way, up to `seconds`; whether none is.
    static func waitForReplies(_ ctx: Context, seconds: Int) -> Bool {
        for _ in 0..<(seconds * 100) {
            if ctx.inFlight.load(ordering: .acquiring) == 0 { return true }
            usleep(10_000)
        }
        return ctx.inFlight.load(ordering: .acquiring) == 0
    }

    /// Runs `body` on a thread of its own, which alone takes SIGINT, SIGTERM and SIGHUP, and
    /// never returns (`body` exits the process). For the daemon's child after fork(): the thread
    /// that forked must not run Swift code beside other threads (CFuse3 shim.h says why).
    public static func runOnOwnThread(_ body: @escaping () -> Never) -> Never {
        // Handed over whole: the calling thread only waits for the new one.
        final class Job: @unchecked Sendable {
            let body: () -> Never
            init(_ body: @escaping () -> Never) { self.body = body }
        }
        let job = Unmanaged.passRetained(Job(body)).toOpaque()
        let rc = smb3fs_run_on_own_thread({ p in Unmanaged<Job>.fromOpaque(p!).takeRetainedValue().body() }, job)
        let line = "smb3fs: cannot start a thread: \(String(cString: strerror(rc)))\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
        exit(1)
    }

    /// libfuse splits -o values at commas; a comma inside a value is escaped with a backslash.
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            if c == "\\" || c == "," { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// Buffered reads reach FUSE in read_ahead_kb units, 128 KiB by default; SMB reads are
    /// cheaper in 1 MiB units. The kernel sets the window at INIT to the smaller of this bdi's
    /// read_ahead_kb and the max_readahead we answer (1 MiB, Operations.init), so root raises
    /// the bdi's value between mounting and answering INIT, found in mountinfo without calling
    /// into the mount itself: the window becomes 1 MiB.
    static func raiseReadAhead(mountpoint: String, logger: Logger) {
        guard geteuid() == 0, let f = fopen("/proc/self/mountinfo", "r") else { return }
        defer { fclose(f) }
        var device: String?
        var line: UnsafeMutablePointer<CChar>?
        var cap = 0
        defer { free(line) }
        while getline(&line, &cap, f) > 0, let l = line {
            let fields = String(cString: l).split(separator: " ")
            if fields.count > 4, unescapeMountinfo(String(fields[4])) == mountpoint { device = String(fields[2]) }
        }
        guard let device else { return }
        let path = "/sys/class/bdi/\(device)/read_ahead_kb"
        guard let out = fopen(path, "w") else { return }
        fputs("1024\n", out)
        fclose(out)
        logger.debug("read_ahead_kb raised", metadata: ["bdi": "\(device)"])
    }

    static func unescapeMountinfo(_ s: String) -> String {
        // mountinfo escapes space, tab, newline and backslash as \ooo.
        var out: [UInt8] = []
        let b = Array(s.utf8)
        var i = 0
        while i < b.count {
            if b[i] == 0x5C, i + 3 < b.count,
               let v = UInt8(String(decoding: b[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                out.append(v)
                i += 4
            } else {
                out.append(b[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The FUSE session pointer as notifications reach it from other threads (lease breaks, the inode
/// table's evictions): none starts after `close`, which waits for those under way, so the
/// session is never used once destroyed. Notifications do not wait for each other: one may
/// block in the kernel for a while (a directory's lock, held by a lookup waiting for the
/// server), and another (a lease break's) may be what lets that lookup finish.
final class SessionHandle: @unchecked Sendable {
    private let raw: OpaquePointer
    /// Notifications under way, and `closed` once closed.
    private let users = Atomic<Int>(0)
    private static let closed = 1 << 40

    init(_ raw: OpaquePointer) { self.raw = raw }

    func notify(_ body: (OpaquePointer) -> Void) {
        let before = users.wrappingAdd(1, ordering: .acquiring).oldValue
        defer { users.wrappingSubtract(1, ordering: .releasing) }
        guard before & Self.closed == 0 else { return }
        body(raw)
    }

    /// No notification from now on; returns when those under way are done (at most 5 s: after
    /// the unmount the kernel answers each at once).
    func close() {
        users.bitwiseOr(Self.closed, ordering: .acquiringAndReleasing)
        var waits = 0
        while users.load(ordering: .acquiring) & ~Self.closed != 0 && waits < 500 {
            usleep(10_000)
            waits += 1
        }
    }
}
