"""Synthetic enterprise appeals for demos, tests and the classifier's first training (seeded, offline).

The phrases are written from the kinds of 涉企诉求 the 派单目录's categories describe; they are not real
appeals. A deployment trains the classifier on its own dispatched items instead."""

from __future__ import annotations

import random

PHRASES: dict[str, tuple[str, ...]] = {
    "ZC01": ("想咨询高新技术企业认定奖励的申报条件", "专精特新企业奖励政策今年怎么申报", "研发费用补助的适用范围是什么",
             "小微企业稳岗政策是否适用我司", "首台套政策的补贴标准如何计算", "数字化车间认定需要哪些申报材料",
             "科技型中小企业评价入库后能享受哪些政策", "技术改造补助的申报时间和申报方式"),
    "ZC02": ("技改奖补资金公示后一直未拨付到账", "免申即享的补助资金至今没有到账", "去年的研发补助兑现进度太慢",
             "稳岗返还资金迟迟没有发放", "政策奖励资金拨付到了错误账户", "专精特新奖励已公示半年仍未兑现",
             "人才补贴兑现被无故拖延", "贴息资金拨付需要重复提交材料"),
    "SP01": ("营业执照变更登记办理时间过长", "食品经营许可证审批一直没有结果", "企业开办需要跑多个窗口",
             "建设工程施工许可审批材料反复退回", "经营范围变更网上办理系统无法提交", "分公司设立登记被要求补充无关材料",
             "许可证延续申请超期未办", "证照办理窗口要求提供证明材料过多"),
    "SS01": ("增值税留抵退税申请迟迟没有退还", "出口退税审核时间过长", "研发费用加计扣除优惠没有落实",
             "电子发票开具系统经常出错", "小微企业税费减免没有享受到", "税务申报被误判为异常",
             "房产税减免申请没有回复", "发票领用数量被限制影响经营"),
    "RZ01": ("申请创业担保贷款被银行拒绝", "小微企业贷款贴息没有兑现", "融资担保费率过高",
             "银行抽贷断贷导致资金链紧张", "应急转贷资金申请没有回音", "知识产权质押融资办理困难",
             "普惠贷款授信额度太低", "政府性融资担保机构审批太慢"),
    "YG01": ("企业招工难需要人社部门对接", "社保缴费基数核定有误", "稳岗返还申请被退回",
             "外地员工社保转移办理困难", "技能人才补贴申领流程复杂", "员工工伤认定时间太长",
             "高校毕业生就业补贴无法申领", "以工代训补贴发放延迟"),
    "YS01": ("厂区频繁停电影响生产", "工业用电报装时间过长", "供水压力不足影响生产线",
             "天然气供应中断", "工业用地指标迟迟无法落实", "电价执行标准与政策不符",
             "园区道路和管网配套不到位", "用电增容申请长期未批复"),
    "JG01": ("同一事项一个月内被多个部门重复检查", "被收取不合理的检测费用", "执法部门罚款标准不明确",
             "行业协会强制摊派会费", "执法检查要求停产整顿缺乏依据", "涉企收费项目未公示",
             "环保检查一刀切关停", "被要求购买指定产品才能通过检查"),
    "QT01": ("项目涉及多个部门互相推诿无人负责", "园区管理职责不清诉求无人受理", "多个部门意见不一致导致项目停滞",
             "跨区域迁移涉及多个部门无法协调", "企业搬迁补偿涉及多个部门推诿", "事项不知道该找哪个部门",
             "政策执行中各部门说法不一", "诉求反映多次仍然没有部门牵头"),
}

CONTEXT = ("我司是一家制造企业，", "我公司位于开发区，", "本企业为小微企业，", "我们是科技型企业，", "", "我单位",
           "本公司去年", "作为规上工业企业，")
CLOSING = ("请尽快协调解决。", "希望相关部门给予答复。", "盼复。", "请帮忙督促。", "", "谢谢。", "请求帮助。")
KIND_BY_CATEGORY = {"ZC01": "consultation", "ZC02": "complaint", "SP01": "complaint", "SS01": "help",
                    "RZ01": "help", "YG01": "help", "YS01": "complaint", "JG01": "report", "QT01": "complaint"}


def sample_appeals(n: int, *, seed: int = 7, categories: tuple[str, ...] | None = None) -> list[dict]:
    """``n`` appeals as intake dicts (category included: strip it to test the classifier)."""
    rng = random.Random(seed)
    codes = categories or tuple(PHRASES)
    result = []
    for i in range(n):
        code = codes[i % len(codes)]
        phrase = rng.choice(PHRASES[code])
        description = f"{rng.choice(CONTEXT)}{phrase}，{rng.choice(CLOSING)}"
        result.append({"kind": KIND_BY_CATEGORY[code], "category": code, "title": phrase,
                       "description": description})
    return result
