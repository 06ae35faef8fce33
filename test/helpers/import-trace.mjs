// Why: a test must see which modules a command imports (the loader starts in a TCG
// guest, where every file costs). `node --import <this file>` appends every resolved
// module URL to the file named by $RB_IMPORT_TRACE, one per line.
import { register } from 'node:module';

register('./import-trace-hooks.mjs', import.meta.url, { data: { out: process.env.RB_IMPORT_TRACE } });
