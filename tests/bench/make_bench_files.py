#!/usr/bin/env python3
"""Write the benchmark NWB files (run by `cargo xtask bench`; see README.md).

Usage:  python make_bench_files.py OUTDIR [--quick]

Writes OUTDIR/ecephys.nwb, OUTDIR/many.nwb and OUTDIR/info.json with pynwb's and
h5py's default settings (superblock v0, as in DANDI files):

  ecephys.nwb  /acquisition/ElectricalSeries: 64 channels x 9,000,000 int16 samples
               (300 s at 30 kHz), chunks (30000, 64), gzip (level 4, no shuffle), noise
               that compresses to ~70 % (so the file is ~853 MB); 64-row electrodes
               table; 100 units with ~300,000 spike times in total; 500 trials; an LFP
               ElectricalSeries in /processing/ecephys/LFP (64 x 375,000 float32, 1250 Hz,
               chunks (5000, 64), gzip).
  ecephys_spread.nwb
               the same recipe laid out differently: raw chunks of (20000, 64) rows, so
               that one second spans two chunks, and, after pynwb closed the file, a
               processing module of 60 more TimeSeries appended with h5py: metadata
               in two places, the newest at the very end (as files edited after
               writing have it).
  many.nwb     500 TimeSeries (1,090 float64 samples each) in 5 processing modules
               (~5.8 MB).

--quick writes small variants: 900,000 samples (30 s; LFP, units and trials scaled to
30 s) and 50 TimeSeries.

The data is written chunk by chunk through an hdmf GenericDataChunkIterator, so memory
stays small. Random data is seeded, so a rerun writes the same values (object ids and
timestamps differ). Each file is written under a temporary name and renamed when done.
"""

import json
import os
import sys
import time
import uuid
import warnings
from datetime import datetime, timezone

import h5py
import numpy as np
from hdmf.backends.hdf5.h5_utils import H5DataIO
from hdmf.data_utils import GenericDataChunkIterator
from pynwb import NWBHDF5IO, NWBFile, TimeSeries
from pynwb.ecephys import LFP, ElectricalSeries

warnings.filterwarnings("ignore")

RATE = 30000.0
CHANNELS = 64
CHUNK_ROWS = 30000  # one second per chunk
NOISE_SD = 90.0  # int16 Gaussian noise; gzip level 4 leaves ~70 % of the bytes
LFP_RATE = 1250.0
LFP_CHUNK_ROWS = 5000
N_UNITS = 100
N_TRIALS = 500
START = datetime(2024, 1, 1, 12, 0, 0, tzinfo=timezone.utc)

T0 = time.time()


def log(msg):
    print(f"[make_bench_files {time.time() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


SPREAD_CHUNK_ROWS = 20000  # the spread variant: one second spans two chunks
SPREAD_EXTRA_SERIES = 60


class NoiseIterator(GenericDataChunkIterator):
    """Seeded noise, generated one chunk (block of rows) at a time."""

    def __init__(self, n_rows, dtype, chunk_rows, make_block, label, **kwargs):
        self._n_rows = n_rows
        self._dtype = np.dtype(dtype)
        self._chunk_rows = chunk_rows
        self._make_block = make_block
        self._label = label
        self._n_blocks = -(-n_rows // chunk_rows)
        self._done = 0
        self._last_log = 0.0
        super().__init__(**kwargs)

    def _get_data(self, selection):
        rows = selection[0]
        start = rows.start or 0
        stop = self._n_rows if rows.stop is None else rows.stop
        first, last = start // self._chunk_rows, (stop - 1) // self._chunk_rows
        blocks = []
        for b in range(first, last + 1):
            n = min(self._chunk_rows, self._n_rows - b * self._chunk_rows)
            blocks.append(self._make_block(b, n))
        data = np.concatenate(blocks, axis=0)
        off = first * self._chunk_rows
        data = data[start - off : stop - off]
        self._done += last - first + 1
        now = time.time()
        if now - self._last_log > 10 or self._done >= self._n_blocks:
            self._last_log = now
            log(f"{self._label}: {self._done}/{self._n_blocks} chunks")
        return data[(slice(None),) + tuple(selection[1:])]

    def _get_dtype(self):
        return self._dtype

    def _get_maxshape(self):
        return (self._n_rows, CHANNELS)


def raw_block(b, n):
    rng = np.random.default_rng(1_000_000 + b)
    return (rng.standard_normal((n, CHANNELS), dtype=np.float32) * NOISE_SD).astype(np.int16)


def lfp_block(b, n):
    rng = np.random.default_rng(2_000_000 + b)
    t = (b * LFP_CHUNK_ROWS + np.arange(n, dtype=np.float64)) / LFP_RATE
    phase = np.arange(CHANNELS) * 0.05
    theta = 80.0 * np.sin(2 * np.pi * 8.0 * t[:, None] + phase[None, :])
    noise = rng.standard_normal((n, CHANNELS), dtype=np.float32) * 20.0
    # Quantized to 0.25 uV like an ADC would, then stored as float32 volts.
    return (np.round((theta + noise) * 4.0) / 4.0 * 1e-6).astype(np.float32)


def write_nwb(path, nwbfile):
    tmp = path + ".tmp"
    if os.path.exists(tmp):
        os.remove(tmp)
    with NWBHDF5IO(tmp, "w") as io:
        io.write(nwbfile)
    os.replace(tmp, path)


def make_ecephys(path, n_samples, chunk_rows=CHUNK_ROWS):
    duration = n_samples / RATE
    nwb = NWBFile(
        session_description="neurosift benchmark: extracellular ephys",
        identifier="neurosift-bench-ecephys",
        session_start_time=START,
        experimenter=["Bench, Mark"],
        lab="Benchmark lab",
        institution="Nowhere",
    )
    device = nwb.create_device(name="probe", description="64-channel silicon probe")
    shanks = []
    for s in range(4):
        shanks.append(
            nwb.create_electrode_group(
                name=f"shank{s}", description=f"shank {s}", location="CA1", device=device
            )
        )
    for ch in range(CHANNELS):
        nwb.add_electrode(
            x=float(ch % 2) * 20.0,
            y=float(ch // 2) * 20.0,
            z=0.0,
            imp=-1.0,
            location="CA1",
            filtering="none",
            group=shanks[ch // 16],
        )
    region = nwb.create_electrode_table_region(list(range(CHANNELS)), "all electrodes")

    raw = NoiseIterator(
        n_samples,
        "int16",
        chunk_rows,
        raw_block,
        "ElectricalSeries",
        chunk_shape=(chunk_rows, CHANNELS),
        buffer_shape=(min(n_samples, 10 * chunk_rows), CHANNELS),
    )
    nwb.add_acquisition(
        ElectricalSeries(
            name="ElectricalSeries",
            description="raw voltage (noise)",
            data=H5DataIO(raw, compression="gzip"),
            electrodes=region,
            starting_time=0.0,
            rate=RATE,
            conversion=0.195e-6,
        )
    )

    n_lfp = int(round(duration * LFP_RATE))
    lfp = NoiseIterator(
        n_lfp,
        "float32",
        LFP_CHUNK_ROWS,
        lfp_block,
        "LFP",
        chunk_shape=(LFP_CHUNK_ROWS, CHANNELS),
        buffer_shape=(min(n_lfp, 20 * LFP_CHUNK_ROWS), CHANNELS),
    )
    ecephys = nwb.create_processing_module(name="ecephys", description="processed ephys")
    ecephys.add(
        LFP(
            electrical_series=ElectricalSeries(
                name="LFP",
                description="LFP (synthetic)",
                data=H5DataIO(lfp, compression="gzip"),
                electrodes=region,
                starting_time=0.0,
                rate=LFP_RATE,
                filtering="low-pass 300 Hz",
            )
        )
    )

    rng = np.random.default_rng(42)
    nwb.add_unit_column(name="quality", description="curation label")
    total_spikes = 0
    rates = rng.lognormal(mean=np.log(9.5), sigma=0.6, size=N_UNITS)
    for u in range(N_UNITS):
        n = int(rng.poisson(rates[u] * duration))
        times = np.sort(rng.uniform(0.0, duration, size=n))
        total_spikes += n
        nwb.add_unit(spike_times=times, electrodes=[u % CHANNELS], quality="good" if u % 3 else "mua")

    nwb.add_trial_column(name="correct", description="whether the trial was correct")
    nwb.add_trial_column(name="condition", description="stimulus condition")
    trial_len = duration / N_TRIALS
    for i in range(N_TRIALS):
        nwb.add_trial(
            start_time=i * trial_len,
            stop_time=i * trial_len + 0.8 * trial_len,
            correct=bool(rng.integers(0, 2)),
            condition=f"cond{i % 4}",
        )

    log(f"ecephys: writing {path} ({n_samples} samples, {n_lfp} LFP samples, {total_spikes} spikes)")
    write_nwb(path, nwb)
    log(f"ecephys: done, {os.path.getsize(path) / 1e6:.1f} MB")
    return {
        "samples": n_samples,
        "channels": CHANNELS,
        "lfp_samples": n_lfp,
        "units": N_UNITS,
        "spikes": total_spikes,
        "trials": N_TRIALS,
    }


def append_series(path, n_series):
    """Appends a processing module of `n_series` small TimeSeries with h5py, as NWB objects
    (neurodata_type, namespace, object_id): their metadata lands at the end of the file,
    far from what pynwb wrote."""
    rng = np.random.default_rng(11)
    with h5py.File(path, "r+") as f:
        mod = f["processing"].create_group("extra")
        mod.attrs["neurodata_type"] = "ProcessingModule"
        mod.attrs["namespace"] = "core"
        mod.attrs["object_id"] = str(uuid.UUID(int=int(rng.integers(1 << 62))))
        mod.attrs["description"] = "appended after writing"
        for i in range(n_series):
            g = mod.create_group(f"extra{i:03d}")
            g.attrs["neurodata_type"] = "TimeSeries"
            g.attrs["namespace"] = "core"
            g.attrs["object_id"] = str(uuid.UUID(int=int(rng.integers(1 << 62))))
            g.attrs["description"] = f"appended series {i}"
            g.attrs["comments"] = "no comments"
            d = g.create_dataset("data", data=rng.standard_normal(20))
            d.attrs["unit"] = "a.u."
            d.attrs["conversion"] = 1.0
            d.attrs["offset"] = 0.0
            d.attrs["resolution"] = -1.0
            t = g.create_dataset("starting_time", data=0.0)
            t.attrs["rate"] = 100.0
            t.attrs["unit"] = "seconds"
    log(f"spread: appended {n_series} TimeSeries, {os.path.getsize(path) / 1e6:.1f} MB")


def make_many(path, n_series):
    nwb = NWBFile(
        session_description="neurosift benchmark: many small objects",
        identifier="neurosift-bench-many",
        session_start_time=START,
    )
    rng = np.random.default_rng(7)
    n_modules = 5
    per_module = n_series // n_modules
    for m in range(n_modules):
        mod = nwb.create_processing_module(name=f"module{m}", description=f"module {m}")
        for i in range(per_module):
            mod.add(
                TimeSeries(
                    name=f"series{i:03d}",
                    description=f"series {i} of module {m}",
                    data=rng.standard_normal(1090),
                    unit="a.u.",
                    starting_time=0.0,
                    rate=100.0,
                )
            )
    log(f"many: writing {path} ({n_series} TimeSeries)")
    write_nwb(path, nwb)
    log(f"many: done, {os.path.getsize(path) / 1e6:.2f} MB")
    return {"timeseries": n_series, "modules": n_modules}


def superblock_version(path):
    with open(path, "rb") as f:
        head = f.read(9)
    return head[8] if head[:8] == b"\x89HDF\r\n\x1a\n" else None


def main():
    args = sys.argv[1:]
    quick = "--quick" in args
    args = [a for a in args if a != "--quick"]
    if len(args) != 1:
        sys.exit(__doc__)
    out = args[0]
    os.makedirs(out, exist_ok=True)
    n_samples = 900_000 if quick else 9_000_000
    n_series = 50 if quick else 500

    ecephys_path = os.path.join(out, "ecephys.nwb")
    spread_path = os.path.join(out, "ecephys_spread.nwb")
    many_path = os.path.join(out, "many.nwb")
    info = {"variant": "quick" if quick else "full"}
    info["ecephys"] = make_ecephys(ecephys_path, n_samples)
    info["ecephys_spread"] = make_ecephys(spread_path + ".part", n_samples, SPREAD_CHUNK_ROWS)
    append_series(spread_path + ".part", SPREAD_EXTRA_SERIES)
    os.replace(spread_path + ".part", spread_path)
    info["ecephys_spread"]["extra_series"] = SPREAD_EXTRA_SERIES
    info["many"] = make_many(many_path, n_series)

    for key, path, rows in (("ecephys", ecephys_path, CHUNK_ROWS), ("ecephys_spread", spread_path, SPREAD_CHUNK_ROWS)):
        with h5py.File(path, "r") as f:
            ds = f["/acquisition/ElectricalSeries/data"]
            assert ds.shape == (n_samples, CHANNELS) and ds.chunks == (rows, CHANNELS), (ds.shape, ds.chunks)
            assert ds.compression == "gzip", ds.compression
            info[key]["data_chunks"] = list(ds.chunks)
            info[key]["spike_times_shape"] = list(f["/units/spike_times"].shape)
    for key, path in (("ecephys", ecephys_path), ("ecephys_spread", spread_path), ("many", many_path)):
        info[key]["bytes"] = os.path.getsize(path)
        info[key]["superblock"] = superblock_version(path)
    with open(os.path.join(out, "info.json"), "w") as f:
        json.dump(info, f, indent=2)
    log(f"wrote {out}: {json.dumps(info)}")


if __name__ == "__main__":
    main()
