// The longest gap between the engine's completions, in a window or over the whole job.
import t from 'tap';
import { longestGap, type Gap } from '../../src/load/timeline.js';

const MS = 1e6;

t.test('the longest gap, in a window or over the whole job', async (t) => {
  const g: Gap[] = [
    { startNs: 2 * MS, endNs: 60 * MS, ns: 58 * MS, open: false },
    { startNs: 61 * MS, endNs: 200 * MS, ns: 139 * MS, open: false },
  ];
  t.equal(longestGap(g)?.ns, 139 * MS);
  t.equal(longestGap(g, 0, 30 * MS)?.ns, 58 * MS, 'window restricts to overlapping gaps');
  t.equal(longestGap(g, 300 * MS), undefined, 'nothing after the last gap');
  t.equal(longestGap([]), undefined);
});
