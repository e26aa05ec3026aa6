#if canImport(Glibc)
import Glibc
#endif

/// A mount.cifs credentials file: "username=", "password=", "domain=" lines.
struct CredentialsFile {
    var username: String?
    var password: String?
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
        defer { for i in bytes.indices { bytes[i] = 0 } }
        return try parse(bytes, path: path)
    }

    static func parse(_ bytes: [UInt8], path: String) throws -> CredentialsFile {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw UsageError("credentials file \(path) is not UTF-8 text")
        }
        var c = CredentialsFile()
        for (n, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(rawLine)
            if line.hasSuffix("\r") { line = line.dropLast() }
            let trimmed = line.drop(while: { $0 == " " || $0 == "\t" })
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let eq = trimmed.firstIndex(of: "=") else {
                throw UsageError("credentials file \(path), line \(n + 1): expected key=value")
            }
            let key = trimmed[..<eq].trimmingSpaces()
            let value = String(trimmed[trimmed.index(after: eq)...])
            switch key {
            case "username", "user": c.username = value.trimmingSpaces()
            case "password", "pass": c.password = value
            case "domain", "dom", "workgroup": c.domain = value.trimmingSpaces()
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
