import type zh from './zh-CN'

const en: typeof zh = {
  app: {
    title: 'Group-rental safety campaign monitor',
    subtitle: 'Xinbei District group-rental hazard remediation',
    language: '中文',
    languageLabel: 'Switch language',
  },
  measures: {
    group_rentals_registered: 'Group rentals registered',
    residents_registered: 'Residents registered',
    major_hazards_rectified: 'Major hazards rectified',
    hazards_rectified: 'All hazards rectified',
    target: 'target {value}',
    noTarget: 'tracked, no fixed target',
    met: 'target met',
    notMet: 'below target',
    counts: '{numerator} / {denominator}',
    asOf: 'As of {date}',
  },
  status: {
    none: 'No hazard ever found',
    rectified: 'All hazards rectified',
    open_general: 'Open general hazard',
    open_major: 'Open major hazard',
    overdue: 'Hazard overdue',
  },
  legend: {
    title: 'Hazard status of premises',
    premises: '{count} premises',
    unregistered: 'Meets the group-rental rule, not registered',
  },
  layers: {
    title: 'Layers',
    towns: 'Towns / streets',
    communities: 'Communities / villages',
    policeStations: 'Police-station areas',
    pois: 'Places of concentration',
  },
  poiKinds: {
    campus: 'Campus',
    factory: 'Labour-intensive enterprise',
    urban_village: 'Urban village',
    urban_rural_fringe: 'Urban-rural fringe',
    resettlement_estate: 'Resettlement estate',
    underground_space: 'Underground space',
  },
  kinds: {
    group_rental: 'Group rental',
    rental: 'Rented dwelling',
    homestay: 'Homestay',
    family_hotel: 'Family hotel',
    factory_dormitory: 'Factory dormitory',
    care_home: 'Care home',
  },
  errors: {
    load: 'Could not load data: {message}',
    retry: 'Retry',
  },
  loading: 'Loading…',
}
export default en
