"""Policy texts for the web tests (written out in full, as an officer would)."""

from __future__ import annotations

RD_SUBSIDY = """\
id: test-rd-subsidy
title: 企业研究开发费用补助
issuer: 黑龙江省工业和信息化厅
document: 测试用研发费用补助办法
level: 省
region: "230000"
support_type: 补助
mode: 申报
valid_from: 2021-01-01
valid_to: 2022-12-31
budget: 100
source: {url: "https://example.org/rd", publisher: 测试, retrieved: 2021-06-01}
conditions:
  - id: rd_spent
    clause: 上年度研发费用达到100万元以上
    expr: rd_expense >= 100
benefit:
  clause: 按研发费用的10%给予补助，最高不超过50万元
  expr: rd_expense * 0.1
  cap: 50
"""

NEW_ABOVE_SCALE_BONUS = """\
id: test-new-bonus
title: 新增规上企业追加奖励
issuer: 黑龙江省工业和信息化厅
document: 测试用追加奖励办法
level: 省
region: "230000"
support_type: 奖励
mode: 免申即享
valid_from: 2021-01-01
valid_to: 2021-12-31
source: {url: "https://example.org/bonus", publisher: 测试, retrieved: 2021-06-01}
conditions:
  - id: newly_above_scale
    clause: 2021年新纳入规模以上工业统计
    expr: is_above_scale AND above_scale_since = 2021
benefit:
  clause: 每户追加奖励10万元
  expr: "10"
  cap: 10
"""
