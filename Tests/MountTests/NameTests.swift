import Foundation
import XCTest

/// Names are UTF-8 strings, passed through untouched: no percent-decoding, no Unicode
/// normalization (NFC and NFD spellings are two different files), no quoting.
final class NameTests: MountTestCase {
    /// Python literals (escapes keep NFC/NFD apart in this source file).
    static let pythonNames = #"""
        names = [
            "with space.txt", "  two  spaces  inside.txt", "it's.txt", "a@b.txt", "100%.txt",
            "a%40b.txt", "%zz%", "#hash.txt", "a&b+c=d.txt", "semi;colon", "comma,name",
            "brace{}[]()", "tilde~1", "dollar$HOME", "back`tick`", "!bang", "-leading-dash",
            "Gr\u00fc\u00dfe.txt", "\u65e5\u672c\u8a9e.txt", "emoji-\U0001F600.txt",
            "caf\u00e9-nfc.txt", "cafe\u0301-nfd.txt", "caf\u00e9", "cafe\u0301",
            "\u00c5ngstr\u00f6m \u2013 \u00bd \u20ac", "\u0645\u0631\u062d\u0628\u0627", "x" * 200,
            "Verzeichnis Gr\u00fc\u00dfe \u65e5\u672c",
        ]
        """#

    func namesFixture() throws -> String {
        let writer = #"""
            for i, n in enumerate(names):
                if n.startswith("Verzeichnis"):
                    os.mkdir(n)
                    with open(os.path.join(n, "inne\u0301n \u00fc.txt"), "wb") as f:
                        f.write(("inside " + n + "\n").encode())
                    continue
                with open(n, "wb") as f:
                    f.write((n + "\n").encode() * (i + 1) + os.urandom(i * 100))
            """#
        return try ensureFixture(env, "mt-names", script: "python3 - <<'EOF'\nimport os\n"
                                 + Self.pythonNames + "\n" + writer + "\nEOF")
    }

    func testNamesAppearIdenticalInLs() throws {
        let dir = try namesFixture()
        let list = #"cd -- "$1" && LC_ALL=C ls -1A | LC_ALL=C sort"#
        let server = sh(list, dir), mounted = sh(list, mnt + "/mt-names")
        XCTAssertEqual(mounted.status, 0, mounted.summary)
        XCTAssertEqual(server.stdoutData.lines.count, 28, "fixture names: \(server.stdout)")
        XCTAssertEqual(mounted.stdoutData, server.stdoutData, """
            ls -1A differs (bytes):
            mount:  \(mounted.stdoutData.lines.map { [UInt8]($0) })
            server: \(server.stdoutData.lines.map { [UInt8]($0) })
            """)
        // The same through Python's byte-level listdir, and both NFC and NFD are present.
        let listdir = #"import os, sys; print(sorted(os.listdir(os.fsencode(sys.argv[1]))))"#
        XCTAssertEqual(python(listdir, mnt + "/mt-names").stdout, python(listdir, dir).stdout)
        let both = #"import os, sys; d = os.listdir(sys.argv[1]); print("caf\u00e9" in d, "cafe\u0301" in d)"#
        XCTAssertEqual(python(both, mnt + "/mt-names").stdout, "True True\n")
    }

    func testEveryNameIsReadableWithIdenticalContent() throws {
        let dir = try namesFixture()
        let sums = #"cd -- "$1" && LC_ALL=C find . -type f -exec sha256sum -- {} + | LC_ALL=C sort -k 2"#
        let server = sh(sums, dir), mounted = sh(sums, mnt + "/mt-names")
        XCTAssertEqual(mounted.status, 0, mounted.summary)
        XCTAssertEqual(server.stdoutData.lines.count, 28)
        assertSameLines(mounted.stdout, server.stdout, "sha256sum of every name")

        // Open each name directly by its path (a LOOKUP for that exact name) and compare.
        let compare = #"""
            import os, sys
            srv, mnt = os.fsencode(sys.argv[1]), os.fsencode(sys.argv[2])
            bad = []
            for root, dirs, files in os.walk(srv):
                for f in files:
                    rel = os.path.relpath(os.path.join(root, f), srv)
                    try:
                        with open(os.path.join(mnt, rel), "rb") as m, open(os.path.join(srv, rel), "rb") as s:
                            if m.read() != s.read(): bad.append((rel, "content"))
                        if os.stat(os.path.join(mnt, rel)).st_size != os.stat(os.path.join(srv, rel)).st_size:
                            bad.append((rel, "size"))
                    except OSError as e:
                        bad.append((rel, e.strerror))
            print(bad)
            """#
        let r = python(compare, dir, mnt + "/mt-names")
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "[]\n", "names that did not read back identically")
    }
}
