#if canImport(Glibc)
import Glibc
#endif

/// What a user other than root needs to mount (through the setuid fusermount3), checked
/// before connecting so each lack is one clear line instead of libfuse's and fusermount3's.
enum UnprivilegedMount {
    static func check(mountpoint: String, allowOther: Bool, fuseConf: String = "/etc/fuse.conf") throws {
        guard geteuid() != 0 else { return }
        guard access("/dev/fuse", R_OK | W_OK) == 0 else {
            var st = stat()
            let mode = stat("/dev/fuse", &st) == 0 ? String(st.st_mode & 0o777, radix: 8) : "missing"
            throw UsageError("cannot mount as uid \(getuid()): /dev/fuse is not readable and writable by this user (mode \(mode); it is normally 0666)")
        }
        // fusermount3 lets a user mount only on a directory the user may write.
        guard access(mountpoint, W_OK) == 0 else {
            throw UsageError("cannot mount on \(mountpoint) as uid \(getuid()): the mount point must be writable by the mounting user")
        }
        if allowOther && !userAllowOther(fuseConf) {
            throw UsageError("allow_other by a user other than root needs user_allow_other in \(fuseConf)")
        }
    }

    /// Whether fuse.conf has an uncommented `user_allow_other` line (fuse.conf(5)).
    static func userAllowOther(_ path: String) -> Bool {
        guard let f = fopen(path, "r") else { return false }
        defer { fclose(f) }
        var line: UnsafeMutablePointer<CChar>?
        var cap = 0
        defer { free(line) }
        while getline(&line, &cap, f) > 0, let l = line {
            let text = String(cString: l)
            let content = text.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            if content.filter({ !$0.isWhitespace }) == "user_allow_other" { return true }
        }
        return false
    }
}
