/**
 * The columns of the ledger templates (premises, residents, hazards): headings, whether required,
 * examples and notes. Shared by the server's import and the web app's column mapping.
 */

export type LedgerKind = 'premises' | 'residents' | 'hazards' | 'enforcement'
export const ledgerKinds = ['premises', 'residents', 'hazards', 'enforcement'] as const satisfies readonly LedgerKind[]

export interface LedgerField {
  key: string
  /** The template's heading. */
  zh: string
  en: string
  required?: boolean
  /** Other headings that mean this column (for the suggested mapping). */
  aliases?: string[]
  example: string
  note?: string
  /** The note for the English screen (values the ledger writes stay in Chinese). */
  noteEn?: string
}

export const ledgerFields: Record<LedgerKind, LedgerField[]> = {
  premises: [
    { key: 'ref', zh: '台账编号', en: 'Ledger ref', required: true, aliases: ['房屋编号', '编号', 'ref'], example: 'SJ-2020-0001', note: '台账中房屋的唯一编号；再次导入同一编号即更新该房屋', noteEn: 'The premises\' unique number in the ledger; importing the same number again updates it' },
    { key: 'kind', zh: '类型', en: 'Kind', required: true, aliases: ['房屋类型', '场所类型'], example: '群租房', note: '群租房、出租房屋、民宿、家庭旅馆、厂企集中宿舍、养老院（敬老院、福利院）', noteEn: 'One of 群租房 (group rental), 出租房屋 (rental), 民宿 (homestay), 家庭旅馆 (family hotel), 厂企集中宿舍 (factory dormitory), 养老院 (care home)' },
    { key: 'address', zh: '地址', en: 'Address', required: true, aliases: ['房屋地址', '详细地址'], example: '三井街道晋陵北路100号2幢301室' },
    { key: 'lon', zh: '经度', en: 'Longitude', required: true, aliases: ['lng', 'lon', 'x'], example: '119.9712' },
    { key: 'lat', zh: '纬度', en: 'Latitude', required: true, aliases: ['lat', 'y'], example: '31.8265' },
    { key: 'roomsLet', zh: '出租间数', en: 'Rooms let', aliases: ['出租房间数', '房间数'], example: '12' },
    { key: 'bedsLet', zh: '出租床位数', en: 'Beds let', aliases: ['床位数'], example: '20' },
    { key: 'occupants', zh: '居住人数', en: 'Occupants', aliases: ['实住人数', '租住人数'], example: '18' },
    { key: 'ownerName', zh: '出租人', en: 'Owner', aliases: ['房东', '出租人姓名', '房主'], example: '王某某' },
    { key: 'ownerPhone', zh: '出租人电话', en: 'Owner phone', aliases: ['房东电话', '出租人联系电话'], example: '13800000000' },
    { key: 'secondLandlordName', zh: '二房东', en: 'Second landlord', aliases: ['二房东姓名'], example: '' },
    { key: 'secondLandlordPhone', zh: '二房东电话', en: 'Second landlord phone', aliases: ['二房东联系电话'], example: '' },
    { key: 'secondLandlordCollectedOn', zh: '二房东信息采集日期', en: 'Second landlord recorded on', example: '' },
    { key: 'statementSignedOn', zh: '签订责任书日期', en: 'Statement signed on', aliases: ['治安责任书签订日期'], example: '2020-01-10' },
    { key: 'leaseFiledOn', zh: '租赁备案日期', en: 'Lease filed on', aliases: ['备案日期'], example: '' },
    { key: 'foundOn', zh: '发现日期', en: 'Found on', required: true, aliases: ['排查日期'], example: '2020-01-05' },
    { key: 'registeredOn', zh: '登记日期', en: 'Registered on', example: '2020-01-08' },
    { key: 'deregisteredOn', zh: '注销日期', en: 'Deregistered on', example: '' },
  ],
  residents: [
    { key: 'premisesRef', zh: '房屋台账编号', en: 'Premises ledger ref', required: true, aliases: ['台账编号', '房屋编号'], example: 'SJ-2020-0001', note: '该人员居住房屋在房屋台账中的编号（房屋须已导入）', noteEn: 'The ledger number of the premises the person lives in (import the premises first)' },
    { key: 'name', zh: '姓名', en: 'Name', required: true, example: '张某某' },
    { key: 'idType', zh: '证件类型', en: 'ID type', aliases: ['证件种类'], example: '居民身份证', note: '居民身份证、护照、港澳居民来往内地通行证、台湾居民来往大陆通行证、其他；空为居民身份证', noteEn: '居民身份证 (resident ID), 护照 (passport), 港澳居民来往内地通行证, 台湾居民来往大陆通行证 or 其他 (other); empty means resident ID' },
    { key: 'idNumber', zh: '证件号码', en: 'ID number', required: true, aliases: ['身份证号', '身份证号码', '公民身份号码'], example: '32041119900101123X' },
    { key: 'phone', zh: '联系电话', en: 'Phone', aliases: ['电话', '手机号'], example: '13900000000' },
    { key: 'floating', zh: '流动人口', en: 'Floating', aliases: ['是否流动人口'], example: '是', note: '是 / 否；空为是', noteEn: '是 (yes) / 否 (no); empty means yes' },
    { key: 'movedInOn', zh: '入住日期', en: 'Moved in on', required: true, aliases: ['入住时间'], example: '2019-11-20' },
    { key: 'movedOutOn', zh: '搬离日期', en: 'Moved out on', aliases: ['搬离时间'], example: '' },
    { key: 'registeredOn', zh: '居住登记日期', en: 'Registered on', aliases: ['登记日期'], example: '2020-01-08' },
    { key: 'deregisteredOn', zh: '注销日期', en: 'Deregistered on', example: '' },
    { key: 'specialCategories', zh: '特殊人员类别', en: 'Special categories', aliases: ['人员类别', '重点人员类别'], example: '', note: '可空：可能肇事肇祸精神病人、关注对象，或两者以“、”分隔；对应此列时，空表示解除原有标记', noteEn: 'Optional: 可能肇事肇祸精神病人 (mental illness, may cause incidents), 关注对象 (person of concern), or both separated by 、; when this column is mapped, an empty cell clears the flags the person had' },
    { key: 'flaggedOn', zh: '标记日期', en: 'Flagged on', aliases: ['列管日期'], example: '', note: '特殊人员类别自何日起；空为居住登记日期或入住日期', noteEn: 'From when the categories hold; empty means the registration (or moving-in) day' },
  ],
  hazards: [
    { key: 'premisesRef', zh: '房屋台账编号', en: 'Premises ledger ref', required: true, aliases: ['台账编号', '房屋编号'], example: 'SJ-2020-0001', note: '隐患所在房屋在房屋台账中的编号（房屋须已导入）', noteEn: 'The ledger number of the premises the hazard is in (import the premises first)' },
    { key: 'ref', zh: '隐患编号', en: 'Hazard ref', aliases: ['隐患台账编号'], example: '', note: '可空：空时以房屋编号、字典项和发现日期识别同一条隐患', noteEn: 'May be empty: the hazard is then identified by premises number, dictionary item and day found' },
    { key: 'item', zh: '隐患字典项', en: 'Dictionary item', required: true, aliases: ['隐患项', '隐患内容', '字典项'], example: 'FIRE-08', note: '字典项编号（如 FIRE-08）或字典项原文', noteEn: 'The dictionary item\'s code (such as FIRE-08) or its exact wording' },
    { key: 'otherText', zh: '其他说明', en: 'Other (describe)', aliases: ['说明', '备注'], example: '', note: '字典项为“其他”时必填', noteEn: 'Required when the item is an "other" item' },
    { key: 'severity', zh: '隐患等级', en: 'Severity', aliases: ['等级'], example: '一般', note: '一般 / 重大；空为一般', noteEn: '一般 (general) / 重大 (major); empty means general' },
    { key: 'foundAt', zh: '发现日期', en: 'Found on', required: true, aliases: ['排查日期', '发现时间'], example: '2020-01-05' },
    { key: 'referredAt', zh: '交办日期', en: 'Referred on', aliases: ['交办时间'], example: '2020-01-06' },
    { key: 'rectifiedAt', zh: '整改日期', en: 'Rectified on', aliases: ['整改时间', '整改完成日期'], example: '' },
    { key: 'verifiedAt', zh: '验收日期', en: 'Verified on', aliases: ['验收时间'], example: '' },
    { key: 'deadline', zh: '整改期限', en: 'Deadline', aliases: ['限期'], example: '2020-01-31' },
    { key: 'department', zh: '责任部门', en: 'Department', aliases: ['交办部门'], example: '', note: '空时按字典项确定', noteEn: 'Empty: the dictionary item\'s department' },
  ],
  enforcement: [
    { key: 'ref', zh: '记录编号', en: 'Record ref', required: true, aliases: ['编号', '执法记录编号'], example: 'ZF-2020-0001', note: '台账中该记录的唯一编号；再次导入同一编号即更新该记录', noteEn: 'The record\'s unique number in the ledger; importing the same number again updates it' },
    { key: 'kind', zh: '类型', en: 'Kind', required: true, aliases: ['执法类型', '成效类型'], example: '破获刑事案件', note: '处罚违规出租户主、处罚违规流动人口、破获刑事案件、破获治安案件、比对抓获在逃人员、逮捕、其他刑事强制措施、治安处罚', noteEn: 'One of the columns of 清理整治成效 and 打处情况: 处罚违规出租户主, 处罚违规流动人口, 破获刑事案件, 破获治安案件, 比对抓获在逃人员, 逮捕, 其他刑事强制措施, 治安处罚' },
    { key: 'occurredOn', zh: '发生日期', en: 'Occurred on', required: true, aliases: ['日期', '处理日期', '破案日期'], example: '2020-03-05' },
    { key: 'count', zh: '数量', en: 'Count', aliases: ['人数', '起数'], example: '1', note: '人数（处罚、强制措施）或起数（案件）；空为 1', noteEn: 'Persons (penalties, measures) or cases (cases solved); empty means 1' },
    { key: 'caseNumber', zh: '案件编号', en: 'Case number', aliases: ['决定书文号', '文书号', '案号'], example: '新公（刑）立字〔2020〕15号' },
    { key: 'premisesRef', zh: '房屋台账编号', en: 'Premises ledger ref', aliases: ['台账编号', '房屋编号'], example: 'SJ-2020-0001', note: '可空：发生在某处房屋时填其台账编号（房屋须已导入）', noteEn: 'Optional: the premises it happened at (import the premises first)' },
    { key: 'policeStation', zh: '派出所', en: 'Police station', aliases: ['办案单位', '所属派出所'], example: '', note: '无房屋时必填：派出所名称或代码', noteEn: 'Required without premises: the police station\'s name or code' },
    { key: 'note', zh: '备注', en: 'Note', aliases: ['说明'], example: '' },
  ],
}

