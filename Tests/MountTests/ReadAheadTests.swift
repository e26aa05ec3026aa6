import Foundation
import XCTest

/// Read-ahead of file data (`rasize=`): what a sequential reader gets is the server's bytes,
/// whatever the sizes and jumps of its reads, and a change made meanwhile is read as changed.
/// Readers use O_DIRECT, so each read(2) reaches the mount as it is (no kernel page cache in
/// between to hide what the mount answers).
final class ReadAheadTests: ReadWriteTestCase {
    static let mib = 1 << 20

    /// Reads `path` with O_DIRECT (or plainly, for the server's own disk) in 1,228,800-byte
    /// reads, which straddle the mount's 1 MiB chunks, from the start to the end, then jumps
    /// back, then forward; prints a hash of every (offset, length, bytes).
    static let reader = #"""
        import hashlib, mmap, os, sys
        path, direct = sys.argv[1], sys.argv[2] == "direct"
        fd = os.open(path, os.O_RDONLY | (os.O_DIRECT if direct else 0))
        buf = mmap.mmap(-1, 1228800)
        h = hashlib.sha256()
        def span(off, end):
            while off < end:
                n = os.preadv(fd, [buf], off)
                h.update(b"%d:%d;" % (off, n)); h.update(buf[:n])
                if n == 0: return
                off += n
        size = os.fstat(fd).st_size
        span(0, size + 1)
        span(2 << 20, 5 << 20)
        span(20 << 20, size + 1)
        os.close(fd)
        print(h.hexdigest())
        """#

    func bigFile() -> String {
        let path = sdir + "/big"
        XCTAssertEqual(sh(#"head -c $((24 * 1048576 + 12345)) /dev/urandom > "$1" && chown "$2" "$1""#, path, env.user).status, 0)
        return path
    }

    /// Unaligned reads over a 24 MiB file, with read-ahead (the default) and without
    /// (`rasize=0`), answer the server's bytes.
    func testUnalignedSequentialReadsMatchTheServer() throws {
        let server = python(Self.reader, bigFile(), "plain")
        XCTAssertEqual(server.status, 0, server.summary)
        let mounted = python(Self.reader, mdir + "/big", "direct")
        XCTAssertEqual(mounted.status, 0, mounted.summary)
        XCTAssertEqual(mounted.stdout, server.stdout, "read-ahead answered other bytes")

        let other = makeDir("noreadahead")
        guard mountOK(at: other, options: ["credentials=\(credentials!)", "rasize=0"]) else { return }
        let plain = python(Self.reader, other + "/" + dirName + "/big", "direct")
        XCTAssertEqual(plain.stdout, server.stdout, "rasize=0 answered other bytes")
        // Buffered, as cp and cat read: the kernel's windows, then the mount's chunks.
        XCTAssertEqual(sha(mdir + "/big"), sha(sdir + "/big"))
    }

    /// A script that reads the first 4 MiB of `argv[1]` in order with O_DIRECT (the mount is
    /// then reading 8 MiB ahead of it), runs `change` through another descriptor `w` of the
    /// same mount, and then runs `then` with the reader's `fd`, `buf` and `mib`.
    static func afterReadingAhead(change: String, then: String) -> String {
        """
        import mmap, os, sys
        path, mib = sys.argv[1], 1 << 20
        fd = os.open(path, os.O_RDONLY | os.O_DIRECT)
        buf = mmap.mmap(-1, mib)
        for i in range(4):
            assert os.preadv(fd, [buf], i * mib) == mib
        w = os.open(path, os.O_WRONLY)
        \(change)
        os.close(w)
        \(then)
        os.close(fd)
        """
    }

    /// A write through the same mount at 10 MiB, from another descriptor, is read back by the
    /// reader ahead as written.
    func testAWriteThroughTheMountReachesAReaderAhead() throws {
        _ = bigFile()
        let r = python(Self.afterReadingAhead(change: "os.pwrite(w, b'N' * mib, 10 * mib)", then: """
            out = b""
            for i in range(4, 12):
                assert os.preadv(fd, [buf], i * mib) == mib
                out += buf[:]
            sys.stdout.buffer.write(out)
            """), mdir + "/big")
        XCTAssertEqual(r.status, 0, r.summary)
        let read = r.stdoutData
        XCTAssertEqual(read.count, 8 * Self.mib)
        guard read.count == 8 * Self.mib else { return }
        XCTAssertEqual(read[(6 * Self.mib)..<(7 * Self.mib)], Data(repeating: UInt8(ascii: "N"), count: Self.mib),
                       "the reader got the bytes read ahead before the write")
        let onServer = try Data(contentsOf: URL(fileURLWithPath: sdir + "/big"))
        XCTAssertEqual(read, onServer[(4 * Self.mib)..<(12 * Self.mib)], "bytes around the write")
    }

    /// The same with a truncation to 6 MiB: the reader reads 2 MiB more and then the end of
    /// the file, not chunks read before.
    func testATruncationThroughTheMountEndsAReaderAhead() throws {
        _ = bigFile()
        let r = python(Self.afterReadingAhead(change: "os.ftruncate(w, 6 * mib)",
                                              then: "print([os.preadv(fd, [buf], i * mib) for i in range(4, 9)])"),
                       mdir + "/big")
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "[\(Self.mib), \(Self.mib), 0, 0, 0]\n")
    }

    /// The mount's own count of reads: answered from memory (read ahead, or read with the
    /// open), and sent to the server as READs.
    func readCounts() -> (memory: Int, server: Int) {
        let reads = (status()?["cache"] as? [String: [String: Int]])?["reads"] ?? [:]
        return (reads["hits"] ?? -1, reads["misses"] ?? -1)
    }

    /// A file opened for reading is read with its CREATE, in one compound: `cat` of a small
    /// file sends no READ of its own. What is read is the server's bytes: a small file, an
    /// empty one, one that ends past the first 1 MiB, one of exactly 1 MiB; and, after another
    /// client changed the small file, the new bytes.
    func testFilesOpenedForReadingAreReadWithTheOpen() throws {
        XCTAssertEqual(sh(#"""
            cd "$1" && printf 'hello\n' > small && : > empty && head -c 1048576 /dev/urandom > exact &&
            head -c $((1048576 + 4097)) /dev/urandom > over && chown "$2" small empty exact over
            """#, sdir, env.user).status, 0)
        let before = readCounts()
        XCTAssertEqual(sh(#"cat "$1/small""#, mdir).stdout, "hello\n")
        let after = readCounts()
        XCTAssertEqual(after.server, before.server, "cat of a 6-byte file sent a READ besides the open's")
        XCTAssertGreaterThan(after.memory, before.memory, "cat of a 6-byte file was not answered with the open")
        XCTAssertEqual(sh(#"cat "$1/empty" | wc -c"#, mdir).stdout, "0\n")
        for name in ["exact", "over"] {
            XCTAssertEqual(sha(mdir + "/" + name), sha(sdir + "/" + name), name)
            XCTAssertEqual(python(Self.reader, mdir + "/" + name, "direct").stdout,
                           python(Self.reader, sdir + "/" + name, "plain").stdout, "\(name) read with O_DIRECT")
        }

        let other = makeDir("second")
        guard mountOK(at: other, options: ["credentials=\(credentials!)"]) else { return }
        XCTAssertEqual(sh(#"printf 'changed by another client\n' > "$1/small""#, other + "/" + dirName).status, 0)
        XCTAssertEqual(sh(#"cat "$1/small""#, mdir).stdout, "changed by another client\n")
    }

    /// `direct_io`: buffered reads (the kernel would otherwise cache them) and writes are the
    /// server's bytes, read-ahead included; a shared mmap is refused with ENODEV, as the man
    /// page says, and a private one reads the file.
    func testDirectIOReadsWritesAndMaps() throws {
        let server = python(Self.reader, bigFile(), "plain")
        XCTAssertEqual(server.status, 0, server.summary)
        let other = makeDir("directio")
        guard mountOK(at: other, options: ["credentials=\(credentials!)", "direct_io"]) else { return }
        let file = other + "/" + dirName + "/big"
        let mounted = python(Self.reader, file, "plain")
        XCTAssertEqual(mounted.status, 0, mounted.summary)
        XCTAssertEqual(mounted.stdout, server.stdout, "direct_io answered other bytes")

        let copy = other + "/" + dirName + "/copy"
        XCTAssertEqual(sh(#"cp "$1" "$2""#, file, copy).status, 0)
        XCTAssertEqual(sha(sdir + "/copy"), sha(sdir + "/big"))

        let maps = python("""
            import errno, hashlib, mmap, os, sys
            fd = os.open(sys.argv[1], os.O_RDONLY)
            try:
                mmap.mmap(fd, 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ)
                print("shared mapped")
            except OSError as e:
                print("shared", errno.errorcode[e.errno])
            m = mmap.mmap(fd, 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ)
            print("private", hashlib.sha256(m[:]).hexdigest())
            """, file)
        XCTAssertEqual(maps.status, 0, maps.summary)
        XCTAssertEqual(maps.stdout, "shared ENODEV\nprivate \(sha(sdir + "/big"))\n")
    }
}

/// rasize= values that cannot be right: one line naming the value.
final class ReadAheadOptionTests: MountTestCase {
    override var mountsInSetUp: Bool { false }

    func testBadRasize() {
        for v in ["-1", "67108865", "lots"] {
            let r = mount(options: ["credentials=\(credentials!)", "rasize=\(v)"])
            assertCleanFailure(r, "rasize=\(v)")
            XCTAssertEqual(r.stderrLines, ["smb3fs: bad rasize \"\(v)\": expected bytes from 0 to 67108864"])
        }
    }
}
