#!/usr/bin/env python3
"""What one durable append costs on this disk, and whether the file's growth is part of it.

The journal (io::LocalStore::Append) makes each batch durable with write + fdatasync at the end
of the file, so every fdatasync also has to persist the new file size (inode metadata). This
times N small records three ways in DIR (on the lake's file system):
  append       write at the end, fdatasync (what the journal does)
  overwrite    the file is written out with zeros first (and synced), then each record
               overwrites the next bytes in place + fdatasync: no size change, no block
               allocation (what a preallocated journal would pay; readers would then see the
               zeros past the last record, so the format would have to change)
  fallocate    fallocate(KEEP_SIZE) ahead, then append + fdatasync: the blocks exist but the
               size still grows (and the extents are converted from unwritten)
Usage: bench/fdatasync_probe.py DIR [N=500] [RECORD_BYTES=200]
Prints one JSON line per way: mean, p50, p99 of one write+fdatasync in ms."""
import json
import os
import sys
import time


def timed(fd, n, rec, offset_of):
    out = []
    for i in range(n):
        t = time.perf_counter()
        off = offset_of(i)
        if off is None:
            os.write(fd, rec)
        else:
            os.pwrite(fd, rec, off)
        os.fdatasync(fd)
        out.append((time.perf_counter() - t) * 1000)
    out.sort()
    return {"mean_ms": round(sum(out) / n, 3), "p50_ms": round(out[n // 2], 3), "p99_ms": round(out[min(n - 1, n * 99 // 100)], 3)}


def main():
    d = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    rec = b"x" * (size - 1) + b"\n"
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "probe.jsonl")

    def fresh(flags=0):
        if os.path.exists(path):
            os.unlink(path)
        return os.open(path, os.O_RDWR | os.O_CREAT | flags, 0o644)

    fd = fresh(os.O_APPEND)
    r = timed(fd, n, rec, lambda i: None)
    os.close(fd)
    print(json.dumps({"way": "append", "n": n, "bytes": size, **r}))

    fd = fresh()
    os.write(fd, b"\0" * (n * size))
    os.fsync(fd)
    r = timed(fd, n, rec, lambda i: i * size)
    os.close(fd)
    print(json.dumps({"way": "overwrite", "n": n, "bytes": size, **r}))

    fd = fresh(os.O_APPEND)
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    FALLOC_FL_KEEP_SIZE = 1
    if libc.fallocate(fd, FALLOC_FL_KEEP_SIZE, ctypes.c_long(0), ctypes.c_long(n * size)) != 0:
        print(json.dumps({"way": "fallocate", "error": os.strerror(ctypes.get_errno())}))
    else:
        os.fsync(fd)
        r = timed(fd, n, rec, lambda i: None)
        print(json.dumps({"way": "fallocate", "n": n, "bytes": size, **r}))
    os.close(fd)
    os.unlink(path)


if __name__ == "__main__":
    main()
