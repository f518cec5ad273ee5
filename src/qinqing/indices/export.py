"""Excel export of one stored period: the ranking (with tiers, rank intervals, flags), every indicator's values
with their imputation and sources, and the supervision cases — text never turned into formulas."""

from __future__ import annotations

import json
from pathlib import Path

from qinqing.indices.service import STATES, IndicesService
from qinqing.registry.spreadsheet import write_xlsx_row, xlsx_workbook


def ranking_xlsx(service: IndicesService, index_id: str, period: str | None, path: str | Path) -> Path:
    run = service.run(index_id, period)
    ranking = service.ranking(run["id"])
    workbook = xlsx_workbook(path)
    sheet = workbook.add_worksheet("排名")
    write_xlsx_row(sheet, 0, [f"{run['index_name']} 第 {run['period']} 期"])
    header = ["排名", "地区代码", "地区", "得分", "分档", "分档说明", "排名区间下限", "排名区间上限", "排名中位数",
              "插补项数", "样本量", "说明"]
    write_xlsx_row(sheet, 2, header)
    for i, r in enumerate(ranking, start=3):
        write_xlsx_row(sheet, i, [r["rank"], r["unit"], r["name"], r["score"], r["tier"], r["tier_reason"],
                                  r["rank_low"], r["rank_high"], r["rank_median"], r["imputed"], r["sample"],
                                  r["excluded"]])
    values = workbook.add_worksheet("指标数据")
    write_xlsx_row(values, 0, ["地区代码", "指标", "原始值", "分子", "分母", "采用值", "标准化得分", "插补方法", "样本量",
                               "来源"])
    row = 1
    for r in ranking:
        for v in service.unit_detail(run["id"], r["unit"])["values"]:
            write_xlsx_row(values, row, [r["unit"], v["indicator_id"], v["raw"], v["numerator"], v["denominator"],
                                         v["value"], v["normalised"], v["imputed"] or None, v["sample"],
                                         json.dumps(v["provenance"], ensure_ascii=False) if v["provenance"] else None])
            row += 1
    cases = workbook.add_worksheet("督办与整改")
    write_xlsx_row(cases, 0, ["编号", "地区代码", "地区", "列入期", "理由", "状态", "整改报告", "验收意见", "公示日期"])
    for i, c in enumerate(service.cases(index_id), start=1):
        write_xlsx_row(cases, i, [c["id"], c["unit"], c["unit_name"], c["opened_period"], c["reason"],
                                  STATES.get(c["state"], c["state"]), c["report"], c["review_note"],
                                  c["published_on"].isoformat() if c["published_on"] else None])
    workbook.close()
    return Path(path)
