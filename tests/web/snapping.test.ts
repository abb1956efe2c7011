import { describe, expect, it } from 'vitest'
import { snapPoint } from '../../web/src/components/key-areas/snapping.js'

/** A key area's edge from (100, 100) to (300, 100) to (300, 300), and a road along y = 200. */
const edge = [{ x: 100, y: 100 }, { x: 300, y: 100 }, { x: 300, y: 300 }]
const road = [{ x: 0, y: 200 }, { x: 600, y: 200 }]

describe('snapping a drawn corner', () => {
  it('moves a point near an edge onto the edge, at the foot of the perpendicular', () => {
    expect(snapPoint({ x: 180, y: 108 }, [edge], 12)).toEqual({ x: 180, y: 100 })
    expect(snapPoint({ x: 450, y: 195 }, [edge, road], 12)).toEqual({ x: 450, y: 200 })
  })

  it('prefers a corner within reach to an edge nearer still', () => {
    expect(snapPoint({ x: 292, y: 103 }, [edge], 12)).toEqual({ x: 300, y: 100 })
  })

  it('takes the nearer of two lines and leaves a point beyond reach where it is', () => {
    expect(snapPoint({ x: 302, y: 195 }, [edge, road], 12)).toEqual({ x: 300, y: 195 })
    expect(snapPoint({ x: 200, y: 150 }, [edge, road], 12)).toBeNull()
  })
})
