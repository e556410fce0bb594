"""Table: rows of dicts with column selection, for sweeps without a pandas dependency.

    t = runs.table()
    t[["delay", "p50_delivery_delay"]]   # a Table with those columns
    t["delay"]                           # the column as a list
    t[0]                                 # the first row (a dict)
    t.to_pandas()                        # a DataFrame, when pandas is installed
"""


class Table:
    def __init__(self, rows, columns=None):
        self._rows = [dict(r) for r in rows]
        if columns is None:
            columns = []
            for row in self._rows:
                columns.extend(k for k in row if k not in columns)
        self.columns = list(columns)

    def __len__(self):
        return len(self._rows)

    def __iter__(self):
        return iter(self.rows())

    def rows(self):
        """The rows as dicts with this table's columns (missing values are None)."""
        return [{c: row.get(c) for c in self.columns} for row in self._rows]

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in self.columns:
                raise KeyError(key)
            return [row.get(key) for row in self._rows]
        if isinstance(key, int):
            return self.rows()[key]
        if isinstance(key, slice):
            return Table(self._rows[key], self.columns)
        missing = [c for c in key if c not in self.columns]
        if missing:
            raise KeyError(missing[0])
        return Table(self._rows, list(key))

    def __eq__(self, other):
        return isinstance(other, Table) and self.rows() == other.rows()

    def to_pandas(self):
        import pandas  # optional: only this method needs it

        return pandas.DataFrame(self.rows(), columns=self.columns)

    def __str__(self):
        cells = [[_cell(row.get(c)) for c in self.columns] for row in self._rows]
        widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(self.columns)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(self.columns, widths))]
        lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
        return "\n".join(lines)

    def __repr__(self):
        return f"<mailsim.Table {len(self)} rows x {len(self.columns)} columns>\n{self}"


def _cell(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
