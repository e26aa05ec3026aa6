#if canImport(Glibc)
import Glibc
#endif

/// Overwrites the value of every password= and pass= option in this process's own argv (what
/// `ps` and /proc/PID/cmdline show) with 'X', once the options are parsed, as mount.cifs
/// does: the password is then visible only for the moment the command starts.
func hidePasswordsInArgv() {
    let comma = UInt8(ascii: ","), backslash = UInt8(ascii: "\\")
    let keys = ["password=", "pass="].map { Array($0.utf8) }
    for i in 1..<Int(CommandLine.argc) {
        guard let raw = CommandLine.unsafeArgv[i] else { continue }
        let n = strlen(raw)
        let arg = UnsafeMutableRawPointer(raw).assumingMemoryBound(to: UInt8.self)
        // Option items start at the argument's start (after "-o" when joined to it) and after
        // each comma not escaped with a backslash (MountOptions.splitOptions).
        var start = n >= 2 && arg[0] == UInt8(ascii: "-") && arg[1] == UInt8(ascii: "o") ? 2 : 0
        while start < n {
            var end = start
            while end < n && arg[end] != comma {
                end += arg[end] == backslash && end + 1 < n ? 2 : 1
            }
            for key in keys where end - start >= key.count && (0..<key.count).allSatisfy({ arg[start + $0] == key[$0] }) {
                for j in (start + key.count)..<end { arg[j] = UInt8(ascii: "X") }
                break
            }
            start = end + 1
        }
    }
}
