import Foundation
import SMBFS
#if canImport(Glibc)
import Glibc
#endif

/// The socket a mount answers `smb3fs status` on: in /run/smb3fs for root's mounts, in
/// $XDG_RUNTIME_DIR/smb3fs (else /run/user/UID/smb3fs) for a user's, named by the mount's
/// device number, which no two live mounts share. The daemon writes its status as JSON to each
/// connection and closes it; only its own user, root and the mount's uid= user may connect.
enum StatusSocket {
    static func directory(uid: uid_t) -> String {
        if uid == 0 { return "/run/smb3fs" }
        if let d = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), d.hasPrefix("/") { return d + "/smb3fs" }
        if access("/run/user/\(uid)", W_OK) == 0 { return "/run/user/\(uid)/smb3fs" }
        // No runtime directory (runuser, cron): a directory of the user's own under /tmp,
        // used only when it is the user's and no one else's (serve checks).
        return "/tmp/smb3fs-\(uid)"
    }

    /// Makes `dir` (mode 0700 for a user), or checks the one there: a real directory, owned
    /// by this user, writable by no one else.
    static func prepare(_ dir: String) -> String? {
        let me = geteuid()
        if me == 0 { mkdir("/run/smb3fs", 0o755) } else { mkdir(dir, 0o700) }
        var st = stat()
        guard lstat(dir, &st) == 0 else { return "\(dir): \(String(cString: strerror(errno)))" }
        guard (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == me, st.st_mode & 0o022 == 0 else {
            return "\(dir) is not a directory of this user's that only it can write"
        }
        return nil
    }

    struct MountInfo: Equatable {
        var device: String          // "major-minor"
        var fsType: String
        var source: String
    }

    /// The mount at `path` (absolute, normalised) as /proc/self/mountinfo lists it; the last
    /// one when mounts are stacked. Read from the file, so a mount that hangs cannot hang this.
    static func mountInfo(at path: String) -> MountInfo? {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return nil }
        var found: MountInfo?
        for line in text.split(separator: "\n") {
            // ID PARENT MAJOR:MINOR ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
            let f = line.split(separator: " ", omittingEmptySubsequences: false)
            guard f.count >= 10, let dash = f.firstIndex(of: "-"), dash + 2 < f.count else { continue }
            guard unescape(f[4]) == path else { continue }
            found = MountInfo(device: f[2].replacingOccurrences(of: ":", with: "-"), fsType: String(f[dash + 1]),
                              source: unescape(f[dash + 2]))
        }
        return found
    }

    /// mountinfo writes space, tab, newline and backslash as \ooo.
    static func unescape(_ s: Substring) -> String {
        let u = Array(s.utf8)
        var bytes: [UInt8] = []
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "\\"), i + 4 <= u.count,
               let v = UInt8(String(decoding: u[(i + 1)..<(i + 4)], as: UTF8.self), radix: 8) {
                bytes.append(v)
                i += 4
            } else {
                bytes.append(u[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `path` made absolute against the working directory and normalised by text alone
    /// (".", "..", repeated "/"): no stat, which a hung mount would not answer.
    static func absolute(_ path: String) -> String {
        var full = path
        if !path.hasPrefix("/") {
            var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let cwd = getcwd(&buf, buf.count) != nil ? String(cString: buf) : "/"
            full = cwd + "/" + path
        }
        var parts: [Substring] = []
        for c in full.split(separator: "/") {
            if c == "." { continue }
            if c == ".." { _ = parts.popLast(); continue }
            parts.append(c)
        }
        return "/" + parts.joined(separator: "/")
    }

    // MARK: - the daemon's side

    /// Listens for the mount at `mountpoint` (absolute) on a thread of its own; returns the
    /// socket's path (to remove at exit), or nil when it cannot (a warning: status is a
    /// convenience, never a reason not to mount).
    static func serve(mountpoint: String, owner: uid_t, status: @escaping @Sendable () -> Data,
                      warn: (String) -> Void) -> String? {
        guard let info = mountInfo(at: mountpoint) else {
            warn("no status socket: \(mountpoint) not found in /proc/self/mountinfo")
            return nil
        }
        let dir = directory(uid: geteuid())
        if let problem = prepare(dir) {
            warn("no status socket: \(problem)")
            return nil
        }
        let path = dir + "/" + info.device + ".sock"
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { warn("no status socket: \(String(cString: strerror(errno)))"); return nil }
        // A socket left by a daemon that died with the same device number.
        unlink(path)
        guard bind(fd, path: path) == 0, chmod(path, 0o600) == 0, listen(fd, 8) == 0 else {
            warn("no status socket at \(path): \(String(cString: strerror(errno)))")
            close(fd)
            return nil
        }
        if geteuid() == 0 && owner != 0 { _ = chown(path, owner, gid_t.max) }
        let me = geteuid()
        let thread = Thread {
            while true {
                let c = accept(fd, nil, nil)
                if c < 0 { if errno == EINTR { continue } else { return } }
                _ = fcntl(c, F_SETFD, FD_CLOEXEC)
                var cred = PeerCredentials()
                var len = socklen_t(MemoryLayout<PeerCredentials>.size)
                if getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0, [0, me, owner].contains(cred.uid) {
                    var timeout = timeval(tv_sec: 2, tv_usec: 0)
                    setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                    let data = status()
                    data.withUnsafeBytes { b in
                        var at = 0
                        while at < b.count {
                            let n = write(c, b.baseAddress! + at, b.count - at)
                            if n <= 0 { break }
                            at += n
                        }
                    }
                }
                close(c)
            }
        }
        thread.name = "smb3fs-status"
        thread.start()
        return path
    }

    /// struct ucred (socket(7), SO_PEERCRED), which Glibc's module leaves out without _GNU_SOURCE.
    struct PeerCredentials {
        var pid: pid_t = 0
        var uid: uid_t = uid_t.max
        var gid: gid_t = gid_t.max
    }

    private static func bind(_ fd: Int32, path: String) -> Int32 {
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: addr.sun_path) else { errno = ENAMETOOLONG; return -1 }
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            for (i, b) in bytes.enumerated() { p[i] = b }
            p[bytes.count] = 0
        }
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    // MARK: - the client's side

    struct Failure: Error { let message: String }

    /// The status JSON of the mount at `mountpoint`.
    static func query(mountpoint given: String) throws -> Data {
        let point = absolute(given)
        guard let info = mountInfo(at: point) else { throw Failure(message: "\(given) is not a mount point") }
        guard info.fsType == "fuse.smb3fs" else { throw Failure(message: "\(given) is not an smb3fs mount (it is \(info.fsType))") }
        let candidates = [directory(uid: getuid()), directory(uid: 0)].map { $0 + "/" + info.device + ".sock" }
        guard let path = candidates.first(where: { access($0, F_OK) == 0 }) else {
            throw Failure(message: "no status socket for \(given) (\(candidates.joined(separator: " or ")) missing)")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(message: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            for (i, b) in bytes.prefix(p.count - 1).enumerated() { p[i] = b }
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let why = errno == EACCES ? "it belongs to another user" : String(cString: strerror(errno))
            throw Failure(message: "cannot ask \(given) for its status: \(why)")
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var out = Data()
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buf, buf.count)
            if n == 0 { break }
            guard n > 0 else {
                throw Failure(message: errno == EAGAIN ? "the daemon of \(given) did not answer within 5 s"
                              : "reading the status of \(given): \(String(cString: strerror(errno)))")
            }
            out.append(contentsOf: buf[0..<n])
            guard out.count <= 4 << 20 else { throw Failure(message: "the status of \(given) is over 4 MiB") }
        }
        guard !out.isEmpty else { throw Failure(message: "\(given) answered nothing (not allowed to ask it?)") }
        return out
    }
}
