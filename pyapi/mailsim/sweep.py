"""Parameter sweeps: one run per point of the cartesian product of the given values.

Runs are sequential and each is deterministic, so a sweep's table is a function of its
inputs. Each row holds the parameters, the run's identity (name, seed, passed, digest) and
the summary metrics of RunResult.summary (delivered_ratio, attempts_mean,
p50_delivery_delay in seconds, ...).
"""

import itertools


class SweepResult(list):
    """A list of row dicts, one per run, in the order of the product."""

    def table(self):
        from mailsim.table import Table

        return Table(self)


def _values(value):
    if isinstance(value, (list, tuple, range)):
        return list(value)
    return [value]


def sweep(path, *, seed=None, progress=None, keep_results=False, **lists):
    """Runs `path` (a .yaml or .yaml.j2 scenario) for every combination of `lists`.

    A non-list value is a single point; `seed` (the run's seed) may be a list too, the
    innermost dimension. progress(index, total, params) is called before each run. With
    keep_results the rows also hold the RunResult under "result".
    """
    import mailsim

    keys = list(lists)
    seeds = [None] if seed is None else _values(seed)
    grid = itertools.product(*(_values(lists[k]) for k in keys), seeds)
    points = list(grid)
    rows = SweepResult()
    for index, point in enumerate(points):
        params = dict(zip(keys, point[:-1]))
        if progress is not None:
            progress(index, len(points), params)
        result = mailsim.run(path, seed=point[-1], **params)
        row = dict(params)
        row.update(name=result.name, seed=result.seed, passed=result.passed,
                   error=result.error, transcript_digest=result.transcript_digest)
        row.update(result.summary)
        if keep_results:
            row["result"] = result
        rows.append(row)
    return rows
