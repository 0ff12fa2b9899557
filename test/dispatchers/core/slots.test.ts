import { describe, expect, it } from 'vitest';
import { Slots } from '../../../dispatchers/core/slots.js';

describe('Slots (values held briefly, in reused array slots)', () => {
  it('holds what was added until deleted, and reuses freed slots instead of growing', () => {
    const slots = new Slots<{ n: number }>();
    const values = Array.from({ length: 4 }, (_, n) => ({ n }));
    const taken = values.map((value) => slots.add(value));
    expect(new Set(taken).size).toBe(4);
    slots.delete(taken[1]!, values[1]!);
    slots.delete(taken[2]!, values[2]!);
    expect(slots.size).toBe(2);
    expect(slots.snapshot().map((value) => value.n).sort()).toEqual([0, 3]);
    const later = [{ n: 4 }, { n: 5 }].map((value) => slots.add(value));
    expect(later.sort()).toEqual([taken[1], taken[2]].sort());
    expect(slots.size).toBe(4);
  });

  it('ignores a second delete, also once the slot holds something else', () => {
    const slots = new Slots<string>();
    const first = 'first';
    const slot = slots.add(first);
    slots.delete(slot, first);
    const second = 'second';
    expect(slots.add(second)).toBe(slot);
    slots.delete(slot, first);
    expect(slots.at(slot)).toBe(second);
    expect(slots.size).toBe(1);
  });

  it('keeps its size right through many adds and deletes, and empties on clear', () => {
    const slots = new Slots<object>();
    const held: [number, object][] = [];
    for (let i = 0; i < 1_000; i += 1) {
      const value = {};
      held.push([slots.add(value), value]);
      if (i % 3 === 0) {
        const [slot, gone] = held.shift()!;
        slots.delete(slot, gone);
      }
    }
    expect(slots.size).toBe(held.length);
    expect(new Set(slots.snapshot())).toEqual(new Set(held.map(([, value]) => value)));
    slots.clear();
    expect(slots.size).toBe(0);
    expect(slots.snapshot()).toEqual([]);
  });
});
