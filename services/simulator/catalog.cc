#include "services/simulator/catalog.h"

namespace hotline::simulator {

namespace v1 = ticket::v1;

const std::vector<Matter>& Matters() {
  static const std::vector<Matter>* const matters = new std::vector<Matter>{
      // 市水务局
      {"water", nullptr, nullptr, nullptr, v1::TICKET_KIND_COMPLAINT, v1::URGENCY_URGENT,
       "城乡建设/供水",
       "{地点}自前天起停水，物业说是市政管网问题，至今没有恢复供水，也没有张贴停水通知，"
       "家里有老人小孩，生活非常不便，请尽快处理。",
       "经核实系小区二次供水泵房故障，已督促供水企业抢修，次日上午恢复供水；"
       "已要求物业今后计划停水须提前24小时张贴通知。",
       0, false},
      {"water", "urban-management", nullptr, nullptr, v1::TICKET_KIND_HELP_REQUEST,
       v1::URGENCY_EMERGENCY, "城乡建设/供水/管网抢修",
       "{地点}路口地下水管爆裂，路面大量积水，车辆无法通行，请立即派人抢修。",
       "抢修队伍接单后40分钟到场关阀抢修，当晚恢复供水，积水和路面淤泥已清理，"
       "破损路面已安排修复。",
       0, false},
      {"water", nullptr, "housing", "小区加压设备归属供水企业管理，请改派水务部门。",
       v1::TICKET_KIND_CONSULTATION, v1::URGENCY_NORMAL, "城乡建设/供水/水压",
       "{地点}高层住户反映近一个月水压明显不足，早晚高峰七楼以上基本没水，"
       "想咨询这属于供水企业还是物业的责任。",
       "经现场测压，市政管网压力正常，系小区加压水泵老化所致。已告知来电人由供水企业负责"
       "更换，预计两周内完成，施工期间将提前通知。",
       0, false},
      // 市住房和城乡建设局
      {"housing", nullptr, nullptr, nullptr, v1::TICKET_KIND_CONSULTATION, v1::URGENCY_NORMAL,
       "城乡建设/物业管理/维修基金",
       "{地点}小区电梯经常困人，想咨询申请使用住宅专项维修资金更换电梯需要什么程序、"
       "大概多长时间。",
       "已向来电人说明维修资金使用须经业主表决、公示和申请拨付三个环节，"
       "并提供了办理窗口地址和材料清单，来电人表示清楚。",
       0, false},
      {"housing", "public-security", nullptr, nullptr, v1::TICKET_KIND_COMPLAINT,
       v1::URGENCY_NORMAL, "城乡建设/物业管理/物业服务",
       "{地点}物业公司长期不清理楼道杂物，电动车在楼道充电，消防通道被堵，"
       "多次向物业反映无人处理。",
       "已约谈物业公司，责令三日内清理楼道杂物、打通消防通道，并在小区增设电动车集中"
       "充电点；街道将持续跟踪检查。",
       0, false},
      {"housing", nullptr, nullptr, nullptr, v1::TICKET_KIND_UNRESOLVED_MATTER, v1::URGENCY_NORMAL,
       "城乡建设/房地产/商品房交付",
       "{地点}某楼盘合同约定本月底交房，开发商以各种理由拖延且不给具体时间，"
       "业主多次协商无果，网签备案也办不下来。",
       "已约谈开发企业，督促其书面公布交付时间表；网签备案问题系企业资料缺项，"
       "已指导补齐并当场办结，逾期交付责任业主可依合同主张。",
       7, false},
      // 市城市管理局
      {"urban-management", nullptr, "market-regulation",
       "占道经营由城市管理部门查处，不属市场监管职责，请改派城管部门。", v1::TICKET_KIND_COMPLAINT,
       v1::URGENCY_NORMAL, "城市管理/市容环境/占道经营",
       "{地点}每天晚上有大量流动摊贩占用人行道经营烧烤，油烟大、垃圾多，"
       "行人只能走机动车道，很不安全。",
       "城管执法队员已连续三晚到场劝离，将摊贩疏导至附近夜市集中经营点，"
       "该路段已纳入夜间日常巡查。",
       0, false},
      {"urban-management", "ecology-environment", "ecology-environment",
       "建筑施工夜间噪音由城管部门查处，请改派城市管理局。", v1::TICKET_KIND_COMPLAINT,
       v1::URGENCY_URGENT, "城市管理/噪音扰民/建筑施工",
       "{地点}旁边工地每天晚上十一点以后还在施工，渣土车进出噪音很大，严重影响休息。",
       "经查该工地未办理夜间施工许可，已责令立即停止夜间施工并立案处罚，"
       "渣土车运输时间已调整至晚十点前。",
       0, false},
      {"urban-management", nullptr, nullptr, nullptr, v1::TICKET_KIND_HELP_REQUEST,
       v1::URGENCY_NORMAL, "城市管理/环境卫生/垃圾清运",
       "{地点}垃圾站三天没有清运，气味很大，招来很多蚊蝇，请尽快安排清运。",
       "已安排环卫车辆当日清运并消杀，该点位清运频次已调整为每日两次。", 0, false},
      {"urban-management", nullptr, nullptr, nullptr, v1::TICKET_KIND_REPORT, v1::URGENCY_NORMAL,
       "城市管理/违法建设",
       "举报{地点}顶楼住户在楼顶违规搭建阳光房，已经压坏防水层，下雨时楼下漏水。",
       "经现场核查属实，已下达限期拆除通知书，逾期未拆除将依法强制拆除。", 0, true},
      // 市市场监督管理局
      {"market-regulation", nullptr, nullptr, nullptr, v1::TICKET_KIND_COMPLAINT,
       v1::URGENCY_NORMAL, "市场监管/消费维权/预付式消费",
       "来电人在{地点}一家健身房办了预付卡，现在门店突然关门，要求退还剩余费用约三千元。",
       "已联系经营者，双方达成退费协议，剩余费用分两期退还，第一期已到账。", 0, false},
      {"market-regulation", nullptr, nullptr, nullptr, v1::TICKET_KIND_REPORT, v1::URGENCY_URGENT,
       "市场监管/食品安全", "举报{地点}一家餐馆后厨卫生很差，疑似使用过期食材。",
       "执法人员已突击检查，发现过期食材若干，已立案调查并责令停业整改。", 0, true},
      {"market-regulation", nullptr, nullptr, nullptr, v1::TICKET_KIND_CONSULTATION,
       v1::URGENCY_NORMAL, "市场监管/消费维权/网络购物",
       "来电人网购了一台电器，收到后不想要了，商家拒绝七日无理由退货，咨询如何维权。",
       "已向来电人说明七日无理由退货的适用条件和投诉渠道，并转平台经营者所在地市场监管"
       "部门协调处理。",
       0, false},
      // 市人力资源和社会保障局
      {"hrss", nullptr, "housing", "欠薪问题属劳动保障监察职责，请改派人社部门。",
       v1::TICKET_KIND_COMPLAINT, v1::URGENCY_URGENT, "人力资源/劳动保障/欠薪",
       "来电人在{地点}一处建筑工地务工，包工头拖欠两个月工资共一万二千元，多次讨要无果。",
       "劳动保障监察大队已约谈施工总承包单位，拖欠工资已通过农民工工资专用账户足额支付。", 0,
       false},
      {"hrss", nullptr, nullptr, nullptr, v1::TICKET_KIND_CONSULTATION, v1::URGENCY_NORMAL,
       "人力资源/社会保障卡", "来电人的社会保障卡丢了，咨询如何补办，能不能在网上办理。",
       "已告知可通过线上服务平台或就近合作银行网点补办，说明了所需材料和办理时限。", 0, false},
      {"hrss", nullptr, nullptr, nullptr, v1::TICKET_KIND_CONSULTATION, v1::URGENCY_NORMAL,
       "人力资源/失业保险", "来电人上个月被公司辞退，咨询领取失业保险金的条件和申领流程。",
       "已告知失业保险金申领条件、领取期限及线上申领流程，来电人已提交申请。", 0, false},
      {"hrss", nullptr, nullptr, nullptr, v1::TICKET_KIND_UNRESOLVED_MATTER, v1::URGENCY_NORMAL,
       "人力资源/就业创业/稳岗返还",
       "{地点}一家小微企业反映符合稳岗返还条件，但系统一直显示审核中，"
       "已超过公示时限两周，款项仍未到账。",
       "经核查系企业银行账户信息有误导致资金退回，已协助企业更正，返还资金已重新拨付到账。", 5,
       false},
      // 市医疗保障局
      {"medical-insurance", nullptr, nullptr, nullptr, v1::TICKET_KIND_CONSULTATION,
       v1::URGENCY_NORMAL, "医疗保障/异地就医",
       "来电人父亲长期在外地随子女居住，咨询异地就医备案怎么办理，住院能否直接结算。",
       "已告知可通过国家医保服务平台线上备案，备案后在定点医院住院可直接结算。", 0, false},
      {"medical-insurance", nullptr, "hrss", "医保报销属医疗保障部门职责，请改派医保局。",
       v1::TICKET_KIND_UNRESOLVED_MATTER, v1::URGENCY_NORMAL, "医疗保障/医保报销",
       "来电人三个月前提交了住院费用手工报销材料，至今没有收到报销款，窗口说还在审核。",
       "经查系材料中缺少费用明细清单导致审核暂停，已电话指导补交，报销款已于三日内拨付。", 5,
       false},
      // 市住房公积金管理中心
      {"housing-fund", nullptr, nullptr, nullptr, v1::TICKET_KIND_CONSULTATION, v1::URGENCY_NORMAL,
       "住房公积金/提取", "来电人咨询租房提取住房公积金需要哪些材料、每年可以提取几次。",
       "已告知租房提取的材料、额度和频次，可通过公积金APP线上办理。", 0, false},
      {"housing-fund", nullptr, nullptr, nullptr, v1::TICKET_KIND_UNRESOLVED_MATTER,
       v1::URGENCY_NORMAL, "住房公积金/贷款",
       "来电人申请公积金贷款已经一个多月，开发商催缴房款，审批仍没有结果，也没人说明原因。",
       "经查系借款人征信报告授权过期，已通知其重新授权，贷款已于本周审批通过。", 5, false},
      // 市公安局交通警察支队
      {"traffic-police", "urban-management", "urban-management",
       "机动车违法停车由公安交管部门查处，请改派交警支队。", v1::TICKET_KIND_COMPLAINT,
       v1::URGENCY_NORMAL, "公安交管/交通秩序/违法停车",
       "{地点}门口长期有车辆乱停，占用消防通道，早晚高峰严重拥堵。",
       "交警已加强巡查并依法处罚违停车辆，同时协调在该路段增设禁停标志和隔离桩。", 0, false},
      {"traffic-police", nullptr, nullptr, nullptr, v1::TICKET_KIND_SUGGESTION, v1::URGENCY_NORMAL,
       "公安交管/交通设施/信号灯",
       "{地点}附近十字路口左转信号灯时间太短，每次只能过三四辆车，建议延长。",
       "已对该路口开展流量调查，左转绿灯时长由15秒调整为25秒，感谢市民建议。", 0, false},
      // 市交通运输局
      {"transport", nullptr, nullptr, nullptr, v1::TICKET_KIND_SUGGESTION, v1::URGENCY_NORMAL,
       "交通运输/公共交通/公交线路",
       "{地点}新建小区入住居民越来越多，附近一公里内没有公交站点，建议新开或调整公交线路。",
       "已将该建议纳入年度线网优化方案，拟调整一条既有线路延伸服务该片区，"
       "调整前将公开征求意见。",
       0, false},
      {"transport", nullptr, "traffic-police", "出租车拒载议价由交通运输部门查处，请改派。",
       v1::TICKET_KIND_COMPLAINT, v1::URGENCY_NORMAL, "交通运输/出租车/拒载议价",
       "来电人在高铁站乘坐出租车，司机拒绝打表，要求一口价八十元。",
       "已调取车辆营运记录，对驾驶员拒载议价行为立案处罚并扣减服务质量信誉分。", 0, false},
      // 市生态环境局
      {"ecology-environment", nullptr, nullptr, nullptr, v1::TICKET_KIND_REPORT, v1::URGENCY_NORMAL,
       "生态环境/大气污染", "举报{地点}附近一家工厂夜间排放刺鼻气味，居民关窗仍能闻到。",
       "执法人员夜间突击检查，发现废气处理设施未正常运行，已责令整改并立案查处。", 0, true},
      {"ecology-environment", "water", nullptr, nullptr, v1::TICKET_KIND_COMPLAINT,
       v1::URGENCY_URGENT, "生态环境/水污染", "{地点}附近河道出现大量死鱼，水面发黑发臭。",
       "经监测系上游一处雨污混接排口溢流所致，已封堵排口并清理死鱼，水质正在恢复，"
       "将持续监测一个月。",
       0, false},
      // 市教育局
      {"education", nullptr, "market-regulation",
       "校外培训机构退费纠纷由教育部门牵头处理，请改派教育局。", v1::TICKET_KIND_COMPLAINT,
       v1::URGENCY_NORMAL, "教育/校外培训",
       "来电人孩子在{地点}一家校外培训机构报名，机构突然停课，要求退还剩余课时费。",
       "已约谈培训机构负责人，督促其通过资金监管账户退还剩余课时费，已退款到账。", 0, false},
      {"education", nullptr, nullptr, nullptr, v1::TICKET_KIND_CONSULTATION, v1::URGENCY_NORMAL,
       "教育/义务教育/入学",
       "来电人刚在{地点}购房，咨询孩子明年秋季小学入学如何划片、需要准备哪些材料。",
       "已告知学区划分以当年公布的招生方案为准，并说明了房产、户籍等材料要求。", 0, false},
      // 市民政局
      {"civil-affairs", nullptr, nullptr, nullptr, v1::TICKET_KIND_CONSULTATION, v1::URGENCY_NORMAL,
       "民政/养老服务/高龄津贴", "来电人母亲今年满八十周岁，咨询高龄津贴怎么申请、每月发多少。",
       "已告知高龄津贴申领条件、标准和社区申办流程，来电人表示清楚。", 0, false},
      {"civil-affairs", nullptr, nullptr, nullptr, v1::TICKET_KIND_UNRESOLVED_MATTER,
       v1::URGENCY_NORMAL, "民政/社会救助/低保",
       "来电人家庭因病致贫，申请最低生活保障已两个月，社区说材料已上报，至今没有结果。",
       "经查申请已完成入户调查，因公示期未满暂未审批，现已公示完毕并审批通过，"
       "下月起发放。",
       5, false},
      // 市公安局
      {"public-security", nullptr, nullptr, nullptr, v1::TICKET_KIND_CONSULTATION,
       v1::URGENCY_NORMAL, "公安/户政/居住证",
       "来电人外地户籍，在本市工作半年，咨询办理居住证需要哪些材料、多久可以拿到。",
       "已告知居住证办理条件、材料及就近派出所户籍窗口，可网上预约。", 0, false},
      {"public-security", nullptr, nullptr, nullptr, v1::TICKET_KIND_UNRESOLVED_MATTER,
       v1::URGENCY_NORMAL, "公安/户政/落户",
       "来电人高校毕业生人才落户申请提交了一个月，系统显示退回但没说原因，"
       "打了多次电话都打不通。",
       "经查系学历证明扫描件不清晰被退回，已电话告知并指导重新上传，落户手续已办结。", 5, false},
  };
  return *matters;
}

const std::vector<OutOfRemit>& OutOfRemitMatters() {
  static const std::vector<OutOfRemit>* const matters = new std::vector<OutOfRemit>{
      {"来电人询问在某网购平台上买的手机是不是正品，要求热线帮忙鉴定。",
       "不属于政府部门职责范围，已告知来电人向平台客服及消费者协会反映。"},
      {"来电人反映楼上邻居家中夫妻经常争吵，声音较大，要求派人处理。",
       "属邻里家庭纠纷，已建议来电人联系所在社区人民调解委员会调解。"},
      {"来电人要求热线帮忙查询其前男友的住址和工作单位。",
       "涉及他人个人信息，不予受理，已向来电人说明。"},
  };
  return *matters;
}

const std::vector<District>& Districts() {
  static const std::vector<District>* const districts = new std::vector<District>{
      {"芙蓉区", "430102", {"五里牌街道朝阳小区", "东湖街道湖滨花园", "马王堆街道锦绣家园"}},
      {"天心区", "430103", {"坡子街街道金桂园小区", "青园街道枫林苑", "南托街道滨江新城"}},
      {"岳麓区", "430104", {"望月湖街道望月小区", "观沙岭街道江景苑", "梅溪湖街道梅岭花园"}},
      {"开福区", "430105", {"四方坪街道幸福家园", "伍家岭街道书香小区", "洪山街道洪山新村"}},
      {"雨花区", "430111", {"东塘街道东塘小区", "洞井街道翠竹园", "井湾子街道和平小区"}},
      {"望城区", "430112", {"高塘岭街道星城花园", "丁字湾街道铜官新村"}},
      {"长沙县", "430121", {"星沙街道松雅小区", "泉塘街道泉塘新村"}},
      {"浏阳市", "430181", {"淮川街道花园小区", "集里街道金沙苑"}},
      {"宁乡市", "430182", {"玉潭街道玉潭新村", "白马桥街道东沩小区"}},
  };
  return *districts;
}

const std::vector<const char*>& Surnames() {
  static const std::vector<const char*>* const surnames = new std::vector<const char*>{
      "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴", "徐", "孙", "胡", "朱", "高",
      "林", "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "唐", "彭", "曾", "邓", "贺", "蒋"};
  return *surnames;
}

}  // namespace hotline::simulator
