import Foundation
import XCTest

/// File contents read through the mount equal the server's bytes.
final class ContentTests: MountTestCase {
    static let sizes = [0, 1, 65_535, 65_536, 65_537, 10 * 1024 * 1024]

    func contentFixture() throws -> String {
        try ensureFixture(env, "mt-content", script: """
            for n in \(Self.sizes.map(String.init).joined(separator: " ")); do
              head -c "$n" /dev/urandom > "size-$n"
            done
            """)
    }

    func testChecksumsOfSmallAndMediumFiles() throws {
        let dir = try contentFixture()
        let sums = #"cd -- "$1" && LC_ALL=C sha256sum -- size-*"#
        let server = sh(sums, dir), mounted = sh(sums, mnt + "/mt-content")
        XCTAssertEqual(server.stdoutData.lines.count, Self.sizes.count, server.summary)
        XCTAssertEqual(mounted.status, 0, mounted.summary)
        assertSameLines(mounted.stdout, server.stdout, "sha256sum")

        for n in Self.sizes {
            let name = "size-\(n)"
            // cat (read(2) with its own buffer size) and the size the kernel reports.
            let viaCat = sh(#"cat -- "$1" | sha256sum"#, mnt + "/mt-content/" + name)
            let expected = sh(#"sha256sum < "$1""#, dir + "/" + name)
            XCTAssertEqual(viaCat.status, 0, viaCat.summary)
            XCTAssertEqual(viaCat.stdout, expected.stdout, "cat \(name) | sha256sum")
            XCTAssertEqual(sh(#"stat -c %s -- "$1""#, mnt + "/mt-content/" + name).stdout, "\(n)\n",
                           "stat size of \(name)")
            XCTAssertEqual(sh(#"wc -c < "$1""#, mnt + "/mt-content/" + name).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines), "\(n)", "wc -c \(name)")
        }
    }

    /// pread at odd offsets and lengths (around 64 KiB boundaries, past EOF, large spans).
    func testRandomReadsMatchServer() throws {
        let dir = try contentFixture()
        let script = #"""
            import hashlib, os, random, sys
            path = sys.argv[1]
            size = os.path.getsize(path)
            r = random.Random(42)
            spans = [(0, 1), (65535, 2), (65536, 65536), (131071, 3), (size - 1, 10), (size, 10),
                     (size + 4096, 1), (1, 1048576), (1048575, 1048577)]
            spans += [(r.randrange(size), r.choice([1, 7, 4096, 65537, 300000])) for _ in range(60)]
            fd = os.open(path, os.O_RDONLY)
            h = hashlib.sha256()
            for off, n in spans:
                b = os.pread(fd, n, off)
                h.update(b"%d:%d:%d;" % (off, n, len(b)))
                h.update(b)
            os.close(fd)
            print(h.hexdigest())
            """#
        let name = "size-\(10 * 1024 * 1024)"
        let server = python(script, dir + "/" + name)
        let mounted = python(script, mnt + "/mt-content/" + name)
        XCTAssertEqual(server.status, 0, server.summary)
        XCTAssertEqual(mounted.status, 0, mounted.summary)
        XCTAssertEqual(mounted.stdout, server.stdout, "pread results")
    }

    /// The 1 GiB file: dd through the mount, sha256sum through the mount, and smbclient's
    /// `get` of the same file for comparison (both rates are printed).
    func testOneGiBFile() throws {
        let dir = try ensureFixture(env, "mt-big", script: "head -c 1G /dev/urandom > big-1GiB")
        let file = mnt + "/mt-big/big-1GiB"

        var t = Date()
        let dd = runCmd(["dd", "if=" + file, "of=/dev/null", "bs=1M"], timeout: 900)
        let ddSeconds = Date().timeIntervalSince(t)
        XCTAssertEqual(dd.status, 0, dd.summary)
        XCTAssertTrue(dd.stderr.contains("1073741824 bytes"), dd.summary)

        let server = sh(#"sha256sum < "$1""#, dir + "/big-1GiB", timeout: 900)
        t = Date()
        let mounted = sh(#"sha256sum < "$1""#, file, timeout: 900)
        let shaSeconds = Date().timeIntervalSince(t)
        XCTAssertEqual(mounted.status, 0, mounted.summary)
        XCTAssertEqual(mounted.stdout, server.stdout, "sha256sum of the 1 GiB file")

        t = Date()
        let get = runCmd(["smbclient", "//\(env.host)/\(env.share)", "-U", "\(env.user)%\(env.password)",
                       "-c", "get mt-big/big-1GiB /dev/null"], timeout: 900)
        let getSeconds = Date().timeIntervalSince(t)
        let mib = 1024.0
        print(String(format: "MountTests: 1 GiB: dd bs=1M via smb3fs %.0f MiB/s (%.1f s); "
                     + "sha256sum via smb3fs %.0f MiB/s; smbclient get %.0f MiB/s (%.1f s, status %d)",
                     mib / ddSeconds, ddSeconds, mib / shaSeconds, mib / getSeconds, getSeconds, get.status))
    }
}
