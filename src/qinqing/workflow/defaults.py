"""Time limits used when a policy's ``review`` block does not set its own, each with its source.

- 台州 2023 政策直达快享 targets (as cited in issue 13 and shared/REFERENCE-FACTS.md § G(c)7): 一般申报类
  paid within **3 working days** of approval; third-party review within **60 working days**; review steps
  **≤ 3**, **≤ 5** for 联审.
- 好差评: a 差评 is followed up and fixed within **15 working days** (四川; shared/REFERENCE-FACTS.md § F(b)).
- 免申即享 名单公示 objection window and confirmation window, and the 补正 period: no published default was
  found (REFERENCE-FACTS "Still unknown" 3), so these are this platform's own, marked ``UNSOURCED``;
  a policy sets its own in ``review``.
"""

from __future__ import annotations

PAYMENT_DAYS = 3  # 台州 2023: 一般申报类 兑付 ≤ 3 working days after approval
REVIEW_DAYS = 60  # 台州 2023: third-party review ≤ 60 working days (the longest review allowed)
MAX_STEPS_SINGLE = 3  # 台州 2023: review steps ≤ 3
MAX_STEPS_JOINT = 5  # 台州 2023: ≤ 5 for 联审
FOLLOW_UP_DAYS = 15  # 四川 好差评: 差评 整改 within 15 working days
OBJECTION_DAYS = 5  # UNSOURCED: 名单公示 window
CONFIRM_DAYS = 10  # UNSOURCED: enterprise confirmation window (after 公示 ends)
CORRECTION_DAYS = 10  # UNSOURCED: 退回补正 period
REMIND_BEFORE_DAYS = 2  # reminder this many working days before a deadline
