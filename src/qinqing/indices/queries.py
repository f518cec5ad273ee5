"""Data sources the indices piece registers itself, over other pieces' public APIs (never their tables).

- ``matching.eligible_enterprises`` — per region (``options["level"]`` or ``params["level"]``: ``city`` or
  ``county``, GB/T 2260 prefixes), the enterprises of the current matching run with at least one eligible
  policy (``value``), the enterprises registered there (``sample``) and the run id (``records``); from
  ``ResultStore.counts_by_region``. It is the denominator of 政策知晓 (``zhengce_zhixiao.yaml``), whose
  numerator (enterprises that viewed their matches, ``web.viewed_matches``) waits for a piece that records
  views.
"""

from __future__ import annotations

from collections import defaultdict

import pandas as pd

from qinqing.indices.sources import QueryContext, register_query


def region_of(code: str | None, level: str) -> str | None:
    if not code or len(code) != 6:
        return None
    return code[:4] + "00" if level == "city" else code


def eligible_enterprises(context: QueryContext, params: dict) -> pd.DataFrame:
    from qinqing.matching.results import ResultStore

    level = params.get("level") or context.options.get("level", "city")
    store = context.options.get("results") or ResultStore.from_settings(engine=context.engine)
    run = store.current_run()
    if run is None:
        return pd.DataFrame(columns=["unit", "value", "sample", "records"])
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in store.counts_by_region():
        unit = region_of(row.region_code, level)
        if unit is None:
            continue
        totals[unit][0] += row.enterprises
        totals[unit][1] += row.registered
    return pd.DataFrame([{"unit": u, "value": float(e), "sample": float(r), "records": [f"run:{run.run_id}"]}
                         for u, (e, r) in sorted(totals.items())])


register_query("matching.eligible_enterprises", eligible_enterprises,
               description="当前匹配批次中至少符合一项政策的企业数（按市或区县）")
