#!/usr/bin/env python3
"""The peer side of `cargo xtask bench`: h5py reading through remfile (see README.md).

Usage:  python peer_remfile.py URL TASK [DATASET]

TASK is one of
  list     open, then visit every object (h5py visititems) and read its attributes,
           plus shape and dtype for datasets; soft/external links are listed too
  slice    open, then read DATASET[0:30000, :]  (DATASET defaults to
           /acquisition/ElectricalSeries/data)
  spikes   open, then read DATASET[:]  (DATASET defaults to /units/spike_times)

Prints one JSON line on stdout: {"task", "seconds", ...} where seconds runs from just
before remfile.File(URL) (which makes the first request) to after the file is closed,
i.e. it excludes interpreter start and imports. remfile and h5py run with their
default settings.
"""

import json
import sys
import time

import h5py
import remfile


def describe(obj):
    attrs = {}
    for key in obj.attrs.keys():
        try:
            value = obj.attrs[key]
        except Exception as e:  # noqa: BLE001 - an unreadable attribute is still listed
            value = f"<{type(e).__name__}>"
        attrs[key] = value
    if isinstance(obj, h5py.Dataset):
        return ("dataset", obj.shape, str(obj.dtype), attrs)
    return ("group", None, None, attrs)


def task_list(f, _dataset):
    objects = [("/", *describe(f))]
    links = []

    def visit(name, obj):
        objects.append(("/" + name, *describe(obj)))

    f.visititems(visit)

    # visititems follows hard links only; list soft and external links as well.
    def visit_link(name, link):
        if isinstance(link, (h5py.SoftLink, h5py.ExternalLink)):
            links.append(("/" + name, type(link).__name__))

    if hasattr(f, "visititems_links"):
        f.visititems_links(visit_link)
    n_attrs = sum(len(o[4]) for o in objects)
    return {
        "objects": len(objects),
        "datasets": sum(1 for o in objects if o[1] == "dataset"),
        "links": len(links),
        "attributes": n_attrs,
    }


def task_slice(f, dataset):
    x = f[dataset or "/acquisition/ElectricalSeries/data"][0:30000, :]
    return {"shape": list(x.shape), "dtype": str(x.dtype)}


def task_spikes(f, dataset):
    x = f[dataset or "/units/spike_times"][:]
    return {"shape": list(x.shape), "dtype": str(x.dtype)}


TASKS = {"list": task_list, "slice": task_slice, "spikes": task_spikes}


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[2] not in TASKS:
        sys.exit(__doc__)
    url, task = sys.argv[1], sys.argv[2]
    dataset = sys.argv[3] if len(sys.argv) == 4 else None
    started = time.perf_counter()
    rf = remfile.File(url)
    with h5py.File(rf, "r") as f:
        result = TASKS[task](f, dataset)
    rf.close()
    seconds = time.perf_counter() - started
    print(json.dumps({"task": task, "seconds": seconds, **result}))


if __name__ == "__main__":
    main()
