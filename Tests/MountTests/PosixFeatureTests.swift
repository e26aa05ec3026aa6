// Issue 3's POSIX features beyond plain reading and writing: symlinks, hard links, xattrs,
// unlink of an open file, locks between two clients, server-side copy, fallocate, names SMB
// forbids; and the tools that need them (git, sqlite3, mmap).
import Foundation
import XCTest

final class PosixFeatureTests: ReadWriteTestCase {
    func testSymlinksAreMinshallFrenchFilesAndResolve() {
        let r = sh(#"""
            set -e; cd "$1"
            echo target-data > t.txt
            ln -s t.txt rel
            ln -s ../../nowhere/x dangling
            ln -s "$1/t.txt" absolute
            printf '%s|%s|%s\n' "$(readlink rel)" "$(readlink dangling)" "$(cat rel)"
            stat -c '%F %s' rel
            test -L dangling && ! test -e dangling && echo dangling-ok
            cat absolute
            """#, mdir)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "t.txt|../../nowhere/x|target-data\nsymbolic link 5\ndangling-ok\ntarget-data\n")
        // On the server each link is a 1067-byte XSym file any cifs client can read.
        let s = sh(#"stat -c %s "$1/rel"; head -c 5 "$1/rel""#, sdir)
        XCTAssertEqual(s.stdout, "1067\nXSym\n")
        let rm = sh(#"rm "$1/rel" "$1/dangling" "$1/absolute" && ls -A "$1""#, mdir)
        XCTAssertEqual(rm.stdout, "t.txt\n", rm.summary)
    }

    func testHardLinksShareContent() {
        let r = sh(#"""
            set -e; cd "$1"
            echo one > a
            ln a b
            echo two >> b
            stat -c '%h' a; cat a
            [ "$(stat -c %i a)" = "$(stat -c %i b)" ] && echo same-inode
            rm a; cat b; stat -c %h b
            """#, mdir)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "2\none\ntwo\nsame-inode\none\ntwo\n1\n")
        XCTAssertEqual(sh(#"stat -c %h "$1/b""#, sdir).stdout, "1\n")
    }

    /// The name made last (the one the mount knew the file by) removed, or renamed away, the
    /// file stays reachable at once by its other names, as `ln` then `rm` of the new name does
    /// in every build and package tool. Each step is checked before any cache could expire.
    func testRemovingTheNewestNameOfAHardLinkKeepsTheOthers() {
        let r = sh(#"""
            set -e; cd "$1"
            echo one > a
            ln a b; stat -c %h b
            rm b; cat a; stat -c %h a
            ln a c; ln c d; stat -c %h a
            rm d; cat c; rm c; cat a; stat -c %h a
            ln a e; mkdir sub; mv e sub/e; rm a; cat sub/e; stat -c %h sub/e
            ln sub/e f; mv sub moved; rm f; cat moved/e
            """#, mdir)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "2\none\n1\n3\none\none\n1\none\n1\none\n")
        XCTAssertEqual(sh(#"ls -R "$1""#, sdir).stdout, "\(sdir!):\nmoved\n\n\(sdir!)/moved:\ne\n")
    }

    func testUserExtendedAttributes() {
        let got = probe(#"""
            p = sys.argv[1] + "/x"
            create(p, b"data")
            attempt("set", lambda: os.setxattr(p, "user.color", b"blue"))
            attempt("set2", lambda: os.setxattr(p, "user.size", b"42"))
            print("get", os.getxattr(p, "user.color").decode())
            print("list", ",".join(sorted(os.listxattr(p))))
            attempt("create_existing", lambda: os.setxattr(p, "user.color", b"red", os.XATTR_CREATE))
            attempt("replace_missing", lambda: os.setxattr(p, "user.none", b"1", os.XATTR_REPLACE))
            attempt("remove", lambda: os.removexattr(p, "user.color"))
            attempt("get_removed", lambda: os.getxattr(p, "user.color"))
            attempt("trusted", lambda: os.setxattr(p, "trusted.x", b"1"))
            attempt("security_get", lambda: os.getxattr(p, "security.selinux"))
            attempt("acl_get", lambda: os.getxattr(p, "system.posix_acl_access"))
            """#, mdir)
        assertProbe(got, ["set": ["OK"], "set2": ["OK"], "get": ["blue"], "list": ["user.color,user.size"],
                          "create_existing": ["EEXIST"], "replace_missing": ["ENODATA"], "remove": ["OK"],
                          // ENOTSUP and EOPNOTSUPP are the same value on Linux.
                          "get_removed": ["ENODATA"], "trusted": ["EOPNOTSUPP", "ENOTSUP"],
                          // Only user.* exists on a share; ls -l stops asking a device that says so.
                          "security_get": ["EOPNOTSUPP", "ENOTSUP"], "acl_get": ["EOPNOTSUPP", "ENOTSUP"]])
        // A second mount (another SMB session) sees what the server stored.
        let second = makeDir("mnt2")
        guard mountOK(at: second, options: ["credentials=\(credentials!)"]) else { return }
        let again = sh(#"getfattr --only-values -n user.size "$1/x""#, second + "/" + dirName)
        XCTAssertEqual(again.stdout, "42", again.summary)
    }

    func testUnlinkWhileOpenKeepsTheDescriptor() {
        let got = probe(#"""
            d = sys.argv[1]
            fd = os.open(d + "/u", os.O_RDWR | os.O_CREAT, 0o644)
            os.write(fd, b"before ")
            os.unlink(d + "/u")
            print("gone", "yes" if not os.path.exists(d + "/u") else "no")
            print("listed", ",".join(os.listdir(d)) or "-")
            os.write(fd, b"after")
            print("read", os.pread(fd, 100, 0).decode().replace(" ", "_"))
            print("nlink", os.fstat(fd).st_nlink)
            create(d + "/u", b"new")
            os.close(fd)
            print("new", open(d + "/u").read())
            """#, mdir)
        assertProbe(got, ["gone": ["yes"], "listed": ["-"], "read": ["before_after"], "nlink": ["0"], "new": ["new"]])
        // Once closed, nothing of the old file is left on the server.
        XCTAssertEqual(sh(#"ls -A "$1""#, sdir).stdout, "u\n")
    }

    /// Two mounts are two SMB clients: an fcntl lock held by one blocks the other.
    func testLocksContendBetweenTwoClients() {
        let second = makeDir("mnt2")
        guard mountOK(at: second, options: ["credentials=\(credentials!)", "rw"]) else { return }
        XCTAssertEqual(sh(#"echo x > "$1/lockf""#, mdir).status, 0)
        let r = runCmd(["python3", "-c", #"""
            import fcntl, os, subprocess, sys, time
            a = open(sys.argv[1] + "/lockf", "r+")
            fcntl.lockf(a, fcntl.LOCK_EX)
            child = subprocess.Popen([sys.executable, "-c", """
            import fcntl, sys, time
            b = open(sys.argv[1] + '/lockf', 'r+')
            try:
                fcntl.lockf(b, fcntl.LOCK_EX | fcntl.LOCK_NB)
                print('nonblocking granted', flush=True)
            except OSError as e:
                print('nonblocking', e.errno, flush=True)
            print('waiting', flush=True)
            fcntl.lockf(b, fcntl.LOCK_EX)
            print('granted', flush=True)
            """, sys.argv[2]], stdout=subprocess.PIPE, bufsize=0)
            line = lambda: child.stdout.readline().decode().strip()   # unbuffered: nothing read ahead
            assert line() == "nonblocking 11"
            assert line() == "waiting"
            # The child is blocked in F_SETLKW until this client unlocks: nothing more for a second.
            import select
            early, _, _ = select.select([child.stdout], [], [], 1.0)
            print("blocked" if not early and child.poll() is None else "not blocked", flush=True)
            fcntl.lockf(a, fcntl.LOCK_UN)
            print(line())
            child.wait()
            fcntl.flock(a, fcntl.LOCK_SH)
            r = subprocess.run([sys.executable, "-c", "import fcntl,sys\nb=open(sys.argv[1]+'/lockf')\ntry:\n fcntl.flock(b, fcntl.LOCK_EX|fcntl.LOCK_NB); print('flock granted')\nexcept OSError as e: print('flock', e.errno)", sys.argv[2]], capture_output=True, text=True)
            print(r.stdout.strip())
            """#, mdir, second + "/" + dirName], timeout: 120)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, "blocked\ngranted\nflock 11\n", r.summary)
    }

    func testCopyFileRangeAndFallocate() {
        let got = probe(#"""
            d = sys.argv[1]
            data = os.urandom(3 * 1048576 + 5)
            create(d + "/src", data)
            s = os.open(d + "/src", os.O_RDONLY)
            t = os.open(d + "/dst", os.O_RDWR | os.O_CREAT, 0o644)
            os.pwrite(t, b"H" * 10, 0)
            n = os.copy_file_range(s, t, len(data) + 100, 0, 10)
            print("copied", n)
            print("content", "same" if open(d + "/dst", "rb").read() == b"H" * 10 + data else "different")
            n = os.copy_file_range(s, t, 100, len(data) - 10, 0)
            print("tail", n)
            os.close(s); os.close(t)
            f = os.open(d + "/fa", os.O_RDWR | os.O_CREAT, 0o644)
            os.write(f, b"y" * 8192)
            os.posix_fallocate(f, 0, 1 << 20)
            print("grown", os.fstat(f).st_size)
            # fallocate(2) itself (posix_fallocate may fall back to writing zeros in glibc).
            libc = ctypes.CDLL(None, use_errno=True)
            r = libc.fallocate(f, 0, ctypes.c_long(0), ctypes.c_long(2 << 20))
            print("fallocate", "OK" if r == 0 else errno.errorcode[ctypes.get_errno()], os.fstat(f).st_size)
            os.ftruncate(f, 1 << 20)
            FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE = 1, 2
            r = ctypes.CDLL(None, use_errno=True).fallocate(f, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, ctypes.c_long(4096), ctypes.c_long(4096))
            print("punch", "OK" if r == 0 else errno.errorcode[ctypes.get_errno()])
            print("zeroed", "yes" if os.pread(f, 4096, 4096) == bytes(4096) and os.pread(f, 10, 0) == b"y" * 10 else "no")
            print("size", os.fstat(f).st_size)
            os.close(f)
            """#, mdir)
        assertProbe(got, ["copied": ["3145733"], "content": ["same"], "tail": ["10"], "grown": ["1048576"],
                          "fallocate": ["OK 2097152"], "punch": ["OK"], "zeroed": ["yes"], "size": ["1048576"]])
        XCTAssertEqual(sha(sdir + "/src"), sha(mdir + "/src"))
        // What the server holds: the copy after the first 10 bytes, which the tail copy (the
        // source's last 10 bytes to offset 0) replaced; the punched range zero.
        let server = runCmd(["python3", "-c", #"""
            import sys
            src, dst, fa = (open(sys.argv[1] + n, "rb").read() for n in ("/src", "/dst", "/fa"))
            print(dst == src[-10:] + src, len(fa), fa[4096:8192] == bytes(4096), fa[:4096] == b"y" * 4096)
            """#, sdir])
        XCTAssertEqual(server.stdout, "True 1048576 True True\n", server.summary)
    }

    func testNamesSMBForbidsRoundTrip() {
        let names = ["a:b", "q?x", "st*r", "p|pe", "lt<gt>", "quo\"te", "back\\slash", "trail ", "dot."]
        let script = #"""
            set -e; cd "$1"; shift
            for n in "$@"; do printf '%s' "$n" > "$n"; done
            for n in "$@"; do [ "$(cat "$n")" = "$n" ] || echo "content of $n"; done
            ls -A | LC_ALL=C sort
            """#
        let r = runCmd(["/bin/bash", "-c", script, "bash", mdir] + names, timeout: 60)
        XCTAssertEqual(r.status, 0, r.summary)
        XCTAssertEqual(r.stdout, names.sorted().joined(separator: "\n") + "\n")
        // On the server none of them holds a forbidden character.
        let s = sh(#"ls -A "$1" | grep -c '[:?*|<>"\\]\|[ .]$' || true"#, sdir)
        XCTAssertEqual(s.stdout, "0\n", s.summary)
    }

    func testGitSqliteAndMmap() {
        let repo = makeDir("srcrepo")
        let setup = sh(#"""
            set -e; cd "$1"; git init -q .
            for i in $(seq 60); do echo "line $i" > "f$i.txt"; done; mkdir -p sub/deeper; echo x > sub/deeper/y
            git add . && git -c user.name=t -c user.email=t@t commit -qm init
            for i in 1 2 3; do echo $i >> f1.txt; git -c user.name=t -c user.email=t@t commit -qam "c$i"; done
            """#, repo)
        XCTAssertEqual(setup.status, 0, setup.summary)
        let git = sh(#"""
            set -e; cd "$1"; git clone -q "$2" clone; cd clone
            test -z "$(git status --porcelain)" && echo clean
            git gc -q; git fsck --no-progress 2>&1; git log --oneline | wc -l
            """#, mdir, repo, timeout: 300)
        XCTAssertEqual(git.status, 0, git.summary)
        XCTAssertEqual(git.stdout, "clean\n4\n", git.summary)

        var sql = "create table t(a integer, b text);\nbegin;\n"
        for i in 1...1000 { sql += "insert into t values(\(i), 'row \(i)');\n" }
        sql += "commit;\nselect count(*), sum(a) from t;\npragma integrity_check;\n"
        let db = runCmd(["sqlite3", mdir + "/db.sqlite"], input: Data(sql.utf8), timeout: 300)
        XCTAssertEqual(db.status, 0, db.summary)
        XCTAssertEqual(db.stdout, "1000|500500\nok\n", db.summary)

        let mm = probe(#"""
            import mmap
            p = sys.argv[1] + "/mm.bin"
            create(p, bytes(65536))
            f = open(p, "r+b"); m = mmap.mmap(f.fileno(), 65536)
            m[40000:40005] = b"hello"; m.flush(); m.close(); f.close()
            print("mmap", open(p, "rb").read()[40000:40005].decode())
            """#, mdir)
        assertProbe(mm, ["mmap": ["hello"]])
        XCTAssertEqual(sh(#"dd if="$1/mm.bin" bs=1 skip=40000 count=5 2>/dev/null"#, sdir).stdout, "hello")
    }
}
