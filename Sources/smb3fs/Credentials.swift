#if canImport(Glibc)
import Glibc
#endif
import SMBCrypto

/// A mount.cifs credentials file: "username=", "password=", "domain=" lines. The password
/// stays bytes (never a String, which could not be wiped); the caller wipes it once used.
struct CredentialsFile {
    var username: String?
    var password: [UInt8]?
    var domain: String?

    /// Larger files are not credentials files.
    static let maxSize = 64 * 1024

    static func load(_ path: String) throws -> CredentialsFile {
        guard let f = fopen(path, "r") else {
            throw UsageError("cannot read credentials file \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(f) }
        var st = stat()
        if fstat(fileno(f), &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFREG else { throw UsageError("credentials file \(path) is not a regular file") }
            guard st.st_size <= maxSize else { throw UsageError("credentials file \(path) is too large") }
            // As ssh does with private keys: a password others can read is not one to send.
            guard st.st_mode & 0o077 == 0 else {
                throw UsageError("credentials file \(path) can be read by \(st.st_mode & 0o007 != 0 ? "others" : "its group")"
                                 + " (mode \(String(st.st_mode & 0o777, radix: 8))); make it private: chmod 600 \(path)")
            }
        }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n > 0 { bytes += buf[0..<n] }
            if n < buf.count {
                if ferror(f) != 0 { throw UsageError("cannot read credentials file \(path): \(String(cString: strerror(errno)))") }
                break
            }
            if bytes.count > maxSize { throw UsageError("credentials file \(path) is too large") }
        }
        defer { Secret.wipe(&bytes) }
        return try parse(bytes, path: path)
    }

    static func parse(_ bytes: [UInt8], path: String) throws -> CredentialsFile {
        var c = CredentialsFile()
        let space: Set<UInt8> = [0x20, 0x09]
        for (n, rawLine) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            var line = rawLine[...]
            if line.last == 0x0D { line = line.dropLast() }
            let trimmed = line.drop(while: { space.contains($0) })
            if trimmed.isEmpty || trimmed.first == UInt8(ascii: "#") { continue }
            guard let eq = trimmed.firstIndex(of: UInt8(ascii: "=")) else {
                throw UsageError("credentials file \(path), line \(n + 1): expected key=value")
            }
            guard let key = String(validating: trimmed[..<eq], as: UTF8.self)?.trimmingSpaces() else {
                throw UsageError("credentials file \(path), line \(n + 1) is not UTF-8 text")
            }
            let raw = trimmed[trimmed.index(after: eq)...]
            func text() throws -> String {
                guard let v = String(validating: raw, as: UTF8.self) else {
                    throw UsageError("credentials file \(path), line \(n + 1) is not UTF-8 text")
                }
                return v.trimmingSpaces()
            }
            switch key {
            case "username", "user": c.username = try text()
            case "password", "pass":
                let invalid = transcode(raw.makeIterator(), from: UTF8.self, to: UTF32.self, stoppingOnError: true) { _ in }
                guard !invalid else { throw UsageError("credentials file \(path), line \(n + 1) is not UTF-8 text") }
                if var old = c.password { Secret.wipe(&old) }
                c.password = Array(raw)
            case "domain", "dom", "workgroup": c.domain = try text()
            default: throw UsageError("credentials file \(path), line \(n + 1): unknown key \"\(key)\"")
            }
        }
        return c
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
