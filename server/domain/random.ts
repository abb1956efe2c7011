/**
 * A small seeded pseudo-random generator (sfc32), so that demo data is the same for the same seed on
 * every machine and Node version (Math.random cannot be seeded).
 */
export class Random {
  private a: number
  private b: number
  private c: number
  private d: number

  constructor(seed: number) {
    // splitmix32 spreads a small integer seed over the four words of state.
    let s = seed >>> 0
    const next = () => {
      s = (s + 0x9E3779B9) >>> 0
      let z = s
      z = Math.imul(z ^ (z >>> 16), 0x85EBCA6B)
      z = Math.imul(z ^ (z >>> 13), 0xC2B2AE35)
      return (z ^ (z >>> 16)) >>> 0
    }
    this.a = next()
    this.b = next()
    this.c = next()
    this.d = next()
    for (let i = 0; i < 12; i++) this.next()
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (this.a + this.b + this.d) >>> 0
    this.d = (this.d + 1) >>> 0
    this.a = this.b ^ (this.b >>> 9)
    this.b = (this.c + (this.c << 3)) >>> 0
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0
    this.c = (this.c + t) >>> 0
    return t / 4294967296
  }

  /** Integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  uniform(min: number, max: number): number {
    return min + this.next() * (max - min)
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!
  }

  /** Picks an item with probability proportional to its weight. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    // Indexed loops: the seed draws from this for millions of rows, and destructuring each pair
    // through the iterator protocol took about 5 % of its main thread.
    let total = 0
    for (let i = 0; i < items.length; i++) total += items[i]![1]
    let r = this.next() * total
    for (let i = 0; i < items.length; i++) {
      r -= items[i]![1]
      if (r < 0) return items[i]![0]
    }
    return items[items.length - 1]![0]
  }

  /** Standard normal deviate (Box-Muller). */
  normal(): number {
    const u = 1 - this.next()
    const v = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean
  }

  /** Poisson deviate (Knuth; fine for the small means used here). */
  poisson(mean: number): number {
    const l = Math.exp(-mean)
    let k = 0
    let p = 1
    do {
      k++
      p *= this.next()
    } while (p > l)
    return k - 1
  }
}
