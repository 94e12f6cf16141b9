"""WASI (preview 1) served from Python for the wasm2c backend, deny-by-default.

Only the calls sandboxlib's modules import are provided; their answers follow
the wasmtime backend's, so a library sees the same world on both: stdio that is
not granted is an empty stdin and a discarding stdout/stderr; files exist only
under granted directories (read-only unless granted writable; ``..`` and
symbolic links cannot leave them); the environment holds only the granted
variables; clock and randomness answer ENOTCAPABLE unless granted. A pointer
from the module outside its memory gets EFAULT (wasmtime traps).

Every call does bounded host work whatever its arguments, as in wasmtime: an
iovec array, path or buffer larger than one call's budget (wasmtime's 128 MiB of
hostcall fuel) is ENOMEM, and so is a random_get above 64 MiB (wasmtime traps);
fd_read and fd_write move only the first non-empty iovec, found without copying
the array out; long work is done in chunks, and a call whose time limit passed
ends with the timeout trap (ResourceError), checked on entry and between chunks.
"""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import struct
import time
from typing import Callable

from ...errors import BoundsError
from ...config import Grants
from ..memory import Memory
from .beneath import open_beneath
from ...toolchain.wasi_calls import ENOSYS, UNSERVED, import_type
from ...toolchain.wasmbinary import FuncType

_NAMES = (
    "SUCCESS 2BIG ACCES ADDRINUSE ADDRNOTAVAIL AFNOSUPPORT AGAIN ALREADY BADF BADMSG BUSY "
    "CANCELED CHILD CONNABORTED CONNREFUSED CONNRESET DEADLK DESTADDRREQ DOM DQUOT EXIST FAULT "
    "FBIG HOSTUNREACH IDRM ILSEQ INPROGRESS INTR INVAL IO ISCONN ISDIR LOOP MFILE MLINK MSGSIZE "
    "MULTIHOP NAMETOOLONG NETDOWN NETRESET NETUNREACH NFILE NOBUFS NODEV NOENT NOEXEC NOLCK "
    "NOLINK NOMEM NOMSG NOPROTOOPT NOSPC NOSYS NOTCONN NOTDIR NOTEMPTY NOTRECOVERABLE NOTSOCK "
    "NOTSUP NOTTY NXIO OVERFLOW OWNERDEAD PERM PIPE PROTO PROTONOSUPPORT PROTOTYPE RANGE ROFS "
    "SPIPE SRCH STALE TIMEDOUT TXTBSY XDEV NOTCAPABLE").split()
WASI_ERRNO = {name: code for code, name in enumerate(_NAMES)}
_HOST_ALIASES = {"EOPNOTSUPP": "NOTSUP", "EWOULDBLOCK": "AGAIN"}

SUCCESS, EBADF, EFAULT, EILSEQ, EINVAL, EIO = 0, 8, 21, 25, 28, 29
ENAMETOOLONG, ENOTSUP, EPERM, ESPIPE, ENOTCAPABLE = 37, 58, 63, 70, 76

# file types, fd flags, open flags, rights
UNKNOWN, BLOCK_DEVICE, CHARACTER_DEVICE, DIRECTORY, REGULAR_FILE = 0, 1, 2, 3, 4
SOCKET_STREAM, SYMBOLIC_LINK = 6, 7
FDFLAG_APPEND, FDFLAG_DSYNC, FDFLAG_NONBLOCK, FDFLAG_RSYNC, FDFLAG_SYNC = 1, 2, 4, 8, 16
O_CREAT, O_DIRECTORY, O_EXCL, O_TRUNC = 1, 2, 4, 8
RIGHT_FD_DATASYNC, RIGHT_FD_READ, RIGHT_FD_SEEK, RIGHT_FD_WRITE = 1, 2, 4, 64
RIGHT_FD_ALLOCATE, RIGHT_FD_READDIR, RIGHT_FD_FILESTAT_SET_SIZE = 256, 1 << 14, 1 << 22
ALL_RIGHTS = (1 << 30) - 1
DIR_RIGHTS, DIR_INHERITING = 0x7B7FE00, 0xFF7FFFF  # what wasmtime reports for directories
_READ_RIGHTS = RIGHT_FD_READ | RIGHT_FD_READDIR
_WRITE_RIGHTS = (RIGHT_FD_DATASYNC | RIGHT_FD_WRITE | RIGHT_FD_ALLOCATE
                 | RIGHT_FD_FILESTAT_SET_SIZE)
EXIT = -1  # returned by proc_exit: the call ends with an exit trap
TIMED_OUT = -2  # returned once the call's time limit passed: it ends with the timeout trap
TRAPS = {EXIT: "SBX_TRAP_EXIT", TIMED_OUT: "SBX_TRAP_FUEL"}  # what a negative result raises
BUDGET = 128 << 20  # bytes of arguments one call may make the host handle (wasmtime's)
MAX_TRANSFER = 16 << 20  # bytes one fd_read/fd_write moves at most (a short count is legal)
MAX_RANDOM = 64 << 20  # bytes one random_get fills at most (wasmtime traps above)
PATH_MAX = 4096  # a path this long is ENAMETOOLONG, as the kernel answers wasmtime
CHUNK = 1 << 20  # bytes of host work between two checks of the time limit


_CLOCKS: dict[int, Callable[[], int]] = {0: time.time_ns, 1: time.monotonic_ns,
                                         2: time.process_time_ns, 3: time.thread_time_ns}
_FILETYPES = {stat.S_IFDIR: DIRECTORY, stat.S_IFREG: REGULAR_FILE, stat.S_IFCHR: CHARACTER_DEVICE,
              stat.S_IFBLK: BLOCK_DEVICE, stat.S_IFLNK: SYMBOLIC_LINK,
              stat.S_IFSOCK: SOCKET_STREAM}


class _TimedOut(Exception):
    """The running call's time limit passed while the host worked for it."""


def _too_large(what: str, size: int) -> OSError:
    return OSError(errno.ENOMEM, f"{what} of {size} bytes is more than one call may handle")


def wasi_errno(exc: OSError) -> int:
    name = errno.errorcode.get(exc.errno or 0, "EIO")
    return WASI_ERRNO.get(_HOST_ALIASES.get(name, name[1:]), EIO)


class _Fd:
    """One open descriptor: a host fd, or None for a stdio stream not granted
    (reads see end of file, writes are discarded)."""

    __slots__ = ("host", "owned", "filetype", "flags", "rights", "inheriting", "writable_tree",
                 "preopen_name")

    def __init__(self, host: int | None, filetype: int, rights: int, inheriting: int, *,
                 owned: bool = True, flags: int = 0, writable_tree: bool = False,
                 preopen_name: bytes | None = None) -> None:
        self.host, self.owned, self.filetype, self.flags = host, owned, filetype, flags
        self.rights, self.inheriting = rights, inheriting
        self.writable_tree, self.preopen_name = writable_tree, preopen_name


class WasiHost:
    """The WASI world of one sandbox, as ``grants`` allow; handlers take the wasm
    arguments and return a WASI errno, or ``EXIT``/``TIMED_OUT`` (see ``TRAPS``).
    ``expired`` tells whether the running call's time limit has passed."""

    def __init__(self, grants: Grants, memory: Memory, expired: Callable[[], bool]) -> None:
        self.memory = memory
        self._expired = expired
        self.exit_code: int | None = None
        self._clock, self._random = grants.clock, grants.random
        self._env = [f"{k}={v}".encode() + b"\0" for k, v in grants.env]
        self._fds: dict[int, _Fd] = {
            0: _Fd(0 if grants.stdin else None, UNKNOWN, RIGHT_FD_READ, RIGHT_FD_READ,
                   owned=False),
            1: _Fd(1 if grants.stdout else None, UNKNOWN, RIGHT_FD_WRITE, RIGHT_FD_WRITE,
                   owned=False),
            2: _Fd(2 if grants.stderr else None, UNKNOWN, RIGHT_FD_WRITE, RIGHT_FD_WRITE,
                   owned=False),
        }
        for d in grants.dirs:
            host = os.open(d.host_path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            self._fds[len(self._fds)] = _Fd(host, DIRECTORY, DIR_RIGHTS, DIR_INHERITING,
                                            writable_tree=d.writable,
                                            preopen_name=d.guest_path.encode())

    def handler(self, name: str) -> Callable[..., int]:
        """The named call, checked against the time limit first; host OS errors become
        their WASI errno, pointers outside the sandbox's memory EFAULT."""
        if name in UNSERVED:
            return _nosys
        fn: Callable[..., int] = getattr(self, name)

        def run(*args: int) -> int:
            try:
                self._check_time()
                return fn(*args)
            except BoundsError:
                return EFAULT
            except OSError as exc:
                return wasi_errno(exc)
            except _TimedOut:
                return TIMED_OUT
        return run

    def close(self) -> None:
        for fd in self._fds.values():
            if fd.owned and fd.host is not None:
                os.close(fd.host)
        self._fds.clear()
        self.memory.close()  # its views pin the sandbox's memory

    def __del__(self) -> None:
        self.close()

    # -- helpers ---------------------------------------------------------------
    def _put(self, address: int, fmt: str, *values: int) -> None:
        self.memory.write_struct(address, fmt, *values)

    def _check_time(self) -> None:
        if self._expired():
            raise _TimedOut

    def _first_buffer(self, iovs: int, count: int) -> tuple[int, int]:
        """(base, length) of the first non-empty buffer of an iovec array, (0, 0) if
        all are empty: what wasmtime moves. The array is charged to the call's budget
        whole (ENOMEM), then read in place, in growing chunks, up to that entry only
        (EFAULT at the first entry outside memory); the buffer is charged what is left."""
        if 8 * count > BUDGET:
            raise _too_large("an iovec array", 8 * count)
        whole = self.memory.whole()
        at, left, step = iovs, count, 8
        while left:
            n = min(left, step, (len(whole) - at) // 8)
            if n <= 0:
                raise BoundsError(f"iovec at 0x{at:x} is outside the sandbox memory")
            lengths = whole[at:at + 8 * n].cast("I")[1::2].tobytes()
            empty = (len(lengths) - len(lengths.lstrip(b"\0"))) // 4
            if empty < n:
                base, length = struct.unpack_from("<II", whole, at + 8 * empty)
                if length > BUDGET - 8 * count:
                    raise _too_large("an iovec", length)
                return base, length
            at, left, step = at + 8 * n, left - n, min(2 * step, CHUNK // 8)
            self._check_time()
        return 0, 0

    def _free_fd(self) -> int:
        fd = 3
        while fd in self._fds:
            fd += 1
        return fd

    # -- streams ---------------------------------------------------------------
    def fd_write(self, fd: int, iovs: int, count: int, written_at: int) -> int:
        base, length = self._first_buffer(iovs, count)
        f = self._fds.get(fd)
        if f is None or not f.rights & RIGHT_FD_WRITE:
            return EBADF
        data = self.memory.view(base, length)
        n = length if f.host is None else os.write(f.host, data[:MAX_TRANSFER])
        self._put(written_at, "<I", n)
        return SUCCESS

    def fd_read(self, fd: int, iovs: int, count: int, read_at: int) -> int:
        base, length = self._first_buffer(iovs, count)
        f = self._fds.get(fd)
        if f is None or not f.rights & RIGHT_FD_READ:
            return EBADF
        n = 0 if f.host is None or not length else os.readv(
            f.host, [self.memory.view(base, length)[:MAX_TRANSFER]])
        self._put(read_at, "<I", n)
        return SUCCESS

    def fd_seek(self, fd: int, offset: int, whence: int, result_at: int) -> int:
        f = self._fds.get(fd)
        if f is None:
            return EBADF
        if f.filetype == UNKNOWN:  # stdio
            return ESPIPE
        if not f.rights & RIGHT_FD_SEEK or f.host is None:
            return EBADF
        if whence > 2:
            return EINVAL
        signed = offset - (1 << 64) if offset >= 1 << 63 else offset
        position = os.lseek(f.host, signed, (os.SEEK_SET, os.SEEK_CUR, os.SEEK_END)[whence])
        self._put(result_at, "<Q", position)
        return SUCCESS

    def fd_close(self, fd: int) -> int:
        f = self._fds.pop(fd, None)
        if f is None:
            return EBADF
        if f.owned and f.host is not None:
            os.close(f.host)
        return SUCCESS

    def fd_fdstat_get(self, fd: int, at: int) -> int:
        f = self._fds.get(fd)
        if f is None:
            return EBADF
        self._put(at, "<BxHxxxxQQ", f.filetype, f.flags, f.rights, f.inheriting)
        return SUCCESS

    def fd_fdstat_set_flags(self, fd: int, flags: int) -> int:
        f = self._fds.get(fd)
        if f is None or f.host is None or f.filetype in (UNKNOWN, DIRECTORY):
            return EBADF
        if flags & (FDFLAG_DSYNC | FDFLAG_RSYNC | FDFLAG_SYNC):
            return EINVAL
        host = fcntl.fcntl(f.host, fcntl.F_GETFL) & ~(os.O_APPEND | os.O_NONBLOCK)
        host |= (os.O_APPEND if flags & FDFLAG_APPEND else 0) | (
            os.O_NONBLOCK if flags & FDFLAG_NONBLOCK else 0)
        fcntl.fcntl(f.host, fcntl.F_SETFL, host)
        f.flags = flags
        return SUCCESS

    # -- directories -------------------------------------------------------------
    def fd_prestat_get(self, fd: int, at: int) -> int:
        f = self._fds.get(fd)
        if f is None or f.preopen_name is None:
            return EBADF
        self._put(at, "<BxxxI", 0, len(f.preopen_name))
        return SUCCESS

    def fd_prestat_dir_name(self, fd: int, at: int, length: int) -> int:
        f = self._fds.get(fd)
        if f is None or f.preopen_name is None:
            return EBADF
        if length < len(f.preopen_name):
            return ENAMETOOLONG
        self.memory.write(at, f.preopen_name)
        return SUCCESS

    def path_open(self, dirfd: int, dirflags: int, path_at: int, path_len: int, oflags: int,
                  rights: int, inheriting: int, fdflags: int, fd_at: int) -> int:
        if path_len > BUDGET:
            raise _too_large("a path", path_len)
        d = self._fds.get(dirfd)
        if d is None:
            return EBADF
        if d.filetype != DIRECTORY or d.host is None:
            return WASI_ERRNO["NOTDIR"]
        self.memory.view(path_at, path_len)
        if path_len >= PATH_MAX:
            return ENAMETOOLONG
        path = self.memory.read(path_at, path_len)
        try:
            path.decode()
        except UnicodeDecodeError:
            return EILSEQ
        read, write = bool(rights & _READ_RIGHTS), bool(rights & _WRITE_RIGHTS)
        if not d.writable_tree and (write or oflags & (O_CREAT | O_TRUNC)):
            return EPERM
        if oflags & O_CREAT and oflags & O_DIRECTORY or b"\0" in path:
            return EINVAL
        if fdflags & (FDFLAG_DSYNC | FDFLAG_RSYNC | FDFLAG_SYNC):
            return ENOTSUP
        flags = (os.O_RDWR if read and write else os.O_WRONLY if write else os.O_RDONLY)
        for wasi_flag, host_flag in ((O_CREAT, os.O_CREAT), (O_DIRECTORY, os.O_DIRECTORY),
                                     (O_EXCL, os.O_EXCL), (O_TRUNC, os.O_TRUNC)):
            if oflags & wasi_flag:
                flags |= host_flag
        for wasi_flag, host_flag in ((FDFLAG_APPEND, os.O_APPEND),
                                     (FDFLAG_NONBLOCK, os.O_NONBLOCK)):
            if fdflags & wasi_flag:
                flags |= host_flag
        host = open_beneath(d.host, path, flags, follow_last=bool(dirflags & 1))
        try:
            filetype = _FILETYPES.get(stat.S_IFMT(os.fstat(host).st_mode), UNKNOWN)
            if filetype == DIRECTORY:
                entry = _Fd(host, DIRECTORY, DIR_RIGHTS, DIR_INHERITING,
                            writable_tree=d.writable_tree)
            else:
                granted = ALL_RIGHTS & ~(0 if read else _READ_RIGHTS) & ~(
                    0 if write else RIGHT_FD_WRITE)
                entry = _Fd(host, filetype, granted, granted, flags=fdflags & (
                    FDFLAG_APPEND | FDFLAG_NONBLOCK))
            fd = self._free_fd()
            self._put(fd_at, "<I", fd)
        except BaseException:
            os.close(host)
            raise
        self._fds[fd] = entry
        return SUCCESS

    # -- environment, clock, randomness, exit ----------------------------------
    def environ_sizes_get(self, count_at: int, size_at: int) -> int:
        self._put(count_at, "<I", len(self._env))
        self._put(size_at, "<I", sum(len(e) for e in self._env))
        return SUCCESS

    def environ_get(self, pointers_at: int, buffer_at: int) -> int:
        blob = b"".join(self._env)
        self.memory.view(buffer_at, len(blob))
        pointers, offset = [], buffer_at
        for entry in self._env:
            pointers.append(offset)
            offset += len(entry)
        self.memory.write(pointers_at, struct.pack(f"<{len(pointers)}I", *pointers))
        self.memory.write(buffer_at, blob)
        return SUCCESS

    def clock_time_get(self, clock: int, precision: int, at: int) -> int:
        if not self._clock:
            return ENOTCAPABLE
        read = _CLOCKS.get(clock)
        if read is None:
            return EINVAL
        self._put(at, "<Q", read())
        return SUCCESS

    def random_get(self, at: int, length: int) -> int:
        if not self._random:
            return ENOTCAPABLE
        if length > MAX_RANDOM:
            raise _too_large("random_get", length)
        if length:
            self.memory.view(at, length)
        for done in range(0, length, CHUNK):
            self._check_time()
            self.memory.write(at + done, os.urandom(min(CHUNK, length - done)))
        return SUCCESS

    def proc_exit(self, code: int) -> int:
        self.exit_code = code
        return EXIT


def _nosys(*_: int) -> int:
    return ENOSYS


def served_type(module: str, name: str) -> FuncType | None:
    """The wasm type of import ``module.name`` if this host answers it, else None."""
    ty = import_type(module, name)
    return ty if ty is not None and (name in UNSERVED or hasattr(WasiHost, name)) else None
