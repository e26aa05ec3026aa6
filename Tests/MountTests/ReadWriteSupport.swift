// Support for the read-write mount tests (issue 3): a `-o rw` mount, a fresh server-side
// directory per test, checksums on both sides and errno probes.
import Foundation
import XCTest

/// Mounts the rw share with `-o rw` and gives each test its own fresh directory, created
/// server-side (owned by the Samba user, so the server may write in it) and removed
/// server-side in tearDown.
class ReadWriteTestCase: MountTestCase {
    override var setUpOptions: [String] { ["rw"] }

    /// Name of this test's directory in the share (unique per test run).
    var dirName: String!
    /// Server-side path of this test's directory.
    var sdir: String!
    /// The same directory through the setUp mount.
    var mdir: String!

    override func setUpWithError() throws {
        try super.setUpWithError()
        let test = name.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).joined(separator: "-")
        dirName = "rw-" + test + "-" + UUID().uuidString.prefix(8).lowercased()
        sdir = env.sharePath + "/" + dirName
        mdir = mnt + "/" + dirName
        let r = serverDir(sdir)
        guard r.status == 0 else {
            XCTFail("creating \(sdir!) server-side: \(r.summary)")
            throw SetUpFailed(what: "server-side test directory")
        }
    }

    override func tearDownWithError() throws {
        if let sdir { sh(#"rm -rf --one-file-system -- "$1""#, sdir, timeout: 600) }
        try super.tearDownWithError()
    }

    /// Creates `path` (and parents) server-side, owned by the Samba user, mode 0755.
    @discardableResult
    func serverDir(_ path: String) -> ProcResult {
        sh(#"mkdir -p -- "$1" && chown -- "$2" "$1" && chmod 0755 -- "$1""#, path, env.user)
    }

    /// st_size as stat(1) prints it, or a description of the failure.
    func size(_ path: String) -> String {
        let r = sh(#"stat -c %s -- "$1""#, path)
        return r.status == 0 ? r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : "stat failed: \(r.summary)"
    }

    /// Asserts that `mountPath` (read through the mount) and `serverPath` (read from the
    /// server's disk) both have the bytes of `expectedPath` (a local file) — by size and sha256.
    func assertSameBytes(mount mountPath: String, server serverPath: String, expected expectedPath: String,
                         _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        // One process for the three files: "size sha256" per file.
        let r = sh(#"for f in "$@"; do printf '%s %s\n' "$(stat -c %s -- "$f")" "$(sha256sum < "$f" | cut -c1-64)"; done"#,
                   expectedPath, serverPath, mountPath)
        let l = r.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard l.count == 4, r.status == 0 else {
            return XCTFail("\(what): size and sha256 of the three files: \(r.summary)", file: file, line: line)
        }
        XCTAssertEqual(l[1], l[0], "\(what): size and sha256 on the server vs expected", file: file, line: line)
        XCTAssertEqual(l[2], l[0], "\(what): size and sha256 through the mount vs expected", file: file, line: line)
    }

    /// Runs a Python body after `probePrelude` and returns its "name RESULT" lines as a map.
    /// RESULT is OK or the errno name (ENOENT, ...).
    func probe(_ body: String, _ args: String..., file: StaticString = #filePath, line: UInt = #line)
        -> [String: String] {
        let r = runCmd(["python3", "-c", Self.probePrelude + "\n" + body] + args, timeout: 120)
        XCTAssertEqual(r.status, 0, "probe script: \(r.summary)", file: file, line: line)
        var out: [String: String] = [:]
        for l in r.stdout.split(separator: "\n") {
            let f = l.split(separator: " ", maxSplits: 1).map(String.init)
            if f.count == 2 { out[f[0]] = f[1] }
        }
        return out
    }

    /// `attempt(name, f)` prints "name OK" or "name ERRNO"; `renameat2(a, b, flags)` raises
    /// OSError like os.rename; RENAME_NOREPLACE is defined.
    static let probePrelude = #"""
        import ctypes, errno, os, sys
        RENAME_NOREPLACE = 1
        _libc = ctypes.CDLL(None, use_errno=True)
        def renameat2(a, b, flags):
            r = _libc.renameat2(-100, os.fsencode(a), -100, os.fsencode(b), ctypes.c_uint(flags))
            if r != 0:
                e = ctypes.get_errno()
                raise OSError(e, os.strerror(e), a)
        def attempt(name, f):
            try:
                f()
                print(name, "OK", flush=True)
            except OSError as e:
                print(name, errno.errorcode.get(e.errno, str(e.errno)), flush=True)
        def create(path, data=b"", flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC):
            fd = os.open(path, flags, 0o644)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
        """#

    /// Asserts probe results: each name maps to one of the accepted results.
    func assertProbe(_ got: [String: String], _ want: [String: Set<String>],
                     file: StaticString = #filePath, line: UInt = #line) {
        for (name, accepted) in want.sorted(by: { $0.key < $1.key }) {
            guard let result = got[name] else {
                XCTFail("\(name): no result (probe output: \(got))", file: file, line: line)
                continue
            }
            XCTAssertTrue(accepted.contains(result),
                          "\(name): got \(result), want \(accepted.sorted().joined(separator: " or "))",
                          file: file, line: line)
        }
    }

    /// smbclient against the test share as the test user.
    func smbclient(_ command: String, share: String? = nil, timeout: TimeInterval = 300) -> ProcResult {
        runCmd(["smbclient", "//\(env.host)/\(share ?? env.share)", "-U", "\(env.user)%\(env.password)",
                "-c", command], timeout: timeout)
    }

    /// The DOS attribute letters smbclient's `allinfo` shows for a share-relative path ("R",
    /// "A", "RA", ...), or nil when it cannot tell.
    func dosAttributes(_ sharePath: String) -> String? {
        let r = smbclient("allinfo \"\(sharePath)\"")
        guard r.status == 0 else { return nil }
        for l in r.stdout.split(separator: "\n") where l.hasPrefix("attributes:") {
            // "attributes: RA (21)"
            let rest = l.dropFirst("attributes:".count)
            return String(rest.split(separator: "(").first ?? "").trimmingCharacters(in: .whitespaces)
        }
        return nil
    }
}

/// A local tree (outside the mount) of ≥ 3,000 small files for the tool tests, made once per
/// test run: nested directories, sizes 0 .. 20 KiB, names with spaces and UTF-8 (NFC, none
/// of the characters SMB forbids, no two names differing only in case).
enum LocalTree {
    static let fileCount = 3_040

    static func make(_ env: TestEnv) throws -> String {
        let dir = env.tmp + "/rw-local-tree"
        let marker = dir + ".done"
        if FileManager.default.fileExists(atPath: marker) { return dir }
        let r = runCmd(["python3", "-c", #"""
            import os, random, shutil, sys
            root = sys.argv[1]
            shutil.rmtree(root, ignore_errors=True)
            rnd = random.Random(20240503)
            tops = ["alpha", "beta gamma", "Ünïcödé ñame", "日本語", "émoji ☃ snow", "deep"]
            n = 0
            def write(path):
                global n
                size = rnd.choice([0, 1, 2, 100, 511, 512, 4095, 4096, 4097, rnd.randrange(20 * 1024 + 1)])
                with open(path, "wb") as f:
                    f.write(rnd.randbytes(size))
                n += 1
            for t, top in enumerate(tops):
                for s in range(8):
                    sub = os.path.join(root, top, "sub %d ü" % s if s % 2 else "sub%d" % s)
                    if t == 5:
                        sub = os.path.join(root, top, *["level %d" % k for k in range(s + 1)])
                    os.makedirs(sub, exist_ok=True)
                    for i in range(63):
                        name = ["file %03d.txt", "fïlé-%03d", "数据_%03d.bin", "dot.%03d.", "x%03d"][i % 5] % i
                        if name.endswith("."):
                            name += "end"
                        write(os.path.join(sub, name))
            os.makedirs(os.path.join(root, "empty dir", "empty child"), exist_ok=True)
            for i in range(16):
                write(os.path.join(root, "top level %02d" % i))
            write(os.path.join(root, ".hidden file"))
            print(n)
            """#, dir], timeout: 300)
        let count = Int(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        guard r.status == 0, count >= 3_000 else {
            XCTFail("generating the local tree: \(r.summary)")
            throw SetUpFailed(what: "local tree")
        }
        _ = FileManager.default.createFile(atPath: marker, contents: nil)
        return dir
    }
}

/// Compares two multi-line texts byte for byte (as assertSameLines does) and names both sides
/// in the failure: the first 10 lines only in each.
func assertSameText(_ actual: String, _ expected: String, _ what: String, actualName: String,
                    expectedName: String, file: StaticString = #filePath, line: UInt = #line) {
    if Array(actual.utf8) == Array(expected.utf8) { return }
    let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
    let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let aSet = Set(a.map { Array($0.utf8) }), eSet = Set(e.map { Array($0.utf8) })
    let onlyA = a.filter { !eSet.contains(Array($0.utf8)) }
    let onlyE = e.filter { !aSet.contains(Array($0.utf8)) }
    XCTFail("""
        \(what) differs: \(actualName) has \(a.count) lines, \(expectedName) \(e.count); \
        \(onlyA.count) lines only in \(actualName), \(onlyE.count) only in \(expectedName)
        only in \(actualName) (first 10): \(onlyA.prefix(10).map { "[\($0)]" }.joined(separator: " "))
        only in \(expectedName) (first 10): \(onlyE.prefix(10).map { "[\($0)]" }.joined(separator: " "))
        """, file: file, line: line)
}
