"""pandas peer of bench/pit-join.bench.ts: the same point-in-time join with pandas.merge_asof, same rules.

Debian's pandas 1.5 has no Parquet engine (no pyarrow), so the bench hands over raw little-endian arrays and
this script reads them with numpy.fromfile: the read IS timed and counted (it is faster than any Parquet read,
so counting it favours pandas), and also reported on its own. The join does what cellar does: for each entity
row the feature row of the same driver with the largest ts <= event_timestamp, within the ttl (both bounds
inclusive: merge_asof's `tolerance`), ties on ts broken by the largest created timestamp (the right frame is
sorted by (ts, created), and a backward merge_asof takes the last of equal keys).

Usage: /usr/bin/python3 bench/pandas_merge_asof.py <dir> <entity_rows> <feature_rows> <ttl_ms> [out_dir]
Prints one JSON line: {"cold": s, "warm": s, "cold_load": s, "warm_load": s, "max_rss_mb": MB, "base_rss_mb": MB}
(cold = first load+join of the process, warm = the same again). With out_dir, writes the joined feature
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

FEATURES = ("conv_rate", "acc_rate", "avg_daily_trips")


def load(path, dtype, n):
    values = np.fromfile(path, dtype=dtype)
    if values.shape[0] != n:
        raise SystemExit(f"{path}: expected {n} values, found {values.shape[0]}")
    return values


def frames(directory, n_e, n_f):
    p = lambda name: os.path.join(directory, name)
    entities = pd.DataFrame(
        {
            "rid": np.arange(n_e, dtype=np.int64),
            "driver_id": load(p("e_driver_id.bin"), "<i8", n_e),
            "event_timestamp": load(p("e_ts.bin"), "<i8", n_e),
        }
    )
    features = pd.DataFrame(
        {
            "driver_id": load(p("f_driver_id.bin"), "<i8", n_f),
            "ts": load(p("f_ts.bin"), "<i8", n_f),
            "created": load(p("f_created.bin"), "<i8", n_f),
            **{f: load(p(f"f_{f}.bin"), "<f8", n_f) for f in FEATURES},
        }
    )
    return entities, features


def asof_join(entities, features, ttl_ms):
    left = entities.sort_values("event_timestamp", kind="stable")
    # Two stable single-key sorts give the (ts, created) order without pandas' multi-key factorization,
    # which at 10M rows costs far more than the sorts themselves.
    right = features.sort_values("created", kind="stable").sort_values("ts", kind="stable")
    return pd.merge_asof(
        left,
        right,
        left_on="event_timestamp",
        right_on="ts",
        by="driver_id",
        direction="backward",
        allow_exact_matches=True,
        tolerance=ttl_ms if ttl_ms > 0 else None,
    )


def timed(directory, n_e, n_f, ttl_ms):
    start = time.perf_counter()
    entities, features = frames(directory, n_e, n_f)
    loaded = time.perf_counter()
    joined = asof_join(entities, features, ttl_ms)
    done = time.perf_counter()
    return joined, done - start, loaded - start


def main():
    directory, n_e, n_f, ttl_ms = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    out_dir = sys.argv[5] if len(sys.argv) > 5 else None
    base = current_rss_mb()
    joined, cold, cold_load = timed(directory, n_e, n_f, ttl_ms)
    peak = peak_rss_mb()
    if out_dir:
        ordered = joined.sort_values("rid")
        for col in FEATURES:
            ordered[col].to_numpy(dtype="<f8").tofile(os.path.join(out_dir, f"pandas_{col}.bin"))
    del joined
    gc.collect()
    _, warm, warm_load = timed(directory, n_e, n_f, ttl_ms)
    print(
        json.dumps(
            {
                "cold": cold,
                "warm": warm,
                "cold_load": cold_load,
                "warm_load": warm_load,
                "max_rss_mb": peak,
                "base_rss_mb": base,
            }
        )
    )


def current_rss_mb():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


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
