import test from 'ava';
import fc from 'fast-check';
import { MinHeap } from '../../src/simkit/index.js';

test('property: items come out in the caller’s order, ties in the order the comparator gives', (t) => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 20 }), fc.nat())), (pairs) => {
      const items = pairs.map(([at], order) => ({ at, order }));
      const heap = new MinHeap<{ at: number; order: number }>((a, b) => (a.at !== b.at ? a.at < b.at : a.order < b.order));
      for (const x of items) heap.push(x);
      const out: { at: number; order: number }[] = [];
      for (let x = heap.pop(); x !== undefined; x = heap.pop()) out.push(x);
      const want = [...items].sort((a, b) => a.at - b.at || a.order - b.order);
      return heap.size === 0 && JSON.stringify(out) === JSON.stringify(want);
    }),
  );
  t.pass();
});

test('an empty heap pops undefined; a comparator is required', (t) => {
  t.is(new MinHeap<number>((a, b) => a < b).pop(), undefined);
  t.throws(() => new MinHeap<number>(undefined as never), { instanceOf: TypeError });
});
