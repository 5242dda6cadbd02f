import sys, numpy as np, h5py
from datetime import datetime, timezone
from pynwb import NWBFile, NWBHDF5IO, TimeSeries
from hdmf.backends.hdf5.h5_utils import H5DataIO

out = sys.argv[1]
rng = np.random.default_rng(7)
n, ch = 2_000_000, 70
big = np.empty((n, ch), dtype=np.int16)
level = rng.integers(-500, 500, ch).astype(np.int32)
for s in range(0, n, 100_000):
    steps = rng.integers(-4, 5, (min(100_000, n - s), ch), dtype=np.int8)
    walk = level + np.cumsum(steps, axis=0, dtype=np.int32)
    big[s:s + len(walk)] = np.clip(walk, -32000, 32000)
    level = walk[-1]
# Spikes: extremes that only exact min/max keep.
idx = rng.integers(0, n, 300)
big[idx, rng.integers(0, ch, 300)] = rng.choice([-30000, 30000], 300)

m = 3_000_000
x = np.sin(np.arange(m) / 5000.0).astype(np.float32) * 3 + rng.standard_normal(m).astype(np.float32)
x[rng.integers(0, m, 5000)] = np.nan
x[1_000_000:1_050_000] = np.nan     # whole buckets of NaN, at every level up to 2
x[2_222_222] = np.inf

k = 500_000
stamps = np.cumsum(rng.uniform(0.0005, 0.0015, k)) + 10.0
stamps[123264] = np.nan   # the first sample of a bucket of 576 (64 × 9)
sdata = rng.standard_normal((k, 3)).astype(np.float64) * [1, 10, 100]

f = NWBFile(session_description="pyramid fixture", identifier="pyramid-0001",
            session_start_time=datetime(2024, 1, 1, tzinfo=timezone.utc))
f.add_acquisition(TimeSeries(name="big", unit="volts", rate=30000.0, starting_time=2.0,
                             conversion=0.25, offset=-1.5,
                             data=H5DataIO(big, chunks=(10000, 35), compression="gzip", compression_opts=1, shuffle=True)))
f.add_acquisition(TimeSeries(name="nan1d", unit="a.u.", rate=1000.0,
                             data=H5DataIO(x, chunks=(100_000,), compression="gzip", compression_opts=1)))
f.add_acquisition(TimeSeries(name="stamped", unit="a.u.", timestamps=stamps,
                             data=H5DataIO(sdata, chunks=(20000, 3), compression="gzip", compression_opts=1)))
f.add_acquisition(TimeSeries(name="empty", unit="a.u.", rate=10.0, data=np.zeros((0,), dtype=np.float32)))
with NWBHDF5IO(out[:-4] + ".tmp.nwb", "w") as io:
    io.write(f)
import os
os.replace(out[:-4] + ".tmp.nwb", out)
