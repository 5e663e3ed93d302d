"""End-to-end mutation run: damaged and crafted copies of the sample cases through the built tool.

Usage: mutation_run.py BINARY SAMPLECASES OUTDIR [--count N] [--seed S] [--jobs J]

Makes N mutants of the sample cases' label maps (header fields set to hostile values in NIfTI-1
and in a NIfTI-2 conversion, truncations, gzip damage, trailing bytes, concatenated members, bit
flips in header and data) and runs `BINARY describe MUTANT` on each, then `BINARY MUTANT OTHER`
(the mutant as pre or as post of its case) on each mutant that reads and whose description
(geometry, labels, voxel counts) differs from every mutant run so far: most header mutations
leave the image as it was, and running the same image again would only cost time. The run fails when any mutant ends by a signal, or fails without a one-line
`error: ...` naming the mutant's file, or exits with a code that is not documented
(Docs/exit-codes.md), or accepts a damaged file (truncated, gzip damage, bytes after the
data: exit 65 expected). Prints one summary line per exit code; the offending mutants are kept in
OUTDIR/failures/ with the command and its output.

Only the Python standard library is used, so that the test suite can run it without .venv.
"""
import argparse
import concurrent.futures
import gzip
import math
import os
import random
import shutil
import struct
import subprocess
import sys
import threading

DOCUMENTED_EXITS = {0, 3, 65, 70, 73, 78}  # 70 is documented but means a bug: counted as a failure

# NIfTI-1 fields: name -> (offset, struct format, count)
N1 = {
    "sizeof_hdr": (0, "i", 1), "dim": (40, "h", 8), "intent_code": (68, "h", 1),
    "datatype": (70, "h", 1), "bitpix": (72, "h", 1), "slice_start": (74, "h", 1),
    "pixdim": (76, "f", 8), "vox_offset": (108, "f", 1), "scl_slope": (112, "f", 1),
    "scl_inter": (116, "f", 1), "slice_end": (120, "h", 1), "qform_code": (252, "h", 1),
    "sform_code": (254, "h", 1), "quatern": (256, "f", 3), "qoffset": (268, "f", 3),
    "srow": (280, "f", 12), "magic": (344, "4s", 1),
}
# NIfTI-2 fields (little endian, 540-byte header)
N2 = {
    "sizeof_hdr": (0, "i", 1), "magic": (4, "8s", 1), "datatype": (12, "h", 1),
    "bitpix": (14, "h", 1), "dim": (16, "q", 8), "pixdim": (104, "d", 8),
    "vox_offset": (168, "q", 1), "scl_slope": (176, "d", 1), "scl_inter": (184, "d", 1),
    "qform_code": (344, "i", 1), "sform_code": (348, "i", 1), "quatern": (352, "d", 3),
    "qoffset": (376, "d", 3), "srow": (400, "d", 12), "slice_code": (496, "i", 1),
    "intent_code": (504, "i", 1),
}

INT_VALUES = [0, -1, 1, 2, 3, 4, 7, 8, 9, 255, 256, 351, 352, 353, 511, 512, 32767, -32768,
              2**31 - 1, -2**31, 2**40, 2**62, 2**63 - 1, -2**63]
FLOAT_VALUES = [0.0, -0.0, -1.0, 1e-30, 1e-9, 1e-3, 0.5, 1.0, 351.0, 352.0, 353.5, 1e6, 1e15,
                1e30, 3.4e38, 1e300, -1e30, math.nan, math.inf, -math.inf, 5e-324]


def to_nifti2(raw):
    """A NIfTI-1 single-file image (bytes) rewritten as NIfTI-2 (same voxels)."""
    def get(name):
        off, fmt, n = N1[name]
        return struct.unpack_from("<" + fmt * n if fmt != "4s" else "<4s", raw, off)
    vox_offset = int(get("vox_offset")[0])
    header = bytearray(540)
    struct.pack_into("<i", header, 0, 540)
    struct.pack_into("<8s", header, 4, b"n+2\0\r\n\x1a\n")
    struct.pack_into("<h", header, 12, get("datatype")[0])
    struct.pack_into("<h", header, 14, get("bitpix")[0])
    struct.pack_into("<8q", header, 16, *get("dim"))
    struct.pack_into("<8d", header, 104, *get("pixdim"))
    struct.pack_into("<q", header, 168, 544)
    struct.pack_into("<d", header, 176, get("scl_slope")[0])
    struct.pack_into("<d", header, 184, get("scl_inter")[0])
    struct.pack_into("<i", header, 344, get("qform_code")[0])
    struct.pack_into("<i", header, 348, get("sform_code")[0])
    struct.pack_into("<3d", header, 352, *get("quatern"))
    struct.pack_into("<3d", header, 376, *get("qoffset"))
    struct.pack_into("<12d", header, 400, *get("srow"))
    return bytes(header) + b"\0\0\0\0" + raw[vox_offset:]


def set_field(raw, table, name, index, value):
    off, fmt, n = table[name]
    size = struct.calcsize("<" + fmt)
    data = bytearray(raw)
    if fmt in ("4s", "8s"):
        struct.pack_into("<" + fmt, data, off, value)
        return bytes(data)
    if fmt in ("h", "i", "q"):
        bits = {"h": 16, "i": 32, "q": 64}[fmt]
        value = int(value) & ((1 << bits) - 1)
        value = value - (1 << bits) if value >= 1 << (bits - 1) else value
    else:
        value = float(value)
        if fmt == "f" and math.isfinite(value) and abs(value) > 3.4e38:
            value = math.copysign(math.inf, value)
    struct.pack_into("<" + fmt, data, off + index * size, value)
    return bytes(data)


def field_mutant(rng, raw, table):
    name = rng.choice([k for k in table if k != "magic"] + ["magic"])
    _, fmt, n = table[name]
    index = rng.randrange(n)
    if fmt in ("4s", "8s"):
        value = rng.choice([b"n+1\0", b"ni1\0", b"n+2\0\r\n\x1a\n", b"xxxx"])
        if fmt == "8s" and len(value) == 4:
            value += b"\r\n\x1a\n"
        return f"{name}={value!r}", set_field(raw, table, name, 0, value)
    values = INT_VALUES if fmt in ("h", "i", "q") else FLOAT_VALUES
    value = rng.choice(values)
    mutant = set_field(raw, table, name, index, value)
    if rng.random() < 0.3:  # a second field at the same time
        name2 = rng.choice([k for k in table if k != "magic"])
        _, fmt2, n2 = table[name2]
        values2 = INT_VALUES if fmt2 in ("h", "i", "q") else FLOAT_VALUES
        value2 = rng.choice(values2)
        i2 = rng.randrange(n2)
        mutant = set_field(mutant, table, name2, i2, value2)
        return f"{name}[{index}]={value} {name2}[{i2}]={value2}", mutant
    return f"{name}[{index}]={value}", mutant


def make_mutant(rng, raw, compressed):
    """(description, bytes, suffix, damaged) of one mutant of a NIfTI-1 image `raw` (its .nii.gz `compressed`)."""
    kind = rng.choices(["n1", "n2", "truncate", "gzip", "trailing", "members", "flip-header",
                        "flip-data", "plain"], weights=[30, 25, 10, 8, 5, 3, 8, 6, 5])[0]
    if kind == "n1":
        what, data = field_mutant(rng, raw, N1)
        return f"nifti1 {what}", gzip.compress(data, 6), ".nii.gz", False
    if kind == "n2":
        what, data = field_mutant(rng, to_nifti2(raw), N2)
        return f"nifti2 {what}", gzip.compress(data, 6), ".nii.gz", False
    if kind == "truncate":
        if rng.random() < 0.5:
            cut = rng.randint(1, 12)
        else:
            cut = rng.randint(1, len(compressed) - 1)
        return f"truncated by {cut} bytes", compressed[:-cut], ".nii.gz", True
    if kind == "gzip":
        data = bytearray(compressed)
        where = rng.choice(["crc", "length", "stream"])
        if where == "crc":
            data[-8 + rng.randrange(4)] ^= 1 << rng.randrange(8)
        elif where == "length":
            data[-4 + rng.randrange(4)] ^= 1 << rng.randrange(8)
        else:
            data[rng.randrange(10, len(data) - 8)] ^= 1 << rng.randrange(8)
        return f"gzip damage in {where}", bytes(data), ".nii.gz", True
    if kind == "trailing":
        extra = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
        return f"{len(extra)} trailing bytes", compressed + extra, ".nii.gz", True
    if kind == "members":
        extra = gzip.compress(bytes(rng.randint(1, 4096)), 6)
        return "a second gzip member", compressed + extra, ".nii.gz", True
    if kind == "flip-header":
        data = bytearray(raw)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(352)] ^= 1 << rng.randrange(8)
        return "bit flips in the header", gzip.compress(bytes(data), 6), ".nii.gz", False
    if kind == "flip-data":
        data = bytearray(raw)
        for _ in range(rng.randint(1, 200)):
            data[rng.randrange(352, len(data))] = rng.randrange(256)
        return "bytes changed in the voxels", gzip.compress(bytes(data), 6), ".nii.gz", False
    # plain .nii, truncated or with a field mutated
    if rng.random() < 0.5:
        cut = rng.randint(1, len(raw) - 1)
        return f"plain, truncated by {cut} bytes", raw[:-cut], ".nii", True
    what, data = field_mutant(rng, raw, N1)
    return f"plain nifti1 {what}", data, ".nii", False


def run(args):
    """(exit code or None on timeout, stdout, stderr) of one command, one thread per process."""
    env = dict(os.environ, MAMQ_THREADS="1")
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    except subprocess.TimeoutExpired:
        return None, "", "timed out after 120 s"
    return done.returncode, done.stdout, done.stderr


def run_one(job, seen, lock):
    """`describe` on the mutant; then, unless a mutant that reads the same (geometry, labels and
    voxel counts) already went through, the whole command with the mutant as pre or post."""
    binary, mutant_path, other_path, as_pre, out = job
    code, stdout, stderr = run([binary, "describe", mutant_path])
    if code != 0:
        return job, code, stderr, "describe"
    key = (as_pre, other_path, stdout.split("\n", 1)[1])
    with lock:
        if key in seen:
            return job, 0, "", "describe (the same image already ran)"
        seen.add(key)
    args = [binary, mutant_path, other_path] if as_pre else [binary, other_path, mutant_path]
    code, _, stderr = run(args + ["--out", out, "--quiet"])
    shutil.rmtree(out, ignore_errors=True)
    return job, code, stderr, "whole command"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("samples")
    parser.add_argument("outdir")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    options = parser.parse_args()

    rng = random.Random(options.seed)
    cases = []
    for name in sorted(os.listdir(options.samples)):
        folder = os.path.join(options.samples, name)
        if os.path.isfile(os.path.join(folder, "pre.nii.gz")):
            for role in ("pre", "post"):
                path = os.path.join(folder, role + ".nii.gz")
                other = os.path.join(folder, ("post" if role == "pre" else "pre") + ".nii.gz")
                compressed = open(path, "rb").read()
                cases.append((role == "pre", compressed, gzip.decompress(compressed), os.path.abspath(other)))
    os.makedirs(options.outdir, exist_ok=True)
    mutants = os.path.join(options.outdir, "mutants")
    os.makedirs(mutants, exist_ok=True)
    jobs, descriptions = [], {}
    for i in range(options.count):
        as_pre, compressed, raw, other = rng.choice(cases)
        what, data, suffix, damaged = make_mutant(rng, raw, compressed)
        path = os.path.join(mutants, f"m{i:05d}{suffix}")
        with open(path, "wb") as f:
            f.write(data)
        descriptions[path] = (what, damaged)
        jobs.append((options.binary, path, other, as_pre, os.path.join(options.outdir, f"out{i:05d}")))

    counts, failures, stages = {}, [], {}
    seen, lock = set(), threading.Lock()
    with concurrent.futures.ThreadPoolExecutor(options.jobs) as pool:
        for job, code, stderr, stage in pool.map(lambda j: run_one(j, seen, lock), jobs):
            stages[stage] = stages.get(stage, 0) + 1
            path = job[1]
            counts[code] = counts.get(code, 0) + 1
            lines = stderr.strip().splitlines()
            problem = None
            if code is None:
                problem = stderr
            elif code < 0:
                problem = f"signal {-code}"
            elif code not in DOCUMENTED_EXITS or code == 70:
                problem = f"exit {code}"
            elif descriptions[path][1] and code != 65:
                problem = f"a damaged file accepted (exit {code}, expected 65)"
            elif stage == "describe" and code != 65:
                problem = f"describe exit {code} (0 or 65 expected)"
            elif code in (65, 73, 78) and not (len(lines) == 1 and lines[0].startswith("error: ")
                                                and path in lines[0]):
                problem = f"exit {code} without a one-line error naming the file"
            if problem:
                failures.append((path, problem + f" ({stage})", job, stderr))
            else:
                os.remove(path)
    for code in sorted(counts, key=lambda c: (c is None, c)):
        print(f"exit {code}: {counts[code]} mutants")
    for stage in sorted(stages):
        print(f"last step {stage}: {stages[stage]} mutants")
    if failures:
        keep = os.path.join(options.outdir, "failures")
        os.makedirs(keep, exist_ok=True)
        for path, problem, job, stderr in failures:
            name = os.path.basename(path)
            shutil.copy(path, os.path.join(keep, name))
            with open(os.path.join(keep, name + ".txt"), "w") as f:
                f.write(f"{descriptions[path][0]}\n{problem}\nas {'pre' if job[3] else 'post'} with {job[2]}\n{stderr}")
            first = stderr.strip().splitlines()[:1]
            print(f"FAIL {name} ({descriptions[path][0]}): {problem}: {first[0][:200] if first else ''}",
                  file=sys.stderr)
        print(f"{len(failures)} of {options.count} mutants failed; kept in {keep}", file=sys.stderr)
        return 1
    print(f"all {options.count} mutants: no signal, every failure a one-line error naming the file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
