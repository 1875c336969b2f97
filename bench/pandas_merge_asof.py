"""pandas peer of bench/pit-join.bench.ts: the same point-in-time join with pandas.merge_asof.

Debian's pandas 1.5 has no Parquet engine (no pyarrow), so the bench hands over raw little-endian arrays
(numpy.fromfile). Loading them is not timed; the timed part is what a pandas user must do: sort both frames
on the time column, then merge_asof(by=driver_id, direction="backward", exact matches allowed). Like the
other contenders, the same join first runs BENCH_WARMUP times (default 2), untimed, on the warm-up data set
in <dir>/warmup when it exists.

Usage: /usr/bin/python3 bench/pandas_merge_asof.py <dir> <entity_rows> <feature_rows> [out_dir]
Prints one JSON line: {"seconds": ..., "max_rss_mb": ...}. With out_dir, writes the joined feature
columns in entity row order (float64, NaN for no match) for the bench to compare.
"""
import gc
import json
import os
import resource
import sys
import time

import numpy as np
import pandas as pd


def load(path, dtype, n=None):
    values = np.fromfile(path, dtype=dtype)
    if n is not None and values.shape[0] != n:
        raise SystemExit(f"{path}: expected {n} values, found {values.shape[0]}")
    return values


def frames(directory, n_e=None, n_f=None):
    p = lambda name: os.path.join(directory, name)
    driver_id = load(p("e_driver_id.bin"), "<i8", n_e)
    entities = pd.DataFrame(
        {
            "rid": np.arange(driver_id.shape[0], dtype=np.int64),
            "driver_id": driver_id,
            "event_timestamp": load(p("e_ts.bin"), "<i8", n_e),
        }
    )
    features = pd.DataFrame(
        {
            "driver_id": load(p("f_driver_id.bin"), "<i8", n_f),
            "ts": load(p("f_ts.bin"), "<i8", n_f),
            "conv_rate": load(p("f_conv_rate.bin"), "<f8", n_f),
            "acc_rate": load(p("f_acc_rate.bin"), "<f8", n_f),
            "avg_daily_trips": load(p("f_avg_daily_trips.bin"), "<f8", n_f),
        }
    )
    return entities, features


def asof_join(entities, features):
    left = entities.sort_values("event_timestamp", kind="stable")
    right = features.sort_values("ts", kind="stable")
    return pd.merge_asof(
        left,
        right,
        left_on="event_timestamp",
        right_on="ts",
        by="driver_id",
        direction="backward",
        allow_exact_matches=True,
    )


def main():
    directory, n_e, n_f = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    out_dir = sys.argv[4] if len(sys.argv) > 4 else None
    warmup = os.path.join(directory, "warmup")
    warmups = int(os.environ.get("BENCH_WARMUP", "2"))
    if warmups > 0 and os.path.isdir(warmup):
        for _ in range(warmups):
            asof_join(*frames(warmup))
        reset_peak_rss()
    entities, features = frames(directory, n_e, n_f)
    start = time.perf_counter()
    joined = asof_join(entities, features)
    seconds = time.perf_counter() - start
    if out_dir:
        ordered = joined.sort_values("rid")
        for col in ("conv_rate", "acc_rate", "avg_daily_trips"):
            ordered[col].to_numpy(dtype="<f8").tofile(os.path.join(out_dir, f"pandas_{col}.bin"))
    print(json.dumps({"seconds": seconds, "max_rss_mb": peak_rss_mb()}))


def reset_peak_rss():
    # Linux: VmHWM restarts from the current RSS, so the peak is the timed run's own.
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        pass


def peak_rss_mb():
    # VmHWM is per address space; ru_maxrss would include the parent's RSS at fork time on Linux.
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
