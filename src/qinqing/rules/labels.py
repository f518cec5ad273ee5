"""Chinese names of a policy file's keys, for messages policy officers read."""

KEY_LABELS = {
    "id": "政策编号", "title": "政策名称", "issuer": "发布机关", "document": "文件名称/文号", "level": "层级",
    "region": "适用地区", "industries": "适用行业", "support_type": "扶持方式", "mode": "兑现方式",
    "valid_from": "有效期起", "valid_to": "有效期止", "budget": "资金预算", "source": "来源", "url": "原文链接",
    "publisher": "发布单位", "retrieved": "采集日期", "conditions": "申报条件", "clause": "原文条款",
    "expr": "表达式", "benefit": "扶持标准", "cap": "最高金额", "materials": "申报材料", "note": "备注",
    "rounding": "取整方式", "digits": "小数位数", "review": "审核设置", "departments": "审核部门", "steps": "审核环节数",
    "time_limit_days": "审核时限（工作日）", "payment_days": "拨付时限（工作日）", "correction_days": "补正期限（工作日）",
    "objection_days": "公示期（工作日）", "confirm_days": "确认期限（工作日）", "exclusion_group": "不重复享受组",
}
