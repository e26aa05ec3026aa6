#if canImport(Glibc)
import Glibc
#endif

/// Detaches like sshfs: the parent waits until the child reports the mount live (exit 0) or
/// reports why it failed (one line, exit 1). Must run before any thread exists.
struct Daemon {
    private let writeFD: Int32

    /// Returns in the child only; the parent exits with the child's verdict.
    static func detach() -> Daemon {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            printError("cannot create a pipe: \(String(cString: strerror(errno)))")
            exit(1)
        }
        let pid = fork()
        if pid < 0 {
            printError("cannot fork: \(String(cString: strerror(errno)))")
            exit(1)
        }
        if pid > 0 {
            close(fds[1])
            var message: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 512)
            while true {
                let n = read(fds[0], &buf, buf.count)
                if n > 0 { message += buf[0..<n]; if message.count > 4096 { break }; continue }
                if n < 0 && errno == EINTR { continue }
                break
            }
            let text = String(decoding: message, as: UTF8.self)
            if text == "OK" { exit(0) }
            if text.isEmpty {
                var status: Int32 = 0
                waitpid(pid, &status, 0)
                printError("the mount process exited before mounting")
            } else {
                printError(text)
            }
            exit(1)
        }
        close(fds[0])
        setsid()
        return Daemon(writeFD: fds[1])
    }

    /// The mount is live: the parent exits 0; stdio goes to /dev/null from here on.
    func mounted() {
        report("OK")
        let null = open("/dev/null", O_RDWR)
        if null >= 0 {
            dup2(null, 0); dup2(null, 1); dup2(null, 2)
            if null > 2 { close(null) }
        }
        _ = chdir("/")
    }

    func failed(_ message: String) {
        report(message)
    }

    private func report(_ s: String) {
        _ = s.withCString { write(writeFD, $0, strlen($0)) }
        close(writeFD)
    }
}
