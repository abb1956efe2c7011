/**
 * Word lists for the synthetic demo district. Place names are made from common syllables of the
 * region; people's names from common surnames and given-name characters. None of this is real data.
 */

/** [Chinese, pinyin] syllables for community, village and estate names. */
export const placeSyllables: [string, string][] = [
  ['新', 'Xin'], ['龙', 'Long'], ['华', 'Hua'], ['安', 'An'], ['丰', 'Feng'], ['桥', 'Qiao'], ['河', 'He'],
  ['塘', 'Tang'], ['庄', 'Zhuang'], ['湾', 'Wan'], ['东', 'Dong'], ['西', 'Xi'], ['南', 'Nan'], ['北', 'Bei'],
  ['百', 'Bai'], ['丈', 'Zhang'], ['汤', 'Tang'], ['圩', 'Wei'], ['藻', 'Zao'], ['江', 'Jiang'], ['港', 'Gang'],
  ['泰', 'Tai'], ['山', 'Shan'], ['宝', 'Bao'], ['林', 'Lin'], ['兴', 'Xing'], ['和', 'He'], ['平', 'Ping'],
  ['盛', 'Sheng'], ['荷', 'He'], ['花', 'Hua'], ['枫', 'Feng'], ['锦', 'Jin'], ['绣', 'Xiu'], ['春', 'Chun'],
  ['秋', 'Qiu'], ['云', 'Yun'], ['浦', 'Pu'], ['沙', 'Sha'], ['洲', 'Zhou'], ['陈', 'Chen'], ['孙', 'Sun'],
  ['石', 'Shi'], ['桥', 'Qiao'], ['园', 'Yuan'], ['梅', 'Mei'], ['竹', 'Zhu'], ['柳', 'Liu'], ['泉', 'Quan'],
  ['禾', 'He'], ['嘉', 'Jia'], ['瑞', 'Rui'], ['祥', 'Xiang'], ['福', 'Fu'], ['寿', 'Shou'], ['德', 'De'],
]

export const roadNames: string[] = [
  '汉江路', '通江大道', '太湖路', '长江路', '黄河路', '华山路', '泰山路', '衡山路', '嵩山路', '辽河路',
  '珠江路', '黑龙江路', '岷江路', '龙锦路', '锦绣路', '河海路', '晋陵路', '新桥大街', '春江路', '薛家路',
  '罗溪大街', '孟城路', '奔牛大道', '西夏墅路', '百丈路', '藻江路', '云河路', '创业路', '科技大道', '富民路',
]

export const surnames: string[] = [
  '王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭', '何', '高', '林', '罗',
  '郑', '梁', '谢', '宋', '唐', '许', '韩', '冯', '邓', '曹', '彭', '曾', '肖', '田', '董', '袁', '潘', '于', '蒋', '蔡',
]

export const givenChars: string[] = [
  '伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀', '霞', '平',
  '刚', '桂', '英', '华', '建', '国', '文', '辉', '鹏', '飞', '玲', '红', '斌', '宇', '浩', '凯', '婷', '雪', '琳', '晨',
]

/**
 * Region codes at the head of resident ID numbers: the district itself (local residents) and
 * counties that send many migrant workers to southern Jiangsu (floating population).
 */
export const localRegionCodes = ['320411']
export const migrantRegionCodes = [
  '341221', '341222', '341225', '341281', '411523', '411527', '412726', '510722', '511322', '522401',
  '430524', '362424', '321323', '320924', '342221', '371326', '130634', '421182', '500235', '450821',
]

/** Descriptions for the dictionary's "other, describe" items. */
export const otherTexts: Record<string, string[]> = {
  'PS-10': ['出租人无法提供承租人名单', '房屋内存在赌博迹象，已移交处理', '承租人频繁更换，未及时报告'],
  'FIRE-13': ['灭火器过期未更换', '应急照明灯损坏', '烟感报警器缺失'],
  'HOUSING-06': ['屋顶渗漏未修缮', '楼梯扶手松动', '阳台护栏高度不足'],
  'OTHER-01': ['楼道照明损坏', '化粪池盖板破损', '屋外违规晾晒占用通道'],
}
